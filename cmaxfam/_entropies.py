"""Entropies of probability vectors and the smoothed max they define.

    shannon_entropy(p) = -sum p log p           (0 log 0 = 0)
    gini_entropy(p)    = 1/2 sum p (1 - p)
    tsallis_entropy(p, alpha) = sum (p - p^alpha) / (alpha (alpha - 1))
                         (alpha = 1: Shannon, alpha = 2: Gini)
    smoothed_max(x, alpha; t) = max_{p in simplex} <p, x> + t H_alpha(p)
                              = <p*, x> + t H_alpha(p*),  p* = entmax(x / t, alpha)
                         (alpha = 1: logsumexp; gradient: p*)

These are computed with NumPy on top of the compiled normalisers (their cost is that of
entmax plus a few elementwise passes); a fused kernel is future work.
"""
from __future__ import annotations

import numpy as np

from . import _docstrings as _doc, _plumbing as P
from ._normalizers import softmax
from ._reductions import logsumexp
from ._sparse import entmax
from ._validation import (as_float_array, check_n_threads, check_out, check_same_shape, check_where,
                          slice_param)

__all__ = ["shannon_entropy", "gini_entropy", "tsallis_entropy",
           "smoothed_max", "smoothed_max_vjp", "smoothed_max_jvp"]


def _entropy(p, alpha, axis, keepdims, out):
    a, rdt = as_float_array(p, "p")
    plan = P.AxisPlan(a.shape, axis, allow_multiple=False)
    check_out(out, plan.keep_shape if keepdims else plan.red_shape, rdt)
    ax = plan.axis
    a = a.astype(np.float64, copy=False)          # no overflow of a * (1 - a) in float32
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if alpha == 1.0:
            terms = np.where(a > 0, -a * np.log(np.where(a > 0, a, 1)), np.where(a == 0, 0, np.nan))
        elif alpha == 2.0:
            terms = np.where(a >= 0, 0.5 * a * (1 - a), np.nan)
        else:
            pa = np.power(np.where(a >= 0, a, np.nan), alpha)
            terms = (a - pa) / (alpha * (alpha - 1.0))
        h = terms.sum(axis=ax, keepdims=True, dtype=np.float64)
    return P.finish_per_slice(h, plan, keepdims, out, rdt)


@_doc.fill(alpha_err="")
def shannon_entropy(p, axis=-1, *, keepdims=False, out=None):
    r"""Shannon entropy of probability vectors along an axis.

    .. math:: H(p) = -\sum_i p_i \log p_i, \qquad 0 \log 0 = 0

    the regulariser of :func:`softmax` (which maximises ``<p, z> + H(p)`` over the
    simplex), and the Tsallis entropy :func:`tsallis_entropy` at ``alpha = 1``.

    Parameters
    ----------
    {p_entropy}
    {axis}
    {keepdims_kw}
    {out_entropy}

    Returns
    -------
    {returns_entropy}

    Raises
    ------
    {raises_entropy}

    See Also
    --------
    tsallis_entropy : The family (``alpha = 1`` is this one).
    gini_entropy : The ``alpha = 2`` member.
    softmax : The normaliser it regularises.

    Notes
    -----
    A NumPy composition (no compiled kernel, no ``n_threads``): the terms and their sum
    in float64.  Special values: entries equal to 0 contribute 0; a
    negative or NaN entry makes the slice NaN; an empty slice gives 0.

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> float(cmf.shannon_entropy([0.5, 0.5, 0.0]).round(6))      # log 2
    0.693147
    >>> bool(np.isclose(cmf.shannon_entropy(np.full(4, 0.25)), np.log(4)))   # the maximum
    True
    >>> cmf.shannon_entropy([[1.0, 0.0], [0.2, 0.8]]).round(4)
    array([0.    , 0.5004])
    """
    return _entropy(p, 1.0, axis, keepdims, out)


