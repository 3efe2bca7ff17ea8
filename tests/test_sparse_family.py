"""The sparse members of the family (issue 4): sparsemax, entmax15, alpha-entmax, the
entropies and the smoothed max, beyond what the generic tests of the registry check.

Against the float64 oracles of ``reference.py`` (sort-based sparsemax and 1.5-entmax,
bisection for alpha-entmax) on random rows of many sizes and scales, and against maths:
normalisation to a few ULP, exact zeros outside the support, the alpha = 1 / alpha = 2
identities (bitwise), shift invariance, the argmax limits, per-slice alpha, the inputs that
break the ``entmax`` package, the entropy identities, and the smoothed max as logsumexp
(alpha = 1) with entmax as its gradient.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import cmaxfam as cmf
import ops
import reference as ref

inf, nan = np.inf, np.nan

#: (id, forward(x, axis, **kw), reference(x, axis, **kw), alpha)
SPARSE = [
    ("sparsemax", lambda x, axis=-1, **kw: cmf.sparsemax(x, axis, **kw),
     lambda x, axis=-1, temperature=1.0, where=None: ref.sparsemax(x, axis, temperature, where), 2.0),
    ("entmax15", lambda x, axis=-1, **kw: cmf.entmax15(x, axis, **kw),
     lambda x, axis=-1, temperature=1.0, where=None: ref.entmax15(x, axis, temperature, where), 1.5),
] + [
    (f"entmax_a{a:g}", (lambda a: lambda x, axis=-1, **kw: cmf.entmax(x, a, axis, **kw))(a),
     (lambda a: lambda x, axis=-1, temperature=1.0, where=None:
      ref.entmax(x, a, axis, temperature, where))(a), a)
    for a in (1.25, 1.5, 1.75, 2.0, 3.0, 10.0)
]
SPARSE_IDS = [s[0] for s in SPARSE]
SIZES = (1, 2, 3, 7, 50, 1000)
SIGMAS = (1e-4, 0.01, 0.1, 1.0, 10.0, 100.0)


def _eps(dtype):
    return float(np.finfo(dtype).eps)


def _close(p, x, alpha, axis=-1, *, temperature=1.0, where=None, scale=1.0, err_msg=""):
    """p against the reference: the usual tolerance for alpha <= 2, the conditioning of
    [u - tau]^(1/(alpha-1)) for alpha > 2 (see ops.assert_entmax_close)."""
    if alpha <= 2:
        want = ref.entmax15(x, axis, temperature, where) if alpha == 1.5 else (
            ref.sparsemax(x, axis, temperature, where) if alpha == 2 else
            ref.entmax(x, alpha, axis, temperature, where))
        ops.assert_close(p, want, exact_zeros=True, scale=scale, err_msg=err_msg)
    else:
        ops.assert_entmax_close(p, x, alpha, axis, temperature=temperature, where=where,
                                scale=scale, err_msg=err_msg)


def _check_distribution(p, dtype, err_msg=""):
    """Finite, non-negative, summing to 1 within a few ULP (4 eps sqrt(support size))."""
    p64 = np.asarray(p, dtype=np.float64)
    assert np.isfinite(p64).all(), err_msg
    assert (p64 >= 0).all(), err_msg
    k = np.maximum((p64 > 0).sum(-1), 1)
    err = np.abs(p64.sum(-1) - 1.0)
    bound = 4 * _eps(dtype) * np.sqrt(k)
    assert np.all(err <= bound), (err_msg, err.max(), k[np.argmax(err - bound)])


def test_public_names():
    names = {"sparsemax", "entmax15", "entmax", "smoothed_max",
             "shannon_entropy", "gini_entropy", "tsallis_entropy"}
    for f in ("sparsemax", "entmax15", "entmax"):
        names |= {f + "_vjp", f + "_jvp", f + "_jacobian"}
    names |= {"smoothed_max_vjp", "smoothed_max_jvp"}
    assert names <= set(cmf.__all__)
    for name in names:
        assert callable(getattr(cmf, name))


# --------------------------------------------------------------------------------------
# Against the references: every size, every scale (supports from 1 to nearly all)
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, fwd, refn, alpha", SPARSE, ids=SPARSE_IDS)
def test_random_rows_against_reference(name, fwd, refn, alpha, dtype, rng):
    fractions = []
    for n in SIZES:
        for sigma in SIGMAS:
            rows = 40 if n < 1000 else 8
            x = (sigma * rng.standard_normal((rows, n))).astype(dtype)
            t = 1.0 if sigma != 1.0 else 0.7
            p = fwd(x, temperature=t)
            assert p.dtype == dtype and p.shape == x.shape
            msg = f"{name} n={n} sigma={sigma}"
            _close(p, x, alpha, temperature=t, err_msg=msg)
            _check_distribution(p, dtype, msg)
            if alpha <= 2:
                # every exact zero is a reference value below the dtype's resolution
                want = refn(x, temperature=t)
                assert np.all(want[p == 0] <= 4 * _eps(dtype)), msg
            fractions += ((p > 0).sum(-1) / n).tolist() if n >= 50 else []
            fractions += [1.0 / n] if (p > 0).sum(-1).min() == 1 else []
    # the scales really did range from one-hot to (nearly) dense supports
    assert min(fractions) <= 1 / 50 and max(fractions) >= (0.9 if alpha <= 2 else 0.5)


@pytest.mark.parametrize("name, fwd, refn, alpha", SPARSE, ids=SPARSE_IDS)
def test_order_is_preserved(name, fwd, refn, alpha, rng):
    """x_i > x_j implies p_i >= p_j (and equal inputs get equal outputs)."""
    x = np.round(rng.standard_normal((30, 12)), 1)          # many ties
    p = fwd(x)
    i = np.argsort(x, axis=-1, kind="stable")
    xs, ps = np.take_along_axis(x, i, -1), np.take_along_axis(p, i, -1)
    assert np.all(np.diff(ps, axis=-1) >= -1e-15)
    ties = np.diff(xs, axis=-1) == 0
    np.testing.assert_allclose(np.diff(ps, axis=-1)[ties], 0.0, atol=1e-15)


def test_sparsemax_closed_forms():
    """Small cases solved by hand: [z - tau]_+ with sum 1."""
    np.testing.assert_allclose(cmf.sparsemax([0.5, 1.0, -1.0]), [0.25, 0.75, 0.0], rtol=1e-15)
    np.testing.assert_allclose(cmf.sparsemax([0.0, 2.0]), [0.0, 1.0], rtol=0, atol=0)
    np.testing.assert_allclose(cmf.sparsemax([1.0, 2.0, 3.0], temperature=4.0),
                               [1 / 12, 1 / 3, 7 / 12], rtol=1e-15)
    # 1.5-entmax of [0, 0, -inf]: [1/2, 1/2, 0]; of [1, 0]: [z/2 - tau]^2 summing to 1
    np.testing.assert_allclose(cmf.entmax15([0.0, 0.0, -inf]), [0.5, 0.5, 0.0], rtol=1e-15)
    # u = [0.5, 0]: (0.5 - tau)^2 + (0 - tau)^2 = 1 -> tau = (0.5 - sqrt(2 - 0.25)) / 2
    tau = (0.5 - np.sqrt(1.75)) / 2
    np.testing.assert_allclose(cmf.entmax15([1.0, 0.0]), [(0.5 - tau) ** 2, tau ** 2], rtol=1e-14)


# --------------------------------------------------------------------------------------
# alpha = 1 is softmax and alpha = 2 sparsemax, bitwise
# --------------------------------------------------------------------------------------

def _identity_inputs(rng, dtype):
    x = ops.random_x(rng, (6, 9), dtype)
    x[1, 2] = -inf
    x[2, :] = -inf
    x[3, 4] = inf
    x[4, 0] = nan
    w = rng.random(x.shape) < 0.7
    w[5] = False
    t = rng.uniform(0.3, 3.0, size=(6, 1))
    return x, w, t


def _identity_checks(alpha, other, dtype, rng, check):
    """check(entmax(x, alpha, ...), other(x, ...)) on short rows (the staged path), long
    rows, temperatures, masks, special values, every axis of a 3-D array, and per slice
    inside an alpha array."""
    for n in (2, 9, 33, 300):
        x = ops.random_x(rng, (5, n), dtype)
        check(cmf.entmax(x, alpha), other(x), f"n={n}")
        check(cmf.entmax(x, alpha, temperature=0.3), other(x, temperature=0.3), f"n={n} t")
    x, w, t = _identity_inputs(rng, dtype)
    for kw in (dict(), dict(temperature=t), dict(where=w), dict(temperature=0.3, where=w)):
        check(cmf.entmax(x, alpha, **kw), other(x, **kw), f"special {sorted(kw)}")
    xx = ops.random_x(rng, (4, 5, 6), dtype)
    for axis in (0, 1, 2):
        check(cmf.entmax(xx, alpha, axis), other(xx, axis), f"axis={axis}")
    a = np.array([alpha, 1.5, alpha, 3.0, alpha, 1.25])
    got = cmf.entmax(x, a, temperature=t)
    rows = a == alpha
    check(got[rows], other(x[rows], temperature=t[rows]), "alpha array")


@pytest.mark.parametrize("alpha, other", [
    pytest.param(1.0, cmf.softmax, id="1.0-softmax"),
    pytest.param(1, cmf.softmax, id="int1-softmax"),
    pytest.param(2.0, cmf.sparsemax, id="2.0-sparsemax"),
    pytest.param(2, cmf.sparsemax, id="int2-sparsemax")])
def test_alpha_one_and_two_are_bitwise(alpha, other, dtype, rng):
    def check(a, b, msg):
        np.testing.assert_array_equal(a, b, err_msg=msg)
    _identity_checks(alpha, other, dtype, rng, check)


@pytest.mark.parametrize("alpha, name", [(1.0, "softmax"), (2.0, "sparsemax")])
def test_alpha_one_and_two_derivatives(alpha, name, dtype, rng):
    x = ops.random_x(rng, (5, 7), dtype)
    t = rng.uniform(0.5, 2.0, size=(5, 1))
    y = cmf.entmax(x, alpha, temperature=t)
    g = rng.standard_normal(x.shape).astype(dtype)
    f = getattr(cmf, name)
    tol = ops.tol(dtype, 0.1)
    np.testing.assert_allclose(cmf.entmax_vjp(y, g, alpha, temperature=t),
                               getattr(cmf, name + "_vjp")(y, g, temperature=t), **tol)
    np.testing.assert_allclose(cmf.entmax_jvp(y, g, alpha, temperature=t),
                               getattr(cmf, name + "_jvp")(y, g, temperature=t), **tol)
    np.testing.assert_allclose(cmf.entmax_jacobian(y, alpha, temperature=t),
                               getattr(cmf, name + "_jacobian")(y, temperature=t), **tol)
    np.testing.assert_array_equal(y, f(x, temperature=t))


# --------------------------------------------------------------------------------------
# Invariances and limits
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, fwd, refn, alpha", [s for s in SPARSE if s[3] <= 2.0],
                         ids=[s[0] for s in SPARSE if s[3] <= 2.0])
@pytest.mark.parametrize("c", [1e3, -1e5, 0.5])
def test_shift_invariance(name, fwd, refn, alpha, c, rng):
    x = 2.0 * rng.standard_normal((20, 15))
    t = 0.8
    xs = x + c
    # the only difference is the rounding of x + c (a few eps of |x| + |c|), amplified by
    # at most 1 / ((alpha - 1) t) (the Lipschitz constant of p = [(a-1) z - tau]^(1/(a-1))
    # near p <= 1 is bounded by that for alpha <= 2)
    err = 8 * np.finfo(np.float64).eps * (np.abs(x).max() + abs(c)) / t / (alpha - 1.0)
    np.testing.assert_allclose(fwd(xs, temperature=t), fwd(x, temperature=t), rtol=0,
                               atol=err + 1e-15)


TIE_ROWS = np.array([[1.0, 3.0, 3.0, 2.0, -1.0],
                     [5.0, 5.0, 5.0, 5.0, 5.0],
                     [0.0, -1.0, 7.0, 7.0 - 2.0 ** -30, -inf],
                     [-2.0, -2.0, -3.0, -2.0, -2.5],
                     [1e3, -1e3, 0.0, 1e3 - 1.0, 1.0]])


@pytest.mark.parametrize("name, fwd, refn, alpha", SPARSE, ids=SPARSE_IDS)
@pytest.mark.parametrize("t", [1e-30, 1e-20, 1e-12])
def test_temperature_to_zero_is_argmax_with_shared_ties(name, fwd, refn, alpha, t, dtype):
    x = TIE_ROWS.astype(dtype)
    top = x == x.max(-1, keepdims=True)
    want = top / top.sum(-1, keepdims=True)
    got = fwd(x, temperature=t)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=4 * _eps(dtype), atol=4 * _eps(dtype))
    assert np.all(got[~top] == 0)


@pytest.mark.parametrize("alpha", [20.0, 100.0, 1000.0])
def test_large_alpha_approaches_argmax(alpha, dtype, rng):
    x = rng.standard_normal((50, 12)).astype(dtype)
    xs = np.sort(x.astype(np.float64), -1)
    gap = xs[:, -1] - xs[:, -2]                     # the top gap of every row
    p = cmf.entmax(x, alpha)
    _check_distribution(p, dtype)
    _close(p, x, alpha)
    # rows whose top gap exceeds 1 / (alpha - 1): exactly one entry in the support
    clear = gap > 1.0 / (alpha - 1.0)
    assert clear.sum() >= 10
    onehot = (x == x.max(-1, keepdims=True)).astype(np.float64)
    np.testing.assert_allclose(p[clear], onehot[clear], rtol=0, atol=4 * _eps(dtype))
    # and as alpha grows the distance to the one-hot does not grow (up to rounding)
    d = [np.abs(cmf.entmax(x.astype(np.float64), a) - onehot).sum(-1) for a in (1.5, 3.0, alpha)]
    assert np.all(d[1] <= d[0] + 1e-12) and np.all(d[2] <= d[1] + 1e-12)


# --------------------------------------------------------------------------------------
# alpha per slice
# --------------------------------------------------------------------------------------

def test_alpha_per_slice(rng):
    x = ops.random_x(rng, (6, 8))
    alpha = np.array([1.0, 1.25, 1.5, 2.0, 3.0, 10.0])
    t = rng.uniform(0.5, 2.0, size=6)
    want = ref.entmax(x, alpha, -1, t)
    for a in (alpha, alpha[:, None]):
        got = cmf.entmax(x, a, temperature=t)
        ops.assert_close(got, want, exact_zeros=True, scale=10)
        for i in range(6):
            np.testing.assert_allclose(got[i], cmf.entmax(x[i], alpha[i], temperature=t[i]),
                                       rtol=1e-14, atol=1e-15)
    # derivatives with the same per-slice alpha
    y = cmf.entmax(x, alpha, temperature=t)
    g = rng.standard_normal(x.shape)
    ops.assert_close(cmf.entmax_vjp(y, g, alpha, temperature=t),
                     ref.entmax_vjp(x, g, alpha, -1, t), scale=1e3)
    ops.assert_close(cmf.entmax_jvp(y, g, alpha[:, None], temperature=t),
                     ref.entmax_jvp(x, g, alpha, -1, t), scale=1e3)
    ops.assert_close(cmf.entmax_jacobian(y, alpha, temperature=t),
                     ref.entmax_jacobian(x, alpha, -1, t), scale=1e3)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_alpha_per_slice_3d(axis, dtype, rng):
    x = ops.random_x(rng, (4, 5, 6), dtype)
    S = ref.Slices(x.shape, axis)
    alpha = rng.choice([1.0, 1.25, 1.5, 2.0, 2.5], size=S.red)
    want = ref.entmax(x, alpha, axis)
    a = cmf.entmax(x, alpha, axis)
    b = cmf.entmax(x, np.expand_dims(alpha, axis), axis)
    np.testing.assert_array_equal(a, b)
    ops.assert_close(a, want, exact_zeros=True, scale=10)
    with pytest.raises(ValueError, match="alpha"):
        cmf.entmax(x, np.full(7, 1.5), axis)


# --------------------------------------------------------------------------------------
# The inputs that break the entmax package (notes/operators.md)
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, fwd, refn, alpha", SPARSE, ids=SPARSE_IDS)
def test_all_neginf_rows_are_nan_not_a_crash(name, fwd, refn, alpha, dtype, rng):
    x = ops.random_x(rng, (5, 6), dtype)
    x[1] = -inf
    x[3, :5] = -inf
    p = fwd(x)
    assert np.isnan(p[1]).all()
    ok = np.array([True, False, True, True, True])
    _close(p[ok], x[ok], alpha)
    np.testing.assert_array_equal(p[3], [0, 0, 0, 0, 0, 1])
    # and masked: a fully excluded slice gives zeros
    w = np.ones(x.shape, bool)
    w[1] = False
    p = fwd(x, where=w)
    np.testing.assert_array_equal(p[1], 0.0)


@pytest.mark.parametrize("name, fwd, refn, alpha", SPARSE, ids=SPARSE_IDS)
def test_large_offsets(name, fwd, refn, alpha, rng):
    """A row at a 1e6 offset in float32 and at 1e30 in float64: no NaN, the reference of
    the same (rounded) values, and the same as the row shifted back (exact shifts)."""
    x32 = (1e6 + rng.standard_normal((10, 40))).astype(np.float32)
    p = fwd(x32)
    _check_distribution(p, np.float32)
    _close(p, x32, alpha)
    back = (x32.astype(np.float64) - 1e6).astype(np.float32)   # exact (Sterbenz)
    ops.assert_close(p, fwd(back).astype(np.float64), np.float32)
    # 1e30 + N(0, 1) rounds to 1e30 everywhere: uniform
    x64 = 1e30 + rng.standard_normal((4, 9))
    p = fwd(x64)
    np.testing.assert_allclose(p, 1.0 / 9, rtol=1e-14)
    # 1e30 + 1e16 N(0, 1) with t = 1e16: a non-trivial distribution
    x64 = 1e30 + 1e16 * rng.standard_normal((10, 40))
    p = fwd(x64, temperature=1e16)
    _check_distribution(p, np.float64)
    _close(p, x64, alpha, temperature=1e16, scale=10)
    assert (p > 0).sum(-1).max() > 1


@pytest.mark.parametrize("alpha", [10.0, 50.0])
def test_alpha_far_above_two(alpha, dtype, rng):
    for sigma in (0.1, 1.0, 10.0):
        x = (sigma * rng.standard_normal((30, 20))).astype(dtype)
        p = cmf.entmax(x, alpha)
        _check_distribution(p, dtype)
        _close(p, x, alpha, err_msg=f"sigma={sigma}")


@pytest.mark.parametrize("name, fwd, refn, alpha", SPARSE, ids=SPARSE_IDS)
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_3d_every_axis(name, fwd, refn, alpha, axis, dtype, rng):
    x = ops.random_x(rng, (4, 5, 6), dtype)
    p = fwd(x, axis)
    _close(p, x, alpha, axis)
    moved = np.moveaxis(fwd(np.ascontiguousarray(np.moveaxis(x, axis, -1))), -1, axis)
    np.testing.assert_allclose(p, moved, **ops.tol(dtype, 0.1))
    np.testing.assert_allclose(p.astype(np.float64).sum(axis), 1.0, rtol=0, atol=8 * _eps(dtype))


@pytest.mark.parametrize("name", ["sparsemax", "entmax15", "entmax"])
def test_derivatives_3d_every_axis(name, rng):
    x = ops.random_x(rng, (3, 4, 5))
    extra = (1.75,) if name == "entmax" else ()
    alpha = 1.75 if name == "entmax" else {"sparsemax": 2.0, "entmax15": 1.5}[name]
    fwd, vjp, jvp, jac = (getattr(cmf, name + s) for s in ("", "_vjp", "_jvp", "_jacobian"))
    for axis in (0, 1, 2):
        y = fwd(x, *extra, axis)
        g = rng.standard_normal(x.shape)
        want = ref.entmax_vjp(x, g, alpha, axis)
        ops.assert_close(vjp(y, g, *extra, axis), want, scale=10)
        ops.assert_close(jvp(y, g, *extra, axis), want, scale=10)
        J = jac(y, *extra, axis)
        assert J.shape == np.moveaxis(x, axis, -1).shape + (x.shape[axis],)
        ops.assert_close(J, ref.entmax_jacobian(x, alpha, axis), scale=10)
        # exact zeros of the VJP outside the support
        assert np.all(vjp(y, g, *extra, axis)[y == 0] == 0)


# --------------------------------------------------------------------------------------
# alpha is validated (ValueError naming it) before anything is written
# --------------------------------------------------------------------------------------

BAD_ALPHA = [0.5, 0.0, -1.0, nan, 1.0 - 1e-12]


def _alpha_calls(x, alpha, out_x, out_red):
    y = cmf.softmax(x)
    g = np.ones_like(x)
    val = cmf.logsumexp(x)
    return {
        "entmax": lambda: cmf.entmax(x, alpha, out=out_x),
        "entmax_vjp": lambda: cmf.entmax_vjp(y, g, alpha, out=out_x),
        "entmax_jvp": lambda: cmf.entmax_jvp(y, g, alpha, out=out_x),
        "entmax_jacobian": lambda: cmf.entmax_jacobian(y, alpha),
        "smoothed_max": lambda: cmf.smoothed_max(x, alpha, out=out_red),
        "smoothed_max_vjp": lambda: cmf.smoothed_max_vjp(x, val, np.ones(len(x)), alpha, out=out_x),
        "smoothed_max_jvp": lambda: cmf.smoothed_max_jvp(x, val, g, alpha, out=out_red),
        "tsallis_entropy": lambda: cmf.tsallis_entropy(np.abs(x) / 10, alpha, out=out_red),
    }


@pytest.mark.parametrize("alpha", BAD_ALPHA, ids=[repr(a) for a in BAD_ALPHA])
def test_invalid_alpha(alpha, rng):
    x = ops.random_x(rng, (4, 6))
    out_x, out_red = rng.standard_normal(x.shape), rng.standard_normal(4)
    snap = out_x.tobytes(), out_red.tobytes()
    for name, call in _alpha_calls(x, alpha, out_x, out_red).items():
        with pytest.raises(ValueError, match="alpha"):
            call()
        assert (out_x.tobytes(), out_red.tobytes()) == snap, name


def test_invalid_alpha_array_entry(rng):
    x = ops.random_x(rng, (4, 6))
    out = rng.standard_normal(x.shape)
    snap = out.tobytes()
    for bad in (0.5, nan):
        a = np.array([1.5, 2.0, bad, 1.25])
        for call in (lambda: cmf.entmax(x, a, out=out),
                     lambda: cmf.entmax_vjp(cmf.softmax(x), np.ones_like(x), a, out=out),
                     lambda: cmf.entmax_jacobian(cmf.softmax(x), a)):
            with pytest.raises(ValueError, match="alpha"):
                call()
            assert out.tobytes() == snap
    with pytest.raises(TypeError, match="alpha"):
        cmf.entmax(x, np.array([1.5 + 1j]))


# --------------------------------------------------------------------------------------
# Entropies
# --------------------------------------------------------------------------------------

ENTROPIES = [
    ("shannon", lambda p, axis=-1, **kw: cmf.shannon_entropy(p, axis, **kw),
     lambda p, axis=-1, keepdims=False: ref.shannon_entropy(p, axis, keepdims)),
    ("gini", lambda p, axis=-1, **kw: cmf.gini_entropy(p, axis, **kw),
     lambda p, axis=-1, keepdims=False: ref.gini_entropy(p, axis, keepdims)),
] + [
    (f"tsallis_a{a:g}", (lambda a: lambda p, axis=-1, **kw: cmf.tsallis_entropy(p, a, axis, **kw))(a),
     (lambda a: lambda p, axis=-1, keepdims=False: ref.tsallis_entropy(p, a, axis, keepdims))(a))
    for a in (1.0, 1.25, 1.5, 2.0, 3.0)
]
ENTROPY_IDS = [e[0] for e in ENTROPIES]


def _simplex(rng, shape, axis=-1):
    """Random probability vectors along axis, with exact zeros (sparse rows)."""
    p = rng.dirichlet(np.full(shape[axis], 0.7), size=np.moveaxis(np.empty(shape), axis, -1).shape[:-1])
    p[p < 0.02] = 0.0
    p /= p.sum(-1, keepdims=True)
    return np.moveaxis(p, -1, axis)


@pytest.mark.parametrize("name, f, refn", ENTROPIES, ids=ENTROPY_IDS)
def test_entropies_against_reference(name, f, refn, dtype, rng):
    for axis in (0, 1, 2, -1):
        p = _simplex(rng, (5, 6, 7), axis).astype(dtype)
        h = f(p, axis)
        assert h.dtype == dtype and h.shape == ref.Slices(p.shape, axis).red
        ops.assert_close(h, refn(p, axis))
        hk = f(p, axis, keepdims=True)
        assert hk.shape == ref.Slices(p.shape, axis).keep
        np.testing.assert_array_equal(hk.reshape(h.shape), h)
        out = np.empty(h.shape, dtype)
        assert f(p, axis, out=out) is out
        np.testing.assert_array_equal(out, h)
    # float16 is computed in float32
    p = _simplex(rng, (4, 9)).astype(np.float16)
    h = f(p)
    assert h.dtype == np.float16
    ops.assert_close(h, refn(p), np.float16)


@pytest.mark.parametrize("name, f, refn", ENTROPIES, ids=ENTROPY_IDS)
def test_entropy_one_hot_and_uniform(name, f, refn, dtype):
    eye = np.eye(6, dtype=dtype)
    np.testing.assert_allclose(f(eye), 0.0, rtol=0, atol=_eps(dtype))
    for n in (1, 2, 5, 100):
        u = np.full((3, n), 1.0 / n, dtype=dtype)
        if name == "shannon" or name == "tsallis_a1":
            want = np.log(n)
        elif name == "gini":
            want = 0.5 * (1 - 1.0 / n)
        else:
            a = float(name.split("_a")[1])
            want = (1 - n ** (1 - a)) / (a * (a - 1)) if a != 1 else np.log(n)
        np.testing.assert_allclose(f(u), want, rtol=8 * _eps(dtype), atol=4 * _eps(dtype))


def test_entropy_identities(dtype, rng):
    p = _simplex(rng, (20, 30)).astype(dtype)
    tol = dict(rtol=4 * _eps(dtype), atol=4 * _eps(dtype))
    np.testing.assert_allclose(cmf.tsallis_entropy(p, 1.0), cmf.shannon_entropy(p), **tol)
    np.testing.assert_allclose(cmf.tsallis_entropy(p, 2.0), cmf.gini_entropy(p), **tol)
    np.testing.assert_allclose(cmf.tsallis_entropy(p, 1), cmf.shannon_entropy(p), **tol)
    # continuity in alpha at 1 and 2 (the float64 reference of alpha -> 1 is Shannon)
    h1 = cmf.tsallis_entropy(p.astype(np.float64), 1 + 1e-7)
    np.testing.assert_allclose(h1, ref.shannon_entropy(p), rtol=1e-5)
    # Shannon >= Tsallis(alpha) >= ... : H_alpha decreases with alpha
    hs = [cmf.tsallis_entropy(p.astype(np.float64), a) for a in (1.0, 1.5, 2.0, 3.0)]
    for a, b in zip(hs, hs[1:]):
        assert np.all(b <= a + 1e-15)


@pytest.mark.parametrize("name, f, refn", ENTROPIES, ids=ENTROPY_IDS)
def test_entropy_special_values(name, f, refn, dtype):
    p = np.array([[0.5, 0.5, 0.0, 0.0],        # 0 log 0 = 0
                  [0.0, 0.0, 0.0, 0.0],        # all zeros: 0
                  [0.25, nan, 0.25, 0.5],      # NaN -> NaN
                  [1.0, 0.0, 0.0, 0.0]], dtype=dtype)
    h = f(p)
    ops.assert_close(h, refn(p))
    assert np.isfinite(h[[0, 1, 3]]).all() and np.isnan(h[2])
    assert h[1] == 0
    # an empty slice: the empty sum
    np.testing.assert_array_equal(f(np.zeros((3, 0), dtype)), np.zeros(3, dtype))
    if name in ("shannon", "tsallis_a1", "tsallis_a1.25", "tsallis_a1.5"):
        # a negative "probability" has no p log p (nor p^alpha for a non-integer alpha)
        q = np.array([[0.5, -0.25, 0.75]], dtype=dtype)
        assert np.isnan(f(q)).all()


def test_entropy_errors(rng):
    p = _simplex(rng, (3, 4))
    tsallis = lambda p, *a, **k: cmf.tsallis_entropy(p, 1.5, *a, **k)  # noqa: E731
    for f in (cmf.shannon_entropy, cmf.gini_entropy, tsallis):
        with pytest.raises(TypeError, match="dtype"):
            f(p.astype(complex))
        with pytest.raises(np.exceptions.AxisError):
            f(p, 2)
        with pytest.raises(ValueError, match="out"):
            f(p, out=np.empty(4))
        with pytest.raises(TypeError, match="out"):
            f(p, out=np.empty(3, np.float32))


# --------------------------------------------------------------------------------------
# The smoothed max
# --------------------------------------------------------------------------------------

def test_smoothed_max_alpha_one_is_logsumexp(rng):
    x = ops.random_x(rng, (8, 13))
    t = rng.uniform(0.3, 3.0, size=8)
    w = rng.random(x.shape) < 0.8
    for kw in (dict(), dict(temperature=t), dict(where=w), dict(temperature=0.4, where=w)):
        np.testing.assert_allclose(cmf.smoothed_max(x, 1.0, **kw), cmf.logsumexp(x, **kw),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(cmf.smoothed_max(x, 1.0, **kw), ref.logsumexp(x, **kw),
                                   rtol=1e-12, atol=1e-12)
    for axis in (0, 1):
        np.testing.assert_allclose(cmf.smoothed_max(x, 1.0, axis, keepdims=True),
                                   cmf.logsumexp(x, axis, keepdims=True), rtol=1e-12)


@pytest.mark.parametrize("alpha", [1.0, 1.25, 1.5, 2.0, 3.0])
def test_smoothed_max_gradient_is_entmax(alpha, dtype, rng):
    x = ops.random_x(rng, (7, 11), dtype)
    t = rng.uniform(0.5, 2.0, size=(7, 1))
    v = cmf.smoothed_max(x, alpha, temperature=t)
    assert v.dtype == dtype and v.shape == (7,)
    ops.assert_close(v, ref.smoothed_max(x, alpha, -1, t))
    grad = cmf.smoothed_max_vjp(x, v, np.ones(7, dtype), alpha, temperature=t)
    p = cmf.entmax(x, alpha, temperature=t)
    np.testing.assert_allclose(grad, p, **ops.tol(dtype, 0.1))
    assert np.all(grad[p == 0] == 0)
    dx = rng.standard_normal(x.shape).astype(dtype)
    np.testing.assert_allclose(cmf.smoothed_max_jvp(x, v, dx, alpha, temperature=t),
                               (p.astype(np.float64) * dx).sum(-1), **ops.tol(dtype, 10))


@pytest.mark.parametrize("alpha", [1.0, 1.5, 2.0, 4.0])
def test_smoothed_max_bounds(alpha, rng):
    """max x <= smoothed_max <= max x + t max H_alpha, where max H_alpha = H_alpha(uniform)
    = log n (alpha = 1) or (1 - n^(1-alpha)) / (alpha (alpha - 1))."""
    for n in (1, 2, 9, 100):
        x = ops.random_x(rng, (20, n))
        t = rng.uniform(0.1, 5.0, size=20)
        v = cmf.smoothed_max(x, alpha, temperature=t)
        hmax = np.log(n) if alpha == 1 else (1 - n ** (1 - alpha)) / (alpha * (alpha - 1))
        m = x.max(-1)
        slack = 1e-12 * np.maximum(1, np.abs(m))
        assert np.all(v >= m - slack)
        assert np.all(v <= m + t * hmax + slack)
        if n == 1:
            np.testing.assert_allclose(v, x[:, 0], rtol=1e-15)


def test_smoothed_max_alpha_two_is_the_sparsemax_value(rng):
    x = ops.random_x(rng, (10, 9))
    t = 0.6
    p = cmf.sparsemax(x, temperature=t)
    want = (p * x).sum(-1) + t * 0.5 * (1 - (p * p).sum(-1))
    np.testing.assert_allclose(cmf.smoothed_max(x, 2.0, temperature=t), want, rtol=1e-13, atol=1e-13)
    # it is also the value of the maximisation: no other point of the simplex does better
    q = rng.dirichlet(np.ones(9), size=(200, 10))
    other = (q * x).sum(-1) + t * 0.5 * (1 - (q * q).sum(-1))
    assert np.all(other <= want + 1e-12)


# --------------------------------------------------------------------------------------
# Properties on arbitrary finite rows (hypothesis)
# --------------------------------------------------------------------------------------

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)
wide = st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False, width=64)


def _rows(elements):
    return hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 30)), elements=elements)


@given(_rows(finite), st.sampled_from([1.25, 1.5, 2.0, 3.0]), st.floats(0.05, 20.0))
def test_sparse_rows_are_distributions(x, alpha, t):
    for p in (cmf.sparsemax(x, temperature=t), cmf.entmax15(x, temperature=t),
              cmf.entmax(x, alpha, temperature=t)):
        _check_distribution(p, np.float64)
    _close(cmf.entmax(x, alpha, temperature=t), x, alpha, temperature=t, scale=100)


@given(_rows(wide), st.sampled_from([1.25, 1.5, 2.0, 3.0]))
def test_sparse_rows_wide_range(x, alpha):
    for p in (cmf.sparsemax(x), cmf.entmax15(x), cmf.entmax(x, alpha)):
        _check_distribution(p, np.float64)
    v = cmf.smoothed_max(x, alpha)
    assert np.all(np.isfinite(v))
    n = x.shape[-1]
    hmax = (1 - n ** (1 - alpha)) / (alpha * (alpha - 1))
    m = x.max(-1)
    slack = 1e-13 * np.abs(m) + 1e-13
    assert np.all((v >= m - slack) & (v <= m + hmax + slack))


# --------------------------------------------------------------------------------------
# The root finder converges in a handful of steps (SPEC section 4)
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("alpha", [1.25, 1.5, 1.75, 3.0])
def test_entmax_iterations(alpha):
    import importlib
    helper = None
    for mod in ("cmaxfam._normalizers", "cmaxfam._sparse"):      # its documented home first
        try:
            helper = getattr(importlib.import_module(mod), "_entmax_iterations", None)
        except ImportError:
            continue
        if helper is not None:
            break
    if helper is None:
        pytest.skip("cmaxfam._normalizers._entmax_iterations (the per-slice iteration count of "
                    "entmax's root finder) does not exist yet")
    x = np.random.default_rng(4).standard_normal((1000, 1000))
    it = np.asarray(helper(x, alpha, axis=-1))
    assert it.shape == (1000,) and it.dtype.kind in "iu"
    assert it.min() >= 0
    assert np.median(it) <= 8, (np.median(it), it.max())
    # the count is per slice: an easier (one-hot) slice does not need more steps
    y = x.copy()
    y[:, 0] += 100.0
    assert np.median(helper(y, alpha, axis=-1)) <= np.median(it)


def test_entropies_reject_negative_entries_alike_and_do_not_overflow():
    """A negative entry makes the slice NaN for all three entropies (gini included), and
    huge float32 entries give a value, not an overflow warning."""
    import warnings
    p = np.array([0.5, -0.1, 0.6])
    for f in (cmf.shannon_entropy, cmf.gini_entropy, lambda q: cmf.tsallis_entropy(q, 1.5)):
        assert np.isnan(f(p))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = cmf.gini_entropy(np.array([3e38, 0.0], np.float32))
    assert h.dtype == np.float32 and h == np.float32(-np.inf)
