"""A small benchmark engine: cmaxfam against NumPy, SciPy and PyTorch in one process.

Private helper used by ``benchmarks/compare.py`` (the full comparison) and by
:func:`short_table` (a few seconds, for ``python -m cmaxfam``).  In the style of msgspec's
benchmarks: every implementation is timed in the same process, on the same arrays, with a
timeit-style loop, and reported as a ratio to ``np.copyto(out, x)`` on the same array (the
memory-bandwidth floor of an operator that reads ``x`` once and writes an array of its
size) and to the other implementations.

What is timed
-------------
* ``copyto``: ``np.copyto(out, x)`` with a preallocated ``out`` (the baseline; for
  ``softmax_vjp`` it copies ``y``, so the VJP, which reads two arrays, has a floor of about
  1.5x copyto).
* ``cmaxfam``: the public function with a preallocated ``out=``, so that the kernel and
  the Python layer are measured, not the allocation of the result.
* ``cmaxfam_alloc``: the same call without ``out=`` (what a user writing ``y = f(x)``
  gets; comparable with the peers, which all allocate their results).
* ``numpy``: the usual NumPy formula (max-shifted exp, sum, divide / log).
* ``scipy``: ``scipy.special.softmax``/``log_softmax``/``logsumexp`` (no VJP there).
* ``torch``: ``torch.softmax``/``log_softmax``/``logsumexp`` on ``torch.from_numpy(x)``
  (zero-copy), and ``torch._softmax_backward_data`` for the VJP when it exists.
* ``sklearn`` (cross-entropy only): ``HalfMultinomialLoss.loss_gradient`` with
  preallocated outputs and sample weights 1/n (the mean).

Threads: ``run(threads=(1, 2))`` times every case once per thread count.  At ``t``
threads, cmaxfam gets ``n_threads=t`` (only when its function accepts the keyword, checked
with :func:`inspect.signature`; otherwise it is "n/a" at ``t`` > 1), PyTorch and the
entmax package run under ``torch.set_num_threads(t)`` (restored afterwards) and
scikit-learn gets ``n_threads=t``.  NumPy and SciPy have no threads: they are timed at 1
thread only, and that time still counts when picking the fastest peer at ``t`` > 1.
:func:`threads_scaling` measures the thread targets of issue 6 on their own (N Python
threads each calling cmaxfam on its own data; ``n_threads=2`` against 1 on one call).

The sparse family (:data:`SPARSE_OPS`: ``sparsemax``, ``entmax15``, ``entmax@A`` for
``cmaxfam.entmax(x, A)`` and the VJPs ``sparsemax_vjp``, ``entmax15_vjp``,
``entmax_vjp@A`` from the forward output) is compared with:

* ``entmax``: the `entmax` package on ``torch.from_numpy(x)`` (``entmax.sparsemax``,
  ``entmax.entmax15``, ``entmax.entmax_bisect(X, A)`` with its default 50 bisection
  steps); its VJPs through autograd: the forward is computed once with
  ``requires_grad`` and ``torch.autograd.grad(out, inp, g, retain_graph=True)`` is timed.
* ``numpy`` (``sparsemax`` only): the sort-based formula (descending sort, cumsum,
  support size, threshold).

Their inputs are standard-normal (the softmax family's are 3 x standard-normal); the
VJPs get ``y`` = cmaxfam's forward of such an ``x`` and a standard-normal ``g`` (the
entmax package differentiates its own forward of the same ``x``).  A peer whose first
call takes at least :data:`SLOW_S` seconds (the entmax package is 100-1000x copyto) is
timed with :data:`SLOW_REPEATS` repeats of one call each (``run(slow_repeats=)``; the
full run takes 1), after that first call as its warm-up; in the full run, a torch-based
peer whose first call takes at least :data:`VERY_SLOW_S` seconds is timed by that call.

SciPy, PyTorch, entmax and scikit-learn are imported lazily (never when this module is
imported), only when a case needs them, and a peer that does not import is skipped.

The implementations of one case are timed interleaved (round-robin over repeats), so
that a busy phase of a shared machine slows them alike; each row carries ``spread``, the
relative interquartile range of its samples.

Memory: the peak of the memory traced by :mod:`tracemalloc` during one call (NumPy reports
its data buffers to tracemalloc; PyTorch's allocator does not, so it is ``None`` there).
The result of an allocating call is part of its peak.
"""
from __future__ import annotations

import gc
import hashlib
import inspect
import math
import os
import platform
import sys
import threading
import time
import timeit
import tracemalloc
import warnings

import numpy as np

__all__ = [
    "OPS", "SPARSE_OPS", "LOSS_OPS", "SAMPLING_OPS", "ALL_OPS", "OP_GROUPS", "DTYPES",
    "SHAPES", "SPARSE_CASES", "LOSS_CASES", "SAMPLING_CASES", "CHOICE_ROWS", "PEERS",
    "TARGETS", "SLOW_S", "SLOW_REPEATS", "VERY_SLOW_S", "time_call", "time_calls",
    "available_peers", "make_case", "run", "format_markdown", "short_table", "machine_info",
    "target_for", "is_op", "parse_ops", "cases_for", "rng_routes", "format_rng_routes",
    "FULL_OPS", "THREADED_PEERS", "EARLIER_TARGETS", "F64_TARGET", "PY_THREADS_TARGET",
    "N_THREADS_TARGET", "SCALING_OPS", "SCALING_SHAPES", "accepts_n_threads",
    "threads_scaling",
    "format_threads_scaling", "compute_floor", "format_compute_floor", "summarize",
    "report_json",
]

OPS = ("softmax", "log_softmax", "logsumexp", "softmax_vjp")
#: The sparse family; ``entmax@A`` is ``cmaxfam.entmax(x, A)`` and ``entmax_vjp@A`` its VJP
#: (any A >= 1 is accepted by :func:`parse_ops`; these two are the default ones).
SPARSE_OPS = ("sparsemax", "entmax15", "entmax@1.3", "entmax@1.5",
              "sparsemax_vjp", "entmax15_vjp", "entmax_vjp@1.3", "entmax_vjp@1.5")
#: The losses, each timed as loss + gradient (fused, ``return_grad=True``, mean reduction)
#: on integer labels.
LOSS_OPS = ("softmax_cross_entropy", "sparsemax_loss", "entmax15_loss")
#: The random members (their peers draw their own noise; results are not compared).
SAMPLING_OPS = ("gumbel_softmax", "sample_categorical")
ALL_OPS = OPS + SPARSE_OPS + LOSS_OPS + SAMPLING_OPS
#: The ops of the full matrix of issue 6 (``benchmarks/compare.py --full``): forward, VJP
#: and loss + gradient; one alpha stands for alpha-entmax (the entmax package's bisection
#: costs seconds per call, so one is enough).
FULL_OPS = OPS + ("sparsemax", "entmax15", "entmax@1.3", "sparsemax_vjp", "entmax15_vjp") \
    + LOSS_OPS
#: Names that stand for several ops in :func:`parse_ops`.
OP_GROUPS = {"all": ALL_OPS, "full": FULL_OPS, "softmax-family": OPS, "sparse": SPARSE_OPS,
             "losses": LOSS_OPS, "sampling": SAMPLING_OPS}
DTYPES = ("float32", "float64")
#: (shape, axis) pairs of the full comparison (issue 6): short rows, medium rows, rows in
#: L2, long rows, a few huge rows, and a reduction along axis 0 of a C-contiguous array.
SHAPES = (((100000, 10), -1), ((16384, 128), -1), ((4096, 1024), -1), ((256, 16384), -1),
          ((16, 262144), -1), ((1024, 4096), 0))
#: (shape, axis, dtype) cases of the sparse family by default (not the full product: the
#: entmax package is slow).
SPARSE_CASES = (((4096, 1024), -1, "float32"), ((4096, 1024), -1, "float64"),
                ((100000, 10), -1, "float32"), ((1024, 4096), 0, "float32"))
#: (shape, axis, dtype) cases of the losses by default.
LOSS_CASES = (((4096, 1024), -1, "float32"), ((4096, 1024), -1, "float64"),
              ((100000, 10), -1, "float32"))
#: (shape, axis, dtype) cases of the sampling ops by default.
SAMPLING_CASES = (((4096, 1024), -1, "float32"), ((100000, 10), -1, "float32"))
#: The ``choice`` peer (``Generator.choice`` row by row) is timed on this many rows and its
#: time scaled to all the rows.
CHOICE_ROWS = 200
#: Implementations other than cmaxfam and the copyto baseline, in table order.
PEERS = ("numpy", "scipy", "torch", "entmax", "sklearn", "choice")
#: The peers that have threads (timed at every thread count of a run; the others at 1).
THREADED_PEERS = ("torch", "entmax", "sklearn")
#: A peer whose first call takes at least SLOW_S seconds gets SLOW_REPEATS timed calls.
SLOW_S = 0.05
SLOW_REPEATS = 3
#: With ``run(slow_repeats=1)`` (the full run), a torch-based peer whose first call (the
#: one whose result is checked) takes at least VERY_SLOW_S seconds is timed by that call
#: alone (the entmax package's bisection: seconds per call).
VERY_SLOW_S = 1.0

