"""The elementwise (two-class) members: sigmoid, log_sigmoid, softplus, and derivatives."""
from __future__ import annotations

import numpy as np

from . import _plumbing as P
from ._cy import elementwise as _k
from ._validation import (as_float_array, check_n_threads, check_out, check_same_shape,
                          elementwise_temperature)

__all__ = ["sigmoid", "log_sigmoid", "softplus",
           "sigmoid_vjp", "sigmoid_jvp", "log_sigmoid_vjp", "log_sigmoid_jvp",
           "softplus_vjp", "softplus_jvp"]

_OPS = {"sigmoid": 0, "log_sigmoid": 1, "softplus": 2}


def _fast_axis(a):
    """The axis with the smallest stride: the kernels run along it."""
    if a.ndim == 0:
        return 0
    cand = [d for d in range(a.ndim) if a.shape[d] > 1] or [a.ndim - 1]
    return min(cand, key=lambda d: abs(a.strides[d]))


def _run(fn, arrays, out, rdt, shape, scalar, op, inputs, n_threads):
    a = arrays[0]
    target, copy = P.result_array(out, shape, a.dtype, rdt, inputs=inputs, inplace_ok=(0, 1))
    if a.size:
        arrs = [P.kernel_ready(x) for x in arrays] + [target]
        if a.ndim == 0:
            arrs = [x.reshape(1) for x in arrs]
        P.run_slices(lambda *views: fn(*views, op), _fast_axis(arrs[0]), arrs, n_threads,
                     along_axis=True)
    res = P.finish(target, out, copy, rdt)
    return res[()] if scalar and out is None else res


def _forward(name, x, temperature, out, n_threads):
    a, rdt = as_float_array(x)
    nt = check_n_threads(n_threads)
    t = elementwise_temperature(temperature, a.shape)
    check_out(out, a.shape, rdt)
    return _run(_k.elementwise_slices, [a, t], out, rdt, a.shape, a.ndim == 0, _OPS[name], (a,), nt)


def _derivative(name, y, v, vname, temperature, out, n_threads):
    ya, yrdt = as_float_array(y, "y")
    nt = check_n_threads(n_threads)
    va, vrdt = as_float_array(v, vname)
    check_same_shape(va, ya.shape, vname)
    dt = np.promote_types(ya.dtype, va.dtype)
    rdt = np.promote_types(yrdt, vrdt)
    ya, va = ya.astype(dt, copy=False), va.astype(dt, copy=False)
    t = elementwise_temperature(temperature, ya.shape)
    check_out(out, ya.shape, rdt)
    return _run(_k.elementwise_d_slices, [ya, va, t], out, rdt, ya.shape, ya.ndim == 0,
                _OPS[name], (ya, va), nt)


def sigmoid(x, *, temperature=1.0, out=None, n_threads=1):
    r"""Logistic sigmoid ``1 / (1 + exp(-x / t))`` = ``softmax([x, 0] / t)[0]``.

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> float(cmf.sigmoid(0.0))
    0.5
    """
    return _forward("sigmoid", x, temperature, out, n_threads)


def log_sigmoid(x, *, temperature=1.0, out=None, n_threads=1):
    r"""``log sigmoid(x / t)`` = ``min(z, 0) - log1p(exp(-|z|))``, exact for large ``|x|``.

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> float(cmf.log_sigmoid(-1000.0))
    -1000.0
    """
    return _forward("log_sigmoid", x, temperature, out, n_threads)


def softplus(x, *, temperature=1.0, out=None, n_threads=1):
    r"""``t * log(1 + exp(x / t))`` = ``logsumexp([x, 0]; t)``, never overflowing.

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> float(cmf.softplus(1000.0))
    1000.0
    """
    return _forward("softplus", x, temperature, out, n_threads)


def sigmoid_vjp(y, g, *, temperature=1.0, out=None, n_threads=1):
    """VJP of :func:`sigmoid` from its output ``y``: ``g * y * (1 - y) / t``."""
    return _derivative("sigmoid", y, g, "g", temperature, out, n_threads)


def sigmoid_jvp(y, dx, *, temperature=1.0, out=None, n_threads=1):
    """JVP of :func:`sigmoid` from its output ``y``: ``dx * y * (1 - y) / t``."""
    return _derivative("sigmoid", y, dx, "dx", temperature, out, n_threads)


def log_sigmoid_vjp(y, g, *, temperature=1.0, out=None, n_threads=1):
    """VJP of :func:`log_sigmoid` from its output ``y``: ``-g * expm1(y) / t``."""
    return _derivative("log_sigmoid", y, g, "g", temperature, out, n_threads)


def log_sigmoid_jvp(y, dx, *, temperature=1.0, out=None, n_threads=1):
    """JVP of :func:`log_sigmoid` from its output ``y``: ``-dx * expm1(y) / t``."""
    return _derivative("log_sigmoid", y, dx, "dx", temperature, out, n_threads)


def softplus_vjp(y, g, *, temperature=1.0, out=None, n_threads=1):
    """VJP of :func:`softplus` from its output ``y``: ``-g * expm1(-y / t)`` (= g sigmoid(x/t))."""
    return _derivative("softplus", y, g, "g", temperature, out, n_threads)


def softplus_jvp(y, dx, *, temperature=1.0, out=None, n_threads=1):
    """JVP of :func:`softplus` from its output ``y``: ``-dx * expm1(-y / t)``."""
    return _derivative("softplus", y, dx, "dx", temperature, out, n_threads)
