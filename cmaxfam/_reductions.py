"""The reductions: logsumexp ("good softmax") and softmax_mean ("bad softmax"), with
their VJPs and JVPs."""
from __future__ import annotations

import numpy as np

from . import _docstrings as _doc, _plumbing as P
from ._cy import reductions as _k
from ._validation import (as_float_array, check_n_threads, check_out, check_same_shape, check_weights,
                          check_where, slice_param)

__all__ = ["logsumexp", "logsumexp_vjp", "logsumexp_jvp",
           "softmax_mean", "softmax_mean_vjp", "softmax_mean_jvp"]


def _with_b(x, b):
    return check_weights(b, as_float_array(x, "a"))


@_doc.fill()
def logsumexp(a, axis=-1, b=None, keepdims=False, return_sign=False, *, temperature=1.0,
              where=None, out=None, n_threads=1):
    r"""Log of the sum of exponentials ("good softmax"), with weights and a temperature.

    For each slice ``x`` of ``a`` along ``axis``, weights ``b`` (default 1) and temperature
    ``t``:

    .. math:: \operatorname{lse}(x) = t \log \sum_i b_i \exp(x_i / t)

    a smooth upper bound of ``max x`` (``max x <= lse(x) <= max x + t log n`` for ``b = 1``)
    whose gradient is the softmax.  Takes the arguments of
    :func:`scipy.special.logsumexp` (``axis``, ``b``, ``keepdims``, ``return_sign``) in the
    same order and agrees with it.

    Parameters
    ----------
    a : array_like
        Input array.  float16, float32 and float64 keep their dtype (float16 is computed in
        float32); integers and bools are computed and returned as float64.
    {axis_multi}
    b : array_like, optional
        Weights broadcastable to ``a`` (default None: all 1).  They may be negative (see
        ``return_sign``); entries with ``b == 0`` are left out, even where ``a`` is inf or
        NaN.
    {keepdims}
    return_sign : bool, optional
        Also return the sign of the sum (default False); the value is then ``t log|sum|``.
        Without it, a negative sum gives NaN.
    {temperature}
    {where_red}
    {out_red}
    {n_threads}

    Returns
    -------
    res : ndarray or numpy.floating
        The value per slice: the shape of ``a`` without the reduced axes (or with length 1
        there when ``keepdims``), a NumPy scalar when that is 0-d; the float dtype of ``a``
        and ``b``.
    sgn : ndarray or numpy.floating
        Only with ``return_sign``: the sign of the sum, +1, -1, or 0 for an empty or zero
        sum; the shape and dtype of ``res``.

    Raises
    ------
    {raises}

    See Also
    --------
    logsumexp_vjp : The vector-Jacobian product (the gradient is the softmax).
    softmax : The normalised exponentials.
    softmax_mean : The smooth lower bound of the max.
    smoothed_max : The family of smoothed maxima (``alpha = 1`` is this function).
    scipy.special.logsumexp : The reference implementation.

    Notes
    -----
    With ``m = max x`` (over the entries with nonzero weight), the entries equal to ``m``
    are summed apart (``c``, their weights) from the others (``s``):
    ``lse = m + t (log c + log1p(s / c))``, which keeps terms far below ``m`` that
    ``log(c + s)`` would round away (scipy gh-18295) [1]_.  The exponential is a branch-free
    polynomial in the compiled core.

    Special values: NaN in a slice gives NaN; +inf entries give +inf; a slice of only
    -inf, an empty slice, or one with every entry excluded gives -inf; a zero sum gives
    -inf (``sgn = 0``); a slice of one entry gives it back (``x + t log b``).  Inputs near
    the float range (+-1e38 in float32, +-1e308 in float64) never overflow, and a tiny
    temperature gives ``max x``.

    References
    ----------
    {ref_blanchard2021 1}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> float(cmf.logsumexp([1.0, 2.0, 3.0, 4.0]).round(4))
    4.4402
    >>> float(cmf.logsumexp([0.0, -40.0]))          # log1p keeps the tiny term
    4.248354255291589e-18
    >>> x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    >>> cmf.logsumexp(x).round(4)                   # one value per row
    array([3.4076, 1.0986])
    >>> float(cmf.logsumexp(x, axis=None).round(4))   # all axes, as SciPy
    3.5023
    >>> float(cmf.logsumexp([1.0, 2.0], temperature=0.01))   # t -> 0: the max
    2.0

    Negative weights, with the sign of the sum:

    >>> val, sgn = cmf.logsumexp([1.0, 2.0], b=[1.0, -1.0], return_sign=True)
    >>> float(sgn), bool(np.isclose(val, np.log(np.exp(2.0) - np.exp(1.0))))
    (-1.0, True)
    """
    if b is None and where is None and not keepdims and not return_sign:
        r = _k.logsumexp_common(a, axis, temperature, out, n_threads)    # the common call
        if r is not None:
            return r
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


