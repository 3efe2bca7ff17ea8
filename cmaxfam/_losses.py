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

import numpy as np

from . import _plumbing as P
from ._cy import losses as _k
from ._normalizers import softmax
from ._validation import (as_float_array, check_alpha, check_choice, check_label_smoothing,
                          check_loss_target, check_n_threads, check_out, check_same_shape,
                          check_sample_weight, check_where, slice_param)

__all__ = ["softmax_cross_entropy", "sparsemax_loss", "entmax_loss", "distillation_loss",
           "softmax_layer_grad"]

_REDUCTIONS = ("none", "mean", "sum")


def _weights(labels, sw, reduction, plan):
    """Per-slice weights of the returned value (0 for ignored slices) and their total."""
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
        epsa = np.broadcast_to(np.float64(eps), plan.keep_shape)
        views = [P.kernel_ready(a), P.kernel_ready(dist), grad, ps(t), ps(alpha), P.mask_u8(w),
                 ps(labels), ps(gs), ps(epsa), ps(loss)]
        P.run_slices(_k.fy_loss_slices, ax, views, n_threads)
    if grad is not None:
        grad = P.finish(grad, grad_out, copy, rdt)
    return loss, grad


def _reduce(loss, wl, total, reduction, plan, rdt):
    weighted = np.where(wl > 0, loss * np.where(wl > 0, wl, 1.0), 0.0)
    if reduction == "none":
        return np.asarray(weighted.reshape(plan.red_shape), dtype=rdt)
    s = float(weighted.sum())
    if reduction == "mean":
        s = s / total if total > 0 else 0.0
    return rdt.type(s)


def _fy_loss(logits, target, axis, temperature, where, ignore_index, label_smoothing, sample_weight,
             reduction, return_grad, grad_out, alpha, n_threads):
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
    wl, gs, total = _weights(labels, sw, reduction, plan)
    loss, grad = _run(a, rdt, plan, t, al, w, labels, dist, eps, gs, want_grad, grad_out, nt)
    value = _reduce(loss, wl, total, reduction, plan, rdt)
    return (value, grad) if want_grad else value


_SHARED_DOC = """
    Parameters
    ----------
    logits : array_like
        Scores, classes along ``axis`` (float16/32/64 keep their type; integers become
        float64).
    target : array_like
        Class labels (integers, the shape of ``logits`` without ``axis``) or target
        distributions (the shape of ``logits``, >= 0, summing to 1 along ``axis``).
    axis : int, optional
        The class axis (default: the last); any axis of an N-d array.
    temperature : float or array_like, keyword-only
        Positive and finite, a scalar or one per slice: the loss is that of
        ``logits / temperature``.
    where : array_like of bool, keyword-only
        Classes to include; excluded classes get probability 0.
    ignore_index : int, keyword-only
        Label value whose slices are ignored (loss 0, gradient 0, not counted in the mean).
    label_smoothing : float in [0, 1], keyword-only
        Mix the target with the uniform distribution over the included classes.
    sample_weight : array_like, keyword-only
        Non-negative weight per slice (broadcastable to the shape without ``axis``).
    reduction : {"mean", "sum", "none"}, keyword-only
        Weighted mean over the slices not ignored (default), sum, or one loss per slice.
    return_grad : bool, keyword-only
        Also return the gradient with respect to ``logits`` (computed in the same pass).
    grad_out : ndarray, keyword-only
        Where to write the gradient (the shape and dtype of ``logits``); implies
        ``return_grad``.
    n_threads : int or None, keyword-only
        Threads for large calls (default 1; None or -1: all cores); whole slices are
        split, so the result is bitwise the same for any value.

    Returns
    -------
    loss : scalar or ndarray
        The reduced loss (``logits``' float dtype), or one per slice for ``"none"``.
    grad : ndarray
        Only with ``return_grad`` or ``grad_out``: d loss / d logits.
"""


