"""The public contract around the numbers (SPEC section 2): dtype rules, errors that name
the offending parameter, ``out`` (identity, in place, float16, untouched when a call
fails), read-only inputs, argmax's index mode and per-slice parameter shapes.
"""
from __future__ import annotations

import numpy as np
import pytest

import cmaxfam as cmf
import ops
import reference as ref

AxisError = np.exceptions.AxisError

ALL = ops.params()
DIFF = ops.params(ops.differentiable)
WHERE = ops.params(ops.with_where)
INPLACE = ops.params(lambda op: op.inplace)
TEMPERATURE = ops.params(lambda op: op.has_temperature)


def _x(rng, shape=(4, 6), dtype=np.float64, op=None):
    """A random input for op (probabilities for the entropies)."""
    return ops.random_x(ops.input_rng(op, rng), shape, dtype)


# --------------------------------------------------------------------------------------
# The public names
# --------------------------------------------------------------------------------------

def test_public_names():
    expected = {"argmax", "softmax", "log_softmax", "logsumexp", "softmax_mean",
                "sigmoid", "log_sigmoid", "softplus"}
    for name in expected - {"argmax"}:
        expected |= {name + "_vjp", name + "_jvp"}
    expected |= {"softmax_jacobian", "log_softmax_jacobian"}
    assert expected <= set(cmf.__all__)
    for name in cmf.__all__:
        assert callable(getattr(cmf, name)), name
    assert isinstance(cmf.__version__, str)


#: public names that are not operators (utilities), the sampler (integer draws of a
#: different shape: tested in test_sampling.py), and the losses (a logits array and a
#: target in, a loss and a gradient out: tested in test_losses.py, which covers the
#: dtypes, layouts, threads and special values for them)
NOT_OPERATORS = {"show_config", "sample_categorical", "softmax_cross_entropy", "sparsemax_loss",
                 "entmax_loss", "distillation_loss", "softmax_layer_grad"}


def test_registry_covers_public_forwards():
    """Every public operator has an entry in tests/ops.py (so the generic tests run on it)."""
    names = {op.public for op in ops.OPS}
    forwards = {n for n in cmf.__all__
                if not n.endswith(("_vjp", "_jvp", "_jacobian")) and n not in NOT_OPERATORS}
    assert forwards <= names, forwards - names


# --------------------------------------------------------------------------------------
# dtypes
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ALL)
@pytest.mark.parametrize("dt", [np.float32, np.float64], ids=["f32", "f64"])
def test_float_dtype_preserved(op, dt, rng):
    x = _x(rng, dtype=dt, op=op)
    assert np.asarray(op.forward(x)).dtype == dt


@pytest.mark.parametrize("op", ALL)
def test_float16_computed_in_float32(op, rng):
    x = _x(rng, op=op).astype(np.float16)
    res = np.asarray(op.forward(x))
    assert res.dtype == np.float16
    # computed in float32 then rounded: the float32 result rounded to float16
    via32 = np.asarray(op.forward(x.astype(np.float32))).astype(np.float16)
    np.testing.assert_array_equal(res, via32)
    ops.assert_close(res, op.reference(x), np.float16, exact_zeros=op.exact_zeros)


@pytest.mark.parametrize("op", ALL)
@pytest.mark.parametrize("dt", [np.int8, np.int32, np.int64, np.uint8, np.uint64, np.bool_])
def test_integers_and_bools_become_float64(op, dt, rng):
    x = rng.integers(0, 2 if dt == np.bool_ else 50, size=(3, 5)).astype(dt)
    res = np.asarray(op.forward(x))
    assert res.dtype == np.float64
    np.testing.assert_array_equal(res, np.asarray(op.forward(x.astype(np.float64))))


@pytest.mark.parametrize("op", ALL)
def test_python_lists_and_scalars(op):
    x = [[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]]
    if op.domain == "prob":
        x = [[0.25, 0.25, 0.5], [0.0, 1.0, 0.0]]
    res = np.asarray(op.forward(x))
    assert res.dtype == np.float64
    ops.assert_close(res, op.reference(np.array(x)), exact_zeros=op.exact_zeros)