@_doc.fill(fwd="logsumexp")
def logsumexp_vjp(a, lse, g, axis=-1, *, b=None, sign=None, temperature=1.0, where=None, out=None,
                  n_threads=1):
    r"""Vector-Jacobian product of :func:`logsumexp`.

    With ``lse`` (and ``sign``) what :func:`logsumexp` returned for the input ``a`` and a
    cotangent ``g`` per slice:

    .. math:: \bar a_i = g \cdot \mathrm{sign} \cdot b_i
              \exp\big((a_i - \operatorname{lse}) / t\big)

    for ``b = 1`` the softmax of ``a / t`` times ``g``.

    Parameters
    ----------
    {lse_a}
    g : float or array_like
        The cotangent of ``lse``: one value per slice (the reduced or keepdims shape).
    {axis_multi}
    {lse_b_sign_t}
    where : array_like of bool, keyword-only
        The mask given to :func:`logsumexp` (default None: all entries included).
        Excluded entries get exactly 0.
    {out_red_grad}
    {n_threads}

    Returns
    -------
    ndarray
        The gradient with respect to ``a``, of the shape of ``a``; the widest float dtype
        of ``a``, ``b`` and ``g``.

    Raises
    ------
    {raises}

    See Also
    --------
    logsumexp : The forward function.
    logsumexp_jvp : The Jacobian-vector product.
    softmax : The gradient itself, for ``g = 1``.

    Notes
    -----
    One pass per slice in the compiled core, from the forward value: no second reduction.
    Special values: NaN in a slice (of ``a`` or ``lse``) gives NaN; +inf entries share
    ``g`` equally and the others get 0; -inf entries get 0, and so does a slice of only
    -inf (where :func:`softmax` would give NaN: its value -inf does not move).

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    >>> lse = cmf.logsumexp(x)
    >>> cmf.logsumexp_vjp(x, lse, [1.0, 2.0]).round(4)
    array([[0.09  , 0.2447, 0.6652],
           [0.6667, 0.6667, 0.6667]])
    >>> np.allclose(cmf.logsumexp_vjp(x, lse, 1.0), cmf.softmax(x))
    True
    """
    return _lse_d(a, lse, g, axis, b, sign, temperature, where, False, out, False, n_threads)


@_doc.fill(fwd="logsumexp", x="a", dtypes="widest float dtype of ``a``, ``b`` and ``dx``")
def logsumexp_jvp(a, lse, dx, axis=-1, *, b=None, sign=None, temperature=1.0, where=None,
                  keepdims=False, out=None, n_threads=1):
    r"""Jacobian-vector product of :func:`logsumexp`.

    With ``lse`` (and ``sign``) what :func:`logsumexp` returned for the input ``a`` and a
    tangent ``dx`` of the shape of ``a``, per slice:

    .. math:: \dot{\operatorname{lse}} = \mathrm{sign} \sum_i b_i
              \exp\big((a_i - \operatorname{lse}) / t\big)\, dx_i

    for ``b = 1`` the softmax-weighted mean ``<softmax(a / t), dx>``.

    Parameters
    ----------
    {lse_a}
    {dx_red}
    {axis_multi}
    {lse_b_sign_t}
    where : array_like of bool, keyword-only
        The mask given to :func:`logsumexp` (default None: all entries included).
        Excluded entries do not contribute.
    {keepdims_kw}
    {out_red}
    {n_threads}

    Returns
    -------
    {returns_red_jvp}

    Raises
    ------
    {raises}

    See Also
    --------
    logsumexp : The forward function.
    logsumexp_vjp : The vector-Jacobian product.

    Notes
    -----
    One pass per slice in the compiled core.  Special values as for
    :func:`logsumexp_vjp`: NaN gives NaN; a slice of only -inf gives 0.

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    >>> lse = cmf.logsumexp(x)
    >>> cmf.logsumexp_jvp(x, lse, [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]).round(4)
    array([0.09  , 0.3333])
    >>> np.allclose(cmf.logsumexp_jvp(x, lse, np.ones_like(x)), 1)   # lse(x + c) = lse(x) + c
    True
    """
    return _lse_d(a, lse, dx, axis, b, sign, temperature, where, keepdims, out, True, n_threads)


