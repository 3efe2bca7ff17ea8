"""Typed use of cmaxfam's public API: tests/test_typing.py runs mypy --strict on this file
(no error allowed) and also *runs* it, with an ``assert_type`` that checks that each
value has the asserted type at run time (class, and dtype for arrays): the stubs must
say what the functions really return, not only something that type-checks.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

import cmaxfam as cmf

if TYPE_CHECKING:
    from typing_extensions import assert_type
else:
    import types
    import typing

    def _matches(value, typ):
        if typ is Any:
            return True
        origin, args = typing.get_origin(typ), typing.get_args(typ)
        if origin in (typing.Union, types.UnionType):
            return any(_matches(value, a) for a in args)
        if origin is tuple:
            return (isinstance(value, tuple) and len(value) == len(args)
                    and all(_matches(v, a) for v, a in zip(value, args)))
        if origin is np.ndarray:              # NDArray[T]: ndarray[shape, dtype[T]]
            scalar = typing.get_args(args[1])[0]
            return isinstance(value, np.ndarray) and (
                scalar is Any or issubclass(value.dtype.type, typing.get_origin(scalar) or scalar))
        return type(value) is typ             # a NumPy scalar type: exactly that type

    def assert_type(value, typ):
        assert _matches(value, typ), f"{type(value).__name__} {getattr(value, 'dtype', '')} is not {typ}"
        return value


rng = np.random.default_rng(0)
x16: NDArray[np.float16] = rng.standard_normal((4, 5)).astype(np.float16)
x32: NDArray[np.float32] = rng.standard_normal((4, 5), dtype=np.float32)
x64: NDArray[np.float64] = rng.standard_normal((4, 5))
xi: NDArray[np.int64] = np.arange(20).reshape(4, 5)
v32: NDArray[np.float32] = rng.standard_normal(5, dtype=np.float32)      # one slice
xany: NDArray[Any] = x32
labels = [0, 1, 2, 3]

# ---- normalisers: float16/32/64 keep their dtype; integers, bools and lists give float64
assert_type(cmf.softmax(x32), NDArray[np.float32])
assert_type(cmf.softmax(x64, axis=0, temperature=2.0), NDArray[np.float64])
assert_type(cmf.softmax(x16), NDArray[np.float16])
assert_type(cmf.softmax(xi), NDArray[np.float64])
assert_type(cmf.softmax([1.0, 2.0, 3.0]), NDArray[np.float64])
assert_type(cmf.softmax([[1, 2], [3, 4]]), NDArray[np.float64])
assert_type(cmf.softmax(np.ones(3, np.float32), n_threads=None), NDArray[np.float32])
unknown: NDArray[np.float16] = cmf.softmax(xany)                       # dtype unknown: Any
assert_type(cmf.log_softmax(x32, axis=(0, 1), where=x32 > 0), NDArray[np.float32])
out32 = np.empty_like(x32)
assert_type(cmf.softmax(x32, out=out32), NDArray[np.float32])
assert_type(cmf.sparsemax(x32), NDArray[np.float32])
assert_type(cmf.entmax15(x64), NDArray[np.float64])
assert_type(cmf.entmax(x16, 1.25), NDArray[np.float16])
assert_type(cmf.entmax(x32, alpha=[1.5, 2.0, 1.2, 3.0], axis=-1), NDArray[np.float32])
assert_type(cmf.argmax(x32), NDArray[np.float32])
assert_type(cmf.argmax(x32, return_indices=True), NDArray[np.int64])
assert_type(cmf.argmax([1.0, 3.0], return_indices=False), NDArray[np.float64])

# ---- derivatives: the promoted dtype of the forward value and the (co)tangent
y32, y64, y16 = cmf.softmax(x32), cmf.softmax(x64), cmf.softmax(x16)
assert_type(cmf.softmax_vjp(y32, x32), NDArray[np.float32])
assert_type(cmf.softmax_vjp(y32, x64), NDArray[np.float64])
assert_type(cmf.softmax_vjp(y64, x32), NDArray[np.float64])
assert_type(cmf.softmax_vjp(y16, x16), NDArray[np.float16])
assert_type(cmf.softmax_jvp(y32, xi), NDArray[np.float64])
assert_type(cmf.log_softmax_vjp(cmf.log_softmax(x32), x32), NDArray[np.float32])
assert_type(cmf.log_softmax_jvp(cmf.log_softmax(x64), x64), NDArray[np.float64])
assert_type(cmf.softmax_jacobian(y32), NDArray[np.float32])
assert_type(cmf.log_softmax_jacobian(cmf.log_softmax(x16)), NDArray[np.float16])
s32 = cmf.sparsemax(x32)
assert_type(cmf.sparsemax_vjp(s32, x32), NDArray[np.float32])
assert_type(cmf.sparsemax_jvp(s32, x32), NDArray[np.float32])
assert_type(cmf.sparsemax_jacobian(s32), NDArray[np.float32])
e32 = cmf.entmax15(x32)
assert_type(cmf.entmax15_vjp(e32, x32), NDArray[np.float32])
assert_type(cmf.entmax15_jvp(e32, x32), NDArray[np.float32])
assert_type(cmf.entmax15_jacobian(e32), NDArray[np.float32])
assert_type(cmf.entmax_vjp(e32, x32, 1.5), NDArray[np.float32])
dx32, da32 = assert_type(cmf.entmax_vjp(e32, x32, return_alpha_grad=True),
                         tuple[NDArray[np.float32], np.float32 | NDArray[np.float32]])
assert_type(cmf.entmax_vjp(cmf.entmax([1.0, 0.5]), [1.0, 0.0], return_alpha_grad=True),
            tuple[NDArray[np.float64], np.float64 | NDArray[np.float64]])
assert_type(cmf.entmax_jvp(e32, x32, 1.5), NDArray[np.float32])
assert_type(cmf.entmax_jacobian(e32, 1.5), NDArray[np.float32])

# ---- reductions: a NumPy scalar for a 0-d result, else an array (one union)
assert_type(cmf.logsumexp(v32), np.float32 | NDArray[np.float32])
assert_type(cmf.logsumexp(x32, axis=0, keepdims=True), np.float32 | NDArray[np.float32])
assert_type(cmf.logsumexp(x64, b=x64 > 0), np.float64 | NDArray[np.float64])
assert_type(cmf.logsumexp([1.0, 2.0]), np.float64 | NDArray[np.float64])
lse32, sgn32 = assert_type(cmf.logsumexp(x32, b=x32, return_sign=True),
                           tuple[np.float32 | NDArray[np.float32], np.float32 | NDArray[np.float32]])
lse32 = cmf.logsumexp(x32)
assert_type(cmf.logsumexp_vjp(x32, lse32, np.ones(4, np.float32)), NDArray[np.float32])
assert_type(cmf.logsumexp_vjp(x32, lse32, 1.0), NDArray[np.float64])   # a Python float: float64
assert_type(cmf.logsumexp_jvp(x32, lse32, x32), np.float32 | NDArray[np.float32])
f32 = cmf.softmax_mean(x32)
assert_type(f32, np.float32 | NDArray[np.float32])
assert_type(cmf.softmax_mean(x16, axis=None), np.float16 | NDArray[np.float16])
assert_type(cmf.softmax_mean_vjp(x32, f32, np.ones(4, np.float32)), NDArray[np.float32])
assert_type(cmf.softmax_mean_jvp(x32, f32, x64), np.float64 | NDArray[np.float64])

# ---- elementwise: scalars give NumPy scalars, arrays give arrays
assert_type(cmf.sigmoid(0.0), np.float64)
assert_type(cmf.sigmoid(3), np.float64)
assert_type(cmf.sigmoid(np.float32(1.0)), np.float32)
assert_type(cmf.sigmoid(x32), NDArray[np.float32])
assert_type(cmf.sigmoid([0.0, 1.0]), NDArray[np.float64])
assert_type(cmf.log_sigmoid(x16, temperature=2.0), NDArray[np.float16])
assert_type(cmf.softplus(xi), NDArray[np.float64])
sg32 = cmf.sigmoid(x32)
assert_type(cmf.sigmoid_vjp(sg32, x32), NDArray[np.float32])
assert_type(cmf.sigmoid_jvp(sg32, x64), NDArray[np.float64])
assert_type(cmf.sigmoid_vjp(np.float32(0.5), np.float32(1.0)), np.float32)
assert_type(cmf.sigmoid_vjp(0.5, np.float32(1.0)), np.float64)
assert_type(cmf.log_sigmoid_vjp(cmf.log_sigmoid(x32), x32), NDArray[np.float32])
assert_type(cmf.log_sigmoid_jvp(cmf.log_sigmoid(x32), x32), NDArray[np.float32])
assert_type(cmf.softplus_vjp(cmf.softplus(x64), x64), NDArray[np.float64])
assert_type(cmf.softplus_jvp(cmf.softplus(2.0), 1.0), np.float64)

# ---- smoothed max and entropies
assert_type(cmf.smoothed_max(x32, 1.5), np.float32 | NDArray[np.float32])
sm32 = cmf.smoothed_max(x32)
assert_type(cmf.smoothed_max_vjp(x32, sm32, np.ones(4, np.float32)), NDArray[np.float32])
assert_type(cmf.smoothed_max_jvp(x32, sm32, x32, alpha=2.0), np.float32 | NDArray[np.float32])
assert_type(cmf.shannon_entropy(y32), np.float32 | NDArray[np.float32])
assert_type(cmf.gini_entropy([0.5, 0.5]), np.float64 | NDArray[np.float64])
assert_type(cmf.tsallis_entropy(y16, 1.5, keepdims=True), np.float16 | NDArray[np.float16])

# ---- losses: a scalar (an array for reduction="none"); with return_grad, (loss, gradient)
assert_type(cmf.softmax_cross_entropy(x32, labels), np.float32)
assert_type(cmf.softmax_cross_entropy(x64, labels, reduction="sum"), np.float64)
assert_type(cmf.softmax_cross_entropy(x32, labels, reduction="none"), NDArray[np.float32])
assert_type(cmf.softmax_cross_entropy(x16, labels, return_grad=True),
            tuple[np.float16, NDArray[np.float16]])
assert_type(cmf.softmax_cross_entropy([[1.0, 2.0]], [1], reduction="none", return_grad=True),
            tuple[NDArray[np.float64], NDArray[np.float64]])
g32 = np.empty_like(x32)
assert_type(cmf.softmax_cross_entropy(x32, labels, grad_out=g32), tuple[np.float32, NDArray[np.float32]])
assert_type(cmf.sparsemax_loss(x32, labels, label_smoothing=0.1), np.float32)
assert_type(cmf.entmax_loss(x32, y32, alpha=1.5, return_grad=True), tuple[np.float32, NDArray[np.float32]])
assert_type(cmf.distillation_loss(x32, x32, temperature=2.0), np.float32)
assert_type(cmf.distillation_loss(x64, x64, reduction="none", return_grad=True),
            tuple[NDArray[np.float64], NDArray[np.float64]])
W32, b32 = np.zeros((5, 3), np.float32), np.zeros(3, np.float32)
assert_type(cmf.softmax_layer_grad(x32, W32, b32, [0, 1, 2, 0]),
            tuple[np.float32, NDArray[np.float32], NDArray[np.float32]])
assert_type(cmf.softmax_layer_grad([[1.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]], [0, 0], [1]),
            tuple[np.float64, NDArray[np.float64], NDArray[np.float64]])
assert_type(cmf.softmax_layer_grad(x64, np.zeros((5, 3)), np.zeros(3), [0, 1, 2, 0], reduction="none"),
            tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]])

# ---- sampling
assert_type(cmf.gumbel_softmax(x32, rng=0), NDArray[np.float32])
assert_type(cmf.gumbel_softmax(x64, hard=True, rng=rng, return_noise=True),
            tuple[NDArray[np.float64], NDArray[np.float64]])
ys32 = cmf.gumbel_softmax(x32, rng=1)
assert_type(cmf.gumbel_softmax_vjp(ys32, x32), NDArray[np.float32])
assert_type(cmf.gumbel_softmax_jvp(ys32, x32), NDArray[np.float32])
assert_type(cmf.gumbel_softmax_jacobian(ys32), NDArray[np.float32])
assert_type(cmf.sample_categorical(x32, rng=0), NDArray[np.int64] | np.int64)
assert_type(cmf.sample_categorical(v32, rng=0), NDArray[np.int64] | np.int64)
assert_type(cmf.sample_categorical(x32, size=(2, 3), rng=np.int64(7)), NDArray[np.int64] | np.int64)

# ---- the rest
assert_type(cmf.__version__, str)
cmf.show_config()
