"""The reductions: logsumexp ("good softmax") and softmax_mean ("bad softmax"), with
their VJPs and JVPs."""
from __future__ import annotations

import numpy as np

from . import _plumbing as P
from ._cy import reductions as _k
from ._validation import (as_float_array, check_n_threads, check_out, check_same_shape, check_weights,
                          check_where, slice_param)

__all__ = ["logsumexp", "logsumexp_vjp", "logsumexp_jvp",
           "softmax_mean", "softmax_mean_vjp", "softmax_mean_jvp"]


def _with_b(x, b):
    return check_weights(b, as_float_array(x, "a"))


def logsumexp(a, axis=-1, b=None, keepdims=False, return_sign=False, *, temperature=1.0,
              where=None, out=None, n_threads=1):
    r"""Log of the sum of exponentials along an axis, with optional weights and temperature.

    .. math:: \operatorname{lse}(x) = t \log \sum_i b_i \exp(x_i / t)

    Takes the arguments of :func:`scipy.special.logsumexp` (``axis``, ``b``, ``keepdims``,
    ``return_sign``) and agrees with it; the default axis is the last one.

    Parameters
    ----------
    a : array_like
        Input.
    axis : int, tuple of ints or None, optional
        Axis or axes to reduce (default -1; None reduces all).
    b : array_like, optional
        Weights broadcastable to ``a``; may be negative (see ``return_sign``); entries with
        ``b == 0`` are ignored, even when ``a`` is inf or NaN there.
    keepdims : bool, optional
        Keep the reduced axes with length 1.
    return_sign : bool, optional
        Also return the sign of the sum; the value is then ``log|sum|``.  Without it, a
        negative sum gives NaN.
    temperature : float or array_like, keyword-only
        Positive and finite, broadcastable to the slices.
    where : array_like of bool, keyword-only
        Entries to include.
    out : ndarray, keyword-only
        Output for the value.

    Returns
    -------
    res : ndarray or scalar
    sgn : ndarray or scalar
        Only with ``return_sign``: +1, -1, or 0 for an empty/zero sum.

    Notes
    -----
    The entries equal to the maximum ``m`` are summed apart (``c``) from the others
    (``s``): ``lse = m + t (log c + log1p(s / c))``, which keeps tiny terms (scipy
    gh-18295).  Special values: NaN gives NaN; +inf gives +inf; a slice of only -inf, an
    empty slice, or a fully excluded one gives -inf.

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> float(cmf.logsumexp([1.0, 2.0, 3.0, 4.0]).round(4))
    4.4402
    >>> float(cmf.logsumexp([0.0, -40.0]))
    4.248354255291589e-18
    """
    x, bb, rdt = _with_b(a, b)
    nt = check_n_threads(n_threads)
    plan = P.AxisPlan(x.shape, axis, allow_multiple=True)
    t = slice_param(temperature, plan, "temperature")
    w = check_where(where, x.shape)
    check_out(out, plan.keep_shape if keepdims else plan.red_shape, rdt)
    lse = np.full(plan.keep_shape, -np.inf)
    # the sign is only needed when it can be negative (weights) or is asked for
    sgn = np.zeros(plan.keep_shape) if (return_sign or bb is not None) else None
    if x.size:
        ws, wk = plan.work_shape, plan.work_keep_shape
        ax = plan.axis
        P.run_slices(_k.logsumexp_slices, ax, [
            P.kernel_ready(plan.to_work(x)), P.kernel_ready(plan.to_work(bb)),
            P.per_slice(plan.keep_to_work(t), ws, ax), P.mask_u8(plan.to_work(w)),
            P.per_slice(lse.reshape(wk), ws, ax),
            None if sgn is None else P.per_slice(sgn.reshape(wk), ws, ax)], nt)
    if not return_sign:
        if sgn is not None:
            lse[sgn < 0] = np.nan                     # log of a negative sum (as scipy)
        return P.finish_per_slice(lse, plan, keepdims, out, rdt)
    if not x.size:
        sgn[...] = 0.0
    sign = sgn if keepdims else sgn.reshape(plan.red_shape)
    sign = sign.astype(rdt)
    return P.finish_per_slice(lse, plan, keepdims, out, rdt), (sign[()] if sign.ndim == 0 else sign)


def _promote_with(v, dt, rdt):
    """Compute and result dtypes of a derivative whose cotangent is ``v``: the wider of
    the input's and the cotangent's, as for every other derivative."""
    va, vrdt = as_float_array(v, "g")
    return np.promote_types(dt, va.dtype), np.promote_types(rdt, vrdt)


