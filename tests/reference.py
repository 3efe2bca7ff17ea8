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
    "sparsemax", "entmax15", "entmax", "entmax_tau",
    "sparsemax_vjp", "sparsemax_jvp", "sparsemax_jacobian",
    "entmax15_vjp", "entmax15_jvp", "entmax15_jacobian",
    "entmax_vjp", "entmax_jvp", "entmax_jacobian", "entmax_kink_distance",
    "shannon_entropy", "gini_entropy", "tsallis_entropy",
    "smoothed_max", "smoothed_max_vjp", "smoothed_max_jvp",
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
# The sparse family: sparsemax, 1.5-entmax, alpha-entmax (SPEC section 1)
#
# Every solver works on rows Z = (x - max) / t (the maximum of every row is 0; excluded
# and -inf entries are -inf) and returns (p, tau) with p = [(alpha-1) Z - tau]_+^(1/(alpha-1))
# (tau in the scaled units of that formula).  The special values of SPEC section 3 are
# applied around the solvers by _sparse_rows, exactly as for softmax.
# --------------------------------------------------------------------------------------

def _desc(Z):
    return -np.sort(-Z, axis=-1)


def _sparsemax_solve(Z):
    """Sort-based: k* = max{k : 1 + k z_(k) > S_k}, tau = (S_k* - 1) / k*."""
    n = Z.shape[-1]
    with np.errstate(all="ignore"):
        Zs = _desc(Z)
        k = np.arange(1, n + 1, dtype=_F64)
        S = np.cumsum(Zs, axis=-1)
        kstar = (1.0 + k * Zs > S).sum(-1, keepdims=True)           # >= 1: z_(1) = 0
        top = k <= kstar                                             # the support, sorted
        Sk = np.where(top, Zs, 0.0).sum(-1, keepdims=True)
        tau = (Sk - 1.0) / kstar
        P = np.maximum(Z - tau, 0.0)
    return P, tau


def _entmax15_solve(Z):
    """Sort-based exact 1.5-entmax (Peters et al. 2019) on u = Z / 2: for each prefix
    rho of the sorted u, tau_rho = mean - sqrt((1 - rho var) / rho); the support size is
    #{rho : tau_rho <= u_(rho)}; tau is then recomputed on the support with a two-pass
    variance (no cancellation), and p = [u - tau]_+^2."""
    n = Z.shape[-1]
    with np.errstate(all="ignore"):
        U = Z / 2.0
        Us = _desc(U)
        k = np.arange(1, n + 1, dtype=_F64)
        mean = np.cumsum(Us, -1) / k
        meansq = np.cumsum(Us * Us, -1) / k
        delta = (1.0 - k * (meansq - mean * mean)) / k
        tau_k = mean - np.sqrt(np.maximum(delta, 0.0))
        ks = (tau_k <= Us).sum(-1, keepdims=True)
        ks = np.maximum(ks, 1)
        top = k <= ks
        mu = np.where(top, Us, 0.0).sum(-1, keepdims=True) / ks
        ss = np.where(top, (Us - mu) ** 2, 0.0).sum(-1, keepdims=True)
        tau = mu - np.sqrt(np.maximum((1.0 - ss) / ks, 0.0))
        P = np.maximum(U - tau, 0.0) ** 2
    return P, tau


def _pow(base, e, out=None):
    """base ** e (base >= 0); a scalar exponent when every row has the same one, with
    exact fast paths for 1, 2, 4 and 1/2 (the bisection's inner loop)."""
    if e.size and np.all(e == e.flat[0]):
        k = float(e.flat[0])
        if k == 1.0:
            return base if out is None else np.copyto(out, base) or out
        if k == 2.0:
            return np.multiply(base, base, out=out)
        if k == 4.0:
            sq = np.multiply(base, base, out=out)
            return np.multiply(sq, sq, out=sq)
        if k == 0.5:
            return np.sqrt(base, out=out)
        return np.power(base, k, out=out)
    return np.power(base, e, out=out)


