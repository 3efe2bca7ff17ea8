"""The plumbing's views: the kernels read and write the caller's memory, never copies, and
a parameter given as a Python scalar behaves exactly as the same value given as an array."""
from __future__ import annotations

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