#: Performance targets of issue 6, as the largest allowed single-thread ``cmaxfam /
#: copyto`` time ratio (float32).  Keys are (op, shape, axis, dtype); None matches
#: anything and the op ``entmax@*`` any alpha-entmax (``entmax@A``).  Ops without a shape
#: (logsumexp, the VJP, the losses, the sparse family) are held to their target at every
#: shape.  float64 is held to :data:`F64_TARGET` instead.
TARGETS = {
    ("softmax", (4096, 1024), -1, "float32"): 1.2,
    ("softmax", (16, 262144), -1, "float32"): 1.5,
    ("softmax", (100000, 10), -1, "float32"): 3.0,
    ("softmax", (1024, 4096), 0, "float32"): 1.5,
    ("log_softmax", (4096, 1024), -1, "float32"): 1.2,
    ("log_softmax", (16, 262144), -1, "float32"): 1.5,
    ("log_softmax", (100000, 10), -1, "float32"): 3.0,
    ("log_softmax", (1024, 4096), 0, "float32"): 1.5,
    ("logsumexp", None, None, "float32"): 0.8,
    ("softmax_vjp", None, None, "float32"): 1.5,
    ("softmax_cross_entropy", None, None, "float32"): 1.5,
    ("sparsemax", None, None, "float32"): 3.0,
    ("entmax15", None, None, "float32"): 4.0,
    ("entmax@*", None, None, "float32"): 10.0,
}
#: float64 time over float32 time of the same case (the same number of elements), at one
#: thread: at most this (issue 6).
F64_TARGET = 2.0
#: Issue 6's thread targets (:func:`threads_scaling`): throughput of 2 Python threads each
#: calling cmaxfam over 1 thread, and ``n_threads=2`` over ``n_threads=1`` on one call.
PY_THREADS_TARGET = 1.8
N_THREADS_TARGET = 1.7
#: The shapes of the thread-scaling table (float32): 4096x1024 is 16 MiB per array, so two
#: threads with their own input and output (64 MiB) stream from memory and are held by
#: what the memory system gives (``np.copyto``'s own row shows it); 256x1024 is 1 MiB per
#: array, so each thread's data stays in cache (its core's L2 and the shared L3) and the
#: table shows whether the kernels really run without the GIL on both cores.
SCALING_SHAPES = ((4096, 1024), (256, 1024))

#: The earlier targets of issues 3-5 (the first kernels), for reference only: the table
#: checks :data:`TARGETS`.
EARLIER_TARGETS = {
    ("softmax", (4096, 1024), -1, "float32"): 2.0,
    ("softmax", (100000, 10), -1, "float32"): 6.0,
    ("softmax", (1024, 4096), 0, "float32"): 3.0,
    ("log_softmax", (4096, 1024), -1, "float32"): 2.0,
    ("log_softmax", (100000, 10), -1, "float32"): 6.0,
    ("log_softmax", (1024, 4096), 0, "float32"): 3.0,
    ("logsumexp", None, None, None): 1.5,
    ("sparsemax", (4096, 1024), -1, "float32"): 5.0,
    ("entmax15", (4096, 1024), -1, "float32"): 6.0,
    ("entmax@1.3", (4096, 1024), -1, "float32"): 15.0,
    ("entmax@1.5", (4096, 1024), -1, "float32"): 15.0,
    ("sparsemax_vjp", (4096, 1024), -1, "float32"): 2.0,
    ("entmax15_vjp", (4096, 1024), -1, "float32"): 2.0,
    ("entmax_vjp@1.3", (4096, 1024), -1, "float32"): 2.0,
    ("entmax_vjp@1.5", (4096, 1024), -1, "float32"): 2.0,
    ("softmax_cross_entropy", (4096, 1024), -1, "float32"): 2.5,
}


def _split_op(op):
    """('entmax', 1.3) for 'entmax@1.3'; (op, None) otherwise."""
    base, at, a = op.partition("@")
    return (base, float(a)) if at else (op, None)


def is_op(name):
    """Whether ``name`` is a benchmarkable op: one of :data:`ALL_OPS`, or ``entmax@A`` /
    ``entmax_vjp@A`` with a finite A >= 1."""
    if name in ALL_OPS:
        return True
    base, at, a = name.partition("@")
    if base not in ("entmax", "entmax_vjp") or not at:
        return False
    try:
        return math.isfinite(float(a)) and float(a) >= 1
    except ValueError:
        return False


def parse_ops(text):
    """A tuple of ops from a comma-separated list of op names and groups
    (:data:`OP_GROUPS`: 'all', 'full', 'softmax-family', 'sparse', 'losses', 'sampling'),
    duplicates removed."""
    out = []
    for t in (t.strip() for t in text.split(",")):
        if not t:
            continue
        names = OP_GROUPS.get(t, (t,))
        for n in names:
            if not is_op(n):
                raise ValueError(f"unknown op {n!r}: expected one of {', '.join(ALL_OPS)}, "
                                 "entmax@A / entmax_vjp@A, or a group "
                                 f"({', '.join(OP_GROUPS)})")
            if n not in out:
                out.append(n)
    if not out:
        raise ValueError("no op given")
    return tuple(out)


def _is_sparse(op):
    return _split_op(op)[0] in ("sparsemax", "entmax15", "entmax", "sparsemax_vjp",
                                "entmax15_vjp", "entmax_vjp")


def _is_sampling(op):
    return op in SAMPLING_OPS


def _is_vjp(op):
    return _split_op(op)[0].endswith("_vjp")


def cases_for(op, shapes=None, dtypes=None):
    """The (shape, axis, dtype) cases of ``op``.  ``shapes``: (shape, axis) pairs or bare
    shapes; ``dtypes``: names.  With neither, the softmax family gets SHAPES x DTYPES and
    the sparse family :data:`SPARSE_CASES` (the losses :data:`LOSS_CASES`, the sampling ops
    :data:`SAMPLING_CASES`); with ``dtypes`` only, those get their cases of those dtypes;
    with ``shapes``, every op gets shapes x (dtypes or DTYPES)."""
    if shapes is None and op in LOSS_OPS:
        want = None if dtypes is None else {np.dtype(d).name for d in dtypes}
        return [(s, a, d) for s, a, d in LOSS_CASES if want is None or d in want]
    if shapes is None and (_is_sparse(op) or _is_sampling(op)):
        want = None if dtypes is None else {np.dtype(d).name for d in dtypes}
        cases = SAMPLING_CASES if _is_sampling(op) else SPARSE_CASES
        return [(s, a, d) for s, a, d in cases if want is None or d in want]
    shapes = SHAPES if shapes is None else shapes
    dtypes = DTYPES if dtypes is None else dtypes
    return [(s, a, np.dtype(d).name) for s, a in _norm_shapes(shapes) for d in dtypes]


def target_for(op, shape, axis, dtype, targets=None):
    """The target ratio to copyto of a case (of :data:`TARGETS`, or ``targets``), or None
    when it has none."""
    shape = tuple(shape)
    for (o, s, a, d), v in (TARGETS if targets is None else targets).items():
        op_ok = o == op or (o == "entmax@*" and op.startswith("entmax@"))
        if (op_ok and (s is None or s == shape) and (a is None or a == axis)
                and (d is None or d == dtype)):
            return v
    return None


# --------------------------------------------------------------------------------------
# Timing


def _calibrate(timer, repeat_time):
    """(loops, seconds): as :meth:`timeit.Timer.autorange`, the first loop count among
    1, 2, 5, 10, 20, 50, ... whose repeat takes at least ``repeat_time`` seconds."""
    number = 1
    while True:
        for k in (1, 2, 5):
            n = number * k
            t = timer.timeit(n)
            if t >= repeat_time:
                return n, t
        number *= 10


def time_calls(fns, min_time=0.2, *, repeat_time=0.02, min_repeats=5, warmed=(),
               slow=(), slow_repeats=SLOW_REPEATS, presampled=None):
    """Time several callables *interleaved*; returns ``{name: per-call samples}``.

    Each ``fn`` is called once to warm up (page faults, lazy initialisation; skipped for
    the names in ``warmed``, already called by the caller) and gets its loop count from
    :func:`_calibrate` (that repeat is its first sample).  Then repeats go round-robin
    over the callables (each until it has at least ``min_repeats`` samples totalling at
    least ``min_time`` seconds), so that a slow phase of a shared machine hits every
    implementation alike and the ratios stay meaningful.  The names in ``slow`` need
    only ``slow_repeats`` samples (:data:`SLOW_REPEATS`; and no ``min_time``) when their
    calls take at least :data:`SLOW_S` seconds.  ``presampled``: {name: seconds of a
    call already timed by the caller}: that time is the name's only sample, and it is not
    called again.  (timeit turns the garbage collector off while timing.)
    """
    state = {}
    presampled = presampled or {}
    for name, fn in fns.items():
        if name in presampled:
            state[name] = [None, 1, [presampled[name]], presampled[name], 1, 0.0]
            continue
        if name not in warmed:
            fn()
        timer = timeit.Timer(fn)
        n, t = _calibrate(timer, repeat_time)
        if name in slow and n == 1 and t >= SLOW_S:
            need_n, need_t = max(1, min(slow_repeats, min_repeats)), 0.0
        else:
            need_n, need_t = min_repeats, min_time
        state[name] = [timer, n, [t / n], t, need_n, need_t]
    while True:
        pending = [st for st in state.values() if len(st[2]) < st[4] or st[3] < st[5]]
        if not pending:
            break
        for st in pending:
            timer, n = st[0], st[1]
            t = timer.timeit(n)
            st[2].append(t / n)
            st[3] += t
    return {name: st[2] for name, st in state.items()}


def time_call(fn, min_time=0.2, *, repeat_time=0.02, min_repeats=5):
    """Median seconds per call of ``fn()``, timeit-style.

    ``fn`` is called once to warm up.  Then, as in :meth:`timeit.Timer.autorange`, the
    number of loops per repeat goes 1, 2, 5, 10, 20, ... until one repeat takes at least
    ``repeat_time`` seconds (~20 ms); that repeat counts as the first sample.  Repeats
    continue until there are at least ``min_repeats`` of them and they total at least
    ``min_time`` seconds.  Returns the median of the per-call times.
    """
    samples = time_calls({"fn": fn}, min_time, repeat_time=repeat_time,
                         min_repeats=min_repeats)["fn"]
    return float(np.median(samples))


