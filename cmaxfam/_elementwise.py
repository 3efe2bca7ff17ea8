"""The elementwise (two-class) members: sigmoid, log_sigmoid, softplus, and derivatives."""
from __future__ import annotations

import numpy as np

from . import _docstrings as _doc, _plumbing as P
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
    r = _k.elementwise_common(x, None, temperature, out, n_threads, _OPS[name])   # the common call
    if r is not None:
        return r
    a, rdt = as_float_array(x)
    nt = check_n_threads(n_threads)
    t = elementwise_temperature(temperature, a.shape)
    check_out(out, a.shape, rdt)
    return _run(_k.elementwise_slices, [a, t], out, rdt, a.shape, a.ndim == 0, _OPS[name], (a,), nt)


def _derivative(name, y, v, vname, temperature, out, n_threads):
    r = _k.elementwise_common(y, v, temperature, out, n_threads, _OPS[name])   # the common call
    if r is not None:
        return r
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


@_doc.fill()
def sigmoid(x, *, temperature=1.0, out=None, n_threads=1):
    r"""Logistic sigmoid, elementwise, with a temperature: the two-class softmax.

    With ``z = x / t``:

    .. math:: \sigma(z) = \frac{1}{1 + \exp(-z)} = \operatorname{softmax}([z, 0])_0

    Parameters
    ----------
    {x}
    {temperature_ew}
    {out}
    {n_threads_ew}

    Returns
    -------
    ndarray or numpy.floating
        The values in [0, 1], of the shape and float dtype of ``x`` (a NumPy scalar for a
        scalar ``x`` without ``out``).

    Raises
    ------
    {raises_ew}

    See Also
    --------
    log_sigmoid : Its logarithm, accurate in the tails.
    sigmoid_vjp : The vector-Jacobian product, from the output.
    softmax : The many-class case.
    scipy.special.expit : The same function (``t = 1``).

    Notes
    -----
    Computed as ``1 / (1 + e)`` for ``z >= 0`` and ``e / (1 + e)`` for ``z < 0``, with
    ``e = exp(-|z|)``: branch-free in the compiled core, the exponential (a polynomial,
    no libm call) only of non-positive arguments, so nothing overflows.

    Special values (elementwise): NaN gives NaN; +inf gives 1 and -inf gives 0; huge
    magnitudes give 1 or 0 without overflow; a tiny temperature approaches the step
    function (``sigmoid(0) = 0.5``).  Results below the smallest normal number are 0.

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([-2.0, 0.0, 3.0])
    >>> cmf.sigmoid(x).round(4)
    array([0.1192, 0.5   , 0.9526])
    >>> np.allclose(cmf.sigmoid(x), 1 / (1 + np.exp(-x)))
    True
    >>> np.allclose(cmf.sigmoid(x), cmf.softmax(np.stack([x, np.zeros(3)], axis=-1))[:, 0])
    True
    >>> cmf.sigmoid([-1000.0, 1000.0])
    array([0., 1.])
    >>> cmf.sigmoid([-1.0, 0.0, 1.0], temperature=1e-300)
    array([0. , 0.5, 1. ])
    """
    return _forward("sigmoid", x, temperature, out, n_threads)


