"""Memory layouts: any strides, any axis, the kernels' tiling boundaries (rows shorter /
longer than 48, more than 64 slices, inner sizes that are not multiples of 64), empty
arrays, n = 1 and 0-d input.  Every result is compared with the float64 reference of
the same values, and with the result for a C-contiguous copy of the input.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import cmaxfam as cmf
import ops
import reference as ref


@dataclass(frozen=True)
class Layout:
    name: str
    make: Callable          # (rng, dtype) -> array (any layout)
    axis: object = -1

    def __repr__(self):
        return self.name


def _base(shape):
    return lambda rng, dt: ops.random_x(rng, shape, dt)


def _view(shape, fn):
    return lambda rng, dt: fn(ops.random_x(rng, shape, dt))


def _unaligned(shape):
    """The values of a random C array, stored one byte off alignment."""
    def make(rng, dt):
        a = ops.random_x(rng, shape, dt)
        buf = np.zeros(a.nbytes + 1, dtype=np.uint8)
        buf[1:] = a.view(np.uint8).ravel()
        u = buf[1:].view(dt).reshape(shape)
        assert not u.flags.aligned
        return u
    return make


def _unmergeable(rng, dt):
    # x[::2, :, ::3] then transposed: no two dims can be merged into one stride
    return ops.random_x(rng, (12, 5, 18), dt)[::2, :, ::3].transpose(2, 0, 1)


LAYOUTS = [
    Layout("c_2d_last", _base((13, 37))),
    Layout("c_2d_axis0", _base((13, 37)), 0),
    Layout("f_2d_last", _view((13, 37), np.asfortranarray)),
    Layout("f_2d_axis0", _view((13, 37), np.asfortranarray), 0),
    Layout("f_3d_axis1", _view((4, 9, 6), np.asfortranarray), 1),
    Layout("neg_strides_last", _view((9, 11), lambda a: a[::-1, ::-1])),
    Layout("neg_strides_axis0", _view((9, 11), lambda a: a[::-1, ::-1]), 0),
    Layout("neg_step2_3d_axis1", _view((9, 11, 7), lambda a: a[::-1, :, ::-2]), 1),
    Layout("neg_step2_3d_axis2", _view((9, 11, 7), lambda a: a[::-1, :, ::-2]), 2),
    Layout("noncontig_slices_last", _view((10, 50), lambda a: a[:, ::3])),
    Layout("noncontig_slices_axis0", _view((50, 10), lambda a: a[::2]), 0),
    Layout("noncontig_both", _view((20, 40), lambda a: a[1::3, 2::5])),
    Layout("transposed", _view((7, 30), lambda a: a.T)),
    Layout("transposed_axis0", _view((7, 30), lambda a: a.T), 0),
    *[Layout(f"c_3d_axis{ax}", _base((5, 6, 7)), ax) for ax in (0, 1, 2, -2)],
    *[Layout(f"c_4d_axis{ax}", _base((3, 4, 5, 6)), ax) for ax in (0, 1, 2, 3, -3)],
    *[Layout(f"f_4d_axis{ax}", _view((3, 4, 5, 6), np.asfortranarray), ax) for ax in (0, 2, 3)],
    *[Layout(f"unmergeable_axis{ax}", _unmergeable, ax) for ax in (0, 1, 2)],
    *[Layout(f"swapped_4d_axis{ax}", _view((6, 4, 5, 3), lambda a: a.swapaxes(0, 2)[:, ::2]), ax)
      for ax in (0, 1, 3)],
    Layout("broadcast_zero_stride", _view((1, 17), lambda a: np.broadcast_to(a, (9, 17)))),
    Layout("broadcast_zero_stride_axis0", _view((1, 17), lambda a: np.broadcast_to(a, (9, 17))), 0),
    Layout("unaligned", _unaligned((6, 23))),
    Layout("unaligned_axis0", _unaligned((6, 23)), 0),
    Layout("empty_batch", _base((0, 5))),
    Layout("empty_slices", _base((4, 0))),
    Layout("empty_slices_axis0", _base((0, 5)), 0),
    Layout("empty_3d_axis1", _base((2, 0, 3)), 1),
    Layout("empty_3d_axis0", _base((2, 0, 3)), 0),
    Layout("n1_last", _base((7, 1))),
    Layout("n1_axis0", _base((1, 9)), 0),
    Layout("n1_1d", _base((1,))),
    Layout("1d", _base((29,))),
    *[Layout(f"short_rows_n{n}", _base((3, n))) for n in (2, 3, 5, 8, 15, 16, 17, 31, 33, 47)],
    *[Layout(f"long_rows_n{n}", _base((3, n))) for n in (48, 49, 63, 64, 65, 127, 1000, 4099)],
    Layout("long_rows_strided", _view((2, 3001), lambda a: a[:, ::-2])),
    Layout("many_slices_last", _base((200, 5))),
    Layout("many_slices_axis0", _base((5, 200)), 0),
    Layout("many_slices_3d_axis1", _base((130, 7, 3)), 1),
    Layout("many_slices_long", _base((70, 100))),
    *[Layout(f"axis0_inner{s[1]}", _base(s), 0) for s in ((20, 67), (9, 130), (50, 1), (33, 65), (4, 63))],
    Layout("axis0_inner_f", _view((20, 67), np.asfortranarray), 0),
]


def _grid(pred=None):
    return [pytest.param(op, lay, id=f"{op.name}-{lay.name}")
            for op in ops.OPS for lay in LAYOUTS if pred is None or pred(op)]


def _t_for(rng, x, axis):
    """A per-slice temperature array for x (keepdims shape: valid for every kind)."""
    keep = ref.Slices(x.shape, axis).keep if x.ndim else ()
    return rng.uniform(0.5, 2.0, size=keep)


@pytest.mark.parametrize("op, lay", _grid())
def test_forward_layout(op, lay, dtype, rng):
    x = lay.make(ops.input_rng(op, rng), dtype)
    before = np.array(x, copy=True)
    res = np.asarray(op.forward(x, lay.axis))
    assert res.dtype == dtype
    ops.assert_close(res, op.reference(x, lay.axis), dtype, exact_zeros=op.exact_zeros)
    np.testing.assert_array_equal(x, before)            # the input is not modified
    # the same as for a C-contiguous copy, to the last bits that layout can change
    contiguous = np.asarray(op.forward(np.ascontiguousarray(x), lay.axis))
    np.testing.assert_allclose(res, contiguous, **ops.tol(dtype, 0.1))


@pytest.mark.parametrize("op, lay", _grid(lambda op: op.differentiable))
def test_temperature_array_layout(op, lay, rng):
    """Per-slice temperatures follow the slices whatever the layout."""
    x = lay.make(rng, np.float64)
    t = _t_for(rng, x, lay.axis)
    res = np.asarray(op.forward(x, lay.axis, temperature=t))
    ops.assert_close(res, op.reference(x, lay.axis, temperature=t), exact_zeros=op.exact_zeros)


@pytest.mark.parametrize("op, lay", _grid(ops.with_where))
def test_where_layout(op, lay, rng):
    x = lay.make(rng, np.float64)
    w = rng.random(x.shape) < 0.6
    # the mask in a layout of its own: Fortran order
    w = np.asfortranarray(w)
    res = np.asarray(op.forward(x, lay.axis, where=w))
    ops.assert_close(res, op.reference(x, lay.axis, where=w), exact_zeros=op.exact_zeros)


DERIV_LAYOUTS = [lay for lay in LAYOUTS if lay.name in {
    "c_2d_axis0", "f_2d_last", "neg_strides_axis0", "neg_step2_3d_axis1", "noncontig_slices_last",
    "c_3d_axis1", "c_4d_axis2", "unmergeable_axis0", "unmergeable_axis2", "unaligned",
    "broadcast_zero_stride_axis0", "empty_slices", "empty_batch", "n1_last",
    "short_rows_n17", "long_rows_n1000", "many_slices_axis0", "axis0_inner67", "1d"}]


@pytest.mark.parametrize("op, lay", [
    pytest.param(op, lay, id=f"{op.name}-{lay.name}")
    for op in ops.OPS if op.differentiable for lay in DERIV_LAYOUTS])
def test_derivative_layout(op, lay, dtype, rng):
    """VJP and JVP with the input, the forward output and the (co)tangent in three
    different layouts."""
    x = lay.make(rng, dtype)
    y = np.asarray(op.forward(x, lay.axis))
    y_f = np.asfortranarray(y)                                 # output: Fortran order
    g = rng.standard_normal(y.shape).astype(dtype)
    g = np.flip(g, axis=0).copy()[::-1] if g.ndim else g       # same values, negative stride
    dx = rng.standard_normal(x.shape).astype(dtype)
    dx_v = np.repeat(dx, 2, axis=-1)[..., ::2] if dx.ndim else dx   # non-contiguous view
    vj = op.vjp(x, y_f, g, lay.axis)
    jv = np.asarray(op.jvp(x, y_f, dx_v, lay.axis))
    assert vj.shape == x.shape and vj.dtype == dtype
    ops.assert_close(vj, op.ref_vjp(x, g, lay.axis), dtype, scale=10.0)
    ops.assert_close(jv, op.ref_jvp(x, dx, lay.axis), dtype, scale=10.0)


@pytest.mark.parametrize("op", ops.params(lambda op: op.multi_axis))
def test_zero_d_axis_none(op, dtype):
    x = np.array(1.75, dtype=dtype)
    res = op.forward(x, None)
    assert np.ndim(res) == 0 and np.asarray(res).dtype == dtype
    ops.assert_close(np.asarray(res), op.reference(x, None), dtype)


@pytest.mark.parametrize("op", ops.params(lambda op: op.multi_axis and op.kind != ops.ELEMENTWISE))
@pytest.mark.parametrize("axis", [None, (0, 2), (2, 0), (1,), (0, 1, 2), (-1, -2)])
@pytest.mark.parametrize("make", [
    pytest.param(lambda rng, dt: ops.random_x(rng, (4, 5, 6), dt), id="c"),
    pytest.param(lambda rng, dt: np.asfortranarray(ops.random_x(rng, (4, 5, 6), dt)), id="f"),
    pytest.param(_unmergeable, id="unmergeable"),
])
def test_multiple_axes_layout(op, axis, make, dtype, rng):
    x = make(rng, dtype)
    res = np.asarray(op.forward(x, axis))
    ops.assert_close(res, op.reference(x, axis), dtype, exact_zeros=op.exact_zeros)
    w = rng.random(x.shape) < 0.7
    t = rng.uniform(0.5, 2.0, size=ref.Slices(x.shape, axis).keep)
    res = np.asarray(op.forward(x, axis, where=w, temperature=t))
    ops.assert_close(res, op.reference(x, axis, where=w, temperature=t), dtype,
                     exact_zeros=op.exact_zeros)


@pytest.mark.parametrize("op", ops.params(lambda op: op.kind != ops.ELEMENTWISE))
def test_zero_d_needs_axis_none(op):
    """A 0-d input has no axis -1."""
    with pytest.raises(np.exceptions.AxisError):
        op.forward(np.array(1.0), -1)


def test_argmax_indices_layout(rng):
    for lay in LAYOUTS:
        x = lay.make(rng, np.float64)
        if x.shape[lay.axis] == 0:
            continue
        got = cmf.argmax(x, lay.axis, return_indices=True)
        np.testing.assert_array_equal(got, np.argmax(x, axis=lay.axis), err_msg=lay.name)


@pytest.mark.parametrize("op", ops.params(lambda op: op.kind != ops.ELEMENTWISE))
@pytest.mark.parametrize("axis", [-1, 0])
def test_very_long_float32_slices(op, axis, rng):
    """2**20 entries per slice in float32: the sums must not lose float32 accuracy."""
    x = ops.random_x(ops.input_rng(op, rng), (2, 1 << 20), np.float32, scale=1.0)
    if axis == 0:
        x = np.ascontiguousarray(x.T)
    res = np.asarray(op.forward(x, axis))
    ops.assert_close(res, op.reference(x, axis), np.float32, exact_zeros=op.exact_zeros)


@pytest.mark.parametrize("op", ops.params(lambda op: op.multi_axis and op.inplace
                                          and op.kind != ops.ELEMENTWISE))
@pytest.mark.parametrize("axis", [(0, 1), (2, 0), None])
def test_multiple_axes_in_place(op, axis, dtype, rng):
    x = ops.random_x(rng, (4, 5, 6), dtype)
    w = rng.random(x.shape) < 0.7
    expected = op.forward(x.copy(), axis, where=w)
    assert op.forward(x, axis, where=w, out=x) is x
    np.testing.assert_array_equal(x, expected)


@pytest.mark.parametrize("inner", [2, 3, 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_staged_tiles_spanning_outer_rows(inner, dtype):
    # Regression: short strided slices are gathered 64 at a time; a tile whose slices
    # span several outer indices (inner size not dividing 64) was once taken for an
    # equally spaced run and read/written out of bounds.
    rng = np.random.default_rng(inner)
    x = rng.standard_normal((50, 7, inner)).astype(dtype)
    xs = x.transpose(0, 2, 1).copy().transpose(0, 2, 1)      # axis 1 with stride != 1
    g = rng.standard_normal(x.shape).astype(dtype)
    x64 = x.astype(np.float64)
    checks = [
        (cmf.softmax(xs, axis=1), ref.softmax(x64, 1)),
        (cmf.log_softmax(xs, axis=1), ref.log_softmax(x64, 1)),
        (cmf.logsumexp(xs, axis=1), ref.logsumexp(x64, 1)),
        (cmf.softmax_vjp(cmf.softmax(xs, axis=1), g, axis=1), ref.softmax_vjp(x64, g, 1)),
    ]
    for got, want in checks:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
