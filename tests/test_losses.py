"""The Fenchel-Young losses (issue 5): ``softmax_cross_entropy``, ``sparsemax_loss``,
``entmax_loss``, ``distillation_loss`` and ``softmax_layer_grad``.

Every value and gradient is checked against the float64 oracles of ``reference.py``
(the "Losses" section: ``fy_loss``, ``distillation_loss``, ``softmax_layer_grad``) and
against maths that does not go through any oracle:

1. the oracles, for every option (reductions, sample weights, ignore_index, label
   smoothing, scalar and per-slice temperatures, ``where``), float32 and float64, the class
   axis 0 / 1 / -1 of random 3-D shapes, labels and (sparse) Dirichlet targets;
2. 4th-order central finite differences of the returned value (float64), and the
   gradient as ``(prediction - target) / t * scale`` from the public normalisers;
3. identities: alpha = 1 / 2 are the softmax / sparsemax losses (bitwise), the loss is
   >= 0 (hypothesis), 0 at the optimum (also with smoothing), the closed form of the
   two-class sparsemax loss;
4. PyTorch's ``cross_entropy`` / ``kl_div`` and the ``entmax`` package's losses
   (skipped without them), forward and backward;
5. special values; 6. argument validation; 7. memory layouts; 8. threads;
9. ``softmax_layer_grad``.

No expected number is taken from the code under test.  A few tests compare two entry
points of the library with each other (bitwise, where the documentation promises the same
kernel: alpha = 1 / 2, grad_out against return_grad, threads against a serial run,
layouts against a C-contiguous copy) or use its public normalisers for p in
(p - q) / t; everything else is an oracle, maths, or another package.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

import cmaxfam as cmf
import reference as ref

inf, nan = np.inf, np.nan
F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
REDUCTIONS = ("none", "sum", "mean")

try:                                    # optional: agreement with PyTorch / entmax
    import torch
except ImportError:                     # pragma: no cover
    torch = None
try:
    import entmax as entmax_pkg
except ImportError:                     # pragma: no cover
    entmax_pkg = None
need_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
need_entmax = pytest.mark.skipif(torch is None or entmax_pkg is None,
                                 reason="torch / entmax are not installed")


# --------------------------------------------------------------------------------------
# The losses under test
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Loss:
    name: str
    alpha: float

    def __repr__(self):
        return self.name

    def __call__(self, x, target, axis=-1, **kw):
        if self.name == "softmax_ce":
            return cmf.softmax_cross_entropy(x, target, axis, **kw)
        if self.name == "sparsemax":
            return cmf.sparsemax_loss(x, target, axis, **kw)
        return cmf.entmax_loss(x, target, axis, alpha=self.alpha, **kw)

    def ref(self, x, target, axis=-1, **kw):
        return ref.fy_loss(x, target, self.alpha, axis, **kw)

    def predict(self, x, axis=-1, **kw):
        """The prediction by the library's own normaliser."""
        if self.alpha == 1.0:
            return cmf.softmax(x, axis, **kw)
        if self.alpha == 2.0:
            return cmf.sparsemax(x, axis, **kw)
        return cmf.entmax(x, self.alpha, axis, **kw)


CE, SPARSEMAX, ENTMAX15 = Loss("softmax_ce", 1.0), Loss("sparsemax", 2.0), Loss("entmax15", 1.5)
LOSSES = [CE, SPARSEMAX, ENTMAX15, Loss("entmax_a1.3", 1.3), Loss("entmax_a1.7", 1.7)]
MAIN = [CE, SPARSEMAX, ENTMAX15]          # the special-value and API tables


# --------------------------------------------------------------------------------------
# Random problems
# --------------------------------------------------------------------------------------

#: option sets of the oracle tests
CONFIGS = {
    "plain": (),
    "weights": ("weights",),
    "ignore": ("ignore",),
    "smoothing": ("smoothing",),
    "t_scalar": ("t_scalar",),
    "t_slices": ("t_slices",),
    "where": ("where",),
    "everything": ("weights", "ignore_in_range", "smoothing", "t_keep", "where"),
}


@dataclass
class Problem:
    x: np.ndarray
    target: np.ndarray
    axis: int
    kw: dict

    @property
    def zmax(self):
        """A bound on |z| = |x - max| / t: the scale of the float rounding errors."""
        x = np.asarray(self.x, dtype=np.float64)
        fin = np.abs(x[np.isfinite(x)])
        t = np.min(np.asarray(self.kw.get("temperature", 1.0)))
        return 2.0 * (float(fin.max()) if fin.size else 0.0) / t

    def gscale(self, reduction):
        """An upper bound on the gradient's scale: weight / t (over the total weight)."""
        sw = self.kw.get("sample_weight")
        n_slices = self.x.size // max(self.x.shape[self.axis], 1)
        w = np.ones(n_slices) if sw is None else np.asarray(sw, dtype=np.float64)
        t = float(np.min(np.asarray(self.kw.get("temperature", 1.0))))
        total = float(w.sum()) if reduction == "mean" else 1.0
        return float(w.max()) / t / total if w.size and total > 0 else 0.0

    def wscale(self, reduction):
        """How much the reduction scales the per-slice errors."""
        sw = self.kw.get("sample_weight")
        n_slices = self.x.size // max(self.x.shape[self.axis], 1)
        w = np.ones(n_slices) if sw is None else np.asarray(sw, dtype=np.float64)
        if reduction == "sum":
            return max(float(w.sum()), 1.0)
        return max(float(w.max()) if w.size else 1.0, 1.0)


def _put_labels(a, labels, axis, value):
    value = np.expand_dims(value, axis) if np.ndim(value) else value
    np.put_along_axis(a, np.expand_dims(labels, axis), value, axis=axis)


def random_shape(rng, axis, ndim=3, n=None):
    shape = [int(s) for s in rng.integers(1, 6, size=ndim)]
    shape[axis] = int(rng.integers(2, 10)) if n is None else n
    return tuple(shape)


def make_problem(rng, dtype, axis, kind, options=(), shape=None, scale=3.0):
    """Random logits, a target (``kind``: "labels" or "probs") and the options ``kw``
    (the same for the library and the oracle).  Labels always sit on included classes
    and targets put no mass on excluded ones (finite losses)."""
    shape = random_shape(rng, axis) if shape is None else shape
    S = ref.Slices(shape, axis)
    n = shape[axis]
    x = (scale * rng.standard_normal(shape)).astype(dtype)
    labels = rng.integers(0, n, size=S.red)
    kw = {}
    mask = np.ones(shape, dtype=bool)
    if "where" in options:
        mask = rng.random(shape) < 0.6
        _put_labels(mask, labels, axis, True)
        kw["where"] = mask
    if kind == "probs":
        g = rng.gamma(0.5, size=shape) * (rng.random(shape) < 0.7) * mask
        _put_labels(g, labels, axis, 1.0 + rng.random(S.red))
        target = (g / g.sum(axis, keepdims=True)).astype(dtype)
    else:
        target = labels
        if "ignore" in options:
            kw["ignore_index"] = -100
            target = np.where(rng.random(S.red) < 0.3, -100, labels)
        elif "ignore_in_range" in options:
            kw["ignore_index"] = 1              # every label 1 is ignored
    if "weights" in options:
        w = rng.uniform(0.0, 2.0, size=S.red)
        w[rng.random(S.red) < 0.2] = 0.0
        kw["sample_weight"] = w
    if "smoothing" in options:
        kw["label_smoothing"] = 0.15
    if "t_scalar" in options:
        kw["temperature"] = 0.6
    if "t_slices" in options:
        kw["temperature"] = rng.uniform(0.3, 3.0, size=S.red)
    if "t_keep" in options:
        kw["temperature"] = rng.uniform(0.3, 3.0, size=S.keep)
    return Problem(x, target, axis, kw)


# --------------------------------------------------------------------------------------
# Tolerances
# --------------------------------------------------------------------------------------

#: (rtol, c): atol = c (1 + max|z|) (x the weights' scale); float32 computes z in float32
TOL = {F32: (2e-5, 2e-6), F64: (1e-10, 2e-13)}


def assert_loss_close(got, want, dtype, zmax, wscale=1.0, err_msg=""):
    got = np.asarray(got)
    want = np.asarray(want, dtype=np.float64)
    assert got.dtype == dtype, (got.dtype, dtype, err_msg)
    assert got.shape == want.shape, (got.shape, want.shape, err_msg)
    rtol, c = TOL[np.dtype(dtype)]
    with np.errstate(over="ignore"):
        want = want.astype(dtype).astype(np.float64)       # the exact value rounded to dtype
    assert_allclose(got.astype(np.float64), want, rtol=rtol, atol=c * (1 + zmax) * wscale,
                    equal_nan=True, err_msg=err_msg)


def assert_grad_close(got, want, dtype, zmax, gscale=0.0, err_msg=""):
    """Gradients: atol = c (1 + max|z|) times their scale (the largest entry of the
    oracle's, or ``gscale``: a weight / t, where rounding may leave ~eps where the oracle
    has an exact 0, e.g. p = q = 1 on a single included class)."""
    got = np.asarray(got)
    want = np.asarray(want, dtype=np.float64)
    assert got.dtype == dtype and got.shape == want.shape, (got.dtype, got.shape, want.shape)
    rtol, c = TOL[np.dtype(dtype)]
    fin = np.abs(want[np.isfinite(want)])
    gmax = max(float(fin.max()) if fin.size else 0.0, gscale)
    assert_allclose(got.astype(np.float64), want, rtol=rtol, atol=c * (1 + zmax) * gmax,
                    equal_nan=True, err_msg=err_msg)
    # the zeros that must be exact (ignored / weightless slices, excluded classes) are
    # checked by test_gradient_is_prediction_minus_target and the special-value tests


def _value(v):
    return np.asarray(v, dtype=np.float64)


# ======================================================================================
# 1. Against the float64 oracles
# ======================================================================================

def _oracle_cases():
    out = []
    for loss in LOSSES:
        for axis in (0, 1, -1):
            for kind in ("labels", "probs"):
                for cfg, options in CONFIGS.items():
                    if kind == "probs" and options == ("ignore",):
                        continue             # ignore_index applies to labels only
                    out.append(pytest.param(loss, axis, kind, cfg, id=f"{loss}-ax{axis}-{kind}-{cfg}"))
    return out