@pytest.mark.parametrize("op", ALL)
@pytest.mark.parametrize("bad", [
    pytest.param(np.array([[1 + 2j, 3.0]]), id="complex128"),
    pytest.param(np.array([[1 + 2j, 3.0]], dtype=np.complex64), id="complex64"),
    pytest.param(np.array([[1.0, 2.0]], dtype=object), id="object"),
    pytest.param(np.array([["a", "b"]]), id="str"),
    pytest.param(np.array([[1, 2]], dtype="datetime64[s]"), id="datetime"),
])
def test_unsupported_dtypes_raise_typeerror(op, bad):
    with pytest.raises(TypeError, match="dtype"):
        op.forward(bad)


@pytest.mark.parametrize("op", DIFF)
@pytest.mark.parametrize("ydt, vdt, rdt", [
    (np.float32, np.float32, np.float32),
    (np.float64, np.float32, np.float64),
    (np.float32, np.float64, np.float64),
    (np.float16, np.float16, np.float16),
    (np.float16, np.float32, np.float32),
])
def test_derivative_dtype_promotion(op, ydt, vdt, rdt, rng):
    x = _x(rng).astype(ydt)
    y = op.forward(x)
    g = rng.standard_normal(op.out_shape(x.shape)).astype(vdt)
    dx = rng.standard_normal(x.shape).astype(vdt)
    assert np.asarray(op.jvp(x, y, dx)).dtype == rdt
    # every derivative, the reductions' VJPs included, takes the wider dtype
    assert op.vjp(x, y, g).dtype == rdt


@pytest.mark.parametrize("name", ["softmax_jacobian", "log_softmax_jacobian"])
@pytest.mark.parametrize("dt", [np.float16, np.float32, np.float64])
def test_jacobian_dtype(name, dt, rng):
    y = cmf.softmax(_x(rng).astype(dt))
    if name.startswith("log"):
        y = cmf.log_softmax(_x(rng).astype(dt))
    J = getattr(cmf, name)(y)
    assert J.dtype == dt and J.shape == (4, 6, 6)


# --------------------------------------------------------------------------------------
# Errors name the parameter
# --------------------------------------------------------------------------------------

BAD_T = [0.0, -1.0, np.nan, np.inf, -np.inf]


def _calls(op, x, **kw):
    """Every public entry point of op, as zero-argument callables (forward, vjp, jvp,
    jacobian), with the keyword arguments kw."""
    y = op.forward(x)
    calls = {"forward": lambda: op.forward(x, -1, **kw)}
    if op.differentiable:
        g = np.ones(op.out_shape(x.shape))
        calls["vjp"] = lambda: op.vjp(x, y, g, -1, **kw)
        calls["jvp"] = lambda: op.jvp(x, y, np.ones_like(x), -1, **kw)
    if op.jacobian is not None and "out" not in kw:
        calls["jacobian"] = lambda: op.jacobian(y, -1, **kw)
    return calls


@pytest.mark.parametrize("op", TEMPERATURE)
@pytest.mark.parametrize("t", BAD_T, ids=[repr(t) for t in BAD_T])
def test_invalid_temperature(op, t, rng):
    x = _x(rng)
    for which, call in _calls(op, x, temperature=t).items():
        with pytest.raises(ValueError, match="temperature"):
            call()
    # an array with one bad entry
    tt = np.full(ops.ref.Slices(x.shape, -1).keep, 0.5)
    tt.flat[2] = t
    for which, call in _calls(op, x, temperature=tt).items():
        with pytest.raises(ValueError, match="temperature"):
            call()


@pytest.mark.parametrize("op", TEMPERATURE)
def test_temperature_bad_shape_and_type(op, rng):
    x = _x(rng)
    for which, call in _calls(op, x, temperature=np.ones(5)).items():
        with pytest.raises(ValueError, match="temperature"):
            call()
    for bad in (np.array([1 + 1j]), "1.0", np.array([None])):
        for which, call in _calls(op, x, temperature=bad).items():
            with pytest.raises(TypeError, match="temperature"):
                call()


