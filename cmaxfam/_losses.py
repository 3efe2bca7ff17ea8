"""The Fenchel-Young losses: softmax cross-entropy, the sparsemax and entmax losses, and
knowledge distillation, each computing its gradient in the same pass (src/losses.tmpl.c).

Conventions, decided once for every loss here:

* ``target`` is class labels (integers, the logits' shape without ``axis``) or target
  distributions (the logits' shape, each slice >= 0 summing to 1).
* The loss is the Fenchel-Young loss ``L(z; q) = Omega*(z) + Omega(q) - <q, z>`` of
  ``z = logits / temperature``: for softmax ``KL(q || softmax(z))``, which for a one-hot
  ``q`` is the usual cross-entropy ``logsumexp(z) - z_y``.  It is >= 0 and 0 exactly when
  the prediction equals ``q``; its gradient with respect to the logits is
  ``(prediction - q) / temperature``.  With a *soft* target this differs from PyTorch's
  ``cross_entropy`` (``-<q, log p>``) by the constant ``H(q)``: same gradient.
* ``label_smoothing = eps`` replaces the target by ``(1 - eps) q + eps / k`` over the ``k``
  included classes (PyTorch spreads over all classes; the same without ``where``); the
  loss subtracts that target's entropy, so it stays >= 0 and 0 at the optimum.
* ``ignore_index``: slices whose label equals it give loss 0 and gradient 0 and do not
  count in the mean.  Every slice ignored (or all weights 0): the mean is 0, the gradient 0.
* ``sample_weight`` (per slice, >= 0): ``"sum"`` is ``sum w_i L_i``, ``"mean"`` is
  ``sum w_i L_i / sum w_i`` over the slices not ignored (PyTorch's weighted mean),
  ``"none"`` gives ``w_i L_i`` per slice.  A weight of 0 removes a slice entirely (its loss
  counts as 0 even when infinite).
* The gradient returned is that of the returned value: of the scalar for ``"mean"`` and
  ``"sum"``, and of the sum of the per-slice losses for ``"none"``.
* A label on an excluded (``where``) or -inf logit gives an infinite loss, never NaN; a
  slice with every logit excluded or -inf predicts 0 (loss +inf, gradient -q / t).  A
  slice of weight 0 gets loss 0 and gradient 0 whatever its logits (even NaN).
"""
from __future__ import annotations

import math

import numpy as np

from . import _docstrings as _doc, _plumbing as P
from ._cy import losses as _k
from ._normalizers import softmax
from ._validation import (as_float_array, check_alpha, check_choice, check_label_smoothing,
                          check_loss_target, check_n_threads, check_out, check_same_shape,
                          check_sample_weight, check_where, common_alpha, fill_value, slice_param)

__all__ = ["softmax_cross_entropy", "sparsemax_loss", "entmax_loss", "distillation_loss",
           "softmax_layer_grad"]

_REDUCTIONS = ("none", "mean", "sum")
_F32_MAX = float(np.finfo(np.float32).max)


def _weights(labels, sw, reduction, plan, uniform=False):
    """Per-slice weights of the returned value (0 for ignored slices) and their total.
    ``uniform``: every slice has weight 1 (no sample_weight, no label ignored), so the
    weights are broadcast scalars, not per-slice arrays."""
    if uniform:
        total = float(math.prod(plan.keep_shape))
        if reduction == "mean" and total > 0:
            return sw, fill_value(1.0 / total, plan.keep_shape), total
        return sw, sw, total
    live = np.ones(plan.keep_shape, dtype=bool) if labels is None else labels >= 0
    wl = np.where(live, sw, 0.0)
    total = float(wl.sum())
    if reduction == "mean":
        gs = wl / total if total > 0 else np.zeros_like(wl)
    else:
        gs = wl
    return wl, gs, total


