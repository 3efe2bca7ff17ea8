"""SPEC section 3 (special values) as one table: every operator of the registry times
every case, in float32 and float64, against the float64 oracles of ``reference.py``.

Each case is a 2-D input whose slices run along the last axis (the elementwise
operators see the same numbers elementwise).  ``H`` stands for the huge magnitude of
the dtype (1e38 for float32, 1e308 for float64) and ``M`` for its largest finite value.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

import cmaxfam as cmf
import ops
import reference as ref

inf, nan = np.inf, np.nan
T, F = True, False
H, M = "H", "M"      # placeholders, resolved per dtype


@dataclass(frozen=True)
class Case:
    name: str
    x: list
    where: list | None = None
    temperature: float | list = 1.0
    shape: tuple | None = None
    marks: dict = field(default_factory=dict)   # op name -> xfail reason (known library bugs)

    def array(self, dtype):
        if self.shape is not None:
            return np.zeros(self.shape, dtype=dtype)
        big = {H: 1e38 if dtype == np.float32 else 1e308, M: np.finfo(dtype).max}

        def val(v):
            if isinstance(v, tuple):            # (sign, placeholder) or (factor, placeholder)
                return v[0] * big[v[1]]
            return big.get(v, v) if isinstance(v, str) else v
        return np.array([[val(v) for v in row] for row in self.x], dtype=dtype)


CASES = [
    Case("finite_ties", [[0.5, -1.0, 2.0, 2.0], [3.0, 3.0, 3.0, 3.0]]),
    Case("nan", [[1.0, nan, 2.0], [0.0, 1.0, 2.0]]),
    Case("nan_first", [[nan, 1.0, 2.0]]),
    Case("all_nan", [[nan, nan, nan]]),
    Case("nan_and_infs", [[inf, nan, -inf], [-inf, nan, inf]]),
    Case("posinf", [[1.0, inf, 2.0]]),
    Case("posinf_two", [[1.0, inf, -3.0, inf]]),
    Case("posinf_all", [[inf, inf]]),
    Case("posinf_neginf", [[-inf, inf, 0.0]]),
    Case("neginf", [[1.0, -inf, 2.0]]),
    Case("neginf_all", [[-inf, -inf, -inf], [1.0, 2.0, 3.0]]),
    Case("n1", [[3.0], [-2.0], [0.0]]),
    Case("n1_neginf", [[-inf]]),
    Case("n1_posinf", [[inf]]),
    Case("n1_nan", [[nan]]),
    Case("empty_slices", [], shape=(2, 0)),
    Case("empty_batch", [], shape=(0, 3)),
    Case("huge", [[H, (-1, H), 0.0], [H, H, (-1, H)], [(-1, H), (-1, H), (-1, H)], [H, (0.5, H), 1.0]]),
    Case("dtype_max", [[M, M], [M, (-1, M)], [(-1, M), (-1, M)]]),
    Case("tiny_temperature", [[1.0, 1.0, 0.5], [-1.0, 0.25, 0.0], [2.0, 1.0, -3.0]], temperature=1e-30),
    Case("tiny_temperature_huge", [[H, (0.5, H), (-1, H)], [(-1, H), (-1, H), 0.0]], temperature=1e-30),
    Case("huge_small_temperature", [[H, (-1, H), 0.0], [(0.5, H), 1.0, (-0.5, H)]], temperature=0.125),
    Case("tiny_temperature_near_tie", [[1.0, 1.0 + 2.0 ** -20, 0.0]], temperature=1e-30),
    Case("huge_temperature", [[1.0, 2.0, 3.0], [(-1, H), 0.0, H]], temperature=1e30),
    Case("large_gap", [[0.0, -200.0, -1000.0], [0.0, -40.0, -80.0]]),
    Case("per_slice_temperature", [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], temperature=[[0.25], [4.0]]),
    Case("where_partial", [[1.0, 5.0, 2.0], [0.0, -1.0, 3.0]], where=[[T, F, T], [F, T, T]]),
    Case("where_full", [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], where=[[F, F, F], [T, F, T]]),
    Case("where_masks_nan", [[1.0, nan, 2.0]], where=[[T, F, T]]),
    Case("where_masks_posinf", [[1.0, inf, 2.0]], where=[[T, F, T]]),
    Case("where_leaves_neginf", [[-inf, 1.0, -inf]], where=[[T, F, T]]),
    Case("where_leaves_one", [[4.0, 1.0, -2.0]], where=[[F, T, F]]),
    Case("where_nan_included", [[nan, 1.0, 2.0]], where=[[T, F, T]]),
    Case("where_posinf_included", [[inf, 1.0, inf]], where=[[T, F, T]]),
    Case("where_empty_batch", [], where=np.zeros((0, 3), bool), shape=(0, 3)),
]


def _table():
    out = []
    for op in ops.OPS:
        if op.domain != "real":
            continue            # the entropies: tests of their own in test_sparse_family.py
        for case in CASES:
            if case.where is not None and not op.has_where:
                continue
            marks = ()
            if op.name in case.marks:
                marks = pytest.mark.xfail(strict=True, reason=case.marks[op.name])
            out.append(pytest.param(op, case, id=f"{op.name}-{case.name}", marks=marks))
    return out


@pytest.mark.parametrize("op, case", _table())
def test_special_values(op, case, dtype):
    x = case.array(dtype)
    x_before = x.copy()
    w = None if case.where is None else np.asarray(case.where, dtype=bool)
    t = case.temperature
    if op.kind == ops.ELEMENTWISE and np.ndim(t):
        t = np.asarray(t)          # keepdims-shaped: broadcasts elementwise too
    res = op.forward(x, -1, temperature=t, where=w)
    expected = op.reference(x, -1, temperature=t, where=w)
    res = np.asarray(res)
    assert res.dtype == dtype
    ops.assert_close(res, expected, dtype, exact_zeros=op.exact_zeros,
                     err_msg=f"{op.name} on {case.name}")
    # the input is never modified
    np.testing.assert_array_equal(x, x_before)
    if op.kind == ops.NORMALIZER and not op.log_output and res.size:
        # probabilities: in [0, 1] and summing to 1 on every slice that is not NaN or excluded
        ok = ~np.isnan(res).any(-1)
        if w is not None:
            ok &= w.any(-1)
        assert np.all((res[ok] >= 0) & (res[ok] <= 1))
        np.testing.assert_allclose(res[ok].astype(np.float64).sum(-1), 1.0, rtol=1e-5)


# --------------------------------------------------------------------------------------
# Rules specific to one operator
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("x, b, expected, sign", [
    # entries with b == 0 are ignored, even when a is inf or NaN there
    ([inf, 1.0, 2.0], [0.0, 1.0, 1.0], np.logaddexp(1.0, 2.0), 1.0),
    ([nan, 1.0, 2.0], [0.0, 1.0, 1.0], np.logaddexp(1.0, 2.0), 1.0),
    ([-inf, 0.0], [0.0, 1.0], 0.0, 1.0),
    # weights scale the terms: log(2 e^0) = log 2
    ([0.0, -inf], [2.0, 5.0], np.log(2.0), 1.0),
    # a sum of exactly zero: -inf with sign 0
    ([1.0, 1.0], [1.0, -1.0], -inf, 0.0),
    # a negative sum: log|sum| with sign -1
    ([0.0, 0.0], [1.0, -3.0], np.log(2.0), -1.0),
    # +inf entries: the sign of their weight
    ([inf, 1.0], [-1.0, 1.0], inf, -1.0),
    ([inf, 1.0], [2.0, -1.0], inf, 1.0),
    # +inf with weights cancelling: NaN
    ([inf, inf], [1.0, -1.0], nan, nan),
    # all weights zero: the empty sum
    ([1.0, 2.0], [0.0, 0.0], -inf, 0.0),
])
def test_logsumexp_weights_special(x, b, expected, sign, dtype):
    x = np.asarray(x, dtype=dtype)
    b = np.asarray(b, dtype=dtype)
    val, sgn = cmf.logsumexp(x, b=b, return_sign=True)
    np.testing.assert_allclose(float(val), expected, rtol=1e-6, atol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(float(sgn), sign)
    rv, rs = ref.logsumexp(x, b=b, return_sign=True)
    np.testing.assert_allclose(float(rv), expected, rtol=1e-12, atol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(float(rs), sign)
    # without return_sign a negative sum has no logarithm
    plain = float(cmf.logsumexp(x, b=b))
    np.testing.assert_array_equal(plain, nan if sign < 0 else float(val))


@pytest.mark.parametrize("case", [
    pytest.param(c, id=c.name) for c in CASES if c.shape is None or c.shape[-1]])
def test_argmax_indices_special(case, dtype):
    """Index mode follows numpy.argmax (first NaN wins; first maximum) and gives -1 for a
    fully excluded slice."""
    x = case.array(dtype)
    w = None if case.where is None else np.asarray(case.where, dtype=bool)
    got = cmf.argmax(x, -1, where=w, return_indices=True)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, ref.argmax_indices(x, -1, where=w))
    if w is None:
        np.testing.assert_array_equal(got, np.argmax(x, axis=-1))


@pytest.mark.parametrize("op", ops.params(lambda op: op.kind != ops.ELEMENTWISE
                                          and op.has_temperature))
def test_huge_inputs_never_overflow(op, dtype, rng):
    """Random mixtures of +-H and finite numbers: no NaN, no inf except where the
    reference has one (a reduction of +-H can be +-H, never inf)."""
    big = 1e38 if dtype == np.float32 else 1e308
    x = rng.choice([-big, big, -0.5 * big, 0.25 * big, 0.0, 1.0], size=(64, 9)).astype(dtype)
    for t in (1.0, 1e-30, 1e30):
        res = np.asarray(op.forward(x, -1, temperature=t))
        assert not np.isnan(res).any(), (op.name, t)
        ops.assert_close(res, op.reference(x, -1, temperature=t), dtype,
                         exact_zeros=op.exact_zeros)
        if not op.log_output:
            assert np.isfinite(res).all(), (op.name, t)
