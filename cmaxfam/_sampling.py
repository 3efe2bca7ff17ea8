"""The random members of the family: gumbel_softmax (with its derivatives) and
sample_categorical (Gumbel-max).

The Gumbel noise is drawn in the compiled core from the ``bitgen_t`` of the caller's
``numpy.random.Generator`` (while holding its lock), in a fixed order: slices in C order of
the batch (the input's shape without ``axis``), then the elements of a slice along
``axis``; sample_categorical draws all the samples of a slice before the next slice.  The
same seed therefore gives the same samples whatever the memory layout of the input, and
whichever thread runs the call.
"""
from __future__ import annotations

import math

import numpy as np

from . import _plumbing as P
from ._normalizers import (_SLICE_NAN, _SLICE_OK, _argmax_codes, _normalizer_d, _softmax_d_kernel,
                           argmax, softmax, softmax_jacobian)
from ._validation import (as_float_array, check_n_threads, check_out, check_rng, check_size,
                          check_where, slice_param)


def _k():
    """The compiled sampling module, imported on first use: it imports numpy.random
    (~10 ms), which ``import cmaxfam`` does not need (tests/test_packaging.py)."""
    from ._cy import sampling
    return sampling


__all__ = ["gumbel_softmax", "gumbel_softmax_vjp", "gumbel_softmax_jvp", "gumbel_softmax_jacobian",
           "sample_categorical"]


def gumbel_softmax(logits, axis=-1, *, temperature=1.0, hard=False, rng=None, where=None, out=None,
                   return_noise=False, n_threads=1):
    r"""A Gumbel-softmax (Concrete) sample: a differentiable relaxation of a categorical draw.

    .. math:: y = \operatorname{softmax}\big((x + g) / t\big), \qquad
              g_i = -\log(-\log u_i),\ u_i \sim U(0, 1)

    along ``axis``: each slice is a point of the simplex that approaches a one-hot sample
    of Categorical(softmax(x)) as ``t`` goes to 0 (Jang et al.; Maddison et al., 2017).

    Parameters
    ----------
    logits : array_like
        Unnormalised log-probabilities (float16/32/64 keep their type; integers and bools
        become float64).
    axis : int, optional
        The axis of the classes (default: the last).
    temperature : float or array_like, keyword-only
        Positive and finite; a scalar, or an array broadcastable to the slices.
    hard : bool, keyword-only
        Return the one-hot of the argmax of the soft sample instead (straight-through: its
        derivative is taken as the soft sample's, see :func:`gumbel_softmax_vjp`).
    rng : numpy.random.Generator, int or None, keyword-only
        The source of randomness: a Generator (its state advances), a seed, or None for a
        fresh generator seeded by the OS.
    where : array_like of bool, keyword-only
        Classes to include; excluded ones get probability exactly 0 (noise is drawn for
        every entry, so the stream of draws does not depend on the mask).
    out : ndarray, keyword-only
        Where to write the sample (same shape and dtype as the result; may be ``logits``).
    return_noise : bool, keyword-only
        Also return the noise ``g`` (the shape and dtype of the result).
    n_threads : int or None, keyword-only
        Threads for the softmax (default 1; None or -1: all cores).  The noise is drawn
        on the calling thread, in the fixed order above, so the sample does not depend on
        ``n_threads``.

    Returns
    -------
    y : ndarray
        The sample, the shape and (float) dtype of ``logits``.
    g : ndarray
        The Gumbel noise, when ``return_noise``.  ``softmax(logits + g, axis,
        temperature=t)`` is the soft sample, bit for bit for float32 and float64 input
        (float16: up to the rounding of ``logits + g`` to float16): in hard mode, that is
        the ``y_soft`` to give :func:`gumbel_softmax_vjp`.

    Notes
    -----
    Each uniform comes from the top 52 bits of one 64-bit draw of the generator's bit
    generator, ``u = (k + 1/2) 2^-52``, so ``0 < u < 1`` and ``g`` is finite (in
    [-3.61, 36.74]); ``g`` is computed in float64 and rounded to the compute dtype.
    Special values follow :func:`softmax` applied to ``logits + g``: -inf logits get
    probability 0, +inf ones share the mass, a NaN makes its slice NaN, a fully excluded
    slice is all zeros.

    Examples
    --------
    >>> import numpy as np, cmaxfam as cmf
    >>> x = np.log([0.5, 0.3, 0.2])
    >>> y, g = cmf.gumbel_softmax(x, temperature=0.5, rng=0, return_noise=True)
    >>> bool(np.isclose(y.sum(), 1.0)), bool(np.array_equal(y, cmf.softmax(x + g, temperature=0.5)))
    (True, True)
    >>> cmf.gumbel_softmax(x, hard=True, rng=0)          # a one-hot sample
    array([1., 0., 0.])
    """
    a, rdt = as_float_array(logits, "logits")
    nt = check_n_threads(n_threads)
    plan = P.AxisPlan(a.shape, axis, allow_multiple=False)
    slice_param(temperature, plan, "temperature")
    w = check_where(where, a.shape)
    check_out(out, a.shape, rdt)
    gen = check_rng(rng)
    target, copy = P.result_array(out, a.shape, a.dtype, rdt, inputs=(a,), inplace_ok=(0,))
    noise = np.empty(a.shape, dtype=a.dtype) if return_noise else None
    if a.size:
        # target = logits + g (in place when out is logits), then the softmax in place
        _k().gumbel_noise_slices(gen.bit_generator,
                                 P.slice_views(plan.axis, [P.kernel_ready(a), noise, target]))
        softmax(target, plan.axis, temperature=temperature, where=w, out=target, n_threads=nt)
        if hard:
            argmax(target, plan.axis, where=w, out=target, n_threads=nt)
    y = P.finish(target, out, copy, rdt)
    if return_noise:
        return y, noise.astype(rdt, copy=False)
    return y