@pytest.mark.parametrize("loss, axis, kind, cfg", _oracle_cases())
def test_against_oracle(loss, axis, kind, cfg, dtype, rng):
    options = CONFIGS[cfg]
    if kind == "probs":
        options = tuple(o for o in options if not o.startswith("ignore"))
    p = make_problem(rng, dtype, axis, kind, options)
    before = [np.copy(a) for a in (p.x, p.target, *p.kw.values())]
    for red in REDUCTIONS:
        msg = f"{loss} {cfg} {red} shape {p.x.shape} axis {axis}"
        value, grad = loss(p.x, p.target, axis, reduction=red, return_grad=True, **p.kw)
        want, want_grad = loss.ref(p.x, p.target, axis, reduction=red, **p.kw)
        assert_loss_close(value, want, dtype, p.zmax, p.wscale(red), err_msg=msg)
        if red != "none":
            assert np.ndim(value) == 0 and isinstance(value, np.generic), msg
        assert_grad_close(grad, want_grad, dtype, p.zmax, p.gscale(red), err_msg=msg)
        # the loss alone is the same number
        alone = loss(p.x, p.target, axis, reduction=red, **p.kw)
        assert_array_equal(np.asarray(alone), np.asarray(value), err_msg=msg)
    # no input is modified
    for a, b in zip((p.x, p.target, *p.kw.values()), before):
        assert_array_equal(a, b)


@pytest.mark.parametrize("red", REDUCTIONS + ("batchmean",))
@pytest.mark.parametrize("options", [(), ("t_scalar",), ("t_slices", "weights"), ("where", "t_keep"),
                                     ("where", "weights", "t_slices")],
                         ids=lambda o: "-".join(o) or "plain")
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_distillation_against_oracle(axis, options, red, dtype, rng):
    p = make_problem(rng, dtype, axis, "labels", options)
    teacher = (3.0 * rng.standard_normal(p.x.shape)).astype(dtype)
    kw = {k: v for k, v in p.kw.items() if k in ("temperature", "where", "sample_weight")}
    value, grad = cmf.distillation_loss(p.x, teacher, axis, reduction=red, return_grad=True, **kw)
    want, want_grad = ref.distillation_loss(p.x, teacher, axis, reduction=red, **kw)
    t = np.max(np.asarray(kw.get("temperature", 1.0)))
    zmax = (p.zmax + 2 * float(np.abs(teacher).max()) / np.min(np.asarray(kw.get("temperature", 1.0))))
    red2 = "mean" if red == "batchmean" else red
    assert_loss_close(value, want, dtype, zmax * t * t, p.wscale(red2))
    assert_grad_close(grad, want_grad, dtype, zmax, p.gscale(red2) * t * t)   # w T (q_s - q_t)
    if red in ("mean", "batchmean"):        # the same reduction under both names
        other = cmf.distillation_loss(p.x, teacher, axis, reduction="mean" if red == "batchmean"
                                      else "batchmean", **kw)
        assert_array_equal(np.asarray(other), np.asarray(value))


def test_per_slice_alpha_against_oracle(dtype, rng):
    """alpha may be one per slice, 1 and 2 included (the softmax / sparsemax rows)."""
    for axis in (0, -1):
        p = make_problem(rng, dtype, axis, "labels", ("t_slices", "weights", "smoothing"))
        S = ref.Slices(p.x.shape, axis)
        alpha = rng.choice([1.0, 1.25, 1.5, 2.0, 1.8], size=S.red)
        for red in REDUCTIONS:
            value, grad = cmf.entmax_loss(p.x, p.target, axis, alpha=alpha, reduction=red,
                                          return_grad=True, **p.kw)
            want, want_grad = ref.fy_loss(p.x, p.target, alpha, axis, reduction=red, **p.kw)
            assert_loss_close(value, want, dtype, p.zmax, p.wscale(red))
            assert_grad_close(grad, want_grad, dtype, p.zmax, p.gscale(red))


def test_long_rows_against_oracle(dtype, rng):
    """Rows long enough for the kernels' vector loops and tiling (n = 300, 2-D, both axes)."""
    for loss in MAIN:
        for axis in (-1, 0):
            for kind in ("labels", "probs"):
                shape = (7, 300) if axis == -1 else (300, 7)
                p = make_problem(rng, dtype, axis, kind, ("smoothing", "t_scalar", "where"), shape=shape)
                value, grad = loss(p.x, p.target, axis, reduction="none", return_grad=True, **p.kw)
                want, want_grad = loss.ref(p.x, p.target, axis, reduction="none", **p.kw)
                assert_loss_close(value, want, dtype, p.zmax * 4, err_msg=f"{loss} {axis} {kind}")
                assert_grad_close(grad, want_grad, dtype, p.zmax * 4, p.gscale("none"))


# ======================================================================================
# 2. Gradients: finite differences, and (prediction - target) / t * scale
# ======================================================================================

FD_H = 1e-3
FD_TOL = dict(rtol=1e-7, atol=1e-9)

#: (id, kind, options, axis)
FD_CONFIGS = [
    ("t", "labels", ("t_scalar",), -1),
    ("t_slices_axis0", "labels", ("t_slices",), 0),
    ("smoothing_t", "labels", ("smoothing", "t_scalar"), 1),
    ("weights_ignore", "labels", ("weights", "ignore"), -1),
    ("where_smoothing_t", "labels", ("where", "smoothing", "t_keep"), 0),
    ("probs_where_weights", "probs", ("where", "weights", "t_slices"), 1),
    ("probs_smoothing", "probs", ("smoothing", "t_scalar"), -1),
]
FD_LOSSES = [CE, SPARSEMAX, ENTMAX15, LOSSES[3]]


def _fd_gradient(f, x, h=FD_H):
    """The gradient of the scalar f at x, entry by entry (4th-order central differences)."""
    x = np.asarray(x, dtype=np.float64)
    g = np.empty_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = 1.0
        g[i] = ref.fd_directional(f, x, e, h)
    return g


#: the sparse losses are piecewise smooth (once differentiable at a change of support):
#: a smaller step, and logits kept away from the kinks
FD_H_SPARSE = 1e-4


def _away_from_kinks(rng, loss, kind, options, axis, shape):
    """A float64 problem whose logits are > 10 h / t away from a change of support of the
    prediction (the stencil moves (alpha - 1) z by at most 2 h / t)."""
    for _ in range(500):
        p = make_problem(rng, np.float64, axis, kind, options, shape=shape)
        if loss.alpha == 1.0:
            return p
        t = p.kw.get("temperature", 1.0)
        d = ref.entmax_kink_distance(p.x, loss.alpha, axis, t, p.kw.get("where"))
        if d > 10 * FD_H_SPARSE / np.min(t):
            return p
    raise AssertionError("no problem away from the kinks")


@pytest.mark.parametrize("red", REDUCTIONS)
@pytest.mark.parametrize("cfg", FD_CONFIGS, ids=lambda c: c[0])
@pytest.mark.parametrize("loss", FD_LOSSES, ids=repr)
def test_gradient_against_finite_differences(loss, cfg, red, rng):
    _, kind, options, axis = cfg
    p = _away_from_kinks(rng, loss, kind, options, axis, shape=(3, 4, 5))

    def f(x):
        return float(np.sum(_value(loss(x, p.target, axis, reduction=red, **p.kw))))

    _, grad = loss(p.x, p.target, axis, reduction=red, return_grad=True, **p.kw)
    h = FD_H if loss.alpha == 1.0 else FD_H_SPARSE
    assert_allclose(grad, _fd_gradient(f, p.x, h), **FD_TOL)


@pytest.mark.parametrize("red", REDUCTIONS + ("batchmean",))
@pytest.mark.parametrize("options, axis", [(("t_scalar",), -1), (("t_slices", "weights"), 0),
                                           (("where", "t_keep", "weights"), 1)],
                         ids=["t", "t_slices_weights", "where_weights"])
def test_distillation_gradient_against_finite_differences(options, axis, red, rng):
    p = make_problem(rng, np.float64, axis, "labels", options, shape=(3, 4, 5))
    teacher = 2.0 * rng.standard_normal(p.x.shape)
    kw = {k: v for k, v in p.kw.items() if k in ("temperature", "where", "sample_weight")}

    def f(x):
        return float(np.sum(_value(cmf.distillation_loss(x, teacher, axis, reduction=red, **kw))))

    _, grad = cmf.distillation_loss(p.x, teacher, axis, reduction=red, return_grad=True, **kw)
    assert_allclose(grad, _fd_gradient(f, p.x), **FD_TOL)
    # the teacher is a constant: the returned gradient is the student's only
    assert grad.shape == p.x.shape


@pytest.mark.parametrize("red", REDUCTIONS)
@pytest.mark.parametrize("kind", ["labels", "probs"])
@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_gradient_is_prediction_minus_target(loss, kind, red, dtype, rng):
    """grad = (p - q) / t * scale, with p from the public normaliser, q the (smoothed)
    target and scale the weight over the total weight of the slices not ignored."""
    axis = 1
    p = make_problem(rng, dtype, axis, kind, ("where", "t_slices", "weights", "smoothing")
                     + (("ignore",) if kind == "labels" else ()))
    S = ref.Slices(p.x.shape, axis)
    w, t, eps = p.kw["where"], p.kw["temperature"], p.kw["label_smoothing"]
    pred = loss.predict(p.x, axis, temperature=np.expand_dims(t, axis), where=w).astype(np.float64)
    if kind == "labels":
        live = p.target != -100
        q = np.zeros(p.x.shape)
        _put_labels(q, np.where(live, p.target, 0), axis, 1.0)
    else:
        live = np.ones(S.red, dtype=bool)
        q = p.target.astype(np.float64)
    k = w.sum(axis, keepdims=True)
    q = (1 - eps) * q + eps * w / k
    sw = np.where(live, p.kw["sample_weight"], 0.0)
    total = sw.sum()
    scale = (sw / total if total > 0 else 0 * sw) if red == "mean" else sw
    want = (pred - q) / np.expand_dims(t, axis) * np.expand_dims(scale, axis)
    want = np.where(np.expand_dims(scale, axis) > 0, want, 0.0)
    _, grad = loss(p.x, p.target, axis, reduction=red, return_grad=True, **p.kw)
    assert_grad_close(grad, want, dtype, p.zmax, p.gscale(red))
    # excluded classes and weightless / ignored slices: exactly 0
    structural = ~w | (np.expand_dims(scale, axis) == 0)
    assert np.all(grad[structural] == 0)