def _run(a, rdt, plan, t, alpha, w, labels, dist, eps, gs, want_grad, grad_out, n_threads):
    """Run the loss kernel.  Returns the per-slice losses (keepdims float64) and the
    gradient (or None), delivered into ``grad_out`` when given."""
    loss = np.zeros(plan.keep_shape)
    grad = None
    copy = False
    if want_grad:
        grad, copy = P.result_array(grad_out, a.shape, a.dtype, rdt, inputs=(a, dist))
    if a.size == 0:
        if grad is not None:
            grad[...] = 0
    else:
        ax, shape = plan.axis, a.shape
        ps = (lambda v: None if v is None else P.per_slice(v, shape, ax))
        epsa = fill_value(eps, plan.keep_shape)
        views = [P.kernel_ready(a), P.kernel_ready(dist), grad, ps(t), ps(alpha), P.mask_u8(w),
                 ps(labels), ps(gs), ps(epsa), ps(loss)]
        P.run_slices(_k.fy_loss_slices, ax, views, n_threads)
    if grad is not None:
        grad = P.finish(grad, grad_out, copy, rdt)
    return loss, grad


def _reduce(loss, wl, total, reduction, red_shape, rdt, uniform=False):
    weighted = loss if uniform else np.where(wl > 0, loss * np.where(wl > 0, wl, 1.0), 0.0)
    if reduction == "none":
        return np.asarray(weighted.reshape(red_shape), dtype=rdt)
    s = float(weighted.sum())
    if reduction == "mean":
        s = s / total if total > 0 else 0.0
    if rdt == np.float64 or not abs(s) > _F32_MAX:  # (NaN too) no overflow: no errstate (1 us)
        return rdt.type(s)
    with np.errstate(over="ignore"):             # a float32 loss beyond its range is inf
        return rdt.type(s)


def _fy_loss(logits, target, axis, temperature, where, ignore_index, label_smoothing, sample_weight,
             reduction, return_grad, grad_out, alpha, n_threads):
    if (where is None and ignore_index is None and sample_weight is None and grad_out is None
            and type(label_smoothing) in (float, int) and label_smoothing == 0
            and (return_grad is True or return_grad is False)):
        r = _common_fy_loss(logits, target, axis, temperature, reduction, return_grad, alpha, n_threads)
        if r is not None:
            return r
    a, rdt = as_float_array(logits, "logits")
    nt = check_n_threads(n_threads)
    if a.ndim == 0:
        raise ValueError("logits must have at least one dimension (the classes)")
    plan = P.AxisPlan(a.shape, axis, allow_multiple=False)
    t = slice_param(temperature, plan, "temperature")
    al = check_alpha(alpha, plan)
    w = check_where(where, a.shape)
    eps = check_label_smoothing(label_smoothing)
    reduction = check_choice(reduction, "reduction", _REDUCTIONS)
    labels, dist = check_loss_target(target, a, plan, ignore_index)
    sw = check_sample_weight(sample_weight, plan)
    check_out(grad_out, a.shape, rdt, "grad_out")
    want_grad = bool(return_grad) or grad_out is not None
    uniform = sample_weight is None and (labels is None or ignore_index is None)
    wl, gs, total = _weights(labels, sw, reduction, plan, uniform)
    loss, grad = _run(a, rdt, plan, t, al, w, labels, dist, eps, gs, want_grad, grad_out, nt)
    value = _reduce(loss, wl, total, reduction, plan.red_shape, rdt, uniform)
    return (value, grad) if want_grad else value


def _common_fy_loss(logits, target, axis, temperature, reduction, return_grad, alpha, n_threads):
    """The usual call of a loss (class labels of an integer ndarray of the slices' shape, all
    in range; a Python scalar temperature and alpha; a reduction among "mean", "sum",
    "none"; no where, ignore_index, label_smoothing, sample_weight, grad_out; one thread;
    logits as cmaxfam/_cy/_common.pxd's common_input takes them): the kernel through
    _k.fy_loss_common, the reduction as the general path's; None for any other call."""
    al = common_alpha(alpha)
    if al is None or type(reduction) is not str or reduction not in _REDUCTIONS:
        return None
    r = _k.fy_loss_common(logits, target, axis, temperature, reduction == "mean", return_grad, al,
                          n_threads)
    if r is None:
        return None
    loss, grad = r
    value = _reduce(loss, None, float(loss.shape[0]), reduction, target.shape, logits.dtype, True)
    return (value, grad) if return_grad else value


