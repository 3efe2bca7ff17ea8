"""Derivatives: every VJP and JVP of the registry against 4th-order central finite
differences of the forward (float64), against the explicit Jacobian (rows and columns)
and against the textbook formulas of ``reference.py``, with temperatures != 1 (scalar,
per-slice arrays of the reduced and of the keepdims shape) and with ``where``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import cmaxfam as cmf
import ops
import reference as ref

# rtol / atol for comparisons with finite differences (error O(h^4) ~ 1e-11 here)
FD_TOL = dict(rtol=1e-7, atol=1e-8)
# float64 derivatives against the float64 reference formulas
REF_SCALE = 10.0


@dataclass(frozen=True)
class Config:
    name: str
    shape: tuple
    axis: object = -1
    t: str = "one"              # one | scalar | reduced | keep
    where: str = "none"         # none | partial | full_slice
    single_axis: bool = True

    def __repr__(self):
        return self.name


CONFIGS = [
    Config("plain", (4, 7)),
    Config("scalar_t", (4, 7), t="scalar"),
    Config("reduced_t", (4, 7), t="reduced"),
    Config("keep_t", (4, 7), t="keep"),
    Config("axis0_3d_keep_t", (5, 3, 4), axis=0, t="keep"),
    Config("axis1_3d_reduced_t", (3, 6, 4), axis=1, t="reduced"),
    Config("n1", (3, 1), t="scalar"),
    Config("n2_axis0", (2, 5), axis=0, t="scalar"),
    Config("long_rows", (2, 70), t="scalar"),
    Config("where", (4, 7), where="partial"),
    Config("where_scalar_t", (5, 6), t="scalar", where="partial"),
    Config("where_axis1_reduced_t", (3, 6, 4), axis=1, t="reduced", where="partial"),
    Config("where_axis0_keep_t", (6, 5), axis=0, t="keep", where="partial"),
    Config("tuple_axes", (3, 4, 5), axis=(0, 2), t="reduced", single_axis=False),
    Config("tuple_axes_where", (3, 4, 5), axis=(2, 1), t="keep", where="partial", single_axis=False),
    Config("axis_none", (3, 4), axis=None, t="scalar", single_axis=False),
]


def _applicable(op, cfg, need_jacobian=False):
    if not op.differentiable:
        return False
    if cfg.where != "none" and not op.has_where:
        return False
    if not cfg.single_axis and not op.multi_axis_d:
        return False
    if need_jacobian and (op.jacobian is None or not cfg.single_axis):
        return False
    return True


def _grid(need_jacobian=False):
    return [pytest.param(op, cfg, id=f"{op.name}-{cfg.name}")
            for op in ops.OPS for cfg in CONFIGS if _applicable(op, cfg, need_jacobian)]


def _temperature(rng, op, cfg):
    S = ref.Slices(cfg.shape, cfg.axis)
    if cfg.t == "one":
        return 1.0
    if cfg.t == "scalar":
        return 0.37
    if cfg.t == "reduced" and op.kind != ops.ELEMENTWISE:
        return rng.uniform(0.3, 2.5, size=S.red)
    # keepdims-shaped (broadcasts to the input for the elementwise operators too)
    return rng.uniform(0.3, 2.5, size=S.keep)


def _where(rng, cfg):
    if cfg.where == "none":
        return None
    S = ref.Slices(cfg.shape, cfg.axis)
    rows = rng.random(S.red + (S.n,)) < 0.6
    rows[..., int(rng.integers(S.n))] = True          # every slice keeps an entry
    return S.unrows(rows).copy()


def _setup(op, cfg, rng):
    x = ops.random_x(rng, cfg.shape, np.float64, scale=2.0)
    t = _temperature(rng, op, cfg)
    w = _where(rng, cfg)
    kw = dict(temperature=t, where=w)
    # piecewise smooth operators (sparsemax, entmax): keep x away from changes of support
    x = ops.away_from_kinks(op, x, lambda: ops.random_x(rng, cfg.shape, np.float64, scale=2.0),
                            cfg.axis, **kw)
    y = op.forward(x, cfg.axis, **kw)
    return x, y, kw


def _slice_sum(op, a, axis):
    """Sum over each slice of an input-shaped array (elementwise: nothing to sum)."""
    return a if op.kind == ops.ELEMENTWISE else np.sum(a, axis=axis)


def _slice_sum_out(op, a, axis):
    """Sum over each slice of an output-shaped array."""
    return np.sum(a, axis=axis) if op.kind == ops.NORMALIZER else a


def _finite(a):
    return np.where(np.isfinite(a), a, 0.0)


@pytest.mark.parametrize("op, cfg", _grid())
def test_vjp_against_reference(op, cfg, rng):
    x, y, kw = _setup(op, cfg, rng)
    g = rng.standard_normal(op.out_shape(x.shape, cfg.axis))
    got = op.vjp(x, y, g, cfg.axis, **kw)
    assert got.shape == x.shape and got.dtype == np.float64
    ops.assert_close(got, op.ref_vjp(x, g, cfg.axis, **kw), scale=REF_SCALE)
    if kw["where"] is not None:
        assert np.all(got[~kw["where"]] == 0), "excluded entries must get exactly 0"


@pytest.mark.parametrize("op, cfg", _grid())
def test_jvp_against_reference(op, cfg, rng):
    x, y, kw = _setup(op, cfg, rng)
    dx = rng.standard_normal(x.shape)
    got = np.asarray(op.jvp(x, y, dx, cfg.axis, **kw))
    assert got.shape == op.out_shape(x.shape, cfg.axis) and got.dtype == np.float64
    ops.assert_close(got, op.ref_jvp(x, dx, cfg.axis, **kw), scale=REF_SCALE)
    if kw["where"] is not None and op.kind == ops.NORMALIZER:
        assert np.all(got[~kw["where"]] == 0), "excluded entries must get exactly 0"


@pytest.mark.parametrize("op, cfg", _grid())
def test_vjp_against_finite_differences(op, cfg, rng):
    """Per slice: <vjp(g), v> = d/ds <g, f(x + s v)> (4th-order central differences)."""
    x, y, kw = _setup(op, cfg, rng)
    g = rng.standard_normal(op.out_shape(x.shape, cfg.axis))
    v = rng.standard_normal(x.shape)
    live = np.isfinite(y)                      # log_softmax: -inf at excluded entries

    def phi(xp):
        f = op.forward(xp, cfg.axis, **kw)
        return _slice_sum_out(op, np.where(live, g * _finite(f), 0.0), cfg.axis)

    want = ref.fd_directional(phi, x, v, h=op.fd_h)
    got = _slice_sum(op, op.vjp(x, y, g, cfg.axis, **kw) * v, cfg.axis)
    np.testing.assert_allclose(got, want, **FD_TOL)


@pytest.mark.parametrize("op, cfg", _grid())
def test_jvp_against_finite_differences(op, cfg, rng):
    x, y, kw = _setup(op, cfg, rng)
    dx = rng.standard_normal(x.shape)
    fd = ref.fd_directional(lambda xp: op.forward(xp, cfg.axis, **kw), x, dx, h=op.fd_h)
    want = np.where(np.isfinite(y), fd, 0.0)   # constant -inf outputs have derivative 0
    got = op.jvp(x, y, dx, cfg.axis, **kw)
    np.testing.assert_allclose(got, want, **FD_TOL)


@pytest.mark.parametrize("op, cfg", _grid())
def test_vjp_jvp_adjoint(op, cfg, rng):
    """The dot-product test: <g, J v> = <J^T g, v> on every slice."""
    x, y, kw = _setup(op, cfg, rng)
    g = rng.standard_normal(op.out_shape(x.shape, cfg.axis))
    v = rng.standard_normal(x.shape)
    lhs = _slice_sum_out(op, g * op.jvp(x, y, v, cfg.axis, **kw), cfg.axis)
    rhs = _slice_sum(op, op.vjp(x, y, g, cfg.axis, **kw) * v, cfg.axis)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op, cfg", _grid(need_jacobian=True))
def test_jacobian(op, cfg, rng):
    """J[..., i, j] = dy_i/dx_j: against the reference, finite differences, its columns
    against the JVP of basis vectors and its rows against the VJP."""
    x, y, kw = _setup(op, cfg, rng)
    ax = cfg.axis
    J = op.jacobian(y, ax, **kw)
    n = x.shape[ax]
    lead = np.moveaxis(x, ax, -1).shape[:-1]
    assert J.shape == lead + (n, n) and J.dtype == np.float64
    ops.assert_close(J, op.ref_jacobian(x, ax, **kw), scale=REF_SCALE)
    Jfd = ref.fd_jacobian(lambda xp: _finite(op.forward(xp, ax, **kw)), x, ax, h=op.fd_h)
    live = np.moveaxis(np.isfinite(y), ax, -1)[..., :, None]
    np.testing.assert_allclose(J, np.where(live, Jfd, 0.0), **FD_TOL)
    for k in range(n):
        e = np.zeros_like(x)
        idx = [slice(None)] * x.ndim
        idx[ax] = k
        e[tuple(idx)] = 1.0
        col = np.moveaxis(op.jvp(x, y, e, ax, **kw), ax, -1)
        row = np.moveaxis(op.vjp(x, y, e, ax, **kw), ax, -1)
        np.testing.assert_allclose(J[..., :, k], col, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(J[..., k, :], row, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ops.params(lambda op: op.differentiable and op.has_where))
def test_fully_masked_slice_has_zero_derivative(op, rng):
    """A fully excluded slice is a constant (zeros / -inf): its derivatives are 0."""
    x = ops.random_x(rng, (3, 5))
    w = rng.random((3, 5)) < 0.5
    w[0] = True
    w[1] = False
    y = op.forward(x, -1, temperature=0.7, where=w)
    g = rng.standard_normal(op.out_shape(x.shape, -1))
    dx = rng.standard_normal(x.shape)
    vj = op.vjp(x, y, g, -1, temperature=0.7, where=w)
    jv = op.jvp(x, y, dx, -1, temperature=0.7, where=w)
    assert np.all(vj[1] == 0)
    assert np.all(jv[1] == 0)
    assert np.all(np.isfinite(vj)) and np.all(np.isfinite(jv))
    ops.assert_close(vj, op.ref_vjp(x, g, -1, temperature=0.7, where=w), scale=REF_SCALE)
    ops.assert_close(jv, op.ref_jvp(x, dx, -1, temperature=0.7, where=w), scale=REF_SCALE)


@pytest.mark.parametrize("op", ops.params(ops.differentiable))
@pytest.mark.parametrize("dt", [np.float32, np.float16], ids=["f32", "f16"])
def test_derivatives_low_precision(op, dt, rng):
    """float32 derivatives from a float32 forward are within float32 tolerance of the
    float64 formulas (float16: computed in float32, returned as float16)."""
    x = ops.random_x(rng, (6, 9), dt, scale=2.0)
    t = 0.8
    # entmax with alpha > 2: s = y^(2 - alpha) is ill-conditioned at small y
    x = ops.away_from_kinks(op, x, lambda: ops.random_x(rng, (6, 9), dt, scale=2.0),
                            temperature=t)
    y = op.forward(x, -1, temperature=t)
    g = rng.standard_normal(op.out_shape(x.shape)).astype(dt)
    dx = rng.standard_normal(x.shape).astype(dt)
    vj = op.vjp(x, y, g, -1, temperature=t)
    jv = np.asarray(op.jvp(x, y, dx, -1, temperature=t))
    assert vj.dtype == dt and jv.dtype == dt
    scale = 10.0 if dt == np.float32 else 1.0
    ops.assert_close(vj, op.ref_vjp(x, g, -1, temperature=t), scale=scale)
    ops.assert_close(jv, op.ref_jvp(x, dx, -1, temperature=t), scale=scale)


# --------------------------------------------------------------------------------------
# logsumexp with weights (b, sign) and keepdims
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("axis", [-1, 0, (0, 1)])
@pytest.mark.parametrize("t", [1.0, 0.6])
def test_logsumexp_weighted_derivatives(axis, t, rng):
    x = ops.random_x(rng, (4, 6), scale=1.5)
    b = rng.uniform(-1.0, 1.0, size=(4, 6))
    b[..., 0] = 2.0                               # keep the sums away from 0
    lse, sign = cmf.logsumexp(x, axis, b=b, return_sign=True, temperature=t)
    g = rng.standard_normal(np.shape(lse))
    v = rng.standard_normal(x.shape)
    vj = cmf.logsumexp_vjp(x, lse, g, axis, b=b, sign=sign, temperature=t)
    jv = cmf.logsumexp_jvp(x, lse, v, axis, b=b, sign=sign, temperature=t)
    ops.assert_close(vj, ref.logsumexp_vjp(x, g, axis, b=b, temperature=t), scale=REF_SCALE)
    ops.assert_close(jv, ref.logsumexp_jvp(x, v, axis, b=b, temperature=t), scale=REF_SCALE)
    fd = ref.fd_directional(lambda xp: cmf.logsumexp(xp, axis, b=b, return_sign=True,
                                                     temperature=t)[0], x, v)
    np.testing.assert_allclose(jv, fd, **FD_TOL)
    np.testing.assert_allclose(np.sum(vj * v, axis=axis), g * fd, **FD_TOL)


@pytest.mark.parametrize("name", ["logsumexp", "softmax_mean"])
def test_reduction_derivatives_keepdims(name, rng):
    """The JVP can keep the reduced axis; the VJP accepts a keepdims-shaped value and
    cotangent."""
    fwd, vjp, jvp = (getattr(cmf, name + s) for s in ("", "_vjp", "_jvp"))
    refv, refj = getattr(ref, name + "_vjp"), getattr(ref, name + "_jvp")
    x = ops.random_x(rng, (3, 5, 4))
    for axis in (0, 1, -1):
        val_k = fwd(x, axis, keepdims=True, temperature=0.9)
        val = fwd(x, axis, temperature=0.9)
        g_k = rng.standard_normal(val_k.shape)
        dx = rng.standard_normal(x.shape)
        got = vjp(x, val_k, g_k, axis, temperature=0.9)
        ops.assert_close(got, refv(x, g_k, axis, temperature=0.9), scale=REF_SCALE)
        np.testing.assert_array_equal(got, vjp(x, val, g_k.reshape(val.shape), axis,
                                               temperature=0.9))
        jk = jvp(x, val, dx, axis, temperature=0.9, keepdims=True)
        assert jk.shape == val_k.shape
        ops.assert_close(jk, refj(x, dx, axis, temperature=0.9, keepdims=True), scale=REF_SCALE)


# --------------------------------------------------------------------------------------
# NaN slices: the derivative of a NaN slice is NaN, the other slices are unaffected
# --------------------------------------------------------------------------------------

def _nan_params():
    return ops.params(ops.differentiable)


@pytest.mark.parametrize("op", _nan_params())
def test_nan_slice_derivatives(op, rng):
    x = ops.random_x(rng, (4, 6))
    x[1, 2] = np.nan
    y = op.forward(x, -1, temperature=0.8)
    g = rng.standard_normal(op.out_shape(x.shape))
    dx = rng.standard_normal(x.shape)
    vj = op.vjp(x, y, g, -1, temperature=0.8)
    jv = np.asarray(op.jvp(x, y, dx, -1, temperature=0.8))
    ok = np.ones(4, dtype=bool)
    ok[1] = False
    if op.kind == ops.ELEMENTWISE:
        assert np.isnan(vj[1, 2]) and np.isnan(jv[1, 2])
        assert np.isfinite(np.delete(vj.ravel(), 8)).all()
    else:
        assert np.isnan(vj[1]).all() and np.isnan(jv[1]).all()
        if op.slice_local:
            ops.assert_close(vj[ok], op.ref_vjp(x[ok], g[ok], -1, temperature=0.8), scale=REF_SCALE)
            ops.assert_close(jv[ok], op.ref_jvp(x[ok], dx[ok], -1, temperature=0.8), scale=REF_SCALE)
        else:   # the references on the whole x (the noise depends on the rows' places)
            ops.assert_close(vj[ok], op.ref_vjp(x, g, -1, temperature=0.8)[ok], scale=REF_SCALE)
            ops.assert_close(jv[ok], op.ref_jvp(x, dx, -1, temperature=0.8)[ok], scale=REF_SCALE)


@pytest.mark.parametrize("op", _nan_params())
def test_nan_cotangent(op, rng):
    x = ops.random_x(rng, (4, 6))
    y = op.forward(x)
    g = rng.standard_normal(op.out_shape(x.shape))
    g[1] = np.nan                       # a NaN cotangent in slice 1 (row 1 elementwise)
    vj = op.vjp(x, y, g)
    if op.kinks is None:
        assert np.isnan(vj[1]).all()
    else:
        # sparse outputs: NaN on the support; outside it the Jacobian is structurally 0,
        # so 0 (or NaN) is acceptable there
        support = ref.entmax(x[1], op.alpha) > 0
        assert np.isnan(vj[1][support]).all()
        assert np.all(np.isnan(vj[1][~support]) | (vj[1][~support] == 0))
    ok = np.ones(4, dtype=bool)
    ok[1] = False
    if op.slice_local:
        ops.assert_close(vj[ok], op.ref_vjp(x[ok], g[ok]), scale=REF_SCALE)
    else:       # the reference on the whole x (the noise depends on the rows' places)
        ops.assert_close(vj[ok], op.ref_vjp(x, g)[ok], scale=REF_SCALE)
