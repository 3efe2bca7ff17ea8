"""Threaded use (SPEC section 5): no global mutable state, every call reentrant, results
bitwise identical whichever thread computes them.  8 threads call every entry point of
the registry on shared (read-only) inputs and compare with a serial run.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import ops

N_THREADS = 8
REPEATS = 3


def _jobs(op, x, w, t, rng):
    """name -> zero-argument callable, for every entry point of op on shared inputs."""
    kw = dict(temperature=t) if op.has_temperature else {}
    if op.has_where:
        kw["where"] = w
    # the derivatives from a NaN-free input (the reductions reject a NaN value)
    xd = np.where(np.isnan(x), 0.0, x).astype(x.dtype)
    xd.flags.writeable = False
    y = op.forward(xd, -1, **kw)
    g = rng.standard_normal(op.out_shape(x.shape)).astype(x.dtype)
    dx = rng.standard_normal(x.shape).astype(x.dtype)
    for a in (y, g, dx):
        if isinstance(a, np.ndarray):
            a.flags.writeable = False
    jobs = {
        "forward": lambda: op.forward(x, -1, **kw),
        "forward_axis0": lambda: op.forward(x, 0, **({} if op.has_axis else kw)),
    }
    if op.differentiable:
        jobs["vjp"] = lambda: op.vjp(xd, y, g, -1, **kw)
        jobs["jvp"] = lambda: op.jvp(xd, y, dx, -1, **kw)
    if op.jacobian is not None:
        jobs["jacobian"] = lambda: op.jacobian(y[:8], -1, temperature=t[:8],
                                               where=None if w is None else w[:8])
    return jobs


@pytest.mark.parametrize("op", ops.params())
def test_threads_bitwise_equal_to_serial(op, dtype, rng):
    x = ops.random_x(ops.input_rng(op, rng), (96, 257), dtype)
    x[3, 5] = np.nan
    x[4, :7] = -np.inf
    x[6, 9] = np.inf
    w = rng.random(x.shape) < 0.8
    w[7] = False
    t = rng.uniform(0.5, 2.0, size=(96, 1))
    for a in (x, w, t):
        a.flags.writeable = False
    jobs = _jobs(op, x, w, t, rng)
    serial = {name: np.asarray(fn()) for name, fn in jobs.items()}

    def run(name):
        return name, np.asarray(jobs[name]())

    tasks = [name for name in jobs for _ in range(REPEATS * N_THREADS)]
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        results = list(pool.map(run, tasks))
    assert len(results) == len(tasks)
    for name, res in results:
        assert res.dtype == serial[name].dtype
        assert np.array_equal(res, serial[name], equal_nan=True), (op.name, name)


@pytest.mark.parametrize("op", ops.params())
def test_threads_with_their_own_out(op, rng):
    """Each thread writes into its own preallocated out (and in place where allowed)."""
    x = ops.random_x(ops.input_rng(op, rng), (64, 300), np.float32)
    x.flags.writeable = False
    expected = np.asarray(op.forward(x))

    def run(i):
        out = np.empty(op.out_shape(x.shape), dtype=np.float32)
        res = op.forward(x, out=out)
        assert res is out
        if op.inplace:
            mine = np.array(x)
            op.forward(mine, out=mine)
            assert np.array_equal(mine, expected, equal_nan=True)
        return out

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        for out in pool.map(run, range(4 * N_THREADS)):
            assert np.array_equal(out, expected, equal_nan=True)
