"""``n_threads``: large calls split whole slices across a thread pool.

The split never cuts a reduction, and cuts at multiples of SPLIT_ALIGN slices, so every
result must be *bitwise* the result of ``n_threads=1``, for every operator, layout and
dtype; calls under MIN_PARALLEL_BYTES never start threads; bad values raise before
anything is written; the pool survives concurrent callers and ``fork``.
"""
from __future__ import annotations

import inspect
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import cmaxfam as cmf
import ops
from cmaxfam import _plumbing as P
from cmaxfam import _pool

THREADS = (2, 3, 4)

#: public functions computed by NumPy, not by a compiled kernel: they take no n_threads
NUMPY_ONLY = {"show_config", "softmax_jacobian", "log_softmax_jacobian", "sparsemax_jacobian",
              "entmax15_jacobian", "entmax_jacobian", "gumbel_softmax_jacobian",
              "shannon_entropy", "gini_entropy", "tsallis_entropy"}


def _layouts(rng, dtype):
    """(name, x, axis): each big enough (> MIN_PARALLEL_BYTES) to be split, in every
    way the plumbing splits: rows, lanes of a non-last axis, short rows batched as lanes,
    strided / reversed / unmergeable views, a misaligned start."""
    big = lambda shape: ops.random_x(rng, shape, dtype)  # noqa: E731
    yield "rows", big((1100, 301)), -1
    yield "axis0", big((301, 1100)), 0
    yield "short_rows", big((30011, 9)), -1
    yield "reversed_strided", big((1400, 602))[::-1, ::2], -1
    yield "fortran", np.asfortranarray(big((900, 333))), -1
    yield "unmergeable_3d", big((9, 300, 400))[:, ::2, :], 2
    yield "middle_axis", big((700, 17, 40)), 1
    yield "misaligned", big((1100 * 301 + 1,))[1:].reshape(1100, 301), -1
    yield "few_long_rows", big((7, 40001)), -1          # cut between rows, not at 256
    yield "few_long_lanes", big((40001, 7)), 0


def _ops():
    return [op for op in ops.OPS if op.func not in NUMPY_ONLY]


def _same(a, b, what):
    if isinstance(a, tuple):
        for u, v in zip(a, b):
            _same(u, v, what)
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, what
    assert a.tobytes() == b.tobytes(), f"{what}: not bitwise equal"


DEFAULT_SPLIT_SIZES = (P.MIN_PARALLEL_BYTES, P.MIN_TASK_BYTES)


@pytest.fixture(autouse=True)
def small_split_sizes(monkeypatch):
    """Split from 1 MiB (tasks of 512 KiB) in these tests, so that arrays of ~1 MB exercise
    every way of splitting without making the suite slow; the defaults are larger."""
    monkeypatch.setattr(P, "MIN_PARALLEL_BYTES", 1 << 20)
    monkeypatch.setattr(P, "MIN_TASK_BYTES", 1 << 19)


def test_default_split_sizes_pay_for_the_hand_off():
    # read at import, before the autouse fixture patches them
    assert DEFAULT_SPLIT_SIZES[0] >= 4 << 20 and DEFAULT_SPLIT_SIZES[1] >= 2 << 20


@pytest.fixture
def count_tasks(monkeypatch):
    """Record the number of tasks of every parallel run."""
    seen = []
    real = _pool.run_tasks

    def spy(tasks):
        seen.append(len(tasks))
        return real(tasks)

    monkeypatch.setattr(_pool, "run_tasks", spy)
    return seen


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", _ops(), ids=lambda op: op.name)
def test_bitwise_across_n_threads(op, dtype, count_tasks):
    rng = np.random.default_rng(42)
    if op.domain == "prob":
        rng = ops._ProbabilityRng(rng)
    for name, x, axis in _layouts(rng, dtype):
        if op.kind == ops.ELEMENTWISE:
            axis = -1
        kw = {}
        if op.has_temperature and op.kind != ops.ELEMENTWISE:
            shape = list(x.shape)
            shape[axis] = 1
            kw["temperature"] = (0.5 + np.random.default_rng(1).random(shape))
        if op.has_where:
            kw["where"] = ops.random_mask(np.random.default_rng(2), x.shape, 0.8, axis)
        y1 = op.forward(x, axis, **kw)
        del count_tasks[:]
        for k in THREADS:
            _same(op.forward(x, axis, **kw, n_threads=k), y1, f"{name} forward n_threads={k}")
        assert count_tasks and max(count_tasks) >= 2, f"{name}: the call was not split"
        if op.vjp is None:
            continue
        g = np.random.default_rng(3).standard_normal(np.shape(y1)).astype(dtype)
        d = np.random.default_rng(4).standard_normal(x.shape).astype(dtype)
        v1 = op.vjp(x, y1, g, axis, **kw)
        j1 = op.jvp(x, y1, d, axis, **kw)
        for k in THREADS:
            _same(op.vjp(x, y1, g, axis, **kw, n_threads=k), v1, f"{name} vjp n_threads={k}")
            _same(op.jvp(x, y1, d, axis, **kw, n_threads=k), j1, f"{name} jvp n_threads={k}")


