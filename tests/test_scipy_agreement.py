"""Agreement with scipy.special (softmax, log_softmax, logsumexp, expit, log_expit):
same arguments, random shapes, every axis, tuple axes, axis=None, weights with
negative entries and return_sign, keepdims.

scipy is evaluated in float64 on the (exactly representable) input; a float32 result
must be within a few ULP of it.  The library's polynomial exp flushes results below
~1e-38 (float32) / ~1e-308 (float64) to 0, hence the absolute tolerances.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.special as sp

import cmaxfam as cmf
import ops

SEEDS = range(6)

# scipy >= 1.15 has softplus; older versions: logaddexp(0, x) is the same function
_softplus = getattr(sp, "softplus", lambda x: np.logaddexp(0.0, x))


def _random_shape(rng, ndim=None):
    ndim = int(rng.integers(1, 5)) if ndim is None else ndim
    return tuple(int(s) for s in rng.integers(1, 8, size=ndim))


def _x(rng, shape, dtype):
    return ops.random_x(rng, shape, dtype, scale=4.0)


def _close(got, want, dtype):
    got = np.asarray(got)
    assert got.dtype == dtype, (got.dtype, dtype)
    assert got.shape == np.shape(want), (got.shape, np.shape(want))
    ops.assert_close(got, want, dtype)


NORM_PAIRS = [
    pytest.param(cmf.softmax, sp.softmax, id="softmax"),
    pytest.param(cmf.log_softmax, sp.log_softmax, id="log_softmax"),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("ours, theirs", NORM_PAIRS)
def test_normalizers_every_axis(ours, theirs, seed, dtype):
    rng = np.random.default_rng(seed)
    x = _x(rng, _random_shape(rng), dtype)
    x64 = x.astype(np.float64)
    for axis in range(-x.ndim, x.ndim):
        _close(ours(x, axis=axis), theirs(x64, axis=axis), dtype)
    _close(ours(x), theirs(x64, axis=-1), dtype)            # the default axis is the last


@pytest.mark.parametrize("ours, theirs", NORM_PAIRS)
def test_normalizers_tuple_axes_and_none(ours, theirs, dtype, rng):
    x = _x(rng, (3, 4, 5), dtype)
    x64 = x.astype(np.float64)
    axes = [None, (0, 1), (1, 2), (0, 2), (2, 0), (-1, 0), (0, 1, 2), (1,)]
    for axis in axes:
        _close(ours(x, axis=axis), theirs(x64, axis=axis), dtype)


@pytest.mark.parametrize("ours, theirs", NORM_PAIRS)
def test_normalizers_temperature(ours, theirs, dtype, rng):
    x = _x(rng, (6, 11), dtype)
    x64 = x.astype(np.float64)
    for t in (0.3, 2.5):
        _close(ours(x, axis=-1, temperature=t), theirs(x64 / t, axis=-1), dtype)
    t = rng.uniform(0.2, 3.0, size=6)
    _close(ours(x, axis=-1, temperature=t), theirs(x64 / t[:, None], axis=-1), dtype)
    t = rng.uniform(0.2, 3.0, size=11)       # axis 0: one temperature per column
    _close(ours(x, axis=0, temperature=t), theirs(x64 / t, axis=0), dtype)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_every_axis(seed, keepdims, dtype):
    rng = np.random.default_rng(seed)
    x = _x(rng, _random_shape(rng), dtype)
    x64 = x.astype(np.float64)
    for axis in list(range(-x.ndim, x.ndim)) + [None]:
        _close(cmf.logsumexp(x, axis=axis, keepdims=keepdims),
               sp.logsumexp(x64, axis=axis, keepdims=keepdims), dtype)
    # the default axis is the last (scipy's is None)
    _close(cmf.logsumexp(x), sp.logsumexp(x64, axis=-1), dtype)


def test_logsumexp_tuple_axes(dtype, rng):
    x = _x(rng, (3, 4, 5), dtype)
    x64 = x.astype(np.float64)
    for k in (1, 2, 3):
        for axes in itertools.permutations(range(3), k):
            for keepdims in (False, True):
                _close(cmf.logsumexp(x, axis=axes, keepdims=keepdims),
                       sp.logsumexp(x64, axis=axes, keepdims=keepdims), dtype)


def _lse_check_weighted(x, b, axis, keepdims, dtype):
    """Compare (value, sign) with scipy; the tolerance on the value grows with the
    cancellation in sum b_i exp(x_i) (its condition number), as it must."""
    x64, b64 = x.astype(np.float64), np.broadcast_to(b, x.shape).astype(np.float64)
    val, sgn = cmf.logsumexp(x, axis=axis, b=b, keepdims=keepdims, return_sign=True)
    rv, rs = sp.logsumexp(x64, axis=axis, b=b64, keepdims=keepdims, return_sign=True)
    val, sgn = np.asarray(val), np.asarray(sgn)
    assert val.shape == np.shape(rv) and sgn.shape == np.shape(rs)
    assert val.dtype == dtype and sgn.dtype == dtype
    np.testing.assert_array_equal(sgn, rs)
    m = np.max(x64, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = (np.sum(np.abs(b64) * np.exp(x64 - m), axis=axis, keepdims=keepdims)
                / np.abs(np.sum(b64 * np.exp(x64 - m), axis=axis, keepdims=keepdims)))
    eps = np.finfo(dtype).eps
    err = np.abs(val.astype(np.float64) - rv)
    bound = 16 * eps * cond * np.maximum(1.0, np.abs(rv)) + ops.tol(dtype)["atol"] + \
        ops.tol(dtype)["rtol"] * np.abs(rv)
    assert np.all(err <= bound), (err, bound)
    # and without return_sign: the value, or NaN where the sum is negative
    plain = np.asarray(cmf.logsumexp(x, axis=axis, b=b, keepdims=keepdims))
    np.testing.assert_array_equal(np.isnan(plain), rs < 0)


@pytest.mark.parametrize("seed", SEEDS)
def test_logsumexp_negative_weights_return_sign(seed, dtype):
    rng = np.random.default_rng(seed)
    shape = _random_shape(rng, ndim=3)
    x = _x(rng, shape, dtype)
    for axis in [0, 1, 2, -1, (0, 2), None]:
        for keepdims in (False, True):
            b = rng.uniform(-1.0, 1.0, size=shape).astype(dtype)
            _lse_check_weighted(x, b, axis, keepdims, dtype)
            # broadcast weights (one per position along the last axis)
            b = rng.uniform(-1.0, 1.0, size=shape[-1]).astype(dtype)
            _lse_check_weighted(x, b, axis, keepdims, dtype)


def test_logsumexp_positive_weights(dtype, rng):
    x = _x(rng, (5, 9), dtype)
    b = rng.uniform(0.0, 3.0, size=(5, 9)).astype(dtype)
    b[0, :3] = 0.0
    _close(cmf.logsumexp(x, axis=-1, b=b), sp.logsumexp(x.astype(np.float64), axis=-1,
                                                        b=b.astype(np.float64)), dtype)
    _close(cmf.logsumexp(x, axis=0, b=b, keepdims=True),
           sp.logsumexp(x.astype(np.float64), axis=0, b=b.astype(np.float64), keepdims=True), dtype)


def test_logsumexp_temperature(dtype, rng):
    x = _x(rng, (4, 7), dtype)
    x64 = x.astype(np.float64)
    for t in (0.25, 3.0):
        _close(cmf.logsumexp(x, axis=-1, temperature=t), t * sp.logsumexp(x64 / t, axis=-1), dtype)
    t = rng.uniform(0.2, 3.0, size=4)
    _close(cmf.logsumexp(x, axis=-1, temperature=t), t * sp.logsumexp(x64 / t[:, None], axis=-1),
           dtype)


def test_logsumexp_keeps_tiny_terms():
    """lse([0, -40]) = log1p(e^-40) ~ 4.25e-18, not 0 (scipy gh-18295)."""
    got = cmf.logsumexp(np.array([0.0, -40.0]))
    np.testing.assert_allclose(got, np.log1p(np.exp(-40.0)), rtol=1e-12)
    assert got > 0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("ours, theirs", [
    pytest.param(cmf.sigmoid, sp.expit, id="sigmoid-expit"),
    pytest.param(cmf.log_sigmoid, sp.log_expit, id="log_sigmoid-log_expit"),
    pytest.param(cmf.softplus, _softplus, id="softplus"),
])
def test_elementwise(ours, theirs, seed, dtype):
    rng = np.random.default_rng(seed)
    shape = _random_shape(rng)
    x = ops.random_x(rng, shape, dtype, scale=20.0)
    x64 = x.astype(np.float64)
    _close(ours(x), theirs(x64), dtype)
    _close(ours(x, temperature=0.4), theirs(x64 / 0.4) * (0.4 if ours is cmf.softplus else 1.0),
           dtype)
    t = rng.uniform(0.2, 3.0, size=shape[-1])
    _close(ours(x, temperature=t), theirs(x64 / t) * (t if ours is cmf.softplus else 1.0), dtype)
    # 0-d input gives a 0-d result
    r = ours(x.ravel()[0])
    assert np.ndim(r) == 0
    np.testing.assert_allclose(float(r), theirs(float(x64.ravel()[0])), **ops.tol(dtype))


def test_elementwise_wide_range(dtype):
    """Far tails: expit underflows gracefully, log_expit is exactly linear."""
    lim = 80.0 if dtype == np.float32 else 700.0
    x = np.linspace(-lim, lim, 2001).astype(dtype)
    x64 = x.astype(np.float64)
    _close(cmf.sigmoid(x), sp.expit(x64), dtype)
    _close(cmf.log_sigmoid(x), sp.log_expit(x64), dtype)
    _close(cmf.softplus(x), _softplus(x64), dtype)