@_doc.fill(alpha_err="", cite="1")
def softmax_cross_entropy(logits, target, axis=-1, *, temperature=1.0, where=None, ignore_index=None,
                          label_smoothing=0.0, sample_weight=None, reduction="mean", return_grad=False,
                          grad_out=None, n_threads=1):
    r"""Softmax cross-entropy, and its gradient from the same fused pass.

    For a slice of logits ``x`` along ``axis``, ``z = x / t`` and a label ``y``:

    .. math:: L(z; y) = \log \sum_j \exp(z_j) - z_y, \qquad
              \frac{\partial L}{\partial x} = \frac{\operatorname{softmax}(z) - e_y}{t}

    and for a target distribution ``q`` the Kullback-Leibler divergence
    ``KL(q || softmax(z)) = sum q log(q / softmax(z))``: the Fenchel-Young loss of the
    Shannon entropy [1]_.  (PyTorch's soft-target ``cross_entropy`` is
    ``-<q, log softmax(z)>``, larger by the constant ``H(q)``: the same gradient.)

    Parameters
    ----------
    {logits}
    {target}
    {loss_axis}
    {loss_temperature}
    {loss_where}
    {ignore_index}
    {label_smoothing}
    {sample_weight}
    {reduction}
    {return_grad}
    {grad_out}
    {n_threads}

    Returns
    -------
    {loss_returns}

    Raises
    ------
    {raises_loss}

    See Also
    --------
    sparsemax_loss : The sparse analogue.
    entmax_loss : The family (``alpha = 1`` is this loss).
    distillation_loss : Soft targets from a teacher's logits.
    softmax_layer_grad : The gradient of a linear softmax layer's parameters.
    log_softmax : The log-probabilities.

    Notes
    -----
    For a label the loss is computed from the shifted logits, ``log sum exp(z - max z) -
    (z_y - max z)``, never from ``log(softmax(z))``: a large gap gives a large loss, not
    +inf.

    {loss_fy}

    {loss_special}

    References
    ----------
    {ref_blondel2020 1}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([[1.0, 2.0, 3.0], [1.0, 0.0, -1.0]])
    >>> float(cmf.softmax_cross_entropy(x, [2, 0]).round(6))
    0.407606
    >>> np.allclose(cmf.softmax_cross_entropy(x, [2, 0], reduction="none"),
    ...             cmf.logsumexp(x) - x[[0, 1], [2, 0]])
    True

    The gradient of the mean, in the same pass:

    >>> loss, grad = cmf.softmax_cross_entropy(x, [2, 0], return_grad=True)
    >>> np.allclose(grad, (cmf.softmax(x) - np.eye(3)[[2, 0]]) / 2)
    True

    A soft target gives ``KL(q || softmax(x))``; a weight and an ignored label:

    >>> q = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    >>> p = cmf.softmax(x)
    >>> kl = [q[0] @ np.log(q[0] / p[0]), -np.log(p[1, 0])]
    >>> np.allclose(cmf.softmax_cross_entropy(x, q, reduction="none"), kl)
    True
    >>> float(cmf.softmax_cross_entropy(x, [2, -100], ignore_index=-100).round(6))
    0.407606
    """
    return _fy_loss(logits, target, axis, temperature, where, ignore_index, label_smoothing,
                    sample_weight, reduction, return_grad, grad_out, 1.0, n_threads)


