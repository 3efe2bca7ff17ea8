"""The sparse normalisers: sparsemax, 1.5-entmax and alpha-entmax, with their VJPs, JVPs
and Jacobians.  Kernels in src/sparse.tmpl.c (no sort: threshold passes)."""
from __future__ import annotations

import numpy as np

from . import _docstrings as _doc, _plumbing as P
from ._cy import normalizers as _k
from ._normalizers import _jacobian_setup, _normalize, _normalizer_d, softmax
from ._validation import as_float_array, check_alpha, slice_param

__all__ = ["sparsemax", "sparsemax_vjp", "sparsemax_jvp", "sparsemax_jacobian",
           "entmax15", "entmax15_vjp", "entmax15_jvp", "entmax15_jacobian",
           "entmax", "entmax_vjp", "entmax_jvp", "entmax_jacobian"]


def _sparsemax_kernel(x, y, t, m):
    _k.sparse_slices(x, y, t, m)


def _entmax_kernel(x, y, t, m, a):
    _k.sparse_slices(x, y, t, m, a)


def _entmax_d_kernel(y, v, r, t, m, a):
    _k.entmax_d_slices(y, v, r, t, m, a)


_entmax_d_kernel.common_op = 4                 # _k.normalizer_d_common's op


@_doc.fill(fwd="entmax")
def sparsemax(x, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Sparsemax along an axis: the Euclidean projection onto the probability simplex.

    For each slice ``x`` along ``axis`` and ``z = x / t``:

    .. math:: p = \operatorname*{arg\,min}_{p \in \Delta} \|p - z\|^2 = [z - \tau]_+,
              \qquad \tau \text{ such that } \sum_i p_i = 1

    a normaliser like :func:`softmax` whose output has exact zeros: entries at least 1
    below the maximum of ``z`` always get probability 0 [1]_.  It is :func:`entmax` with
    ``alpha = 2``, the Gini-entropy-regularised argmax.

    Parameters
    ----------
    {x}
    {axis}
    {temperature}
    {where}
    {out}
    {n_threads}

    Returns
    -------
    ndarray
        The probabilities (entries in [0, 1] summing to 1 along ``axis``, exact zeros off
        the support), of the shape of ``x`` and its float dtype.

    Raises
    ------
    {raises}

    See Also
    --------
    sparsemax_vjp : The vector-Jacobian product, from the output.
    sparsemax_loss : The sparsemax loss, fused with its gradient.
    entmax : The family between softmax (``alpha = 1``) and sparsemax (``alpha = 2``).
    softmax : The dense relative.

    Notes
    -----
    No sort: the threshold is found by Michelot's iteration (reviewed by Condat [2]_)
    from the lower bound ``tau = max z - 1`` on the candidates ``z > max z - 1``:
    ``tau <- (sum_{z > tau} z - 1) / #{z > tau}`` increases monotonically and stops when
    the support no longer changes, where it is exact.  Each step is one vectorised pass;
    a handful of steps suffice in practice (expected linear time).  The slice is
    shifted by its maximum first, so huge magnitudes lose no precision.

    {special_normalizer}

    References
    ----------
    {ref_martins2016 1}
    {ref_condat2016 2}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> cmf.sparsemax([0.5, 1.0, -1.0])                # -1.0 is off the support
    array([0.25, 0.75, 0.  ])
    >>> cmf.sparsemax([0.5, 1.0, -1.0], temperature=2.0)
    array([0.375, 0.625, 0.   ])
    >>> cmf.sparsemax([0.5, 1.0, -1.0], temperature=0.1)   # small t: argmax
    array([0., 1., 0.])

    The same as a sort-based projection onto the simplex:

    >>> z = np.array([0.3, 1.2, -0.4, 1.0])
    >>> u = np.sort(z)[::-1]
    >>> k = np.arange(1, 5)
    >>> r = k[u - (np.cumsum(u) - 1) / k > 0][-1]
    >>> np.allclose(cmf.sparsemax(z), np.maximum(z - (u[:r].sum() - 1) / r, 0))
    True
    """
    return _normalize(x, axis, temperature, where, out, _sparsemax_kernel, allow_multiple=False,
                      n_threads=n_threads, common_op=2)


@_doc.fill()
def entmax15(x, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""1.5-entmax along an axis: the sparse normaliser between softmax and sparsemax.

    For each slice ``x`` along ``axis`` and ``z = x / t``:

    .. math:: p = \operatorname*{arg\,max}_{p \in \Delta} \langle p, z \rangle + H_{1.5}(p)
              = \big[z / 2 - \tau\big]_+^2, \qquad \tau \text{ such that } \sum_i p_i = 1

    with the Tsallis entropy ``H_1.5(p) = 4/3 (1 - sum p^1.5)`` [1]_: sparse like
    :func:`sparsemax`, but smoother (its Jacobian is not piecewise constant).  The same
    as ``entmax(x, alpha=1.5)``.

    Parameters
    ----------
    {x}
    {axis}
    {temperature}
    {where}
    {out}
    {n_threads}

    Returns
    -------
    ndarray
        The probabilities (entries in [0, 1] summing to 1 along ``axis``, exact zeros off
        the support), of the shape of ``x`` and its float dtype.

    Raises
    ------
    {raises}

    See Also
    --------
    entmax15_vjp : The vector-Jacobian product, from the output.
    entmax : Any ``alpha >= 1``.
    entmax_loss : The entmax loss, fused with its gradient.
    sparsemax : ``alpha = 2``.

    Notes
    -----
    No sort: a bracketed Halley iteration on the threshold over the candidates
    ``z > max z - 1`` (a handful of vectorised passes) finds the support, then the
    threshold is the exact root of the quadratic on that support, so the result is
    exact to rounding.  The slice is shifted by its maximum first, so huge magnitudes
    lose no precision.

    {special_normalizer}

    References
    ----------
    {ref_peters2019 1}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> cmf.entmax15([2.0, 1.5, -1.0]).round(4)
    array([0.674, 0.326, 0.   ])
    >>> cmf.entmax15([2.0, 1.5, -1.0], temperature=3.0).round(4)   # denser
    array([0.5311, 0.4166, 0.0523])

    On its support the output solves ``p = (z / 2 - tau)^2`` for one ``tau``:

    >>> z = np.array([0.2, 1.0, -0.5, 0.8])
    >>> p = cmf.entmax15(z)
    >>> s = p > 0
    >>> tau = z[s] / 2 - np.sqrt(p[s])
    >>> bool(np.allclose(tau, tau[0])), bool(np.all(z[~s] / 2 <= tau[0]))
    (True, True)
    """
    return _normalize(x, axis, temperature, where, out, _entmax_kernel, alpha=1.5, allow_multiple=False,
                      n_threads=n_threads, common_op=3)


@_doc.fill()
def entmax(x, alpha=1.5, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Alpha-entmax along an axis: the family from softmax (alpha 1) to sparsemax (alpha 2).

    For each slice ``x`` along ``axis``, ``z = x / t`` and ``alpha >= 1``:

    .. math:: p = \operatorname*{arg\,max}_{p \in \Delta} \langle p, z \rangle + H_\alpha(p)
              = \big[(\alpha - 1) z - \tau\big]_+^{1 / (\alpha - 1)}

    with the Tsallis entropy ``H_alpha(p) = sum (p_i - p_i^alpha) / (alpha (alpha - 1))``
    and ``tau`` such that ``sum p = 1`` [1]_ [2]_.  ``alpha = 1`` is :func:`softmax`
    (Shannon entropy), ``alpha = 2`` is :func:`sparsemax` (Gini entropy), and a large
    ``alpha`` approaches :func:`argmax`; every ``alpha > 1`` gives exact zeros.

    Parameters
    ----------
    {x}
    alpha : float or array_like, optional
        The ``alpha >= 1`` (finite) of the entropy (default 1.5): a scalar, or one value
        per slice (broadcastable like ``temperature``).
    {axis}
    {temperature}
    {where}
    {out}
    {n_threads}

    Returns
    -------
    ndarray
        The probabilities (entries in [0, 1] summing to 1 along ``axis``; exact zeros off
        the support for ``alpha > 1``), of the shape of ``x`` and its float dtype.

    Raises
    ------
    {raises_alpha}

    See Also
    --------
    entmax_vjp : The vector-Jacobian product (and the derivative in ``alpha``).
    entmax15 : ``alpha = 1.5``.
    entmax_loss : The entmax loss, fused with its gradient.
    smoothed_max : The value of the maximisation; its gradient is entmax.
    tsallis_entropy : The regulariser ``H_alpha``.

    Notes
    -----
    A scalar ``alpha`` of 1 or 2 runs :func:`softmax` or :func:`sparsemax` itself
    (bitwise the same result); slices of a per-slice ``alpha`` equal to 1 or 2 use the
    same row kernels (equal to rounding).  Other values: a bracketed root finder on the
    threshold (Halley steps for ``alpha < 2``, Newton steps for ``alpha > 2``, bisection
    whenever a step would leave the bracket ``[-1, -m^(1 - alpha)]``), on the candidates
    ``(alpha - 1) (z - max z) > -1`` only, after shifting by the maximum (so huge magnitudes
    cannot lose precision).  It converges in a handful of vectorised passes, with no
    sort.  Unlike :func:`softmax`'s, tiny probabilities are not flushed to 0: with
    ``alpha`` close to 1, float32 results can be subnormal.

    {special_normalizer}

    References
    ----------
    {ref_peters2019 1}
    {ref_blondel2020 2}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([2.0, 1.5, -1.0])
    >>> cmf.entmax(x, alpha=2)                         # = sparsemax
    array([0.75, 0.25, 0.  ])
    >>> bool(np.array_equal(cmf.entmax(x, alpha=1), cmf.softmax(x)))
    True
    >>> cmf.entmax([2.0, 1.5, 0.5], alpha=1.25).round(4)
    array([0.6054, 0.3285, 0.0661])
    >>> cmf.entmax([2.0, 1.9, 1.0], alpha=100).round(4)   # large alpha: argmax
    array([1., 0., 0.])

    One ``alpha`` per row:

    >>> X = np.array([[2.0, 1.5, -1.0], [2.0, 1.5, -1.0]])
    >>> cmf.entmax(X, alpha=[1.5, 2.0]).round(4)
    array([[0.674, 0.326, 0.   ],
           [0.75 , 0.25 , 0.   ]])
    """
    al = np.asarray(alpha)
    if al.ndim == 0 and al.dtype.kind in "iuf" and float(al) in (1.0, 2.0):
        # the very same computation as softmax / sparsemax (bitwise, whatever the layout);
        # a per-slice alpha array goes through the entmax kernel, which dispatches each
        # slice to the same row kernels (equal to rounding: softmax batches short slices)
        f = softmax if float(al) == 1.0 else sparsemax
        return f(x, axis, temperature=temperature, where=where, out=out, n_threads=n_threads)
    return _normalize(x, axis, temperature, where, out, _entmax_kernel, alpha=alpha, allow_multiple=False,
                      n_threads=n_threads, common_op=3)


def _entmax_iterations(x, alpha, axis=-1, *, temperature=1.0):
    """Root-finder iterations per slice of :func:`entmax` (for tests and benchmarks)."""
    a, _ = as_float_array(x)
    plan = P.AxisPlan(a.shape, axis, allow_multiple=False)
    t = slice_param(temperature, plan, "temperature")
    al = check_alpha(alpha, plan)
    n_iter = np.zeros(plan.keep_shape)
    y = np.empty_like(a)
    ax = plan.axis
    for xv, yv, tv, av, nv in P.slice_views(ax, [P.kernel_ready(a), y, P.per_slice(t, a.shape, ax),
                                                 P.per_slice(al, a.shape, ax),
                                                 P.per_slice(n_iter, a.shape, ax)]):
        _k.sparse_slices(xv, yv, tv, None, av, nv)
    return n_iter.reshape(plan.red_shape).astype(np.int64)


@_doc.fill(fwd="sparsemax", v="g")
def sparsemax_vjp(y, g, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Vector-Jacobian product of :func:`sparsemax`, from its output.

    With ``y = sparsemax(x, temperature=t)`` along ``axis``, and
    the support indicator ``s`` (1 where ``y > 0``):

    .. math:: \bar x = \frac{s \odot g - s \langle s, g \rangle / \sum_j s_j}{t}

    the product with the symmetric Jacobian ``J = (diag(s) - s s^T / sum s) / t`` [1]_.

    Parameters
    ----------
    {y}
    {g}
    {axis}
    {temperature_fwd}
    {where_fwd}
    {out_d}
    {n_threads}

    Returns
    -------
    ndarray
        The gradient with respect to the input of :func:`sparsemax`, of the shape of ``y``.

    Raises
    ------
    {raises}

    See Also
    --------
    sparsemax : The forward function.
    sparsemax_jvp : The Jacobian-vector product (the same formula).
    sparsemax_jacobian : The explicit Jacobian.

    Notes
    -----
    {notes_sparse_d}
    {dtypes_d}

    References
    ----------
    {ref_martins2016 1}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> y = cmf.sparsemax([0.5, 1.0, -1.0])
    >>> cmf.sparsemax_vjp(y, [1.0, 0.0, 7.0])          # the entry off the support gets 0
    array([ 0.5, -0.5,  0. ])
    >>> g = np.array([1.0, 2.0, 3.0])
    >>> np.allclose(cmf.sparsemax_vjp(y, g), g @ cmf.sparsemax_jacobian(y))
    True
    """
    return _normalizer_d(y, g, "g", axis, temperature, where, out, _entmax_d_kernel, alpha=2.0,
                         n_threads=n_threads)


@_doc.fill(fwd="sparsemax", v="dx")
def sparsemax_jvp(y, dx, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Jacobian-vector product of :func:`sparsemax`, from its output.

    With ``y = sparsemax(x, temperature=t)`` along ``axis``, and
    the support indicator ``s`` (1 where ``y > 0``):

    .. math:: \dot y = \frac{s \odot dx - s \langle s, dx \rangle / \sum_j s_j}{t}

    the product with the symmetric Jacobian ``J = (diag(s) - s s^T / sum s) / t`` [1]_.

    Parameters
    ----------
    {y}
    {dx}
    {axis}
    {temperature_fwd}
    {where_fwd}
    {out_d}
    {n_threads}

    Returns
    -------
    ndarray
        The directional derivative of :func:`sparsemax`, of the shape of ``y``.

    Raises
    ------
    {raises}

    See Also
    --------
    sparsemax : The forward function.
    sparsemax_vjp : The vector-Jacobian product (the same formula).
    sparsemax_jacobian : The explicit Jacobian.

    Notes
    -----
    {notes_sparse_d}
    {dtypes_d}

    References
    ----------
    {ref_martins2016 1}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> y = cmf.sparsemax([0.5, 1.0, -1.0])
    >>> cmf.sparsemax_jvp(y, [1.0, 0.0, 5.0])
    array([ 0.5, -0.5,  0. ])
    >>> np.allclose(cmf.sparsemax_jvp(y, [1.0, 1.0, 1.0]), 0)   # shifting x changes nothing
    True
    """
    return _normalizer_d(y, dx, "dx", axis, temperature, where, out, _entmax_d_kernel, alpha=2.0,
                         n_threads=n_threads)


@_doc.fill(fwd="entmax15", v="g")
def entmax15_vjp(y, g, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Vector-Jacobian product of :func:`entmax15`, from its output.

    With ``y = entmax15(x, temperature=t)`` along ``axis``, and
    ``s = sqrt(y)`` on the support (0 elsewhere):

    .. math:: \bar x = \frac{s \odot g - s \langle s, g \rangle / \sum_j s_j}{t}

    the product with the symmetric Jacobian ``J = (diag(s) - s s^T / sum s) / t`` [1]_.

    Parameters
    ----------
    {y}
    {g}
    {axis}
    {temperature_fwd}
    {where_fwd}
    {out_d}
    {n_threads}

    Returns
    -------
    ndarray
        The gradient with respect to the input of :func:`entmax15`, of the shape of ``y``.

    Raises
    ------
    {raises}

    See Also
    --------
    entmax15 : The forward function.
    entmax15_jvp : The Jacobian-vector product (the same formula).
    entmax15_jacobian : The explicit Jacobian.

    Notes
    -----
    {notes_sparse_d}
    {dtypes_d}

    References
    ----------
    {ref_peters2019 1}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> y = cmf.entmax15([2.0, 1.5, -1.0])
    >>> cmf.entmax15_vjp(y, [1.0, 0.0, 0.0]).round(4)
    array([ 0.3368, -0.3368,  0.    ])
    >>> g = np.array([1.0, 2.0, 3.0])
    >>> np.allclose(cmf.entmax15_vjp(y, g), cmf.entmax_vjp(y, g, alpha=1.5))
    True
    """
    return _normalizer_d(y, g, "g", axis, temperature, where, out, _entmax_d_kernel, alpha=1.5,
                         n_threads=n_threads)


@_doc.fill(fwd="entmax15", v="dx")
def entmax15_jvp(y, dx, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Jacobian-vector product of :func:`entmax15`, from its output.

    With ``y = entmax15(x, temperature=t)`` along ``axis``, and
    ``s = sqrt(y)`` on the support (0 elsewhere):

    .. math:: \dot y = \frac{s \odot dx - s \langle s, dx \rangle / \sum_j s_j}{t}

    the product with the symmetric Jacobian ``J = (diag(s) - s s^T / sum s) / t`` [1]_.

    Parameters
    ----------
    {y}
    {dx}
    {axis}
    {temperature_fwd}
    {where_fwd}
    {out_d}
    {n_threads}

    Returns
    -------
    ndarray
        The directional derivative of :func:`entmax15`, of the shape of ``y``.

    Raises
    ------
    {raises}

    See Also
    --------
    entmax15 : The forward function.
    entmax15_vjp : The vector-Jacobian product (the same formula).
    entmax15_jacobian : The explicit Jacobian.

    Notes
    -----
    {notes_sparse_d}
    {dtypes_d}

    References
    ----------
    {ref_peters2019 1}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x, dx = np.array([2.0, 1.5, 0.5]), np.array([0.3, -1.0, 2.0])
    >>> h = 1e-6
    >>> fd = (cmf.entmax15(x + h * dx) - cmf.entmax15(x - h * dx)) / (2 * h)
    >>> np.allclose(cmf.entmax15_jvp(cmf.entmax15(x), dx), fd)
    True
    """
    return _normalizer_d(y, dx, "dx", axis, temperature, where, out, _entmax_d_kernel, alpha=1.5,
                         n_threads=n_threads)


@_doc.fill(fwd="entmax", v="g")
def entmax_vjp(y, g, alpha=1.5, axis=-1, *, temperature=1.0, where=None, out=None,
               return_alpha_grad=False, n_threads=1):
    r"""Vector-Jacobian product of :func:`entmax`, from its output.

    With ``y = entmax(x, alpha, temperature=t)`` along ``axis``, and
    ``s = y^(2 - alpha)`` on the support (0 elsewhere):

    .. math:: \bar x = \frac{s \odot g - s \langle s, g \rangle / \sum_j s_j}{t}

    the product with the symmetric Jacobian ``J = (diag(s) - s s^T / sum s) / t`` [1]_.

    Parameters
    ----------
    {y}
    {g}
    {alpha_fwd}
    {axis}
    {temperature_fwd}
    {where_fwd}
    {out_d}
    return_alpha_grad : bool, keyword-only
        Also return the derivative with respect to ``alpha``, ``d <g, entmax(x, alpha)> /
        d alpha`` per slice (default False).
    {n_threads}

    Returns
    -------
    dx : ndarray
        The gradient with respect to the input of :func:`entmax`, of the shape of ``y``.
    dalpha : ndarray or numpy.floating
        Only with ``return_alpha_grad``: the derivative in ``alpha`` per slice (the shape
        of ``y`` without ``axis``; sum it for a scalar ``alpha``).

    Raises
    ------
    {raises_alpha}

    See Also
    --------
    entmax : The forward function.
    entmax_jvp : The Jacobian-vector product (the same formula).
    entmax_jacobian : The explicit Jacobian.

    Notes
    -----
    {notes_sparse_d}
    {dtypes_d}

    The derivative in ``alpha`` is a NumPy composition.  The textbook expression
    ``sum g [(p - q) / d^2 - (p log p - q H) / d]`` (``d = alpha - 1``, ``q = s / sum s``,
    ``H = sum p log p``) cancels catastrophically as ``alpha`` goes to 1; it is evaluated
    in the algebraically equal form ``sum g p [(<p, F> - F) + d (F H - log(p) <p, F>)] / W``
    with ``F = log(p)^2 phi(-d log p)``, ``phi(u) = (expm1(u) - u) / u^2`` (a series near
    0) and ``W = 1 + <p, expm1(-d log p)>``, which has no division by ``d`` and is exact at
    ``alpha = 1``.  (The derivative in ``alpha`` is that of [2]_.)

    References
    ----------
    {ref_peters2019 1}
    {ref_correia2019 2}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([2.0, 1.5, 0.5])
    >>> y = cmf.entmax(x, alpha=1.25)
    >>> g = np.array([1.0, 0.0, 0.0])
    >>> np.allclose(cmf.entmax_vjp(y, g, alpha=1.25), g @ cmf.entmax_jacobian(y, alpha=1.25))
    True

    The derivative in ``alpha`` agrees with a central difference:

    >>> dx, da = cmf.entmax_vjp(y, g, alpha=1.25, return_alpha_grad=True)
    >>> h = 1e-6
    >>> fd = (cmf.entmax(x, alpha=1.25 + h) - cmf.entmax(x, alpha=1.25 - h)) @ g / (2 * h)
    >>> bool(np.isclose(da, fd)), bool(da > 0)    # a larger alpha puts more mass on the max
    (True, True)
    """
    dx = _normalizer_d(y, g, "g", axis, temperature, where, out, _entmax_d_kernel, alpha=alpha,
                         n_threads=n_threads)
    if not return_alpha_grad:
        return dx
    return dx, _entmax_alpha_grad(y, g, alpha, axis)


def _phi(u):
    """(expm1(u) - u) / u^2, accurate for every u (series for |u| < 0.5)."""
    small = np.abs(u) < 0.5
    us = np.where(small, u, 0.0)
    series = np.zeros_like(us)
    for k in range(14, 1, -1):               # sum_{k>=2} u^(k-2) / k!, Horner
        series = series * us + 1.0 / np.prod(np.arange(1, k + 1, dtype=np.float64))
    ub = np.where(small, 1.0, u)
    with np.errstate(over="ignore", invalid="ignore"):
        direct = (np.expm1(ub) - ub) / (ub * ub)
    return np.where(small, series, direct)


def _entmax_alpha_grad(y, g, alpha, axis):
    ya, rdt = as_float_array(y, "y")
    ga, grdt = as_float_array(g, "g")
    plan = P.AxisPlan(ya.shape, axis, allow_multiple=False)
    ax = plan.axis
    d = check_alpha(alpha, plan) - 1.0                              # keepdims shape
    p = ya.astype(np.float64)
    gg = np.broadcast_to(ga, ya.shape).astype(np.float64)
    sup = p > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        L = np.where(sup, np.log(np.where(sup, p, 1.0)), 0.0)
        u = -d * L
        F = L * L * _phi(u)
        E = np.where(sup, np.expm1(u), 0.0)
        W = 1.0 + (p * E).sum(ax, keepdims=True)
        H = (p * L).sum(ax, keepdims=True)
        sF = (p * F).sum(ax, keepdims=True)
        term = (sF - F) + d * (F * H - L * sF)
        da = np.where(sup, gg * p * term, np.where(np.isnan(p), np.nan, 0.0)).sum(ax, keepdims=True) / W
    res = da.reshape(plan.red_shape).astype(np.promote_types(rdt, grdt))
    return res[()] if res.ndim == 0 else res


@_doc.fill(fwd="entmax", v="dx")
def entmax_jvp(y, dx, alpha=1.5, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Jacobian-vector product of :func:`entmax`, from its output.

    With ``y = entmax(x, alpha, temperature=t)`` along ``axis``, and
    ``s = y^(2 - alpha)`` on the support (0 elsewhere):

    .. math:: \dot y = \frac{s \odot dx - s \langle s, dx \rangle / \sum_j s_j}{t}

    the product with the symmetric Jacobian ``J = (diag(s) - s s^T / sum s) / t`` [1]_.

    Parameters
    ----------
    {y}
    {dx}
    {alpha_fwd}
    {axis}
    {temperature_fwd}
    {where_fwd}
    {out_d}
    {n_threads}

    Returns
    -------
    ndarray
        The directional derivative of :func:`entmax`, of the shape of ``y``.

    Raises
    ------
    {raises_alpha}

    See Also
    --------
    entmax : The forward function.
    entmax_vjp : The vector-Jacobian product (the same formula).
    entmax_jacobian : The explicit Jacobian.

    Notes
    -----
    {notes_sparse_d}
    {dtypes_d}

    References
    ----------
    {ref_peters2019 1}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x, dx = np.array([2.0, 1.5, 0.5]), np.array([0.3, -1.0, 2.0])
    >>> h = 1e-6
    >>> fd = (cmf.entmax(x + h * dx, alpha=1.25) - cmf.entmax(x - h * dx, alpha=1.25)) / (2 * h)
    >>> np.allclose(cmf.entmax_jvp(cmf.entmax(x, alpha=1.25), dx, alpha=1.25), fd)
    True
    """
    return _normalizer_d(y, dx, "dx", axis, temperature, where, out, _entmax_d_kernel, alpha=alpha,
                         n_threads=n_threads)


@_doc.fill(fwd="entmax", yname="y")
def entmax_jacobian(y, alpha=1.5, axis=-1, *, temperature=1.0, where=None):
    r"""Explicit Jacobian of :func:`entmax`, from its output.

    With ``y = entmax(x, alpha, temperature=t)`` along ``axis``, and
    ``s = y^(2 - alpha)`` on the support (0 elsewhere):

    .. math:: J = \frac{\operatorname{diag}(s) - s s^T / \sum_j s_j}{t}

    symmetric, with rows summing to 0, and 0 in the rows and columns of the entries off
    the support [1]_.

    Parameters
    ----------
    {y_jac}
    {alpha_fwd}
    {axis}
    {temperature_fwd}
    {where_jac}

    Returns
    -------
    {returns_jac}

    Raises
    ------
    {raises_jac_alpha}

    See Also
    --------
    entmax_vjp : The product ``g^T J`` without forming ``J`` (preferred).
    entmax_jvp : The product ``J dx``.

    Notes
    -----
    A NumPy composition (no compiled kernel, no ``n_threads``): it allocates ``n^2``
    entries per slice, so prefer the VJP or JVP inside a training loop.  NaN in ``y``
    propagates; a slice with an empty support (all zeros) gives 0.

    References
    ----------
    {ref_peters2019 1}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([2.0, 1.5, 0.5])
    >>> J = cmf.entmax_jacobian(cmf.entmax(x, alpha=1.25), alpha=1.25)
    >>> h = 1e-6
    >>> f = lambda v: cmf.entmax(v, alpha=1.25)
    >>> fd = np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(3)], axis=1)
    >>> np.allclose(J, fd, atol=1e-6), np.allclose(J.sum(axis=1), 0)
    (True, True)
    >>> cmf.entmax_jacobian(np.full((4, 3), 1 / 3), alpha=1.25).shape
    (4, 3, 3)
    """
    yl, tl, wl, rdt = _jacobian_setup(y, axis, temperature, where)
    plan = P.AxisPlan(np.shape(y), axis, allow_multiple=False)
    al = np.moveaxis(check_alpha(alpha, plan), plan.axis, -1)          # (..., 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = np.where(yl > 0, np.power(np.where(yl > 0, yl, 1), 2.0 - al), 0).astype(yl.dtype)
        s = np.where(np.isnan(yl), yl, s)
        tot = s.sum(-1, keepdims=True)[..., None]
        J = -(s[..., :, None] * s[..., None, :]) / tot
    i = np.arange(yl.shape[-1])
    J[..., i, i] += s
    J = np.where(tot == 0, 0, J) / tl
    if wl is not None:
        J *= wl[..., :, None] & wl[..., None, :]
    return J.astype(rdt, copy=False)


@_doc.fill(fwd="sparsemax", yname="y")
def sparsemax_jacobian(y, axis=-1, *, temperature=1.0, where=None):
    r"""Explicit Jacobian of :func:`sparsemax`, from its output.

    With ``y = sparsemax(x, temperature=t)`` along ``axis``, and
    the support indicator ``s`` (1 where ``y > 0``):

    .. math:: J = \frac{\operatorname{diag}(s) - s s^T / \sum_j s_j}{t}

    symmetric, with rows summing to 0, and 0 in the rows and columns of the entries off
    the support (``|S|`` the support's size) [1]_.

    Parameters
    ----------
    {y_jac}
    {axis}
    {temperature_fwd}
    {where_jac}

    Returns
    -------
    {returns_jac}

    Raises
    ------
    {raises_jac}

    See Also
    --------
    sparsemax_vjp : The product ``g^T J`` without forming ``J`` (preferred).
    sparsemax_jvp : The product ``J dx``.

    Notes
    -----
    A NumPy composition (no compiled kernel, no ``n_threads``): it allocates ``n^2``
    entries per slice, so prefer the VJP or JVP inside a training loop.  NaN in ``y``
    propagates; a slice with an empty support (all zeros) gives 0.

    References
    ----------
    {ref_martins2016 1}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> y = cmf.sparsemax([0.5, 1.0, -1.0])
    >>> J = cmf.sparsemax_jacobian(y)
    >>> J[:2, :2]                                      # the support: I - 1 1^T / 2
    array([[ 0.5, -0.5],
           [-0.5,  0.5]])
    >>> bool(np.all(J[2] == 0)), bool(np.all(J[:, 2] == 0))   # off the support
    (True, True)
    """
    return entmax_jacobian(y, 2.0, axis, temperature=temperature, where=where)


@_doc.fill(fwd="entmax15", yname="y")
def entmax15_jacobian(y, axis=-1, *, temperature=1.0, where=None):
    r"""Explicit Jacobian of :func:`entmax15`, from its output.

    With ``y = entmax15(x, temperature=t)`` along ``axis``, and
    ``s = sqrt(y)`` on the support (0 elsewhere):

    .. math:: J = \frac{\operatorname{diag}(s) - s s^T / \sum_j s_j}{t}

    symmetric, with rows summing to 0, and 0 in the rows and columns of the entries off
    the support [1]_.

    Parameters
    ----------
    {y_jac}
    {axis}
    {temperature_fwd}
    {where_jac}

    Returns
    -------
    {returns_jac}

    Raises
    ------
    {raises_jac}

    See Also
    --------
    entmax15_vjp : The product ``g^T J`` without forming ``J`` (preferred).
    entmax15_jvp : The product ``J dx``.

    Notes
    -----
    A NumPy composition (no compiled kernel, no ``n_threads``): it allocates ``n^2``
    entries per slice, so prefer the VJP or JVP inside a training loop.  NaN in ``y``
    propagates; a slice with an empty support (all zeros) gives 0.

    References
    ----------
    {ref_peters2019 1}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([2.0, 1.5, 0.5])
    >>> J = cmf.entmax15_jacobian(cmf.entmax15(x))
    >>> h = 1e-6
    >>> f = cmf.entmax15
    >>> fd = np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(3)], axis=1)
    >>> np.allclose(J, fd), np.allclose(J, J.T)
    (True, True)
    """
    return entmax_jacobian(y, 1.5, axis, temperature=temperature, where=where)