LOSSES = [
    ("softmax_cross_entropy", {}),
    ("sparsemax_loss", {}),
    ("entmax_loss", {"alpha": 1.5}),
    ("entmax_loss", {"alpha": 1.3}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,extra", LOSSES, ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("layout", ["rows", "short_rows", "axis0", "few_long_rows",
                                    "few_long_lanes"])
def test_losses_bitwise_across_n_threads(name, extra, dtype, layout):
    rng = np.random.default_rng(5)
    shape, axis = {"rows": ((1100, 301), -1), "short_rows": ((30011, 9), -1),
                   "axis0": ((301, 1100), 0), "few_long_rows": ((7, 40001), -1),
                   "few_long_lanes": ((40001, 7), 0)}[layout]
    x = ops.random_x(rng, shape, dtype)
    n = shape[axis]
    labels = rng.integers(0, n, size=shape[1 - (axis % 2)])
    probs = cmf.softmax(ops.random_x(rng, shape, np.float64), axis)
    f = getattr(cmf, name)
    for target, kw in ((labels, dict(label_smoothing=0.1)), (probs, {})):
        ref = f(x, target, axis, reduction="none", return_grad=True, **extra, **kw)
        for k in THREADS:
            _same(f(x, target, axis, reduction="none", return_grad=True, n_threads=k, **extra, **kw),
                  ref, f"{name} {layout} n_threads={k}")
    s = cmf.softmax(x, axis)
    ref = cmf.distillation_loss(x, x[::-1].copy() if axis else x, axis, temperature=2.0,
                                reduction="none", return_grad=True)
    for k in THREADS:
        _same(cmf.distillation_loss(x, x[::-1].copy() if axis else x, axis, temperature=2.0,
                                    reduction="none", return_grad=True, n_threads=k), ref,
              f"distillation {layout} n_threads={k}")
    assert s.dtype == x.dtype


def test_softmax_layer_grad_and_argmax_across_n_threads():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((3000, 40)).astype(np.float32)
    W = rng.standard_normal((40, 100)).astype(np.float32)
    b = rng.standard_normal(100).astype(np.float32)
    y = rng.integers(0, 100, 3000)
    ref = cmf.softmax_layer_grad(X, W, b, y)
    x = rng.standard_normal((3000, 301))
    am = cmf.argmax(x, return_indices=True)
    for k in THREADS:
        _same(cmf.softmax_layer_grad(X, W, b, y, n_threads=k), ref, "softmax_layer_grad")
        _same(cmf.argmax(x, return_indices=True, n_threads=k), am, "argmax")


def test_sampling_same_seed_same_samples_across_n_threads():
    x = np.random.default_rng(7).standard_normal((2000, 300)).astype(np.float32)
    ref = cmf.gumbel_softmax(x, rng=11, return_noise=True)
    hard = cmf.gumbel_softmax(x, rng=11, hard=True)
    ks = cmf.sample_categorical(x, rng=11, size=3)
    for k in THREADS:
        _same(cmf.gumbel_softmax(x, rng=11, return_noise=True, n_threads=k), ref, "gumbel_softmax")
        _same(cmf.gumbel_softmax(x, rng=11, hard=True, n_threads=k), hard, "gumbel hard")
        _same(cmf.sample_categorical(x, rng=11, size=3, n_threads=k), ks, "sample_categorical")