@_doc.fill(alpha_err="", cite="2")
def sparsemax_loss(logits, target, axis=-1, *, temperature=1.0, where=None, ignore_index=None,
                   label_smoothing=0.0, sample_weight=None, reduction="mean", return_grad=False,
                   grad_out=None, n_threads=1):
    r"""The sparsemax loss, and its gradient from the same fused pass.

    For a slice of logits ``x`` along ``axis``, ``z = x / t``, ``p = sparsemax(z)`` and a
    target ``q`` (one-hot for a label):

    .. math:: L(z; q) = \langle p - q, z \rangle + H_2(p) - H_2(q), \qquad
              \frac{\partial L}{\partial x} = \frac{p - q}{t}

    with the Gini entropy ``H_2(p) = (1 - ||p||^2) / 2``: the Fenchel-Young loss of
    sparsemax [1]_ [2]_.  Unlike the cross-entropy it is exactly 0 as soon as
    ``sparsemax(z)`` equals the target: a finite margin (of 1 for a label) suffices.

    Parameters
    ----------
    {logits}
    {target}
    {loss_axis}
    {loss_temperature}
    {loss_where}
    {ignore_index}
    {label_smoothing}
    {sample_weight}
    {reduction}
    {return_grad}
    {grad_out}
    {n_threads}

    Returns
    -------
    {loss_returns}

    Raises
    ------
    {raises_loss}

    See Also
    --------
    sparsemax : The prediction.
    softmax_cross_entropy : The dense analogue.
    entmax_loss : The family (``alpha = 2`` is this loss).

    Notes
    -----
    The threshold of :func:`sparsemax` is found by the same sort-free passes, then the
    loss and gradient follow on the support.

    {loss_fy}

    {loss_special}

    References
    ----------
    {ref_martins2016 1}
    {ref_blondel2020 2}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> float(cmf.sparsemax_loss([[3.0, 1.0, 0.0]], [0]))       # margin >= 1: no loss
    0.0
    >>> float(cmf.sparsemax_loss([[1.0, 1.0, 0.0]], [0]))
    0.25

    The definition, with the gradient:

    >>> z = np.array([[1.0, 2.0, 3.0]])
    >>> loss, grad = cmf.sparsemax_loss(z, [1], return_grad=True)
    >>> p, q = cmf.sparsemax(z)[0], np.eye(3)[1]
    >>> bool(np.isclose(loss, (p - q) @ z[0] + (1 - p @ p) / 2 - (1 - q @ q) / 2))
    True
    >>> np.allclose(grad, p - q)
    True
    """
    return _fy_loss(logits, target, axis, temperature, where, ignore_index, label_smoothing,
                    sample_weight, reduction, return_grad, grad_out, 2.0, n_threads)