# ======================================================================================
# 3. Identities
# ======================================================================================

@pytest.mark.parametrize("kind", ["labels", "probs"])
@pytest.mark.parametrize("cfg", ["plain", "everything", "t_slices"])
@pytest.mark.parametrize("alpha, other", [(1.0, CE), (2.0, SPARSEMAX)], ids=["alpha1_ce", "alpha2_sparsemax"])
def test_entmax_loss_alpha_1_and_2_are_the_other_losses(alpha, other, cfg, kind, dtype, rng):
    """Documented as the same kernels: bitwise equal values and gradients."""
    options = tuple(o for o in CONFIGS[cfg] if kind == "labels" or not o.startswith("ignore"))
    p = make_problem(rng, dtype, -1, kind, options)
    for red in REDUCTIONS:
        v1, g1 = cmf.entmax_loss(p.x, p.target, -1, alpha=alpha, reduction=red, return_grad=True, **p.kw)
        v2, g2 = other(p.x, p.target, -1, reduction=red, return_grad=True, **p.kw)
        assert_array_equal(np.asarray(v1), np.asarray(v2))
        assert_array_equal(g1, g2)


def test_entmax_loss_default_alpha_is_1_5(rng):
    p = make_problem(rng, np.float64, -1, "labels")
    assert_array_equal(np.asarray(cmf.entmax_loss(p.x, p.target)),
                       np.asarray(cmf.entmax_loss(p.x, p.target, alpha=1.5)))
    want, _ = ref.fy_loss(p.x, p.target, 1.5)
    assert_allclose(float(cmf.entmax_loss(p.x, p.target)), want, rtol=1e-10)