def test_every_kernel_function_takes_n_threads():
    for name in cmf.__all__:
        f = getattr(cmf, name)
        params = inspect.signature(f).parameters
        if name in NUMPY_ONLY:
            assert "n_threads" not in params, name
            continue
        assert "n_threads" in params, f"{name} has no n_threads"
        p = params["n_threads"]
        assert p.kind is inspect.Parameter.KEYWORD_ONLY and p.default == 1, name


def test_small_calls_start_no_threads(count_tasks):
    x = np.ones((100, 1000), np.float32)                   # 400 KB < MIN_PARALLEL_BYTES
    assert x.nbytes < P.MIN_PARALLEL_BYTES
    cmf.softmax(x, n_threads=4)
    cmf.sigmoid(x, n_threads=4)
    assert count_tasks == []
    big = np.ones((1000, 300), np.float32)
    cmf.softmax(big, n_threads=4)
    assert count_tasks == [2]                    # 1.2 MB: at most one task per MIN_TASK_BYTES...
    cmf.softmax(np.ones((4000, 1000), np.float32), n_threads=4)
    assert count_tasks[-1] == 4                  # ...and at most n_threads


def test_none_and_minus_one_mean_all_cores(count_tasks):
    x = np.ones((8000, 1000), np.float32)
    ref = cmf.softmax(x)
    for n in (None, -1):
        _same(cmf.softmax(x, n_threads=n), ref, f"n_threads={n}")
    from cmaxfam._validation import cpu_count
    if cpu_count() > 1:
        assert count_tasks and count_tasks[-1] == min(cpu_count(), x.nbytes // P.MIN_TASK_BYTES)


@pytest.mark.parametrize("bad,exc", [(0, ValueError), (-2, ValueError), (1.5, TypeError),
                                     (True, TypeError), ("2", TypeError), (np.float64(2), TypeError)])
def test_bad_n_threads_raises_and_writes_nothing(bad, exc):
    x = np.ones((4, 5))
    out = np.full_like(x, 7.0)
    with pytest.raises(exc, match="n_threads"):
        cmf.softmax(x, out=out, n_threads=bad)
    assert np.all(out == 7.0)
    with pytest.raises(exc, match="n_threads"):
        cmf.softmax_cross_entropy(x, [0, 1, 2, 3], n_threads=bad)
    with pytest.raises(exc, match="n_threads"):
        cmf.sample_categorical(x, rng=0, n_threads=bad)
    assert cmf.softmax(x, n_threads=np.int64(2)).shape == x.shape


def test_concurrent_callers_share_the_pool():
    """8 Python threads, each splitting its own large calls over the shared pool."""
    rng = np.random.default_rng(8)
    xs = [rng.standard_normal((600, 1000)).astype(np.float32) for _ in range(8)]
    refs = [(cmf.softmax(x), cmf.logsumexp(x), cmf.sparsemax(x)) for x in xs]

    def job(i):
        x = xs[i]
        for _ in range(3):
            _same((cmf.softmax(x, n_threads=3), cmf.logsumexp(x, n_threads=2),
                   cmf.sparsemax(x, n_threads=4)), refs[i], f"caller {i}")
        return True

    with ThreadPoolExecutor(8) as ex:
        assert all(ex.map(job, range(8)))


def test_errors_in_a_task_propagate(monkeypatch):
    calls = []

    def kernel(*views):
        calls.append(views[0].shape)
        if len(calls) == 2:
            raise MemoryError("boom")

    x = np.ones((4096, 512), np.float32)
    with pytest.raises(MemoryError, match="boom"):
        P.run_slices(kernel, 1, [x], 4)
    assert len(calls) == 4                      # the other tasks still ran to the end


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_pool_after_fork():
    """A forked child gets a fresh pool: a threaded call there neither hangs nor differs."""
    code = r"""
import os, sys
import numpy as np, cmaxfam as cmf
x = np.random.default_rng(0).standard_normal((2000, 500)).astype(np.float32)
ref = cmf.softmax(x, n_threads=2)          # the parent's pool now has a worker thread
pid = os.fork()
if pid == 0:
    ok = cmf.softmax(x, n_threads=2).tobytes() == ref.tobytes()
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""
    r = subprocess.run([sys.executable, "-c", code], timeout=120, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