def softmax_cross_entropy(logits, target, axis=-1, *, temperature=1.0, where=None, ignore_index=None,
                          label_smoothing=0.0, sample_weight=None, reduction="mean", return_grad=False,
                          grad_out=None, n_threads=1):
    r"""Softmax cross-entropy and its gradient in one fused pass.

    For a label ``y`` the loss is ``logsumexp(z) - z_y`` with ``z = logits / t``, computed
    from the shifted logits without ever forming ``log(softmax(z))`` (no -inf at large
    gaps); the gradient is ``(softmax(z) - onehot(y)) / t``.  For a target distribution
    ``q`` it is ``KL(q || softmax(z))`` (the Fenchel-Young loss; PyTorch's soft-target
    cross-entropy minus the constant ``H(q)``).  Conventions (ignored labels, weights,
    smoothing, reductions) are in :mod:`cmaxfam._losses` and the README.
    """ + _SHARED_DOC + r"""
    Examples
    --------
    >>> import numpy as np, cmaxfam as cmf
    >>> x = np.array([[1.0, 2.0, 3.0], [1.0, 0.0, -1.0]])
    >>> float(cmf.softmax_cross_entropy(x, [2, 0]).round(6))
    0.407606
    >>> loss, grad = cmf.softmax_cross_entropy(x, [2, 0], reduction="sum", return_grad=True)
    >>> np.allclose(grad, cmf.softmax(x) - np.eye(3)[[2, 0]])
    True
    """
    return _fy_loss(logits, target, axis, temperature, where, ignore_index, label_smoothing,
                    sample_weight, reduction, return_grad, grad_out, 1.0, n_threads)


def sparsemax_loss(logits, target, axis=-1, *, temperature=1.0, where=None, ignore_index=None,
                   label_smoothing=0.0, sample_weight=None, reduction="mean", return_grad=False,
                   grad_out=None, n_threads=1):
    r"""The sparsemax loss (Martins & Astudillo 2016): the Fenchel-Young loss of the Gini
    entropy, ``<p - q, z> + H_2(p) - H_2(q)`` with ``p = sparsemax(z)``, ``z = logits / t``,
    ``H_2(p) = (1 - ||p||^2) / 2``; gradient ``(p - q) / t``.  Zero exactly when
    ``sparsemax(z)`` equals the target (unlike cross-entropy, a finite margin suffices).
    """ + _SHARED_DOC + r"""
    Examples
    --------
    >>> import cmaxfam as cmf
    >>> float(cmf.sparsemax_loss([[3.0, 1.0, 0.0]], [0]))       # margin >= 1: no loss
    0.0
    >>> float(cmf.sparsemax_loss([[1.0, 1.0, 0.0]], [0]))
    0.25
    """
    return _fy_loss(logits, target, axis, temperature, where, ignore_index, label_smoothing,
                    sample_weight, reduction, return_grad, grad_out, 2.0, n_threads)


def entmax_loss(logits, target, axis=-1, *, alpha=1.5, temperature=1.0, where=None, ignore_index=None,
                label_smoothing=0.0, sample_weight=None, reduction="mean", return_grad=False,
                grad_out=None, n_threads=1):
    r"""The alpha-entmax loss (Peters et al. 2019): the Fenchel-Young loss of the Tsallis
    entropy, ``<p - q, z> + H_alpha(p) - H_alpha(q)`` with ``p = entmax(z, alpha)``,
    ``H_alpha(p) = (1 - sum p^alpha) / (alpha (alpha - 1))``; gradient ``(p - q) / t``.
    ``alpha = 1`` is :func:`softmax_cross_entropy` and ``alpha = 2`` :func:`sparsemax_loss`
    (the same kernels); ``alpha`` may be one per slice.  ``H_alpha`` is evaluated as
    ``-sum p expm1((alpha - 1) log p) / (alpha (alpha - 1))``, accurate as alpha -> 1.

    ``alpha`` : float or array_like, keyword-only, >= 1 (default 1.5).
    """ + _SHARED_DOC + r"""
    Examples
    --------
    >>> import cmaxfam as cmf
    >>> x = [[2.0, 1.0, -1.0]]
    >>> float(cmf.entmax_loss(x, [0], alpha=1.5).round(6))
    0.061656
    >>> bool(cmf.entmax_loss(x, [0], alpha=1) == cmf.softmax_cross_entropy(x, [0]))
    True
    """
    return _fy_loss(logits, target, axis, temperature, where, ignore_index, label_smoothing,
                    sample_weight, reduction, return_grad, grad_out, alpha, n_threads)


