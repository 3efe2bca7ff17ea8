"""Mathematical properties, checked with hypothesis on arbitrary finite inputs:
normalisation, shift invariance, the bounds max <= logsumexp <= max + t log n and
softmax_mean <= max, the temperature as a rescaling, and the two-class identities
sigmoid(y) = softmax([y, 0])[0], log_sigmoid(y) = log_softmax([y, 0])[0],
softplus(y) = logsumexp([y, 0]).
"""
from __future__ import annotations

import numpy as np
from hypothesis import assume, given, strategies as st
from hypothesis.extra import numpy as hnp

import cmaxfam as cmf

finite = st.floats(-60.0, 60.0, allow_nan=False, allow_infinity=False, width=64)
wide = st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False, width=64)
temperatures = st.floats(0.05, 20.0)
_F32_BIG = float(np.float32(1e30))


def matrices(elements=finite, max_rows=5, max_n=24):
    return hnp.arrays(np.float64, st.tuples(st.integers(1, max_rows), st.integers(1, max_n)),
                      elements=elements)


@given(matrices(), temperatures)
def test_softmax_is_a_distribution(x, t):
    p = cmf.softmax(x, temperature=t)
    assert np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=0, atol=1e-13 * x.shape[-1])
    # the largest x has the largest probability (up to rounding)
    top = p[np.arange(len(x)), x.argmax(-1)]
    assert np.all(top >= p.max(-1) * (1 - 1e-13))


@given(matrices(wide))
def test_softmax_is_a_distribution_wide_range(x):
    p = cmf.softmax(x)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=0, atol=1e-13 * x.shape[-1])


@given(hnp.arrays(np.float32, st.tuples(st.integers(1, 4), st.integers(1, 40)),
                  elements=st.floats(-_F32_BIG, _F32_BIG, width=32)),
       st.floats(0.0625, 16.0, width=32))
def test_softmax_float32_is_a_distribution(x, t):
    p = cmf.softmax(x, temperature=t)
    assert p.dtype == np.float32 and np.all(np.isfinite(p))
    np.testing.assert_allclose(p.astype(np.float64).sum(-1), 1.0, rtol=0, atol=1e-5)


@given(matrices(), st.floats(-1e3, 1e3), temperatures)
def test_shift_invariance(x, c, t):
    xs = x + c
    # the shift is exact only up to the rounding of x + c (relative eps of |x| + |c|)
    err = 4 * np.finfo(np.float64).eps * (np.abs(x).max() + abs(c)) / t
    np.testing.assert_allclose(cmf.softmax(xs, temperature=t), cmf.softmax(x, temperature=t),
                               rtol=0, atol=err + 1e-14)
    np.testing.assert_allclose(cmf.log_softmax(xs, temperature=t),
                               cmf.log_softmax(x, temperature=t), rtol=1e-12, atol=2 * err + 1e-12)
    np.testing.assert_allclose(cmf.logsumexp(xs, temperature=t),
                               cmf.logsumexp(x, temperature=t) + c, rtol=1e-12, atol=2 * err * t + 1e-12)


@given(matrices(), temperatures)
def test_logsumexp_bounds(x, t):
    lse = cmf.logsumexp(x, temperature=t)
    m = x.max(-1)
    n = x.shape[-1]
    slack = 1e-13 * np.maximum(1.0, np.abs(m))
    assert np.all(lse >= m - slack)
    assert np.all(lse <= m + t * np.log(n) + slack)


@given(matrices(wide), temperatures)
def test_logsumexp_bounds_wide_range(x, t):
    lse = cmf.logsumexp(x, temperature=t)
    m = x.max(-1)
    assert np.all(np.isfinite(lse))
    slack = 1e-13 * np.abs(m) + 1e-12
    assert np.all(lse >= m - slack)
    assert np.all(lse <= m + t * np.log(x.shape[-1]) + slack)