def _entmax_bisect_solve(Z, A):
    """alpha-entmax (alpha > 1) by bisection on tau for u = (alpha - 1) Z, whose maximum is
    0: f(tau) = sum [u - tau]_+^(1/(alpha-1)) - 1 is decreasing, f(-1) >= 0 and
    f(-n^(1-alpha)) <= 0; halve the bracket until it is narrower than 1e-15 (or stops
    shrinking)."""
    n = Z.shape[-1]
    with np.errstate(all="ignore"):
        am1 = A - 1.0
        e = 1.0 / am1
        U = am1 * Z
        lo = np.full(Z.shape[:-1] + (1,), -1.0)
        hi = np.broadcast_to(-np.power(float(max(n, 1)), -am1), lo.shape).copy()
        hi = np.maximum(hi, lo)
        # entries with u <= -1 <= tau are 0 whatever tau: bisect on the others only
        C = U
        k = int((U > -1.0).sum(-1).max()) if U.size else 0
        if 0 < k < n // 2:
            C = np.partition(U, n - k, axis=-1)[..., n - k:]
        buf = np.empty(C.shape)
        for _ in range(300):
            mid = 0.5 * (lo + hi)
            np.subtract(C, mid, out=buf)
            np.maximum(buf, 0.0, out=buf)
            f = _pow(buf, e, out=buf).sum(-1, keepdims=True) - 1.0
            up = f >= 0.0
            new_lo = np.where(up, mid, lo)
            new_hi = np.where(up, hi, mid)
            # to 1e-15 and on to the last bits (the float64 resolution of tau), which large
            # alpha needs: p = (u - tau)^(1/(alpha-1)) amplifies the error of tau
            done = np.all(((new_hi - new_lo <= 1e-15) & (new_hi - new_lo <= 2.0 ** -60 * np.abs(new_lo)))
                          | ((new_lo == lo) & (new_hi == hi)))
            lo, hi = new_lo, new_hi
            if done:
                break
        tau = 0.5 * (lo + hi)
        P = _pow(np.maximum(U - tau, 0.0), e)
    return P, tau


def _softmax_solve(Z):
    with np.errstate(all="ignore"):
        E = np.exp(Z)
        P = E / E.sum(-1, keepdims=True)
    return P, np.full(Z.shape[:-1] + (1,), np.nan)


def _entmax_solve(Z, A):
    """Dispatch on alpha per row: softmax (alpha = 1), sort-based sparsemax is NOT used for
    alpha = 2 here (bisection: an independent route), bisection otherwise."""
    A = np.broadcast_to(A, Z.shape[:-1] + (1,))
    one = A == 1.0
    P, tau = _entmax_bisect_solve(Z, np.where(one, 2.0, A))
    if one.any():
        Ps, _ = _softmax_solve(Z)
        P = np.where(one, Ps, P)
        tau = np.where(one, np.nan, tau)
    return P, tau


def _sparse_rows(X, T, W, solve):
    """Apply the special values of SPEC section 3 around solve(Z) -> (P, tau): NaN slice ->
    NaN; +inf entries share the mass; all -inf -> NaN; excluded entries 0; fully excluded
    slice -> zeros.  Returns (P, tau, ok) with ok the slices solved by ``solve``."""
    with np.errstate(all="ignore"):
        any_in = W.any(-1, keepdims=True)
        has_nan = (W & np.isnan(X)).any(-1, keepdims=True)
        Xi = np.where(W, X, -np.inf)
        m = np.max(Xi, axis=-1, keepdims=True, initial=-np.inf)
        all_neginf = any_in & (m == -np.inf) & ~has_nan
        pinf = W & (X == np.inf)
        n_pinf = pinf.sum(-1, keepdims=True)
        ok = any_in & ~has_nan & np.isfinite(m)
        m0 = np.where(np.isfinite(m), m, 0.0)
        Z = np.where(ok, (Xi - m0) / T, 0.0)           # shift first: never overflows to NaN
        Z = np.where(np.isnan(Z), -np.inf, Z)
        if Z.shape[-1]:
            P, tau = solve(Z)
        else:
            P, tau = np.zeros(Z.shape), np.zeros(Z.shape[:-1] + (1,))
        P = np.where(n_pinf > 0, pinf / np.maximum(n_pinf, 1), P)
        P = np.where(has_nan | all_neginf, np.nan, P)
        P = np.where(any_in, P, 0.0)
        P = np.where(W, P, 0.0)
    return P, np.where(ok, tau, np.nan), ok