@pytest.mark.parametrize("op", WHERE)
@pytest.mark.parametrize("bad", [np.int64, np.float64, np.uint8])
def test_where_must_be_boolean(op, bad, rng):
    x = _x(rng)
    for which, call in _calls(op, x, where=np.ones(x.shape, dtype=bad)).items():
        with pytest.raises(TypeError, match="where"):
            call()


@pytest.mark.parametrize("op", WHERE)
def test_where_bad_shape(op, rng):
    x = _x(rng)
    for which, call in _calls(op, x, where=np.ones((3, 6), dtype=bool)).items():
        with pytest.raises(ValueError, match="where"):
            call()


@pytest.mark.parametrize("op", WHERE)
def test_where_broadcasts(op, rng):
    x = _x(rng)
    w = np.array([True, False, True, True, False, True])
    got = np.asarray(op.forward(x, -1, where=w))
    ops.assert_close(got, op.reference(x, -1, where=np.broadcast_to(w, x.shape)),
                     exact_zeros=op.exact_zeros)


@pytest.mark.parametrize("op", ops.params(lambda op: op.kind != ops.ELEMENTWISE))
def test_axis_errors(op, rng):
    x = _x(rng, op=op)
    with pytest.raises(AxisError):
        op.forward(x, 2)
    with pytest.raises(AxisError):
        op.forward(x, -3)
    with pytest.raises(TypeError, match="axis"):
        op.forward(x, 1.0)
    if op.multi_axis:
        with pytest.raises(ValueError, match="axis"):
            op.forward(x, (0, 0))
        with pytest.raises(ValueError, match="axis"):
            op.forward(x, (1, -1))
    else:
        with pytest.raises(TypeError, match="axis"):
            op.forward(x, (0, 1))
        with pytest.raises(TypeError, match="axis"):
            op.forward(x, None)


@pytest.mark.parametrize("op", DIFF)
def test_cotangent_shape_errors(op, rng):
    x = _x(rng)
    y = op.forward(x)
    bad = np.ones((5, 6))
    with pytest.raises(ValueError, match="dx"):
        op.jvp(x, y, bad)
    if op.kind != ops.REDUCTION:
        with pytest.raises(ValueError, match=f"^{op.cotangent} "):
            op.vjp(x, y, bad)
    else:
        with pytest.raises(ValueError, match="g"):
            op.vjp(x, y, np.ones(5))
        with pytest.raises(ValueError):
            op.vjp(x, np.ones(5), np.ones(4))           # the value per slice


def test_logsumexp_b_errors(rng):
    x = _x(rng)
    with pytest.raises(ValueError, match="b"):
        cmf.logsumexp(x, b=np.ones(5))
    with pytest.raises(TypeError, match="b"):
        cmf.logsumexp(x, b=np.ones(6, dtype=complex))
    lse = cmf.logsumexp(x)
    with pytest.raises(ValueError, match="b"):
        cmf.logsumexp_vjp(x, lse, np.ones(4), b=np.ones(5))


@pytest.mark.parametrize("op", ALL)
def test_out_errors(op, rng):
    x = _x(rng, op=op)
    shape = op.out_shape(x.shape)
    with pytest.raises(ValueError, match="out"):
        op.forward(x, out=np.empty((2, 2)))
    with pytest.raises(TypeError, match="out"):
        op.forward(x, out=np.empty(shape, dtype=np.float32))
    with pytest.raises(TypeError, match="out"):
        op.forward(x, out=np.empty(shape, dtype=np.int64))
    with pytest.raises(TypeError, match="out"):
        op.forward(x, out=np.empty(shape).tolist())
    ro = np.empty(shape)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        op.forward(x, out=ro)


# --------------------------------------------------------------------------------------
# Nothing is written to out unless the whole call succeeds
# --------------------------------------------------------------------------------------