def _spread(samples):
    """Relative interquartile range of timing samples (a noise indicator)."""
    q1, med, q3 = np.percentile(samples, [25, 50, 75])
    return float((q3 - q1) / med) if med > 0 else 0.0


def peak_extra_bytes(fn, collect=True):
    """Peak of the memory traced by tracemalloc during one call of ``fn()`` (bytes), and
    its result.  ``collect``: run the garbage collector first."""
    if collect:
        gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        res = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - base), res


# --------------------------------------------------------------------------------------
# Peers (imported lazily)

_PEER_CACHE: dict = {}


def _import_peer(name):
    """The peer's module (scipy.special, torch or entmax), or None when it does not
    import."""
    if name not in _PEER_CACHE:
        mod = None
        try:
            if name == "scipy":
                import scipy.special as mod  # noqa: F811
            elif name == "torch":
                import torch as mod  # noqa: F811
            elif name == "entmax":
                import entmax as mod  # noqa: F811
            elif name == "sklearn":
                from sklearn._loss.loss import HalfMultinomialLoss as mod  # noqa: F811
            elif name in ("numpy", "choice"):
                mod = np
        except Exception:  # ImportError, or a broken install (OSError from a .so)
            mod = None
        _PEER_CACHE[name] = mod
    return _PEER_CACHE[name]


def available_peers(peers=PEERS):
    """The peers among ``peers`` that import."""
    return tuple(p for p in peers if _import_peer(p) is not None)


def _peer_serves(peer, op):
    """Whether ``peer`` has an implementation of ``op`` (before importing it)."""
    base = _split_op(op)[0]
    if peer == "numpy":
        return (base in OPS or base in ("sparsemax", "softmax_cross_entropy")
                or _is_sampling(op))
    if peer == "sklearn":
        return base == "softmax_cross_entropy"
    if peer == "choice":
        return op == "sample_categorical"
    if peer == "scipy":
        return base in ("softmax", "log_softmax", "logsumexp")
    if peer == "torch":
        return base in OPS or base == "softmax_cross_entropy"
    if peer == "entmax":
        return _is_sparse(op) or base in ("sparsemax_loss", "entmax15_loss")
    return False


def _version(name):
    if name in ("numpy", "choice"):
        return np.__version__
    if name == "sklearn":
        if _import_peer("sklearn") is None:
            return None
        import sklearn
        return sklearn.__version__
    if name == "scipy":
        mod = _import_peer("scipy")
        if mod is None:
            return None
        import scipy
        return scipy.__version__
    mod = _import_peer(name)
    return None if mod is None else getattr(mod, "__version__", "?")


# --------------------------------------------------------------------------------------
# The registry of cases


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis, keepdims=True))
    e /= e.sum(axis, keepdims=True)
    return e


def _np_log_softmax(x, axis):
    s = x - x.max(axis, keepdims=True)
    s -= np.log(np.exp(s).sum(axis, keepdims=True))
    return s


def _np_logsumexp(x, axis):
    m = x.max(axis, keepdims=True)
    r = np.log(np.exp(x - m).sum(axis))
    r += np.squeeze(m, axis)
    return r


def _np_softmax_vjp(y, g, axis):
    return y * (g - (y * g).sum(axis, keepdims=True))


def _np_sparsemax(x, axis):
    """Sort-based sparsemax (Martins & Astudillo 2016): sort descending, cumsum, the
    support size k = max{k : 1 + k z_(k) > sum_{j<=k} z_(j)}, tau = (cumsum_k - 1) / k."""
    z = np.moveaxis(x, axis, -1)
    zs = np.sort(z, axis=-1)[..., ::-1]
    cs = np.cumsum(zs, axis=-1)
    k = np.arange(1, z.shape[-1] + 1, dtype=z.dtype)
    kz = np.count_nonzero(1 + k * zs > cs, axis=-1)[..., None]
    tau = (np.take_along_axis(cs, kz - 1, axis=-1) - 1) / kz.astype(z.dtype)
    return np.moveaxis(np.maximum(z - tau, 0), -1, axis)


def _forward(cmf, op):
    """The cmaxfam forward function of a sparse op (or of its VJP), as f(x, axis, out=)."""
    return _cmaxfam_fn(cmf, op.replace("_vjp", "", 1))[1]


def _inputs(op, shape, axis, dtype, seed=0):
    """The input arrays of a case: {'x': ...} or, for a VJP, {'x': ..., 'y': ..., 'g': ...}
    with ``y`` the forward of ``x`` along ``axis`` (softmax: NumPy's formula; the sparse
    family: cmaxfam's).  ``x`` is 3 x standard-normal for the softmax family, standard
    normal for the sparse family."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape, dtype=np.dtype(dtype))
    if not _is_sparse(op) and op not in ("sparsemax_loss", "entmax15_loss"):
        x *= np.asarray(3, dtype)
    if op in LOSS_OPS:
        ax = axis % len(shape)
        labels = rng.integers(0, shape[ax], size=shape[:ax] + shape[ax + 1:])
        return {"x": x, "labels": labels}
    if not _is_vjp(op):
        return {"x": x}
    if op == "softmax_vjp":
        y = _np_softmax(x, axis)
    else:
        import cmaxfam as cmf
        y = _forward(cmf, op)(x, axis)
    g = rng.standard_normal(shape, dtype=np.dtype(dtype))
    return {"x": x, "y": y, "g": g}


def accepts_n_threads(fn):
    """Whether the cmaxfam function ``fn`` takes the keyword ``n_threads`` (checked with
    :func:`inspect.signature`, so that this engine also runs on a cmaxfam without it)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    p = params.get("n_threads")
    return p is not None and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)


def _cmaxfam_fn(cmf, op):
    """(the public cmaxfam function timed for ``op``, f) with ``f`` called as
    f(x, axis, **kw) / f(y, g, axis, **kw) / f(x, labels, axis, **kw)."""
    base, alpha = _split_op(op)
    if op == "entmax15_loss":
        return cmf.entmax_loss, (lambda x, lab, ax, **kw:
                                 cmf.entmax_loss(x, lab, ax, alpha=1.5, **kw))
    if base == "entmax":
        return cmf.entmax, (lambda x, ax, **kw: cmf.entmax(x, alpha, ax, **kw))
    if base == "entmax_vjp":
        return cmf.entmax_vjp, (lambda y, g, ax, **kw: cmf.entmax_vjp(y, g, alpha, ax, **kw))
    f = getattr(cmf, base)
    return f, f


def make_case(op, shape, axis, dtype, *, peers=PEERS, with_alloc=True, seed=0, n_threads=1):
    """The candidate implementations of one case.

    Returns ``(impls, n_elements)`` where ``impls`` maps an implementation name
    ('copyto', 'cmaxfam', 'cmaxfam_alloc', then the available peers) to a zero-argument
    callable returning its result (a NumPy array or a torch tensor).  ``n_threads`` is
    passed to cmaxfam when its function accepts it (:func:`accepts_n_threads`); when it does
    not, cmaxfam is left out unless ``n_threads`` is 1.  scikit-learn gets it too; the
    torch-based peers take the global ``torch.set_num_threads`` (set by :func:`run`).
    """
    import cmaxfam as cmf

    arr = _inputs(op, shape, axis, dtype, seed)
    first = arr["y"] if "y" in arr else arr["x"]
    ax = axis
    impls = {}
    cp_out = np.empty_like(first)
    impls["copyto"] = lambda: np.copyto(cp_out, first)

    public, f = _cmaxfam_fn(cmf, op)
    if accepts_n_threads(public):
        kw = {"n_threads": int(n_threads)}
    else:
        kw = {} if int(n_threads) == 1 else None
    if kw is None:
        pass                                    # "n/a": this cmaxfam has no n_threads
    elif op in LOSS_OPS:
        x, labels = arr["x"], arr["labels"]
        grad = np.empty_like(x)
        # the gradient is the result compared across implementations
        impls["cmaxfam"] = lambda: f(x, labels, ax, grad_out=grad, **kw)[1]
        if with_alloc:
            impls["cmaxfam_alloc"] = lambda: f(x, labels, ax, return_grad=True, **kw)[1]
    elif _is_vjp(op):
        y, g = arr["y"], arr["g"]
        out = np.empty_like(y)
        impls["cmaxfam"] = lambda: f(y, g, ax, out=out, **kw)
        if with_alloc:
            impls["cmaxfam_alloc"] = lambda: f(y, g, ax, **kw)
    elif _is_sampling(op):
        x = arr["x"]
        gen = np.random.default_rng(seed + 1)
        if op == "gumbel_softmax":
            out = np.empty_like(x)
            impls["cmaxfam"] = lambda: f(x, ax, rng=gen, out=out, **kw)
            if with_alloc:
                impls["cmaxfam_alloc"] = lambda: f(x, ax, rng=gen, **kw)
        else:                                   # the sampler has no out=
            impls["cmaxfam"] = lambda: f(x, ax, rng=gen, **kw)
    else:
        x = arr["x"]
        if op == "logsumexp":
            out = np.empty(tuple(s for d, s in enumerate(x.shape) if d != ax % x.ndim),
                           dtype=x.dtype)
        else:
            out = np.empty_like(x)
        impls["cmaxfam"] = lambda: f(x, ax, out=out, **kw)
        if with_alloc:
            impls["cmaxfam_alloc"] = lambda: f(x, ax, **kw)

    for peer in peers:
        if not _peer_serves(peer, op):
            continue
        mod = _import_peer(peer)
        if mod is None:
            continue
        fn = _peer_fn(peer, mod, op, arr, ax, n_threads)
        if fn is not None:
            impls[peer] = fn
    return impls, first.size


