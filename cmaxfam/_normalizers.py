"""The normalisers: argmax, softmax, log_softmax, with their VJPs, JVPs and Jacobians."""
from __future__ import annotations

import numpy as np

from . import _docstrings as _doc, _plumbing as P
from ._cy import normalizers as _k
from ._validation import (as_float_array, check_alpha, check_n_threads, check_out, check_same_shape,
                          check_where, common_alpha, slice_param)

__all__ = [
    "argmax", "softmax", "log_softmax",
    "softmax_vjp", "softmax_jvp", "softmax_jacobian",
    "log_softmax_vjp", "log_softmax_jvp", "log_softmax_jacobian",
]

_SLICE_OK, _SLICE_NAN, _SLICE_ALL_NEGINF, _SLICE_EMPTY = 0, 1, 2, 3


def _normalize(x, axis, temperature, where, out, kernel, *, alpha=None, allow_multiple=True,
               n_threads=1, common_op=None):
    """Validate, plan and run a normaliser: ``kernel(x, out, t, mask[, alpha])`` on 3-D views.
    With ``common_op``, _k.normalizer_common first takes the common call
    (cmaxfam/_cy/_common.pxd) without Python in between, or returns None."""
    if where is None and common_op is not None:
        if alpha is None:
            r = _k.normalizer_common(x, axis, temperature, out, n_threads, common_op)
        else:
            al = common_alpha(alpha)
            r = None if al is None else _k.normalizer_common(x, axis, temperature, out, n_threads, common_op, al)
        if r is not None:
            return r
    a, rdt = as_float_array(x)
    nt = check_n_threads(n_threads)
    plan = P.AxisPlan(a.shape, axis, allow_multiple=allow_multiple)
    t = slice_param(temperature, plan, "temperature")
    al = None if alpha is None else check_alpha(alpha, plan)
    w = check_where(where, a.shape)
    check_out(out, a.shape, rdt)
    if a.size == 0:
        return out if out is not None else np.empty(a.shape, dtype=rdt)
    xw = P.kernel_ready(plan.to_work(a))
    if plan.single:
        target, copy = P.result_array(out, a.shape, a.dtype, rdt, inputs=(a,), inplace_ok=(0,))
    else:
        target, copy = np.empty(plan.work_shape, dtype=a.dtype), out is not None
    ws, ax = plan.work_shape, plan.axis
    views = [xw, target, P.per_slice(plan.keep_to_work(t), ws, ax), P.mask_u8(plan.to_work(w))]
    if al is not None:
        views.append(P.per_slice(plan.keep_to_work(al), ws, ax))
    P.run_slices(kernel, ax, views, nt)
    return P.finish(plan.from_work(target), out, copy, rdt)


def _softmax_kernel(x, y, t, m):
    _k.softmax_slices(x, y, t, m, False)


def _log_softmax_kernel(x, y, t, m):
    _k.softmax_slices(x, y, t, m, True)