def _failing_calls(op, x, rng, out_fwd, out_vjp, out_jvp):
    """(label, expected exception, callable) for calls that must fail before writing."""
    y = op.forward(x)
    # (co)tangents of x's dtype: each call below has exactly one thing wrong with it
    g = rng.standard_normal(op.out_shape(x.shape)).astype(x.dtype)
    dx = rng.standard_normal(x.shape).astype(x.dtype)
    cases = []

    def add(label, exc, **kw):
        cases.append((f"forward/{label}", exc, lambda: op.forward(x, **kw, out=out_fwd)))
        if op.differentiable:
            cases.append((f"vjp/{label}", exc, lambda: op.vjp(x, y, g, **kw, out=out_vjp)))
            cases.append((f"jvp/{label}", exc, lambda: op.jvp(x, y, dx, **kw, out=out_jvp)))

    if op.has_temperature:
        add("temperature=0", ValueError, temperature=0.0)
        add("temperature=nan", ValueError, temperature=np.nan)
        add("temperature[last]=-1", ValueError,
            temperature=np.r_[np.ones(x.shape[0] - 1), -1.0][:, None])
        add("temperature shape", ValueError, temperature=np.ones((7, 1)))
    if op.has_where:
        add("where dtype", TypeError, where=np.ones(x.shape, dtype=np.int8))
        add("where shape", ValueError, where=np.ones((x.shape[0] + 1, x.shape[1]), dtype=bool))
    if op.has_axis:
        add("axis", AxisError, axis=3)
    cases.append(("forward/complex x", TypeError, lambda: op.forward(x.astype(complex), out=out_fwd)))
    if op.differentiable:
        bad = np.ones((x.shape[0] + 1,) + x.shape[1:])
        cases.append(("jvp/dx shape", ValueError, lambda: op.jvp(x, y, bad, out=out_jvp)))
        cases.append(("vjp/g shape", ValueError, lambda: op.vjp(x, y, bad, out=out_vjp)))
    return cases


@pytest.mark.parametrize("op", ALL)
def test_out_untouched_on_failure(op, dtype, rng):
    x = _x(rng, (5, 8), dtype, op=op)
    red = op.out_shape(x.shape)

    def garbage(shape):
        # random bytes (NaN payloads, infs, denormals included)
        return rng.integers(0, 256, size=int(np.prod(shape)) * dtype.itemsize,
                            dtype=np.uint8).view(dtype).reshape(shape)

    out_fwd, out_vjp, out_jvp = garbage(red), garbage(x.shape), garbage(red)
    snap = [o.tobytes() for o in (out_fwd, out_vjp, out_jvp)]
    for label, exc, call in _failing_calls(op, x, rng, out_fwd, out_vjp, out_jvp):
        with pytest.raises(exc):
            call()
        assert [o.tobytes() for o in (out_fwd, out_vjp, out_jvp)] == snap, label


def test_out_untouched_argmax_indices(rng):
    x = _x(rng)
    out = rng.integers(-100, 100, size=4)
    snap = out.tobytes()
    for kw in (dict(temperature=-1.0), dict(where=np.ones(3, dtype=bool)), dict(axis=5)):
        with pytest.raises((ValueError, AxisError)):
            cmf.argmax(x, return_indices=True, out=out, **kw)
        assert out.tobytes() == snap


def test_out_untouched_logsumexp_b(rng):
    x = _x(rng)
    out = rng.standard_normal(4)
    snap = out.tobytes()
    with pytest.raises(ValueError):
        cmf.logsumexp(x, b=np.ones(5), out=out)
    with pytest.raises(ValueError):
        cmf.logsumexp_vjp(x, cmf.logsumexp(x), np.ones(4), b=np.ones(5), out=np.empty_like(x))
    assert out.tobytes() == snap