@_doc.fill(alpha_err="")
def gini_entropy(p, axis=-1, *, keepdims=False, out=None):
    r"""Gini entropy of probability vectors along an axis.

    .. math:: H_2(p) = \frac{1}{2} \sum_i p_i (1 - p_i) = \frac{1 - \|p\|^2}{2}
              \quad\text{(on the simplex)}

    the regulariser of :func:`sparsemax` (which maximises ``<p, z> + H_2(p)`` over the
    simplex), and the Tsallis entropy :func:`tsallis_entropy` at ``alpha = 2`` [1]_.

    Parameters
    ----------
    {p_entropy}
    {axis}
    {keepdims_kw}
    {out_entropy}

    Returns
    -------
    {returns_entropy}

    Raises
    ------
    {raises_entropy}

    See Also
    --------
    tsallis_entropy : The family (``alpha = 2`` is this one).
    shannon_entropy : The ``alpha = 1`` member.
    sparsemax : The normaliser it regularises.

    Notes
    -----
    A NumPy composition (no compiled kernel, no ``n_threads``): the terms and their sum
    in float64.  Special values: a negative or NaN entry makes the slice NaN; an empty
    slice gives 0.

    References
    ----------
    {ref_martins2016 1}

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> float(cmf.gini_entropy([0.5, 0.5]))
    0.25
    >>> cmf.gini_entropy([[1.0, 0.0], [0.2, 0.8]]).round(4)
    array([0.  , 0.16])
    """
    return _entropy(p, 2.0, axis, keepdims, out)


@_doc.fill(alpha_err="Also if ``alpha`` is not a finite scalar >= 1.")
def tsallis_entropy(p, alpha, axis=-1, *, keepdims=False, out=None):
    r"""The Tsallis alpha-entropy of probability vectors along an axis.

    .. math:: H_\alpha(p) = \frac{\sum_i (p_i - p_i^\alpha)}{\alpha (\alpha - 1)},
              \qquad \alpha \ge 1

    the regulariser of :func:`entmax` (which maximises ``<p, z> + H_alpha(p)`` over the
    simplex); ``alpha = 1`` is the Shannon entropy (the limit) and ``alpha = 2`` the Gini
    entropy [1]_ [2]_.

    Parameters
    ----------
    {p_entropy}
    alpha : float
        The ``alpha``: a finite scalar >= 1.
    {axis}
    {keepdims_kw}
    {out_entropy}

    Returns
    -------
    {returns_entropy}

    Raises
    ------
    {raises_entropy}

    See Also
    --------
    shannon_entropy : ``alpha = 1``.
    gini_entropy : ``alpha = 2``.
    entmax : The normaliser it regularises.
    smoothed_max : The maximum of ``<p, x> + t H_alpha(p)``.

    Notes
    -----
    A NumPy composition (no compiled kernel, no ``n_threads``): ``alpha`` equal to 1 or
    2 runs :func:`shannon_entropy` or :func:`gini_entropy`'s formula; otherwise the terms
    ``(p - p^alpha) / (alpha (alpha - 1))``, all in float64.
    Special values: a negative or NaN entry makes the slice NaN; an empty slice gives 0.

    References
    ----------
    {ref_peters2019 1}
    {ref_blondel2020 2}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> p = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    >>> cmf.tsallis_entropy(p, 1.5).round(4)
    array([0.3905, 0.5236])
    >>> np.allclose(cmf.tsallis_entropy(p, 1.0), cmf.shannon_entropy(p))
    True
    >>> np.allclose(cmf.tsallis_entropy(p, 2.0), cmf.gini_entropy(p))
    True
    """
    al = np.asarray(alpha, dtype=np.float64)
    if al.ndim != 0 or not (np.isfinite(al) and al >= 1):
        raise ValueError(f"alpha must be a finite scalar >= 1; got {alpha!r}")
    return _entropy(p, float(al), axis, keepdims, out)


