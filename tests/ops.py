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

    def __repr__(self):
        return self.name

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


def normalizer(name, reference, ref_vjp=None, ref_jvp=None, ref_jacobian=None, **kw):
    """A slice-wise map x -> p of the same shape (softmax-like)."""
    fwd = getattr(cmf, name)

    def forward(x, axis=-1, *, temperature=1.0, where=None, out=None):
        return fwd(x, axis, temperature=temperature, where=where, out=out)

    def reference_(x, axis=-1, *, temperature=1.0, where=None):
        return reference(x, axis, temperature, where)

    spec = dict(name=name, kind=NORMALIZER, forward=forward, reference=reference_, **kw)
    if ref_vjp is not None:
        vjp_, jvp_ = getattr(cmf, name + "_vjp"), getattr(cmf, name + "_jvp")
        jac_ = getattr(cmf, name + "_jacobian")

        def vjp(x, y, g, axis=-1, *, temperature=1.0, where=None, out=None):
            return vjp_(y, g, axis, temperature=temperature, where=where, out=out)

        def jvp(x, y, dx, axis=-1, *, temperature=1.0, where=None, out=None):
            return jvp_(y, dx, axis, temperature=temperature, where=where, out=out)

        def jacobian(y, axis=-1, *, temperature=1.0, where=None):
            return jac_(y, axis, temperature=temperature, where=where)

        spec.update(
            vjp=vjp, jvp=jvp, jacobian=jacobian,
            ref_vjp=lambda x, g, axis=-1, *, temperature=1.0, where=None: ref_vjp(x, g, axis, temperature, where),
            ref_jvp=lambda x, d, axis=-1, *, temperature=1.0, where=None: ref_jvp(x, d, axis, temperature, where),
            ref_jacobian=lambda x, axis=-1, *, temperature=1.0, where=None: ref_jacobian(x, axis, temperature, where),
        )
    return OpSpec(**spec)


def reduction(name, reference, ref_vjp, ref_jvp, **kw):
    """A slice-wise reduction x -> value per slice; derivatives take (x, value, v)."""
    fwd = getattr(cmf, name)
    vjp_, jvp_ = getattr(cmf, name + "_vjp"), getattr(cmf, name + "_jvp")

    def forward(x, axis=-1, *, temperature=1.0, where=None, out=None):
        return fwd(x, axis, temperature=temperature, where=where, out=out)

    def vjp(x, y, g, axis=-1, *, temperature=1.0, where=None, out=None):
        return vjp_(x, y, g, axis, temperature=temperature, where=where, out=out)

    def jvp(x, y, dx, axis=-1, *, temperature=1.0, where=None, out=None):
        return jvp_(x, y, dx, axis, temperature=temperature, where=where, out=out)

    return OpSpec(
        name=name, kind=REDUCTION, forward=forward,
        reference=lambda x, axis=-1, *, temperature=1.0, where=None: reference(
            x, axis, temperature=temperature, where=where),
        vjp=vjp, jvp=jvp,
        ref_vjp=lambda x, g, axis=-1, *, temperature=1.0, where=None: ref_vjp(
            x, g, axis, temperature=temperature, where=where),
        ref_jvp=lambda x, d, axis=-1, *, temperature=1.0, where=None: ref_jvp(
            x, d, axis, temperature=temperature, where=where),
        multi_axis=True, multi_axis_d=True, inplace=False, **kw)


def elementwise(name, reference, ref_vjp, ref_jvp, **kw):
    """An elementwise map (two-class member of the family); axis/where are ignored."""
    fwd = getattr(cmf, name)
    vjp_, jvp_ = getattr(cmf, name + "_vjp"), getattr(cmf, name + "_jvp")

    def forward(x, axis=-1, *, temperature=1.0, where=None, out=None):
        assert where is None
        return fwd(x, temperature=temperature, out=out)

    def vjp(x, y, g, axis=-1, *, temperature=1.0, where=None, out=None):
        assert where is None
        return vjp_(y, g, temperature=temperature, out=out)

    def jvp(x, y, dx, axis=-1, *, temperature=1.0, where=None, out=None):
        assert where is None
        return jvp_(y, dx, temperature=temperature, out=out)

    return OpSpec(
        name=name, kind=ELEMENTWISE, forward=forward,
        reference=lambda x, axis=-1, *, temperature=1.0, where=None: reference(x, temperature),
        vjp=vjp, jvp=jvp,
        ref_vjp=lambda x, g, axis=-1, *, temperature=1.0, where=None: ref_vjp(x, g, temperature),
        ref_jvp=lambda x, d, axis=-1, *, temperature=1.0, where=None: ref_jvp(x, d, temperature),
        has_where=False, multi_axis=True, multi_axis_d=True, **kw)


def _argmax_onehot(x, axis=-1, *, temperature=1.0, where=None, out=None):
    return cmf.argmax(x, axis, temperature=temperature, where=where, out=out)


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

BY_NAME = {op.name: op for op in OPS}


def params(pred=None, ops=None):
    """``pytest.param`` objects (with the op's name as id) for the ops satisfying pred."""
    return [pytest.param(op, id=op.name) for op in (ops or OPS) if pred is None or pred(op)]


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