def _per_slice_input(v, plan, name):
    return slice_param(v, plan, name, check=False)


def _lse_d(x, lse, v, axis, b, sign, temperature, where, keepdims, out, jvp, n_threads):
    xx, bb, rdt = _with_b(x, b)
    nt = check_n_threads(n_threads)
    plan = P.AxisPlan(xx.shape, axis, allow_multiple=True)
    t = slice_param(temperature, plan, "temperature")
    w = check_where(where, xx.shape)
    L = _per_slice_input(lse, plan, "lse")
    S = np.ones(plan.keep_shape) if sign is None else _per_slice_input(sign, plan, "sign")
    if jvp:
        va, vrdt = as_float_array(v, "dx")
        check_same_shape(va, xx.shape, "dx")
        dt, rdt = np.promote_types(xx.dtype, va.dtype), np.promote_types(rdt, vrdt)
        va = va.astype(dt, copy=False)
        check_out(out, plan.keep_shape if keepdims else plan.red_shape, rdt)
    else:
        V = _per_slice_input(v, plan, "g")
        dt, rdt = _promote_with(v, xx.dtype, rdt)
        check_out(out, xx.shape, rdt)
    xx, bb = xx.astype(dt, copy=False), None if bb is None else bb.astype(dt, copy=False)
    ws, wk, ax = plan.work_shape, plan.work_keep_shape, plan.axis
    common = [P.kernel_ready(plan.to_work(xx)), P.kernel_ready(plan.to_work(bb)),
              P.per_slice(plan.keep_to_work(t), ws, ax), P.mask_u8(plan.to_work(w)),
              P.per_slice(plan.keep_to_work(L), ws, ax), P.per_slice(plan.keep_to_work(S), ws, ax)]
    if jvp:
        res = np.zeros(plan.keep_shape)
        if xx.size:
            P.run_slices(lambda xv, bv, tv, mv, lv, sv, vv, rv: _k.logsumexp_d_slices(
                xv, bv, tv, mv, lv, sv, vv, None, None, rv), ax, common + [
                P.kernel_ready(plan.to_work(va)), P.per_slice(res.reshape(wk), ws, ax)], nt)
        return P.finish_per_slice(res, plan, keepdims, out, rdt)
    if xx.size == 0:
        return out if out is not None else np.empty(xx.shape, dtype=rdt)
    if plan.single:
        target, copy = P.result_array(out, xx.shape, xx.dtype, rdt, inputs=(xx, bb), inplace_ok=(0, 1))
    else:
        target, copy = np.empty(ws, dtype=xx.dtype), out is not None
    P.run_slices(lambda xv, bv, tv, mv, lv, sv, gv, rv: _k.logsumexp_d_slices(
        xv, bv, tv, mv, lv, sv, None, gv, rv, None), ax, common + [
        P.per_slice(plan.keep_to_work(V), ws, ax), target], nt)
    return P.finish(plan.from_work(target), out, copy, rdt)


def logsumexp_vjp(a, lse, g, axis=-1, *, b=None, sign=None, temperature=1.0, where=None, out=None,
                  n_threads=1):
    r"""Vector-Jacobian product of :func:`logsumexp`.

    ``d lse / d a_i = sign * b_i * exp((a_i - lse) / t)`` (the softmax); ``lse`` (and
    ``sign`` when ``b`` has negative entries) are what :func:`logsumexp` returned, and
    ``g`` is the cotangent of ``lse`` (reduced shape, or keepdims shape).

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> x = [1.0, 2.0, 3.0]
    >>> cmf.logsumexp_vjp(x, cmf.logsumexp(x), 1.0).round(3)
    array([0.09 , 0.245, 0.665])
    """
    return _lse_d(a, lse, g, axis, b, sign, temperature, where, False, out, False, n_threads)


def logsumexp_jvp(a, lse, dx, axis=-1, *, b=None, sign=None, temperature=1.0, where=None,
                  keepdims=False, out=None, n_threads=1):
    r"""Jacobian-vector product of :func:`logsumexp`: ``<softmax, dx>`` per slice."""
    return _lse_d(a, lse, dx, axis, b, sign, temperature, where, keepdims, out, True, n_threads)