def _check_scalar_alpha(alpha):
    al = np.asarray(alpha, dtype=np.float64) if np.asarray(alpha).dtype.kind in "iuf" else None
    if al is None:
        raise TypeError(f"alpha must be a real number; got {alpha!r}")
    if al.ndim != 0 or not (np.isfinite(al) and al >= 1):
        raise ValueError(f"alpha must be a finite scalar >= 1; got {alpha!r}")
    return float(al)


@_doc.fill()
def smoothed_max(x, alpha=1.0, axis=-1, *, temperature=1.0, where=None, keepdims=False, out=None,
                 n_threads=1):
    r"""The smoothed maximum along an axis: ``max_p <p, x> + t H_alpha(p)`` over the simplex.

    For each slice ``x`` along ``axis``, temperature ``t`` and ``alpha >= 1``:

    .. math:: \operatorname{smax}_\alpha(x) = \max_{p \in \Delta}\ \langle p, x \rangle
              + t H_\alpha(p) = \langle p^*, x \rangle + t H_\alpha(p^*),
              \qquad p^* = \operatorname{entmax}(x / t, \alpha)

    with the Tsallis entropy :func:`tsallis_entropy`: a convex, smooth upper bound of
    ``max x`` whose gradient is ``p*`` [1]_ [2]_.  ``alpha = 1`` is :func:`logsumexp`
    and ``alpha = 2`` the sparsemax value; it tends to ``max x`` as ``t`` goes to 0.

    Parameters
    ----------
    {x}
    alpha : float, optional
        The ``alpha`` of the entropy (default 1.0): a finite scalar >= 1.
    {axis}
    {temperature}
    {where_red}
    {keepdims_kw}
    {out_red}
    {n_threads}

    Returns
    -------
    ndarray or numpy.floating
        The value per slice: the shape of ``x`` without ``axis`` (or with length 1 there
        when ``keepdims``), a NumPy scalar when that is 0-d; the float dtype of ``x``.

    Raises
    ------
    TypeError
        If ``x`` has a complex, object or string dtype, ``alpha`` is not a real number,
        ``where`` is not boolean, ``out`` is not an ndarray of the result's dtype,
        ``axis`` is not an integer, or ``n_threads`` is not an integer or None.
    ValueError
        If ``alpha`` is not a finite scalar >= 1, ``temperature`` is not positive and
        finite, ``where`` does not broadcast, ``out`` has the wrong shape or is
        read-only, or ``n_threads`` is 0 or below -1.  The message names the parameter.
    numpy.exceptions.AxisError
        If ``axis`` is out of range.

    See Also
    --------
    logsumexp : ``alpha = 1``, computed by the same kernel.
    entmax : The maximiser ``p*``, the gradient.
    smoothed_max_vjp : The vector-Jacobian product.
    tsallis_entropy : The regulariser.

    Notes
    -----
    ``alpha = 1`` runs :func:`logsumexp` itself (bitwise the same).  Other values run
    the compiled :func:`entmax`, then ``<p*, x> + t H_alpha(p*)`` in float64 with NumPy
    (terms with ``p* = 0`` contribute 0).

    Special values: NaN in a slice gives NaN; +inf entries give +inf; a slice of only
    -inf, an empty slice, or one with every entry excluded gives -inf; a slice of one
    entry gives it back.  Inputs near the float range never overflow, and a tiny
    temperature gives ``max x``.

    References
    ----------
    {ref_blondel2020 1}
    {ref_peters2019 2}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([1.0, 2.0, 3.0, 4.0])
    >>> float(cmf.smoothed_max(x).round(4))                    # = logsumexp
    4.4402
    >>> float(cmf.smoothed_max([1.0, 1.5], alpha=2))   # p* = [0.25, 0.75]: 1.375 + 0.5 * 0.375
    1.5625

    The definition, checked for ``alpha = 1.5`` and ``t = 2``:

    >>> p = cmf.entmax(x, alpha=1.5, temperature=2.0)
    >>> v = cmf.smoothed_max(x, alpha=1.5, temperature=2.0)
    >>> bool(np.isclose(v, p @ x + 2.0 * cmf.tsallis_entropy(p, 1.5)))
    True
    >>> float(cmf.smoothed_max(x, alpha=1.5, temperature=1e-3))   # t -> 0: the max
    4.0
    """
    al = _check_scalar_alpha(alpha)
    a, rdt = as_float_array(x)
    nt = check_n_threads(n_threads)
    plan = P.AxisPlan(a.shape, axis, allow_multiple=False)     # one int axis, whatever alpha
    if al == 1.0:
        return logsumexp(x, plan.axis, keepdims=keepdims, temperature=temperature, where=where, out=out,
                         n_threads=nt)
    t = slice_param(temperature, plan, "temperature")
    w = check_where(where, a.shape)
    check_out(out, plan.keep_shape if keepdims else plan.red_shape, rdt)
    ax = plan.axis
    if a.size == 0 or a.shape[ax] == 0:
        return P.finish_per_slice(np.full(plan.keep_shape, -np.inf), plan, keepdims, out, rdt)
    p = entmax(a, al, ax, temperature=t, where=w, n_threads=nt).astype(np.float64)
    xd = a.astype(np.float64)
    with np.errstate(invalid="ignore"):
        lin = np.where(p > 0, p * xd, np.where(np.isnan(p), np.nan, 0.0)).sum(ax, keepdims=True)
        if al == 2.0:
            h = 0.5 * (1.0 - (p * p).sum(ax, keepdims=True))
        else:
            h = (1.0 - np.power(p, al).sum(ax, keepdims=True)) / (al * (al - 1.0))
        val = lin + t * h
        # a slice of only -inf (or fully masked) has no finite value: -inf, as logsumexp
        top = np.max(xd if w is None else np.where(w, xd, -np.inf), axis=ax, keepdims=True)
        val = np.where(top == -np.inf, -np.inf, val)
        val = np.where(top == np.inf, np.where(np.isnan(val), val, np.inf), val)
    return P.finish_per_slice(val, plan, keepdims, out, rdt)