# --------------------------------------------------------------------------------------
# out: identity, values, in place
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ALL)
def test_out_identity_and_values(op, dtype, rng):
    x = _x(rng, (5, 7), dtype, op=op)
    t = rng.uniform(0.5, 2.0, size=(5, 1))
    kw = dict(temperature=t) if op.has_temperature else {}
    out = np.full(op.out_shape(x.shape), np.nan, dtype=dtype)
    res = op.forward(x, -1, **kw, out=out)
    assert res is out
    np.testing.assert_array_equal(out, op.forward(x, -1, **kw))
    if op.differentiable:
        y = op.forward(x)
        g = rng.standard_normal(op.out_shape(x.shape)).astype(dtype)
        dx = rng.standard_normal(x.shape).astype(dtype)
        o1, o2 = np.empty(x.shape, dtype), np.empty(op.out_shape(x.shape), dtype)
        assert op.vjp(x, y, g, out=o1) is o1
        assert op.jvp(x, y, dx, out=o2) is o2
        np.testing.assert_array_equal(o1, op.vjp(x, y, g))
        np.testing.assert_array_equal(o2, op.jvp(x, y, dx))


@pytest.mark.parametrize("op", ALL)
def test_out_noncontiguous(op, dtype, rng):
    x = _x(rng, (5, 7), dtype, op=op)
    big = np.zeros(tuple(2 * s for s in op.out_shape(x.shape)), dtype=dtype)
    out = big[(slice(None, None, -2),) * big.ndim]
    res = op.forward(x, out=out)
    assert res is out and np.shares_memory(res, big)
    np.testing.assert_array_equal(out, op.forward(x))
    # the other half of the buffer was not written
    np.testing.assert_array_equal(big[(slice(0, None, 2),) * big.ndim], 0)


@pytest.mark.parametrize("op", ALL)
def test_out_float16(op, rng):
    x = _x(rng, op=op).astype(np.float16)
    out = np.empty(op.out_shape(x.shape), dtype=np.float16)
    assert op.forward(x, out=out) is out
    np.testing.assert_array_equal(out, op.forward(x))
    with pytest.raises(TypeError, match="out"):
        op.forward(x, out=np.empty(op.out_shape(x.shape), dtype=np.float32))
    if op.differentiable:
        y = op.forward(x)
        g = np.ones(op.out_shape(x.shape), np.float16)
        o = np.empty(x.shape, np.float16)
        assert op.vjp(x, y, g, out=o) is o
        np.testing.assert_array_equal(o, op.vjp(x, y, g))


@pytest.mark.parametrize("op", INPLACE)
@pytest.mark.parametrize("view", [
    pytest.param(lambda a: a, id="c"),
    pytest.param(lambda a: a[:, ::2], id="strided"),
    pytest.param(lambda a: a[::-1].T, id="reversed_transposed"),
    pytest.param(np.asfortranarray, id="fortran"),
])
@pytest.mark.parametrize("axis", [-1, 0])
def test_out_is_x_in_place(op, view, axis, dtype, rng):
    x = view(_x(rng, (6, 10), dtype))
    kw = {} if op.kind == ops.ELEMENTWISE else {"axis": axis}
    expected = op.forward(x.copy(), **kw)
    res = op.forward(x, **kw, out=x)
    assert res is x
    np.testing.assert_array_equal(x, expected)


@pytest.mark.parametrize("op", ALL)
def test_out_overlapping_input(op, rng):
    """out overlapping the input in another layout: the result is still the function of
    the original input."""
    if op.kind == ops.REDUCTION:
        x = _x(rng, (6, 6), op=op)
        expected = op.forward(x.copy())
        res = op.forward(x, out=x[:, 0])            # the first column receives the result
        np.testing.assert_array_equal(res, expected)
        return
    x = _x(rng, (6, 6))
    expected = op.forward(x.copy())
    out = x[::-1]
    op.forward(x, out=out)
    np.testing.assert_array_equal(out, expected)
    x = _x(rng, (6, 6))
    expected = op.forward(x.copy())
    out = x.T
    op.forward(x, out=out)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("op", DIFF)