def _entmax_peer_fn(entmax, op, arr, ax):
    """The entmax package on torch tensors; its VJPs by autograd on a precomputed forward."""
    import torch
    base, alpha = _split_op(op)
    fwd = {"sparsemax": lambda t: entmax.sparsemax(t, dim=ax),
           "entmax15": lambda t: entmax.entmax15(t, dim=ax),
           "entmax": lambda t: entmax.entmax_bisect(t, alpha, dim=ax)}[base.removesuffix("_vjp")]
    if not _is_vjp(op):
        t = torch.from_numpy(arr["x"])
        return lambda: fwd(t)
    inp = torch.from_numpy(arr["x"].copy()).requires_grad_(True)
    with torch.enable_grad():
        res = fwd(inp)
    tg = torch.from_numpy(arr["g"])
    return lambda: torch.autograd.grad(res, inp, tg, retain_graph=True)[0]


def _np_cross_entropy_grad(x, labels, ax):
    """The NumPy formula: mean of logsumexp - x_y, gradient (softmax - onehot) / n."""
    xm = np.moveaxis(x, ax, -1)
    m = xm.max(-1, keepdims=True)
    e = np.exp(xm - m)
    s = e.sum(-1, keepdims=True)
    lab = labels[..., None]
    loss = (np.log(s) + m - np.take_along_axis(xm, lab, -1)).mean()
    g = e / s
    np.put_along_axis(g, lab, np.take_along_axis(g, lab, -1) - 1, -1)
    g /= labels.size
    return loss, np.moveaxis(g, -1, ax)


def _loss_peer_fn(peer, mod, op, arr, ax, n_threads=1):
    """Loss + gradient (mean over the samples) of a peer; the gradient is returned."""
    x, labels = arr["x"], arr["labels"]
    if peer == "numpy":
        return lambda: _np_cross_entropy_grad(x, labels, ax)[1]
    if ax not in (-1, x.ndim - 1) or x.ndim != 2:
        return None                      # the peers take (samples, classes) only
    if peer == "sklearn":
        loss = mod(n_classes=x.shape[1])
        yt = labels.astype(x.dtype)
        sw = np.full(labels.shape, 1.0 / labels.size, dtype=x.dtype)
        lo, go = np.empty(labels.shape, x.dtype), np.empty_like(x)
        nt = int(n_threads)
        return lambda: loss.loss_gradient(yt, x, sw, loss_out=lo, gradient_out=go,
                                          n_threads=nt)[1]
    import torch
    tl = torch.from_numpy(labels)
    if peer == "torch":
        lossf = torch.nn.functional.cross_entropy
    else:
        lossf = {"sparsemax_loss": mod.SparsemaxLoss(), "entmax15_loss": mod.Entmax15Loss()}[op]

    def call():
        t = torch.from_numpy(x).requires_grad_(True)
        lossf(t, tl).backward()
        return t.grad
    return call


def _sampling_peer_fn(peer, op, arr, ax):
    """NumPy's Gumbel trick (``rng.gumbel`` then the softmax formula or ``np.argmax``), and
    for the sampler ``Generator.choice`` row by row with ``p = softmax(x)`` (float64,
    computed beforehand) on the first :data:`CHOICE_ROWS` rows; the time of that callable is
    scaled to all the rows by its ``scale`` attribute."""
    x = arr["x"]
    gen = np.random.default_rng(1)
    if peer == "numpy":
        if op == "gumbel_softmax":
            return lambda: _np_softmax(x + gen.gumbel(size=x.shape), ax)
        return lambda: np.argmax(x + gen.gumbel(size=x.shape), axis=ax)
    if peer == "choice" and op == "sample_categorical":
        rows = np.moveaxis(x, ax, -1).reshape(-1, x.shape[ax])
        p = _np_softmax(rows[:CHOICE_ROWS].astype(np.float64), -1)
        n = p.shape[-1]

        def fn():
            return np.array([gen.choice(n, p=r) for r in p])
        fn.scale = len(rows) / len(p)
        return fn
    return None


def _peer_fn(peer, mod, op, arr, ax, n_threads=1):
    if op in LOSS_OPS:
        return _loss_peer_fn(peer, mod, op, arr, ax, n_threads)
    if _is_sampling(op):
        return _sampling_peer_fn(peer, op, arr, ax)
    if peer == "entmax":
        return _entmax_peer_fn(mod, op, arr, ax)
    if peer == "numpy" and op == "sparsemax":
        x = arr["x"]
        return lambda: _np_sparsemax(x, ax)
    if _is_sparse(op):
        return None
    if peer == "numpy":
        if op == "softmax_vjp":
            y, g = arr["y"], arr["g"]
            return lambda: _np_softmax_vjp(y, g, ax)
        x = arr["x"]
        f = {"softmax": _np_softmax, "log_softmax": _np_log_softmax,
             "logsumexp": _np_logsumexp}[op]
        return lambda: f(x, ax)
    if peer == "scipy":
        f = getattr(mod, op, None) if op != "softmax_vjp" else None
        if f is None:
            return None
        x = arr["x"]
        return lambda: f(x, axis=ax)
    if peer == "torch":
        torch = mod
        if op == "softmax_vjp":
            bwd = getattr(torch, "_softmax_backward_data", None)
            if bwd is None:
                return None
            ty, tg = torch.from_numpy(arr["y"]), torch.from_numpy(arr["g"])
            return lambda: bwd(tg, ty, ax, ty.dtype)
        t = torch.from_numpy(arr["x"])
        f = {"softmax": torch.softmax, "log_softmax": torch.log_softmax,
             "logsumexp": torch.logsumexp}[op]
        return lambda: f(t, ax)
    return None


def _as_numpy(res):
    if isinstance(res, np.ndarray):
        return res
    if hasattr(res, "numpy"):  # a torch tensor
        return res.numpy()
    return np.asarray(res)


def _agrees(res, ref):
    a = _as_numpy(res).astype(np.float64)
    b = np.asarray(ref, dtype=np.float64)
    if a.shape != b.shape:
        return False
    f32 = np.asarray(ref).dtype == np.float32
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    rtol, atol = (2e-4, 1e-5 * scale) if f32 else (1e-9, 1e-12 * scale)
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


# --------------------------------------------------------------------------------------
# Running


def _norm_shapes(shapes):
    out = []
    for s in shapes:
        if len(s) == 2 and isinstance(s[0], (tuple, list)):
            out.append((tuple(int(v) for v in s[0]), int(s[1])))
        else:
            out.append((tuple(int(v) for v in s), -1))
    return out


def _thread_counts(threads):
    """``threads`` (an int or a sequence of ints) as a sorted tuple of distinct ints >= 1."""
    ts = (threads,) if isinstance(threads, (int, np.integer)) else tuple(threads)
    out = sorted({int(t) for t in ts})
    if not out or out[0] < 1:
        raise ValueError(f"threads must be ints >= 1; got {threads!r}")
    return tuple(out)


def run(ops=OPS, shapes=None, dtypes=None, threads=1, quick=False, *, peers=PEERS,
        with_alloc=True, min_time=None, repeat_time=None, progress=None,
        slow_repeats=SLOW_REPEATS):
    """Time every (op, shape, axis, dtype) case and return one row per implementation.

    ``shapes``: (shape, axis) pairs, or bare shapes (axis -1).  The cases of each op are
    :func:`cases_for` (``shapes``, ``dtypes``): by default SHAPES x DTYPES for the
    softmax family and SPARSE_CASES for the sparse family.  ``quick``: shorter timings
    (``min_time`` 0.04 s with 5 ms repeats instead of 0.2 s with 20 ms repeats;
    ``min_time`` and ``repeat_time`` override them).  ``threads``: a thread count or
    several (e.g. ``(1, 2)``): each case is timed once per count, in a block of its own
    (copyto, cmaxfam with ``n_threads``, the threaded peers; the unthreaded peers and
    ``cmaxfam_alloc`` only in the first block).
    ``slow_repeats``: samples of a peer whose calls take >= :data:`SLOW_S` seconds.
    ``progress``: a callable taking one string (e.g. to print to stderr), or None.

    Each row is a dict: op, shape (a list), axis, dtype, impl, threads, median_s,
    ns_per_element, ratio_to_copyto, ratio_to_fastest_peer (the time over the fastest peer
    of that case at that thread count, the unthreaded peers counting with their 1-thread
    time; < 1 means faster than all of them), fastest_peer, peak_extra_bytes, agrees
    (result matches cmaxfam's), repeats, spread (relative interquartile range of the
    samples).  cmaxfam's rows also carry target / meets_target (:data:`TARGETS`, one
    thread), f64_over_f32 / meets_f64_target (float64 rows, one thread) and
    speedup_vs_1_thread (rows at more threads); see :func:`summarize`.
    """
    if min_time is None:
        min_time = 0.04 if quick else 0.2
    if repeat_time is None:
        repeat_time = 0.005 if quick else 0.02
    ops = tuple(ops)
    counts = _thread_counts(threads)
    peers = available_peers([p for p in peers if any(_peer_serves(p, op) for op in ops)])
    torch = _import_peer("torch") if {"torch", "entmax"} & set(peers) else None
    old_threads = torch.get_num_threads() if torch is not None else None
    for p in peers:
        _import_peer(p)
    # The peers' modules (torch: hundreds of thousands of objects) make every gc.collect()
    # take ~0.2 s; frozen, they are left out of the collections of the run.
    gc.collect()
    gc.freeze()
    rows = []
    try:
        for op in ops:
            for shape, axis, dtype in cases_for(op, shapes, dtypes):
                ref, unthreaded = None, {}
                for i, t in enumerate(counts):
                    gc.collect()
                    if progress:
                        progress(f"{op} {'x'.join(map(str, shape))} axis={axis} {dtype}"
                                 f" threads={t}")
                    if torch is not None:
                        torch.set_num_threads(t)
                    block_peers = peers if i == 0 else tuple(p for p in peers
                                                             if p in THREADED_PEERS)
                    block, ref = _run_case(op, shape, axis, dtype, block_peers,
                                           with_alloc and i == 0, min_time, repeat_time, t,
                                           slow_repeats=slow_repeats, ref=ref,
                                           other_peers=unthreaded)
                    if i == 0:
                        unthreaded = {r["impl"]: r["median_s"] for r in block
                                      if r["impl"] in PEERS and r["impl"] not in THREADED_PEERS}
                    rows.extend(block)
    finally:
        gc.unfreeze()
        if torch is not None:
            torch.set_num_threads(old_threads)
    return summarize(rows)