@_doc.fill(alpha_err="``alpha`` is below 1, infinite or NaN;", cite="2")
def entmax_loss(logits, target, axis=-1, *, alpha=1.5, temperature=1.0, where=None, ignore_index=None,
                label_smoothing=0.0, sample_weight=None, reduction="mean", return_grad=False,
                grad_out=None, n_threads=1):
    r"""The alpha-entmax loss, and its gradient from the same fused pass.

    For a slice of logits ``x`` along ``axis``, ``z = x / t``,
    ``p = entmax(z, alpha)`` and a target ``q`` (one-hot for a label):

    .. math:: L(z; q) = \langle p - q, z \rangle + H_\alpha(p) - H_\alpha(q), \qquad
              \frac{\partial L}{\partial x} = \frac{p - q}{t}

    with the Tsallis entropy ``H_alpha(p) = (1 - sum p^alpha) / (alpha (alpha - 1))``: the
    Fenchel-Young loss of entmax [1]_ [2]_.  ``alpha = 1`` is
    :func:`softmax_cross_entropy` and ``alpha = 2`` :func:`sparsemax_loss`.

    Parameters
    ----------
    {logits}
    {target}
    {loss_axis}
    alpha : float or array_like, keyword-only
        The ``alpha >= 1`` (finite) of the entropy (default 1.5): a scalar, or one value per
        slice.
    {loss_temperature}
    {loss_where}
    {ignore_index}
    {label_smoothing}
    {sample_weight}
    {reduction}
    {return_grad}
    {grad_out}
    {n_threads}

    Returns
    -------
    {loss_returns}

    Raises
    ------
    {raises_loss}

    See Also
    --------
    entmax : The prediction.
    softmax_cross_entropy : ``alpha = 1``.
    sparsemax_loss : ``alpha = 2``.

    Notes
    -----
    Slices with ``alpha`` equal to 1 or 2 run the kernels of the two other losses.
    ``H_alpha`` is evaluated as ``-sum p expm1((alpha - 1) log p) / (alpha (alpha - 1))``,
    accurate as ``alpha`` goes to 1.

    {loss_fy}

    {loss_special}

    References
    ----------
    {ref_peters2019 1}
    {ref_blondel2020 2}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> x = np.array([[2.0, 1.0, -1.0]])
    >>> float(cmf.entmax_loss(x, [0], alpha=1.5).round(6))
    0.061656
    >>> bool(cmf.entmax_loss(x, [0], alpha=1) == cmf.softmax_cross_entropy(x, [0]))
    True

    The definition, with the gradient:

    >>> loss, grad = cmf.entmax_loss(x, [1], alpha=1.25, return_grad=True)
    >>> p, q = cmf.entmax(x[0], alpha=1.25), np.eye(3)[1]
    >>> H = lambda r: (1 - np.sum(r ** 1.25)) / (1.25 * 0.25)
    >>> bool(np.isclose(loss, (p - q) @ x[0] + H(p) - H(q))), np.allclose(grad, p - q)
    (True, True)
    """
    return _fy_loss(logits, target, axis, temperature, where, ignore_index, label_smoothing,
                    sample_weight, reduction, return_grad, grad_out, alpha, n_threads)