@_doc.fill()
def softmax(x, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Softmax (soft-arg-max) along an axis, with a temperature.

    For each slice ``x`` along ``axis`` and temperature ``t``:

    .. math:: p_i = \frac{\exp(x_i / t)}{\sum_j \exp(x_j / t)}

    the smooth, differentiable relative of :func:`argmax`: a probability vector (entries
    in [0, 1] summing to 1) that approaches the one-hot of the maximum as ``t`` goes to 0
    and the uniform distribution as ``t`` grows.

    Parameters
    ----------
    {x}
    {axis_multi}
    {temperature}
    {where}
    {out}
    {n_threads}

    Returns
    -------
    ndarray
        The probabilities, of the shape of ``x`` and its float dtype (see ``x``).

    Raises
    ------
    {raises}

    See Also
    --------
    log_softmax : Its logarithm, accurate where the probabilities underflow.
    logsumexp : The normalising constant; its gradient is the softmax.
    softmax_vjp : The vector-Jacobian product, from the output.
    sparsemax : The sparse relative (exact zeros).
    argmax : The limit as the temperature goes to 0.

    Notes
    -----
    Computed as ``exp((x_i - m) / t) / sum_j exp((x_j - m) / t)`` with ``m = max x``, so
    that no exponential overflows and the largest is exactly 1 [1]_.  The exponential is
    a branch-free polynomial in the compiled core (no libm call in the loop); sums of
    float32 are accumulated in float32 blocks of 256 entries and in double across blocks.
    Results agree with :func:`scipy.special.softmax`, which takes the same ``axis``.
    Probabilities below the smallest normal number (about 1e-38 in float32, 1e-308 in
    float64) are flushed to 0.

    {special_normalizer}

    References
    ----------
    {ref_blanchard2021 1}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> cmf.softmax([1.0, 2.0, 3.0]).round(3)
    array([0.09 , 0.245, 0.665])
    >>> cmf.softmax([1000.0, 2000.0, 3000.0])          # no overflow
    array([0., 0., 1.])

    A float32 batch stays float32; every row sums to 1, and the temperature divides:

    >>> x = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]], dtype=np.float32)
    >>> p = cmf.softmax(x, temperature=2.0)
    >>> p.dtype, np.allclose(p.sum(axis=-1), 1), np.allclose(p, cmf.softmax(x / 2))
    (dtype('float32'), True, True)

    Excluded and -inf entries get exactly 0; +inf entries share the mass:

    >>> cmf.softmax([1.0, 2.0, 3.0], where=[True, True, False]).round(4)
    array([0.2689, 0.7311, 0.    ])
    >>> cmf.softmax([1.0, np.inf, np.inf, -np.inf])
    array([0. , 0.5, 0.5, 0. ])
    """
    return _normalize(x, axis, temperature, where, out, _softmax_kernel, n_threads=n_threads,
                      common_op=0)


@_doc.fill()
def log_softmax(x, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Log of the softmax along an axis, with a temperature.

    For each slice ``x`` along ``axis``, with ``z = x / t``:

    .. math:: \log \operatorname{softmax}(z)_i = z_i - \log \sum_j \exp(z_j)

    Parameters
    ----------
    {x}
    {axis_multi}
    {temperature}
    where : array_like of bool, keyword-only
        Entries to include (default None: all), broadcastable to the shape of ``x``.
        Excluded entries give -inf (log 0); a slice with no included entry gives -inf
        throughout, never NaN.
    {out}
    {n_threads}

    Returns
    -------
    ndarray
        The log-probabilities, of the shape of ``x`` and its float dtype.

    Raises
    ------
    {raises}

    See Also
    --------
    softmax : The probabilities.
    logsumexp : The normalising constant.
    log_softmax_vjp : The vector-Jacobian product, from the output.
    softmax_cross_entropy : The loss, fused with its gradient.

    Notes
    -----
    Computed as ``(x_i - m) / t - log(sum_j exp((x_j - m) / t))`` with ``m = max x``, never
    as ``log(softmax(x))``: a large gap gives a large negative value, not -inf [1]_.
    Agrees with :func:`scipy.special.log_softmax`.

    Special values: NaN in a slice makes the slice NaN; with +inf entries, those get
    ``-log k`` (``k`` of them) and the others -inf; -inf entries give -inf, and a slice of
    only -inf is NaN (unless ``where`` excludes it all: then -inf); a slice of one entry
    gives 0; an empty array gives an empty array.  Huge finite inputs never overflow in
    the computation; a value below the dtype's range (e.g. ``-6e38`` in float32) is -inf.

    References
    ----------
    {ref_blanchard2021 1}

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> cmf.log_softmax([1.0, 2.0, 3.0]).round(4)
    array([-2.4076, -1.4076, -0.4076])
    >>> cmf.log_softmax([0.0, -800.0])                 # log(softmax) would give -inf
    array([   0., -800.])
    >>> cmf.log_softmax([1.0, 2.0, 3.0], where=[True, False, True]).round(4)
    array([-2.1269,    -inf, -0.1269])
    """
    return _normalize(x, axis, temperature, where, out, _log_softmax_kernel, n_threads=n_threads,
                      common_op=1)