def test_derivative_out_is_cotangent_in_place(op, rng):
    x = _x(rng)
    y = op.forward(x)
    g = rng.standard_normal(op.out_shape(x.shape))
    dx = rng.standard_normal(x.shape)
    want_j = op.jvp(x, y, dx)
    if op.kind != ops.REDUCTION:
        want_v = op.vjp(x, y, g)
        assert op.vjp(x, y, g, out=g) is g
        np.testing.assert_array_equal(g, want_v)
        y2 = np.array(y)
        assert op.jvp(x, y2, dx, out=y2) is y2       # the forward output overwritten
        np.testing.assert_array_equal(y2, want_j)
    else:
        out = np.array(dx)
        want_v = op.vjp(x, y, g)
        assert op.vjp(x, y, g, out=out) is out
        np.testing.assert_array_equal(out, want_v)


# --------------------------------------------------------------------------------------
# Read-only inputs
# --------------------------------------------------------------------------------------

def _ro(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("op", ALL)
def test_read_only_inputs(op, dtype, rng):
    x = _ro(_x(rng, (4, 6), dtype, op=op))
    t = _ro(rng.uniform(0.5, 2.0, size=(4, 1)))
    kw = dict(temperature=t) if op.has_temperature else {}
    if op.has_where:
        kw["where"] = _ro(rng.random((4, 6)) < 0.8)
    res = np.asarray(op.forward(x, -1, **kw))
    ops.assert_close(res, op.reference(x, -1, **kw), dtype, exact_zeros=op.exact_zeros)
    if op.differentiable:
        y = _ro(op.forward(x, -1, **kw))
        g = _ro(rng.standard_normal(op.out_shape(x.shape)).astype(dtype))
        dx = _ro(rng.standard_normal(x.shape).astype(dtype))
        ops.assert_close(op.vjp(x, y, g, -1, **kw), op.ref_vjp(x, g, -1, **kw), dtype, scale=10)
        ops.assert_close(np.asarray(op.jvp(x, y, dx, -1, **kw)), op.ref_jvp(x, dx, -1, **kw),
                         dtype, scale=10)
        if op.jacobian is not None:
            ops.assert_close(op.jacobian(y, -1, **kw), op.ref_jacobian(x, -1, **kw), dtype, scale=10)


# --------------------------------------------------------------------------------------
# Per-slice parameters
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ops.params(lambda op: op.kind != ops.ELEMENTWISE
                                          and op.has_temperature))
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_temperature_reduced_and_keepdims_shapes_agree(op, axis, rng):
    x = _x(rng, (3, 4, 5))
    S = ref.Slices(x.shape, axis)
    t = rng.uniform(0.3, 3.0, size=S.red)
    a = np.asarray(op.forward(x, axis, temperature=t))
    b = np.asarray(op.forward(x, axis, temperature=np.expand_dims(t, axis)))
    np.testing.assert_array_equal(a, b)
    if not op.slice_local:
        return
    # and it is the same as a loop of scalar temperatures
    for idx in np.ndindex(S.red):
        sl = list(idx)
        sl.insert(axis, slice(None))
        xs = x[tuple(sl)]
        got = a[idx] if op.kind == ops.REDUCTION else a[tuple(sl)]
        np.testing.assert_allclose(got, op.forward(xs, -1, temperature=float(t[idx])),
                                   rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("op", ops.params(lambda op: op.kind == ops.ELEMENTWISE))
def test_elementwise_temperature_broadcasts(op, rng):
    x = _x(rng, (3, 4))
    t = rng.uniform(0.3, 3.0, size=4)
    got = op.forward(x, temperature=t)
    ops.assert_close(got, op.reference(x, temperature=t))
    with pytest.raises(ValueError, match="temperature"):
        op.forward(x, temperature=np.ones(3))


# --------------------------------------------------------------------------------------
# Shapes of the reductions' results
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["logsumexp", "softmax_mean"])
def test_reduction_result_shapes(name, rng):
    f = getattr(cmf, name)
    x = _x(rng, (3, 4, 5))
    assert f(x).shape == (3, 4)
    assert f(x, axis=1, keepdims=True).shape == (3, 1, 5)
    assert f(x, axis=(0, 2)).shape == (4,)
    r = f(x, axis=None)
    assert np.ndim(r) == 0 and np.asarray(r).dtype == np.float64
    r = f(x.astype(np.float32)[0, 0])
    assert np.ndim(r) == 0 and np.asarray(r).dtype == np.float32
    assert f(x, axis=None, keepdims=True).shape == (1, 1, 1)