def gumbel_softmax_vjp(y_soft, v, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Vector-Jacobian product of :func:`gumbel_softmax` (with respect to the logits, at
    fixed noise), from the *soft* sample ``y_soft``: softmax's VJP at the sampled point,

    .. math:: \bar x = y \odot (v - \langle y, v\rangle) / t.

    In hard mode (straight-through) this is the derivative used for the one-hot output:
    give it the soft sample, ``softmax(logits + g, temperature=t)`` with the ``g`` of
    ``return_noise=True``.

    Examples
    --------
    >>> import numpy as np, cmaxfam as cmf
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> y, g = cmf.gumbel_softmax(x, temperature=2.0, rng=0, return_noise=True)
    >>> dx = cmf.gumbel_softmax_vjp(y, [1.0, 0.0, 0.0], temperature=2.0)
    >>> bool(np.allclose(dx, y[0] * (np.eye(3)[0] - y) / 2.0))
    True
    """
    return _normalizer_d(y_soft, v, "v", axis, temperature, where, out, _softmax_d_kernel(False),
                         n_threads=n_threads)


def gumbel_softmax_jvp(y_soft, dx, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Jacobian-vector product of :func:`gumbel_softmax` at fixed noise, from the soft
    sample: ``y * (dx - <y, dx>) / t`` (the Jacobian is symmetric)."""
    return _normalizer_d(y_soft, dx, "dx", axis, temperature, where, out, _softmax_d_kernel(True),
                         n_threads=n_threads)


def gumbel_softmax_jacobian(y_soft, axis=-1, *, temperature=1.0, where=None):
    r"""Explicit Jacobian of :func:`gumbel_softmax` at fixed noise, from the soft sample:
    ``(diag(y) - y y^T) / t``, of shape ``(..., n, n)`` (as :func:`softmax_jacobian`)."""
    return softmax_jacobian(y_soft, axis, temperature=temperature, where=where)


def _check_samplable(code, plan, known_bad=False):
    """ValueError naming ``logits`` for the first slice with a NaN, or with no entry that
    can be drawn (every included entry -inf, none included, or no class at all); with
    ``known_bad`` (the sampling kernel refused a slice), a ValueError in any case."""
    bad = code != _SLICE_OK
    if not bad.any():
        if known_bad:
            raise ValueError("logits has a slice that cannot be sampled")
        return
    first = tuple(int(i) for i in np.argwhere(bad.reshape(plan.red_shape))[0])
    at = f" (the slice at batch index {first})" if plan.red_shape else ""
    if code.reshape(plan.red_shape)[first] == _SLICE_NAN:
        raise ValueError(f"logits contains NaN{at}: cannot sample from it")
    raise ValueError(f"logits has a slice with no class that can be sampled{at}: every entry "
                     "is -inf or excluded by where, or there are no classes")


def sample_categorical(logits, axis=-1, *, temperature=1.0, size=None, rng=None, where=None,
                       n_threads=1):
    r"""Draw class indices from Categorical(softmax(logits / t)) along ``axis``, by Gumbel-max.

    .. math:: k = \operatorname{argmax}_i\ (x_i - \max x) / t + g_i, \qquad
              g_i = -\log(-\log u_i)

    over the included classes, computed in the compiled core (no array of size
    ``size x n`` is materialised).

    Parameters
    ----------
    logits : array_like
        Unnormalised log-probabilities, any real dtype.
    axis : int, optional
        The axis of the classes (default: the last).
    temperature : float or array_like, keyword-only
        Positive and finite; a scalar, or an array broadcastable to the slices.
    size : int, tuple of ints or None, keyword-only
        Samples per slice: the result has shape ``size + batch_shape``, where
        ``batch_shape`` is the shape of ``logits`` without ``axis`` (None: one sample).
    rng : numpy.random.Generator, int or None, keyword-only
        A Generator (its state advances), a seed, or None for a fresh generator.
    where : array_like of bool, keyword-only
        Classes to include; excluded classes are never drawn.
    n_threads : int or None, keyword-only
        Validated like everywhere else, but the draws run on the calling thread: they
        follow the generator's stream in a fixed order, so that a seed gives the same
        samples whatever ``n_threads`` is.

    Returns
    -------
    ndarray of int64 (a NumPy integer when the result is 0-d)
        Indices along ``axis``, shape ``size + batch_shape``.

    Raises
    ------
    ValueError
        When a slice contains NaN (among its included entries) or has no class that can
        be drawn (all -inf or excluded); checked before anything is drawn.

    Notes
    -----
    -inf and excluded classes are never drawn; when a slice has +inf entries, one of them
    is drawn uniformly.  Draws: one uniform per entry and sample (from the top 52 bits of
    a 64-bit word of the bit generator), all the samples of a slice before the next slice,
    slices in C order of the batch; the same seed gives the same samples whatever the
    memory layout, and whichever thread calls.  The generator's lock is held while
    drawing, so a Generator may be shared between threads.

    Examples
    --------
    >>> import numpy as np, cmaxfam as cmf
    >>> z = np.array([3.0, 2.0, 1.0])
    >>> k = cmf.sample_categorical(z, size=100_000, rng=1)
    >>> (np.bincount(k, minlength=3) / k.size).round(2), cmf.softmax(z).round(2)
    (array([0.67, 0.24, 0.09]), array([0.67, 0.24, 0.09]))
    >>> cmf.sample_categorical([[0.0, -np.inf], [-np.inf, 0.0]], size=3, rng=0)
    array([[0, 1],
           [0, 1],
           [0, 1]])
    """
    a, _ = as_float_array(logits, "logits")
    check_n_threads(n_threads)
    plan = P.AxisPlan(a.shape, axis, allow_multiple=False)
    t = slice_param(temperature, plan, "temperature")
    w = check_where(where, a.shape)
    size = check_size(size)
    gen = check_rng(rng)
    res = np.empty(size + plan.red_shape, dtype=np.int64)
    n_samples = math.prod(size)
    if res.size and a.size:
        ax = plan.axis
        per_sample = res.reshape((n_samples,) + plan.red_shape)
        # sample 0 of every slice, seen with the logits' shape (stride 0 along the axis)
        idx = P.per_slice(np.expand_dims(per_sample[0, ...], ax), a.shape, ax)
        views = P.slice_views(ax, [P.kernel_ready(a), P.per_slice(t, a.shape, ax), P.mask_u8(w), idx])
        # the kernel checks every slice before it draws
        if _k().sample_categorical_slices(gen.bit_generator, views, n_samples,
                                          per_sample.strides[0] // res.itemsize):
            return res[()] if res.ndim == 0 else res
        # it met a slice with a NaN or nothing to draw, and drew nothing: word the error
        _check_samplable(_argmax_codes(a, plan, w)[1], plan, known_bad=True)
    # nothing to draw (size 0, no slices or no classes): the slices are checked all the same
    _check_samplable(_argmax_codes(a, plan, w)[1], plan)
    return res
