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

from . import _docstrings as _doc, _plumbing as P
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


@_doc.fill()
def gumbel_softmax(logits, axis=-1, *, temperature=1.0, hard=False, rng=None, where=None, out=None,
                   return_noise=False, n_threads=1):
    r"""A Gumbel-softmax (Concrete) sample: a differentiable relaxation of a categorical draw.

    For each slice of logits ``x`` along ``axis`` and temperature ``t``:

    .. math:: y = \operatorname{softmax}\big((x + g) / t\big), \qquad
              g_i = -\log(-\log u_i),\ u_i \sim U(0, 1)

    a random point of the simplex; ``argmax(x + g)`` is distributed as
    Categorical(softmax(x)) (the Gumbel-max trick), and ``y`` approaches its one-hot as
    ``t`` goes to 0 [1]_ [2]_.  ``hard=True`` returns that one-hot (straight-through).

    Parameters
    ----------
    logits : array_like
        Unnormalised log-probabilities.  float16, float32 and float64 keep their dtype
        (float16 is computed in float32); integers and bools become float64.
    {axis}
    {temperature}
    hard : bool, keyword-only
        Return the one-hot of the argmax of the soft sample instead (default False);
        straight-through: its derivative is taken as the soft sample's, see
        :func:`gumbel_softmax_vjp`.
    {rng}
    where : array_like of bool, keyword-only
        Classes to include (default None: all), broadcastable to ``logits``; excluded
        classes get probability exactly 0, and a slice with no included class gives
        zeros.  Noise is drawn for every entry, so the stream of draws does not depend on
        the mask.
    out : ndarray, keyword-only
        Array to write the sample to (default None: a new array): exactly the result's
        shape and dtype, writeable; it may be ``logits`` itself.  Nothing is written
        unless the whole call succeeds.
    return_noise : bool, keyword-only
        Also return the noise ``g`` (default False).
    n_threads : int or None, keyword-only
        Threads for the softmax of large calls (default 1; None or -1: all cores).  The
        noise is drawn on the calling thread in a fixed order, and the softmax splits
        whole slices only, so the sample is bitwise the same for any value.

    Returns
    -------
    y : ndarray
        The sample, of the shape and float dtype of ``logits``.
    g : ndarray
        Only with ``return_noise``: the Gumbel noise, of the shape and dtype of ``y``.
        ``softmax(logits + g, axis, temperature=t)`` is the soft sample, bit for bit for
        float32 and float64 input (float16: up to the rounding of ``logits + g``): in
        hard mode, that is the ``y_soft`` to give :func:`gumbel_softmax_vjp`.

    Raises
    ------
    TypeError
        If ``logits`` has a complex, object or string dtype, ``rng`` is not a Generator,
        an integer or None, ``where`` is not boolean, ``out`` is not an ndarray of the
        result's dtype, ``axis`` is not an integer, or ``n_threads`` is not an integer or
        None.
    ValueError
        If ``temperature`` is not positive and finite, ``rng`` is a negative seed,
        ``where`` does not broadcast, ``out`` has the wrong shape or is read-only, or
        ``n_threads`` is 0 or below -1.  The message names the parameter.
    numpy.exceptions.AxisError
        If ``axis`` is out of range.

    See Also
    --------
    gumbel_softmax_vjp : The vector-Jacobian product (also for ``hard=True``).
    sample_categorical : The categorical draw itself (Gumbel-max).
    softmax : The deterministic normaliser.

    Notes
    -----
    The noise is drawn in the compiled core from the ``bit_generator`` of the
    Generator (holding its lock, so a Generator may be shared between threads), in a
    fixed order: slices in C order of the batch (the shape without ``axis``), then the
    entries of a slice along ``axis``.  The same seed therefore gives the same sample
    whatever the memory layout and whichever thread calls.  Each uniform comes from the
    top 52 bits of one 64-bit word, ``u = (k + 1/2) 2^-52``, so ``0 < u < 1`` and ``g`` is
    finite (in [-3.61, 36.74]); ``g`` is computed in float64 and rounded to the compute
    dtype.  The softmax then runs in place on ``logits + g``.

    Special values follow :func:`softmax` applied to ``logits + g``: -inf logits get
    probability 0, +inf ones share the mass, a NaN makes its slice NaN, a fully excluded
    slice is zeros and a slice of only -inf is NaN, a slice of one class gives 1.

    References
    ----------
    {ref_jang2017 1}
    {ref_maddison2017 2}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.log([0.5, 0.3, 0.2])
    >>> y, g = cmf.gumbel_softmax(x, temperature=0.5, rng=0, return_noise=True)
    >>> bool(np.isclose(y.sum(), 1.0))
    True
    >>> bool(np.array_equal(y, cmf.softmax(x + g, temperature=0.5)))   # bit for bit
    True
    >>> cmf.gumbel_softmax(x, hard=True, rng=0)          # a one-hot sample
    array([1., 0., 0.])

    The hard samples are draws from Categorical(softmax(x)):

    >>> H = cmf.gumbel_softmax(np.tile(x, (20000, 1)), hard=True, rng=0)
    >>> H.mean(axis=0).round(2)
    array([0.51, 0.3 , 0.19])
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


@_doc.fill(fwd="gumbel_softmax", v="v")
def gumbel_softmax_vjp(y_soft, v, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Vector-Jacobian product of :func:`gumbel_softmax`, from the soft sample.

    At fixed noise ``g``, the sample ``y = softmax((x + g) / t)`` has the Jacobian of
    :func:`softmax` at the sampled point, so for a cotangent ``v``:

    .. math:: \bar x = \frac{y \odot (v - \langle y, v \rangle)}{t}

    In hard mode (straight-through) this is the derivative used for the one-hot output:
    give it the *soft* sample, ``softmax(logits + g, temperature=t)`` with the ``g`` of
    ``return_noise=True`` [1]_ [2]_.

    Parameters
    ----------
    {y_soft}
    v : array_like
        The cotangent (the gradient of a scalar objective with respect to the sample), of
        the shape of ``y_soft``.
    {axis}
    {temperature_fwd}
    {where_fwd}
    out : ndarray, keyword-only
        Array to write the result to (default None: a new array): exactly the result's
        shape and dtype, writeable; it may be ``v`` or ``y_soft`` itself.  Nothing is
        written unless the whole call succeeds.
    {n_threads}

    Returns
    -------
    ndarray
        The gradient with respect to ``logits``, of the shape of ``y_soft``.

    Raises
    ------
    {raises}

    See Also
    --------
    gumbel_softmax : The forward function.
    gumbel_softmax_jvp : The Jacobian-vector product (the same formula).
    softmax_vjp : The same computation.

    Notes
    -----
    The computation of :func:`softmax_vjp` (one fused pass per slice in the compiled
    core), with its special values: NaN makes the slice NaN except where ``y_soft`` is 0.
    The computation runs in the wider of the dtypes of ``y_soft`` and ``v``.

    References
    ----------
    {ref_jang2017 1}
    {ref_maddison2017 2}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> y, g = cmf.gumbel_softmax(x, temperature=2.0, rng=0, return_noise=True)
    >>> dx = cmf.gumbel_softmax_vjp(y, [1.0, 0.0, 0.0], temperature=2.0)
    >>> bool(np.allclose(dx, y[0] * (np.eye(3)[0] - y) / 2.0))
    True

    Straight-through: the hard sample's gradient is the soft sample's:

    >>> h, g = cmf.gumbel_softmax(x, hard=True, rng=1, return_noise=True)
    >>> y_soft = cmf.softmax(x + g)
    >>> bool(np.array_equal(h, cmf.argmax(y_soft)))
    True
    >>> v = np.array([0.0, 0.0, 1.0])
    >>> np.allclose(cmf.gumbel_softmax_vjp(y_soft, v), cmf.softmax_vjp(y_soft, v))
    True
    """
    return _normalizer_d(y_soft, v, "v", axis, temperature, where, out, _softmax_d_kernel(False),
                         n_threads=n_threads)