def _entmax_setup(x, alpha, axis, temperature, where):
    S, X, T, W = _setup(x, axis, temperature, where)
    A = S.param(alpha)
    if np.any(~(A >= 1.0)):
        raise ValueError("alpha must be >= 1")
    return S, X, T, W, A


def _entmax_P(x, alpha, axis, temperature, where):
    S, X, T, W, A = _entmax_setup(x, alpha, axis, temperature, where)
    P, tau, ok = _sparse_rows(X, T, W, lambda Z: _entmax_solve(Z, A))
    return S, X, T, W, A, P


def sparsemax(x, axis=-1, temperature=1.0, where=None):
    S, X, T, W = _setup(x, axis, temperature, where)
    return S.unrows(_sparse_rows(X, T, W, _sparsemax_solve)[0])


def entmax15(x, axis=-1, temperature=1.0, where=None):
    S, X, T, W = _setup(x, axis, temperature, where)
    return S.unrows(_sparse_rows(X, T, W, _entmax15_solve)[0])


def entmax(x, alpha=1.5, axis=-1, temperature=1.0, where=None):
    """alpha-entmax: softmax for alpha = 1, bisection otherwise; alpha may be an array
    broadcastable to the slices (reduced or keepdims shape)."""
    S, X, T, W, A, P = _entmax_P(x, alpha, axis, temperature, where)
    return S.unrows(P)


def entmax_tau(x, alpha=1.5, axis=-1, temperature=1.0, where=None):
    """The threshold tau per slice (reduced shape) in the units of [(alpha-1) z - tau]_+,
    z = (x - max x) / t; NaN for slices with special values or alpha = 1."""
    S, X, T, W, A = _entmax_setup(x, alpha, axis, temperature, where)
    _, tau, _ = _sparse_rows(X, T, W, lambda Z: _entmax_solve(Z, A))
    return S.out(tau, False)


def entmax_kink_distance(x, alpha=1.5, axis=-1, temperature=1.0, where=None):
    """The smallest |(alpha - 1) z_i - tau| over the included entries of the slices solved
    by the root finder (z = (x - max) / t): how far x is from a change of support, where
    entmax (alpha > 1) is not differentiable.  inf when there is no such entry (or
    alpha = 1, which is smooth)."""
    S, X, T, W, A = _entmax_setup(x, alpha, axis, temperature, where)
    P, tau, ok = _sparse_rows(X, T, W, lambda Z: _entmax_solve(Z, A))
    with np.errstate(all="ignore"):
        Xi = np.where(W, X, -np.inf)
        m = np.max(Xi, axis=-1, keepdims=True, initial=-np.inf)
        d = np.abs((A - 1.0) * (Xi - m) / T - tau)
        d = np.where(W & ok & (A > 1.0) & np.isfinite(d), d, np.inf)
    return float(d.min()) if d.size else np.inf


def _entmax_s(P, A):
    """s = p^(2 - alpha) on the support (p > 0), 0 elsewhere, NaN where p is NaN."""
    with np.errstate(all="ignore"):
        s = np.where(P > 0, np.power(np.where(P > 0, P, 1.0), 2.0 - A), 0.0)
    return np.where(np.isnan(P), np.nan, s)


def _entmax_d(x, v, alpha, axis, temperature, where):
    """(s v - s <s, v> / sum s) / t: the VJP and the JVP (the Jacobian is symmetric)."""
    S, X, T, W, A, P = _entmax_P(x, alpha, axis, temperature, where)
    V = np.where(W, _rows_v(S, v), 0.0)
    s = _entmax_s(P, A)
    with np.errstate(all="ignore"):
        tot = s.sum(-1, keepdims=True)
        res = (s * V - s * (s * V).sum(-1, keepdims=True) / tot) / T
        res = np.where(tot == 0, 0.0, res)
    return S.unrows(np.where(W, res, 0.0))


