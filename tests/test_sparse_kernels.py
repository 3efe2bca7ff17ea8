"""The sparse family's kernel paths agree with one another (issue 6, sparse half).

sparsemax / 1.5-entmax, their VJPs and losses run through a row kernel (contiguous slices
of 48 or more entries) or a column kernel (shorter or strided slices, a non-last axis:
slices side by side, each slice iterated on its own).  Independently of the float64
references of test_sparse_family.py / test_losses.py, these tests check that

* a slice's result never depends on its neighbours (the column kernels run many slices per
  vector until the slowest has settled: a slice that has settled must keep its value), so
  neither the grouping of slices nor their order can change a bit;
* long lanes of a non-last axis (transposed into rows) give the bits of the same values
  along the last axis;
* short slices (column kernel) agree with the row kernel, which they reach by padding the
  slices past 48 entries with excluded (``where=False``) entries;
* slices with NaN, +-inf, all -inf, masks, ignored labels take the same answers on
  either path.
"""
from __future__ import annotations

import numpy as np
import pytest

import cmaxfam as cmf

inf, nan = np.inf, np.nan
DTYPES = [np.float32, np.float64]
FWD = {"sparsemax": (cmf.sparsemax, cmf.sparsemax_vjp, 2.0),
       "entmax15": (cmf.entmax15, cmf.entmax15_vjp, 1.5)}


def _alpha_entmax(alpha):
    return (lambda x, **kw: cmf.entmax(x, alpha, **kw),
            lambda y, g, **kw: cmf.entmax_vjp(y, g, alpha, **kw), alpha)


# the forwards with a column kernel: alpha-entmax's (Halley / Newton lanes) as well
FWD_ALL = dict(FWD, **{f"entmax@{a}": _alpha_entmax(a) for a in (1.05, 1.3, 1.75, 3.0)})


def _tol(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-13)


def _rows(rng, m, n, dtype, specials=True):
    """m slices of n entries at mixed scales (one-hot to dense supports), some special."""
    scale = rng.choice([0.01, 0.3, 1.0, 3.0, 30.0], size=(m, 1))
    x = (scale * rng.standard_normal((m, n))).astype(dtype)
    if specials and m >= 8 and n >= 3:
        x[1, 1] = nan
        x[2, :] = -inf
        x[3, 0] = inf
        x[4, 2] = -inf
        x[5, :] = x[5, 0]                       # all tied
    return x


def _padded(x, w, width=48):
    """the same slices padded to `width` entries with excluded ones (the row kernel)"""
    m, n = x.shape
    xp = np.full((m, width), -inf, x.dtype)
    xp[:, :n] = x
    wp = np.zeros((m, width), bool)
    wp[:, :n] = True if w is None else w
    return xp, wp


@pytest.mark.parametrize("name", FWD_ALL)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_slices_are_independent_of_their_neighbours(name, dtype):
    fwd, vjp, _ = FWD_ALL[name]
    rng = np.random.default_rng(11)
    for n in (3, 10, 47, 100):
        x = _rows(rng, 300, n, dtype)
        g = rng.standard_normal(x.shape).astype(dtype)
        y = fwd(x)
        r = vjp(y, g)
        perm = rng.permutation(x.shape[0])
        np.testing.assert_array_equal(fwd(x[perm]), y[perm])
        np.testing.assert_array_equal(vjp(y[perm], g[perm]), r[perm])
        for i in (0, 1, 2, 3, 17, 299):               # each slice alone
            np.testing.assert_array_equal(fwd(x[i:i + 1]), y[i:i + 1])
        # the same along axis 0, where the slices sit side by side in memory
        np.testing.assert_array_equal(fwd(x[perm].T.copy(), axis=0), fwd(x.T.copy(), axis=0)[:, perm])