@_doc.fill(fwd="gumbel_softmax", v="dx")
def gumbel_softmax_jvp(y_soft, dx, axis=-1, *, temperature=1.0, where=None, out=None, n_threads=1):
    r"""Jacobian-vector product of :func:`gumbel_softmax` at fixed noise, from the soft sample.

    For the soft sample ``y = softmax((x + g) / t)`` and a tangent ``dx``:

    .. math:: \dot y = \frac{y \odot (dx - \langle y, dx \rangle)}{t}

    (the Jacobian is symmetric: the formula of :func:`gumbel_softmax_vjp`).

    Parameters
    ----------
    {y_soft}
    dx : array_like
        The tangent, of the shape of ``y_soft``.
    {axis}
    {temperature_fwd}
    {where_fwd}
    out : ndarray, keyword-only
        Array to write the result to (default None: a new array): exactly the result's
        shape and dtype, writeable; it may be ``dx`` or ``y_soft`` itself.  Nothing is
        written unless the whole call succeeds.
    {n_threads}

    Returns
    -------
    ndarray
        The directional derivative of the sample along ``dx``, of the shape of ``y_soft``.

    Raises
    ------
    {raises}

    See Also
    --------
    gumbel_softmax : The forward function.
    gumbel_softmax_vjp : The vector-Jacobian product.
    softmax_jvp : The same computation.

    Notes
    -----
    The computation of :func:`softmax_jvp`, with its special values.

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> y = cmf.gumbel_softmax([1.0, 2.0, 3.0], temperature=0.5, rng=0)
    >>> J = cmf.gumbel_softmax_jacobian(y, temperature=0.5)
    >>> np.allclose(cmf.gumbel_softmax_jvp(y, [1.0, 0.0, 0.0], temperature=0.5), J[:, 0])
    True
    """
    return _normalizer_d(y_soft, dx, "dx", axis, temperature, where, out, _softmax_d_kernel(True),
                         n_threads=n_threads)