def _entmax_J(x, alpha, axis, temperature, where):
    """(..., n, n): (diag(s) - s s^T / sum s) / t, zero rows/columns for excluded entries."""
    S, X, T, W, A, P = _entmax_P(x, alpha, axis, temperature, where)
    s = _entmax_s(P, A)
    with np.errstate(all="ignore"):
        tot = s.sum(-1, keepdims=True)[..., None]
        J = (np.eye(S.n) * s[..., None, :] - s[..., :, None] * s[..., None, :] / tot)
        J = np.where(tot == 0, 0.0, J) / T[..., None]
    return J * (W[..., :, None] & W[..., None, :])


def entmax_vjp(x, g, alpha=1.5, axis=-1, temperature=1.0, where=None):
    return _entmax_d(x, g, alpha, axis, temperature, where)


entmax_jvp = entmax_vjp


def entmax_jacobian(x, alpha=1.5, axis=-1, temperature=1.0, where=None):
    return _entmax_J(x, alpha, axis, temperature, where)


def _weighted_vjp(S, T, W, s, g):
    """(s g - s <s, g> / sum s) / t per row: the VJP (and JVP) of a sparse normaliser whose
    Jacobian is diag(s) - s s^T / sum s."""
    G = np.where(W, _rows_v(S, g), 0.0)
    with np.errstate(all="ignore"):
        tot = s.sum(-1, keepdims=True)
        res = (s * G - s * (s * G).sum(-1, keepdims=True) / tot) / T
        res = np.where(tot == 0, 0.0, res)
    return S.unrows(np.where(W, res, 0.0))


def _weighted_jacobian(S, T, W, s):
    with np.errstate(all="ignore"):
        tot = s.sum(-1, keepdims=True)[..., None]
        J = np.eye(S.n) * s[..., None, :] - s[..., :, None] * s[..., None, :] / tot
        J = np.where(tot == 0, 0.0, J) / T[..., None]
    return J * (W[..., :, None] & W[..., None, :])


def _sparsemax_s(x, axis, temperature, where):
    """From the sort-based sparsemax: s = the support indicator."""
    S, X, T, W = _setup(x, axis, temperature, where)
    P = _sparse_rows(X, T, W, _sparsemax_solve)[0]
    return S, T, W, np.where(np.isnan(P), np.nan, (P > 0).astype(_F64))


def _entmax15_s(x, axis, temperature, where):
    """From the sort-based 1.5-entmax: s = sqrt(p)."""
    S, X, T, W = _setup(x, axis, temperature, where)
    P = _sparse_rows(X, T, W, _entmax15_solve)[0]
    return S, T, W, np.sqrt(P)


def sparsemax_vjp(x, g, axis=-1, temperature=1.0, where=None):
    S, T, W, s = _sparsemax_s(x, axis, temperature, where)
    return _weighted_vjp(S, T, W, s, g)


sparsemax_jvp = sparsemax_vjp


def sparsemax_jacobian(x, axis=-1, temperature=1.0, where=None):
    return _weighted_jacobian(*_sparsemax_s(x, axis, temperature, where))


def entmax15_vjp(x, g, axis=-1, temperature=1.0, where=None):
    S, T, W, s = _entmax15_s(x, axis, temperature, where)
    return _weighted_vjp(S, T, W, s, g)


entmax15_jvp = entmax15_vjp


def entmax15_jacobian(x, axis=-1, temperature=1.0, where=None):
    return _weighted_jacobian(*_entmax15_s(x, axis, temperature, where))


# --------------------------------------------------------------------------------------
# Entropies and the smoothed max
# --------------------------------------------------------------------------------------