# the loss is >= 0 (hypothesis): wide magnitudes, labels or targets, every loss
_wide = st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False, width=64)
_moderate = st.floats(-50.0, 50.0, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def _loss_problems(draw):
    rows = draw(st.integers(1, 5))
    n = draw(st.integers(1, 9))
    x = draw(hnp.arrays(np.float64, (rows, n), elements=draw(st.sampled_from([_wide, _moderate]))))
    t = draw(st.floats(0.05, 20.0))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    if draw(st.booleans()):
        target = rng.integers(0, n, size=rows)
    else:
        g = rng.gamma(0.5, size=(rows, n)) * (rng.random((rows, n)) < 0.6)
        g[np.arange(rows), rng.integers(0, n, size=rows)] += 1.0
        target = g / g.sum(-1, keepdims=True)
    eps = draw(st.sampled_from([0.0, 0.0, 0.3, 1.0]))
    return x, target, t, eps


@given(_loss_problems(), st.sampled_from(LOSSES), st.sampled_from([np.float64, np.float32]))
def test_loss_is_nonnegative(problem, loss, dtype):
    x, target, t, eps = problem
    if dtype == np.float32:
        x = np.clip(x, -1e37, 1e37).astype(np.float32)
        target = target.astype(np.float32) if target.ndim == 2 else target
    value, grad = loss(x, target, temperature=t, label_smoothing=eps, reduction="none",
                       return_grad=True)
    v = _value(value)
    assert not np.isnan(v).any(), v
    assert np.all(v >= 0), v
    g = grad.astype(np.float64)
    assert np.isfinite(g).all(), g
    # sum p = sum q = 1: every gradient row sums to 0
    assert_allclose(g.sum(-1), 0.0, atol=8 * np.finfo(dtype).eps * x.shape[-1] / t)
    if dtype == np.float64:
        want, want_grad = loss.ref(x, target, temperature=t, label_smoothing=eps, reduction="none")
        zmax = 2 * float(np.abs(x).max()) / t
        assert_allclose(v, want, rtol=1e-9, atol=1e-13 * (1 + zmax))
        assert_allclose(g, want_grad, rtol=1e-9, atol=1e-13 * (1 + zmax) / t)


@pytest.mark.parametrize("where", [False, True])
@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_zero_at_the_optimum_probability_target(loss, where, dtype, rng):
    """target = the prediction itself (the float64 oracle's): loss 0, gradient 0."""
    shape, axis = (6, 4, 5), 1
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    t = rng.uniform(0.5, 2.0, size=(6, 1, 5))
    w = None
    if where:
        w = rng.random(shape) < 0.7
        w[:, 0, :] = True
    if loss.alpha == 1.0:
        q = ref.softmax(x, axis, t, w)
    elif loss.alpha == 2.0:
        q = ref.sparsemax(x, axis, t, w)
    else:
        q = ref.entmax(x, loss.alpha, axis, t, w)
    q = q.astype(dtype)
    for red in REDUCTIONS:
        value, grad = loss(x, q, axis, temperature=t, where=w, reduction=red, return_grad=True)
        eps = float(np.finfo(dtype).eps)
        zmax = 2 * float(np.abs(x).max()) / t.min()
        assert np.all(_value(value) <= 64 * eps * (1 + zmax) * (x.size if red == "sum" else 1)), value
        assert np.all(_value(value) >= 0)
        assert_allclose(grad.astype(np.float64), 0.0, atol=64 * eps * (1 + zmax))


def _inverse_link(q, alpha):
    """Logits z with entmax(z, alpha) = q for a q > 0 (tau = 0): log q, or
    q^(alpha - 1) / (alpha - 1)."""
    return np.log(q) if alpha == 1.0 else q ** (alpha - 1.0) / (alpha - 1.0)


@pytest.mark.parametrize("eps", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("where", [False, True])
@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_zero_at_the_optimum_of_smoothed_labels(loss, where, eps, rng):
    """Label smoothing subtracts H(q_eps): at logits whose prediction is the smoothed
    target (over the included classes), the loss is 0 and so is the gradient."""
    rows, n, t = 8, 6, 0.7
    labels = rng.integers(0, n, size=rows)
    w = np.ones((rows, n), dtype=bool)
    if where:
        w = rng.random((rows, n)) < 0.6
        w[np.arange(rows), labels] = True
    k = w.sum(-1, keepdims=True)
    q = (1 - eps) * np.eye(n)[labels] + eps * w / k
    x = t * np.where(w, _inverse_link(np.where(w, q, 1.0), loss.alpha), 0.0)
    x += rng.uniform(-5, 5, size=(rows, 1))                            # shift invariance
    x = np.where(w, x, rng.uniform(-1e3, 1e3, size=x.shape))          # excluded: anything
    for red in REDUCTIONS:
        value, grad = loss(x, labels, temperature=t, where=w if where else None, label_smoothing=eps,
                           reduction=red, return_grad=True)
        assert_allclose(_value(value), 0.0, atol=1e-12)
        assert_allclose(grad, 0.0, atol=1e-12)
    # and a perturbation away from the optimum costs something (with two classes or more)
    x2 = x + np.where(w, rng.standard_normal(x.shape), 0.0)
    moved = _value(loss(x2, labels, temperature=t, where=w if where else None, label_smoothing=eps,
                        reduction="none"))
    assert np.all(moved[w.sum(-1) > 1] > 0) and np.all(moved[w.sum(-1) == 1] == 0)


@pytest.mark.parametrize("t", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("d", [0.0, 0.25, 0.5, 0.99, 1.0, 1.5, 10.0])
def test_sparsemax_loss_two_class_closed_form(d, t, dtype):
    """Top logits z1, z1 - d (z = x / t), label on the top one: the loss is (1 - d)^2 / 4
    for d < 1 and exactly 0 from a margin of 1 in z (a margin of t in x), with gradient
    (p - e_1) / t, p = ((1 + d) / 2, (1 - d) / 2)."""
    x = np.array([[2.0, 2.0 - d * t, 2.0 - 4.0 * t, -50.0]], dtype=dtype)
    value, grad = cmf.sparsemax_loss(x, [0], temperature=t, reduction="none", return_grad=True)
    want = max(1.0 - d, 0.0) ** 2 / 4
    a = max(1.0 - d, 0.0) / 2
    want_grad = np.array([[-a, a, 0.0, 0.0]]) / t
    tol = 1e-6 if dtype == np.float32 else 1e-14
    if d >= 1.0:
        assert value[0] == 0.0 and np.all(grad == 0.0)
    assert_allclose(_value(value), [want], atol=tol)
    assert_allclose(grad.astype(np.float64), want_grad, atol=tol)
    # and swapped: the label on the lower one costs 1 more per unit of margin
    v2 = cmf.sparsemax_loss(x, [1], temperature=t, reduction="none")
    want2 = (1 + d) ** 2 / 4 if d < 1 else d
    assert_allclose(_value(v2), [want2], rtol=1e-6 if dtype == np.float32 else 1e-13)


def test_cross_entropy_docstring_numbers():
    """Hand-computed: the docstring example and the two-class logistic loss."""
    x = np.array([[1.0, 2.0, 3.0], [1.0, 0.0, -1.0]])
    want = 0.5 * ((np.log(np.exp(x[0]).sum()) - 3.0) + (np.log(np.exp(x[1]).sum()) - 1.0))
    assert_allclose(float(cmf.softmax_cross_entropy(x, [2, 0])), want, rtol=1e-14)
    # two classes: log(1 + e^{-m}) with m the margin (to the float64 resolution of
    # logsumexp, which is absolute: log(1 + 1e-13) keeps only ~3 significant digits)
    for m in (-30.0, -1.0, 0.0, 0.5, 30.0, 700.0):
        assert_allclose(float(cmf.softmax_cross_entropy([[m, 0.0]], [0])), np.log1p(np.exp(-m)),
                        rtol=1e-14, atol=4 * np.finfo(float).eps)


def test_entmax_loss_alpha_near_one_approaches_cross_entropy(rng):
    """H_alpha -> Shannon as alpha -> 1 (the expm1 form is accurate there): the loss
    moves by O(alpha - 1), not by the cancellation of 1 - sum p^alpha."""
    x = 2 * rng.standard_normal((5, 7))
    y = rng.integers(0, 7, size=5)
    ce = _value(cmf.softmax_cross_entropy(x, y, reduction="none"))
    for d in (1e-4, 1e-7, 1e-10):
        assert_allclose(_value(cmf.entmax_loss(x, y, alpha=1 + d, reduction="none")), ce,
                        rtol=0, atol=100 * d)


# ======================================================================================
# 4. PyTorch and the entmax package
# ======================================================================================

def _shannon(q):
    with np.errstate(all="ignore"):
        return -np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0)


TORCH_CE = [(kind, cfg) for kind in ("labels", "probs")
            for cfg in ("plain", "smoothing", "ignore", "weights", "smoothing_ignore_weights_t",
                        "smoothing_weights_t")
            if not (kind == "probs" and "ignore" in cfg)]    # ignore_index: labels only


@need_torch
@pytest.mark.parametrize("red", REDUCTIONS)
@pytest.mark.parametrize("kind, cfg", TORCH_CE, ids=["-".join(c) for c in TORCH_CE])
def test_cross_entropy_against_torch(kind, cfg, red, dtype, rng):
    """torch's cross_entropy on (N, C, d) with dim 1 = our axis 1.  Ours = torch's minus
    H(q) of the (smoothed) target; sample weights applied to torch's per-slice losses."""
    N, C, d = 6, 5, 3
    x = (3 * rng.standard_normal((N, C, d))).astype(dtype)
    eps = 0.2 if "smoothing" in cfg else 0.0
    t = 0.7 if cfg.endswith("_t") else 1.0
    ii = -100
    if kind == "labels":
        target = rng.integers(0, C, size=(N, d))
        if "ignore" in cfg:
            target[rng.random((N, d)) < 0.3] = ii
            target[0, 0] = 1                                  # at least one live slice
        live = target != ii
        q = np.eye(C)[np.where(live, target, 0)].transpose(0, 2, 1)
        T_target = torch.tensor(target)
    else:
        g = rng.gamma(0.5, size=(N, C, d)) + 1e-3
        target = (g / g.sum(1, keepdims=True)).astype(dtype)
        live = np.ones((N, d), dtype=bool)
        q = target.astype(np.float64)
        T_target = torch.tensor(target)
    hq = _shannon((1 - eps) * q + eps / C).sum(1)             # per slice
    sw = rng.uniform(0.1, 2.0, size=(N, d)) if "weights" in cfg else None
    X = torch.tensor(x, requires_grad=True)
    per = torch.nn.functional.cross_entropy(X / t, T_target, ignore_index=ii, label_smoothing=eps,
                                            reduction="none")
    w = torch.tensor(np.where(live, 1.0 if sw is None else sw, 0.0).astype(dtype))
    if red == "none":
        torch_value = per * w
    elif red == "sum":
        torch_value = (per * w).sum()
    else:
        torch_value = (per * w).sum() / w.sum()
    torch_value.sum().backward()
    wl = np.where(live, 1.0 if sw is None else sw, 0.0)
    corr = wl * hq
    corr = corr if red == "none" else (corr.sum() if red == "sum" else corr.sum() / wl.sum())
    want = torch_value.detach().numpy().astype(np.float64) - corr
    kw = dict(label_smoothing=eps, temperature=t, sample_weight=sw)
    if kind == "labels" and "ignore" in cfg:
        kw["ignore_index"] = ii
    value, grad = cmf.softmax_cross_entropy(x, target, 1, reduction=red, return_grad=True, **kw)
    scale = 4.0 if dtype == np.float32 else 1.0     # torch's own float32 rounding
    assert_loss_close(value, want, dtype, 30 * scale, 1.0 if red != "sum" else wl.sum())
    assert_grad_close(grad, X.grad.numpy(), dtype, 30 * scale)
    if red == "mean" and kind == "labels" and sw is None:
        # torch's own mean (over the slices not ignored), without our manual weighting
        tm = torch.nn.functional.cross_entropy(torch.tensor(x) / t, T_target, ignore_index=ii,
                                               label_smoothing=eps).item()
        assert_allclose(float(value), tm - hq[live].mean(), rtol=1e-5 if dtype == np.float32 else 1e-12,
                        atol=1e-5 if dtype == np.float32 else 1e-12)


def _entmax_pkg_loss(name, alpha, ignore_index, reduction):
    red = "elementwise_mean" if reduction == "mean" else reduction
    if name == "sparsemax":
        return entmax_pkg.SparsemaxLoss(k=None, ignore_index=ignore_index, reduction=red)
    if name == "entmax15":
        return entmax_pkg.Entmax15Loss(k=None, ignore_index=ignore_index, reduction=red)
    return entmax_pkg.EntmaxBisectLoss(alpha=alpha, n_iter=100, ignore_index=ignore_index, reduction=red)


@need_entmax
@pytest.mark.parametrize("red", REDUCTIONS)
@pytest.mark.parametrize("ignore", [False, True])
@pytest.mark.parametrize("name, alpha", [("sparsemax", 2.0), ("entmax15", 1.5), ("bisect", 1.3),
                                         ("bisect", 1.7)],
                         ids=["sparsemax", "entmax15", "bisect1.3", "bisect1.7"])
def test_against_entmax_package(name, alpha, ignore, red, rng):
    """SparsemaxLoss, Entmax15Loss, EntmaxBisectLoss on well-behaved float64 rows (moderate
    logits, away from changes of support); their ignore_index must be a valid class."""
    rows, n = 12, 7
    for _ in range(100):
        x = 2 * rng.standard_normal((rows, n))
        if ref.entmax_kink_distance(x, alpha) > 1e-6:
            break
    y = rng.integers(0, n, size=rows)
    y[0] = 0
    ii = 3 if ignore else -100
    if ignore:
        y[1:4] = ii
    X = torch.tensor(x, requires_grad=True)
    theirs = _entmax_pkg_loss(name, alpha, ii, red)(X, torch.tensor(y))
    theirs.sum().backward()
    kw = dict(ignore_index=ii) if ignore else {}
    value, grad = cmf.entmax_loss(x, y, alpha=alpha, reduction=red, return_grad=True, **kw)
    assert_allclose(_value(value), theirs.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert_allclose(grad, X.grad.numpy(), rtol=1e-9, atol=1e-12)


@need_torch
@pytest.mark.parametrize("red", ["batchmean", "sum", "none"])
@pytest.mark.parametrize("T", [1.0, 2.0, 5.0])
def test_distillation_against_torch_kl_div(T, red, dtype, rng):
    s = (3 * rng.standard_normal((9, 6))).astype(dtype)
    te = (3 * rng.standard_normal((9, 6))).astype(dtype)
    S = torch.tensor(s, requires_grad=True)
    F = torch.nn.functional
    kl = F.kl_div(F.log_softmax(S / T, dim=-1), F.softmax(torch.tensor(te) / T, dim=-1),
                  reduction=red) * T ** 2
    if red == "none":
        kl = kl.sum(-1)
    kl.sum().backward()
    value, grad = cmf.distillation_loss(s, te, temperature=T, reduction=red, return_grad=True)
    zmax = 12.0
    assert_loss_close(value, kl.detach().numpy().astype(np.float64), dtype, 4 * zmax * T * T,
                      9.0 if red == "sum" else 1.0)
    assert_grad_close(grad, S.grad.numpy(), dtype, 4 * zmax)


# ======================================================================================
# 5. Special values
# ======================================================================================

def _huge(v, dtype):
    """Resolve "H" / "-H" / "2H" (H: 1e38 for float32, 1e308 for float64; 2H overflows
    float64 to inf) and None (NaN: "not given") in the tables below."""
    H = 1e38 if np.dtype(dtype) == F32 else 1e308
    if v is None:
        return nan
    if isinstance(v, str):
        with np.errstate(over="ignore"):
            return {"H": H, "-H": -H, "2H": 2 * H}[v]
    return v


@dataclass(frozen=True)
class Special:
    name: str
    x: list                         # rows of logits ("H", "-H": see _huge)
    labels: list
    where: list | None = None
    t: float = 1.0
    eps: float = 0.0                # label smoothing
    loss: list | None = None        # expected per-slice losses (an entry None: the oracle's)
    grad: list | None = None        # expected gradient at t = 1 (None: the oracle's)

    def __repr__(self):
        return self.name

    def table(self, rows, dtype, out_dtype):
        return np.array([[_huge(v, dtype) for v in r] if isinstance(r, list) else _huge(r, dtype)
                         for r in rows], dtype=out_dtype)


T_, F_ = True, False
SPECIALS = [
    # a large gap: z_max - z_y exactly, never -inf from a log(softmax)
    Special("large_gap", [[0.0, -1000.0]], [1], loss=[1000.0], grad=[[1.0, -1.0]]),
    Special("large_gap_three", [[0.0, -200.0, -1000.0], [-1000.0, 0.0, -200.0]], [2, 2],
            loss=[1000.0, 200.0]),
    Special("large_gap_temperature", [[0.0, -1000.0, -200.0]], [1], t=2.0, loss=[500.0]),
    Special("large_gap_right", [[0.0, -1000.0]], [0], loss=[0.0], grad=[[0.0, 0.0]]),
    # the huge magnitudes of the dtype (2H overflows float64 to inf, fits float32)
    Special("huge", [["H", "-H", 0.0]] * 3, [0, 1, 2], loss=[0.0, "2H", "H"],
            grad=[[0.0, 0.0, 0.0], [1.0, -1.0, 0.0], [1.0, 0.0, -1.0]]),
    Special("huge_ties", [["H", "H", "-H"]], [0]),
    # -inf logits: finite away from the label, +inf at it, never NaN; gradient 0 at -inf
    Special("neginf_not_label", [[0.0, -inf, 1.0], [-inf, 2.0, -inf]], [0, 1]),
    Special("neginf_label", [[0.0, -inf, 1.0]], [1], loss=[inf]),
    Special("neginf_label_t", [[0.0, -inf, 1.0, 3.0]], [1], t=0.5, loss=[inf]),
    # where: masked classes get probability 0 and gradient 0; a masked label costs +inf
    Special("masked_class", [[0.0, 50.0, 1.0]], [0], where=[[T_, F_, T_]]),
    Special("masked_label", [[0.0, 5.0, 1.0]], [1], where=[[T_, F_, T_]], loss=[inf]),
    Special("masked_nan", [[1.0, nan, 2.0]], [0], where=[[T_, F_, T_]]),
    Special("masked_posinf", [[1.0, inf, 2.0]], [2], where=[[T_, F_, T_]]),
    # smoothing spreads mass over the included classes only: a masked label keeps costing
    # +inf unless eps = 1; an included -inf logit gets mass, hence +inf
    Special("masked_label_smoothing", [[0.0, 5.0, 1.0]], [1], where=[[T_, F_, T_]], eps=0.3, loss=[inf]),
    Special("masked_label_full_smoothing", [[0.0, 5.0, 1.0]], [1], where=[[T_, F_, T_]], eps=1.0),
    Special("masked_class_smoothing", [[0.0, 50.0, 1.0, -2.0]], [3], where=[[T_, F_, T_, T_]], eps=0.4),
    Special("neginf_not_label_smoothing", [[0.0, -inf, 1.0]], [0], eps=0.1, loss=[inf]),
    # NaN: that slice only
    Special("nan", [[1.0, nan, 2.0], [1.0, 2.0, 3.0]], [0, 2], loss=[nan, None]),
    Special("nan_at_label", [[1.0, nan, 2.0], [1.0, 2.0, 3.0]], [1, 0], loss=[nan, None]),
    # ... and an excluded class keeps probability 0, hence gradient 0, even in a NaN slice
    # (as softmax's own rule, and the sparse losses')
    Special("nan_with_masked_class", [[nan, 1.0, 2.0, 3.0]], [1], where=[[T_, T_, T_, F_]], loss=[nan]),
    # +inf logits share the mass
    Special("posinf_label", [[1.0, inf, 2.0]], [1], loss=[0.0], grad=[[0.0, 0.0, 0.0]]),
    Special("posinf_other", [[1.0, inf, 2.0]], [0], loss=[inf], grad=[[-1.0, 1.0, 0.0]]),
    Special("posinf_two", [[inf, 1.0, inf]], [0], grad=[[-0.5, 0.0, 0.5]]),
    # a single class: nothing to learn
    Special("n1", [[3.0], [-2.0], ["H"]], [0, 0, 0], loss=[0.0, 0.0, 0.0], grad=[[0.0], [0.0], [0.0]]),
]


#: how a 2-D case (classes along the last axis) is fed to the library: as it is (short
#: rows: the cross-entropy's column kernel), padded with excluded classes to 64 (long
#: contiguous rows: the row kernels), or transposed (class axis 0, strided)
FEEDS = ("short", "padded", "axis0")


def _feed(how, x, where=None):
    """``(x', where', axis, back)``: the case in layout ``how``; ``back(g')`` returns a
    gradient in the case's layout (checking that padded classes got exactly 0)."""
    if how == "short":
        return x, where, -1, lambda g: g
    if how == "axis0":
        return x.T, None if where is None else where.T, 0, lambda g: g.T
    rows, n = x.shape
    w = np.ones(x.shape, dtype=bool) if where is None else where
    xp = np.concatenate([x, np.full((rows, 64 - n), 7.0, dtype=x.dtype)], axis=-1)
    wp = np.concatenate([w, np.zeros((rows, 64 - n), dtype=bool)], axis=-1)

    def back(g):
        assert np.all(g[:, n:] == 0), "gradient on a padded (excluded) class"
        return g[:, :n]
    return xp, wp, -1, back


def _call(loss, how, x, y, where=None, **kw):
    """The loss of a 2-D case fed in layout ``how``; the gradient in the case's layout."""
    xf, wf, axis, back = _feed(how, x, where)
    value, grad = loss(xf, y, axis, where=wf, return_grad=True, **kw)
    return value, back(grad)


@pytest.mark.parametrize("how", FEEDS)
@pytest.mark.parametrize("case", SPECIALS, ids=repr)
@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_special_values(loss, case, how, dtype):
    x = case.table(case.x, dtype, dtype)
    x_before = x.copy()
    w = None if case.where is None else np.array(case.where, dtype=bool)
    y = np.array(case.labels)
    kw = dict(temperature=case.t, label_smoothing=case.eps)
    value, grad = _call(loss, how, x, y, w, reduction="none", **kw)
    want, want_grad = loss.ref(x, y, where=w, reduction="none", **kw)
    if case.loss is not None:
        explicit = case.table(case.loss, dtype, np.float64)
        want = np.where(np.array([v is None for v in case.loss]), want, explicit)
    if case.grad is not None:
        want_grad = case.table(case.grad, dtype, np.float64) / case.t
    msg = f"{loss} {case.name} {how}"
    finite = np.isfinite(x.astype(np.float64))
    # the rounding scale of z (capped: the huge cases are exact, and their 0s must stay 0s)
    zmax = min(2 * float(np.abs(x[finite]).max()) / case.t if finite.any() else 0.0, 1e4)
    assert_loss_close(value, want, dtype, zmax, err_msg=msg)
    assert_grad_close(grad, want_grad, dtype, zmax, err_msg=msg)
    np.testing.assert_array_equal(x, x_before)
    # never NaN except in a slice with an included NaN logit; the gradient is finite there too
    nan_slices = np.isnan(x).any(-1) if w is None else (np.isnan(x) & w).any(-1)
    assert not np.isnan(_value(value)[~nan_slices]).any(), msg
    assert np.isfinite(grad[~nan_slices]).all(), msg
    # excluded and -inf classes (away from the label) get exactly 0 gradient
    zero = (x == -inf) if w is None else (~w | (x == -inf))
    if case.eps:
        zero = np.zeros_like(zero) if w is None else ~w
    zero[np.arange(len(y)), y] = False
    assert np.all(grad[zero & ~nan_slices[:, None]] == 0), msg
    # the reductions of the same slices
    for red in ("sum", "mean"):
        v, g = _call(loss, how, x, y, w, reduction=red, **kw)
        with np.errstate(over="ignore", invalid="ignore"):
            s = float(np.sum(want))
            s = np.float64(s).astype(dtype).astype(np.float64)   # float32: 2H + H overflows too
        expect = s if red == "sum" else s / len(y)
        assert_loss_close(v, expect, dtype, zmax, err_msg=f"{msg} {red}")
        assert_grad_close(g, want_grad / (1 if red == "sum" else len(y)), dtype, zmax, err_msg=f"{msg} {red}")


#: (id, dtype, temperature, weight, label smoothing): the logits [M, -M, 0] (M the dtype's
#: largest finite value), label 1
OVERFLOWING_DIFFERENCE = [
    ("temperature-f32", F32, 4.0, 1.0, 0.0),     # (x_max - x_y) / t = 2M / 4
    ("temperature-f64", F64, 4.0, 1.0, 0.0),
    ("temperature_smoothing-f32", F32, 4.0, 1.0, 0.3),   # and sum_k z_k (the smoothing term)
    ("temperature_smoothing-f64", F64, 4.0, 1.0, 0.3),
    # w (x_max - x_y) = 2M / 1000 (float32 only: there the per-slice loss 2M is a float64)
    ("weight-f32", F32, 1.0, 1e-3, 0.0),
]


@pytest.mark.parametrize("how", FEEDS)
@pytest.mark.parametrize("case", OVERFLOWING_DIFFERENCE, ids=lambda c: c[0])
@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_logit_difference_overflowing_the_dtype(loss, case, how):
    """x_max - x_k overflows the dtype but the loss (z = (x - x_max) / t, possibly
    weighted) does not: the loss is that finite number, not +inf.  Expected, with p the
    one-hot on class 0: w (-<q, z> - H(q)), gradient w (p - q) / t."""
    _, dtype, t, sw, eps = case
    M = float(np.finfo(dtype).max)
    x = np.array([[M, -M, 0.0]] * 3, dtype=dtype)
    z = np.array([0.0, -(M / t) * 2, -M / t])
    q = (1 - eps) * np.array([0.0, 1.0, 0.0]) + eps / 3
    want = sw * (-(q @ z) - _shannon(q).sum())
    value, grad = _call(loss, how, x, [1, 1, 1], temperature=t, sample_weight=sw, label_smoothing=eps,
                        reduction="none")
    assert_allclose(_value(value), [want] * 3, rtol=1e-6)
    assert_allclose(grad.astype(np.float64), [sw * (np.array([1.0, 0, 0]) - q) / t] * 3, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("how", FEEDS)
@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_all_neginf_slice_is_an_infinite_loss_not_nan(loss, how, dtype):
    """The documented rule "a label on an excluded or -inf logit gives an infinite loss,
    never NaN" also when every logit of the slice is -inf (it predicts 0: gradient
    -q / t); the other slices are unaffected."""
    x = np.array([[-inf, -inf, -inf], [0.0, 1.0, 2.0], [-inf, -inf, -inf]], dtype=dtype)
    for eps in (0.0, 0.4):
        value, grad = _call(loss, how, x, [0, 2, 1], temperature=0.5, label_smoothing=eps,
                            reduction="none")
        assert _value(value)[0] == inf and _value(value)[2] == inf, value
        q = (1 - eps) * np.eye(3)[[0, 1]] + eps / 3
        assert_allclose(grad[[0, 2]].astype(np.float64), -q / 0.5, rtol=1e-6)
        want, want_grad = loss.ref(x[1:2], [2], temperature=0.5, label_smoothing=eps, reduction="none")
        assert_loss_close(value[1:2], want, dtype, 8.0)
        assert_grad_close(grad[1:2], want_grad, dtype, 8.0)


@pytest.mark.parametrize("how", FEEDS)
@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_fully_masked_slice_with_a_label(loss, how, dtype):
    """A label on an excluded logit: +inf (never NaN), also when the whole slice is
    excluded; the gradient is finite (-1/t at the label: nothing is predicted)."""
    x = np.array([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]], dtype=dtype)
    w = np.array([[F_, F_, F_], [T_, T_, T_]])
    value, grad = _call(loss, how, x, [0, 1], w, reduction="none")
    assert _value(value)[0] == inf
    assert np.isfinite(grad).all()
    assert_array_equal(grad[0], [-1.0, 0.0, 0.0])


@pytest.mark.parametrize("how", FEEDS)
@pytest.mark.parametrize("ignore_index", [-100, 0, 7])
@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_every_target_ignored(loss, ignore_index, how, dtype, rng):
    """Loss 0 and a zero gradient (never NaN), whatever the logits of the ignored slices
    hold, for every reduction."""
    x = (3 * rng.standard_normal((5, 7))).astype(dtype)
    x[0, 2], x[1, :] = nan, -inf
    x[2, 3] = inf
    y = np.full(5, ignore_index)
    for red in REDUCTIONS:
        for kw in ({}, dict(label_smoothing=0.3, temperature=0.5), dict(sample_weight=np.arange(5.0))):
            value, grad = _call(loss, how, x, y, ignore_index=ignore_index, reduction=red, **kw)
            assert np.all(_value(value) == 0), (value, kw)
            assert _value(value).shape == ((5,) if red == "none" else ())
            assert grad.dtype == dtype and np.all(grad == 0), (grad, kw)


@pytest.mark.parametrize("how", FEEDS)
@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_all_sample_weights_zero(loss, how, dtype, rng):
    x = (3 * rng.standard_normal((5, 7))).astype(dtype)
    y = rng.integers(0, 7, size=5)
    for red in REDUCTIONS:
        value, grad = _call(loss, how, x, y, sample_weight=np.zeros(5), reduction=red)
        assert np.all(_value(value) == 0)
        assert np.all(grad == 0)


#: a slice whose own loss is not finite, given weight 0 next to an ordinary slice
ZERO_WEIGHT_SLICES = {
    "neginf_label": ([0.0, -inf, 1.0], 1),
    "masked_label": ([0.0, 2.0, 1.0], 1),        # with where = [T, F, T]
    "posinf_other": ([1.0, inf, 2.0], 0),
    "nan": ([1.0, nan, 2.0], 0),
    "all_neginf": ([-inf, -inf, -inf], 0),
}


@pytest.mark.parametrize("how", FEEDS)
@pytest.mark.parametrize("case", ZERO_WEIGHT_SLICES)
@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_zero_weight_removes_the_slice_entirely(loss, case, how, dtype):
    """Documented: "A weight of 0 removes a slice entirely (its loss counts as 0 even
    when infinite)".  The returned value does not depend on that slice, so its gradient
    is 0 there, and the other slice's value and gradient are those of it alone."""
    row, label = ZERO_WEIGHT_SLICES[case]
    x = np.array([row, [0.5, -1.0, 2.0]], dtype=dtype)
    w = np.array([[T_, case != "masked_label", T_], [T_, T_, T_]])
    for red in REDUCTIONS:
        value, grad = _call(loss, how, x, [label, 0], w, sample_weight=[0.0, 2.0], reduction=red)
        alone_v, alone_g = _call(loss, how, x[1:], [0], sample_weight=[2.0], reduction=red)
        if red == "none":
            assert _value(value)[0] == 0
            value = value[1:]
        assert_allclose(_value(value), _value(alone_v), rtol=1e-6, atol=0)
        assert np.all(grad[0] == 0), grad           # not NaN: the slice is not in the value
        assert_allclose(grad[1:].astype(np.float64), alone_g, rtol=1e-6, atol=1e-7)


def test_nan_only_in_its_slice_through_the_reductions(rng):
    x = rng.standard_normal((4, 5))
    x[2, 1] = nan
    y = [0, 1, 2, 3]
    for red in ("sum", "mean"):
        v, g = cmf.softmax_cross_entropy(x, y, reduction=red, return_grad=True)
        assert np.isnan(v)
        assert np.isnan(g[2]).all() and np.isfinite(g[[0, 1, 3]]).all()


# ======================================================================================
# 6. API and validation
# ======================================================================================

X23 = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, 0.25]])
P23 = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])

