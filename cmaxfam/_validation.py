"""Validation of every public argument, in one place.

Every check runs before anything is computed or written: a call that fails raises here
and leaves ``out`` untouched.  Wrong types raise ``TypeError``; wrong values raise
``ValueError`` naming the parameter; bad axes raise ``numpy.exceptions.AxisError``.
"""
from __future__ import annotations

import operator
import os

import math

import numpy as np
from numpy.exceptions import AxisError

__all__ = [
    "as_float_array",
    "normalize_axes",
    "check_where",
    "check_out",
    "check_same_shape",
    "slice_param",
    "elementwise_temperature",
    "check_weights",
    "check_alpha",
    "check_choice",
    "check_label_smoothing",
    "check_sample_weight",
    "check_loss_target",
    "check_rng",
    "check_size",
    "check_n_threads",
    "cpu_count",
    "AxisError",
]

_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)


def as_float_array(x, name="x"):
    """Return ``(array, result_dtype)``: the array in its compute dtype.

    float32/float64 are used as they are; float16 is computed in float32 and returned as
    float16; integers and bools become float64.  Anything else is a ``TypeError``.
    """
    a = np.asarray(x)
    dt = a.dtype
    if dt.kind == "f" and not dt.isnative:          # e.g. '>f8': same values, native order
        dt = dt.newbyteorder("=")
        a = a.astype(dt)
    if dt == _F32 or dt == _F64:
        return a, dt
    if dt == _F16:
        return a.astype(_F32), dt
    if dt.kind in "biu":
        return a.astype(_F64), _F64
    raise TypeError(
        f"{name} must be a real floating-point (float16, float32, float64), integer or bool "
        f"array; got dtype {dt}"
    )