def _tsallis_terms(P, A):
    """Per-entry terms of H_alpha (A of shape (..., 1)): -p log p for alpha = 1 (0 log 0 = 0),
    (p - p^alpha) / (alpha (alpha - 1)) otherwise; NaN for negative or NaN p."""
    with np.errstate(all="ignore"):
        safe = np.where(P > 0, P, 1.0)
        shannon = np.where(P > 0, -P * np.log(safe), np.where(P == 0, 0.0, np.nan))
        A2 = np.where(A == 1.0, 2.0, A)
        ts = np.where(P >= 0, (P - np.power(np.where(P >= 0, P, 0.0), A2)) / (A2 * (A2 - 1.0)), np.nan)
        return np.where(A == 1.0, shannon, ts)


def tsallis_entropy(p, alpha, axis=-1, keepdims=False):
    P = np.asarray(p, dtype=_F64)
    S = Slices(P.shape, axis)
    A = S.param(alpha)
    return S.out(_tsallis_terms(S.rows(P), A).sum(-1, keepdims=True), keepdims)


def shannon_entropy(p, axis=-1, keepdims=False):
    return tsallis_entropy(p, 1.0, axis, keepdims)


def gini_entropy(p, axis=-1, keepdims=False):
    """1/2 sum p (1 - p) (any real p)."""
    P = np.asarray(p, dtype=_F64)
    S = Slices(P.shape, axis)
    R = S.rows(P)
    return S.out((0.5 * R * (1.0 - R)).sum(-1, keepdims=True), keepdims)


def smoothed_max(x, alpha=1.0, axis=-1, temperature=1.0, where=None, keepdims=False):
    """max_{p in simplex} <p, x> + t H_alpha(p) = <p*, x> + t H_alpha(p*), p* = entmax(x/t):
    logsumexp for alpha = 1; otherwise m + sum_{p>0} p (x - m) + t H_alpha(p) with m the
    maximum.  NaN -> NaN, +inf -> +inf, a slice of only -inf / fully excluded / empty ->
    -inf."""
    S, X, T, W, A, P = _entmax_P(x, alpha, axis, temperature, where)
    lse, _ = _lse_rows(X, np.ones_like(X), T, W)
    with np.errstate(all="ignore"):
        has_nan = (W & np.isnan(X)).any(-1, keepdims=True)
        Xi = np.where(W, X, -np.inf)
        m = np.max(Xi, axis=-1, keepdims=True, initial=-np.inf)
        m0 = np.where(np.isfinite(m), m, 0.0)
        lin = np.where(P > 0, P * (Xi - m0), 0.0).sum(-1, keepdims=True)
        H = _tsallis_terms(np.where(np.isnan(P), 0.0, P), A).sum(-1, keepdims=True)
        val = m0 + lin + T * H
        val = np.where(m == -np.inf, -np.inf, val)
        val = np.where(m == np.inf, np.inf, val)
        val = np.where(has_nan, np.nan, val)
        val = np.where(A == 1.0, lse, val)
    return S.out(val, keepdims)


def _smoothed_max_weights(x, alpha, axis, temperature, where):
    """d smoothed_max / dx = entmax(x / t, alpha) (0 for empty / fully excluded / all -inf
    slices, whose value is the constant -inf)."""
    S, X, T, W, A, P = _entmax_P(x, alpha, axis, temperature, where)
    with np.errstate(all="ignore"):
        Xi = np.where(W, X, -np.inf)
        neg = (Xi == -np.inf).all(-1, keepdims=True) & ~(W & np.isnan(X)).any(-1, keepdims=True)
    return S, np.where(neg, 0.0, P)


def smoothed_max_vjp(x, g, alpha=1.0, axis=-1, temperature=1.0, where=None):
    S, w = _smoothed_max_weights(x, alpha, axis, temperature, where)
    return S.unrows(w * S.param(g))


def smoothed_max_jvp(x, dx, alpha=1.0, axis=-1, temperature=1.0, where=None, keepdims=False):
    S, w = _smoothed_max_weights(x, alpha, axis, temperature, where)
    with np.errstate(invalid="ignore"):
        terms = np.where(w == 0, 0.0, w * _rows_v(S, dx))
    return S.out(terms.sum(-1, keepdims=True), keepdims)


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