#: (id, call(f) with f one of the losses, exception, message fragment)
ERRORS = [
    ("complex_logits", lambda f: f(X23.astype(complex), [0, 1]), TypeError, "logits"),
    ("string_logits", lambda f: f(np.array([["a", "b"]]), [0]), TypeError, "logits"),
    ("object_logits", lambda f: f(np.array([[1.0, None]], dtype=object), [0]), TypeError, "logits"),
    ("scalar_logits", lambda f: f(3.0, 0), ValueError, "logits"),
    ("complex_target", lambda f: f(X23, np.array([0, 1], dtype=complex)), TypeError, "target"),
    ("string_target", lambda f: f(X23, np.array(["0", "1"])), TypeError, "target"),
    ("bool_labels", lambda f: f(X23, np.array([True, False])), TypeError, "target"),
    ("label_too_large", lambda f: f(X23, [0, 3]), ValueError, "target"),
    ("label_negative", lambda f: f(X23, [-1, 0]), ValueError, "target"),
    ("label_negative_not_ignored", lambda f: f(X23, [-1, 0], ignore_index=-100), ValueError, "target"),
    ("label_huge", lambda f: f(X23, [2 ** 40, 0]), ValueError, "target"),
    ("label_fractional", lambda f: f(X23, [0.5, 1.0]), ValueError, "target"),
    ("label_nan", lambda f: f(X23, [nan, 1.0]), ValueError, "target"),
    ("label_inf", lambda f: f(X23, [inf, 1.0]), ValueError, "target"),
    ("target_shape", lambda f: f(X23, [0, 1, 2]), ValueError, "target"),
    ("probs_not_summing_to_1", lambda f: f(X23, P23 * 0.9), ValueError, "target"),
    ("probs_negative", lambda f: f(X23, np.array([[1.5, -0.5, 0.0], [1.0, 0.0, 0.0]])), ValueError, "target"),
    ("probs_nan", lambda f: f(X23, np.array([[nan, 0.5, 0.5], [1.0, 0.0, 0.0]])), ValueError, "target"),
    ("probs_inf", lambda f: f(X23, np.array([[inf, 0.5, 0.5], [1.0, 0.0, 0.0]])), ValueError, "target"),
    ("ignore_index_with_probs", lambda f: f(X23, P23, ignore_index=-100), ValueError, "ignore_index"),
    ("ignore_index_float", lambda f: f(X23, [0, 1], ignore_index=1.5), TypeError, "ignore_index"),
    ("reduction_unknown", lambda f: f(X23, [0, 1], reduction="avg"), ValueError, "reduction"),
    ("reduction_none_object", lambda f: f(X23, [0, 1], reduction=None), ValueError, "reduction"),
    ("reduction_batchmean", lambda f: f(X23, [0, 1], reduction="batchmean"), ValueError, "reduction"),
    ("reduction_case", lambda f: f(X23, [0, 1], reduction="Mean"), ValueError, "reduction"),
    ("smoothing_negative", lambda f: f(X23, [0, 1], label_smoothing=-0.1), ValueError, "label_smoothing"),
    ("smoothing_above_1", lambda f: f(X23, [0, 1], label_smoothing=1.5), ValueError, "label_smoothing"),
    ("smoothing_nan", lambda f: f(X23, [0, 1], label_smoothing=nan), ValueError, "label_smoothing"),
    ("smoothing_array", lambda f: f(X23, [0, 1], label_smoothing=[0.1, 0.2]), ValueError, "label_smoothing"),
    ("smoothing_string", lambda f: f(X23, [0, 1], label_smoothing="0.1"), TypeError, "label_smoothing"),
    ("temperature_zero", lambda f: f(X23, [0, 1], temperature=0.0), ValueError, "temperature"),
    ("temperature_negative_slice", lambda f: f(X23, [0, 1], temperature=[1.0, -1.0]),
     ValueError, "temperature"),
    ("temperature_inf", lambda f: f(X23, [0, 1], temperature=inf), ValueError, "temperature"),
    ("temperature_nan", lambda f: f(X23, [0, 1], temperature=nan), ValueError, "temperature"),
    ("temperature_shape", lambda f: f(X23, [0, 1], temperature=[1.0, 2.0, 3.0]), ValueError, "temperature"),
    ("temperature_string", lambda f: f(X23, [0, 1], temperature="1"), TypeError, "temperature"),
    ("weight_negative", lambda f: f(X23, [0, 1], sample_weight=[1.0, -1.0]), ValueError, "sample_weight"),
    ("weight_nan", lambda f: f(X23, [0, 1], sample_weight=[1.0, nan]), ValueError, "sample_weight"),
    ("weight_inf", lambda f: f(X23, [0, 1], sample_weight=[1.0, inf]), ValueError, "sample_weight"),
    ("weight_shape", lambda f: f(X23, [0, 1], sample_weight=[1.0, 2.0, 3.0]), ValueError, "sample_weight"),
    ("weight_complex", lambda f: f(X23, [0, 1], sample_weight=np.ones(2, complex)),
     TypeError, "sample_weight"),
    ("where_not_bool", lambda f: f(X23, [0, 1], where=np.ones((2, 3))), TypeError, "where"),
    ("where_shape", lambda f: f(X23, [0, 1], where=np.ones((3, 3), bool)), ValueError, "where"),
    ("axis_out_of_range", lambda f: f(X23, [0, 1], axis=2), np.exceptions.AxisError, "axis"),
    ("axis_tuple", lambda f: f(X23, [0, 1], axis=(0, 1)), TypeError, "axis"),
    ("axis_none", lambda f: f(X23, [0, 1], axis=None), TypeError, "axis"),
]