def normalize_axes(axis, ndim, *, allow_multiple):
    """Return the reduced axes as a sorted tuple of non-negative ints."""
    if axis is None:
        if not allow_multiple:
            raise TypeError("axis must be an integer for this function")
        return tuple(range(ndim))
    if isinstance(axis, tuple):
        if not allow_multiple:
            raise TypeError("axis must be an integer for this function, not a tuple")
        axes = tuple(_one_axis(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"axis contains a repeated axis: {axis}")
        return tuple(sorted(axes))
    return (_one_axis(axis, ndim),)


def _one_axis(axis, ndim):
    try:
        a = operator.index(axis)
    except TypeError:
        raise TypeError(f"axis must be an integer, a tuple of integers or None; got {axis!r}") from None
    if not -ndim <= a < ndim:
        raise AxisError(a, ndim)
    return a % ndim


def check_where(where, shape):
    """``where`` as a boolean array broadcast to ``shape`` (or None)."""
    if where is None:
        return None
    w = np.asarray(where)
    if w.dtype != np.bool_:
        raise TypeError(f"where must be a boolean array; got dtype {w.dtype}")
    try:
        return np.broadcast_to(w, shape)
    except ValueError:
        raise ValueError(f"where of shape {w.shape} does not broadcast to the input's shape {shape}") from None


def check_out(out, shape, dtype, name="out"):
    """``out`` must be a writeable ndarray of exactly the result's shape and dtype."""
    if out is None:
        return None
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray; got {type(out).__name__}")
    if out.dtype != dtype:
        raise TypeError(f"{name} has dtype {out.dtype}, but the result has dtype {dtype}")
    if out.shape != tuple(shape):
        raise ValueError(f"{name} has shape {out.shape}, but the result has shape {tuple(shape)}")
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only")
    return out


def check_same_shape(a, shape, name):
    if a.shape != tuple(shape):
        raise ValueError(f"{name} has shape {a.shape}; expected {tuple(shape)}")
    return a


def fill_value(value, shape):
    """A read-only float64 array of ``shape`` holding ``value`` everywhere, over one element
    (stride 0): what ``np.broadcast_to`` gives, at a fraction of its cost per call."""
    one = np.array(float(value))
    one.flags.writeable = False
    return np.ndarray(shape, np.float64, one, 0, (0,) * len(shape))


def common_alpha(alpha):
    """entmax's alpha as a float when it is a Python float or int that :func:`check_alpha`
    accepts, else None (the general path then validates)."""
    if type(alpha) is float:
        return alpha if 1.0 <= alpha < math.inf else None
    if type(alpha) is int and 1 <= alpha <= 1 << 1000:
        return float(alpha)
    return None


def slice_param(value, plan, name, *, check=True):
    """A per-slice value as a float64 array of the keepdims shape.

    Accepts a scalar, an array broadcastable to the slices' shape (the input's shape
    without the reduced axes), or an array of the input's ndim whose reduced axes have
    length 1 (the keepdims shape).  With ``check`` (parameters such as the temperature)
    every value must be positive and finite; without it (forward values and cotangents
    given to derivatives) any real value is accepted: NaN and infinities propagate to
    their slice only.
    """
    if type(value) is float or type(value) is int:   # the usual case, a Python scalar
        v = float(value)
        if check and not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be positive and finite; got {v}")
        return fill_value(v, plan.keep_shape)
    v = _real_parameter(value, name)
    if check:
        bad = ~(np.isfinite(v) & (v > 0))
        if bad.any():
            raise ValueError(f"{name} must be positive and finite; got "
                             f"{v if v.ndim == 0 else v[bad].ravel()[:3]}")
    if v.ndim == 0:
        return np.broadcast_to(v, plan.keep_shape)
    if v.ndim == len(plan.shape) and all(v.shape[a] == 1 for a in plan.axes):
        try:
            return np.broadcast_to(v, plan.keep_shape)
        except ValueError:
            pass
    try:
        r = np.broadcast_to(v, plan.red_shape)
    except ValueError:
        raise ValueError(
            f"{name} of shape {v.shape} does not broadcast to the slices' shape {plan.red_shape}"
        ) from None
    return np.expand_dims(r, plan.axes)


def _real_parameter(value, name):
    v = np.asarray(value)
    if v.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real number or an array of real numbers; got dtype {v.dtype}")
    return v.astype(np.float64, copy=False)


def elementwise_temperature(temperature, shape):
    """The temperature of an elementwise op: positive, finite, broadcastable to ``shape``."""
    v = _real_parameter(temperature, "temperature")
    if not np.all(np.isfinite(v) & (v > 0)):
        raise ValueError("temperature must be positive and finite")
    try:
        return np.broadcast_to(v, shape)
    except ValueError:
        raise ValueError(f"temperature of shape {v.shape} does not broadcast to {shape}") from None


def check_weights(b, x):
    """logsumexp's weights: any real array broadcastable to ``x``.  Returns ``(x, b, result
    dtype)`` in one compute dtype; ``b`` is cast before it is broadcast (a view, never an
    input-sized copy)."""
    a, rdt = x
    if b is None:
        return a, None, rdt
    bb, brdt = as_float_array(b, "b")
    dt = np.promote_types(a.dtype, bb.dtype)
    try:
        bb = np.broadcast_to(bb.astype(dt, copy=False), a.shape)
    except ValueError:
        raise ValueError(f"b of shape {bb.shape} does not broadcast to the input's shape {a.shape}") from None
    return a.astype(dt, copy=False), bb, np.promote_types(rdt, brdt)


def check_alpha(alpha, plan):
    """entmax's alpha: finite and >= 1, a scalar or per slice (as the temperature)."""
    if type(alpha) is float or type(alpha) is int:   # the usual case, a Python scalar
        a = float(alpha)
        if not (math.isfinite(a) and a >= 1):
            raise ValueError(f"alpha must be >= 1 and finite; got {a}")
        return fill_value(a, plan.keep_shape)
    v = _real_parameter(alpha, "alpha")
    bad = ~(np.isfinite(v) & (v >= 1))
    if bad.any():
        raise ValueError(f"alpha must be >= 1 and finite; got {v if v.ndim == 0 else v[bad].ravel()[:3]}")
    return slice_param(v, plan, "alpha", check=False)


# ---------- the losses ----------

def check_choice(value, name, choices):
    """A string parameter among ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}; got {value!r}")
    return value


def check_label_smoothing(value):
    """label_smoothing: a real number in [0, 1]."""
    v = _real_parameter(value, "label_smoothing")
    if v.ndim != 0 or not (0.0 <= float(v) <= 1.0):
        raise ValueError(f"label_smoothing must be a number in [0, 1]; got {value!r}")
    return float(v)


def check_sample_weight(sample_weight, plan):
    """Per-slice (per-sample) weights: finite and >= 0, broadcastable to the slices; as a
    keepdims-shaped float64 array (ones when None)."""
    if sample_weight is None:
        return fill_value(1.0, plan.keep_shape)
    v = _real_parameter(sample_weight, "sample_weight")
    if not np.all(np.isfinite(v) & (v >= 0)):
        raise ValueError("sample_weight must be finite and >= 0")
    return slice_param(v, plan, "sample_weight", check=False)


def check_loss_target(target, a, plan, ignore_index):
    """A loss's target: class labels (one per slice) or distributions (the logits' shape).

    Returns ``(labels, dist)``, one of them None: ``labels`` a keepdims-shaped float64 array
    of class indices with -1 where ``ignore_index`` matches; ``dist`` an array of the
    logits' shape and compute dtype.  Labels must be integers (or integral floats) in
    [0, n); a distribution must be finite, >= 0 and sum to 1 along the axis.
    """
    tg = np.asarray(target)
    if tg.dtype.kind not in "biuf":
        raise TypeError(f"target must be an integer (class labels) or real (probabilities) array; "
                        f"got dtype {tg.dtype}")
    n = plan.n
    if tg.shape == a.shape:
        if ignore_index is not None:
            raise ValueError("ignore_index applies to class labels only; target holds probabilities")
        y = tg.astype(a.dtype, copy=False)
        if not np.all(np.isfinite(y)) or np.any(y < 0):
            raise ValueError("target probabilities must be finite and >= 0")
        s = y.sum(axis=plan.axis, dtype=np.float64)
        tol = 1e-6 if a.dtype == np.float64 else 1e-3
        if np.any(np.abs(s - 1.0) > tol):
            raise ValueError(f"target probabilities must sum to 1 along axis {plan.axis} "
                             f"(within {tol:g}); got sums such as {s[np.abs(s - 1.0) > tol].ravel()[0]:.6g}")
        return None, y
    try:
        lab = np.broadcast_to(tg, plan.red_shape)
    except ValueError:
        raise ValueError(f"target of shape {tg.shape} is neither class labels of shape {plan.red_shape} "
                         f"nor probabilities of the logits' shape {a.shape}") from None
    if lab.dtype.kind in "iu" and ignore_index is None and (lab.size == 0 or (lab.min() >= 0 and lab.max() < n)):
        # the usual case (integer labels in range, none ignored): no mask temporaries
        return np.expand_dims(lab.astype(np.float64), plan.axes), None
    if lab.dtype.kind == "f":
        if not np.all(np.isfinite(lab) & (lab == np.round(lab))):
            raise ValueError("target class labels must be integers")
    elif lab.dtype.kind == "b":
        raise TypeError("target class labels must be integers, not booleans")
    lab = lab.astype(np.float64)
    if ignore_index is not None:
        try:
            ign = operator.index(ignore_index)
        except TypeError:
            raise TypeError(f"ignore_index must be an integer or None; got {ignore_index!r}") from None
        ignored = lab == ign
    else:
        ignored = np.zeros(lab.shape, dtype=bool)
    bad = ~ignored & ~((lab >= 0) & (lab < n))
    if bad.any():
        raise ValueError(f"target class labels must lie in [0, {n}) (or equal ignore_index); "
                         f"got {lab[bad].ravel()[0]:.0f}")
    lab = np.where(ignored, -1.0, lab)
    return np.expand_dims(lab, plan.axes), None


# ---------- sampling ----------

def check_rng(rng):
    """The sampling functions' ``rng`` as a ``numpy.random.Generator``: a Generator is used
    as it is (its state advances), an integer seed gives ``default_rng(seed)``, None a
    fresh ``default_rng()`` seeded by the OS."""
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        if rng < 0:
            raise ValueError(f"rng: a seed must be a non-negative integer; got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError("rng must be a numpy.random.Generator, an integer seed or None; "
                    f"got {type(rng).__name__}")


def check_size(size):
    """``size`` of a sampler as a tuple of non-negative ints: None is (), an int n is (n,)."""
    if size is None:
        return ()
    try:
        dims = (operator.index(size),)
    except TypeError:
        try:
            dims = tuple(operator.index(d) for d in size)
        except TypeError:
            raise TypeError(f"size must be None, an integer or a tuple of integers; got {size!r}") from None
    if any(d < 0 for d in dims):
        raise ValueError(f"size must not be negative; got {size!r}")
    return dims


def check_n_threads(n_threads):
    """``n_threads`` as a positive int: None or -1 mean every core this process may use."""
    if n_threads is None:
        return cpu_count()
    if isinstance(n_threads, (bool, np.bool_)) or not isinstance(n_threads, (int, np.integer)):
        raise TypeError(f"n_threads must be an integer or None; got {n_threads!r}")
    n = int(n_threads)
    if n == -1:
        return cpu_count()
    if n < 1:
        raise ValueError(f"n_threads must be >= 1, or -1 / None for all cores; got {n}")
    return n


def cpu_count():
    """The number of cores this process may run on (its affinity mask where known)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


