"""The random members of the family (issue 5): gumbel_softmax and sample_categorical.

gumbel_softmax with a fixed seed also runs through the generic tests (tests/ops.py: it is
the normaliser x -> softmax((x + g) / t) for one draw g).  Here: the distributions (chi-
square and Kolmogorov-Smirnov tests with fixed seeds), the noise and how it is drawn
(finite, open-interval uniforms, one fixed order whatever the layout), reproducibility and
threads, hard mode and the derivatives at the sampled point, and the sampler's API.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import stats

import cmaxfam as cmf
import ops
import reference as ref
from cmaxfam._cy import sampling as _k

AxisError = np.exceptions.AxisError

#: a chi-square or KS test with a fixed seed must not reject at this level
P_MIN = 1e-3


def _probs(x, axis=-1, temperature=1.0, where=None):
    """The categorical distribution of the classes: the float64 oracle softmax(x / t)."""
    return ref.softmax(np.asarray(x, dtype=np.float64), axis, temperature, where)


def _assert_frequencies(samples, p, err=""):
    """samples (ints in [0, n)) are draws from p (a probability vector): chi-square over the
    classes with p > 0, and classes with p == 0 are never drawn."""
    samples = np.asarray(samples).ravel()
    n = len(p)
    counts = np.bincount(samples, minlength=n)
    assert counts.size == n, err
    zero = p == 0
    assert counts[zero].sum() == 0, f"{err}: drew a class of probability 0: {counts}"
    expected = p[~zero] * samples.size
    assert expected.min() >= 5, "test design: too few draws for a chi-square test"
    res = stats.chisquare(counts[~zero], expected)
    assert res.pvalue > P_MIN, f"{err}: counts {counts}, expected {expected}, p = {res.pvalue}"


# --------------------------------------------------------------------------------------
# sample_categorical: the distribution
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("x, t", [
    pytest.param([3.0, 2.0, 1.0], 1.0, id="seed001"),
    pytest.param([3.0, 2.0, 1.0], 0.5, id="t0.5"),
    pytest.param([3.0, 2.0, 1.0], 4.0, id="t4"),
    pytest.param([0.0, 0.0, 0.0, 0.0, 0.0], 1.0, id="uniform"),
    pytest.param(np.log([0.5, 0.25, 0.125, 0.0625, 0.0625]), 1.0, id="log-probs"),
    pytest.param([0.1, -np.inf, 1.0, -np.inf, -0.5], 1.0, id="minus-inf"),
    pytest.param([1e30, 1e30 - 2e14, 0.0], 1e14, id="huge"),
])
def test_frequencies_match_softmax(x, t):
    k = cmf.sample_categorical(x, temperature=t, size=20_000, rng=101)
    assert k.shape == (20_000,) and k.dtype == np.int64
    _assert_frequencies(k, _probs(x, temperature=t))


def test_masked_and_minus_inf_classes_are_never_drawn():
    x = np.array([0.5, -np.inf, 1.0, 2.0, 0.3, 3.0])
    w = np.array([True, True, True, False, True, False])
    k = cmf.sample_categorical(x, size=30_000, where=w, temperature=0.7, rng=7)
    _assert_frequencies(k, _probs(x, temperature=0.7, where=w))
    assert set(np.unique(k)) == {0, 2, 4}


def test_positive_infinity_is_uniform_among_the_infinite_classes():
    x = [1.0, np.inf, 5.0, np.inf, np.inf, -np.inf]
    k = cmf.sample_categorical(x, size=9_000, rng=3)
    _assert_frequencies(k, np.array([0, 1, 0, 1, 1, 0]) / 3.0)


def test_non_last_axis_and_per_slice_temperature():
    x = np.array([[0.0, 1.0, -1.0], [1.0, 1.0, 2.0], [2.0, -np.inf, 0.5], [0.5, 0.0, 0.0]])
    t = np.array([1.0, 0.5, 2.0])                   # one per column (the slices of axis 0)
    k = cmf.sample_categorical(x, axis=0, temperature=t, size=12_000, rng=11)
    assert k.shape == (12_000, 3)
    p = _probs(x, axis=0, temperature=t)
    for j in range(3):
        _assert_frequencies(k[:, j], p[:, j], f"column {j}")


def test_3d_input_with_size_tuple():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4, 3)) * 1.5
    k = cmf.sample_categorical(x, axis=1, size=(60, 100), rng=12)
    assert k.shape == (60, 100, 2, 3)
    p = _probs(x, axis=1)
    for i in range(2):
        for j in range(3):
            _assert_frequencies(k[:, :, i, j], p[i, :, j], f"slice {(i, j)}")


def test_tiny_temperature_is_argmax_and_huge_magnitudes_are_fine():
    x = np.array([[1.0, 3.0, 2.9], [1e308, -1e308, 1e308 * 0.99]])
    k = cmf.sample_categorical(x, temperature=1e-300, size=50, rng=0)
    np.testing.assert_array_equal(k, np.broadcast_to([1, 0], (50, 2)))
    x32 = np.array([[3e38, -3e38, 2.9e38]], dtype=np.float32)
    np.testing.assert_array_equal(cmf.sample_categorical(x32, temperature=1e-30, size=20, rng=0), 0)


# --------------------------------------------------------------------------------------
# gumbel_softmax: the distribution of the sample and of the noise
# --------------------------------------------------------------------------------------

def test_low_temperature_mean_approaches_the_categorical():
    """At t = 0.01 a Gumbel-softmax sample is almost one-hot at a Categorical(softmax(x))
    draw: the argmax of the samples follows p (chi-square) and their mean approaches p."""
    z = np.array([3.0, 2.0, 1.0, -1.0])
    N = 20_000
    y = cmf.gumbel_softmax(np.broadcast_to(z, (N, 4)), temperature=0.01, rng=21)
    p = _probs(z)
    _assert_frequencies(y.argmax(-1), p)
    se = np.sqrt(p * (1 - p) / N)
    assert np.all(np.abs(y.mean(0) - p) < 5 * se + 1e-3), (y.mean(0), p)


@pytest.mark.parametrize("t", [0.1, 1.0, 10.0])
def test_soft_samples_are_distributions(t, dtype):
    x = ops.random_x(np.random.default_rng(1), (200, 17), dtype)
    y = cmf.gumbel_softmax(x, temperature=t, rng=2)
    assert y.dtype == dtype and np.all(y >= 0) and np.all(y <= 1)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(y.astype(np.float64).sum(-1), 1.0, rtol=0, atol=tol)


@pytest.mark.parametrize("dt", [np.float32, np.float64], ids=["f32", "f64"])
def test_noise_is_standard_gumbel(dt):
    _, g = cmf.gumbel_softmax(np.zeros((400, 250), dtype=dt), rng=31, return_noise=True)
    assert g.dtype == dt
    res = stats.kstest(g.ravel().astype(np.float64), stats.gumbel_r.cdf)
    assert res.pvalue > P_MIN, res
    # and its two first moments, within 5 standard errors: mean Euler's gamma, variance
    # pi^2 / 6 (the sample variance's standard error is sigma^2 sqrt((kurtosis - 1) / N),
    # Gumbel's kurtosis is 5.4)
    g = g.astype(np.float64)
    var = np.pi ** 2 / 6
    assert abs(g.mean() - np.euler_gamma) < 5 * np.sqrt(var / g.size)
    assert abs(g.var() - var) < 5 * var * np.sqrt(4.4 / g.size)


def test_noise_is_finite_over_a_million_draws():
    """u = (k + 1/2) 2^-52 lies in [2^-53, 1 - 2^-53], so both logarithms of -log(-log u) see
    normal arguments and g lies in [-3.61, 36.74] (test_extreme_words checks the ends)."""
    _, g = cmf.gumbel_softmax(np.zeros(10 ** 6), rng=41, return_noise=True)
    assert np.isfinite(g).all()
    assert -3.61 < g.min() and g.max() < 36.74


def _gumbel_of_word(w):
    """The reference transform of one 64-bit word: u = (k + 1/2) / 2^52 with k its top 52
    bits (exact in Python's float), g = -log(-log u) with libm's log."""
    import math
    u = ((int(w) >> 12) + 0.5) / 2.0 ** 52
    assert 0.0 < u < 1.0
    return -math.log(-math.log(u))


def test_extreme_words():
    """The words that give the smallest and largest u, and a few others, through the real
    kernel (a generator replaced by a list of words): finite, and the reference value.
    (With the top 53 bits, (k + 1/2) 2^-53 rounds to exactly 1.0 for the all-ones word.)"""
    words = np.array([0, 2 ** 64 - 1, 2 ** 12 - 1, 2 ** 12, 2 ** 63, 2 ** 63 - 1, 2 ** 64 - 2 ** 12,
                      0x5555555555555555, 0xAAAAAAAAAAAAAAAA], dtype=np.uint64)
    for dt in (np.float32, np.float64):
        g = np.empty((1, len(words), 1), dtype=dt)
        _k.gumbel_noise_from_words(words, g)
        g = g.ravel()
        assert np.isfinite(g).all()
        want = np.array([_gumbel_of_word(w) for w in words]).astype(dt)
        np.testing.assert_allclose(g, want, rtol=4 * np.finfo(dt).eps, atol=0)
    assert g[0] == g[2] == g.min() and g[1] == g[6] == g.max()      # only the top 52 bits count
    assert -3.61 < g.min() and g.max() < 36.74


# --------------------------------------------------------------------------------------
# gumbel_softmax: the sample is softmax(x + g), hard mode, derivatives
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("axis", [-1, 0])
def test_sample_is_softmax_of_logits_plus_noise_bitwise(axis, dtype):
    rng = np.random.default_rng(51)
    x = ops.random_x(rng, (6, 9), dtype)
    x[1, 3] = -np.inf
    w = ops.random_mask(rng, x.shape, axis=axis)
    t = rng.uniform(0.2, 3.0, size=x.shape[1 - (axis % 2)])
    y, g = cmf.gumbel_softmax(x, axis, temperature=t, where=w, rng=52, return_noise=True)
    assert g.shape == x.shape and g.dtype == dtype
    np.testing.assert_array_equal(y, cmf.softmax(x + g, axis, temperature=t, where=w))
    assert np.all(y[~w] == 0) and np.all(y[np.isneginf(x)] == 0)
    # the noise does not depend on the temperature or the mask
    _, g2 = cmf.gumbel_softmax(x, axis, rng=52, return_noise=True)
    np.testing.assert_array_equal(g, g2)


def test_float16_and_integer_logits():
    x = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    y16, g16 = cmf.gumbel_softmax(x.astype(np.float16), rng=3, return_noise=True)
    assert y16.dtype == g16.dtype == np.float16
    y32, g32 = cmf.gumbel_softmax(x.astype(np.float32), rng=3, return_noise=True)
    np.testing.assert_array_equal(y16, y32.astype(np.float16))          # computed in float32
    np.testing.assert_array_equal(g16, g32.astype(np.float16))
    yi, gi = cmf.gumbel_softmax(x.astype(np.int32), rng=3, return_noise=True)
    assert yi.dtype == gi.dtype == np.float64
    np.testing.assert_array_equal(yi, cmf.softmax(x.astype(np.int32) + gi))
    np.testing.assert_array_equal(cmf.sample_categorical(x.astype(np.float16), size=5, rng=4),
                                  cmf.sample_categorical(x.astype(np.float32), size=5, rng=4))
    xi = x.astype(np.int64)
    np.testing.assert_array_equal(cmf.sample_categorical(xi, size=5, rng=4),
                                  cmf.sample_categorical(xi.astype(np.float64), size=5, rng=4))


@pytest.mark.parametrize("t", [0.05, 1.0, 5.0])
def test_hard_is_one_hot_at_the_argmax_of_the_soft_sample(t, dtype):
    x = ops.random_x(np.random.default_rng(61), (50, 7), dtype)
    w = ops.random_mask(np.random.default_rng(62), x.shape)
    y, g = cmf.gumbel_softmax(x, temperature=t, where=w, hard=True, rng=63, return_noise=True)
    soft = cmf.softmax(x + g, temperature=t, where=w)
    np.testing.assert_array_equal(y, cmf.argmax(soft, where=w))
    assert y.dtype == dtype and np.all(y.sum(-1) == 1) and np.all(y[~w] == 0)
    # the same draws as the soft sample's
    np.testing.assert_array_equal(soft, cmf.gumbel_softmax(x, temperature=t, where=w, rng=63))


def test_hard_special_slices():
    x = np.array([[0.0, np.nan, 1.0], [-np.inf, -np.inf, -np.inf], [1.0, 2.0, 3.0]])
    w = np.array([[True, True, True], [True, True, True], [False, False, False]])
    y = cmf.gumbel_softmax(x, hard=True, where=w, rng=0)
    assert np.isnan(y[0]).all() and np.isnan(y[1]).all()      # as argmax's one-hot
    np.testing.assert_array_equal(y[2], 0)                      # fully masked: zeros


def _soft(x, g, t):
    return ref.softmax(x + g, -1, t)


@pytest.mark.parametrize("t", [0.5, 1.0, 3.0])
def test_vjp_jvp_against_finite_differences_and_the_jacobian(t):
    rng = np.random.default_rng(71)
    x = rng.standard_normal((3, 5))
    y, g = cmf.gumbel_softmax(x, temperature=t, rng=72, return_noise=True)
    v = rng.standard_normal(x.shape)
    dx = rng.standard_normal(x.shape)
    vjp = cmf.gumbel_softmax_vjp(y, v, temperature=t)
    jvp = cmf.gumbel_softmax_jvp(y, dx, temperature=t)
    J = cmf.gumbel_softmax_jacobian(y, temperature=t)
    # the explicit Jacobian of softmax((x + g) / t) at fixed g: (diag(y) - y y^T) / t
    Jref = (np.einsum("ri,ij->rij", y, np.eye(5)) - y[:, :, None] * y[:, None, :]) / t
    np.testing.assert_allclose(J, Jref, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(vjp, np.einsum("ri,rij->rj", v, Jref), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(jvp, np.einsum("rij,rj->ri", Jref, dx), rtol=1e-12, atol=1e-14)
    # central differences of x -> softmax((x + g) / t) with the noise held fixed
    h = 1e-5
    fd = np.empty_like(x)
    for i in range(5):
        e = np.zeros(5)
        e[i] = h
        fd[:, i] = ((_soft(x + e, g, t) - _soft(x - e, g, t)) * v).sum(-1) / (2 * h)
    np.testing.assert_allclose(vjp, fd, rtol=1e-6, atol=1e-9)
    # and the library's own forward at fixed seed gives the same differences
    fd_lib = (cmf.gumbel_softmax(x + h * dx, temperature=t, rng=72)
              - cmf.gumbel_softmax(x - h * dx, temperature=t, rng=72)) / (2 * h)
    np.testing.assert_allclose(jvp, fd_lib, rtol=1e-6, atol=1e-9)


def test_straight_through_vjp_uses_the_soft_sample():
    x = np.array([[2.0, 1.0, 0.0, -1.0]])
    hard, g = cmf.gumbel_softmax(x, temperature=0.5, hard=True, rng=8, return_noise=True)
    soft = cmf.softmax(x + g, temperature=0.5)
    v = np.array([[1.0, -2.0, 0.5, 3.0]])
    np.testing.assert_array_equal(cmf.gumbel_softmax_vjp(soft, v, temperature=0.5),
                                  cmf.softmax_vjp(soft, v, temperature=0.5))


# --------------------------------------------------------------------------------------
# Reproducibility, the order of the draws, threads
# --------------------------------------------------------------------------------------

def test_same_seed_same_samples_and_different_seeds_differ():
    x = np.random.default_rng(0).standard_normal((20, 10))
    for f in (lambda r: cmf.gumbel_softmax(x, rng=r), lambda r: cmf.sample_categorical(x, size=5, rng=r)):
        a, b, c = f(123), f(np.random.default_rng(123)), f(124)
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
        gen = np.random.default_rng(9)
        assert not np.array_equal(f(gen), f(gen))        # a Generator's state advances


def test_one_call_on_stacked_rows_is_many_calls_with_one_generator():
    """The stream is consumed slice by slice: 100 calls on z draw what one call on 100
    copies of z draws (the example of seed 001), and sample_categorical's samples of a
    slice are consecutive."""
    z = np.array([3.0, 2.0, 1.0])
    gen = np.random.default_rng(0)
    loop = np.array([cmf.gumbel_softmax(z, temperature=0.01, rng=gen) for _ in range(100)])
    np.testing.assert_array_equal(loop, cmf.gumbel_softmax(np.tile(z, (100, 1)), temperature=0.01, rng=0))
    gen = np.random.default_rng(1)
    loop = np.array([cmf.sample_categorical(z, size=7, rng=gen) for _ in range(3)])
    np.testing.assert_array_equal(loop.T, cmf.sample_categorical(np.tile(z, (3, 1)), size=7, rng=1))


def _layouts(x):
    """The same logical array in other memory layouts."""
    rev = x[::-1, ::-1].copy()[::-1, ::-1]            # negative strides
    wide = np.zeros((x.shape[0], 2 * x.shape[1]), dtype=x.dtype)
    wide[:, ::2] = x
    return {"fortran": np.asfortranarray(x), "negative": rev, "strided": wide[:, ::2]}


@pytest.mark.parametrize("axis", [0, 1])
def test_draws_do_not_depend_on_the_layout(axis, dtype):
    x = ops.random_x(np.random.default_rng(2), (7, 12), dtype)
    w = ops.random_mask(np.random.default_rng(3), x.shape, axis=axis)
    ys, gs = cmf.gumbel_softmax(x, axis, rng=4, where=w, return_noise=True)
    ks = cmf.sample_categorical(x, axis, size=3, rng=4, where=w)
    for name, xl in _layouts(x).items():
        y, g = cmf.gumbel_softmax(xl, axis, rng=4, where=w, return_noise=True)
        np.testing.assert_array_equal(g, gs, err_msg=name)
        np.testing.assert_array_equal(y, ys, err_msg=name)
        np.testing.assert_array_equal(cmf.sample_categorical(xl, axis, size=3, rng=4, where=w), ks,
                                      err_msg=name)
    # axis 0 of x draws what the last axis of its transposed copy draws
    xt = np.ascontiguousarray(np.moveaxis(x, axis, -1))
    np.testing.assert_array_equal(np.moveaxis(gs, axis, -1),
                                  cmf.gumbel_softmax(xt, rng=4, return_noise=True)[1])
    np.testing.assert_array_equal(ks, cmf.sample_categorical(xt, size=3, rng=4,
                                                             where=np.moveaxis(w, axis, -1)))


def test_layouts_that_split_into_chunks():
    """Layouts whose batch dimensions cannot be merged into one stride (the plumbing hands
    the kernels several chunks per call): the same draws, in the same order, under one
    hold of the lock."""
    from cmaxfam import _plumbing as P
    x = ops.random_x(np.random.default_rng(5), (2, 4, 3, 2))
    base_y, base_g = cmf.gumbel_softmax(x, axis=1, rng=6, return_noise=True)
    base_k = cmf.sample_categorical(x, axis=1, size=2, rng=6)
    for xl in (np.asfortranarray(x), np.pad(x, ((0, 0), (0, 0), (0, 0), (0, 1)))[..., :2]):
        assert len(P.slice_views(1, [xl])) > 1
        y, g = cmf.gumbel_softmax(xl, axis=1, rng=6, return_noise=True)
        np.testing.assert_array_equal(g, base_g)
        np.testing.assert_array_equal(y, base_y)
        np.testing.assert_array_equal(cmf.sample_categorical(xl, axis=1, size=2, rng=6), base_k)


def test_out_in_place_and_float16_out():
    x = ops.random_x(np.random.default_rng(7), (5, 6))
    want = cmf.gumbel_softmax(x, rng=8)
    out = np.empty_like(x)
    assert cmf.gumbel_softmax(x, rng=8, out=out) is out
    np.testing.assert_array_equal(out, want)
    xi = x.copy()
    assert cmf.gumbel_softmax(xi, rng=8, out=xi) is xi                # in place
    np.testing.assert_array_equal(xi, want)
    x16 = x.astype(np.float16)
    o16 = np.empty_like(x16)
    assert cmf.gumbel_softmax(x16, rng=8, out=o16) is o16
    np.testing.assert_array_equal(o16, cmf.gumbel_softmax(x16, rng=8))


def test_separate_same_seeded_generators_in_threads():
    x = np.random.default_rng(0).standard_normal((300, 40))
    x.flags.writeable = False
    want_k = cmf.sample_categorical(x, rng=np.random.default_rng(0), size=3)
    want_y = cmf.gumbel_softmax(x, rng=np.random.default_rng(0), temperature=0.3)
    barrier = threading.Barrier(4)

    def run(_):
        barrier.wait()
        return (cmf.sample_categorical(x, rng=np.random.default_rng(0), size=3),
                cmf.gumbel_softmax(x, rng=np.random.default_rng(0), temperature=0.3))

    with ThreadPoolExecutor(max_workers=4) as pool:
        for k, y in pool.map(run, range(16)):
            np.testing.assert_array_equal(k, want_k)
            np.testing.assert_array_equal(y, want_y)


def test_shared_generator_in_threads():
    """8 threads share one Generator and make the same kind of call: the results are the
    serial results in some order (each call draws a whole block under the lock, nothing is
    interleaved or corrupted), and the generator ends where the serial calls leave it."""
    x = np.random.default_rng(1).standard_normal((64, 33))
    x.flags.writeable = False
    for call in (lambda gen: cmf.sample_categorical(x, rng=gen, size=2).tobytes(),
                 lambda gen: cmf.gumbel_softmax(x, rng=gen).tobytes()):
        serial_gen = np.random.default_rng(2)
        serial = [call(serial_gen) for _ in range(48)]
        shared = np.random.default_rng(2)
        with ThreadPoolExecutor(max_workers=8) as pool:
            threaded = list(pool.map(lambda _: call(shared), range(48)))
        assert sorted(threaded) == sorted(serial)
        assert shared.bit_generator.state == serial_gen.bit_generator.state


# --------------------------------------------------------------------------------------
# The sampler's API
# --------------------------------------------------------------------------------------

def test_sample_shapes():
    x = np.zeros((2, 3, 4))
    assert cmf.sample_categorical(x, rng=0).shape == (2, 3)
    assert cmf.sample_categorical(x, axis=1, rng=0).shape == (2, 4)
    assert cmf.sample_categorical(x, size=5, rng=0).shape == (5, 2, 3)
    assert cmf.sample_categorical(x, size=(5, 6), rng=0).shape == (5, 6, 2, 3)
    assert cmf.sample_categorical(x, size=np.int64(2), rng=0).shape == (2, 2, 3)
    assert cmf.sample_categorical(x, size=0, rng=0).shape == (0, 2, 3)
    assert cmf.sample_categorical(np.zeros((0, 4)), rng=0).shape == (0,)
    k = cmf.sample_categorical([1.0, 2.0], rng=0)
    assert isinstance(k, np.int64) and k in (0, 1)
    assert cmf.sample_categorical([1.0, 2.0], size=(), rng=0).shape == ()


def test_rng_argument():
    x = [1.0, 2.0, 3.0]
    ks = {int(cmf.sample_categorical(x)) for _ in range(50)}            # None: fresh entropy
    assert ks <= {0, 1, 2} and len(ks) > 1
    for bad in (1.5, "0", [0], np.random.RandomState(0), np.random.PCG64(0), True):
        with pytest.raises(TypeError, match="rng"):
            cmf.sample_categorical(x, rng=bad)
        with pytest.raises(TypeError, match="rng"):
            cmf.gumbel_softmax(x, rng=bad)
    with pytest.raises(ValueError, match="rng"):
        cmf.sample_categorical(x, rng=-1)
    np.testing.assert_array_equal(cmf.sample_categorical(x, size=9, rng=np.int32(4)),
                                  cmf.sample_categorical(x, size=9, rng=4))


@pytest.mark.parametrize("f", [
    pytest.param(lambda x, **kw: cmf.sample_categorical(x, **kw), id="sample_categorical"),
    pytest.param(lambda x, **kw: cmf.gumbel_softmax(x, **kw), id="gumbel_softmax"),
])
def test_parameter_errors_name_the_parameter_and_draw_nothing(f):
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    gen = np.random.default_rng(0)
    state = gen.bit_generator.state
    for kw, exc, name in [
        (dict(temperature=0.0), ValueError, "temperature"),
        (dict(temperature=-1.0), ValueError, "temperature"),
        (dict(temperature=np.inf), ValueError, "temperature"),
        (dict(temperature=np.ones(3)), ValueError, "temperature"),
        (dict(axis=2), AxisError, "axis"),
        (dict(axis=(0, 1)), TypeError, "axis"),
        (dict(where=np.ones(3, dtype=np.int8)), TypeError, "where"),
        (dict(where=np.ones((3, 3), dtype=bool)), ValueError, "where"),
    ]:
        with pytest.raises(exc, match=name):
            f(x, rng=gen, **kw)
    with pytest.raises(TypeError, match="logits"):
        f(x.astype(complex), rng=gen)
    assert gen.bit_generator.state == state
    assert issubclass(AxisError, ValueError)


def test_sample_categorical_rejects_unsamplable_slices_before_drawing():
    gen = np.random.default_rng(0)
    state = gen.bit_generator.state
    good = [0.0, 1.0, 2.0]
    for x, w, what in [
        ([good, [0.0, np.nan, 1.0]], None, "NaN"),
        ([good, [-np.inf, -np.inf, -np.inf]], None, "no class"),
        ([good, [0.0, 1.0, 2.0]], [[True] * 3, [False] * 3], "no class"),
        ([good, [0.0, 5.0, -np.inf]], [[True] * 3, [False, False, True]], "no class"),
        (np.zeros((2, 0)), None, "no class"),
    ]:
        with pytest.raises(ValueError, match="logits") as info:
            cmf.sample_categorical(x, where=w, rng=gen, size=3)
        assert what in str(info.value)
    assert gen.bit_generator.state == state
    # a layout that runs as several chunks (test_layouts_that_split_into_chunks): the bad
    # slice is in the last one
    x = np.asfortranarray(np.zeros((2, 4, 3, 2)))
    x[1, 1, 2, 1] = np.nan
    with pytest.raises(ValueError, match=r"logits contains NaN \(the slice at batch index \(1, 2, 1\)\)"):
        cmf.sample_categorical(x, axis=1, rng=gen, size=2)
    with pytest.raises(ValueError, match="logits"):                 # nothing to draw, still checked
        cmf.sample_categorical(x, axis=1, rng=gen, size=0)
    assert gen.bit_generator.state == state
    # a NaN in an excluded entry is ignored
    k = cmf.sample_categorical([0.0, np.nan, 1.0], where=[True, False, True], size=100, rng=0)
    assert set(np.unique(k)) <= {0, 2}
    for bad, exc in [(-1, ValueError), ((2, -1), ValueError), (2.5, TypeError), ("3", TypeError)]:
        with pytest.raises(exc, match="size"):
            cmf.sample_categorical(good, size=bad, rng=gen)


def test_gumbel_out_errors_leave_out_and_the_generator_untouched(dtype):
    x = ops.random_x(np.random.default_rng(0), (4, 5), dtype)
    gen = np.random.default_rng(0)
    state = gen.bit_generator.state
    out = np.full(x.shape, 7, dtype=dtype)
    for bad_out, exc in [(np.empty((4, 4), dtype), ValueError), (np.empty(x.shape, np.float16), TypeError),
                         (np.empty(x.shape, np.int64), TypeError)]:
        with pytest.raises(exc, match="out"):
            cmf.gumbel_softmax(x, out=bad_out, rng=gen)
    for kw in (dict(rng="seed"), dict(temperature=0.0), dict(axis=5)):
        kw.setdefault("rng", gen)
        with pytest.raises((TypeError, ValueError)):
            cmf.gumbel_softmax(x, out=out, **kw)
        assert np.all(out == 7)
    assert gen.bit_generator.state == state


def test_empty_and_fully_masked():
    assert cmf.gumbel_softmax(np.zeros((0, 3)), rng=0).shape == (0, 3)
    y, g = cmf.gumbel_softmax(np.zeros((2, 0)), rng=0, return_noise=True)
    assert y.shape == g.shape == (2, 0)
    y = cmf.gumbel_softmax(np.zeros((2, 3)), where=np.array([[False] * 3, [True] * 3]), rng=0)
    np.testing.assert_array_equal(y[0], 0)
    np.testing.assert_allclose(y[1].sum(), 1.0)
    assert np.array_equal(cmf.gumbel_softmax([[5.0]], rng=0), [[1.0]])      # n = 1