@_doc.fill()
def softmax_mean(x, axis=-1, *, temperature=1.0, where=None, keepdims=False, out=None, n_threads=1):
    r"""The softmax-weighted mean ("bad softmax") along an axis, with a temperature.

    For each slice ``x`` along ``axis`` and temperature ``t``:

    .. math:: f(x) = \langle x, \operatorname{softmax}(x / t) \rangle
              = \sum_i x_i \frac{\exp(x_i / t)}{\sum_j \exp(x_j / t)}

    a smooth lower bound of ``max x``, while :func:`logsumexp` is an upper bound:
    ``softmax_mean(x) <= max x <= logsumexp(x)``; both tend to ``max x`` as ``t`` goes to 0.

    Parameters
    ----------
    {x}
    {axis_multi}
    {temperature}
    {where_red}
    {keepdims_kw}
    {out_red}
    {n_threads}

    Returns
    -------
    ndarray or numpy.floating
        The value per slice: the shape of ``x`` without the reduced axes (or with length 1
        there when ``keepdims``), a NumPy scalar when that is 0-d; the float dtype of ``x``.

    Raises
    ------
    {raises}

    See Also
    --------
    logsumexp : The smooth upper bound of the max.
    softmax_mean_vjp : The vector-Jacobian product.
    softmax : The weights.

    Notes
    -----
    One fused pass per slice in the compiled core, shifted by the maximum as
    :func:`softmax`; terms of probability 0 contribute 0 (never ``0 * -inf``).

    Special values: NaN in a slice gives NaN; +inf entries give +inf; a slice of only
    -inf, an empty slice, or one with every entry excluded gives -inf; a slice of one
    entry gives it back.  Inputs near the float range never overflow, and a tiny
    temperature gives ``max x``.

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> x = [1.0, 2.0, 3.0, 4.0]
    >>> float(cmf.softmax_mean(x).round(4)), float(cmf.logsumexp(x).round(4))
    (3.4927, 4.4402)
    >>> float(cmf.softmax_mean(x, temperature=0.01))
    4.0
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


@_doc.fill(fwd="softmax_mean")
def softmax_mean_vjp(x, f, g, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Vector-Jacobian product of :func:`softmax_mean`.

    With ``f`` what :func:`softmax_mean` returned for the input ``x``,
    ``p = softmax(x / t)`` and a cotangent ``g`` per slice:

    .. math:: \bar x_i = g\, p_i \Big(1 + \frac{x_i - f}{t}\Big)

    Parameters
    ----------
    {sm_x}
    g : float or array_like
        The cotangent of ``f``: one value per slice (the reduced or keepdims shape).
    {axis_multi}
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
    {raises}

    See Also
    --------
    softmax_mean : The forward function.
    softmax_mean_jvp : The Jacobian-vector product.

    Notes
    -----
    One pass per slice in the compiled core, from the forward value.  Special values:
    NaN gives NaN; +inf entries share ``g`` equally (the limit) and the others get 0;
    -inf entries get 0; a slice of only -inf gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([1.0, 2.0, 0.5])
    >>> f = cmf.softmax_mean(x)
    >>> cmf.softmax_mean_vjp(x, f, 1.0).round(4)
    array([ 0.1021,  0.9061, -0.0082])

    It is the gradient (a central difference agrees):

    >>> h = 1e-6
    >>> sm = cmf.softmax_mean
    >>> fd = [(sm(x + h * e) - sm(x - h * e)) / (2 * h) for e in np.eye(3)]
    >>> np.allclose(cmf.softmax_mean_vjp(x, f, 1.0), fd)
    True
    """
    return _sm_d(x, f, g, axis, temperature, where, False, out, False, n_threads)


@_doc.fill(fwd="softmax_mean", x="x", dtypes="wider float dtype of ``x`` and ``dx``")
def softmax_mean_jvp(x, f, dx, axis=-1, *, temperature=1.0, where=None, keepdims=False, out=None,
                     n_threads=1):
    r"""Jacobian-vector product of :func:`softmax_mean`.

    With ``f`` what :func:`softmax_mean` returned for the input ``x``,
    ``p = softmax(x / t)`` and a tangent ``dx`` of the shape of ``x``, per slice:

    .. math:: \dot f = \sum_i p_i \Big(1 + \frac{x_i - f}{t}\Big)\, dx_i

    Parameters
    ----------
    {sm_x}
    {dx_red}
    {axis_multi}
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
    {raises}

    See Also
    --------
    softmax_mean : The forward function.
    softmax_mean_vjp : The vector-Jacobian product.

    Notes
    -----
    One pass per slice in the compiled core.  Special values as for
    :func:`softmax_mean_vjp`.

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]])
    >>> f = cmf.softmax_mean(x)
    >>> cmf.softmax_mean_jvp(x, f, [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]).round(4)
    array([0.1021, 0.3333])
    >>> np.allclose(cmf.softmax_mean_jvp(x, f, np.ones_like(x)), 1)   # f(x + c) = f(x) + c
    True
    """
    return _sm_d(x, f, dx, axis, temperature, where, keepdims, out, True, n_threads)