@pytest.mark.parametrize("case", ERRORS, ids=lambda c: c[0])
@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_errors(loss, case):
    _, call, exc, fragment = case
    with pytest.raises(exc, match=fragment):
        call(lambda x, t, axis=-1, **kw: loss(x, t, axis, **kw))


@pytest.mark.parametrize("alpha, exc", [(0.5, ValueError), (nan, ValueError), (inf, ValueError),
                                        ([1.5, 0.9], ValueError), ([1.5, 1.5, 1.5], ValueError),
                                        ("1.5", TypeError)])
def test_entmax_loss_bad_alpha(alpha, exc):
    with pytest.raises(exc, match="alpha"):
        cmf.entmax_loss(X23, [0, 1], alpha=alpha)


DISTILLATION_ERRORS = [
    ("teacher_shape", lambda: cmf.distillation_loss(X23, X23[:, :2]), ValueError, "teacher"),
    ("teacher_complex", lambda: cmf.distillation_loss(X23, X23.astype(complex)), TypeError, "teacher"),
    ("student_complex", lambda: cmf.distillation_loss(X23.astype(complex), X23), TypeError, "student"),
    ("student_scalar", lambda: cmf.distillation_loss(1.0, 1.0), ValueError, "student"),
    ("reduction", lambda: cmf.distillation_loss(X23, X23, reduction="elementwise"), ValueError, "reduction"),
    ("temperature", lambda: cmf.distillation_loss(X23, X23, temperature=0.0), ValueError, "temperature"),
    ("weight", lambda: cmf.distillation_loss(X23, X23, sample_weight=[-1.0, 1.0]),
     ValueError, "sample_weight"),
    ("grad_out_dtype", lambda: cmf.distillation_loss(X23, X23, grad_out=np.zeros((2, 3), np.float32)),
     TypeError, "grad_out"),
]