def _argmax_codes(a, plan, w, n_threads=1):
    """The first maximal index of every slice of ``a`` along ``plan.axis`` (-1 when fully
    masked) and its status (_SLICE_*: NaN, all -inf, no included entry), both float64
    arrays of the keepdims shape."""
    idx = np.full(plan.keep_shape, -1.0)
    code = np.full(plan.keep_shape, float(_SLICE_EMPTY))
    if a.size:
        ax = plan.axis
        xa = P.kernel_ready(a)
        P.run_slices(_k.argmax_slices, ax, [xa, P.per_slice(idx, a.shape, ax),
                                            P.per_slice(code, a.shape, ax), P.mask_u8(w)], n_threads)
    return idx, code


@_doc.fill()
def argmax(x, axis=-1, *, temperature=1.0, where=None, return_indices=False, keepdims=False, out=None,
           n_threads=1):
    r"""Argmax along an axis: the one-hot of the first maximal entry, or its index.

    The limit of :func:`softmax` (and of every normaliser of the family) as the
    temperature goes to 0, except for ties: for each slice ``x`` along ``axis``,
    ``e_k`` with ``k`` the *first* index where ``x`` is maximal.

    Parameters
    ----------
    {x}
    {axis}
    temperature : float or array_like, keyword-only
        Accepted for uniformity with the family and validated (positive and finite), but
        without effect: ``argmax(x / t) = argmax(x)``.
    where : array_like of bool, keyword-only
        Entries to include (default None: all), broadcastable to the shape of ``x``.
        Excluded entries are 0 in the one-hot array and never chosen; a slice with no
        included entry is all zeros (index -1).
    return_indices : bool, keyword-only
        Return the indices (int64) instead of the one-hot array (default False).
    keepdims : bool, keyword-only
        With ``return_indices``, keep the reduced axis with length 1 (default False).
    out : ndarray, keyword-only
        Array to write the result to (default None: a new array): the shape and dtype of
        the result (float one-hot, or int64 indices).  Nothing is written unless the
        whole call succeeds.
    {n_threads}

    Returns
    -------
    ndarray
        The one-hot array (the shape and float dtype of ``x``) or, with
        ``return_indices``, the int64 indices (the shape of ``x`` without ``axis``, or with
        length 1 there when ``keepdims``).

    Raises
    ------
    {raises}

    See Also
    --------
    softmax : The smooth relative.
    sample_categorical : A random index instead of the largest one.
    numpy.argmax : The indices, without ``where``.

    Notes
    -----
    One-hot mode follows the special values of :func:`softmax` except for ties: a slice
    with NaN, or of only -inf, is NaN; a fully excluded slice is zeros; with several +inf
    entries only the first gets 1.  Index mode follows :func:`numpy.argmax` (the first
    NaN is the maximum; a slice of only -inf gives its first included index) and gives
    -1 for a fully excluded slice.  One pass over the data in the compiled core.

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> cmf.argmax([1.0, 3.0, 3.0, 2.0])               # the first of the tied maxima
    array([0., 1., 0., 0.])
    >>> cmf.argmax([[1.0, 3.0], [5.0, 4.0]], return_indices=True)
    array([1, 0])
    >>> cmf.argmax([[1.0, 3.0], [np.nan, 4.0]])
    array([[ 0.,  1.],
           [nan, nan]])
    >>> cmf.argmax([1.0, 3.0, 2.0], where=[True, False, True])
    array([0., 0., 1.])
    """
    if where is None and not (return_indices and (keepdims or out is not None)):
        r = _k.argmax_common(x, axis, temperature, out, n_threads, return_indices)   # the common call
        if r is not None:
            return r
    a, rdt = as_float_array(x)
    nt = check_n_threads(n_threads)
    plan = P.AxisPlan(a.shape, axis, allow_multiple=False)
    slice_param(temperature, plan, "temperature")
    w = check_where(where, a.shape)
    ax = plan.axis
    if return_indices:
        check_out(out, plan.keep_shape if keepdims else plan.red_shape, np.dtype(np.int64))
    else:
        check_out(out, a.shape, rdt)
    idx, code = _argmax_codes(a, plan, w, nt)
    if return_indices:
        ii = idx.astype(np.int64)
        if not keepdims:
            ii = ii.reshape(plan.red_shape)
        if out is not None:
            out[...] = ii
            return out
        return ii
    hot = np.zeros(a.shape, dtype=a.dtype)
    if a.size:
        good = code == _SLICE_OK
        np.put_along_axis(hot, np.where(good, idx, 0).astype(np.intp), 1, axis=ax)
        hot *= good
        bad = (code == _SLICE_NAN) | (code == _SLICE_ALL_NEGINF)
        hot[np.broadcast_to(bad, a.shape)] = np.nan
        if w is not None:
            hot[~w] = 0                               # excluded entries are 0, as in softmax
    if out is not None:
        np.copyto(out, hot, casting="unsafe")
        return out
    return hot.astype(rdt, copy=False)