def _smoothed_max_grad(x, alpha, axis, temperature, where, n_threads):
    al = _check_scalar_alpha(alpha)
    axis = P.AxisPlan(np.shape(x), axis, allow_multiple=False).axis
    if al == 1.0:
        return softmax(x, axis, temperature=temperature, where=where, n_threads=n_threads)
    return entmax(x, al, axis, temperature=temperature, where=where, n_threads=n_threads)


@_doc.fill(fwd="smoothed_max")
def smoothed_max_vjp(x, value, g, alpha=1.0, axis=-1, *, temperature=1.0, where=None, out=None,
                     n_threads=1):
    r"""Vector-Jacobian product of :func:`smoothed_max`.

    The gradient of the smoothed max is the maximiser, so for a cotangent ``g`` per
    slice:

    .. math:: \bar x = g \cdot \operatorname{entmax}(x / t, \alpha)

    (``softmax(x / t)`` for ``alpha = 1``) [1]_.

    Parameters
    ----------
    {smax_x}
    g : float or array_like
        The cotangent of ``value``: one value per slice (the reduced or keepdims shape).
    {smax_alpha}
    {axis}
    {temperature_fwd}
    {where_fwd}
    {out_red_grad}
    {n_threads}

    Returns
    -------
    ndarray
        The gradient with respect to ``x``, of the shape of ``x``; the wider float dtype of
        ``x`` and ``g``.

    Raises
    ------
    {raises_smax_d}

    See Also
    --------
    smoothed_max : The forward function.
    smoothed_max_jvp : The Jacobian-vector product.
    entmax : The gradient itself.

    Notes
    -----
    Recomputes ``entmax(x / t, alpha)`` with the compiled kernel (``value`` does not
    determine it), then multiplies by ``g`` in NumPy; entries of probability 0 get
    exactly 0, even for an infinite ``g``.  Special values follow :func:`entmax`: NaN in
    a slice gives NaN, +inf entries share ``g``, a slice of only -inf gives NaN.

    References
    ----------
    {ref_blondel2020 1}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([1.0, 2.0, 3.0, 4.0])
    >>> v = cmf.smoothed_max(x, alpha=1.5)
    >>> cmf.smoothed_max_vjp(x, v, 2.0, alpha=1.5).round(4)
    array([0.    , 0.    , 0.3386, 1.6614])
    >>> np.allclose(cmf.smoothed_max_vjp(x, v, 1.0, alpha=1.5), cmf.entmax(x, alpha=1.5))
    True
    """
    a, rdt = as_float_array(x)
    nt = check_n_threads(n_threads)
    plan = P.AxisPlan(a.shape, axis, allow_multiple=False)
    slice_param(value, plan, "value", check=False)
    G = slice_param(g, plan, "g", check=False)
    ga, grdt = as_float_array(g, "g")
    rdt = np.promote_types(rdt, grdt)
    check_out(out, a.shape, rdt)
    res = _smoothed_max_grad(a, alpha, axis, temperature, where, nt)
    res = res.astype(np.promote_types(a.dtype, ga.dtype))
    with np.errstate(invalid="ignore"):
        res = np.where(res == 0, 0, res * G)
    if out is not None:
        np.copyto(out, res, casting="unsafe")
        return out
    return res.astype(rdt, copy=False)


