"""The sparse normalisers: sparsemax, 1.5-entmax and alpha-entmax, with their VJPs, JVPs
and Jacobians.  Kernels in src/sparse.tmpl.c (no sort: threshold passes)."""
from __future__ import annotations

import numpy as np

from . import _plumbing as P
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


def sparsemax(x, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Sparsemax: the Euclidean projection of ``z = x / t`` onto the probability simplex.

    .. math:: p = \arg\min_{p \in \Delta} \|p - z\|^2 = [z - \tau]_+,\quad \sum_i p_i = 1

    The threshold is found without sorting: Michelot's iteration from the lower bound
    ``tau = max z - 1``, one vectorised pass per step, exact when the support stops
    changing (Martins & Astudillo 2016; Condat 2016).  Entries outside the support are
    exactly 0.  Parameters and special values as :func:`cmaxfam.softmax`.

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> cmf.sparsemax([0.5, 1.0, -1.0])
    array([0.25, 0.75, 0.  ])
    """
    return _normalize(x, axis, temperature, where, out, _sparsemax_kernel, allow_multiple=False,
                      n_threads=n_threads)


def entmax15(x, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""1.5-entmax of ``x / t``: ``p = [z/2 - tau]_+^2`` (Peters et al. 2019), solved
    exactly (the quadratic's closed form on the support found by the root finder).

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> cmf.entmax15([2.0, 1.5, -1.0]).round(4)
    array([0.674, 0.326, 0.   ])
    """
    return _normalize(x, axis, temperature, where, out, _entmax_kernel, alpha=1.5, allow_multiple=False,
                      n_threads=n_threads)


def entmax(x, alpha=1.5, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""alpha-entmax of ``x / t``: ``argmax_{p in simplex} <p, z> + H_alpha(p)`` =
    ``[(alpha - 1) z - tau]_+^(1/(alpha-1))``.

    ``alpha`` >= 1 (finite), a scalar or an array broadcastable to the slices.  A scalar
    alpha = 1 is :func:`softmax` and alpha = 2 :func:`sparsemax`, bitwise (the same calls);
    slices of a per-slice alpha array equal to 1 or 2 use the same row kernels (equal to
    rounding: softmax batches short slices differently).  Large alpha approaches argmax.  Other alphas: a bracketed Halley
    (alpha < 2) or Newton (alpha > 2) root finder on the threshold, on the active set,
    after shifting by the maximum (so huge magnitudes cannot lose precision).

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> cmf.entmax([2.0, 1.5, -1.0], alpha=2)      # = sparsemax
    array([0.75, 0.25, 0.  ])
    """
    al = np.asarray(alpha)
    if al.ndim == 0 and al.dtype.kind in "iuf" and float(al) in (1.0, 2.0):
        # the very same computation as softmax / sparsemax (bitwise, whatever the layout);
        # a per-slice alpha array goes through the entmax kernel, which dispatches each
        # slice to the same row kernels (equal to rounding: softmax batches short slices)
        f = softmax if float(al) == 1.0 else sparsemax
        return f(x, axis, temperature=temperature, where=where, out=out, n_threads=n_threads)
    return _normalize(x, axis, temperature, where, out, _entmax_kernel, alpha=alpha, allow_multiple=False,
                      n_threads=n_threads)


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


def sparsemax_vjp(y, g, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    """VJP of :func:`sparsemax` from its output: ``g - mean(g over the support)`` on the
    support, 0 elsewhere, divided by t."""
    return _normalizer_d(y, g, "g", axis, temperature, where, out, _entmax_d_kernel, alpha=2.0,
                         n_threads=n_threads)


def sparsemax_jvp(y, dx, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    """JVP of :func:`sparsemax` (its Jacobian is symmetric: the same formula)."""
    return _normalizer_d(y, dx, "dx", axis, temperature, where, out, _entmax_d_kernel, alpha=2.0,
                         n_threads=n_threads)


def entmax15_vjp(y, g, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    """VJP of :func:`entmax15` from its output (s = sqrt(y))."""
    return _normalizer_d(y, g, "g", axis, temperature, where, out, _entmax_d_kernel, alpha=1.5,
                         n_threads=n_threads)


def entmax15_jvp(y, dx, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    """JVP of :func:`entmax15` from its output."""
    return _normalizer_d(y, dx, "dx", axis, temperature, where, out, _entmax_d_kernel, alpha=1.5,
                         n_threads=n_threads)


def entmax_vjp(y, g, alpha=1.5, axis=-1, *, temperature=1.0, where=None, out=None,
               return_alpha_grad=False, n_threads=1):
    r"""VJP of :func:`entmax` from its output: with ``s = y^(2 - alpha)`` on the support
    (0 elsewhere), ``(s g - s <s, g> / sum s) / t``.

    With ``return_alpha_grad=True`` also returns ``d <g, entmax(x, alpha)> / d alpha`` per
    slice (the reduced shape; sum it for a scalar alpha).  The textbook expression
    ``sum g [(p - q)/d^2 - (p log p - q H)/d]`` (d = alpha - 1, q = s / sum s,
    H = sum p log p) cancels catastrophically as alpha -> 1; it is evaluated here in the
    algebraically equal form ``sum g p [(<p, F> - F) + d (F H - log(p) <p, F>)] / W`` with
    ``F = log(p)^2 phi(-d log p)``, ``phi(u) = (expm1(u) - u) / u^2`` (a series near 0) and
    ``W = 1 + <p, expm1(-d log p)>``, which has no division by d and is exact at alpha = 1.

    Examples
    --------
    >>> import numpy as np, cmaxfam as cmf
    >>> y = cmf.entmax([1.0, 0.5, -1.0], alpha=1.5)
    >>> dx, da = cmf.entmax_vjp(y, [1.0, 0.0, 0.0], alpha=1.5, return_alpha_grad=True)
    >>> bool(da > 0)          # a larger alpha makes entmax sparser: more mass on the max
    True
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


def entmax_jvp(y, dx, alpha=1.5, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    """JVP of :func:`entmax` from its output (the Jacobian is symmetric)."""
    return _normalizer_d(y, dx, "dx", axis, temperature, where, out, _entmax_d_kernel, alpha=alpha,
                         n_threads=n_threads)


def entmax_jacobian(y, alpha=1.5, axis=-1, *, temperature=1.0, where=None):
    r"""Explicit Jacobian of :func:`entmax` from its output: ``(diag(s) - s s^T / sum s) / t``
    with ``s = y^(2 - alpha)`` on the support; shape ``(..., n, n)``."""
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


def sparsemax_jacobian(y, axis=-1, *, temperature=1.0, where=None):
    """Explicit Jacobian of :func:`sparsemax`: ``(diag(s) - s s^T / |S|) / t``, s the support."""
    return entmax_jacobian(y, 2.0, axis, temperature=temperature, where=where)


def entmax15_jacobian(y, axis=-1, *, temperature=1.0, where=None):
    """Explicit Jacobian of :func:`entmax15` (s = sqrt(y))."""
    return entmax_jacobian(y, 1.5, axis, temperature=temperature, where=where)