@pytest.mark.parametrize("case", DISTILLATION_ERRORS, ids=lambda c: c[0])
def test_distillation_errors(case):
    _, call, exc, fragment = case
    with pytest.raises(exc, match=fragment):
        call()


def test_loss_functions_are_public():
    names = {"softmax_cross_entropy", "sparsemax_loss", "entmax_loss", "distillation_loss",
             "softmax_layer_grad"}
    assert names <= set(cmf.__all__)
    assert all(callable(getattr(cmf, n)) for n in names)


def _sentinel(shape, dtype):
    a = np.empty(shape, dtype=dtype)
    a.view(np.uint8)[...] = 0xA5
    return a


def _read_only(a):
    a.flags.writeable = False
    return a


BAD_GRAD_OUT = [
    ("shape", lambda: _sentinel((3, 2), np.float64), ValueError),
    ("dtype", lambda: _sentinel((2, 3), np.float32), TypeError),
    ("read_only", lambda: _read_only(_sentinel((2, 3), np.float64)), ValueError),
]


@pytest.mark.parametrize("case", BAD_GRAD_OUT, ids=lambda c: c[0])
@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_bad_grad_out_is_untouched(loss, case):
    _, make, exc = case
    out = make()
    before = out.tobytes()
    with pytest.raises(exc, match="grad_out"):
        loss(X23, [0, 1], grad_out=out)
    assert out.tobytes() == before
    with pytest.raises(TypeError, match="grad_out"):
        loss(X23, [0, 1], grad_out=[[0.0] * 3] * 2)


@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_grad_out_untouched_when_another_argument_is_wrong(loss):
    out = _sentinel((2, 3), np.float64)
    before = out.tobytes()
    for kw in (dict(target=[0, 5]), dict(target=[0, 1], reduction="avg"),
               dict(target=[0, 1], temperature=-1.0), dict(target=P23 * 2),
               dict(target=[0, 1], sample_weight=[1, -1])):
        with pytest.raises(ValueError):
            loss(X23, kw.pop("target"), grad_out=out, **kw)
        assert out.tobytes() == before


@pytest.mark.parametrize("red", REDUCTIONS)
@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_grad_out(loss, red, dtype, rng):
    x = rng.standard_normal((6, 5)).astype(dtype)
    y = rng.integers(0, 5, size=6)
    value, grad = loss(x, y, reduction=red, return_grad=True)
    out = _sentinel(x.shape, dtype)
    res = loss(x, y, reduction=red, grad_out=out)             # implies return_grad
    assert isinstance(res, tuple) and res[1] is out
    assert_array_equal(np.asarray(res[0]), np.asarray(value))
    assert_array_equal(out, grad)
    # a strided view: written where it points, nothing else
    buf = _sentinel((6, 10), dtype)
    view = buf[:, ::2]
    res = loss(x, y, reduction=red, grad_out=view, return_grad=True)
    assert res[1] is view
    assert_array_equal(view, grad)
    assert buf[:, 1::2].tobytes() == _sentinel((6, 5), dtype).tobytes()
    # in place: the gradient written over the logits themselves
    xx = x.copy()
    res = loss(xx, y, reduction=red, grad_out=xx)
    assert res[1] is xx
    assert_array_equal(xx, grad)
    assert_array_equal(np.asarray(res[0]), np.asarray(value))
    # over a probability target (aliasing an input other than the logits)
    q = ref.softmax(rng.standard_normal(x.shape)).astype(dtype)
    v2, g2 = loss(x, q, reduction=red, return_grad=True)
    qq = q.copy()
    res = loss(x, qq, reduction=red, grad_out=qq)
    assert res[1] is qq
    assert_array_equal(qq, g2)
    assert_array_equal(np.asarray(res[0]), np.asarray(v2))


@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_float16(loss, rng):
    x = rng.standard_normal((8, 6)).astype(np.float16)
    y = rng.integers(0, 6, size=8)
    for red in REDUCTIONS:
        value, grad = loss(x, y, reduction=red, return_grad=True)
        assert np.asarray(value).dtype == np.float16 and grad.dtype == np.float16
        want, want_grad = loss.ref(x, y, reduction=red)
        assert_allclose(_value(value), want, rtol=3e-3, atol=2e-3)
        assert_allclose(grad.astype(np.float64), want_grad, rtol=3e-3, atol=2e-3)
        out = _sentinel(x.shape, np.float16)
        res = loss(x, y, reduction=red, grad_out=out)
        assert res[1] is out
        assert_array_equal(out, grad)


def test_distillation_float16_and_int(rng):
    s = rng.standard_normal((4, 5)).astype(np.float16)
    te = rng.standard_normal((4, 5)).astype(np.float16)
    v, g = cmf.distillation_loss(s, te, temperature=2.0, return_grad=True)
    assert np.asarray(v).dtype == np.float16 and g.dtype == np.float16
    want, want_g = ref.distillation_loss(s, te, temperature=2.0)
    assert_allclose(float(v), want, rtol=3e-3, atol=2e-3)
    assert_allclose(g.astype(np.float64), want_g, rtol=3e-3, atol=2e-3)
    v, g = cmf.distillation_loss(np.arange(10).reshape(2, 5), np.ones((2, 5), dtype=np.int32),
                                 return_grad=True)
    assert np.asarray(v).dtype == np.float64 and g.dtype == np.float64


