"""The gradient of entmax with respect to alpha, against finite differences in alpha.

entmax's own formula cancels catastrophically near alpha = 1 (wrong sign at 1.0001 in
float32); cmaxfam evaluates an algebraically equal form without the division by
alpha - 1.  The finite differences are central, in float64, on x away from support
boundaries, with a step small enough to stay at alpha >= 1.
"""
import numpy as np
import pytest

import cmaxfam as cmf


def _fd_alpha(x, g, alpha, h):
    f = lambda a: float(np.dot(g, cmf.entmax(x, alpha=a)))
    return (f(alpha + h) - f(alpha - h)) / (2 * h)


@pytest.mark.parametrize("alpha", [1.0001, 1.01, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("seed", range(5))
def test_alpha_grad_matches_finite_differences(alpha, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(12)
    g = rng.standard_normal(12)
    y = cmf.entmax(x, alpha=alpha)
    _, da = cmf.entmax_vjp(y, g, alpha=alpha, return_alpha_grad=True)
    h = min(1e-5, (alpha - 1) / 4) if alpha < 1.01 else 1e-5
    fd = _fd_alpha(x, g, alpha, h)
    assert da == pytest.approx(fd, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("alpha", [1.0001, 1.001])
def test_alpha_grad_float32_keeps_its_sign_near_one(alpha):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 9))
    g = rng.standard_normal((6, 9))
    y64 = cmf.entmax(x, alpha=alpha)
    _, da64 = cmf.entmax_vjp(y64, g, alpha=alpha, return_alpha_grad=True)
    y32 = cmf.entmax(x.astype(np.float32), alpha=alpha)
    _, da32 = cmf.entmax_vjp(y32, g.astype(np.float32), alpha=alpha, return_alpha_grad=True)
    assert da32.dtype == np.float32 and da32.shape == (6,)
    assert np.all(np.sign(da32) == np.sign(da64))
    np.testing.assert_allclose(da32, da64, rtol=2e-2, atol=1e-3)


def test_alpha_grad_at_one_is_the_softmax_limit():
    # at alpha = 1 the form is exact: d/dalpha of <g, entmax> at 1, compared with a
    # one-sided finite difference towards larger alpha
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal(8), rng.standard_normal(8)
    _, da = cmf.entmax_vjp(cmf.softmax(x), g, alpha=1.0, return_alpha_grad=True)
    f = lambda a: float(np.dot(g, cmf.entmax(x, alpha=a)))
    h = 1e-6
    fd = (-3 * f(1.0) + 4 * f(1 + h) - f(1 + 2 * h)) / (2 * h)
    assert da == pytest.approx(fd, rel=1e-3, abs=1e-6)


def test_alpha_grad_per_slice_alpha():
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal((3, 7)), rng.standard_normal((3, 7))
    alpha = np.array([1.2, 1.5, 2.5])
    y = cmf.entmax(x, alpha=alpha)
    _, da = cmf.entmax_vjp(y, g, alpha=alpha, return_alpha_grad=True)
    for i in range(3):
        assert da[i] == pytest.approx(_fd_alpha(x[i], g[i], alpha[i], 1e-5), rel=1e-4, abs=1e-6)