@_doc.fill()
def distillation_loss(student, teacher, axis=-1, *, temperature=1.0, where=None, sample_weight=None,
                      reduction="batchmean", return_grad=False, grad_out=None, n_threads=1):
    r"""Knowledge-distillation loss of a student's logits, and its gradient.

    For slices of student logits ``s`` and teacher logits ``u`` along ``axis`` and a
    temperature ``T``, with ``q_s = softmax(s / T)`` and ``q_t = softmax(u / T)``:

    .. math:: L = T^2\, \mathrm{KL}(q_t \,\|\, q_s)
              = T^2 \sum_i q_{t,i} \log \frac{q_{t,i}}{q_{s,i}}, \qquad
              \frac{\partial L}{\partial s} = T\, (q_s - q_t)

    the loss of Hinton et al. [1]_; the factor ``T^2`` keeps the gradient's magnitude
    comparable across temperatures.  It is ``T^2`` times :func:`softmax_cross_entropy`
    with the soft target ``q_t``.

    Parameters
    ----------
    student : array_like
        The student's logits, classes along ``axis`` (at least 1-d); float16, float32 and
        float64 keep their dtype, integers and bools become float64.
    teacher : array_like
        The teacher's logits, of the shape of ``student`` (not differentiated).
    {loss_axis}
    temperature : float or array_like, keyword-only
        The temperature ``T`` (default 1.0): positive and finite, a scalar or one value
        per slice.
    {loss_where}
    {sample_weight}
    reduction : {"batchmean", "mean", "sum", "none"}, keyword-only
        ``"batchmean"`` (default) and ``"mean"`` both give ``sum w_i L_i / sum w_i`` (the
        mean over the slices: the correct mean KL); ``"sum"``: ``sum w_i L_i``;
        ``"none"``: ``w_i L_i`` per slice.
    {return_grad}
    {grad_out}
    {n_threads}

    Returns
    -------
    loss : numpy.floating or ndarray
        The reduced loss (a NumPy scalar of the float dtype of ``student``), or one loss
        per slice for ``reduction="none"``.
    grad : ndarray
        Only with ``return_grad`` or ``grad_out``: the gradient of the returned loss with
        respect to ``student`` (for ``"none"``: of the sum of the per-slice losses).

    Raises
    ------
    TypeError
        If ``student`` or ``teacher`` has a complex, object or string dtype, ``where`` is
        not boolean, ``grad_out`` is not an ndarray of the gradient's dtype, ``axis`` is
        not an integer, or ``n_threads`` is not an integer or None.
    ValueError
        If ``student`` is 0-d, ``teacher`` has another shape, ``temperature`` is not
        positive and finite, ``sample_weight`` is negative or not finite, ``reduction``
        is unknown, a shape does not broadcast, or ``n_threads`` is 0 or below -1.  The
        message names the parameter.
    numpy.exceptions.AxisError
        If ``axis`` is out of range.

    See Also
    --------
    softmax_cross_entropy : The loss with a soft target.
    softmax : The tempered probabilities.

    Notes
    -----
    The teacher's probabilities come from the compiled :func:`softmax`, then the fused
    cross-entropy kernel gives the loss and gradient in one pass.  PyTorch's
    ``kl_div(reduction="mean")`` divides by the number of *elements* (also by the number
    of classes), a known trap that is not reproduced here: ``"mean"`` is
    ``"batchmean"``.

    Special values: NaN in either slice gives NaN; a -inf student logit where the
    teacher has mass gives +inf; -inf teacher logits are classes of mass 0 (no
    contribution); identical logits give exactly 0; a slice of one class gives 0.

    References
    ----------
    {ref_hinton2015 1}

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> s, u = np.array([[1.0, 2.0, 3.0]]), np.array([[3.0, 2.0, 1.0]])
    >>> loss, g = cmf.distillation_loss(s, u, temperature=2.0, return_grad=True)
    >>> qs, qt = cmf.softmax(s / 2), cmf.softmax(u / 2)
    >>> bool(np.isclose(loss, 4 * np.sum(qt * np.log(qt / qs))))
    True
    >>> np.allclose(g, 2.0 * (qs - qt))
    True
    >>> float(cmf.distillation_loss(u, u, temperature=2.0))
    0.0
    """
    a, rdt = as_float_array(student, "student")
    if a.ndim == 0:
        raise ValueError("student must have at least one dimension (the classes)")
    te, _ = as_float_array(teacher, "teacher")
    nt = check_n_threads(n_threads)
    check_same_shape(te, a.shape, "teacher")
    plan = P.AxisPlan(a.shape, axis, allow_multiple=False)
    t = slice_param(temperature, plan, "temperature")
    w = check_where(where, a.shape)
    reduction = check_choice(reduction, "reduction", ("batchmean", "mean", "sum", "none"))
    red = "mean" if reduction == "batchmean" else reduction
    sw = check_sample_weight(sample_weight, plan)
    check_out(grad_out, a.shape, rdt, "grad_out")
    want_grad = bool(return_grad) or grad_out is not None
    q = softmax(te.astype(a.dtype, copy=False), plan.axis, temperature=t, where=w, n_threads=nt)
    t2 = np.asarray(t, dtype=np.float64) ** 2
    wl, gs, total = _weights(None, sw, red, plan)
    one = fill_value(1.0, plan.keep_shape)
    loss, grad = _run(a, rdt, plan, t, one, w, None, q, 0.0, gs * t2, want_grad, grad_out, nt)
    value = _reduce(loss * t2, wl, total, red, plan.red_shape, rdt)
    return (value, grad) if want_grad else value