def summarize(rows):
    """Add the target checks to cmaxfam's rows (in place; returns ``rows``):

    * ``target`` / ``meets_target``: :data:`TARGETS` for one-thread rows (None when the
      case has none);
    * ``f64_over_f32`` / ``meets_f64_target``: a float64 one-thread row's time over the
      float32 row of the same op, shape and axis (the same number of elements), against
      :data:`F64_TARGET`;
    * ``speedup_vs_1_thread``: a row at t > 1 threads: cmaxfam's one-thread time over it.
    """
    cm = {(r["op"], tuple(r["shape"]), r["axis"], r["dtype"], r["threads"]): r
          for r in rows if r["impl"] == "cmaxfam"}
    for (op, shape, axis, dtype, t), r in cm.items():
        r["target"] = r["meets_target"] = None
        r["f64_over_f32"] = r["meets_f64_target"] = r["speedup_vs_1_thread"] = None
        if t == 1:
            tgt = target_for(op, shape, axis, dtype)
            if tgt is not None:
                r["target"], r["meets_target"] = tgt, bool(r["ratio_to_copyto"] <= tgt)
            r32 = cm.get((op, shape, axis, "float32", 1))
            if dtype == "float64" and r32 is not None:
                q = r["median_s"] / r32["median_s"]
                r["f64_over_f32"], r["meets_f64_target"] = q, bool(q <= F64_TARGET)
        else:
            r1 = cm.get((op, shape, axis, dtype, 1))
            if r1 is not None:
                r["speedup_vs_1_thread"] = r1["median_s"] / r["median_s"]
    return rows


def _run_case(op, shape, axis, dtype, peers, with_alloc, min_time, repeat_time, threads, *,
              slow_repeats=SLOW_REPEATS, ref=None, other_peers=None):
    """One block: the case at ``threads`` threads.  Returns (rows, ref), ``ref`` being
    cmaxfam's result (the one given, else this block's) against which ``agrees`` is
    checked.  ``other_peers``: {peer: median seconds} of peers timed in another block
    (unthreaded ones) that count when picking the fastest peer."""
    impls, n = make_case(op, shape, axis, dtype, peers=peers, with_alloc=with_alloc,
                         n_threads=threads)
    checks = {}
    warmed = set()
    presampled = {}
    order = sorted(impls, key=lambda k: k != "cmaxfam")   # cmaxfam first: the reference
    for name in order:
        fn = impls[name]
        try:
            t0 = time.perf_counter()
            if name in ("torch", "entmax"):  # torch's allocator is invisible to tracemalloc
                peak, res = None, fn()
                dt = time.perf_counter() - t0
                if slow_repeats <= 1 and dt >= VERY_SLOW_S:
                    presampled[name] = dt   # seconds per call: this call is its sample
            else:   # (run() collects the garbage before each block)
                peak, res = peak_extra_bytes(fn, collect=False)
            if time.perf_counter() - t0 >= SLOW_S:
                warmed.add(name)  # the check call is its warm-up
        except Exception as exc:
            if name in ("copyto", "cmaxfam", "cmaxfam_alloc"):
                raise
            warnings.warn(f"{name} failed on {op} {shape} axis={axis} {dtype} ({exc!r}); "
                          "skipped", RuntimeWarning, stacklevel=2)
            del impls[name]
            continue
        if name == "cmaxfam" and ref is None:
            ref = np.array(res, copy=True)
        # random results: nothing to compare
        checks[name] = (peak, None if name == "copyto" or ref is None or _is_sampling(op)
                        else _agrees(res, ref))
        del res
    slow = set(impls) - {"copyto", "cmaxfam", "cmaxfam_alloc"}
    samples = time_calls(impls, min_time, repeat_time=repeat_time, warmed=warmed, slow=slow,
                         slow_repeats=slow_repeats, presampled=presampled)
    # (a peer timed on part of the array carries the factor to all of it)
    med = {name: float(np.median(v)) * getattr(impls[name], "scale", 1.0)
           for name, v in samples.items()}
    base = med["copyto"]
    peer_times = {p: med[p] for p in PEERS if p in med}
    for p, t in (other_peers or {}).items():
        peer_times.setdefault(p, t)
    fastest = min(peer_times, key=peer_times.get) if peer_times else None
    rows = []
    for name, t in med.items():
        peak, agrees = checks[name]
        rows.append({
            "op": op, "shape": list(shape), "axis": axis, "dtype": dtype, "impl": name,
            "threads": int(threads), "median_s": t, "ns_per_element": t / n * 1e9,
            "ratio_to_copyto": t / base,
            "ratio_to_fastest_peer": None if fastest is None else t / peer_times[fastest],
            "fastest_peer": fastest,
            "peak_extra_bytes": peak, "agrees": agrees,
            "repeats": len(samples[name]), "spread": _spread(samples[name]),
        })
    return rows, ref


# --------------------------------------------------------------------------------------
# Reporting


def _fmt_us(s):
    us = s * 1e6
    return f"{us:.0f}" if us >= 100 else f"{us:.3g}"


def _fmt_ratio(r):
    return "—" if r is None else (f"{r:.2f}" if r < 10 else f"{r:.1f}")


def _fmt_bytes(b):
    if b is None:
        return "—"
    if b < 1024:
        return f"{b} B"
    if b < 1024 ** 2:
        return f"{b / 1024:.1f} KiB"
    return f"{b / 1024 ** 2:.1f} MiB"


def _target_cell(c):
    """The target column of cmaxfam's row ``c`` (see :func:`summarize`)."""
    if c.get("target") is not None:
        return f"≤{c['target']:g} {'✓' if c['meets_target'] else '✗'}"
    if c.get("f64_over_f32") is not None:
        return (f"f64/f32 {_fmt_ratio(c['f64_over_f32'])} ≤{F64_TARGET:g} "
                f"{'✓' if c['meets_f64_target'] else '✗'}")
    if c.get("speedup_vs_1_thread") is not None:
        sp = c["speedup_vs_1_thread"]
        cell = f"×{_fmt_ratio(sp)} vs 1t"
        if c["threads"] == 2:
            cell += f" ≥{N_THREADS_TARGET:g} {'✓' if sp >= N_THREADS_TARGET else '✗'}"
        return cell
    return ""