# ======================================================================================
# Losses (tests/test_losses.py) -- BEGIN
#
# Float64 oracles of the Fenchel-Young losses of ``cmaxfam._losses``, written from the
# maths, not from the kernel: for z = x / t (shifted by the slice's maximum) and a target
# distribution q,
#
#     L(z; q) = Omega*(z) - <q, z> - H(q),   Omega*(z) = max_p <p, z> + H(p),
#
# with Omega*(z) = logsumexp(z) for Shannon (alpha = 1) and <p*, z> + H_alpha(p*) with
# p* = entmax(z, alpha) otherwise (the sort-based sparsemax / 1.5-entmax or the
# bisection above); H_alpha from ``_tsallis_terms`` ((p - p^alpha) / (alpha (alpha - 1)),
# not the kernel's expm1 form).  The gradient of L with respect to x is (p* - q) / t.
# The reductions follow the documented conventions: ``w_i L_i`` per slice ("none"), their
# sum, or their sum over the sum of the weights of the slices not ignored ("mean"; 0 when
# that is 0); a slice of weight 0 (or ignored) contributes nothing to the value and
# nothing to the gradient.
# ======================================================================================

def _loss_targets(S, shape, target, ignore_index):
    """``(Q, live)``: the target rows (…, n) (one-hot for labels; zero rows for ignored
    labels) and the (…, 1) mask of the slices that are not ignored."""
    tg = np.asarray(target)
    if tg.shape == tuple(shape):
        return S.rows(tg.astype(_F64)), np.ones(S.red + (1,), dtype=bool)
    lab = np.broadcast_to(tg, S.red).astype(np.int64)[..., None]
    live = np.ones(lab.shape, dtype=bool) if ignore_index is None else lab != int(ignore_index)
    Q = ((np.arange(S.n) == lab) & live).astype(_F64)
    return Q, live


def _loss_prediction(X, T, W, A):
    """p* = entmax(z, alpha) per row (alpha of shape (…, 1)): softmax, the sort-based
    sparsemax / 1.5-entmax when every row has that alpha, bisection otherwise."""
    if np.all(A == 1.0):
        return _softmax_rows(X, T, W, log=False)
    if np.all(A == 2.0):
        return _sparse_rows(X, T, W, _sparsemax_solve)[0]
    if np.all(A == 1.5):
        return _sparse_rows(X, T, W, _entmax15_solve)[0]
    return _sparse_rows(X, T, W, lambda Z: _entmax_solve(Z, A))[0]


def _fy_rows(X, T, W, A, Q):
    """Per-row Fenchel-Young loss (…, 1) and the prediction p* (…, n)."""
    A = np.broadcast_to(A, X.shape[:-1] + (1,))
    P = _loss_prediction(X, T, W, A)
    with np.errstate(all="ignore"):
        has_nan = (W & np.isnan(X)).any(-1, keepdims=True)
        Xi = np.where(W, X, -np.inf)
        m = np.max(Xi, axis=-1, keepdims=True, initial=-np.inf)
        m0 = np.where(np.isfinite(m), m, 0.0)
        # z relative to the maximum; with +inf logits only those stay finite (at 0).  When
        # x - max overflows (|x| near the float64 maximum), (x - max) / t may not: x/t - max/t
        D = Xi - m0
        D = np.where(np.isinf(D) & np.isfinite(Xi), Xi / T - m0 / T, D / T)
        Z = np.where(np.isfinite(m), D, np.where(W & (X == np.inf), 0.0, -np.inf))
        Z = np.where(np.isnan(Z), -np.inf, Z)
        lse = np.log(np.exp(Z).sum(-1, keepdims=True))
        lin = np.where(P > 0, P * Z, 0.0).sum(-1, keepdims=True)
        conj = np.where(A == 1.0, lse, lin + _tsallis_terms(P, A).sum(-1, keepdims=True))
        qz = np.where(Q > 0, Q * Z, 0.0).sum(-1, keepdims=True)      # -inf: mass on a -inf z
        L = conj - qz - _tsallis_terms(Q, A).sum(-1, keepdims=True)
        L = np.where(has_nan, np.nan, L)
    return L, P