@_doc.fill()
def softmax_layer_grad(X, W, b, target, *, temperature=1.0, ignore_index=None, label_smoothing=0.0,
                       sample_weight=None, reduction="mean", n_threads=1):
    r"""Loss and parameter gradients of a linear softmax (multinomial logistic) layer.

    For ``P = softmax(X W + b)`` row by row and the cross-entropy of
    :func:`softmax_cross_entropy` with one-hot targets ``Y``:

    .. math:: \nabla_W L = X^T (P - Y), \qquad \nabla_b L = \sum_i (P - Y)_i

    scaled by the reduction and the weights: the chain rule of a softmax layer, applied
    without ever forming the ``n_classes x n_classes`` softmax Jacobian.

    Parameters
    ----------
    X : array_like
        The inputs, of shape ``(n_samples, n_features)``.
    W : array_like
        The weights, of shape ``(n_features, n_classes)``.
    b : array_like
        The biases, of shape ``(n_classes,)``.
    target : array_like
        Class labels, of shape ``(n_samples,)``, or target distributions of shape
        ``(n_samples, n_classes)``.
    {loss_temperature}
    {ignore_index}
    {label_smoothing}
    {sample_weight}
    {reduction}
    {n_threads}

    Returns
    -------
    loss : numpy.floating or ndarray
        The loss, as :func:`softmax_cross_entropy` returns it.
    grad_W : ndarray
        The gradient with respect to ``W``, of its shape.
    grad_b : ndarray
        The gradient with respect to ``b``, of its shape.

    Raises
    ------
    TypeError
        If an array has a complex, object or string dtype, or as
        :func:`softmax_cross_entropy`.
    ValueError
        If ``X`` or ``W`` is not 2-D, ``b`` is not 1-D, or the shapes do not chain, or as
        :func:`softmax_cross_entropy`.

    See Also
    --------
    softmax_cross_entropy : The loss and ``P - Y``.

    Notes
    -----
    The logits ``X W + b`` are one matrix product (in the common dtype of ``X``, ``W``
    and ``b``); the fused kernel of :func:`softmax_cross_entropy` gives the loss and
    ``P - Y`` in one pass; then ``X^T (P - Y)`` is one more matrix product.  Special
    values are those of :func:`softmax_cross_entropy`.

    Examples
    --------
    >>> import numpy as np
    >>> import cmaxfam as cmf
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> W, b = np.zeros((2, 3)), np.zeros(3)
    >>> loss, gW, gb = cmf.softmax_layer_grad(X, W, b, [0, 1, 2])
    >>> bool(np.isclose(loss, np.log(3)))                # uniform prediction
    True
    >>> gW.shape, gb.shape
    ((2, 3), (3,))

    The same as the chain rule through :func:`softmax_cross_entropy`:

    >>> W = np.array([[0.5, -0.2, 0.1], [0.3, 0.2, -0.4]])
    >>> loss, gW, gb = cmf.softmax_layer_grad(X, W, b, [0, 1, 2])
    >>> _, G = cmf.softmax_cross_entropy(X @ W + b, [0, 1, 2], return_grad=True)
    >>> np.allclose(gW, X.T @ G), np.allclose(gb, G.sum(axis=0))
    (True, True)
    """
    Xa, _ = as_float_array(X, "X")
    Wa, _ = as_float_array(W, "W")
    ba, _ = as_float_array(b, "b")
    if Xa.ndim != 2 or Wa.ndim != 2 or ba.ndim != 1:
        raise ValueError(f"X must be 2-D, W 2-D and b 1-D; got {Xa.ndim}-D, {Wa.ndim}-D, {ba.ndim}-D")
    if Wa.shape[0] != Xa.shape[1] or ba.shape[0] != Wa.shape[1]:
        raise ValueError(f"shapes do not chain: X {Xa.shape}, W {Wa.shape}, b {ba.shape}")
    dt = np.result_type(Xa.dtype, Wa.dtype, ba.dtype)
    Xa, Wa, ba = (m.astype(dt, copy=False) for m in (Xa, Wa, ba))
    logits = Xa @ Wa + ba
    loss, G = softmax_cross_entropy(logits, target, temperature=temperature, ignore_index=ignore_index,
                                    label_smoothing=label_smoothing, sample_weight=sample_weight,
                                    reduction=reduction, return_grad=True, n_threads=n_threads)
    return loss, Xa.T @ G, G.sum(axis=0)