def format_markdown(rows, *, legend=True):
    """A compact markdown table: one line per (op, shape, axis, dtype, threads).

    Columns: the thread count, copyto µs, cmaxfam µs (with ``out=``; "n/a" when this
    cmaxfam takes no ``n_threads``), cmaxfam/copyto, the target of issue 6 with ✓/✗ (float32
    at one thread: :data:`TARGETS`; float64 at one thread: float64 time over float32 time
    against :data:`F64_TARGET`; two threads: the speedup over one thread against
    :data:`N_THREADS_TARGET`), the fastest peer's time over cmaxfam's and its name, then
    for each peer its time over cmaxfam's (> 1: cmaxfam is faster), ``no out=`` (cmaxfam
    without ``out=`` over cmaxfam with it) and the peak extra memory of the cmaxfam
    ``out=`` call and the noise (the larger relative IQR of the copyto and cmaxfam
    samples).
    """
    groups: dict = {}
    for r in rows:
        key = (r["op"], tuple(r["shape"]), r["axis"], r["dtype"], r.get("threads", 1))
        groups.setdefault(key, {})[r["impl"]] = r
    peers = [p for p in PEERS if any(p in g for g in groups.values())]
    alloc = any("cmaxfam_alloc" in g for g in groups.values())
    any_target = any(g.get("cmaxfam", {}).get(k) is not None for g in groups.values()
                     for k in ("target", "f64_over_f32", "speedup_vs_1_thread"))
    head = ["op", "shape", "axis", "dtype", "threads", "copyto µs", "cmaxfam µs",
            "cmaxfam/copyto"]
    if any_target:
        head.append("target (issue 6)")
    if peers:
        head.append("fastest peer/cmaxfam")
    head += [f"{p}/cmaxfam" for p in peers]
    if alloc:
        head.append("no out=")
    head += ["cmaxfam peak mem", "noise"]
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join("---" if i < 4 or h.startswith("target") else "--:"
                            for i, h in enumerate(head)) + "|"]
    mismatches = []
    for (op, shape, axis, dtype, t), g in groups.items():
        c, cp = g.get("cmaxfam"), g.get("copyto")
        if cp is None:
            continue
        cells = [op, "x".join(map(str, shape)), str(axis), dtype, str(t),
                 _fmt_us(cp["median_s"])]
        if c is None:                            # no n_threads in this cmaxfam
            cells += ["n/a", "n/a"] + (["n/a"] if any_target else [])
            cells += (["n/a"] if peers else []) + ["—"] * len(peers)
            cells += (["—"] if alloc else []) + ["—", "—"]
            lines.append("| " + " | ".join(cells) + " |")
            continue
        cells += [_fmt_us(c["median_s"]), _fmt_ratio(c["median_s"] / cp["median_s"])]
        if any_target:
            cells.append(_target_cell(c))
        if peers:
            best = c.get("fastest_peer")
            cells.append("—" if best is None else
                         f"{_fmt_ratio(1 / c['ratio_to_fastest_peer'])} {best}")
        for p in peers:
            cells.append(_fmt_ratio(g[p]["median_s"] / c["median_s"]) if p in g else "—")
            if p in g and g[p]["agrees"] is False:
                cells[-1] += " ≠"
                mismatches.append(f"{p} on {op} {'x'.join(map(str, shape))} {dtype} "
                                  f"threads={t}")
        if alloc:
            a = g.get("cmaxfam_alloc")
            cells.append(_fmt_ratio(a["median_s"] / c["median_s"]) if a else "—")
        cells.append(_fmt_bytes(c["peak_extra_bytes"]))
        noise = max(c.get("spread", 0.0), cp.get("spread", 0.0))
        cells.append(f"{noise * 100:.0f}%")
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines)
    if legend:
        threads = sorted({r.get("threads", 1) for r in rows})
        notes = [
            "Median time per call (timeit-style loops, ≥ 5 repeats), all in one process.",
            "copyto = np.copyto(out, x) on the same array, single-threaded (VJPs: copies y; "
            "a VJP reads y and g, so its floor is ≈ 1.5× copyto); cmaxfam uses a "
            "preallocated out=, the peers allocate their results.",
            "target (issue 6): float32 at 1 thread, cmaxfam/copyto ≤ the target; float64 at "
            f"1 thread, float64 time ≤ {F64_TARGET:g}× the float32 time of the same case; at "
            f"2 threads, n_threads=2 ≥ {N_THREADS_TARGET:g}× faster than n_threads=1.",
            "peer/cmaxfam > 1 means cmaxfam is faster; fastest peer/cmaxfam: the fastest "
            "peer at that thread count (NumPy and SciPy, which have no threads, count with "
            "their 1-thread time); 'no out=' is cmaxfam without out= over cmaxfam with it; "
            "≠ marks a peer whose result disagrees with cmaxfam's.",
            "peak mem: tracemalloc peak during one cmaxfam out= call; noise: the larger "
            "relative interquartile range of the copyto and cmaxfam samples (the "
            "implementations of a case are timed interleaved).",
            f"threads: {', '.join(map(str, threads))}: cmaxfam's n_threads= (n/a when this "
            "cmaxfam has no such keyword), torch.set_num_threads for PyTorch and entmax, "
            "scikit-learn's n_threads=; NumPy and SciPy are timed at 1 thread only (— at "
            "more).",
        ]
        if any(_is_sparse(k[0]) for k in groups):
            ev = _version("entmax") if "entmax" in peers else None
            notes += [
                "sparse family: x standard-normal; entmax@A = cmaxfam.entmax(x, A); VJPs "
                "from cmaxfam's forward y and a standard-normal g.",
                f"entmax = the entmax package{f' {ev}' if ev else ''} on torch tensors "
                "(sparsemax, entmax15, entmax_bisect with 50 bisection steps for entmax@A); "
                "its VJPs: torch.autograd.grad(out, inp, g, retain_graph=True) on a "
                "precomputed forward; numpy (sparsemax only): the sort-based formula.",
                f"peers whose first call takes ≥ {SLOW_S * 1e3:g} ms are timed with a few "
                "repeats of one call (noisier than the other columns; with one repeat, the "
                f"first call alone when it takes ≥ {VERY_SLOW_S:g} s).",
            ]
        if any(k[0] in LOSS_OPS for k in groups):
            notes += [
                "losses: loss + gradient (cmaxfam: return_grad / grad_out=, mean reduction) "
                "on integer labels; torch: F.cross_entropy + backward; sklearn: "
                "HalfMultinomialLoss.loss_gradient; entmax: SparsemaxLoss / Entmax15Loss + "
                "backward (the peers take (samples, classes) only: none along axis 0).",
            ]
        if any(_is_sampling(k[0]) for k in groups):
            notes += [
                "sampling: every implementation draws from its own PCG64 Generator (cmaxfam "
                "through the bit generator's capsule); numpy = the Gumbel trick in NumPy "
                "(x + rng.gumbel(size=x.shape), then the softmax formula or np.argmax; float64 "
                "noise); choice = Generator.choice row by row with p = softmax(x) computed "
                f"beforehand, timed on {CHOICE_ROWS} rows and scaled to all the rows; "
                "sample_categorical has no out= (both cmaxfam columns allocate).",
            ]
        text += "\n\n" + "\n".join("- " + n for n in notes)
        if mismatches:
            text += "\n- RESULTS DISAGREE: " + "; ".join(mismatches)
    return text


def short_table(*, peers=("numpy", "scipy", "torch", "sklearn"), threads=True):
    """A quick (a few seconds) version of the comparison for ``python -m cmaxfam``: softmax
    at issue 6's four target shapes, and logsumexp, softmax_vjp, softmax cross-entropy
    (loss + gradient) and sparsemax at 4096x1024, float32, one thread, against the peers of
    ``peers`` that import (not the slow entmax package); with
    ``threads``, also the thread-scaling lines of softmax 4096x1024
    (:func:`threads_scaling`).  Returns the markdown text."""
    t0 = time.perf_counter()
    kw = dict(quick=True, peers=peers, with_alloc=False, min_time=0.025)
    rows = run(("softmax",), (((100000, 10), -1), ((4096, 1024), -1), ((16, 262144), -1),
                              ((1024, 4096), 0)), ("float32",), **kw)
    rows += run(("logsumexp", "softmax_vjp", "softmax_cross_entropy", "sparsemax"),
                (((4096, 1024), -1),), ("float32",), **kw)
    text = format_markdown(summarize(rows), legend=False)
    if threads:
        text += "\n\n" + format_threads_scaling(threads_scaling(("softmax",), quick=True,
                                                                 baseline=False))
    return text + f"\n\n(float32, {time.perf_counter() - t0:.1f} s; noisy: short timings; " \
                  "run benchmarks/compare.py --full for the whole comparison)"


def _targets_json(targets):
    return [{"op": o, "shape": None if sh is None else list(sh), "axis": a, "dtype": d,
             "max_ratio_to_copyto": v} for (o, sh, a, d), v in targets.items()]


def report_json(rows, *, info=None, threads_scaling=None, **extra):
    """The JSON document of a run (a dict ready for :func:`json.dump`): ``machine``
    (:func:`machine_info`), the ``targets`` (issue 6's, and the earlier ones for
    reference), ``n_threads_supported`` (whether each op's cmaxfam function takes
    ``n_threads``), ``rows`` (:func:`run`), ``threads_scaling`` (:func:`threads_scaling`
    or None) and the keyword arguments given in ``extra`` (ops, quick, elapsed_s, ...)."""
    import cmaxfam as cmf
    ops = sorted({r["op"] for r in rows}, key=lambda o: (o not in ALL_OPS, o))
    doc = {"machine": machine_info() if info is None else info}
    doc.update({k: (list(v) if isinstance(v, tuple) else v) for k, v in extra.items()})
    doc.update({
        "targets": {"issue_6": _targets_json(TARGETS), "float64_over_float32": F64_TARGET,
                    "py_threads_ratio": PY_THREADS_TARGET,
                    "n_threads_speedup": N_THREADS_TARGET,
                    "issues_3_to_5": _targets_json(EARLIER_TARGETS)},
        "n_threads_supported": {op: accepts_n_threads(_cmaxfam_fn(cmf, op)[0]) for op in ops},
        "rows": rows,
        "threads_scaling": threads_scaling,
    })
    return doc


#: The ops of :func:`threads_scaling` by default.
SCALING_OPS = ("softmax", "log_softmax", "logsumexp", "softmax_vjp", "softmax_cross_entropy",
               "sparsemax", "entmax15")


def _py_threads_wall(fns, calls):
    """Wall seconds for ``len(fns)`` Python threads, thread i calling ``fns[i]`` ``calls``
    times, all started together (a barrier) and timed until the last one ends."""
    barrier = threading.Barrier(len(fns) + 1)

    def work(fn):
        barrier.wait()
        for _ in range(calls):
            fn()

    ths = [threading.Thread(target=work, args=(fn,)) for fn in fns]
    for th in ths:
        th.start()
    barrier.wait()
    t0 = time.perf_counter()
    for th in ths:
        th.join()
    return time.perf_counter() - t0


