"""The normalisers: argmax, softmax, log_softmax, with their VJPs, JVPs and Jacobians."""
from __future__ import annotations

import numpy as np

from . import _plumbing as P
from ._cy import normalizers as _k
from ._validation import (as_float_array, check_alpha, check_n_threads, check_out, check_same_shape,
                          check_where, slice_param)

__all__ = [
    "argmax", "softmax", "log_softmax",
    "softmax_vjp", "softmax_jvp", "softmax_jacobian",
    "log_softmax_vjp", "log_softmax_jvp", "log_softmax_jacobian",
]

_SLICE_OK, _SLICE_NAN, _SLICE_ALL_NEGINF, _SLICE_EMPTY = 0, 1, 2, 3


def _normalize(x, axis, temperature, where, out, kernel, *, alpha=None, allow_multiple=True,
               n_threads=1):
    """Validate, plan and run a normaliser: ``kernel(x, out, t, mask[, alpha])`` on 3-D views."""
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


def softmax(x, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Softmax (soft-arg-max) along an axis, with temperature.

    .. math:: p_i = \frac{\exp(x_i / t)}{\sum_j \exp(x_j / t)}

    computed as ``exp((x_i - max x) / t)`` so that nothing overflows.

    Parameters
    ----------
    x : array_like
        Input (float16/32/64 keep their type; integers and bools become float64).
    axis : int, tuple of ints or None, optional
        Axis or axes of the slices (default: the last).  None means all axes.
    temperature : float or array_like, keyword-only
        Positive and finite; a scalar, or an array broadcastable to the slices.
    where : array_like of bool, keyword-only
        Entries to include; excluded entries get probability exactly 0, and a slice with
        no included entry gives zeros.
    out : ndarray, keyword-only
        Where to write the result (same shape and dtype as the result; may be ``x``).

    Returns
    -------
    ndarray
        Probabilities, the shape and (float) dtype of ``x``.

    Notes
    -----
    Special values: NaN in a slice gives NaN for the slice; +inf entries share the mass
    equally; -inf entries get 0; a slice of only -inf gives NaN; n = 1 gives 1.

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> cmf.softmax([1.0, 2.0, 3.0]).round(3)
    array([0.09 , 0.245, 0.665])
    >>> cmf.softmax([1000.0, 2000.0, 3000.0])
    array([0., 0., 1.])
    """
    return _normalize(x, axis, temperature, where, out, _softmax_kernel, n_threads=n_threads)


def log_softmax(x, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Log of the softmax: ``z_i - logsumexp(z)`` with ``z = x / t``.

    Computed as ``(x_i - max x)/t - log(sum exp((x - max x)/t))``, never as
    ``log(softmax(x))``, so large gaps give large negative values, not -inf.
    Parameters and special values as :func:`softmax`; excluded (``where``) entries give
    -inf, and a slice with no included entry gives -inf throughout.

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> cmf.log_softmax([0.0, -200.0]).round(6)
    array([   0., -200.])
    """
    return _normalize(x, axis, temperature, where, out, _log_softmax_kernel, n_threads=n_threads)


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


def argmax(x, axis=-1, *, temperature=1.0, where=None, return_indices=False, keepdims=False, out=None,
           n_threads=1):
    """Argmax along an axis: a one-hot array of the first maximal index (default), or
    the indices (``return_indices=True``).

    One-hot mode follows the special values of :func:`softmax`: a slice with NaN, or of
    only -inf, is NaN; a fully excluded slice (``where``) is all zeros.  One deviation:
    with several +inf entries, only the first gets 1 (the first maximal index).
    Index mode follows :func:`numpy.argmax` (the first NaN wins; an all -inf slice gives
    its first included index) and gives -1 for a fully excluded slice.
    ``temperature`` is accepted for uniformity with the family (argmax(x/t) = argmax(x))
    and validated.

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> cmf.argmax([1.0, 3.0, 3.0, 2.0])
    array([0., 1., 0., 0.])
    >>> cmf.argmax([[1.0, 3.0], [5.0, 4.0]], return_indices=True)
    array([1, 0])
    """
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
    """Validate and run a normaliser's derivative: ``kernel(y, v, r, t, mask[, alpha])``."""
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


def _softmax_d_kernel(jvp):
    return lambda y, v, r, t, m: _k.softmax_d_slices(y, v, r, t, m, False, jvp)


def _log_softmax_d_kernel(jvp):
    return lambda y, v, r, t, m: _k.softmax_d_slices(y, v, r, t, m, True, jvp)


def softmax_vjp(y, g, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Vector-Jacobian product of :func:`softmax`, from its output ``y``.

    .. math:: \bar x = y \odot (g - \langle y, g\rangle) / t

    Examples
    --------
    >>> import numpy as np, cmaxfam as cmf
    >>> y = cmf.softmax([1.0, 2.0, 3.0])
    >>> cmf.softmax_vjp(y, [1.0, 0.0, 0.0]).round(4)
    array([ 0.0819, -0.022 , -0.0599])
    """
    return _normalizer_d(y, g, "g", axis, temperature, where, out, _softmax_d_kernel(False),
                         n_threads=n_threads)


def softmax_jvp(y, dx, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Jacobian-vector product of :func:`softmax`: ``y * (dx - <y, dx>) / t``."""
    return _normalizer_d(y, dx, "dx", axis, temperature, where, out, _softmax_d_kernel(True),
                         n_threads=n_threads)


def log_softmax_vjp(y, g, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Vector-Jacobian product of :func:`log_softmax`, from its output ``y``:
    ``(g - exp(y) * sum(g)) / t`` (sums over the included entries)."""
    return _normalizer_d(y, g, "g", axis, temperature, where, out, _log_softmax_d_kernel(False),
                         zero_masked=False, n_threads=n_threads)


def log_softmax_jvp(y, dx, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Jacobian-vector product of :func:`log_softmax`: ``(dx - <exp(y), dx>) / t``."""
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


def softmax_jacobian(y, axis=-1, *, temperature=1.0, where=None):
    r"""Explicit Jacobian of :func:`softmax` from its output: ``(diag(y) - y y^T) / t``,
    of shape ``(..., n, n)`` (the slice axis moved last; ``J[..., i, j] = dy_i/dx_j``)."""
    yl, tl, wl, rdt = _jacobian_setup(y, axis, temperature, where)
    J = -yl[..., :, None] * yl[..., None, :]
    i = np.arange(yl.shape[-1])
    J[..., i, i] += yl
    J /= tl
    if wl is not None:
        J *= wl[..., :, None] & wl[..., None, :]
    return J.astype(rdt, copy=False)


def log_softmax_jacobian(y, axis=-1, *, temperature=1.0, where=None):
    r"""Explicit Jacobian of :func:`log_softmax` from its output: ``(I - 1 p^T) / t`` with
    ``p = exp(y)``; rows of excluded entries are 0.  Shape ``(..., n, n)``."""
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