def _pair(y, v, vname):
    """The forward output and a (co)tangent, in one compute dtype."""
    ya, yrdt = as_float_array(y, "y")
    va, vrdt = as_float_array(v, vname)
    check_same_shape(va, ya.shape, vname)
    dt = np.promote_types(ya.dtype, va.dtype)
    rdt = np.promote_types(yrdt, vrdt)
    return ya.astype(dt, copy=False), va.astype(dt, copy=False), rdt


def _normalizer_d(y, v, vname, axis, temperature, where, out, kernel, *, alpha=None, zero_masked=True,
                  n_threads=1):
    """Validate and run a normaliser's derivative: ``kernel(y, v, r, t, mask[, alpha])``.
    A kernel with a ``common_op`` first tries _k.normalizer_d_common (the common call,
    without Python in between)."""
    op = getattr(kernel, "common_op", None)
    if where is None and op is not None:
        if alpha is None:
            r = _k.normalizer_d_common(y, v, axis, temperature, out, n_threads, op)
        else:
            al = common_alpha(alpha)
            r = None if al is None else _k.normalizer_d_common(y, v, axis, temperature, out, n_threads, op, al)
        if r is not None:
            return r
    ya, va, rdt = _pair(y, v, vname)
    nt = check_n_threads(n_threads)
    plan = P.AxisPlan(ya.shape, axis, allow_multiple=False)
    t = slice_param(temperature, plan, "temperature")
    al = None if alpha is None else check_alpha(alpha, plan)
    w = check_where(where, ya.shape)
    check_out(out, ya.shape, rdt)
    if ya.size == 0:
        return out if out is not None else np.empty(ya.shape, dtype=rdt)
    target, copy = P.result_array(out, ya.shape, ya.dtype, rdt, inputs=(ya, va), inplace_ok=(0, 1))
    ax = plan.axis
    views = [P.kernel_ready(ya), P.kernel_ready(va), target, P.per_slice(t, ya.shape, ax), P.mask_u8(w)]
    if al is not None:
        views.append(P.per_slice(al, ya.shape, ax))
    P.run_slices(kernel, ax, views, nt)
    if w is not None and zero_masked:
        # y is 0 where masked, so the kernel already gave 0 there; this only enforces it
        # for a y that did not come from the same mask (no input-sized temporary)
        np.multiply(target, w, out=target)
    return P.finish(target, out, copy, rdt)


def _d_kernel(log, jvp):
    def kernel(y, v, r, t, m):
        _k.softmax_d_slices(y, v, r, t, m, log, jvp)
    kernel.common_op = 2 * log + jvp          # _k.normalizer_d_common's op
    return kernel


_SOFTMAX_D = (_d_kernel(False, False), _d_kernel(False, True))
_LOG_SOFTMAX_D = (_d_kernel(True, False), _d_kernel(True, True))


