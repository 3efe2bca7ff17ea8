"""Cross-check against the ``entmax`` package (deep-spin; PyTorch) on well-behaved float64
rows: its sort-based ``sparsemax`` and ``entmax15`` and ``entmax_bisect`` (100 halvings,
enough for float64), forward and backward (torch autograd against our VJP).

Skipped when ``torch`` or ``entmax`` is not installed.  Only inputs the package handles
correctly are used (moderate magnitudes, no -inf rows, alpha > 1): its failure modes are
tested against the references in test_sparse_family.py.
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
entmax_pkg = pytest.importorskip("entmax")

import cmaxfam as cmf  # noqa: E402
import ops  # noqa: E402
import reference as ref  # noqa: E402

TOL = dict(rtol=1e-10, atol=1e-12)


def _theirs(name, X, alpha, dim):
    if name == "sparsemax":
        return entmax_pkg.sparsemax(X, dim=dim)
    if name == "entmax15":
        return entmax_pkg.entmax15(X, dim=dim)
    return entmax_pkg.entmax_bisect(X, alpha=alpha, dim=dim, n_iter=100)


def _ours(name, x, alpha, axis):
    if name == "sparsemax":
        return cmf.sparsemax(x, axis), lambda y, g: cmf.sparsemax_vjp(y, g, axis)
    if name == "entmax15":
        return cmf.entmax15(x, axis), lambda y, g: cmf.entmax15_vjp(y, g, axis)
    return cmf.entmax(x, alpha, axis), lambda y, g: cmf.entmax_vjp(y, g, alpha, axis)


CASES = [("sparsemax", 2.0), ("entmax15", 1.5)] + [
    (f"bisect_a{a:g}", a) for a in (1.25, 1.5, 2.0, 2.5, 4.0)]


def _rows(rng, shape, sigma, alpha, axis):
    """Well-behaved rows: moderate magnitudes, no entry within 1e-6 of a change of support
    (where the two implementations may legitimately disagree about a zero)."""
    draw = lambda: sigma * rng.standard_normal(shape)  # noqa: E731
    x = draw()
    while ref.entmax_kink_distance(x, alpha, axis) < 1e-6:
        x = draw()
    return x


@pytest.mark.parametrize("name, alpha", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("sigma", [0.1, 1.0, 5.0])
def test_forward_and_backward_against_entmax_package(name, alpha, sigma, rng):
    kind = name if name in ("sparsemax", "entmax15") else "bisect"
    for shape, axis in (((16, 10), -1), ((3, 40, 4), 1), ((7, 2), 0)):
        x = _rows(rng, shape, sigma, alpha, axis)
        g = rng.standard_normal(shape)
        X = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        Y = _theirs(kind, X, alpha, axis)
        Y.backward(torch.tensor(g, dtype=torch.float64))
        y, vjp = _ours(kind, x, alpha, axis)
        np.testing.assert_allclose(y, Y.detach().numpy(), **TOL)
        # exact zeros where the package has them, and only there
        np.testing.assert_array_equal(y == 0, Y.detach().numpy() == 0)
        np.testing.assert_allclose(vjp(y, g), X.grad.numpy(), **TOL)


def test_per_row_alpha_against_entmax_bisect(rng):
    """entmax_bisect broadcasts a per-row alpha over the dim axis; so does our alpha array."""
    x = rng.standard_normal((6, 12))
    alpha = np.array([1.1, 1.3, 1.5, 2.0, 2.5, 3.0])
    X = torch.tensor(x, requires_grad=True)
    Y = entmax_pkg.entmax_bisect(X, alpha=torch.tensor(alpha[:, None]), dim=-1, n_iter=100)
    g = rng.standard_normal(x.shape)
    Y.backward(torch.tensor(g))
    y = cmf.entmax(x, alpha)
    np.testing.assert_allclose(y, Y.detach().numpy(), **TOL)
    np.testing.assert_allclose(cmf.entmax_vjp(y, g, alpha), X.grad.numpy(), **TOL)


def test_float32_against_entmax_package(rng):
    x = rng.standard_normal((32, 50)).astype(np.float32)
    X = torch.tensor(x)
    for ours, theirs in ((cmf.sparsemax(x), entmax_pkg.sparsemax(X, dim=-1)),
                         (cmf.entmax15(x), entmax_pkg.entmax15(X, dim=-1))):
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, theirs.numpy(), **ops.tol(np.float32, 10))