@_doc.fill(fwd="gumbel_softmax", yname="y_soft")
def gumbel_softmax_jacobian(y_soft, axis=-1, *, temperature=1.0, where=None):
    r"""Explicit Jacobian of :func:`gumbel_softmax` at fixed noise, from the soft sample.

    For the soft sample ``y = softmax((x + g) / t)``:

    .. math:: J = \frac{\operatorname{diag}(y) - y y^T}{t}

    that of :func:`softmax_jacobian` at the sampled point.

    Parameters
    ----------
    {y_soft}
    {axis}
    {temperature_fwd}
    {where_jac}

    Returns
    -------
    {returns_jac}

    Raises
    ------
    TypeError
        If ``y_soft`` has a complex, object or string dtype, ``where`` is not boolean, or
        ``axis`` is not an integer.
    ValueError
        If ``temperature`` is not positive and finite or ``where`` does not broadcast.
        The message names the parameter.
    numpy.exceptions.AxisError
        If ``axis`` is out of range.

    See Also
    --------
    gumbel_softmax_vjp : The product ``v^T J`` without forming ``J`` (preferred).
    softmax_jacobian : The same computation.

    Notes
    -----
    A NumPy composition (no compiled kernel, no ``n_threads``), ``n^2`` entries per
    slice.

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> y = cmf.gumbel_softmax([1.0, 2.0, 3.0], temperature=0.5, rng=0)
    >>> J = cmf.gumbel_softmax_jacobian(y, temperature=0.5)
    >>> np.allclose(J, (np.diag(y) - np.outer(y, y)) / 0.5)
    True
    """
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


@_doc.fill()
def sample_categorical(logits, axis=-1, *, temperature=1.0, size=None, rng=None, where=None,
                       n_threads=1):
    r"""Draw class indices from Categorical(softmax(logits / t)) along an axis, by Gumbel-max.

    For each slice of logits ``x`` along ``axis`` and temperature ``t``:

    .. math:: k = \operatorname*{arg\,max}_i\ (x_i - \max x) / t + g_i, \qquad
              g_i = -\log(-\log u_i),\ u_i \sim U(0, 1)

    over the included classes: ``P(k = i) = softmax(x / t)_i`` [1]_ [2]_.  Computed in the
    compiled core, without materialising an array of ``size x n`` noise.

    Parameters
    ----------
    logits : array_like
        Unnormalised log-probabilities, any real dtype.
    {axis}
    {temperature}
    size : int, tuple of ints or None, keyword-only
        Samples per slice (default None: one): the result has shape
        ``size + batch_shape``, where ``batch_shape`` is the shape of ``logits`` without
        ``axis``.
    {rng}
    where : array_like of bool, keyword-only
        Classes to include (default None: all), broadcastable to ``logits``; excluded
        classes are never drawn.
    n_threads : int or None, keyword-only
        Validated like everywhere else (default 1), but the draws run on the calling
        thread: they follow the generator's stream in a fixed order, so that a seed gives
        the same samples whatever ``n_threads`` is.

    Returns
    -------
    ndarray or numpy.int64
        Indices along ``axis`` (int64), of shape ``size + batch_shape`` (a NumPy integer
        when that is 0-d).

    Raises
    ------
    TypeError
        If ``logits`` has a complex, object or string dtype, ``size`` is not None, an
        integer or a tuple of integers, ``rng`` is not a Generator, an integer or None,
        ``where`` is not boolean, ``axis`` is not an integer, or ``n_threads`` is not an
        integer or None.
    ValueError
        If a slice contains NaN (among its included entries) or has no class that can be
        drawn (all -inf or excluded, or no classes), checked before anything is drawn;
        if ``temperature`` is not positive and finite, ``size`` is negative, ``rng`` is a
        negative seed, or ``n_threads`` is 0 or below -1.  The message names the
        parameter.
    numpy.exceptions.AxisError
        If ``axis`` is out of range.

    See Also
    --------
    gumbel_softmax : The differentiable relaxation.
    argmax : The deterministic limit as ``t`` goes to 0.
    numpy.random.Generator.choice : One slice at a time, from probabilities.

    Notes
    -----
    -inf and excluded classes are never drawn; when a slice has +inf entries, one of them
    is drawn uniformly.  Draws: one uniform per entry and sample (from the top 52 bits of
    a 64-bit word of the bit generator), all the samples of a slice before the next slice,
    slices in C order of the batch; the same seed gives the same samples whatever the
    memory layout, and whichever thread calls.  The generator's lock is held while
    drawing, so a Generator may be shared between threads.

    References
    ----------
    {ref_jang2017 1}
    {ref_maddison2017 2}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> z = np.array([3.0, 2.0, 1.0])
    >>> k = cmf.sample_categorical(z, size=100_000, rng=1)
    >>> (np.bincount(k, minlength=3) / k.size).round(2), cmf.softmax(z).round(2)
    (array([0.67, 0.24, 0.09]), array([0.67, 0.24, 0.09]))
    >>> cmf.sample_categorical([[0.0, -np.inf], [-np.inf, 0.0]], size=3, rng=0)
    array([[0, 1],
           [0, 1],
           [0, 1]])
    >>> k = cmf.sample_categorical([1.0, 2.0, 3.0], where=[True, True, False], size=1000, rng=0)
    >>> bool(np.all(k != 2))                             # excluded: never drawn
    True
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
