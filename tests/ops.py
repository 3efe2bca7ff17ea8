"""The registry of operators under test.

Every generic test is parametrised over ``OPS`` (or a filtered part of it).  Adding an
operator is a one-entry change: append a ``normalizer(...)``, ``reduction(...)`` or
``elementwise(...)`` line to ``OPS`` with its reference implementations; the public
functions ``<name>``, ``<name>_vjp``, ``<name>_jvp`` and ``<name>_jacobian`` are looked
up in ``cmaxfam`` by name.

Uniform signatures of the wrappers stored in an :class:`OpSpec`:

* ``forward(x, axis=-1, *, temperature=1.0, where=None, out=None)``
* ``reference(x, axis=-1, *, temperature=1.0, where=None)`` -> float64 array
* ``vjp(x, y, g, axis=-1, *, temperature=1.0, where=None, out=None)`` with ``y`` the
  forward output (the reductions also use ``x``; the others ignore it)
* ``jvp(x, y, dx, axis=-1, *, temperature=1.0, where=None, out=None)``
* ``ref_vjp(x, g, axis=-1, *, temperature=1.0, where=None)`` (from the input ``x``)
* ``ref_jvp(x, dx, axis=-1, *, temperature=1.0, where=None)``
* ``jacobian(y, axis=-1, *, temperature=1.0, where=None)``, ``ref_jacobian(x, ...)``

``axis`` and ``where`` are ignored by elementwise operators.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pytest
from numpy.testing import assert_allclose

import cmaxfam as cmf
import reference as ref

NORMALIZER, REDUCTION, ELEMENTWISE = "normalizer", "reduction", "elementwise"


@dataclass(frozen=True)
class OpSpec:
    name: str
    kind: str
    forward: Callable
    reference: Callable
    vjp: Optional[Callable] = None
    jvp: Optional[Callable] = None
    ref_vjp: Optional[Callable] = None
    ref_jvp: Optional[Callable] = None
    jacobian: Optional[Callable] = None
    ref_jacobian: Optional[Callable] = None
    #: accepts ``where=``
    has_where: bool = True
    #: accepts a tuple of axes or None in the forward
    multi_axis: bool = False
    #: accepts a tuple of axes or None in its vjp/jvp
    multi_axis_d: bool = False
    #: ``out`` may be the input itself
    inplace: bool = True
    #: the outputs are probabilities: a reference value of exactly 0 must be exactly 0
    exact_zeros: bool = False
    #: the outputs are logarithms (masked / impossible entries are -inf, not 0)
    log_output: bool = False
    #: accepts ``temperature=``
    has_temperature: bool = True
    #: the public function (several registry entries can share one, e.g. entmax per alpha)
    func: str = ""
    #: "real": any real input; "prob": the input is a probability vector (entropies)
    domain: str = "real"
    #: ``kinks(x, axis, temperature=, where=)`` -> the distance of x to the nearest point
    #: where the operator is not differentiable (sparse normalisers: a change of support),
    #: in the units of ``(alpha - 1) z - tau``; None for smooth operators
    kinks: Optional[Callable] = None
    #: step of the finite differences (piecewise smooth operators: small, see SPARSE_H)
    fd_h: float = 1e-3
    #: the name of the VJP's cotangent parameter (in its error messages)
    cotangent: str = "g"
    #: a slice's result depends on that slice only, so f(x)[rows] == f(x[rows]) (False for
    #: gumbel_softmax with a fixed seed: a slice's noise depends on its place in the batch)
    slice_local: bool = True
    #: the alpha of the entmax family member (sparsemax 2, entmax15 1.5, smoothed_max's
    #: gradient, the Tsallis entropy), None for the others
    alpha: Optional[float] = None

    def __repr__(self):
        return self.name

    @property
    def public(self):
        """The name of the public function."""
        return self.func or self.name

    @property
    def differentiable(self):
        return self.vjp is not None

    @property
    def has_axis(self):
        return self.kind != ELEMENTWISE

    def out_shape(self, shape, axis=-1):
        """Shape of the forward result (and of the VJP's cotangent)."""
        if self.kind != REDUCTION:
            return tuple(shape)
        return ref.Slices(shape, axis).red


def _lazy(name):
    """cmaxfam.<name>, looked up at call time (a missing function fails its tests, not the
    collection of the whole suite)."""
    def call(*args, **kw):
        return getattr(cmf, name)(*args, **kw)
    call.__name__ = name
    return call


def normalizer(name, reference, ref_vjp=None, ref_jvp=None, ref_jacobian=None, *, func=None,
               args=(), fixed=None, **kw):
    """A slice-wise map x -> p of the same shape (softmax-like).  ``args`` are extra
    positional parameters between the array(s) and ``axis`` (entmax's alpha), passed to
    the public functions; the references take them the same way.  ``fixed``: keyword
    arguments always given to the forward (gumbel_softmax's seed)."""
    func = func or name
    fwd = _lazy(func)
    fixed = fixed or {}

    def forward(x, axis=-1, *, temperature=1.0, where=None, out=None, **extra):
        return fwd(x, *args, axis, temperature=temperature, where=where, out=out, **fixed, **extra)

    def reference_(x, axis=-1, *, temperature=1.0, where=None):
        return reference(x, *args, axis, temperature, where)

    spec = dict(name=name, kind=NORMALIZER, forward=forward, reference=reference_, func=func, **kw)
    if ref_vjp is not None:
        vjp_, jvp_ = _lazy(func + "_vjp"), _lazy(func + "_jvp")
        jac_ = _lazy(func + "_jacobian")

        def vjp(x, y, g, axis=-1, *, temperature=1.0, where=None, out=None, **extra):
            return vjp_(y, g, *args, axis, temperature=temperature, where=where, out=out, **extra)

        def jvp(x, y, dx, axis=-1, *, temperature=1.0, where=None, out=None, **extra):
            return jvp_(y, dx, *args, axis, temperature=temperature, where=where, out=out, **extra)

        def jacobian(y, axis=-1, *, temperature=1.0, where=None):
            return jac_(y, *args, axis, temperature=temperature, where=where)

        spec.update(
            vjp=vjp, jvp=jvp, jacobian=jacobian,
            ref_vjp=lambda x, g, axis=-1, *, temperature=1.0, where=None: ref_vjp(
                x, g, *args, axis, temperature, where),
            ref_jvp=lambda x, d, axis=-1, *, temperature=1.0, where=None: ref_jvp(
                x, d, *args, axis, temperature, where),
            ref_jacobian=lambda x, axis=-1, *, temperature=1.0, where=None: ref_jacobian(
                x, *args, axis, temperature, where),
        )
    return OpSpec(**spec)


def reduction(name, reference, ref_vjp, ref_jvp, *, func=None, args=(), **kw):
    """A slice-wise reduction x -> value per slice; derivatives take (x, value, v)."""
    func = func or name
    fwd, vjp_, jvp_ = _lazy(func), _lazy(func + "_vjp"), _lazy(func + "_jvp")

    def forward(x, axis=-1, *, temperature=1.0, where=None, out=None, **extra):
        return fwd(x, *args, axis, temperature=temperature, where=where, out=out, **extra)

    def vjp(x, y, g, axis=-1, *, temperature=1.0, where=None, out=None, **extra):
        return vjp_(x, y, g, *args, axis, temperature=temperature, where=where, out=out, **extra)

    def jvp(x, y, dx, axis=-1, *, temperature=1.0, where=None, out=None, **extra):
        return jvp_(x, y, dx, *args, axis, temperature=temperature, where=where, out=out, **extra)

    kw.setdefault("multi_axis", True)
    kw.setdefault("multi_axis_d", True)
    return OpSpec(
        name=name, kind=REDUCTION, forward=forward, func=func,
        reference=lambda x, axis=-1, *, temperature=1.0, where=None: reference(
            x, *args, axis, temperature=temperature, where=where),
        vjp=vjp, jvp=jvp,
        ref_vjp=lambda x, g, axis=-1, *, temperature=1.0, where=None: ref_vjp(
            x, g, *args, axis, temperature=temperature, where=where),
        ref_jvp=lambda x, d, axis=-1, *, temperature=1.0, where=None: ref_jvp(
            x, d, *args, axis, temperature=temperature, where=where),
        inplace=False, **kw)


def entropy(name, reference, *, func=None, args=(), **kw):
    """An entropy of probability vectors along an axis: a reduction without temperature
    or where (and without derivatives)."""
    func = func or name
    fwd = _lazy(func)

    def forward(x, axis=-1, *, temperature=1.0, where=None, out=None, **extra):
        assert where is None and np.all(np.asarray(temperature) == 1.0)
        return fwd(x, *args, axis, out=out, **extra)

    def reference_(x, axis=-1, *, temperature=1.0, where=None):
        assert where is None
        return reference(x, *args, axis)

    return OpSpec(name=name, kind=REDUCTION, forward=forward, reference=reference_, func=func,
                  has_where=False, has_temperature=False, inplace=False, domain="prob", **kw)


def elementwise(name, reference, ref_vjp, ref_jvp, **kw):
    """An elementwise map (two-class member of the family); axis/where are ignored."""
    fwd = getattr(cmf, name)
    vjp_, jvp_ = getattr(cmf, name + "_vjp"), getattr(cmf, name + "_jvp")

    def forward(x, axis=-1, *, temperature=1.0, where=None, out=None, **extra):
        assert where is None
        return fwd(x, temperature=temperature, out=out, **extra)

    def vjp(x, y, g, axis=-1, *, temperature=1.0, where=None, out=None, **extra):
        assert where is None
        return vjp_(y, g, temperature=temperature, out=out, **extra)

    def jvp(x, y, dx, axis=-1, *, temperature=1.0, where=None, out=None, **extra):
        assert where is None
        return jvp_(y, dx, temperature=temperature, out=out, **extra)

    return OpSpec(
        name=name, kind=ELEMENTWISE, forward=forward,
        reference=lambda x, axis=-1, *, temperature=1.0, where=None: reference(x, temperature),
        vjp=vjp, jvp=jvp,
        ref_vjp=lambda x, g, axis=-1, *, temperature=1.0, where=None: ref_vjp(x, g, temperature),
        ref_jvp=lambda x, d, axis=-1, *, temperature=1.0, where=None: ref_jvp(x, d, temperature),
        has_where=False, multi_axis=True, multi_axis_d=True, **kw)


def _argmax_onehot(x, axis=-1, *, temperature=1.0, where=None, out=None, **extra):
    return cmf.argmax(x, axis, temperature=temperature, where=where, out=out, **extra)


ARGMAX = OpSpec(
    name="argmax", kind=NORMALIZER, forward=_argmax_onehot,
    reference=lambda x, axis=-1, *, temperature=1.0, where=None: ref.argmax(x, axis, temperature, where),
    inplace=False, exact_zeros=True)

OPS = [
    ARGMAX,
    normalizer("softmax", ref.softmax, ref.softmax_vjp, ref.softmax_jvp, ref.softmax_jacobian,
               multi_axis=True, exact_zeros=True),
    normalizer("log_softmax", ref.log_softmax, ref.log_softmax_vjp, ref.log_softmax_jvp,
               ref.log_softmax_jacobian, multi_axis=True, log_output=True),
    reduction("logsumexp", ref.logsumexp, ref.logsumexp_vjp, ref.logsumexp_jvp),
    reduction("softmax_mean", ref.softmax_mean, ref.softmax_mean_vjp, ref.softmax_mean_jvp),
    elementwise("sigmoid", ref.sigmoid, ref.sigmoid_vjp, ref.sigmoid_jvp),
    elementwise("log_sigmoid", ref.log_sigmoid, ref.log_sigmoid_vjp, ref.log_sigmoid_jvp,
                log_output=True),
    elementwise("softplus", ref.softplus, ref.softplus_vjp, ref.softplus_jvp),
]


# --------------------------------------------------------------------------------------
# The sparse family (issue 4): sparsemax, entmax15, entmax per alpha, smoothed_max per
# alpha, and the entropies (reductions of probability vectors)
# --------------------------------------------------------------------------------------

#: finite-difference step for the piecewise smooth operators: small enough that the
#: stencil stays on one piece when the input is KINK_MARGIN away from a change of support
#: (4th order: truncation ~h^4 negligible, rounding ~eps/h ~ 1e-11)
SPARSE_H = 1e-5
#: how far (in units of (alpha - 1) z - tau) the derivative tests keep x from a kink
KINK_MARGIN = 0.05
ENTMAX_ALPHAS = (1.25, 1.5, 3.0)
SMOOTHED_MAX_ALPHAS = (1.0, 1.5, 2.0)


def _kinks(alpha):
    def distance(x, axis=-1, *, temperature=1.0, where=None):
        return ref.entmax_kink_distance(x, alpha, axis, temperature, where)
    return distance


_SPARSE = dict(exact_zeros=True, fd_h=SPARSE_H)

OPS += [
    normalizer("sparsemax", ref.sparsemax, ref.sparsemax_vjp, ref.sparsemax_jvp,
               ref.sparsemax_jacobian, kinks=_kinks(2.0), alpha=2.0, **_SPARSE),
    normalizer("entmax15", ref.entmax15, ref.entmax15_vjp, ref.entmax15_jvp,
               ref.entmax15_jacobian, kinks=_kinks(1.5), alpha=1.5, **_SPARSE),
    *[normalizer(f"entmax_a{a:g}", ref.entmax, ref.entmax_vjp, ref.entmax_jvp, ref.entmax_jacobian,
                 func="entmax", args=(a,), kinks=_kinks(a), alpha=a, **_SPARSE)
      for a in ENTMAX_ALPHAS],
    *[reduction(f"smoothed_max_a{a:g}", ref.smoothed_max, ref.smoothed_max_vjp,
                ref.smoothed_max_jvp, func="smoothed_max", args=(a,), multi_axis=False,
                multi_axis_d=False, kinks=None if a == 1.0 else _kinks(a), alpha=a,
                fd_h=1e-3 if a == 1.0 else SPARSE_H) for a in SMOOTHED_MAX_ALPHAS],
    entropy("shannon_entropy", ref.shannon_entropy, alpha=1.0),
    entropy("gini_entropy", ref.gini_entropy, alpha=2.0),
    entropy("tsallis_entropy_a1.5", ref.tsallis_entropy, func="tsallis_entropy", args=(1.5,),
            alpha=1.5),
]


# --------------------------------------------------------------------------------------
# The random normaliser (issue 5): with a fixed seed, gumbel_softmax is the deterministic
# normaliser x -> softmax((x + g) / t) for one draw g of the noise, and its derivatives are
# softmax's at x + g, so every generic test applies.  The references evaluate the float64
# oracles at x + g, with g taken from the library (return_noise) for a C-contiguous copy of
# x (so the layout tests also check that the draws do not depend on the layout); the noise
# itself is tested in test_sampling.py.
# --------------------------------------------------------------------------------------

GUMBEL_SEED = 5


def gumbel_point(x, axis=-1):
    """x + g as gumbel_softmax(x, axis, rng=GUMBEL_SEED) computes it (in the compute
    dtype: float16 -> float32, integers -> float64), as float64."""
    a = np.asarray(x)
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    elif a.dtype.kind in "biu":
        a = a.astype(np.float64)
    a = np.ascontiguousarray(a)
    _, g = cmf.gumbel_softmax(a, axis, rng=GUMBEL_SEED, return_noise=True)
    with np.errstate(invalid="ignore"):
        return (a + g).astype(np.float64)


def _at_gumbel_point(oracle):
    """A softmax oracle evaluated at the sampled point: oracle(x + g, *rest)."""
    def call(x, *rest):
        axis = rest[-3] if len(rest) >= 3 else -1      # (..., axis, temperature, where)
        return oracle(gumbel_point(x, axis), *rest)
    return call


OPS += [
    normalizer("gumbel_softmax", _at_gumbel_point(ref.softmax), _at_gumbel_point(ref.softmax_vjp),
               _at_gumbel_point(ref.softmax_jvp), _at_gumbel_point(ref.softmax_jacobian),
               fixed=dict(rng=GUMBEL_SEED), exact_zeros=True, cotangent="v", slice_local=False),
]

BY_NAME = {op.name: op for op in OPS}


#: known library bugs: (test function, op name) -> reason; the generic tests that take
#: their parameters from ``params(..., test=<their name>)`` mark these as strict xfails
#: (they start to fail, loudly, once the bug is fixed: then delete the entry)
BUGS = {}


def bug_marks(test, name):
    reason = BUGS.get((test, name))
    return (pytest.mark.xfail(strict=True, reason=reason),) if reason else ()


def params(pred=None, ops=None, test=None):
    """``pytest.param`` objects (with the op's name as id) for the ops satisfying pred
    (with the strict xfail of a known bug of ``test`` on that op, see BUGS)."""
    return [pytest.param(op, id=op.name, marks=bug_marks(test, op.name))
            for op in (ops or OPS) if pred is None or pred(op)]


def differentiable(op):
    return op.differentiable


def with_where(op):
    return op.has_where


def with_jacobian(op):
    return op.jacobian is not None


# --------------------------------------------------------------------------------------
# Inputs and comparisons
# --------------------------------------------------------------------------------------

def random_x(rng, shape, dtype=np.float64, scale=3.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


class _ProbabilityRng:
    """A Generator whose ``standard_normal`` draws probabilities instead (uniform in
    [0, 1/3), one in ten exactly 0), so that the input makers written for real-valued
    operators (``random_x`` with its default scale of 3, the layouts of test_layout) give
    valid inputs to the entropies."""

    def __init__(self, rng):
        self._rng = rng

    def standard_normal(self, size=None):
        u = self._rng.random(size) / 3.0
        return np.where(self._rng.random(size) < 0.1, 0.0, u)

    def __getattr__(self, name):
        return getattr(self._rng, name)


def input_rng(op, rng):
    """The generator to draw op's inputs with (probabilities for the entropies)."""
    return _ProbabilityRng(rng) if op is not None and op.domain == "prob" else rng


def away_from_kinks(op, x, redraw, axis=-1, *, temperature=1.0, where=None, margin=KINK_MARGIN,
                    tries=1000):
    """``x``, or the first ``redraw()`` whose distance to op's kinks is at least ``margin``
    (for the finite-difference and low-precision derivative checks of the piecewise
    smooth operators; x itself for smooth operators)."""
    if op.kinks is None:
        return x
    for _ in range(tries):
        if op.kinks(x, axis, temperature=temperature, where=where) >= margin:
            return x
        x = redraw()
    raise AssertionError(f"{op.name}: no input {margin} away from the kinks in {tries} draws")


def random_mask(rng, shape, p=0.7, axis=-1, full_rows=True):
    """A boolean mask with at least one included entry in every slice along ``axis``
    (when ``full_rows``), so that derivatives are defined everywhere."""
    w = rng.random(shape) < p
    if full_rows and w.size and w.shape[axis]:
        idx = rng.integers(0, w.shape[axis], size=ref.Slices(shape, axis).keep)
        np.put_along_axis(w, idx, True, axis=axis)
    return w


TOL = {
    np.dtype(np.float16): dict(rtol=3e-3, atol=1e-3),
    np.dtype(np.float32): dict(rtol=1e-5, atol=1e-6),
    np.dtype(np.float64): dict(rtol=1e-12, atol=1e-12),
}


def tol(dtype, scale=1.0):
    t = TOL[np.dtype(dtype)]
    return dict(rtol=t["rtol"] * scale, atol=t["atol"] * scale)


def assert_close(actual, desired, dtype=None, *, exact_zeros=False, scale=1.0, err_msg=""):
    """``actual`` (any float dtype) against a float64 reference rounded to ``dtype``
    (default: the dtype of ``actual``): same shape, NaN and inf at the same places, and
    close elsewhere with the tolerance of ``dtype``.  With ``exact_zeros``, a reference 0
    must be exactly 0."""
    actual = np.asarray(actual)
    desired = np.asarray(desired, dtype=np.float64)
    assert actual.shape == desired.shape, (actual.shape, desired.shape, err_msg)
    dtype = actual.dtype if dtype is None else np.dtype(dtype)
    with np.errstate(over="ignore", under="ignore"):
        # the exact result rounded to dtype (values beyond its range become +-inf)
        desired = desired.astype(dtype).astype(np.float64)
    assert_allclose(actual.astype(np.float64), desired, equal_nan=True, err_msg=err_msg,
                    **tol(dtype, scale))
    if exact_zeros:
        z = desired == 0
        assert np.all(actual[z] == 0), f"expected exact zeros; {err_msg}"


def assert_entmax_close(actual, x, alpha, axis=-1, *, temperature=1.0, where=None, scale=1.0,
                        err_msg=""):
    """``actual`` (float32/64) against the float64 alpha-entmax of ``x``, with a tolerance
    that follows the conditioning of p_i = [u_i - tau]_+^e, u = (alpha - 1)(x - max)/t,
    e = 1/(alpha - 1): computing u_i - tau in the dtype of ``actual`` is off by
    delta ~ 32 eps (|u_i|, |tau| <= 1 on the support), which moves p_i by up to
    (max(u_i - tau, 0) + delta)^e - max(u_i - tau, 0)^e.  For alpha <= 2 that is below the
    usual tolerance; for alpha > 2 it is large near the support's boundary (e < 1), where
    p is not Lipschitz.  Entries with u_i - tau < -delta must be exactly 0."""
    actual = np.asarray(actual)
    dtype = actual.dtype
    x64 = np.asarray(x, dtype=np.float64)
    want = ref.entmax(x64, alpha, axis, temperature, where)
    S = ref.Slices(x64.shape, axis)
    X, A, T, W = S.rows(x64), S.param(alpha), S.param(temperature), S.mask(where)
    tau = np.asarray(ref.entmax_tau(x64, alpha, axis, temperature, where)).reshape(S.red + (1,))
    delta = 32 * float(np.finfo(dtype).eps) * scale
    with np.errstate(all="ignore"):
        Xi = np.where(W, X, -np.inf)
        m = np.max(Xi, axis=-1, keepdims=True, initial=-np.inf)
        d = (A - 1.0) * (Xi - m) / T - tau
        e = 1.0 / np.where(A > 1.0, A - 1.0, 1.0)
        dp = np.maximum(d, 0.0)
        cond = np.where(np.isfinite(d) & (A > 1.0), (dp + delta) ** e - dp ** e, 0.0)
    t = tol(dtype, scale)
    got = S.rows(actual.astype(np.float64))
    wr = S.rows(want)
    # an error of one entry moves the others too (through tau, or a renormalisation)
    bound = t["atol"] + t["rtol"] * np.abs(wr) + cond + cond.sum(-1, keepdims=True)
    bad = ~((np.abs(got - wr) <= bound) | (np.isnan(got) & np.isnan(wr)))
    assert not bad.any(), (f"{err_msg}: {bad.sum()} entries off, e.g. got {got[bad][:4]}, "
                           f"want {wr[bad][:4]}, bound {bound[bad][:4]}")
    clear = np.isfinite(d) & (d < -delta) & (A > 1.0)
    assert np.all(got[clear] == 0), f"{err_msg}: expected exact zeros outside the support"
