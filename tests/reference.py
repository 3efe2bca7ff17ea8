"""Plain NumPy float64 oracles for every cmaxfam operator and its derivatives.

This module never imports cmaxfam: it is an independent, deliberately simple
implementation of the maths in SPEC section 1 and of the special-value rules of
SPEC section 3 (as decided in the library's docstrings).  Speed is irrelevant here.

Conventions shared by every function:

* ``x`` is converted to float64 whatever its dtype;
* ``axis`` is an int, a tuple of ints or None (all axes);
* ``temperature`` is a positive scalar, an array broadcastable to the slices (the
  input shape without the reduced axes) or an array of the keepdims shape;
* ``where`` is a boolean mask broadcastable to ``x`` (None: everything included);
* the reductions return the reduced shape (or the keepdims shape with
  ``keepdims=True``).

Derivative oracles take the *input* ``x`` (not the forward output) and evaluate the
textbook formulas, so they are independent of the library's from-the-output tricks.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = [
    "Slices",
    "softmax", "log_softmax", "argmax", "argmax_indices",
    "logsumexp", "softmax_mean",
    "sigmoid", "log_sigmoid", "softplus",
    "softmax_vjp", "softmax_jvp", "softmax_jacobian",
    "log_softmax_vjp", "log_softmax_jvp", "log_softmax_jacobian",
    "logsumexp_vjp", "logsumexp_jvp",
    "softmax_mean_vjp", "softmax_mean_jvp",
    "sigmoid_vjp", "sigmoid_jvp", "log_sigmoid_vjp", "log_sigmoid_jvp",
    "softplus_vjp", "softplus_jvp",
    "fd_directional", "fd_jacobian",
]

_F64 = np.float64


# --------------------------------------------------------------------------------------
# Slicing: every reduction is done on "rows" of shape (*reduced_shape, n)
# --------------------------------------------------------------------------------------

class Slices:
    """Move the reduced axes of ``shape`` last and flatten them into one."""

    def __init__(self, shape, axis):
        self.shape = tuple(shape)
        nd = len(self.shape)
        if axis is None:
            axes = tuple(range(nd))
        elif isinstance(axis, tuple):
            axes = tuple(sorted(a % nd for a in axis))
        else:
            axes = (axis % nd,)
        self.axes = axes
        self.keep = tuple(1 if d in axes else s for d, s in enumerate(self.shape))
        self.red = tuple(s for d, s in enumerate(self.shape) if d not in axes)
        self.n = math.prod(self.shape[a] for a in axes)

    def rows(self, a):
        a = np.broadcast_to(np.asarray(a), self.shape)
        k = len(self.axes)
        return np.moveaxis(a, self.axes, range(-k, 0)).reshape(self.red + (self.n,))

    def unrows(self, r):
        k = len(self.axes)
        moved = self.red + tuple(self.shape[a] for a in self.axes)
        return np.moveaxis(np.asarray(r).reshape(moved), range(-k, 0), self.axes)

    def param(self, v):
        """A per-slice parameter as an array of shape (*red, 1)."""
        v = np.asarray(v, dtype=_F64)
        if v.ndim == len(self.shape) and v.ndim > 0 and all(v.shape[a] == 1 for a in self.axes):
            return np.broadcast_to(v, self.keep).reshape(self.red + (1,))
        return np.broadcast_to(v, self.red)[..., None]

    def out(self, r, keepdims):
        """A per-slice result of shape (*red, 1) as the reduced / keepdims shape."""
        r = np.asarray(r).reshape(self.red)
        return r.reshape(self.keep) if keepdims else r

    def mask(self, where):
        if where is None:
            return np.ones(self.red + (self.n,), dtype=bool)
        return self.rows(np.asarray(where, dtype=bool))


def _setup(x, axis, temperature, where):
    x = np.asarray(x, dtype=_F64)
    S = Slices(x.shape, axis)
    return S, S.rows(x), S.param(temperature), S.mask(where)


# --------------------------------------------------------------------------------------
# Normalisers
# --------------------------------------------------------------------------------------

def _softmax_rows(X, T, W, log):
    """Softmax / log-softmax of rows X (…, n), temperatures T (…, 1), mask W (…, n)."""
    with np.errstate(all="ignore"):
        any_in = W.any(-1, keepdims=True)
        has_nan = (W & np.isnan(X)).any(-1, keepdims=True)
        Xi = np.where(W, X, -np.inf)
        m = np.max(Xi, axis=-1, keepdims=True, initial=-np.inf)
        all_neginf = any_in & (m == -np.inf) & ~has_nan
        pinf = W & (X == np.inf)
        n_pinf = pinf.sum(-1, keepdims=True)
        # the finite case: shift by the maximum, never overflow
        m0 = np.where(np.isfinite(m), m, 0.0)
        d = (Xi - m0) / T
        e = np.where(W, np.exp(d), 0.0)
        s = e.sum(-1, keepdims=True)
        res = d - np.log(s) if log else e / s
        # +inf entries share the mass equally
        inf_case = n_pinf > 0
        if log:
            res = np.where(inf_case, np.where(pinf, -np.log(np.maximum(n_pinf, 1)), -np.inf), res)
        else:
            res = np.where(inf_case, pinf / np.maximum(n_pinf, 1), res)
        res = np.where(has_nan | all_neginf, np.nan, res)
        fill = -np.inf if log else 0.0
        res = np.where(any_in, res, fill)      # fully excluded slice
        res = np.where(W, res, fill)           # excluded entries
    return res


def softmax(x, axis=-1, temperature=1.0, where=None):
    S, X, T, W = _setup(x, axis, temperature, where)
    return S.unrows(_softmax_rows(X, T, W, log=False))


def log_softmax(x, axis=-1, temperature=1.0, where=None):
    S, X, T, W = _setup(x, axis, temperature, where)
    return S.unrows(_softmax_rows(X, T, W, log=True))


def argmax(x, axis=-1, temperature=1.0, where=None):
    """One-hot argmax following softmax's special values (first maximal index only)."""
    S, X, T, W = _setup(x, axis, temperature, where)
    rows = math.prod(S.red)
    Xr = X.reshape(rows, S.n)
    Wr = W.reshape(rows, S.n)
    out = np.zeros_like(Xr)
    for r in range(Xr.shape[0]):
        inc = np.flatnonzero(Wr[r])
        if inc.size == 0:
            continue                                   # fully excluded: zeros
        v = Xr[r, inc]
        if np.isnan(v).any() or np.all(v == -np.inf):
            out[r, inc] = np.nan                       # excluded entries keep 0
            continue
        out[r, inc[int(np.argmax(v))]] = 1.0           # np.argmax: first maximum
    return S.unrows(out.reshape(X.shape))