def threads_scaling(ops=SCALING_OPS, shape=(4096, 1024), axis=-1, dtype="float32", *,
                    quick=False, py_threads=2, n_threads=2, baseline=True, progress=None,
                    repeat_s=None, repeats=None):
    """Issue 6's thread targets, on ``shape`` (default 4096x1024 float32, 16 MiB):

    * Python threads: ``py_threads`` threads each calling cmaxfam (``n_threads=1``) on its
      own arrays (own input, own ``out=``) against one thread; throughput = calls per
      second over all threads; the ratio should reach :data:`PY_THREADS_TARGET` with 2
      threads on 2 cores if the kernels run without the GIL.  The two are timed
      alternately (median over ``repeats`` repeats of about ``repeat_s`` seconds: 5 of
      0.2 s, ``quick``: 3 of 0.05 s).
    * ``n_threads``: one call with ``n_threads=n_threads`` against ``n_threads=1`` on the
      same arrays, timed interleaved (target: :data:`N_THREADS_TARGET` faster with 2);
      None ("n/a") when this cmaxfam's function takes no ``n_threads``.

    ``baseline``: also rows for ``np.copyto`` (NumPy copies without the GIL: the memory
    system's own scaling, the ceiling of a memory-bound kernel) and ``hashlib.sha256`` of
    as many bytes (pure computation without the GIL: whether this machine gives a second
    core at all, e.g. when other processes keep it busy) in Python threads.

    Returns rows {op, shape, axis, dtype, impl, py_threads, calls_per_s_1,
    calls_per_s_n, py_threads_ratio, meets_py_threads_target, n_threads,
    n_threads_1_s, n_threads_n_s, n_threads_speedup, meets_n_threads_target}.
    """
    import cmaxfam as cmf

    repeat_s = (0.05 if quick else 0.2) if repeat_s is None else repeat_s
    repeats = (3 if quick else 5) if repeats is None else repeats
    min_time, repeat_time = (0.04, 0.005) if quick else (0.2, 0.02)
    min_time, repeat_time = min(min_time, repeat_s), min(repeat_time, repeat_s)
    shape = tuple(shape)
    rows = []
    names = [("cmaxfam", op) for op in ops]
    if baseline:
        names += [("copyto", "copyto"), ("sha256", "sha256")]
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    for impl, op in names:
        if progress:
            progress(f"threads scaling: {op} {'x'.join(map(str, shape))} {dtype}")
        fns = []
        for i in range(max(1, int(py_threads))):
            if impl == "sha256":
                data = np.random.default_rng(100 + i).bytes(nbytes)
                fns.append(lambda data=data: hashlib.sha256(data).digest())
            else:
                case = "softmax" if impl == "copyto" else op
                fns.append(make_case(case, shape, axis, dtype, peers=(), with_alloc=False,
                                     seed=100 + i)[0][impl])
        for fn in fns:
            fn()                                 # warm-up (page faults, pool start)
        one = timeit.Timer(fns[0])
        calls = _calibrate(one, repeat_s)[0]
        walls = {1: [], len(fns): []}
        for _ in range(repeats):
            walls[1].append(_py_threads_wall(fns[:1], calls))
            walls[len(fns)].append(_py_threads_wall(fns, calls))
        thr1 = calls / float(np.median(walls[1]))
        thrn = len(fns) * calls / float(np.median(walls[len(fns)]))
        row = {"op": op, "shape": list(shape), "axis": axis,
               "dtype": str(np.dtype(dtype)), "impl": impl, "py_threads": len(fns),
               "calls_per_s_1": thr1, "calls_per_s_n": thrn, "py_threads_ratio": thrn / thr1,
               "meets_py_threads_target": (bool(thrn / thr1 >= PY_THREADS_TARGET)
                                           if impl == "cmaxfam" and len(fns) == 2 else None),
               "n_threads": int(n_threads), "n_threads_1_s": None, "n_threads_n_s": None,
               "n_threads_speedup": None, "meets_n_threads_target": None}
        if impl == "cmaxfam" and accepts_n_threads(_cmaxfam_fn(cmf, op)[0]):
            f1 = make_case(op, shape, axis, dtype, peers=(), with_alloc=False, n_threads=1)[0]
            fn_ = make_case(op, shape, axis, dtype, peers=(), with_alloc=False,
                            n_threads=n_threads)[0]
            samples = time_calls({"1": f1["cmaxfam"], "n": fn_["cmaxfam"]}, min_time,
                                 repeat_time=repeat_time)
            t1, tn = float(np.median(samples["1"])), float(np.median(samples["n"]))
            row.update(n_threads_1_s=t1, n_threads_n_s=tn, n_threads_speedup=t1 / tn,
                       meets_n_threads_target=(bool(t1 / tn >= N_THREADS_TARGET)
                                               if int(n_threads) == 2 else None))
        rows.append(row)
        gc.collect()
    return rows


def format_threads_scaling(rows):
    """A markdown table of :func:`threads_scaling`."""
    if not rows:
        return ""
    n = rows[0]["py_threads"]
    nt = rows[0]["n_threads"]
    lines = [f"| op | shape | dtype | 1 Python thread, calls/s | {n} Python threads, calls/s | "
             f"{n} / 1 (≥{PY_THREADS_TARGET:g}) | n_threads=1 ms | n_threads={nt} ms | "
             f"speedup (≥{N_THREADS_TARGET:g}) |",
             "|---|---|---|--:|--:|---|--:|--:|---|"]

    def mark(ok):
        return "" if ok is None else (" ✓" if ok else " ✗")

    for r in rows:
        shape = "x".join(map(str, r["shape"])) + ("" if r["axis"] in (-1, len(r["shape"]) - 1)
                                                  else f" axis {r['axis']}")
        name = {"copyto": "np.copyto (memory ceiling)",
                "sha256": "hashlib.sha256 (CPU ceiling)"}.get(r["impl"], r["op"])
        if r["n_threads_speedup"] is None:
            tail = "n/a | n/a | n/a" if r["impl"] == "cmaxfam" else "— | — | —"
        else:
            tail = (f"{r['n_threads_1_s'] * 1e3:.2f} | {r['n_threads_n_s'] * 1e3:.2f} | "
                    f"{r['n_threads_speedup']:.2f}{mark(r['meets_n_threads_target'])}")
        lines.append(f"| {name} | {shape} | {r['dtype']} | {r['calls_per_s_1']:.0f} | "
                     f"{r['calls_per_s_n']:.0f} | {r['py_threads_ratio']:.2f}"
                     f"{mark(r['meets_py_threads_target'])} | {tail} |")
    lines.append("")
    lines.append(f"(Python threads: each calls the function with n_threads=1 on its own "
                 f"arrays; n_threads: one call on the same arrays, timed interleaved with "
                 f"n_threads=1; {_usable_cores()} usable cores.")
    if any(r["impl"] == "sha256" for r in rows):
        lines[-1] += (" The ceilings: np.copyto of the same bytes, memory-bound; "
                      "hashlib.sha256 of the same bytes, pure computation without the GIL "
                      "(when it is far below 2, the machine is not giving this process a "
                      "second core: other processes keep it busy)")
    lines[-1] += ")"
    return "\n".join(lines)


