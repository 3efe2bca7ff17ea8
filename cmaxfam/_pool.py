"""The threads behind ``n_threads``: one persistent pool of worker threads, shared by every
call and created on first use.

Why a pool of Python threads, not OpenMP: the kernels release the GIL, so plain threads
run them in parallel (on free-threaded builds too), the wheel needs no OpenMP runtime to
vendor (scikit-learn's libgomp / libomp / vcomp troubles, OpenMP's lack of fork safety),
and the split stays in one place (``_plumbing.run_slices``).  A call splits its *whole*
slices into tasks; the calling thread runs the first task itself and waits for the others,
so the results are bitwise those of ``n_threads=1`` and a call never waits on a pool
that its own task occupies (workers never submit work).  After ``fork`` the child starts
with no pool and makes a new one on first use.
"""
from __future__ import annotations

import os
import threading

_lock = threading.Lock()
_pool = None
_size = 0


def _executor(n_workers):
    """The shared pool, grown to at least ``n_workers`` threads."""
    global _pool, _size
    with _lock:
        if _pool is None or _size < n_workers:
            # imported here: concurrent.futures (~5 ms with logging) is not needed by a
            # program that never splits a call
            from concurrent.futures import ThreadPoolExecutor
            old = _pool
            _pool = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="cmaxfam")
            _size = n_workers
            if old is not None:
                old.shutdown(wait=False)   # its queued tasks still run; its threads then exit
        return _pool


def _forget_after_fork():
    # The child has only the forking thread: the parent's pool threads do not exist here.
    global _lock, _pool, _size
    _lock = threading.Lock()
    _pool = None
    _size = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def run_tasks(tasks):
    """Run the zero-argument callables ``tasks``: the first in this thread, the others on
    the pool; wait for all of them, then re-raise the first exception, if any."""
    if len(tasks) == 1:
        tasks[0]()
        return
    futures = [_executor(len(tasks) - 1).submit(t) for t in tasks[1:]]
    error = None
    try:
        tasks[0]()
    except BaseException as e:  # noqa: BLE001 - re-raised below, after the others finish
        error = e
    for f in futures:
        try:
            f.result()
        except BaseException as e:  # noqa: BLE001
            if error is None:
                error = e
    if error is not None:
        raise error
