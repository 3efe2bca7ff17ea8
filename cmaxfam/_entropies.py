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

from . import _plumbing as P
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
    with np.errstate(divide="ignore", invalid="ignore"):
        if alpha == 1.0:
            terms = np.where(a > 0, -a * np.log(np.where(a > 0, a, 1)), np.where(a == 0, 0, np.nan))
        elif alpha == 2.0:
            terms = 0.5 * a * (1 - a)
        else:
            pa = np.power(np.where(a >= 0, a, np.nan), alpha)
            terms = (a - pa) / (alpha * (alpha - 1.0))
        h = terms.sum(axis=ax, keepdims=True, dtype=np.float64)
    return P.finish_per_slice(h, plan, keepdims, out, rdt)


def shannon_entropy(p, axis=-1, *, keepdims=False, out=None):
    r"""Shannon entropy ``-sum p log p`` along an axis (``0 log 0 = 0``; negative or NaN
    entries give NaN).

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> float(cmf.shannon_entropy([0.5, 0.5, 0.0]).round(6))
    0.693147
    """
    return _entropy(p, 1.0, axis, keepdims, out)


def gini_entropy(p, axis=-1, *, keepdims=False, out=None):
    r"""Gini entropy ``1/2 sum p (1 - p)`` along an axis (sparsemax's regulariser).

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> float(cmf.gini_entropy([0.5, 0.5]))
    0.25
    """
    return _entropy(p, 2.0, axis, keepdims, out)


def tsallis_entropy(p, alpha, axis=-1, *, keepdims=False, out=None):
    r"""Tsallis alpha-entropy ``sum (p - p^alpha) / (alpha (alpha - 1))`` along an axis;
    alpha = 1 is the Shannon entropy and alpha = 2 the Gini entropy (entmax's regulariser).
    ``alpha`` is a scalar >= 1.

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> float(cmf.tsallis_entropy([0.5, 0.5], 2.0))
    0.25
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


def smoothed_max(x, alpha=1.0, axis=-1, *, temperature=1.0, where=None, keepdims=False, out=None,
                 n_threads=1):
    r"""The smoothed max ``max_{p in simplex} <p, x> + t H_alpha(p)``.

    alpha = 1 is :func:`logsumexp` exactly (same kernel); alpha = 2 the sparsemax value.
    Its gradient is ``entmax(x / t, alpha)``.  Special values: NaN gives NaN, +inf gives
    +inf, a slice of only -inf (or fully masked) gives -inf.

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> float(cmf.smoothed_max([1.0, 2.0, 3.0, 4.0]).round(4))      # logsumexp
    4.4402
    >>> float(cmf.smoothed_max([1.0, 1.5], alpha=2))   # p = [0.25, 0.75]: 1.375 + 0.5 * 0.375
    1.5625
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


def smoothed_max_vjp(x, value, g, alpha=1.0, axis=-1, *, temperature=1.0, where=None, out=None,
                     n_threads=1):
    r"""VJP of :func:`smoothed_max`: ``g * entmax(x / t, alpha)`` (``g`` per slice)."""
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


def smoothed_max_jvp(x, value, dx, alpha=1.0, axis=-1, *, temperature=1.0, where=None, keepdims=False,
                     out=None, n_threads=1):
    r"""JVP of :func:`smoothed_max`: ``<entmax(x / t, alpha), dx>`` per slice."""
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