@_doc.fill()
def log_sigmoid(x, *, temperature=1.0, out=None, n_threads=1):
    r"""Log of the logistic sigmoid, elementwise, with a temperature.

    With ``z = x / t``:

    .. math:: \log \sigma(z) = -\log(1 + \exp(-z)) = \min(z, 0) - \log(1 + \exp(-|z|))

    the two-class :func:`log_softmax`, ``log_softmax([z, 0])_0``.

    Parameters
    ----------
    {x}
    {temperature_ew}
    {out}
    {n_threads_ew}

    Returns
    -------
    ndarray or numpy.floating
        The values (<= 0), of the shape and float dtype of ``x`` (a NumPy scalar for a
        scalar ``x`` without ``out``).

    Raises
    ------
    {raises_ew}

    See Also
    --------
    sigmoid : The sigmoid itself.
    log_sigmoid_vjp : The vector-Jacobian product, from the output.
    softplus : ``log_sigmoid(x) = -softplus(-x)``.

    Notes
    -----
    Computed as ``min(z, 0) - log1p(exp(-|z|))``: exact for large ``|x|`` (never
    ``log(0)``), branch-free in the compiled core.

    Special values (elementwise): NaN gives NaN; +inf gives 0 and -inf gives -inf; huge
    magnitudes never overflow.

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([-2.0, 0.0, 3.0])
    >>> cmf.log_sigmoid(x).round(4)
    array([-2.1269, -0.6931, -0.0486])
    >>> np.allclose(cmf.log_sigmoid(x), -cmf.softplus(-x))
    True
    >>> cmf.log_sigmoid([-1000.0, 1000.0])           # log(sigmoid) would give -inf
    array([-1000.,     0.])
    """
    return _forward("log_sigmoid", x, temperature, out, n_threads)


@_doc.fill()
def softplus(x, *, temperature=1.0, out=None, n_threads=1):
    r"""Softplus, elementwise, with a temperature: the two-class logsumexp.

    .. math:: \operatorname{softplus}(x) = t \log\big(1 + \exp(x / t)\big)
              = \operatorname{logsumexp}([x, 0]; t)

    a smooth ``max(x, 0)`` (the "ReLU"), approached as ``t`` goes to 0.

    Parameters
    ----------
    {x}
    {temperature_ew}
    {out}
    {n_threads_ew}

    Returns
    -------
    ndarray or numpy.floating
        The values (>= 0), of the shape and float dtype of ``x`` (a NumPy scalar for a
        scalar ``x`` without ``out``).

    Raises
    ------
    {raises_ew}

    See Also
    --------
    logsumexp : The many-class case.
    softplus_vjp : The vector-Jacobian product, from the output.
    sigmoid : Its derivative.

    Notes
    -----
    Computed as ``max(x, 0) + t log1p(exp(-|x| / t))``: finite whenever the result is,
    even when ``x / t`` overflows; branch-free in the compiled core.

    Special values (elementwise): NaN gives NaN; +inf gives +inf and -inf gives 0; huge
    magnitudes never overflow; a tiny temperature gives ``max(x, 0)``.

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([-2.0, 0.0, 3.0])
    >>> cmf.softplus(x).round(4)
    array([0.1269, 0.6931, 3.0486])
    >>> pairs = np.stack([x, np.zeros(3)], axis=-1)
    >>> np.allclose(cmf.softplus(x, temperature=0.5), cmf.logsumexp(pairs, temperature=0.5))
    True
    >>> float(cmf.softplus(1000.0)), float(cmf.softplus(3e38, temperature=1e-10))
    (1000.0, 3e+38)
    """
    return _forward("softplus", x, temperature, out, n_threads)


@_doc.fill(fwd="sigmoid", v="g")
def sigmoid_vjp(y, g, *, temperature=1.0, out=None, n_threads=1):
    r"""Vector-Jacobian product of :func:`sigmoid`, from its output.

    With ``y = sigmoid(x)`` at temperature ``t`` (elementwise; the derivative
    ``y (1 - y) / t`` needs only ``y``):

    .. math:: \bar x = \frac{g\, y (1 - y)}{t}

    Parameters
    ----------
    {y}
    {g}
    {temperature_ew_fwd}
    {out_d}
    {n_threads_ew}

    Returns
    -------
    ndarray or numpy.floating
        The gradient with respect to the input of :func:`sigmoid`, of the shape of ``y``.

    Raises
    ------
    {raises_ew}

    See Also
    --------
    sigmoid : The forward function.
    sigmoid_jvp : The Jacobian-vector product (the same formula).

    Notes
    -----
    {notes_ew_d}
    Entries with ``y`` exactly 0 or 1 get ``0 * g`` (0 for finite ``g``).
    {dtypes_d}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> y = cmf.sigmoid([-2.0, 0.0, 3.0])
    >>> cmf.sigmoid_vjp(y, [1.0, 1.0, 1.0]).round(4)
    array([0.105 , 0.25  , 0.0452])
    >>> float(cmf.sigmoid_vjp(cmf.sigmoid(0.0, temperature=2.0), 1.0, temperature=2.0))
    0.125
    """
    return _derivative("sigmoid", y, g, "g", temperature, out, n_threads)