@given(matrices(), temperatures)
def test_softmax_mean_bounds(x, t):
    f = cmf.softmax_mean(x, temperature=t)
    slack = 1e-12 * np.maximum(1.0, np.abs(x).max(-1))
    assert np.all(f <= x.max(-1) + slack)
    assert np.all(f >= x.min(-1) - slack)
    # the "bad softmax" lower bound sits below the "good softmax" upper bound
    assert np.all(f <= cmf.logsumexp(x, temperature=t) + slack)


@given(matrices(), temperatures)
def test_temperature_is_a_rescaling(x, t):
    np.testing.assert_allclose(cmf.softmax(x, temperature=t), cmf.softmax(x / t),
                               rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(cmf.logsumexp(x, temperature=t), t * cmf.logsumexp(x / t),
                               rtol=1e-12, atol=1e-12)


@given(matrices(), temperatures)
def test_log_softmax_is_log_of_softmax(x, t):
    p = cmf.softmax(x, temperature=t)
    lp = cmf.log_softmax(x, temperature=t)
    big = p > 1e-280
    np.testing.assert_allclose(lp[big], np.log(p[big]), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lp, x / t - cmf.logsumexp(x, temperature=t, keepdims=True) / t,
                               rtol=1e-11, atol=1e-11)


two_class = hnp.arrays(np.float64, st.integers(1, 30), elements=finite)


@given(two_class, temperatures)
def test_sigmoid_is_two_class_softmax(y, t):
    pair = np.stack([y, np.zeros_like(y)], axis=-1)
    np.testing.assert_allclose(cmf.sigmoid(y, temperature=t),
                               cmf.softmax(pair, temperature=t)[..., 0], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(cmf.log_sigmoid(y, temperature=t),
                               cmf.log_softmax(pair, temperature=t)[..., 0], rtol=1e-13, atol=1e-13)


@given(two_class, temperatures)
def test_softplus_is_two_class_logsumexp(y, t):
    pair = np.stack([y, np.zeros_like(y)], axis=-1)
    np.testing.assert_allclose(cmf.softplus(y, temperature=t),
                               cmf.logsumexp(pair, temperature=t), rtol=1e-13, atol=1e-13)


@given(hnp.arrays(np.float64, st.integers(1, 30), elements=wide))
def test_two_class_identities_wide_range(y):
    pair = np.stack([y, np.zeros_like(y)], axis=-1)
    np.testing.assert_allclose(cmf.sigmoid(y), cmf.softmax(pair)[..., 0], rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(cmf.softplus(y), cmf.logsumexp(pair), rtol=1e-13, atol=1e-300)
    # log_softmax near 0 is accurate to an absolute eps (log of a sum near 1)
    np.testing.assert_allclose(cmf.log_sigmoid(y), cmf.log_softmax(pair)[..., 0], rtol=1e-13,
                               atol=1e-15)


@given(matrices(), temperatures)
def test_gradient_of_logsumexp_is_softmax(x, t):
    lse = cmf.logsumexp(x, temperature=t)
    np.testing.assert_allclose(cmf.logsumexp_vjp(x, lse, np.ones(len(x)), temperature=t),
                               cmf.softmax(x, temperature=t), rtol=1e-11, atol=1e-14)


@given(matrices(), st.integers(0, 2 ** 32 - 1))
def test_where_equals_dropping_the_entries(x, seed):
    """Masked entries behave as if they were not there at all."""
    rng = np.random.default_rng(seed)
    w = rng.random(x.shape) < 0.6
    assume(w.any(-1).all())
    for i in range(len(x)):
        xi = x[i, w[i]]
        p = cmf.softmax(x[i], where=w[i])
        np.testing.assert_allclose(p[w[i]], cmf.softmax(xi), rtol=1e-12, atol=1e-300)
        assert np.all(p[~w[i]] == 0)
        np.testing.assert_allclose(cmf.logsumexp(x[i], where=w[i]), cmf.logsumexp(xi),
                                   rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(cmf.softmax_mean(x[i], where=w[i]), cmf.softmax_mean(xi),
                                   rtol=1e-12, atol=1e-12)
