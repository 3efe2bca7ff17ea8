"""dtype/axis plumbing between the public functions and the compiled kernels.

The kernels see every array as (n_outer, n, n_inner) with element strides (see
src/cmaxfam.h).  This module turns N-d arrays of any layout into such 3-D *views*
(no copies), handles reductions over several axes, and allocates results.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import _pool
from ._validation import normalize_axes


class AxisPlan:
    """How a call reduces ``shape`` along ``axis`` (an int, a tuple or None).

    Several axes are moved to the end and flattened into one ("work" arrays); a single
    axis is used in place.
    """

    def __init__(self, shape, axis, *, allow_multiple):
        self.shape = tuple(shape)
        self.axes = normalize_axes(axis, len(self.shape), allow_multiple=allow_multiple)
        self.keep_shape = tuple(1 if d in self.axes else s for d, s in enumerate(self.shape))
        self.red_shape = tuple(s for d, s in enumerate(self.shape) if d not in self.axes)
        self.single = len(self.axes) == 1
        if self.single:
            self.axis = self.axes[0]
            self.work_shape = self.shape
        else:
            self.axis = len(self.red_shape)
            self.work_shape = self.red_shape + (math.prod(self.shape[a] for a in self.axes),)
        self.n = self.work_shape[self.axis]

    @property
    def work_keep_shape(self):
        return self.work_shape[: self.axis] + (1,) + self.work_shape[self.axis + 1:]

    def to_work(self, a):
        """An array of ``shape`` as the work array (a view when possible)."""
        if self.single or a is None:
            return a
        k = len(self.axes)
        return np.moveaxis(a, self.axes, range(-k, 0)).reshape(self.work_shape)

    def keep_to_work(self, a):
        """A keepdims-shaped array as the work keepdims shape."""
        if self.single or a is None:
            return a
        return a.reshape(self.work_keep_shape)

    def from_work(self, a):
        """A work-shaped result back to ``shape``."""
        if self.single:
            return a
        k = len(self.axes)
        moved = self.red_shape + tuple(self.shape[d] for d in self.axes)
        return np.moveaxis(a.reshape(moved), range(-k, 0), self.axes)


def kernel_ready(a):
    """``a`` if the kernels can read it in place (aligned: strides divide the itemsize),
    else an aligned copy."""
    if a is None or a.flags.aligned:
        return a
    return np.array(a, order="C")


def _view(a, shape, strides):
    """``a``'s memory seen with ``shape`` and ``strides`` (bytes); writeable when ``a`` is.
    A contiguous ``a`` (the usual case) is viewed through its own buffer, about ten times
    cheaper than ``as_strided`` (which rebuilds an ``__array_interface__`` per call)."""
    if a.flags.forc:
        return np.ndarray(shape, a.dtype, a, 0, strides)
    if not a.flags.writeable and not any(a.strides):      # a broadcast parameter value
        one = np.array(a[(0,) * a.ndim])
        one.flags.writeable = False
        return np.ndarray(shape, a.dtype, one, 0, strides)
    return as_strided(a, shape=shape, strides=strides, writeable=a.flags.writeable)


def per_slice(a, shape, axis):
    """A keepdims-shaped array seen with ``shape`` (stride 0 along ``axis``); writeable
    when ``a`` is (the kernels write each slice's value once)."""
    strides = list(a.strides)
    strides[axis] = 0
    return _view(a, shape, tuple(strides))


def _merge(shape, strides_list, dims):
    """Merge consecutive dims whose strides allow it in every array.  Returns a list of
    (size, [stride per array]) groups, outermost first."""
    groups = []
    for d in dims:
        if shape[d] == 1:
            continue
        st = [s[d] for s in strides_list]
        if groups:
            size, gst = groups[-1]
            if all(g == s * shape[d] for g, s in zip(gst, st)):
                groups[-1] = (size * shape[d], st)
                continue
        groups.append((shape[d], st))
    return groups


def slice_views(axis, arrays):
    """3-D (outer, n, inner) views of same-shape arrays reduced along ``axis``.

    ``arrays`` may contain None.  Returns a list of tuples (one per chunk; one chunk unless
    the non-reduced dimensions cannot be merged without a copy, when the outer ones are
    iterated here).
    """
    live = [a for a in arrays if a is not None]
    shape = live[0].shape
    strides_list = [a.strides for a in live]
    pre = _merge(shape, strides_list, range(axis))
    post = _merge(shape, strides_list, range(axis + 1, len(shape)))
    if len(pre) > 1 or len(post) > 1:
        # Split on the outermost dimension that is not the reduced axis and recurse.
        d = 0 if axis != 0 else 1
        out = []
        for i in range(shape[d]):
            sub = [None if a is None else a[(slice(None),) * d + (i,)] for a in arrays]
            out.extend(slice_views(axis - (d < axis), sub))
        return out
    n = shape[axis]
    O, so = pre[0] if pre else (1, [0] * len(live))
    I, si = post[0] if post else (1, [0] * len(live))
    views = []
    j = 0
    for a in arrays:
        if a is None:
            views.append(None)
            continue
        views.append(_view(a, (O, n, I), (so[j], a.strides[axis], si[j])))
        j += 1
    return [tuple(views)]


def mask_u8(where):
    """The boolean mask as uint8 (what the kernels read)."""
    return None if where is None else where.view(np.uint8)


def result_array(out, shape, compute_dtype, result_dtype, inputs=(), inplace_ok=()):
    """Where the kernel should write: ``out`` itself when possible, else a fresh array.

    A fresh array is used when no ``out`` was given, when ``out`` needs a dtype conversion
    (float16 results), when it is misaligned, or when it overlaps an input other than in
    the exact same layout (``inplace_ok`` lists the inputs that may be ``out`` itself).
    Returns ``(target, needs_copy)``.
    """
    if out is None:
        return np.empty(shape, dtype=compute_dtype), False
    if out.dtype != compute_dtype or not out.flags.aligned:
        return np.empty(shape, dtype=compute_dtype), True
    for k, a in enumerate(inputs):
        if a is None or not np.may_share_memory(out, a):
            continue
        same = (k in inplace_ok and a.dtype == out.dtype
                and a.__array_interface__["data"][0] == out.__array_interface__["data"][0]
                and a.strides == out.strides)
        if not same:
            return np.empty(shape, dtype=compute_dtype), True
    return out, False


def finish(target, out, needs_copy, result_dtype):
    """Deliver a result: into ``out`` (copying/casting if needed) or as a new array."""
    if out is not None:
        if needs_copy:
            np.copyto(out, target, casting="unsafe")
        return out
    if target.dtype != result_dtype:
        return target.astype(result_dtype)
    return target


def finish_per_slice(res, plan, keepdims, out, rdt):
    """Deliver a per-slice float64 result (keepdims-shaped) of a reduction: into ``out``, or
    as a new array of the result dtype (a NumPy scalar for a 0-d result)."""
    shaped = res if keepdims else res.reshape(plan.red_shape)
    with np.errstate(over="ignore"):             # beyond float32's range is inf, quietly
        if out is not None:
            np.copyto(out, shaped, casting="unsafe")
            return out
        shaped = np.asarray(shaped, dtype=rdt)
    return shaped[()] if shaped.ndim == 0 else shaped


#: Calls smaller than this (bytes of the first array) never start threads: handing a task
#: to a pool thread and waiting for it costs ~50 us (a thread wake-up; measured on a 2-vCPU
#: VM), as much as a softmax of 0.5 MiB, so n_threads=2 only pays from about 4 MiB
#: (1 MiB: 0.78x, 2 MiB: 0.98x, 4 MiB: 1.32x, 16 MiB: 1.74x for softmax).
MIN_PARALLEL_BYTES = 4 << 20
#: Each thread gets at least this many bytes.
MIN_TASK_BYTES = 2 << 20
#: Split points are multiples of this many slices (or elements, along the axis of an
#: elementwise op), so that every slice sits at the same position within the kernels' lane
#: blocks and vector loops as in a one-thread run: the results are bitwise identical.
#: Slices at least this long are cut at any slice boundary instead (16 rows of 262144 split
#: 8 + 8): the kernels compute such a slice alone, or as a lane whose result does not
#: depend on its neighbours (tests/test_kernel_paths.py checks that), so it gets the same
#: bits wherever the cut falls.
SPLIT_ALIGN = 256


def _nbytes(views):
    v = next(a for a in views if a is not None)
    return math.prod(v.shape) * v.itemsize


def _cut(views, dim, lo, hi):
    idx = (slice(None),) * dim + (slice(lo, hi),)
    return tuple(None if v is None else v[idx] for v in views)


def _pieces(views, k, along_axis):
    """Split one chunk of 3-D views into about ``k`` pieces of whole slices (or, with
    ``along_axis``, of the axis too: elementwise ops), cut at multiples of SPLIT_ALIGN
    (at any slice when the slices are at least SPLIT_ALIGN long)."""
    v = next(a for a in views if a is not None)
    dims = (0, 2, 1) if along_axis else (0, 2)
    dim = max(dims, key=lambda d: v.shape[d])
    size = v.shape[dim]
    align = 1 if not along_axis and v.shape[1] >= SPLIT_ALIGN else SPLIT_ALIGN
    k = max(1, min(k, size // align))
    if k == 1:
        return [views]
    step = -(-size // k)
    step = -(-step // align) * align
    return [_cut(views, dim, lo, min(lo + step, size)) for lo in range(0, size, step)]


def run_slices(kernel, axis, arrays, n_threads=1, *, along_axis=False):
    """Run ``kernel(*views)`` over the 3-D views of ``arrays`` (see :func:`slice_views`),
    on up to ``n_threads`` threads.

    Threads split whole slices only (never a reduction within a slice), at multiples of
    SPLIT_ALIGN (any slice when slices are that long), and only for calls of at least
    MIN_PARALLEL_BYTES: the result is bitwise the same for every ``n_threads``.  ``along_axis``: the op is elementwise, so the axis
    may be split too (a 1-d array is one long "slice").
    """
    chunks = slice_views(axis, arrays)
    if n_threads == 1:
        for vs in chunks:
            kernel(*vs)
        return
    total = sum(_nbytes(c) for c in chunks)
    k = min(n_threads, total // MIN_TASK_BYTES) if total >= MIN_PARALLEL_BYTES else 1
    if k <= 1:
        for vs in chunks:
            kernel(*vs)
        return
    pieces = []
    for c in chunks:
        pieces.extend(_pieces(c, -(-k * _nbytes(c) // total), along_axis))
    # Consecutive pieces into k groups of about equal size.
    groups, acc, per = [[]], 0, total / k
    for p in pieces:
        if groups[-1] and acc >= per * len(groups) and len(groups) < k:
            groups.append([])
        groups[-1].append(p)
        acc += _nbytes(p)
    _pool.run_tasks([lambda g=g: [kernel(*vs) for vs in g] for g in groups])