@pytest.mark.parametrize("name", FWD_ALL)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_long_lanes_of_axis_0_are_the_rows(name, dtype):
    """n >= 48 along a non-last axis: transposed into rows, the row kernel's bits."""
    fwd, vjp, _ = FWD_ALL[name]
    rng = np.random.default_rng(12)
    for n, m in ((48, 5), (100, 37), (1000, 70)):
        x = _rows(rng, m, n, dtype)
        w = rng.random(x.shape) > 0.2
        t = rng.uniform(0.5, 2.0, size=(m, 1))
        for kw in ({}, {"where": w}, {"temperature": t}):
            y = fwd(x, **kw)
            kwt = {k: v.T.copy() for k, v in kw.items()}
            np.testing.assert_array_equal(fwd(x.T.copy(), axis=0, **kwt), y.T)
            np.testing.assert_array_equal(fwd(np.asfortranarray(x.T), axis=0, **kwt), y.T)


@pytest.mark.parametrize("name", FWD_ALL)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_short_slices_agree_with_the_row_kernel(name, dtype):
    fwd, vjp, _ = FWD_ALL[name]
    rng = np.random.default_rng(13)
    for n in (2, 3, 7, 16, 47):
        x = _rows(rng, 200, n, dtype)
        w = rng.random(x.shape) > 0.25
        w[:, 0] = True
        g = rng.standard_normal(x.shape).astype(dtype)
        for where in (None, w):
            y = fwd(x, where=where)
            xp, wp = _padded(x, where)
            yp = fwd(xp, where=wp)
            np.testing.assert_allclose(y, yp[:, :n], equal_nan=True, **_tol(dtype))
            assert np.all((y == 0) == (yp[:, :n] == 0)), "the same supports"
            gp = np.zeros(xp.shape, dtype)
            gp[:, :n] = g
            np.testing.assert_allclose(vjp(y, g), vjp(yp, gp)[:, :n], equal_nan=True,
                                       rtol=10 * _tol(dtype)["rtol"], atol=10 * _tol(dtype)["atol"])


@pytest.mark.parametrize("name", FWD)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_short_slice_losses_agree_with_the_row_kernel(name, dtype):
    alpha = FWD[name][2]
    rng = np.random.default_rng(14)
    for n in (2, 5, 10, 47):
        x = 3 * _rows(rng, 300, n, dtype)
        lab = rng.integers(0, n, 300)
        lab[7] = -1
        w = rng.random(x.shape) > 0.2
        w[np.arange(300), lab.clip(0)] = True
        for kw in ({}, {"label_smoothing": 0.1}, {"where": w},
                   {"temperature": 0.7, "sample_weight": rng.random(300)}):
            v, g = cmf.entmax_loss(x, lab, alpha=alpha, reduction="none", return_grad=True,
                                   ignore_index=-1, **kw)
            xp, wp = _padded(x, kw.get("where"))
            kwp = dict(kw, where=wp)
            vp, gp = cmf.entmax_loss(xp, lab, alpha=alpha, reduction="none", return_grad=True,
                                     ignore_index=-1, **kwp)
            np.testing.assert_allclose(v, vp, equal_nan=True, **_tol(dtype))
            np.testing.assert_allclose(g, gp[:, :n], equal_nan=True, **_tol(dtype))
            # the value alone is the same number
            np.testing.assert_array_equal(
                cmf.entmax_loss(x, lab, alpha=alpha, reduction="none", ignore_index=-1, **kw), v)