def _in_cache_shape(shape, axis, itemsize, cache_bytes):
    """``shape`` with fewer slices (same slice length), at most ``cache_bytes`` an array
    (at least one slice)."""
    shape = list(shape)
    ax = axis % len(shape)
    per_slice = shape[ax] * itemsize
    others = [d for d in range(len(shape)) if d != ax]
    keep = max(1, cache_bytes // per_slice)
    for d in others:                       # the outer dims keep their slices first
        shape[d] = min(shape[d], keep)
        keep = max(1, keep // shape[d])
    return tuple(shape)


def compute_floor(ops=OPS, shapes=None, dtype="float32", *, cache_bytes=128 << 10,
                  quick=False, progress=None):
    """What each kernel costs when memory is not in the way: for each (op, shape, axis),
    cmaxfam's ns/element on the full array, and on the same slices with so few of them
    that an array holds at most ``cache_bytes`` (it stays in L2 between calls), less the
    per-call overhead measured on a single 8-element slice; against ``np.copyto`` of the
    full array.  When the in-cache time alone is above ``target x copyto``, no change of
    the passes over memory can meet the target: only less computation per element can.

    Returns rows {op, shape, axis, dtype, copyto_ns, full_ns, cache_shape, cache_ns,
    overhead_us, floor_ratio, full_ratio, target}.
    """
    shapes = SHAPES if shapes is None else _norm_shapes(shapes)
    itemsize = np.dtype(dtype).itemsize
    min_time, repeat_time = (0.05, 0.005) if quick else (0.2, 0.02)
    rows = []
    for op in ops:
        for shape, axis in shapes:
            if progress:
                progress(f"compute floor: {op} {'x'.join(map(str, shape))} axis={axis}")
            small = _in_cache_shape(shape, axis, itemsize, cache_bytes)
            tiny = tuple(8 if d == axis % len(shape) else 1 for d in range(len(shape)))
            full, n = make_case(op, shape, axis, dtype, peers=(), with_alloc=False)
            sm, n_small = make_case(op, small, axis, dtype, peers=(), with_alloc=False)
            ti = make_case(op, tiny, axis, dtype, peers=(), with_alloc=False)[0]
            samples = time_calls({"copyto": full["copyto"], "full": full["cmaxfam"],
                                  "small": sm["cmaxfam"], "tiny": ti["cmaxfam"]},
                                 min_time, repeat_time=repeat_time)
            best = {k: float(np.min(v)) for k, v in samples.items()}
            cache_ns = max(best["small"] - best["tiny"], 0.0) / n_small * 1e9
            copy_ns = best["copyto"] / n * 1e9
            rows.append({"op": op, "shape": list(shape), "axis": axis,
                         "dtype": str(np.dtype(dtype)), "copyto_ns": copy_ns,
                         "full_ns": best["full"] / n * 1e9, "cache_shape": list(small),
                         "cache_ns": cache_ns, "overhead_us": best["tiny"] * 1e6,
                         "floor_ratio": cache_ns / copy_ns,
                         "full_ratio": best["full"] / best["copyto"],
                         "target": target_for(op, shape, axis, str(np.dtype(dtype)))})
            del full, sm, ti
            gc.collect()
    return rows


def format_compute_floor(rows):
    """A markdown table of :func:`compute_floor`."""
    lines = ["| op | shape | axis | copyto ns/el | cmaxfam ns/el | in cache ns/el (shape) | "
             "per-call µs | cmaxfam/copyto | in cache/copyto | target |",
             "|---|---|---|--:|--:|--:|--:|--:|--:|---|"]
    for r in rows:
        t = r["target"]
        if t is None:
            tc = ""
        else:
            tc = f"≤{t:g} " + ("✓" if r["full_ratio"] <= t else
                               "✗ (floor above)" if r["floor_ratio"] > t else "✗")
        lines.append(f"| {r['op']} | {'x'.join(map(str, r['shape']))} | {r['axis']} | "
                     f"{r['copyto_ns']:.3f} | {r['full_ns']:.3f} | {r['cache_ns']:.3f} "
                     f"({'x'.join(map(str, r['cache_shape']))}) | {r['overhead_us']:.1f} | "
                     f"{r['full_ratio']:.2f} | {r['floor_ratio']:.2f} | {tc} |")
    lines.append("")
    lines.append("(min over samples; in cache: the same slices, few enough to stay in L2, "
                 "less the per-call time of one 8-element slice; \"floor above\": the "
                 "in-cache time alone exceeds the target, so only less computation per "
                 "element could meet it)")
    return "\n".join(lines)


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


#: the small calls' table: ops, each with how SciPy and PyTorch spell it (None: no peer)
SMALL_OPS = ("softmax", "log_softmax", "logsumexp", "sigmoid", "softmax_vjp", "sparsemax",
             "entmax15", "softmax_cross_entropy", "softmax_cross_entropy+grad")
SMALL_SHAPES = ((1, 8), (64, 10))


def _small_fns(op, x, g, labels, sp, torch):
    """{implementation: callable} for one small call: what a user writes (no out=)."""
    import cmaxfam as cmf
    fns = {}
    if op == "softmax_vjp":
        fns["cmaxfam"] = lambda: cmf.softmax_vjp(x, g)
    elif op.startswith("softmax_cross_entropy"):
        grad = op.endswith("+grad")
        fns["cmaxfam"] = lambda: cmf.softmax_cross_entropy(x, labels, return_grad=grad)
    else:
        fc = getattr(cmf, op)
        fns["cmaxfam"] = (lambda: fc(x)) if op == "sigmoid" else (lambda: fc(x, axis=-1))
    if sp is not None and op in ("softmax", "log_softmax", "logsumexp", "sigmoid"):
        fs = sp.expit if op == "sigmoid" else getattr(sp, op)
        fns["scipy"] = (lambda: fs(x)) if op == "sigmoid" else (lambda: fs(x, axis=-1))
    if torch is not None and (op in ("softmax", "log_softmax", "logsumexp", "sigmoid")
                              or op.startswith("softmax_cross_entropy")):
        xt, lt = torch.from_numpy(x), torch.from_numpy(labels)
        if op == "sigmoid":
            fns["torch"] = lambda: torch.sigmoid(xt)
        elif op == "softmax_cross_entropy":
            fns["torch"] = lambda: torch.nn.functional.cross_entropy(xt, lt)
        elif op == "softmax_cross_entropy+grad":
            def fwd_bwd():
                a = xt.detach().requires_grad_(True)
                torch.nn.functional.cross_entropy(a, lt).backward()
                return a.grad
            fns["torch"] = fwd_bwd
        else:
            ft = getattr(torch, op)
            fns["torch"] = lambda: ft(xt, -1)
    return fns


def small_calls(ops=SMALL_OPS, shapes=SMALL_SHAPES, dtype="float32", *, quick=False, progress=None):
    """Per-call time of small arrays (where the Python around the kernels is most of it),
    cmaxfam against SciPy and PyTorch (one thread) when they import, timed interleaved.
    Returns rows of {op, shape, dtype, us: {implementation: median microseconds}}."""
    sp, torch = _import_peer("scipy"), _import_peer("torch")
    if torch is not None:
        torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    rows = []
    for shape in shapes:
        x = rng.standard_normal(shape).astype(dtype)
        g = rng.standard_normal(shape).astype(dtype)
        labels = rng.integers(0, shape[-1], shape[:-1])
        for op in ops:
            if progress:
                progress(f"small call: {op} {'x'.join(map(str, shape))}")
            fns = _small_fns(op, x, g, labels, sp, torch)
            samples = time_calls(fns, 0.05 if quick else 0.2, repeat_time=0.005 if quick else 0.02)
            rows.append({"op": op, "shape": tuple(shape), "dtype": dtype,
                         "us": {k: float(np.median(v)) * 1e6 for k, v in samples.items()}})
    return rows


def format_small_calls(rows):
    """A markdown table of :func:`small_calls`: microseconds per call, and the fastest
    peer's time over cmaxfam's (> 1: cmaxfam is faster)."""
    lines = ["| op | shape | cmaxfam µs | SciPy µs | PyTorch µs | fastest peer / cmaxfam |",
             "|---|---|--:|--:|--:|--:|"]
    for r in rows:
        us = r["us"]
        peers = [us[p] for p in ("scipy", "torch") if p in us]
        cell = lambda p: f"{us[p]:.1f}" if p in us else "–"  # noqa: E731
        ratio = f"{min(peers) / us['cmaxfam']:.2f}" if peers else "–"
        lines.append(f"| {r['op']} | {'x'.join(map(str, r['shape']))} | {us['cmaxfam']:.1f} | "
                     f"{cell('scipy')} | {cell('torch')} | {ratio} |")
    lines.append("")
    lines.append("(median per call, float32, one thread, no out=: what a user writes; the "
                 "+grad row is PyTorch's forward and backward())")
    return "\n".join(lines)


def rng_routes(shape=(4096, 1024), dtype="float32", *, quick=False):
    """Is drawing through the bit generator's capsule slower than materialising the draws
    in NumPy first?  Times, interleaved, on an array of ``shape``:

    * ``capsule noise``: the Gumbel-noise kernel drawing from the Generator's ``bitgen_t``
      (what gumbel_softmax does);
    * ``materialised noise``: ``bit_generator.random_raw(size)`` (a uint64 array made in
      Python), then the same kernel reading those words;
    * ``Generator.random(out=)``: float64 uniforms materialised, alone (for scale);
    * ``gumbel_softmax capsule``: the whole op with ``out=``;
    * ``gumbel_softmax materialised``: ``random_raw``, the same kernel into ``out``, then
      ``out += x`` and ``softmax(out, out=out)``.

    Returns rows {route, median_s, ns_per_element, ratio}; ratio is the time over the
    capsule route of the same quantity (noise or op; None for the uniforms)."""
    import cmaxfam as cmf
    from cmaxfam._cy import sampling as k

    x = 3 * np.random.default_rng(0).standard_normal(shape).astype(dtype)
    n = x.size
    out = np.empty_like(x)
    flat = out.reshape(1, n, 1)                       # the noise kernel's view of out
    gens = [np.random.default_rng(s) for s in range(5)]
    u = np.empty(n)

    def materialised_op():
        k.gumbel_noise_from_words(gens[4].bit_generator.random_raw(n), flat)
        np.add(out, x, out=out)
        cmf.softmax(out, out=out)

    fns = {
        "capsule noise": lambda: k.gumbel_noise_slices(gens[0].bit_generator, [(None, flat, None)]),
        "materialised noise": lambda: k.gumbel_noise_from_words(gens[1].bit_generator.random_raw(n), flat),
        "Generator.random(out=)": lambda: gens[2].random(out=u),
        "gumbel_softmax capsule": lambda: cmf.gumbel_softmax(x, rng=gens[3], out=out),
        "gumbel_softmax materialised": materialised_op,
    }
    samples = time_calls(fns, 0.04 if quick else 0.2, repeat_time=0.005 if quick else 0.02)
    med = {name: float(np.median(v)) for name, v in samples.items()}
    base = {"materialised noise": "capsule noise", "capsule noise": "capsule noise",
            "gumbel_softmax capsule": "gumbel_softmax capsule",
            "gumbel_softmax materialised": "gumbel_softmax capsule"}
    return [{"route": name, "median_s": t, "ns_per_element": t / n * 1e9,
             "ratio": t / med[base[name]] if name in base else None,
             "shape": list(shape), "dtype": str(np.dtype(dtype))} for name, t in med.items()]


def format_rng_routes(rows):
    """A markdown table of :func:`rng_routes`."""
    lines = ["| route | shape | dtype | ms | ns/element | × capsule route |", "|---|---|---|--:|--:|--:|"]
    for r in rows:
        lines.append(f"| {r['route']} | {'x'.join(map(str, r['shape']))} | {r['dtype']} | "
                     f"{r['median_s'] * 1e3:.2f} | {r['ns_per_element']:.2f} | {_fmt_ratio(r['ratio'])} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Machine description


def _cpuinfo():
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor is enough
                k, _, v = line.partition(":")
                info[k.strip()] = v.strip()
    except OSError:
        pass
    return info


def machine_info():
    """A dict describing the machine and the library versions."""
    ci = _cpuinfo()
    model = ci.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in ci:
        model += f" (family {ci['cpu family']} model {ci.get('model', '?')})"
    flags = set(ci.get("flags", "").split())
    isa = [f for f in ("avx2", "fma", "avx512f", "avx512bw", "avx512vl") if f in flags]
    usable = _usable_cores()
    import cmaxfam
    try:  # the kernel path chosen at import (CMAXFAM_ISA can override it)
        cfg = cmaxfam._config.config()
        kernels = f"{cfg['isa_active']} (detected {cfg['isa_detected']})"
    except Exception:
        kernels = None
    return {
        "cpu": model,
        "isa": " ".join(isa) if isa else None,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "cache": ci.get("cache size"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cmaxfam": cmaxfam.__version__,
        "cmaxfam_kernels": kernels,
        "numpy": np.__version__,
        "scipy": _version("scipy"),
        "torch": _version("torch"),
        "entmax": _version("entmax"),
        "sklearn": _version("sklearn"),
    }
