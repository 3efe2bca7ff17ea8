"""The vectorised kernel paths: every slice length and grouping, checked two ways.

The softmax family runs through several C paths chosen by slice length and layout: long
contiguous slices through the row kernel, short ones (a few elements) a vector of slices
at a time in registers, short or strided slices through gathered tiles, and a non-last
axis directly across the inner dimension in blocks of lanes.  Each slice must

* agree with the float64 reference (tests/reference.py), and
* get the same bits wherever it sits: computing a sub-range of the slices (which moves
  every slice to another lane of another group, as an ``n_threads`` split does) gives
  bitwise the rows of the full result, also when neighbouring slices hold inf or NaN.
"""
import numpy as np
import pytest

import cmaxfam as cmf
from cmaxfam import _config
import ops
import reference as ref

# slice lengths around every vector width (4, 8, 16), the tile block (16), the short-slice
# limit of the drivers (48), the sum block (256) and the row kernels' prefetch of the next
# slice (16 KiB and longer)
LENGTHS = (1, 2, 3, 4, 5, 7, 8, 9, 10, 15, 16, 17, 31, 32, 33, 47, 48, 49, 100, 257, 1000, 4500)
SHIFTS = (1, 5, 16, 17)


def _x(rng, rows, n, dtype, special=False):
    x = (rng.standard_normal((rows, n)) * 3).astype(dtype)
    if special:
        x[2, 0] = np.inf
        x[5, :] = -np.inf
        x[7, n // 2] = np.nan
        x[11, n - 1] = -np.inf
    return x


FORWARD = {
    "softmax": (lambda x, ax, **kw: cmf.softmax(x, ax, **kw), ref.softmax),
    "log_softmax": (lambda x, ax, **kw: cmf.log_softmax(x, ax, **kw), ref.log_softmax),
    "logsumexp": (lambda x, ax, **kw: cmf.logsumexp(x, ax, **kw),
                  lambda x, ax, **kw: ref.logsumexp(x, ax, **kw)),
}


@pytest.mark.parametrize("name", sorted(FORWARD))
@pytest.mark.parametrize("n", LENGTHS)
def test_forward_against_reference(name, n, dtype, rng):
    f, r = FORWARD[name]
    x = _x(rng, 37, n, dtype)
    for kw in (dict(), dict(temperature=0.7)):
        ops.assert_close(f(x, -1, **kw), r(x.astype(np.float64), -1, temperature=kw.get("temperature", 1.0)),
                         dtype, err_msg=f"{name} n={n} {kw}")


@pytest.mark.parametrize("name", sorted(FORWARD))
@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("special", [False, True], ids=["finite", "special"])
def test_forward_rows_bitwise_wherever_they_sit(name, n, special, dtype, rng):
    f, _ = FORWARD[name]
    x = _x(rng, 53, n, dtype, special and n >= 2)
    for kw in (dict(), dict(temperature=0.7)):
        full = f(x, -1, **kw)
        for s in SHIFTS:
            np.testing.assert_array_equal(f(x[s:], -1, **kw), full[s:], err_msg=f"n={n} shift={s} {kw}")
        # a strided (tiled) output holds the same bits as a contiguous one for short slices
        if name != "logsumexp" and n < 48:
            out = np.zeros((x.shape[0], 2 * n), dtype)[:, ::-2]
            np.testing.assert_array_equal(f(x, -1, out=out, **kw), full, err_msg=f"n={n} strided out")


@pytest.mark.parametrize("name", sorted(FORWARD))
@pytest.mark.parametrize("inner", [1, 7, 16, 33, 300])
def test_non_last_axis_lanes(name, inner, dtype, rng):
    """axis 0 of a C-ordered array: lanes across the inner dimension; any cut of the
    inner dimension gives the same bits."""
    f, r = FORWARD[name]
    x = (rng.standard_normal((70, inner)) * 3).astype(dtype)
    x[3, inner // 2] = np.nan
    x[:, inner - 1] = -np.inf
    full = f(x, 0)
    ops.assert_close(full, r(x.astype(np.float64), 0), dtype)
    for s in (1, 5, 16, 17):
        if s < inner:
            np.testing.assert_array_equal(f(x[:, s:], 0), full[..., s:], err_msg=f"inner={inner} cut={s}")


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
@pytest.mark.parametrize("rows,inner", [(1, 100), (2, 65), (5, 300), (37, 129), (70, 300), (33, 4100)])
def test_non_last_axis_online(name, rows, inner, dtype, rng):
    """A non-last axis read in place: softmax and log_softmax take the two-pass kernel
    (online maxima and sums, rescaled in double when a lane's maximum rises), logsumexp
    its maxima then its two sums.  Columns whose maximum rises in every block of rows, -inf
    before the first finite entry, +inf, NaN, all -inf, huge and tiny entries, terms 1e-17
    below a maximum that comes last or in later blocks (logsumexp's count of the maxima),
    one and per-slice temperatures, a row count off the block and lane sizes; against the
    float64 reference, the same bits for any cut of the lanes, in place too."""
    f, r = FORWARD[name]
    x = (rng.standard_normal((rows, inner)) * 3).astype(dtype)
    big = np.finfo(dtype).max / 4
    cols = {
        1: np.arange(rows, dtype=np.float64),                                 # rises every row
        2: np.where(np.arange(rows) < rows // 2, -np.inf, np.arange(rows)),  # -inf, then finite
        3: np.full(rows, -np.inf),
        4: np.linspace(-big, big, rows),
        5: np.linspace(0, 1e-30, rows),
        9: np.where(np.arange(rows) == rows - 1, 0.0, -40.0),               # tiny terms, max last
        10: np.where(np.arange(rows) % 17 == 16, 0.0, -40.0),               # maxima in later blocks
    }
    for j, c in cols.items():
        x[:, j] = c.astype(dtype)
    x[rows // 2, 6] = np.inf
    x[rows - 1, 7] = np.nan
    x[0, 8] = -np.inf
    t_lane = rng.uniform(0.3, 3.0, size=(1, inner))
    for kw in (dict(), dict(temperature=0.7), dict(temperature=t_lane), dict(temperature=1e-30)):
        t = kw.get("temperature", 1.0)
        full = f(x, 0, **kw)
        with np.errstate(all="ignore"):
            ops.assert_close(full, r(x.astype(np.float64), 0, temperature=t), dtype,
                             err_msg=f"{rows}x{inner} {name} t={np.ravel(t)[:2]}")
        for s in (1, 16, 17):
            if s < inner:
                kws = dict(temperature=t[:, s:]) if np.ndim(t) else kw
                np.testing.assert_array_equal(f(x[:, s:], 0, **kws), full[..., s:], err_msg=f"cut={s}")
        y = x.copy() if name != "logsumexp" else np.zeros(inner, dtype)
        assert f(x if name == "logsumexp" else y, 0, out=y, **kw) is y
        np.testing.assert_array_equal(y, full)


@pytest.mark.parametrize("n", LENGTHS)
def test_softmax_vjp_paths(n, dtype, rng):
    x = _x(rng, 41, n, dtype)
    y = cmf.softmax(x)
    g = rng.standard_normal(x.shape).astype(dtype)
    got = cmf.softmax_vjp(y, g)
    ops.assert_close(got, ref.softmax_vjp(x.astype(np.float64), g.astype(np.float64)), dtype,
                     scale=10.0, err_msg=f"n={n}")
    for s in SHIFTS:
        np.testing.assert_array_equal(cmf.softmax_vjp(y[s:], g[s:]), got[s:], err_msg=f"n={n} shift={s}")
    # with a temperature (the row kernel's scaled output pass)
    yt = cmf.softmax(x, temperature=0.7)
    ops.assert_close(cmf.softmax_vjp(yt, g, temperature=0.7),
                     ref.softmax_vjp(x.astype(np.float64), g.astype(np.float64), temperature=0.7), dtype,
                     scale=10.0, err_msg=f"n={n} temperature")
    if n >= 48:
        # rows in place run in one loop without the driver; with a per-row temperature
        # they go through the driver's loop into the row kernel: the same bits, in place too
        for kw in (dict(), dict(temperature=0.7)):
            full = cmf.softmax_vjp(yt, g, **kw)
            t_rows = np.full((x.shape[0], 1), kw.get("temperature", 1.0))
            np.testing.assert_array_equal(cmf.softmax_vjp(yt, g, temperature=t_rows), full, err_msg=f"n={n} t rows")
            inplace = g.copy()
            cmf.softmax_vjp(yt, inplace, out=inplace, **kw)
            np.testing.assert_array_equal(inplace, full, err_msg=f"n={n} in place")


def _ulps(got, want, dtype):
    """|got - want| in units of the last place of want rounded to dtype"""
    w = want.astype(dtype)
    spacing = np.spacing(np.abs(w)).astype(np.float64)
    return np.abs(got.astype(np.float64) - want) / spacing


@pytest.mark.parametrize("n", [48, 257, 1000, 4103])
@pytest.mark.parametrize("masked", [False, True], ids=["vector", "scalar"])
def test_exp_accuracy_through_softmax(n, masked, dtype):
    """The polynomial exp itself, through softmax: a slice [0, z...] with every z <= -25
    (float32; <= -45 float64) sums to 1 + s with s below half an ULP of 1, so the reciprocal
    of the sum rounds to 1 and the outputs are the kernel's exps bit for bit.  Vector passes
    (no mask) and the plain-C loops (a mask) over the whole argument range: at most 2 ULP
    (float32: the 2^(j/32) table on AVX-512, rr2-p5 elsewhere; issue 6's bound; 2.05 on the
    baseline path, which has no FMA), exactly 0
    below the smallest normal number.  Entries closer to 0 go through the sum: 3.5 ULP (float32)."""
    f32 = np.dtype(dtype) == np.float32
    lo, tiny = (-87.3, -25.0) if f32 else (-708.0, -45.0)
    z = np.linspace(lo, tiny, n - 1).astype(dtype)
    z[::7] = np.linspace(1.02 * lo, 1.2 * lo, z[::7].size)   # below the cutoff: 0
    x = np.concatenate([[0], z]).astype(dtype)
    kw = dict(where=np.arange(n) != n // 2) if masked else {}
    y = cmf.softmax(x, **kw)
    want = np.exp(x.astype(np.float64))
    on = np.ones(n, bool) if not masked else kw["where"]
    normal = (want >= np.finfo(dtype).tiny) & on
    assert y[0] == 1
    # float32: <= 2 ULP on the vector paths (FMA); the baseline's plain C, compiled without
    # FMA for SSE2, rounds t * p apart and reaches 2.04 ULP for results below ~1e-37
    baseline = _config.config()["isa_active"] == "baseline"
    bound = (2.05 if baseline else 2.0) if f32 else 1.1                   # f64: np.exp rounds too
    assert _ulps(y[normal], want[normal], dtype).max() <= bound
    assert np.all(y[~normal & (x < lo)] == 0)
    if f32:   # the arguments near 0, where the sum moves the reciprocal away from 1
        x2 = np.concatenate([[0], np.linspace(tiny, 0, n - 1)]).astype(dtype)
        y2 = cmf.softmax(x2, **kw)
        e2 = np.exp(x2.astype(np.float64))
        w2 = e2 / e2[on].sum()
        assert _ulps(y2[on], w2[on], dtype).max() <= 3.5


@pytest.mark.parametrize("n", [2, 10, 47, 300, 1000])
def test_cross_entropy_paths(n, dtype, rng):
    x = _x(rng, 45, n, dtype)
    lab = rng.integers(0, n, size=x.shape[0])
    loss, grad = cmf.softmax_cross_entropy(x, lab, reduction="none", return_grad=True)
    x64 = x.astype(np.float64)
    p = ref.softmax(x64)
    want = ref.logsumexp(x64, -1) - x64[np.arange(x.shape[0]), lab]
    ops.assert_close(loss, want, dtype, scale=10.0)
    onehot = np.zeros_like(p)
    onehot[np.arange(x.shape[0]), lab] = 1
    ops.assert_close(grad, p - onehot, dtype, scale=10.0)
    for s in SHIFTS:
        l2, g2 = cmf.softmax_cross_entropy(x[s:], lab[s:], reduction="none", return_grad=True)
        np.testing.assert_array_equal(l2, loss[s:])
        np.testing.assert_array_equal(g2, grad[s:])


@pytest.mark.parametrize("n", [2, 3, 4, 5, 7, 8, 9, 10, 15, 16, 17])
def test_cross_entropy_short_slices_match_tiles(n, dtype, rng):
    """Short contiguous slices (n up to the vector width) take a register path; strided
    logits go through the gathered tiles of the column kernel: the same bits, special
    slices, ignored labels, weights and temperatures included, with or without gradient."""
    x = _x(rng, 45, n, dtype, special=True)
    x[13, :] = np.nan
    x[17, 1] = np.inf
    lab = rng.integers(0, n, size=x.shape[0])
    lab[5] = 0                                   # a label on an all -inf slice: +inf
    strided = np.zeros((x.shape[0], 2 * n), dtype)[:, ::2]
    strided[...] = x
    for kw in (dict(), dict(temperature=0.7), dict(ignore_index=int(lab[3])),
               dict(sample_weight=rng.random(x.shape[0]) * (np.arange(x.shape[0]) % 4 != 1))):
        for want_grad in (True, False):
            got = cmf.softmax_cross_entropy(x, lab, reduction="none", return_grad=want_grad, **kw)
            ref_ = cmf.softmax_cross_entropy(strided, lab, reduction="none", return_grad=want_grad, **kw)
            if want_grad:
                np.testing.assert_array_equal(got[0], ref_[0], err_msg=f"n={n} {kw} loss")
                np.testing.assert_array_equal(got[1], ref_[1], err_msg=f"n={n} {kw} grad")
            else:
                np.testing.assert_array_equal(got, ref_, err_msg=f"n={n} {kw} loss only")
    rows = [0, 1, 3, 4, 6]                       # finite slices
    loss, grad = cmf.softmax_cross_entropy(x[rows], lab[rows], reduction="none", return_grad=True)
    x64 = x[rows].astype(np.float64)
    ops.assert_close(loss, ref.logsumexp(x64, -1) - x64[np.arange(len(rows)), lab[rows]], dtype, scale=10.0)
    assert np.isinf(cmf.softmax_cross_entropy(x[5:6], lab[5:6], reduction="none")[0])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("n", [2, 3, 4, 5, 7, 8, 9, 10, 15, 16, 17])
def test_short_row_batches(name, n, dtype, rng):
    """softmax and log_softmax of a matrix of short rows run whole groups or batches of
    rows (read and written unmasked, rows spilling into the next; log_softmax's output
    written without a transpose): the same bits as the per-group path (the tail rows, a
    strided output), wherever a row sits, in place too, special rows included."""
    f = getattr(cmf, name)
    x = _x(rng, 300, n, dtype, special=True)
    x[70, :] = -np.inf
    x[133, n // 2] = np.nan
    x[200, 0] = np.inf
    for kw in (dict(), dict(temperature=0.7)):
        full = f(x, **kw)
        out = np.zeros((x.shape[0], 2 * n), dtype)[:, ::2]
        np.testing.assert_array_equal(f(x, out=out, **kw), full, err_msg=f"n={n} strided")
        for s in (1, 5, 16, 17, 64, 100):
            np.testing.assert_array_equal(f(x[s:], **kw), full[s:], err_msg=f"n={n} shift={s}")
        inplace = x.copy()
        f(inplace, out=inplace, **kw)
        np.testing.assert_array_equal(inplace, full, err_msg=f"n={n} in place")
        fin = np.isfinite(x).all(axis=1)
        ops.assert_close(full[fin], FORWARD[name][1](x[fin].astype(np.float64), -1,
                                                     temperature=kw.get("temperature", 1.0)), dtype)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 7, 8, 9, 10, 15, 16, 17])
def test_softmax_vjp_short_rows(n, dtype, rng):
    """softmax_vjp of a matrix of short rows runs whole groups of rows in registers (the
    output written without a transpose), the rest through the column kernel: the same
    bits as the tiles (a strided output), wherever a row sits, in place too."""
    x = _x(rng, 150, n, dtype, special=True)
    y = cmf.softmax(x)
    g = rng.standard_normal(x.shape).astype(dtype)
    g[3, 0] = np.inf
    g[40, n - 1] = np.nan
    for kw in (dict(), dict(temperature=0.7)):
        full = cmf.softmax_vjp(y, g, **kw)
        out = np.zeros((x.shape[0], 2 * n), dtype)[:, ::2]
        np.testing.assert_array_equal(cmf.softmax_vjp(y, g, out=out, **kw), full, err_msg=f"n={n} strided")
        for s in (1, 5, 16, 17, 100):
            np.testing.assert_array_equal(cmf.softmax_vjp(y[s:], g[s:], **kw), full[s:], err_msg=f"n={n} shift={s}")
        inplace = g.copy()
        cmf.softmax_vjp(y, inplace, out=inplace, **kw)
        np.testing.assert_array_equal(inplace, full, err_msg=f"n={n} in place")
    fin = np.isfinite(x).all(axis=1) & np.isfinite(g).all(axis=1)
    ops.assert_close(cmf.softmax_vjp(y[fin], g[fin]),
                     ref.softmax_vjp(x[fin].astype(np.float64), g[fin].astype(np.float64)), dtype, scale=10.0)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 7, 8, 9, 10, 15, 16, 17])
def test_logsumexp_short_row_batches(n, dtype, rng):
    """logsumexp of a matrix of short rows runs whole batches of rows in registers, the
    rest through the column kernel's tiles: the same bits (a strided input takes the
    tiles), wherever a row sits, special rows included."""
    x = _x(rng, 300, n, dtype, special=True)
    x[70, :] = -np.inf
    x[133, n // 2] = np.nan
    x[200, 0] = np.inf
    x[201, :] = np.inf
    strided = np.zeros((x.shape[0], 2 * n), dtype)[:, ::2]
    strided[...] = x
    for kw in (dict(), dict(temperature=0.7)):
        full = cmf.logsumexp(x, -1, **kw)
        np.testing.assert_array_equal(cmf.logsumexp(strided, -1, **kw), full, err_msg=f"n={n} strided")
        for s in (1, 5, 16, 17, 64, 100):
            np.testing.assert_array_equal(cmf.logsumexp(x[s:], -1, **kw), full[s:], err_msg=f"n={n} shift={s}")
        lse, sign = cmf.logsumexp(x, -1, return_sign=True, **kw)
        np.testing.assert_array_equal(lse, full)
        fin = np.isfinite(x).all(axis=1)
        ops.assert_close(full[fin], ref.logsumexp(x[fin].astype(np.float64), -1,
                                                  temperature=kw.get("temperature", 1.0)), dtype)
        assert np.isnan(full[133]) and full[70] == -np.inf and full[201] == np.inf


@pytest.mark.parametrize("name", ["logsumexp", "log_softmax", "softmax"])
@pytest.mark.parametrize("n", [48, 128, 1000, 3000])
def test_grouped_rows_match_single_rows(name, n, dtype, rng):
    """Rows the row kernel takes go 16 at a time with their logs or reciprocals batched
    (logsumexp; softmax and log_softmax up to 8 KiB rows): every row holds the bits it gets
    alone, with NaN, +inf, all -inf and huge rows inside a group, and a temperature; in
    place too."""
    f, r = FORWARD[name]
    x = (rng.standard_normal((37, n)) * 3).astype(dtype)
    x[1, 5] = np.nan
    x[2, 7] = np.inf
    x[3] = -np.inf
    x[4] = np.finfo(dtype).max / 2
    x[20, :3] = np.finfo(dtype).max
    for kw in (dict(), dict(temperature=0.7), dict(temperature=1e-30)):
        full = f(x, -1, **kw)
        for i in range(37):
            np.testing.assert_array_equal(f(x[i:i + 1], -1, **kw), full[i:i + 1], err_msg=f"row {i} {kw}")
        with np.errstate(all="ignore"):
            ops.assert_close(full[5:], r(x[5:].astype(np.float64), -1, **kw), dtype, err_msg=f"{kw}")
        if name != "logsumexp":
            y = x.copy()
            assert f(y, -1, out=y, **kw) is y
            np.testing.assert_array_equal(y, full)