def argmax_indices(x, axis=-1, where=None, keepdims=False):
    """numpy.argmax over the included entries; -1 for a fully excluded slice."""
    S, X, _, W = _setup(x, axis, 1.0, where)
    rows = math.prod(S.red)
    Xr = X.reshape(rows, S.n)
    Wr = W.reshape(rows, S.n)
    idx = np.full(rows, -1, dtype=np.int64)
    for r in range(Xr.shape[0]):
        inc = np.flatnonzero(Wr[r])
        if inc.size:
            idx[r] = inc[int(np.argmax(Xr[r, inc]))]
    return S.out(idx, keepdims)


# --------------------------------------------------------------------------------------
# Reductions
# --------------------------------------------------------------------------------------

def _lse_rows(X, B, T, W):
    """Returns (lse, sign) of shape (…, 1) for rows with weights B."""
    with np.errstate(all="ignore"):
        inc = W & (B != 0)
        has_nan = (inc & (np.isnan(X) | np.isnan(B))).any(-1, keepdims=True)
        Xi = np.where(inc, X, -np.inf)
        m = np.max(Xi, axis=-1, keepdims=True, initial=-np.inf)
        m0 = np.where(np.isfinite(m), m, 0.0)
        terms = np.where(inc, B * np.exp((Xi - m0) / T), 0.0)
        top = inc & (Xi == m)
        c = np.where(top, B, 0.0).sum(-1, keepdims=True)        # the maximal terms
        rest = np.where(top, 0.0, terms).sum(-1, keepdims=True)  # the others
        s = c + rest
        ratio = rest / c
        accurate = (c > 0) & (ratio > -0.5)
        logabs = np.where(accurate, np.log(np.abs(c)) + np.log1p(np.where(accurate, ratio, 0.0)),
                          np.log(np.abs(s)))
        lse = m0 + T * logabs
        sign = np.sign(s)
        # special values
        neg = m == -np.inf                                       # empty / excluded / all -inf
        lse = np.where(neg, -np.inf, lse)
        sign = np.where(neg, 0.0, sign)
        pos = m == np.inf
        sinf = np.where(inc & (X == np.inf), B, 0.0).sum(-1, keepdims=True)
        lse = np.where(pos, np.where(sinf != 0, np.inf, np.nan), lse)
        sign = np.where(pos, np.where(sinf != 0, np.sign(sinf), np.nan), sign)
        lse = np.where(has_nan, np.nan, lse)
        sign = np.where(has_nan, np.nan, sign)
    return lse, sign