def _softmax_d_kernel(jvp):
    return _SOFTMAX_D[jvp]


def _log_softmax_d_kernel(jvp):
    return _LOG_SOFTMAX_D[jvp]


@_doc.fill(fwd="softmax", v="g")
def softmax_vjp(y, g, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Vector-Jacobian product of :func:`softmax`, from its output.

    With ``y = softmax(x / t)`` along ``axis`` and a cotangent ``g``:

    .. math:: \bar x = \frac{y \odot (g - \langle y, g \rangle)}{t}

    that is ``g^T J`` for the Jacobian ``J = (diag(y) - y y^T) / t``, without forming it.

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
        The gradient with respect to the input of :func:`softmax`, of the shape of ``y``.

    Raises
    ------
    {raises}

    See Also
    --------
    softmax : The forward function.
    softmax_jvp : The Jacobian-vector product (the Jacobian is symmetric).
    softmax_jacobian : The explicit Jacobian.

    Notes
    -----
    One fused pass per slice in the compiled core: the dot product ``<y, g>``, then the
    elementwise formula.  Special values: NaN in ``y`` or ``g`` makes the slice NaN except
    where ``y`` is 0 (those entries always get 0); a slice of one entry gives 0.
    {dtypes_d}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> y = cmf.softmax([1.0, 2.0, 3.0])
    >>> g = np.array([1.0, 0.0, 0.0])
    >>> cmf.softmax_vjp(y, g).round(4)
    array([ 0.0819, -0.022 , -0.0599])
    >>> np.allclose(cmf.softmax_vjp(y, g), g @ cmf.softmax_jacobian(y))
    True
    """
    return _normalizer_d(y, g, "g", axis, temperature, where, out, _softmax_d_kernel(False),
                         n_threads=n_threads)


@_doc.fill(fwd="softmax", v="dx")
def softmax_jvp(y, dx, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Jacobian-vector product of :func:`softmax`, from its output.

    With ``y = softmax(x / t)`` along ``axis`` and a tangent ``dx``:

    .. math:: \dot y = \frac{y \odot (dx - \langle y, dx \rangle)}{t}

    that is ``J dx`` for the (symmetric) Jacobian ``J = (diag(y) - y y^T) / t``.

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
        The directional derivative of :func:`softmax` along ``dx``, of the shape of ``y``.

    Raises
    ------
    {raises}

    See Also
    --------
    softmax : The forward function.
    softmax_vjp : The vector-Jacobian product (the same formula).
    softmax_jacobian : The explicit Jacobian.

    Notes
    -----
    The Jacobian is symmetric, so this is the computation of :func:`softmax_vjp`.
    Special values as there: NaN in ``y`` or ``dx`` makes the slice NaN except where
    ``y`` is 0; a slice of one entry gives 0.
    {dtypes_d}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> y = cmf.softmax([1.0, 2.0, 3.0])
    >>> cmf.softmax_jvp(y, [0.0, 0.0, 1.0]).round(4)
    array([-0.0599, -0.1628,  0.2227])
    >>> np.allclose(cmf.softmax_jvp(y, [1.0, 1.0, 1.0]), 0)   # shifting x changes nothing
    True
    """
    return _normalizer_d(y, dx, "dx", axis, temperature, where, out, _softmax_d_kernel(True),
                         n_threads=n_threads)


@_doc.fill(fwd="log_softmax", v="g")
def log_softmax_vjp(y, g, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Vector-Jacobian product of :func:`log_softmax`, from its output.

    With ``y = log_softmax(x / t)`` along ``axis``, ``p = exp(y)`` and a cotangent ``g``:

    .. math:: \bar x = \frac{g - p \sum_j g_j}{t}

    (the sum over the included entries), that is ``g^T J`` for ``J = (I - 1 p^T) / t``.

    Parameters
    ----------
    {y}
    {g}
    {axis}
    {temperature_fwd}
    {where_lsm}
    {out_d}
    {n_threads}

    Returns
    -------
    ndarray
        The gradient with respect to the input of :func:`log_softmax`, of the shape of
        ``y``.

    Raises
    ------
    {raises}

    See Also
    --------
    log_softmax : The forward function.
    log_softmax_jvp : The Jacobian-vector product.
    log_softmax_jacobian : The explicit Jacobian.

    Notes
    -----
    One fused pass per slice in the compiled core (the sum of ``g``, then the elementwise
    formula).  Special values: NaN in ``y`` or ``g`` makes the slice NaN; an entry with
    ``y = -inf`` has ``p = 0``.
    {dtypes_d}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> y = cmf.log_softmax([1.0, 2.0, 3.0])
    >>> cmf.log_softmax_vjp(y, [0.0, 0.0, 1.0]).round(4)
    array([-0.09  , -0.2447,  0.3348])
    >>> g = np.array([1.0, 2.0, 3.0])
    >>> np.allclose(cmf.log_softmax_vjp(y, g), g @ cmf.log_softmax_jacobian(y))
    True
    """
    return _normalizer_d(y, g, "g", axis, temperature, where, out, _log_softmax_d_kernel(False),
                         zero_masked=False, n_threads=n_threads)


@_doc.fill(fwd="log_softmax", v="dx")
def log_softmax_jvp(y, dx, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Jacobian-vector product of :func:`log_softmax`, from its output.

    With ``y = log_softmax(x / t)`` along ``axis``, ``p = exp(y)`` and a tangent ``dx``:

    .. math:: \dot y = \frac{dx - \langle p, dx \rangle}{t}

    that is ``J dx`` for ``J = (I - 1 p^T) / t``.

    Parameters
    ----------
    {y}
    {dx}
    {axis}
    {temperature_fwd}
    {where_lsm}
    {out_d}
    {n_threads}

    Returns
    -------
    ndarray
        The directional derivative of :func:`log_softmax` along ``dx``, of the shape of
        ``y``.

    Raises
    ------
    {raises}

    See Also
    --------
    log_softmax : The forward function.
    log_softmax_vjp : The vector-Jacobian product.
    log_softmax_jacobian : The explicit Jacobian.

    Notes
    -----
    One fused pass per slice in the compiled core.  Special values: NaN in ``y`` or
    ``dx`` makes the slice NaN; entries with ``y = -inf`` have ``p = 0``.
    {dtypes_d}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> y = cmf.log_softmax([1.0, 2.0, 3.0])
    >>> cmf.log_softmax_jvp(y, [1.0, 0.0, 0.0]).round(4)
    array([ 0.91, -0.09, -0.09])
    >>> dx = np.array([0.5, -1.0, 2.0])
    >>> np.allclose(cmf.log_softmax_jvp(y, dx), cmf.log_softmax_jacobian(y) @ dx)
    True
    """
    return _normalizer_d(y, dx, "dx", axis, temperature, where, out, _log_softmax_d_kernel(True),
                         zero_masked=False, n_threads=n_threads)


def _jacobian_setup(y, axis, temperature, where):
    ya, rdt = as_float_array(y, "y")
    plan = P.AxisPlan(ya.shape, axis, allow_multiple=False)
    t = slice_param(temperature, plan, "temperature")
    w = check_where(where, ya.shape)
    yl = np.moveaxis(ya, plan.axis, -1)
    tl = np.moveaxis(t, plan.axis, -1)[..., None]          # (..., 1, 1)
    wl = None if w is None else np.moveaxis(w, plan.axis, -1)
    return yl, tl, wl, rdt


@_doc.fill(fwd="softmax", yname="y")
def softmax_jacobian(y, axis=-1, *, temperature=1.0, where=None):
    r"""Explicit Jacobian of :func:`softmax`, from its output.

    With ``y = softmax(x / t)`` along ``axis``:

    .. math:: J = \frac{\operatorname{diag}(y) - y y^T}{t}, \qquad
              J_{ij} = \frac{\partial y_i}{\partial x_j} = \frac{y_i (\delta_{ij} - y_j)}{t}

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
    softmax_vjp : The product ``g^T J`` without forming ``J`` (preferred).
    softmax_jvp : The product ``J dx``.

    Notes
    -----
    A NumPy composition (no compiled kernel, no ``n_threads``): it allocates ``n^2``
    entries per slice, so prefer :func:`softmax_vjp` or :func:`softmax_jvp` inside a
    training loop.  ``J`` is symmetric and its rows sum to 0.  NaN in ``y`` propagates;
    rows and columns of entries with ``y = 0`` (-inf or excluded inputs) are 0.

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> y = cmf.softmax([1.0, 2.0, 3.0])
    >>> J = cmf.softmax_jacobian(y)
    >>> J.round(4)
    array([[ 0.0819, -0.022 , -0.0599],
           [-0.022 ,  0.1848, -0.1628],
           [-0.0599, -0.1628,  0.2227]])
    >>> np.allclose(J, J.T), np.allclose(J.sum(axis=1), 0)
    (True, True)
    >>> cmf.softmax_jacobian(np.full((4, 2, 3), 1 / 3), axis=1).shape   # slices along axis 1
    (4, 3, 2, 2)
    """
    yl, tl, wl, rdt = _jacobian_setup(y, axis, temperature, where)
    J = -yl[..., :, None] * yl[..., None, :]
    i = np.arange(yl.shape[-1])
    J[..., i, i] += yl
    J /= tl
    if wl is not None:
        J *= wl[..., :, None] & wl[..., None, :]
    return J.astype(rdt, copy=False)


@_doc.fill(fwd="log_softmax", yname="y")
def log_softmax_jacobian(y, axis=-1, *, temperature=1.0, where=None):
    r"""Explicit Jacobian of :func:`log_softmax`, from its output.

    With ``y = log_softmax(x / t)`` along ``axis`` and ``p = exp(y)``:

    .. math:: J = \frac{I - \mathbf{1} p^T}{t}, \qquad
              J_{ij} = \frac{\partial y_i}{\partial x_j} = \frac{\delta_{ij} - p_j}{t}

    Parameters
    ----------
    {y_jac}
    {axis}
    {temperature_fwd}
    where : array_like of bool, keyword-only
        The mask given to :func:`log_softmax` (default None: all entries included).
        Excluded entries have ``p = 0``, and their rows of ``J`` are 0.

    Returns
    -------
    {returns_jac}

    Raises
    ------
    {raises_jac}

    See Also
    --------
    log_softmax_vjp : The product ``g^T J`` without forming ``J`` (preferred).
    log_softmax_jvp : The product ``J dx``.
    softmax_jacobian : The Jacobian of the probabilities.

    Notes
    -----
    A NumPy composition (no compiled kernel, no ``n_threads``), ``n^2`` entries per
    slice.  NaN in ``y`` propagates.

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> y = cmf.log_softmax([1.0, 2.0, 3.0])
    >>> cmf.log_softmax_jacobian(y).round(4)
    array([[ 0.91  , -0.2447, -0.6652],
           [-0.09  ,  0.7553, -0.6652],
           [-0.09  , -0.2447,  0.3348]])
    >>> p = cmf.softmax([1.0, 2.0, 3.0])
    >>> np.allclose(p[:, None] * cmf.log_softmax_jacobian(y), cmf.softmax_jacobian(p))
    True
    """
    yl, tl, wl, rdt = _jacobian_setup(y, axis, temperature, where)
    p = np.exp(yl)
    if wl is not None:
        p = np.where(wl, p, 0)
    n = yl.shape[-1]
    J = np.broadcast_to(np.eye(n, dtype=yl.dtype), yl.shape + (n,)) - p[..., None, :]
    J = J / tl
    if wl is not None:
        J *= wl[..., :, None]
    return J.astype(rdt, copy=False)