def softmax_mean(x, axis=-1, *, temperature=1.0, where=None, keepdims=False, out=None, n_threads=1):
    r"""The softmax-weighted mean ("bad softmax" of the seeds): ``<x, softmax(x / t)>``.

    A smooth lower bound of ``max x`` (while ``logsumexp`` is an upper bound).  Terms with
    probability 0 contribute 0 (never ``0 * -inf``).  Special values: NaN gives NaN; +inf
    entries give +inf; a slice of only -inf, an empty or a fully excluded slice gives -inf.

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> float(cmf.softmax_mean([1.0, 2.0, 3.0, 4.0]).round(4))
    3.4927
    """
    a, rdt = as_float_array(x)
    nt = check_n_threads(n_threads)
    plan = P.AxisPlan(a.shape, axis, allow_multiple=True)
    t = slice_param(temperature, plan, "temperature")
    w = check_where(where, a.shape)
    check_out(out, plan.keep_shape if keepdims else plan.red_shape, rdt)
    f = np.full(plan.keep_shape, -np.inf)
    if a.size:
        ws, wk, ax = plan.work_shape, plan.work_keep_shape, plan.axis
        P.run_slices(_k.softmax_mean_slices, ax, [
            P.kernel_ready(plan.to_work(a)), P.per_slice(plan.keep_to_work(t), ws, ax),
            P.mask_u8(plan.to_work(w)), P.per_slice(f.reshape(wk), ws, ax)], nt)
    return P.finish_per_slice(f, plan, keepdims, out, rdt)


def _sm_d(x, f, v, axis, temperature, where, keepdims, out, jvp, n_threads):
    a, rdt = as_float_array(x)
    nt = check_n_threads(n_threads)
    plan = P.AxisPlan(a.shape, axis, allow_multiple=True)
    t = slice_param(temperature, plan, "temperature")
    w = check_where(where, a.shape)
    F = _per_slice_input(f, plan, "f")
    if jvp:
        va, vrdt = as_float_array(v, "dx")
        check_same_shape(va, a.shape, "dx")
        dt, rdt = np.promote_types(a.dtype, va.dtype), np.promote_types(rdt, vrdt)
        va = va.astype(dt, copy=False)
    else:
        dt, rdt = _promote_with(v, a.dtype, rdt)
    a = a.astype(dt, copy=False)
    ws, wk, ax = plan.work_shape, plan.work_keep_shape, plan.axis
    common = [P.kernel_ready(plan.to_work(a)), P.per_slice(plan.keep_to_work(t), ws, ax),
              P.mask_u8(plan.to_work(w)), P.per_slice(plan.keep_to_work(F), ws, ax)]
    if jvp:
        check_out(out, plan.keep_shape if keepdims else plan.red_shape, rdt)
        res = np.zeros(plan.keep_shape)
        if a.size:
            P.run_slices(lambda xv, tv, mv, fv, vv, rv: _k.softmax_mean_d_slices(
                xv, tv, mv, fv, vv, None, None, rv), ax, common + [
                P.kernel_ready(plan.to_work(va)), P.per_slice(res.reshape(wk), ws, ax)], nt)
        return P.finish_per_slice(res, plan, keepdims, out, rdt)
    V = _per_slice_input(v, plan, "g")
    check_out(out, a.shape, rdt)
    if a.size == 0:
        return out if out is not None else np.empty(a.shape, dtype=rdt)
    if plan.single:
        target, copy = P.result_array(out, a.shape, a.dtype, rdt, inputs=(a,))
    else:
        target, copy = np.empty(ws, dtype=a.dtype), out is not None
    P.run_slices(lambda xv, tv, mv, fv, gv, rv: _k.softmax_mean_d_slices(
        xv, tv, mv, fv, None, gv, rv, None), ax, common + [
        P.per_slice(plan.keep_to_work(V), ws, ax), target], nt)
    return P.finish(plan.from_work(target), out, copy, rdt)


def softmax_mean_vjp(x, f, g, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Vector-Jacobian product of :func:`softmax_mean` from the input ``x``, its value
    ``f`` and the cotangent ``g``: ``g * p_i * (1 + (x_i - f) / t)``, ``p = softmax(x/t)``.

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> x = [1.0, 2.0]
    >>> cmf.softmax_mean_vjp(x, cmf.softmax_mean(x), 1.0).round(4)
    array([0.0723, 0.9277])
    """
    return _sm_d(x, f, g, axis, temperature, where, False, out, False, n_threads)


def softmax_mean_jvp(x, f, dx, axis=-1, *, temperature=1.0, where=None, keepdims=False, out=None,
                     n_threads=1):
    r"""Jacobian-vector product of :func:`softmax_mean`: ``sum_i p_i (1 + (x_i - f)/t) dx_i``."""
    return _sm_d(x, f, dx, axis, temperature, where, keepdims, out, True, n_threads)