@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_integer_and_bool_logits_are_float64(loss):
    for x in (np.array([[3, 1, 0], [0, 2, 2]], dtype=np.int32), np.array([[3, 1, 0], [0, 2, 2]], np.uint8),
              [[3, 1, 0], [0, 2, 2]], np.array([[True, False, False], [False, True, True]])):
        value, grad = loss(x, [0, 1], return_grad=True)
        assert np.asarray(value).dtype == np.float64 and grad.dtype == np.float64
        want, want_grad = loss.ref(np.asarray(x, dtype=np.float64), [0, 1])
        assert_allclose(float(value), want, rtol=1e-12, atol=1e-15)
        assert_allclose(grad, want_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_label_dtypes_and_forms(loss, rng):
    """Any integer dtype, integral floats, lists and labels broadcast over the slices."""
    x = rng.standard_normal((4, 6))
    y = np.array([5, 0, 3, 3])
    base = loss(x, y, reduction="none")
    for yy in (y.astype(np.uint8), y.astype(np.int16), y.astype(np.uint64), y.astype(np.float32),
               y.astype(float), y.tolist()):
        assert_array_equal(loss(x, yy, reduction="none"), base)
    # a single label broadcast to every slice
    assert_array_equal(loss(x, 3, reduction="none"), loss(x, np.full(4, 3), reduction="none"))
    # big-endian logits and targets
    q = ref.softmax(rng.standard_normal((4, 6)))
    assert_array_equal(loss(x.astype(">f8"), q.astype(">f8"), reduction="none"), loss(x, q, reduction="none"))


@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_sample_weight_and_temperature_forms(loss, rng):
    """Per-slice parameters as a scalar, the slices' shape, the keepdims shape, or
    anything broadcasting to the slices."""
    x = rng.standard_normal((3, 5, 4))
    y = rng.integers(0, 5, size=(3, 4))
    w = rng.uniform(0.5, 2.0, size=(3, 4))
    base = loss(x, y, 1, sample_weight=w, reduction="sum")
    assert_array_equal(loss(x, y, 1, sample_weight=w[:, None, :], reduction="sum"), base)
    # a scalar weight: the mean does not change, the sum scales
    assert_allclose(float(loss(x, y, 1, sample_weight=2.5)), float(loss(x, y, 1)), rtol=1e-14)
    assert_allclose(float(loss(x, y, 1, sample_weight=2.5, reduction="sum")),
                    2.5 * float(loss(x, y, 1, reduction="sum")), rtol=1e-14)
    # broadcasting (4,) over (3, 4)
    w4 = rng.uniform(0.5, 2.0, size=4)
    assert_array_equal(loss(x, y, 1, sample_weight=w4, reduction="none"),
                       loss(x, y, 1, sample_weight=np.broadcast_to(w4, (3, 4)), reduction="none"))
    t = rng.uniform(0.5, 2.0, size=(3, 4))
    assert_array_equal(loss(x, y, 1, temperature=t, reduction="none"),
                       loss(x, y, 1, temperature=t[:, None, :], reduction="none"))
    # the loss of x / t is the loss at temperature t
    assert_allclose(_value(loss(x, y, 1, temperature=t, reduction="none")),
                    _value(loss(x / t[:, None, :], y, 1, reduction="none")), rtol=1e-12, atol=1e-14)


# ======================================================================================
# 7. Layouts
# ======================================================================================

LAYOUTS = {
    "fortran": (lambda a: np.asfortranarray(a), -1),
    "fortran_axis0": (lambda a: np.asfortranarray(a), 0),
    "c_axis0": (lambda a: a, 0),
    "negative_strides": (lambda a: a[::-1, ::-1], -1),
    "negative_strides_axis0": (lambda a: a[::-1, ::-1], 0),
    "strided": (lambda a: a[::2, ::3], -1),
    "strided_axis0": (lambda a: a[::2, ::3], 0),
    "transposed_3d": (lambda a: a.reshape(6, 4, 30)[:, :, ::2].transpose(2, 0, 1), 1),
    "unaligned": (lambda a: _unaligned(a), -1),
}


def _unaligned(a):
    buf = np.zeros(a.nbytes + 1, dtype=np.uint8)
    buf[1:] = np.ascontiguousarray(a).view(np.uint8).ravel()
    u = buf[1:].view(a.dtype).reshape(a.shape)
    assert not u.flags.aligned
    return u


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("kind", ["labels", "probs"])
@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_layouts(loss, kind, layout, dtype, rng):
    make, axis = LAYOUTS[layout]
    base = (3 * rng.standard_normal((24, 30))).astype(dtype)
    x = make(base)
    xc = np.ascontiguousarray(x)
    S = ref.Slices(x.shape, axis)
    labels = rng.integers(0, x.shape[axis], size=S.red)
    if kind == "probs":
        g = rng.gamma(0.5, size=x.shape) + 1e-3
        target = make(np.zeros(base.shape, dtype)) if layout != "transposed_3d" else np.zeros(x.shape, dtype)
        target = np.asfortranarray(target) if layout.startswith("fortran") else target
        target[...] = g / g.sum(axis, keepdims=True)
    else:
        target = labels
    w = rng.random(x.shape) < 0.8
    _put_labels(w, labels, axis, True)
    kw = dict(temperature=0.8, where=w, label_smoothing=0.1, sample_weight=rng.uniform(0, 1, S.red))
    for red in REDUCTIONS:
        value, grad = loss(x, target, axis, reduction=red, return_grad=True, **kw)
        cv, cg = loss(xc, np.ascontiguousarray(target), axis, reduction=red, return_grad=True, **kw)
        want, want_grad = loss.ref(x, target, axis, reduction=red, **kw)
        zmax = 2 * float(np.abs(base).max()) / 0.8
        assert_loss_close(value, want, dtype, zmax, x.size if red == "sum" else 1.0)
        assert_grad_close(grad, want_grad, dtype, zmax)
        assert_loss_close(value, _value(cv), dtype, zmax, x.size if red == "sum" else 1.0)
        assert_grad_close(grad, cg, dtype, zmax)


@pytest.mark.parametrize("shape, axis", [((0, 5), -1), ((5, 0), 0), ((3, 0, 4), -1), ((0, 3, 4), 1)])
@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_empty_batch(loss, shape, axis, dtype):
    x = np.zeros(shape, dtype=dtype)
    S = ref.Slices(shape, axis)
    y = np.zeros(S.red, dtype=np.int64)
    for red in REDUCTIONS:
        value, grad = loss(x, y, axis, reduction=red, return_grad=True)
        assert grad.shape == shape and grad.dtype == dtype
        if red == "none":
            assert np.asarray(value).shape == S.red and np.asarray(value).dtype == dtype
        else:
            assert _value(value) == 0 and np.asarray(value).dtype == dtype
    value, grad = cmf.distillation_loss(x, x, axis, return_grad=True)
    assert _value(value) == 0 and grad.shape == shape


@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_single_class(loss, dtype, rng):
    """n = 1: the prediction is 1 whatever the logit: loss 0, gradient 0, also smoothed."""
    x = (10 * rng.standard_normal((4, 1))).astype(dtype)
    for target in (np.zeros(4, dtype=int), np.ones((4, 1), dtype=dtype)):
        for kw in ({}, dict(label_smoothing=0.5, temperature=0.1)):
            value, grad = loss(x, target, reduction="none", return_grad=True, **kw)
            assert np.all(_value(value) == 0) and np.all(grad == 0)


@pytest.mark.parametrize("loss", MAIN, ids=repr)
def test_one_dimensional_input(loss, rng):
    """A single slice: the label is a scalar; "none" gives a 0-d result."""
    x = rng.standard_normal(7)
    value, grad = loss(x, 4, reduction="none", return_grad=True)
    assert np.asarray(value).shape == () and grad.shape == (7,)
    want, want_grad = loss.ref(x, 4, reduction="none")
    assert_allclose(_value(value), want, rtol=1e-12)
    assert_allclose(grad, want_grad, rtol=1e-12, atol=1e-15)
    assert_allclose(float(loss(x, 4)), float(want), rtol=1e-12)


# ======================================================================================
# 8. Threads
# ======================================================================================

N_THREADS = 8


def test_threads_bitwise_equal_to_serial(dtype, rng):
    x = (3 * rng.standard_normal((64, 257))).astype(dtype)
    x[3, 5], x[4, :7], x[6, 9] = nan, -inf, inf
    y = rng.integers(0, 257, size=64)
    q = ref.softmax(rng.standard_normal(x.shape)).astype(dtype)
    w = rng.random(x.shape) < 0.8
    w[np.arange(64), y] = True
    t = rng.uniform(0.5, 2.0, size=64)
    sw = rng.uniform(0.0, 1.0, size=64)
    for a in (x, y, q, w, t, sw):
        a.flags.writeable = False
    jobs = {
        "ce": lambda: cmf.softmax_cross_entropy(x, y, return_grad=True, temperature=t, where=w,
                                                label_smoothing=0.1, sample_weight=sw),
        "ce_none": lambda: cmf.softmax_cross_entropy(x, y, reduction="none", return_grad=True),
        "ce_probs_axis0": lambda: cmf.softmax_cross_entropy(x.T, q.T, 0, return_grad=True),
        "sparsemax": lambda: cmf.sparsemax_loss(x, y, return_grad=True, temperature=t),
        "entmax": lambda: cmf.entmax_loss(x, q, alpha=1.3, return_grad=True, where=w),
        "distillation": lambda: cmf.distillation_loss(x, q, temperature=t, return_grad=True),
    }
    serial = {k: f() for k, f in jobs.items()}
    tasks = [k for k in jobs for _ in range(3 * N_THREADS)]
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        results = list(pool.map(lambda k: (k, jobs[k]()), tasks))
    assert len(results) == len(tasks)
    for k, (v, g) in results:
        assert np.array_equal(np.asarray(v), np.asarray(serial[k][0]), equal_nan=True), k
        assert g.dtype == serial[k][1].dtype
        assert np.array_equal(g, serial[k][1], equal_nan=True), k


# ======================================================================================
# 9. softmax_layer_grad
# ======================================================================================

LAYER_OPTIONS = {
    "plain": {},
    "temperature": dict(temperature=0.6),
    "smoothing_sum": dict(label_smoothing=0.2, reduction="sum"),
    "weights_ignore": dict(sample_weight="w", ignore_index=-1),
    "none": dict(reduction="none"),
}


def _layer_problem(rng, cfg, dtype=np.float64):
    n, f, c = 11, 4, 5
    X = rng.standard_normal((n, f)).astype(dtype)
    W = rng.standard_normal((f, c)).astype(dtype)
    b = rng.standard_normal(c).astype(dtype)
    y = rng.integers(0, c, size=n)
    kw = dict(LAYER_OPTIONS[cfg])
    if kw.get("sample_weight") == "w":
        kw["sample_weight"] = rng.uniform(0, 2, size=n)
    if "ignore_index" in kw:
        y[rng.random(n) < 0.3] = -1
    return X, W, b, y, kw


@pytest.mark.parametrize("cfg", LAYER_OPTIONS)
def test_softmax_layer_grad_against_oracle(cfg, dtype, rng):
    X, W, b, y, kw = _layer_problem(rng, cfg, dtype)
    loss, gW, gb = cmf.softmax_layer_grad(X, W, b, y, **kw)
    want, wW, wb = ref.softmax_layer_grad(X, W, b, y, **kw)
    assert gW.shape == W.shape and gb.shape == b.shape
    assert gW.dtype == dtype and gb.dtype == dtype and np.asarray(loss).dtype == dtype
    assert_loss_close(loss, want, dtype, 20.0, 30.0)
    assert_grad_close(gW, wW, dtype, 20.0 * X.shape[0])
    assert_grad_close(gb, wb, dtype, 20.0 * X.shape[0])


@pytest.mark.parametrize("cfg", [c for c in LAYER_OPTIONS if c != "none"])
def test_softmax_layer_grad_finite_differences(cfg, rng):
    X, W, b, y, kw = _layer_problem(rng, cfg)
    _, gW, gb = cmf.softmax_layer_grad(X, W, b, y, **kw)

    def fW(Wp):
        return float(cmf.softmax_layer_grad(X, Wp, b, y, **kw)[0])

    def fb(bp):
        return float(cmf.softmax_layer_grad(X, W, bp, y, **kw)[0])

    assert_allclose(gW, _fd_gradient(fW, W), **FD_TOL)
    assert_allclose(gb, _fd_gradient(fb, b), **FD_TOL)


def test_softmax_layer_grad_matches_the_cross_entropy_chain_rule(rng):
    """(loss, X^T G, sum G) with (loss, G) from softmax_cross_entropy of X W + b."""
    X, W, b, y, kw = _layer_problem(rng, "plain")
    loss, gW, gb = cmf.softmax_layer_grad(X, W, b, y)
    v, G = cmf.softmax_cross_entropy(X @ W + b, y, return_grad=True)
    assert_allclose(float(loss), float(v), rtol=1e-14)
    assert_allclose(gW, X.T @ G, rtol=1e-12, atol=1e-15)
    assert_allclose(gb, G.sum(0), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("args, exc", [
    ((np.ones(3), np.ones((3, 2)), np.ones(2), [0]), ValueError),
    ((np.ones((4, 3)), np.ones((2, 2)), np.ones(2), [0] * 4), ValueError),
    ((np.ones((4, 3)), np.ones((3, 2)), np.ones(3), [0] * 4), ValueError),
    ((np.ones((4, 3)), np.ones((3, 2)), np.ones((1, 2)), [0] * 4), ValueError),
    ((np.ones((4, 3)), np.ones((3, 2)), np.ones(2), [0, 1, 2, 0]), ValueError),   # label 2 of 2 classes
    ((np.ones((4, 3), complex), np.ones((3, 2)), np.ones(2), [0] * 4), TypeError),
])
def test_softmax_layer_grad_errors(args, exc):
    with pytest.raises(exc):
        cmf.softmax_layer_grad(*args)


def test_softmax_layer_grad_mixed_dtypes(rng):
    X, W, b, y, _ = _layer_problem(rng, "plain")
    loss, gW, gb = cmf.softmax_layer_grad(X.astype(np.float32), W, b.astype(np.float32), y)
    assert gW.dtype == np.float64 and np.asarray(loss).dtype == np.float64
    want, wW, wb = ref.softmax_layer_grad(X.astype(np.float32), W, b.astype(np.float32), y)
    assert_allclose(gW, wW, rtol=1e-10, atol=1e-12)


def test_float32_loss_beyond_its_range_is_inf_without_a_warning():
    import warnings
    x = np.array([[3e38, -3e38]], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = cmf.softmax_cross_entropy(x, [1])
    assert loss.dtype == np.float32 and loss == np.inf