# ---------- estimator parameters (cmaxfam.sklearn) ----------

def check_number(value, name, *, integer=False, low=None, low_open=False, high=None):
    """A scalar parameter: a real (or, with ``integer``, an integral) finite number with
    ``low <= value`` (``low < value`` with ``low_open``) and ``value <= high``.  Returns it
    as a Python float or int."""
    kinds = "iu" if integer else "iuf"
    arr = np.asarray(value)
    if isinstance(value, (bool, np.bool_)) or arr.ndim != 0 or arr.dtype.kind not in kinds:
        raise TypeError(f"{name} must be {'an integer' if integer else 'a real number'}; got {value!r}")
    v = int(arr) if integer else float(arr)
    ok = np.isfinite(v) and (low is None or (v > low if low_open else v >= low)) and (high is None or v <= high)
    if not ok:
        lo = "" if low is None else f"{'>' if low_open else '>='} {low}"
        hi = "" if high is None else f"<= {high}"
        raise ValueError(f"{name} must be finite{', ' + lo if lo else ''}{', ' + hi if hi else ''}; got {value!r}")
    return v


def check_fit_sample_weight(sample_weight, n_samples):
    """Estimator ``fit(..., sample_weight=)``: None (ones), a scalar (that weight for every
    sample) or one finite weight >= 0 per sample; a new float64 array of shape
    (n_samples,)."""
    if sample_weight is None:
        return np.ones(n_samples)
    v = _real_parameter(sample_weight, "sample_weight")
    if v.ndim == 0:
        v = np.full(n_samples, float(v))
    if v.shape != (n_samples,):
        raise ValueError(f"sample_weight must have shape ({n_samples},); got {v.shape}")
    if not np.all(np.isfinite(v) & (v >= 0)):
        raise ValueError("sample_weight must be finite and >= 0")
    return np.array(v, dtype=np.float64)