@_doc.fill(fwd="sigmoid", v="dx")
def sigmoid_jvp(y, dx, *, temperature=1.0, out=None, n_threads=1):
    r"""Jacobian-vector product of :func:`sigmoid`, from its output.

    With ``y = sigmoid(x)`` at temperature ``t`` (elementwise; the derivative
    ``y (1 - y) / t`` needs only ``y``):

    .. math:: \dot y = \frac{dx\, y (1 - y)}{t}

    Parameters
    ----------
    {y}
    {dx}
    {temperature_ew_fwd}
    {out_d}
    {n_threads_ew}

    Returns
    -------
    ndarray or numpy.floating
        The directional derivative of :func:`sigmoid`, of the shape of ``y``.

    Raises
    ------
    {raises_ew}

    See Also
    --------
    sigmoid : The forward function.
    sigmoid_vjp : The vector-Jacobian product (the same formula).

    Notes
    -----
    {notes_ew_d}
    Entries with ``y`` exactly 0 or 1 get ``0 * dx`` (0 for finite ``dx``).
    {dtypes_d}

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> y = cmf.sigmoid([-2.0, 0.0, 3.0])
    >>> cmf.sigmoid_jvp(y, [1.0, 2.0, 0.0]).round(4)
    array([0.105, 0.5  , 0.   ])
    """
    return _derivative("sigmoid", y, dx, "dx", temperature, out, n_threads)


@_doc.fill(fwd="log_sigmoid", v="g")
def log_sigmoid_vjp(y, g, *, temperature=1.0, out=None, n_threads=1):
    r"""Vector-Jacobian product of :func:`log_sigmoid`, from its output.

    With ``y = log_sigmoid(x)`` at temperature ``t`` (elementwise; the derivative
    ``-expm1(y) / t`` needs only ``y``):

    .. math:: \bar x = \frac{-g \operatorname{expm1}(y)}{t} = \frac{g\,(1 - \sigma(x / t))}{t}

    Parameters
    ----------
    {y}
    {g}
    {temperature_ew_fwd}
    {out_d}
    {n_threads_ew}

    Returns
    -------
    ndarray or numpy.floating
        The gradient with respect to the input of :func:`log_sigmoid`, of the shape of ``y``.

    Raises
    ------
    {raises_ew}

    See Also
    --------
    log_sigmoid : The forward function.
    log_sigmoid_jvp : The Jacobian-vector product (the same formula).

    Notes
    -----
    {notes_ew_d}
    ``y = -inf`` gives ``g / t`` (the limit) and ``y = 0`` gives 0.
    {dtypes_d}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([-2.0, 0.0, 3.0])
    >>> cmf.log_sigmoid_vjp(cmf.log_sigmoid(x), np.ones(3)).round(4)
    array([0.8808, 0.5   , 0.0474])
    >>> np.allclose(cmf.log_sigmoid_vjp(cmf.log_sigmoid(x), np.ones(3)), cmf.sigmoid(-x))
    True
    """
    return _derivative("log_sigmoid", y, g, "g", temperature, out, n_threads)


