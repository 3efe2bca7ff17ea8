"""The plumbing's views: the kernels read and write the caller's memory, never copies, and
a parameter given as a Python scalar behaves exactly as the same value given as an array."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest

import cmaxfam as cmf
from cmaxfam import _plumbing as P, _validation as V


@pytest.mark.parametrize("make", [
    lambda a: a,                                  # C order
    lambda a: np.asfortranarray(a),               # Fortran order
    lambda a: a[::-1, ::2],                       # neither: as_strided
], ids=["c", "f", "strided"])
def test_views_share_memory_and_keep_writeability(make):
    a = make(np.arange(48.0).reshape(6, 8))
    for axis in (0, 1):
        (v,) = P.slice_views(axis, (a,))[0:1]
        view = v[0]
        assert np.shares_memory(view, a)
        assert view.flags.writeable
        # the 3-D view walks the array: slice k of the view is a's slice k
        got = view.transpose(0, 2, 1).reshape(-1, a.shape[axis])
        want = np.moveaxis(a, axis, -1).reshape(-1, a.shape[axis])
        assert sorted(map(tuple, got)) == sorted(map(tuple, want))
    ro = make(np.arange(48.0).reshape(6, 8))
    ro.flags.writeable = False
    assert not P.slice_views(1, (ro,))[0][0].flags.writeable


def test_out_is_written_in_place_for_every_layout():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 7)).astype(np.float32)
    for out in (np.empty((5, 7), np.float32), np.empty((5, 7), np.float32, order="F"),
                np.empty((5, 14), np.float32)[:, ::2]):
        res = cmf.softmax(x, axis=0, out=out)
        assert res is out
        np.testing.assert_allclose(out, cmf.softmax(x.astype(np.float64), axis=0), rtol=1e-6)


@pytest.mark.parametrize("t", [0.5, 2, 3.0])
def test_scalar_temperature_is_the_same_as_an_array(t):
    x = np.random.default_rng(1).standard_normal((4, 9))
    plan = P.AxisPlan(x.shape, -1, allow_multiple=True)
    fast = V.slice_param(t, plan, "temperature")
    slow = V.slice_param(np.float64(t), plan, "temperature")
    assert fast.shape == slow.shape and fast.dtype == slow.dtype == np.float64
    assert not fast.flags.writeable
    np.testing.assert_array_equal(fast, slow)
    assert cmf.softmax(x, temperature=t).tobytes() == \
        cmf.softmax(x, temperature=np.array(t)).tobytes()


BAD_SCALARS = [
    *[(cmf.softmax, "temperature", v) for v in (0, 0.0, -1, -2.5, float("inf"), float("nan"))],
    *[(cmf.entmax, "alpha", v) for v in (0.5, 0, float("inf"), float("nan"), -1)],
]


@pytest.mark.parametrize("f,name,bad", BAD_SCALARS, ids=lambda v: str(v))
def test_bad_scalar_parameter_gives_the_array_message(f, name, bad):
    # the Python-scalar fast paths of slice_param / check_alpha raise what the array path does
    x = np.ones((2, 3))
    with pytest.raises(ValueError) as fast:
        f(x, **{name: bad})
    with pytest.raises(ValueError) as slow:
        f(x, **{name: np.array(float(bad))})
    assert str(fast.value) == str(slow.value)


def test_bool_temperature_is_still_a_type_error():
    with pytest.raises(TypeError, match="temperature"):
        cmf.softmax(np.ones(3), temperature=True)


@pytest.mark.parametrize("alpha", [1, 1.3, 2.0, 4])
def test_scalar_alpha_is_the_same_as_an_array(alpha):
    x = np.random.default_rng(2).standard_normal((5, 11))
    assert cmf.entmax(x, alpha=alpha).tobytes() == cmf.entmax(x, alpha=np.array(alpha)).tobytes()
    labels = np.arange(5) % 11
    a = cmf.entmax_loss(x, labels, alpha=alpha, return_grad=True)
    b = cmf.entmax_loss(x, labels, alpha=np.array(alpha), return_grad=True)
    assert a[0] == b[0] and a[1].tobytes() == b[1].tobytes()


def test_fill_value_is_a_read_only_broadcast():
    v = V.fill_value(0.25, (3, 1, 4))
    assert v.shape == (3, 1, 4) and v.dtype == np.float64 and not v.flags.writeable
    assert v.strides == (0, 0, 0) and np.all(v == 0.25)


# ---------- the common call's short path (cmaxfam/_cy/_common.pxd: common_input) ----------
# A C-contiguous float32/float64 ndarray along its last axis, a Python scalar temperature
# (and alpha), no where, one thread, no out or a usable one skips the general validation
# and planning.  It must give the bits of the general path (an ndarray subclass takes that
# one) and hand every other call to it.

class _Sub(np.ndarray):
    pass


class _GeneralPath(Exception):
    pass


class _general_path_forbidden:
    """Within it, the general path (every op's runs through _plumbing.run_slices) raises."""

    def __enter__(self):
        def boom(*a, **k):
            raise _GeneralPath
        self.saved = P.run_slices
        P.run_slices = boom

    def __exit__(self, *exc):
        P.run_slices = self.saved


def _rng_array(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


_ROW_OPS = [
    ("softmax", lambda x, **k: cmf.softmax(x, **k)),
    ("log_softmax", lambda x, **k: cmf.log_softmax(x, **k)),
    ("sparsemax", lambda x, **k: cmf.sparsemax(x, **k)),
    ("entmax15", lambda x, **k: cmf.entmax15(x, **k)),
    ("entmax@1.3", lambda x, **k: cmf.entmax(x, 1.3, **k)),
    ("entmax@3", lambda x, **k: cmf.entmax(x, 3, **k)),
    ("argmax", lambda x, **k: cmf.argmax(x, **k)),
    ("sigmoid", lambda x, **k: cmf.sigmoid(x, **k)),
    ("log_sigmoid", lambda x, **k: cmf.log_sigmoid(x, **k)),
    ("softplus", lambda x, **k: cmf.softplus(x, **k)),
]
_D_OPS = [
    ("softmax_vjp", lambda y, g, **k: cmf.softmax_vjp(y, g, **k), cmf.softmax),
    ("log_softmax_jvp", lambda y, g, **k: cmf.log_softmax_jvp(y, g, **k), cmf.log_softmax),
    ("sparsemax_vjp", lambda y, g, **k: cmf.sparsemax_vjp(y, g, **k), cmf.sparsemax),
    ("entmax15_vjp", lambda y, g, **k: cmf.entmax15_vjp(y, g, **k), cmf.entmax15),
    ("entmax_vjp@1.3", lambda y, g, **k: cmf.entmax_vjp(y, g, 1.3, **k), lambda x: cmf.entmax(x, 1.3)),
    ("sigmoid_vjp", lambda y, g, **k: cmf.sigmoid_vjp(y, g, **k), cmf.sigmoid),
    ("softplus_vjp", lambda y, g, **k: cmf.softplus_vjp(y, g, **k), cmf.softplus),
]
_SHAPES = [(1,), (8,), (37,), (1, 7), (5, 1), (3, 5), (2, 3, 40), (300, 10)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", _SHAPES, ids=str)
@pytest.mark.parametrize("t", [1.0, 0.3, 2])
@pytest.mark.parametrize("name,f", _ROW_OPS, ids=[o[0] for o in _ROW_OPS])
def test_common_call_matches_the_general_path(name, f, t, shape, dtype):
    x = _rng_array(shape, dtype) * 3
    x.flat[0] = np.inf if x.size > 3 else x.flat[0]    # a special value on the way
    # the short path is taken (elementwise ops run along the last axis longer than 1)
    short = not (name in ("sigmoid", "log_sigmoid", "softplus") and shape[-1] == 1 and len(shape) > 1)
    with _general_path_forbidden() if short else contextlib.nullcontext():
        got = f(x, temperature=t)
    want = f(x.view(_Sub), temperature=t)                 # a subclass: the general path
    assert type(got) is np.ndarray and got.dtype == x.dtype and got.shape == x.shape
    assert got.tobytes() == want.tobytes()
    out = np.full_like(x, np.nan)                          # out=: the short path too
    assert f(x, temperature=t, out=out) is out and out.tobytes() == want.tobytes()
    xi = x.copy()                                          # in place
    assert f(xi, temperature=t, out=xi) is xi and xi.tobytes() == want.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", _SHAPES, ids=str)
def test_common_argmax_matches_the_general_path(shape, dtype):
    x = np.round(_rng_array(shape, dtype) * 2)              # ties
    if x.ndim == 2 and x.shape[0] >= 3 and x.shape[1] >= 2:
        x[0, 1] = np.nan
        x[1] = -np.inf
        x[2, 0] = np.inf
    for kw in ({}, {"return_indices": True}, {"temperature": 0.5}):
        with _general_path_forbidden():
            got = cmf.argmax(x, **kw)
        want = cmf.argmax(x.view(_Sub), **kw)
        assert type(got) is type(want) and got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes()
    want = cmf.argmax(x.view(_Sub), return_indices=True, keepdims=True)
    assert np.array_equal(cmf.argmax(x, return_indices=True, keepdims=True), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", _SHAPES, ids=str)
@pytest.mark.parametrize("name,f,fwd", _D_OPS, ids=[o[0] for o in _D_OPS])
def test_common_derivative_matches_the_general_path(name, f, fwd, shape, dtype):
    y = fwd(_rng_array(shape, dtype))
    g = _rng_array(shape, dtype, 1)
    short = not (name.startswith(("sigmoid", "softplus")) and shape[-1] == 1 and len(shape) > 1)
    for t in (1.0, 0.7):
        with _general_path_forbidden() if short else contextlib.nullcontext():
            got = f(y, g, temperature=t)
        want = f(y.view(_Sub), g, temperature=t)           # a subclass: the general path
        assert got.dtype == y.dtype and got.tobytes() == want.tobytes()
        out = np.full_like(y, np.nan)
        assert f(y, g, temperature=t, out=out) is out and out.tobytes() == want.tobytes()
        gi = g.copy()                                      # in place, into the cotangent
        assert f(y, gi, temperature=t, out=gi) is gi and gi.tobytes() == want.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1,), (8,), (1, 7), (5, 1), (3, 5), (2, 3, 40), (300, 10)], ids=str)
@pytest.mark.parametrize("t", [1.0, 1e-30, 3, 1e30])
def test_common_logsumexp_matches_the_general_path(t, shape, dtype):
    x = _rng_array(shape, dtype) * 3
    with _general_path_forbidden():
        got = cmf.logsumexp(x, temperature=t)
    want = cmf.logsumexp(x, temperature=t, keepdims=True).reshape(shape[:-1])
    assert np.asarray(got).dtype == x.dtype and np.asarray(got).tobytes() == want.tobytes()
    out = np.full(shape[:-1], np.nan, dtype)
    assert cmf.logsumexp(x, temperature=t, out=out) is out and out.tobytes() == want.tobytes()
    if len(shape) == 1:
        assert type(got) is type(want[()])                 # a NumPy scalar, as before
    big = np.full(shape, np.finfo(dtype).max, dtype)       # no overflow warning at t == 1
    with np.errstate(over="raise"):
        assert np.all(cmf.logsumexp(big) == np.finfo(dtype).max)


@pytest.mark.parametrize("make,kw", [
    (lambda x: x[:, ::2], {}),                             # not contiguous
    (lambda x: np.asfortranarray(x), {}),                  # Fortran order
    (lambda x: x.view(_Sub), {}),                          # a subclass
    (lambda x: x.astype(np.float16), {}),                  # float16
    (lambda x: x.astype(">f8"), {}),                       # non-native byte order
    (lambda x: x, {"axis": 0}),
    (lambda x: x, {"temperature": np.float64(2.0)}),
    (lambda x: x, {"temperature": [[1.0], [2.0], [3.0], [4.0]]}),
    (lambda x: x, {"n_threads": 2}),
    (lambda x: x, {"where": np.ones((4, 6), bool)}),
], ids=["strided", "fortran", "subclass", "f16", "big-endian", "axis0", "np-scalar-t", "t-array",
        "threads", "where"])
def test_uncommon_calls_take_the_general_path(make, kw):
    base = _rng_array((4, 6), np.float64)
    x = make(base)
    for f in (cmf.softmax, cmf.log_softmax, cmf.sparsemax):
        got = f(x, **kw)
        want = f(np.array(x, dtype=np.result_type(x.dtype, np.float32).newbyteorder("=")), **kw)
        assert got.dtype == (np.float16 if x.dtype == np.float16 else want.dtype)
        np.testing.assert_array_equal(got, want.astype(got.dtype))


@pytest.mark.parametrize("kw,exc,word", [
    ({"temperature": -1.0}, ValueError, "temperature"),
    ({"temperature": 0}, ValueError, "temperature"),
    ({"temperature": float("nan")}, ValueError, "temperature"),
    ({"temperature": float("inf")}, ValueError, "temperature"),
    ({"temperature": 10 ** 400}, (ValueError, OverflowError, TypeError), None),   # as before
    ({"temperature": True}, TypeError, "temperature"),
    ({"n_threads": 0}, ValueError, "n_threads"),
    ({"n_threads": 1.0}, TypeError, "n_threads"),
    ({"axis": 2}, Exception, "axis"),
], ids=["t<0", "t=0", "t=nan", "t=inf", "t=10**400", "t=True", "threads=0", "threads=1.0", "axis=2"])
def test_common_shapes_with_bad_parameters_still_raise(kw, exc, word):
    x = _rng_array((3, 5), np.float32)
    for f in (cmf.softmax, cmf.sigmoid, cmf.logsumexp, lambda x, **k: cmf.softmax_vjp(x, x, **k)):
        if f is cmf.sigmoid and "axis" in kw:
            continue
        with pytest.raises(exc, match=word):
            f(x, **kw)
    for bad in (0.5, -1.0, float("nan"), True):
        with pytest.raises((ValueError, TypeError), match="alpha"):
            cmf.entmax(x, bad)


def test_only_the_common_call_skips_the_general_path():
    x = _rng_array((4, 6), np.float32)
    with _general_path_forbidden():
        cmf.softmax(x, temperature=2), cmf.sigmoid(x), cmf.logsumexp(x, out=np.empty(4, np.float32))
        cmf.entmax(x, 1.3, axis=1), cmf.softmax_vjp(x, x, out=np.empty_like(x))
    for call in (lambda: cmf.softmax(x, axis=0), lambda: cmf.softmax(x, temperature=np.float64(2)),
                 lambda: cmf.softmax(x.tolist()), lambda: cmf.softmax(x[:, ::2]),
                 lambda: cmf.softmax(x, n_threads=2), lambda: cmf.softmax(x, out=x[::-1]),
                 lambda: cmf.softmax_vjp(x, x.astype(np.float64)), lambda: cmf.sigmoid(x[:, :1]),
                 lambda: cmf.logsumexp(x, keepdims=True), lambda: cmf.entmax(x, np.float64(1.3)),
                 lambda: cmf.softmax_cross_entropy(x, np.array([0, 1, 2, 6])),
                 lambda: cmf.softmax_cross_entropy(x, np.array([0, 1, 2, 3]), label_smoothing=0.1)):
        with _general_path_forbidden(), pytest.raises((_GeneralPath, ValueError)):
            call()


_LOSSES = [
    ("softmax_cross_entropy", lambda x, y, **k: cmf.softmax_cross_entropy(x, y, **k)),
    ("sparsemax_loss", lambda x, y, **k: cmf.sparsemax_loss(x, y, **k)),
    ("entmax_loss@1.5", lambda x, y, **k: cmf.entmax_loss(x, y, **k)),
    ("entmax_loss@1.3", lambda x, y, **k: cmf.entmax_loss(x, y, alpha=1.3, **k)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (1, 7), (5, 1), (64, 10), (2, 3, 40)], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,f", _LOSSES, ids=[o[0] for o in _LOSSES])
def test_common_loss_matches_the_general_path(name, f, reduction, shape, dtype):
    x = _rng_array(shape, dtype) * 3
    lab = np.random.default_rng(2).integers(0, shape[-1], shape[:-1])
    with _general_path_forbidden():                        # the short path is taken
        f(x, lab, reduction=reduction, return_grad=True)
    for y, t in ((lab, 1.0), (lab.astype(np.uint8), 0.5), (np.array(lab, order="F"), 2)):
        got_v, got_g = f(x, y, temperature=t, reduction=reduction, return_grad=True)
        got = f(x, y, temperature=t, reduction=reduction)
        want_v, want_g = f(x, y, temperature=t, reduction=reduction, grad_out=np.full_like(x, np.nan))
        assert type(got_v) is type(want_v) and type(got) is type(want_v)
        assert np.asarray(got_v).tobytes() == np.asarray(want_v).tobytes() == np.asarray(got).tobytes()
        assert got_g.dtype == x.dtype and got_g.tobytes() == want_g.tobytes()


@pytest.mark.parametrize("target,exc,word", [
    (np.array([0, 10, 2]), ValueError, r"\[0, 10\)"),
    (np.array([0, -1, 2]), ValueError, r"\[0, 10\)"),
    (np.array([True, False, True]), TypeError, "boolean"),
    (np.array([0.0, 1.5, 2.0]), ValueError, "integers"),
    (np.array(["a", "b", "c"]), TypeError, "target"),
    (np.zeros((3, 2), int), ValueError, "shape"),
], ids=["label=n", "label<0", "bool", "float", "str", "shape"])
def test_common_loss_shapes_with_bad_targets_still_raise(target, exc, word):
    x = _rng_array((3, 10), np.float32)
    for f in (cmf.softmax_cross_entropy, cmf.sparsemax_loss):
        with pytest.raises(exc, match=word):
            f(x, target)
        with pytest.raises(ValueError, match="reduction"):
            f(x, np.array([0, 1, 2]), reduction="avg")


def test_common_loss_leaves_other_options_to_the_general_path():
    x = _rng_array((6, 5), np.float32)
    lab = np.array([0, 1, 2, 3, 4, 0])
    base = cmf.softmax_cross_entropy(x, lab, reduction="none")
    # a broadcast target, list labels, ignore_index, weights, smoothing, float labels
    assert np.array_equal(cmf.softmax_cross_entropy(x, lab.tolist(), reduction="none"), base)
    assert cmf.softmax_cross_entropy(x, lab, ignore_index=0, reduction="none")[0] == 0
    w = np.arange(6.0)
    assert np.allclose(cmf.softmax_cross_entropy(x, lab, sample_weight=w, reduction="none"), base * w)
    assert np.all(cmf.softmax_cross_entropy(x, lab, label_smoothing=0.1, reduction="none") != base)
    assert np.array_equal(cmf.softmax_cross_entropy(x, lab.astype(float), reduction="none"), base)
    with pytest.raises(ValueError, match="label_smoothing"):      # an array: the general check
        cmf.softmax_cross_entropy(x, lab, label_smoothing=np.zeros(2))
    assert np.array_equal(cmf.softmax_cross_entropy(x[:1], np.array(2), reduction="none"),
                          cmf.softmax_cross_entropy(x[:1], np.array([2]), reduction="none"))


@pytest.mark.parametrize("f", [cmf.softmax, cmf.sigmoid, cmf.sparsemax,
                               lambda x, **k: cmf.softmax_vjp(x, x[::-1].copy(), **k)],
                         ids=["softmax", "sigmoid", "sparsemax", "softmax_vjp"])
def test_common_call_with_an_uncommon_out(f):
    x = _rng_array((6, 8), np.float32)
    want = f(x)
    for out in (np.zeros((6, 8), np.float32, order="F"), np.zeros((6, 16), np.float32)[:, ::2],
                np.zeros((6, 8), np.float32).view(_Sub)):
        assert f(x, out=out) is out and np.array_equal(out, want)       # the general path
    buf = np.concatenate([x, x], axis=0)                   # out overlapping the input
    r = f(buf[:6], out=buf[3:9])
    assert r.base is buf and np.array_equal(buf[3:9], want)
    for out, exc in ((np.zeros((6, 8)), TypeError), (np.zeros((6, 7), np.float32), ValueError),
                     (np.zeros((6, 8), np.float32), ValueError)):
        if exc is ValueError and out.shape == (6, 8):
            out.flags.writeable = False
        before = out.tobytes()
        with pytest.raises(exc, match="out"):
            f(x, out=out)
        assert out.tobytes() == before


def test_common_logsumexp_with_an_uncommon_out():
    x = _rng_array((6, 8), np.float32)
    want = cmf.logsumexp(x)
    out = np.zeros(12, np.float32)[::2]
    assert cmf.logsumexp(x, out=out) is out and np.array_equal(out, want)
    for bad, exc in ((np.zeros(6), TypeError), (np.zeros(5, np.float32), ValueError)):
        with pytest.raises(exc, match="out"):
            cmf.logsumexp(x, out=bad)
        assert not bad.any()