def _vjp_ref(y, g, alpha, t=1.0):
    """float64 reference of the sparse VJPs: s = y^(2 - alpha) on the support"""
    y64, g64 = y.astype(np.float64), g.astype(np.float64)
    a = np.asarray(alpha, np.float64).reshape(-1, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(y64 > 0, np.abs(y64) ** (2.0 - a), np.where(np.isnan(y64), nan, 0.0))
        q = (s * np.where(s != 0, g64, 0.0)).sum(-1, keepdims=True) / s.sum(-1, keepdims=True)
        return np.where(s != 0, s * (g64 - q), 0.0) / t


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 2, 7, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 300, 1031])
def test_row_vjp_support_gather(n, dtype):
    """The row VJP (per-slice alpha: always the row kernel) gathers the support by groups
    of 16 entries: every length around a group / vector width, dense and one-hot
    supports, NaN in y (alpha 1.5, 1.3, 1.7: the powers of a gathered NaN), non-finite
    cotangents off the support, out= aliasing y or g."""
    rng = np.random.default_rng(n)
    m = 12
    alpha = np.array([2.0, 1.5, 1.3, 1.0, 1.7, 1.15] * 2)
    x = _rows(rng, m, n, dtype, specials=False)
    y = np.stack([cmf.entmax(x[i], alpha[i]) for i in range(m)]).astype(dtype)
    if n >= 3:
        y[7, n // 2] = nan                      # NaN in y: NaN on that slice's support
        y[8, n - 1] = nan                       # (alpha 1.3, 1.7: powers on every entry)
        y[10, 0] = nan
    g = rng.standard_normal((m, n)).astype(dtype)
    g[np.nonzero(y == 0)[0][:3], np.nonzero(y == 0)[1][:3]] = inf   # off the support: no effect
    r = cmf.entmax_vjp(y, g, alpha, temperature=0.5)
    ref = _vjp_ref(y, g, alpha, 0.5)
    np.testing.assert_allclose(r, ref, equal_nan=True,
                               **(dict(rtol=1e-4, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-13)))
    assert np.all(r[y == 0] == 0)
    for alias in ("y", "g"):                    # out= the input itself
        yc, gc = y.copy(), g.copy()
        out = yc if alias == "y" else gc
        cmf.entmax_vjp(yc, gc, alpha, temperature=0.5, out=out)
        np.testing.assert_array_equal(out, r)


def _entmax_bisect_ref(x, alpha, iters=200):
    """float64 alpha-entmax by bisection on [max - 1, max] of the scaled slice"""
    z = (alpha - 1.0) * x.astype(np.float64)
    z = z - z.max(-1, keepdims=True)
    lo, hi = np.full(z.shape[:-1] + (1,), -1.0), np.zeros(z.shape[:-1] + (1,))
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        f = (np.clip(z - mid, 0, None) ** (1.0 / (alpha - 1.0))).sum(-1, keepdims=True) - 1.0
        lo, hi = np.where(f >= 0, mid, lo), np.where(f >= 0, hi, mid)
    p = np.clip(z - lo, 0, None) ** (1.0 / (alpha - 1.0))
    return p / p.sum(-1, keepdims=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha", [1.3, 1.7, 2.5])
def test_short_slices_of_alpha_entmax(alpha, dtype):
    """alpha-entmax of slices shorter than two vectors (candidates padded to whole vectors
    on the stack) matches a bisection reference at every length, masks included."""
    rng = np.random.default_rng(int(alpha * 10))
    for n in list(range(1, 34)) + [48]:
        x = _rows(rng, 40, n, dtype, specials=False)
        y = cmf.entmax(x, alpha)
        np.testing.assert_allclose(y, _entmax_bisect_ref(x, alpha), **_tol(dtype) if dtype == np.float64
                                   else dict(rtol=2e-4, atol=2e-6))
        w = rng.random((40, n)) > 0.3
        w[:, 0] = True
        xm = np.where(w, x, -inf)
        np.testing.assert_allclose(cmf.entmax(x, alpha, where=w), cmf.entmax(xm, alpha), **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [5, 16, 33, 1000])
def test_row_vjp_powers_over_decades(n, dtype):
    """s = y^(2 - alpha) through the row VJP for y over thirty decades (subnormal-free),
    every alpha between 1 and 2 per slice, with a temperature: within the float powers'
    few ULP (float slices) of the float64 reference; a NaN in one slice leaves the others'
    results as they were."""
    rng = np.random.default_rng(n + 1)
    m = 16
    alpha = np.linspace(1.02, 1.98, m)
    y = (10.0 ** rng.uniform(-30, 0, size=(m, n))).astype(dtype)
    y[:, ::3] = 0
    y[:, -1] = 1.0 if n % 2 else 0.5
    g = rng.standard_normal((m, n)).astype(dtype)
    r = cmf.entmax_vjp(y, g, alpha, temperature=0.7)
    # relative to each entry's own terms s |g| + s |q| (r = s (g - q) / t cancels)
    y64, g64 = y.astype(np.float64), g.astype(np.float64)
    s = np.where(y64 > 0, y64 ** (2.0 - alpha[:, None]), 0.0)
    q = (s * g64).sum(-1, keepdims=True) / s.sum(-1, keepdims=True)
    bound = (5e-5 if dtype == np.float32 else 1e-11) * s * (np.abs(g64) + np.abs(q)) / 0.7
    assert np.all(np.abs(r - _vjp_ref(y, g, alpha, 0.7)) <= bound)
    y[3, n // 2] = nan
    r2 = cmf.entmax_vjp(y, g, alpha, temperature=0.7)
    assert np.all(np.isnan(r2[3][y[3] != 0]))
    keep = np.arange(m) != 3
    np.testing.assert_array_equal(r2[keep], r[keep])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_short_slices_with_a_per_slice_alpha(dtype):
    """alpha-entmax's column kernel with one alpha per slice: slices with alpha 1, 1.5 or 2
    (and the special ones) go through the row kernel inside a block of Halley lanes; every
    slice agrees with the row kernel (padded slices), keeps its bits when moved, and a fully
    masked slice gives zeros."""
    rng = np.random.default_rng(15)
    for n in (2, 5, 10, 33):
        x = _rows(rng, 150, n, dtype)
        a = rng.choice([1.0, 1.05, 1.3, 1.5, 1.75, 2.0, 3.0, 7.0], size=(150, 1))
        w = rng.random(x.shape) > 0.25
        w[:, 0] = True
        w[9, :] = False                                  # fully masked: zeros
        for where in (None, w):
            y = cmf.entmax(x, a, where=where)
            xp, wp = _padded(x, where)
            yp = cmf.entmax(xp, a, where=wp)[:, :n]
            np.testing.assert_allclose(y, yp, equal_nan=True, **_tol(dtype))
            assert np.all((y == 0) == (yp == 0)), "the same supports"
            perm = rng.permutation(150)
            np.testing.assert_array_equal(cmf.entmax(x[perm], a[perm], where=None if where is None else where[perm]),
                                          y[perm])
        assert np.all(cmf.entmax(x, a, where=w)[9] == 0)


@pytest.mark.parametrize("alpha", [1.25, 1.5, 1.75, 3.0, 1.3, 1.05])
def test_short_slice_iterations(alpha):
    """the column kernel's lanes take the row kernel's steps: a handful of iterations per
    slice (median <= 8), as many as the row kernel takes on the same slices padded"""
    from cmaxfam._sparse import _entmax_iterations
    x = np.random.default_rng(16).standard_normal((2000, 10)).astype(np.float32)
    xp = np.concatenate([x, np.full((2000, 40), -inf, np.float32)], axis=1)
    it, itp = _entmax_iterations(x, alpha), _entmax_iterations(xp, alpha)
    assert np.median(it) <= 8, (np.median(it), it.max())
    assert abs(it.mean() - itp.mean()) <= 0.1, (it.mean(), itp.mean())


@pytest.mark.parametrize("name", FWD)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_grouped_rows_are_the_row_kernel(name, dtype):
    """rows of 48+ entries with one temperature take their root finders' steps interleaved,
    8 rows at a time: each row keeps the bits the row kernel gives it alone (a single row,
    or the row with a mask that excludes nothing), special rows inside a group included"""
    fwd, _, _ = FWD[name]
    rng = np.random.default_rng(17)
    for n in (48, 129, 1000):
        x = _rows(rng, 37, n, dtype)
        x[20, : n // 2] = inf
        for kw in ({}, {"temperature": 0.7}):
            y = fwd(x, **kw)
            np.testing.assert_array_equal(y, fwd(x, where=np.ones(x.shape, bool), **kw))
            for i in (0, 1, 2, 3, 5, 20, 36):
                np.testing.assert_array_equal(fwd(x[i:i + 1], **kw), y[i:i + 1], err_msg=f"n={n} row {i}")
            np.testing.assert_array_equal(fwd(x[3:], **kw), y[3:], err_msg=f"n={n} shifted")