@_doc.fill(fwd="log_sigmoid", v="dx")
def log_sigmoid_jvp(y, dx, *, temperature=1.0, out=None, n_threads=1):
    r"""Jacobian-vector product of :func:`log_sigmoid`, from its output.

    With ``y = log_sigmoid(x)`` at temperature ``t`` (elementwise; the derivative
    ``-expm1(y) / t`` needs only ``y``):

    .. math:: \dot y = \frac{-dx \operatorname{expm1}(y)}{t}

    Parameters
    ----------
    {y}
    {dx}
    {temperature_ew_fwd}
    {out_d}
    {n_threads_ew}

    Returns
    -------
    ndarray or numpy.floating
        The directional derivative of :func:`log_sigmoid`, of the shape of ``y``.

    Raises
    ------
    {raises_ew}

    See Also
    --------
    log_sigmoid : The forward function.
    log_sigmoid_vjp : The vector-Jacobian product (the same formula).

    Notes
    -----
    {notes_ew_d}
    ``y = -inf`` gives ``dx / t`` (the limit) and ``y = 0`` gives 0.
    {dtypes_d}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> y = cmf.log_sigmoid([-2.0, 0.0, 3.0], temperature=2.0)
    >>> cmf.log_sigmoid_jvp(y, np.ones(3), temperature=2.0).round(4)
    array([0.3655, 0.25  , 0.0912])
    """
    return _derivative("log_sigmoid", y, dx, "dx", temperature, out, n_threads)


@_doc.fill(fwd="softplus", v="g")
def softplus_vjp(y, g, *, temperature=1.0, out=None, n_threads=1):
    r"""Vector-Jacobian product of :func:`softplus`, from its output.

    With ``y = softplus(x)`` at temperature ``t`` (elementwise; the derivative
    ``-expm1(-y / t)`` needs only ``y`` and ``t``):

    .. math:: \bar x = -g \operatorname{expm1}(-y / t) = g\, \sigma(x / t)

    Parameters
    ----------
    {y}
    {g}
    {temperature_ew_fwd}
    {out_d}
    {n_threads_ew}

    Returns
    -------
    ndarray or numpy.floating
        The gradient with respect to the input of :func:`softplus`, of the shape of ``y``.

    Raises
    ------
    {raises_ew}

    See Also
    --------
    softplus : The forward function.
    softplus_jvp : The Jacobian-vector product (the same formula).

    Notes
    -----
    {notes_ew_d}
    ``y = +inf`` gives ``g`` and ``y = 0`` gives 0.
    {dtypes_d}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([-2.0, 0.0, 3.0])
    >>> cmf.softplus_vjp(cmf.softplus(x), np.ones(3)).round(4)
    array([0.1192, 0.5   , 0.9526])
    >>> np.allclose(cmf.softplus_vjp(cmf.softplus(x), np.ones(3)), cmf.sigmoid(x))
    True
    """
    return _derivative("softplus", y, g, "g", temperature, out, n_threads)


@_doc.fill(fwd="softplus", v="dx")
def softplus_jvp(y, dx, *, temperature=1.0, out=None, n_threads=1):
    r"""Jacobian-vector product of :func:`softplus`, from its output.

    With ``y = softplus(x)`` at temperature ``t`` (elementwise; the derivative
    ``-expm1(-y / t)`` needs only ``y`` and ``t``):

    .. math:: \dot y = -dx \operatorname{expm1}(-y / t)

    Parameters
    ----------
    {y}
    {dx}
    {temperature_ew_fwd}
    {out_d}
    {n_threads_ew}

    Returns
    -------
    ndarray or numpy.floating
        The directional derivative of :func:`softplus`, of the shape of ``y``.

    Raises
    ------
    {raises_ew}

    See Also
    --------
    softplus : The forward function.
    softplus_vjp : The vector-Jacobian product (the same formula).

    Notes
    -----
    {notes_ew_d}
    ``y = +inf`` gives ``dx`` and ``y = 0`` gives 0.
    {dtypes_d}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> y = cmf.softplus([-2.0, 0.0, 3.0], temperature=2.0)
    >>> cmf.softplus_jvp(y, [2.0, 2.0, 2.0], temperature=2.0).round(4)
    array([0.5379, 1.    , 1.6351])
    """
    return _derivative("softplus", y, dx, "dx", temperature, out, n_threads)