def _loss_finish(S, L, G, live, sample_weight, reduction):
    """Weights and reduction: returns ``(value, grad)`` (grad in the input's shape)."""
    sw = np.ones(S.red + (1,)) if sample_weight is None else S.param(sample_weight)
    wl = np.where(live, sw, 0.0)
    total = float(wl.sum())
    with np.errstate(all="ignore"):
        per = np.where(wl > 0, wl * L, 0.0)
        if reduction == "none":
            value, scale = per.reshape(S.red), wl
        elif reduction == "sum":
            value, scale = float(per.sum()), wl
        elif reduction == "mean":
            value = float(per.sum()) / total if total > 0 else 0.0
            scale = wl / total if total > 0 else np.zeros_like(wl)
        else:
            raise ValueError(reduction)
        grad = np.where(scale > 0, G * scale, 0.0)
    return value, S.unrows(grad)


def fy_loss(x, target, alpha=1.0, axis=-1, temperature=1.0, where=None, ignore_index=None,
            label_smoothing=0.0, sample_weight=None, reduction="mean"):
    """The Fenchel-Young loss of ``x / temperature`` (alpha = 1: softmax cross-entropy,
    2: the sparsemax loss, else the alpha-entmax loss).  ``target``: labels (the shape of
    ``x`` without ``axis``) or distributions (the shape of ``x``).  Label smoothing mixes
    the target with the uniform distribution over the included classes.  Returns
    ``(value, grad)``: value a float ("mean", "sum") or the reduced-shape array ("none");
    grad the derivative of the value (of the sum of the per-slice values for "none")."""
    S, X, T, W = _setup(x, axis, temperature, where)
    A = S.param(alpha)
    Q, live = _loss_targets(S, np.shape(x), target, ignore_index)
    eps = float(label_smoothing)
    if eps:
        k = W.sum(-1, keepdims=True)
        Q = (1.0 - eps) * Q + eps * W / np.maximum(k, 1)
    L, P = _fy_rows(X, T, W, A, Q)
    with np.errstate(all="ignore"):
        G = (P - Q) / T
    return _loss_finish(S, L, G, live, sample_weight, reduction)


def distillation_loss(student, teacher, axis=-1, temperature=1.0, where=None, sample_weight=None,
                      reduction="batchmean"):
    """T^2 KL(softmax(teacher / T) || softmax(student / T)) per slice, from the log-softmax
    of both; gradient T (q_s - q_t).  "batchmean" is "mean" (over slices)."""
    S, X, T, W = _setup(student, axis, temperature, where)
    Xt = S.rows(np.asarray(teacher, dtype=_F64))
    Qt, logQt = _softmax_rows(Xt, T, W, log=False), _softmax_rows(Xt, T, W, log=True)
    Ps, logPs = _softmax_rows(X, T, W, log=False), _softmax_rows(X, T, W, log=True)
    with np.errstate(all="ignore"):
        kl = np.where(Qt > 0, Qt * (logQt - logPs), 0.0).sum(-1, keepdims=True)
    red = "mean" if reduction == "batchmean" else reduction
    live = np.ones(S.red + (1,), dtype=bool)
    return _loss_finish(S, T * T * kl, T * (Ps - Qt), live, sample_weight, red)


def softmax_layer_grad(X, W, b, target, temperature=1.0, ignore_index=None, label_smoothing=0.0,
                       sample_weight=None, reduction="mean"):
    """``(loss, grad_W, grad_b)`` of the cross-entropy of ``X @ W + b``: the chain rule
    written out (G = dL/dlogits, grad_W = X^T G, grad_b = sum_i G_i)."""
    X, W, b = (np.asarray(a, dtype=_F64) for a in (X, W, b))
    loss, G = fy_loss(X @ W + b, target, 1.0, -1, temperature, None, ignore_index,
                      label_smoothing, sample_weight, reduction)
    return loss, X.T @ G, G.sum(0)

# Losses -- END
# ======================================================================================