def test_logsumexp_return_sign_shapes(rng):
    x = _x(rng, (3, 4))
    v, s = cmf.logsumexp(x, axis=0, return_sign=True, keepdims=True)
    assert v.shape == s.shape == (1, 4)
    np.testing.assert_array_equal(s, 1.0)
    v, s = cmf.logsumexp(x[0], return_sign=True)
    assert np.ndim(v) == np.ndim(s) == 0


# --------------------------------------------------------------------------------------
# argmax
# --------------------------------------------------------------------------------------

def test_argmax_first_maximum(rng):
    x = np.array([[1.0, 3.0, 3.0, 2.0], [np.inf, 0.0, np.inf, 1.0], [5.0, 5.0, 5.0, 5.0]])
    expected = np.zeros_like(x)
    expected[[0, 1, 2], [1, 0, 0]] = 1.0
    np.testing.assert_array_equal(cmf.argmax(x), expected)
    np.testing.assert_array_equal(cmf.argmax(x, return_indices=True), [1, 0, 0])


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_indices_follow_numpy(axis, keepdims, dtype, rng):
    x = rng.integers(-3, 3, size=(4, 5, 6)).astype(dtype)     # many ties
    x[0, 0, 0] = np.nan
    x[1, 1, :] = -np.inf
    x[2, :, 1] = np.inf
    got = cmf.argmax(x, axis, return_indices=True, keepdims=keepdims)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.argmax(x, axis=axis, keepdims=keepdims))
    onehot = cmf.argmax(x, axis)
    assert onehot.dtype == dtype
    ops.assert_close(onehot, ref.argmax(x, axis), dtype, exact_zeros=True)


def test_argmax_indices_where(rng):
    x = ops.random_x(rng, (6, 5))
    w = rng.random((6, 5)) < 0.5
    w[2] = False
    got = cmf.argmax(x, where=w, return_indices=True)
    np.testing.assert_array_equal(got, ref.argmax_indices(x, where=w))
    assert got[2] == -1
    out = np.empty((6, 1), dtype=np.int64)
    assert cmf.argmax(x, where=w, return_indices=True, keepdims=True, out=out) is out
    np.testing.assert_array_equal(out[:, 0], got)
    with pytest.raises(TypeError, match="out"):
        cmf.argmax(x, return_indices=True, out=np.empty(6))


def test_argmax_temperature_is_validated_and_ignored(rng):
    x = ops.random_x(rng, (4, 5))
    np.testing.assert_array_equal(cmf.argmax(x, temperature=1e-3), cmf.argmax(x))
    np.testing.assert_array_equal(cmf.argmax(x, temperature=np.full(4, 7.0)), cmf.argmax(x))


def test_argmax_is_the_limit_of_softmax(rng):
    x = ops.random_x(rng, (20, 8))
    np.testing.assert_array_equal(cmf.softmax(x, temperature=1e-30), cmf.argmax(x))


# --------------------------------------------------------------------------------------
# Byte order
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ALL)
@pytest.mark.parametrize("dt", [np.float32, np.float64], ids=["f32", "f64"])
def test_non_native_byte_order(op, dt, rng):
    """A byte-swapped float64 (or float32) array is a float64 (float32) array."""
    x = _x(rng, dtype=dt, op=op)
    swapped = x.astype(x.dtype.newbyteorder())
    res = np.asarray(op.forward(swapped))
    assert res.dtype == dt and res.dtype.isnative
    np.testing.assert_array_equal(res, op.forward(x))
    if op.differentiable:
        y = op.forward(x)
        g = rng.standard_normal(op.out_shape(x.shape)).astype(dt)
        sw = lambda a: np.asarray(a).astype(np.asarray(a).dtype.newbyteorder())
        np.testing.assert_array_equal(op.vjp(swapped, sw(y), sw(g)), op.vjp(x, y, g))