def logsumexp(a, axis=-1, b=None, keepdims=False, return_sign=False, temperature=1.0, where=None):
    S, X, T, W = _setup(a, axis, temperature, where)
    B = np.ones_like(X) if b is None else S.rows(np.asarray(b, dtype=_F64))
    lse, sign = _lse_rows(X, B, T, W)
    if not return_sign:
        with np.errstate(invalid="ignore"):
            lse = np.where(sign < 0, np.nan, lse)
        return S.out(lse, keepdims)
    return S.out(lse, keepdims), S.out(sign, keepdims)


def softmax_mean(x, axis=-1, temperature=1.0, where=None, keepdims=False):
    S, X, T, W = _setup(x, axis, temperature, where)
    P = _softmax_rows(X, T, W, log=False)
    with np.errstate(all="ignore"):
        has_nan = (W & np.isnan(X)).any(-1, keepdims=True)
        any_in = W.any(-1, keepdims=True)
        f = np.where(P > 0, P * X, 0.0).sum(-1, keepdims=True)   # p = 0 terms contribute 0
        all_neginf = any_in & ~has_nan & ~(W & (X > -np.inf)).any(-1, keepdims=True)
        f = np.where(all_neginf | ~any_in, -np.inf, f)
        f = np.where(has_nan, np.nan, f)
    return S.out(f, keepdims)


# --------------------------------------------------------------------------------------
# Elementwise
# --------------------------------------------------------------------------------------

def _expit(z):
    with np.errstate(all="ignore"):
        ez = np.exp(-np.abs(z))
        return np.where(z >= 0, 1.0 / (1.0 + ez), ez / (1.0 + ez))


def sigmoid(x, temperature=1.0):
    x = np.asarray(x, dtype=_F64)
    with np.errstate(all="ignore"):
        return np.where(np.isnan(x), np.nan, _expit(x / np.asarray(temperature, _F64)))


def log_sigmoid(x, temperature=1.0):
    x = np.asarray(x, dtype=_F64)
    with np.errstate(all="ignore"):
        z = x / np.asarray(temperature, _F64)
        return np.minimum(z, 0.0) - np.log1p(np.exp(-np.abs(z)))


def softplus(x, temperature=1.0):
    x = np.asarray(x, dtype=_F64)
    t = np.asarray(temperature, _F64)
    with np.errstate(all="ignore"):
        return np.maximum(x, 0.0) + t * np.log1p(np.exp(-np.abs(x) / t))


# --------------------------------------------------------------------------------------
# Derivatives (from the input x)
# --------------------------------------------------------------------------------------

def _rows_v(S, v):
    return S.rows(np.asarray(v, dtype=_F64))


def softmax_vjp(x, g, axis=-1, temperature=1.0, where=None):
    S, X, T, W = _setup(x, axis, temperature, where)
    P = _softmax_rows(X, T, W, log=False)
    G = np.where(W, _rows_v(S, g), 0.0)
    res = P * (G - (P * G).sum(-1, keepdims=True)) / T
    return S.unrows(np.where(W, res, 0.0))


softmax_jvp = softmax_vjp      # the softmax Jacobian is symmetric


def log_softmax_vjp(x, g, axis=-1, temperature=1.0, where=None):
    S, X, T, W = _setup(x, axis, temperature, where)
    P = _softmax_rows(X, T, W, log=False)
    G = np.where(W, _rows_v(S, g), 0.0)
    res = (G - P * G.sum(-1, keepdims=True)) / T
    return S.unrows(np.where(W, res, 0.0))


def log_softmax_jvp(x, dx, axis=-1, temperature=1.0, where=None):
    S, X, T, W = _setup(x, axis, temperature, where)
    P = _softmax_rows(X, T, W, log=False)
    D = np.where(W, _rows_v(S, dx), 0.0)
    res = (D - (P * D).sum(-1, keepdims=True)) / T
    return S.unrows(np.where(W, res, 0.0))


def softmax_jacobian(x, axis=-1, temperature=1.0, where=None):
    """(…, n, n) with the slice axis moved last; J[…, i, j] = dp_i / dx_j
    = p_i (delta_ij - p_j) / t, zero in the rows and columns of excluded entries."""
    S, X, T, W = _setup(x, axis, temperature, where)
    P = _softmax_rows(X, T, W, log=False)
    n = S.n
    J = (np.eye(n) * P[..., None, :] - P[..., :, None] * P[..., None, :]) / T[..., None]
    return J * (W[..., :, None] & W[..., None, :])