@_doc.fill(fwd="smoothed_max", x="x", dtypes="wider float dtype of ``x`` and ``dx``")
def smoothed_max_jvp(x, value, dx, alpha=1.0, axis=-1, *, temperature=1.0, where=None, keepdims=False,
                     out=None, n_threads=1):
    r"""Jacobian-vector product of :func:`smoothed_max`.

    For a tangent ``dx`` of the shape of ``x``, per slice:

    .. math:: \dot v = \langle \operatorname{entmax}(x / t, \alpha), dx \rangle

    Parameters
    ----------
    {smax_x}
    {dx_red}
    {smax_alpha}
    {axis}
    {temperature_fwd}
    {where_fwd_red}
    {keepdims_kw}
    {out_red}
    {n_threads}

    Returns
    -------
    {returns_red_jvp}

    Raises
    ------
    {raises_smax_d}

    See Also
    --------
    smoothed_max : The forward function.
    smoothed_max_vjp : The vector-Jacobian product.

    Notes
    -----
    Recomputes ``entmax(x / t, alpha)`` with the compiled kernel, then the dot product
    in float64 with NumPy; entries of probability 0 contribute 0 whatever ``dx`` holds.

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([1.0, 2.0, 3.0, 4.0])
    >>> v = cmf.smoothed_max(x, alpha=1.5)
    >>> float(cmf.smoothed_max_jvp(x, v, [0.0, 0.0, 0.0, 1.0], alpha=1.5).round(4))
    0.8307
    >>> float(cmf.smoothed_max_jvp(x, v, np.ones(4), alpha=1.5))   # smax(x + c) = smax(x) + c
    1.0
    """
    a, rdt = as_float_array(x)
    nt = check_n_threads(n_threads)
    plan = P.AxisPlan(a.shape, axis, allow_multiple=False)
    slice_param(value, plan, "value", check=False)
    va, vrdt = as_float_array(dx, "dx")
    check_same_shape(va, a.shape, "dx")
    rdt = np.promote_types(rdt, vrdt)
    check_out(out, plan.keep_shape if keepdims else plan.red_shape, rdt)
    p = _smoothed_max_grad(a, alpha, axis, temperature, where, nt).astype(np.float64)
    with np.errstate(invalid="ignore"):
        d = np.where(p == 0, 0.0, p * va).sum(plan.axis, keepdims=True)
    return P.finish_per_slice(d, plan, keepdims, out, rdt)