def distillation_loss(student, teacher, axis=-1, *, temperature=1.0, where=None, sample_weight=None,
                      reduction="batchmean", return_grad=False, grad_out=None, n_threads=1):
    r"""Knowledge distillation (Hinton et al. 2015): ``T^2 KL(softmax(teacher/T) ||
    softmax(student/T))`` per slice, with gradient ``T (q_s - q_t)`` with respect to the
    student logits (the ``T^2`` keeps gradient magnitudes comparable across temperatures).

    ``reduction``: ``"batchmean"`` (default) and ``"mean"`` both divide the sum over slices
    by the number of slices (weighted: by the sum of ``sample_weight``): the mathematically
    correct mean KL.  (PyTorch's ``kl_div(reduction="mean")`` divides by the number of
    *elements*, i.e. also by the number of classes: a known trap; it is not offered
    here.)  ``"sum"`` and ``"none"`` as in :func:`softmax_cross_entropy`.

    Parameters
    ----------
    student, teacher : array_like
        Logits of the same shape, classes along ``axis``.  The teacher is not
        differentiated.
    temperature : float or array_like, keyword-only
        T > 0, a scalar or one per slice.
    where, sample_weight, return_grad, grad_out
        As :func:`softmax_cross_entropy`.

    Examples
    --------
    >>> import numpy as np, cmaxfam as cmf
    >>> s, t = np.array([[1.0, 2.0, 3.0]]), np.array([[3.0, 2.0, 1.0]])
    >>> loss, g = cmf.distillation_loss(s, t, temperature=2.0, return_grad=True)
    >>> np.allclose(g, 2.0 * (cmf.softmax(s / 2) - cmf.softmax(t / 2)))
    True
    >>> float(cmf.distillation_loss(t, t, temperature=2.0))
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
    one = np.broadcast_to(np.float64(1.0), plan.keep_shape)
    loss, grad = _run(a, rdt, plan, t, one, w, None, q, 0.0, gs * t2, want_grad, grad_out, nt)
    value = _reduce(loss * t2, wl, total, red, plan, rdt)
    return (value, grad) if want_grad else value


def softmax_layer_grad(X, W, b, target, *, temperature=1.0, ignore_index=None, label_smoothing=0.0,
                       sample_weight=None, reduction="mean", n_threads=1):
    r"""Loss and parameter gradients of a softmax (multinomial logistic) layer.

    For ``logits = X @ W + b`` (``X``: (n_samples, n_features), ``W``: (n_features,
    n_classes), ``b``: (n_classes,)) and the cross-entropy of :func:`softmax_cross_entropy`,
    returns ``(loss, grad_W, grad_b)`` with ``grad_W = X^T (P - Y)`` and ``grad_b =
    sum_i (P - Y)_i`` (scaled by the reduction and weights), the chain rule of seed 002
    applied without ever forming the (n_classes x n_classes) softmax Jacobian: the fused
    kernel gives ``P - Y`` directly, then one matrix product.

    Examples
    --------
    >>> import numpy as np, cmaxfam as cmf
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> W, b = np.zeros((2, 3)), np.zeros(3)
    >>> loss, gW, gb = cmf.softmax_layer_grad(X, W, b, [0, 1, 2])
    >>> round(float(loss), 6) == round(np.log(3), 6)
    True
    >>> gW.shape, gb.shape
    ((2, 3), (3,))
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