def log_softmax_jacobian(x, axis=-1, temperature=1.0, where=None):
    """(…, n, n): J[…, i, j] = (delta_ij - p_j) / t for included i, 0 for excluded rows."""
    S, X, T, W = _setup(x, axis, temperature, where)
    P = _softmax_rows(X, T, W, log=False)
    J = (np.eye(S.n) - P[..., None, :]) / T[..., None]
    return J * W[..., :, None]


def _lse_weights(x, axis, b, temperature, where):
    """d lse / d x as rows: sign * b_i * exp((x_i - lse) / t), 0 where excluded."""
    S, X, T, W = _setup(x, axis, temperature, where)
    B = np.ones_like(X) if b is None else S.rows(np.asarray(b, dtype=_F64))
    L, sgn = _lse_rows(X, B, T, W)
    with np.errstate(all="ignore"):
        w = sgn * B * np.exp((X - L) / T)
        w = np.where(W & (B != 0) & (L > -np.inf), w, 0.0)
    return S, w


def logsumexp_vjp(x, g, axis=-1, b=None, temperature=1.0, where=None):
    S, w = _lse_weights(x, axis, b, temperature, where)
    G = S.param(g)
    return S.unrows(w * G)


def logsumexp_jvp(x, dx, axis=-1, b=None, temperature=1.0, where=None, keepdims=False):
    S, w = _lse_weights(x, axis, b, temperature, where)
    return S.out((w * _rows_v(S, dx)).sum(-1, keepdims=True), keepdims)


def _sm_weights(x, axis, temperature, where):
    """d softmax_mean / d x as rows: p_i (1 + (x_i - f) / t)."""
    S, X, T, W = _setup(x, axis, temperature, where)
    P = _softmax_rows(X, T, W, log=False)
    with np.errstate(invalid="ignore"):
        F = np.where(P > 0, P * X, 0.0).sum(-1, keepdims=True)
    w = np.where(W, P * (1.0 + (X - F) / T), 0.0)
    return S, w


def softmax_mean_vjp(x, g, axis=-1, temperature=1.0, where=None):
    S, w = _sm_weights(x, axis, temperature, where)
    return S.unrows(w * S.param(g))


def softmax_mean_jvp(x, dx, axis=-1, temperature=1.0, where=None, keepdims=False):
    S, w = _sm_weights(x, axis, temperature, where)
    return S.out((w * _rows_v(S, dx)).sum(-1, keepdims=True), keepdims)


def _d_elementwise(kind, x, v, temperature):
    x = np.asarray(x, dtype=_F64)
    t = np.asarray(temperature, dtype=_F64)
    z = x / t
    s = _expit(z)
    if kind == "sigmoid":
        d = s * (1.0 - s) / t
    elif kind == "log_sigmoid":
        d = _expit(-z) / t
    else:
        d = s
    return np.asarray(v, dtype=_F64) * d


def sigmoid_vjp(x, g, temperature=1.0):
    return _d_elementwise("sigmoid", x, g, temperature)


def log_sigmoid_vjp(x, g, temperature=1.0):
    return _d_elementwise("log_sigmoid", x, g, temperature)


def softplus_vjp(x, g, temperature=1.0):
    return _d_elementwise("softplus", x, g, temperature)


sigmoid_jvp, log_sigmoid_jvp, softplus_jvp = sigmoid_vjp, log_sigmoid_vjp, softplus_vjp


# --------------------------------------------------------------------------------------
# Finite differences
# --------------------------------------------------------------------------------------

def fd_directional(f, x, v, h=1e-3):
    """4th-order central difference of s -> f(x + s v) at s = 0 (error O(h^4))."""
    x = np.asarray(x, dtype=_F64)
    v = np.asarray(v, dtype=_F64)
    with np.errstate(all="ignore"):
        fm2, fm1 = np.asarray(f(x - 2 * h * v), _F64), np.asarray(f(x - h * v), _F64)
        fp1, fp2 = np.asarray(f(x + h * v), _F64), np.asarray(f(x + 2 * h * v), _F64)
        return (fm2 - 8.0 * fm1 + 8.0 * fp1 - fp2) / (12.0 * h)


def fd_jacobian(f, x, axis=-1, h=1e-3):
    """Finite-difference Jacobian of a slice-wise map f, shape (…, n, n) with the slice
    axis moved last: J[…, i, j] = d f_i / d x_j (slices are independent, so perturbing
    entry j of every slice at once is enough)."""
    x = np.asarray(x, dtype=_F64)
    n = x.shape[axis]
    cols = []
    for j in range(n):
        e = np.zeros_like(x)
        idx = [slice(None)] * x.ndim
        idx[axis] = j
        e[tuple(idx)] = 1.0
        cols.append(np.moveaxis(fd_directional(f, x, e, h), axis, -1))
    return np.stack(cols, axis=-1)
