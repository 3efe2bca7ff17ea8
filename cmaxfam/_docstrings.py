"""Shared pieces of the public numpydoc docstrings, assembled once at import.

A public docstring may hold placeholder lines: a line whose only content is ``{key}`` or
``{key label}`` (indented like the text around it).  :func:`fill` replaces each with the
snippet ``SNIPPETS[key]``, re-indented to the placeholder's indentation; fields such as
``{fwd}`` *inside a snippet* are replaced by the keyword arguments given to :func:`fill`
(other braces are left alone, and the docstring's own text is never touched, so its
LaTeX braces are safe); a snippet line holding only a field given as ``""`` is dropped.  ``{ref_<name> N}`` gives the reference ``.. [N] <citation>``.  The rendered
``__doc__`` of every public function is a complete numpydoc docstring: the test suite
validates it with numpydoc and runs its Examples.
"""
from __future__ import annotations

import re

__all__ = ["fill"]

_TOKEN = re.compile(r"^([ \t]*)\{(\w+)(?: (\w+))?\}[ \t]*$", re.M)
_FIELD = re.compile(r"\{(\w+)\}")

# ---------- parameters ----------

_PARAMS = {
    "x": """
        x : array_like
            Input array.  float16, float32 and float64 keep their dtype (float16 is computed in
            float32); integers and bools are computed and returned as float64.
    """,
    "axis": """
        axis : int, optional
            The axis of the slices (default -1, the last).  Any axis of an N-d array of any
            memory layout, without a transpose copy.
    """,
    "axis_multi": """
        axis : int, tuple of ints or None, optional
            The axis of the slices (default -1, the last).  A tuple of axes makes each slice
            span all of them; None makes the whole array one slice (as in SciPy).
    """,
    "temperature": """
        temperature : float or array_like, keyword-only
            The temperature ``t`` (default 1.0): positive and finite; a scalar, or one value per
            slice (an array broadcastable to the shape of the input without ``axis``, or of the
            input's ndim with length 1 along ``axis``).
    """,
    "temperature_fwd": """
        temperature : float or array_like, keyword-only
            The temperature ``t`` given to :func:`{fwd}` (default 1.0): positive and finite; a
            scalar, or one value per slice.
    """,
    "temperature_ew": """
        temperature : float or array_like, keyword-only
            The temperature ``t`` (default 1.0): positive and finite; a scalar or an array
            broadcastable to the input's shape.
    """,
    "temperature_ew_fwd": """
        temperature : float or array_like, keyword-only
            The temperature ``t`` given to :func:`{fwd}` (default 1.0): positive and finite; a
            scalar or an array broadcastable to the shape of ``y``.
    """,
    "where": """
        where : array_like of bool, keyword-only
            Entries to include (default None: all), broadcastable to the input's shape.
            Excluded entries get exactly 0; a slice with no included entry gives zeros,
            never NaN.
    """,
    "where_fwd": """
        where : array_like of bool, keyword-only
            The mask given to :func:`{fwd}` (default None: all entries included).
            Excluded entries of the result are exactly 0.
    """,
    "where_jac": """
        where : array_like of bool, keyword-only
            The mask given to :func:`{fwd}` (default None: all entries included).  The
            rows and columns of excluded entries are exactly 0.
    """,
    "where_fwd_red": """
        where : array_like of bool, keyword-only
            The mask given to :func:`{fwd}` (default None: all entries included).
            Excluded entries do not contribute.
    """,
    "where_red": """
        where : array_like of bool, keyword-only
            Entries to include (default None: all), broadcastable to the input's shape.
            Excluded entries do not take part; a slice with no included entry gives -inf.
    """,
    "out": """
        out : ndarray, keyword-only
            Array to write the result to (default None: a new array): exactly the result's
            shape and dtype, writeable; it may be the input itself (in place).  Nothing is
            written unless the whole call succeeds.
    """,
    "out_d": """
        out : ndarray, keyword-only
            Array to write the result to (default None: a new array): exactly the result's
            shape and dtype, writeable; it may be ``{v}`` or ``y`` itself.  Nothing is written
            unless the whole call succeeds.
    """,
    "out_red": """
        out : ndarray, keyword-only
            Array to write the reduced result to (default None: a new array): exactly its
            shape (that of ``keepdims``) and dtype, writeable.  Nothing is written unless the
            whole call succeeds.
    """,
    "out_red_grad": """
        out : ndarray, keyword-only
            Array to write the result to (default None: a new array): exactly the shape of
            the input and the result's dtype, writeable.  Nothing is written unless the
            whole call succeeds.
    """,
    "keepdims": """
        keepdims : bool, optional
            Keep the reduced axes as axes of length 1 (default False).
    """,
    "keepdims_kw": """
        keepdims : bool, keyword-only
            Keep the reduced axis as an axis of length 1 (default False).
    """,
    "n_threads": """
        n_threads : int or None, keyword-only
            Threads for large calls (default 1; None or -1: all cores).  A call with at least
            4 MiB of input is split into whole slices over a shared thread pool; smaller calls
            never start a thread.  No slice is split, so the result is bitwise the same for
            any value.
    """,
    "n_threads_ew": """
        n_threads : int or None, keyword-only
            Threads for large calls (default 1; None or -1: all cores).  A call with at least
            4 MiB of input is split into pieces over a shared thread pool; smaller calls never
            start a thread.  Every element is computed on its own, so the result is bitwise
            the same for any value.
    """,
    "y": """
        y : array_like
            What :func:`{fwd}` returned (not a recomputation): its float dtype and shape.
    """,
    "g": """
        g : array_like
            The cotangent (the gradient of a scalar objective with respect to ``y``), of the
            shape of ``y``.
    """,
    "dx": """
        dx : array_like
            The tangent (a perturbation of the forward call's input), of the shape of ``y``.
    """,
    "y_jac": """
        y : array_like
            What :func:`{fwd}` returned (not a recomputation).
    """,
    "alpha_fwd": """
        alpha : float or array_like, optional
            The ``alpha`` given to :func:`{fwd}` (default 1.5): finite and >= 1; a scalar or
            one value per slice.
    """,
    "rng": """
        rng : numpy.random.Generator, int or None, keyword-only
            The source of randomness: a Generator (used as it is; its state advances), a
            non-negative integer seed, or None (default) for a fresh generator seeded by the
            operating system.
    """,
}

# ---------- the losses ----------

_LOSS = {
    "logits": """
        logits : array_like
            Scores, classes along ``axis`` (at least 1-d).  float16, float32 and float64 keep
            their dtype (float16 is computed in float32); integers and bools become float64.
    """,
    "target": """
        target : array_like
            Class labels (integers, the shape of ``logits`` without ``axis``, or
            broadcastable to it) or target distributions (the shape of ``logits``, finite,
            >= 0 and summing to 1 along ``axis``).
    """,
    "loss_axis": """
        axis : int, optional
            The class axis (default -1, the last); any axis of an N-d array.
    """,
    "loss_temperature": """
        temperature : float or array_like, keyword-only
            The temperature ``t`` (default 1.0): positive and finite, a scalar or one value
            per slice; the loss is that of ``logits / t``.
    """,
    "loss_where": """
        where : array_like of bool, keyword-only
            Classes to include (default None: all), broadcastable to ``logits``; excluded
            classes get probability 0 and gradient 0.
    """,
    "ignore_index": """
        ignore_index : int, keyword-only
            Label value whose slices are ignored (default None: none): loss 0, gradient 0,
            not counted in the mean.  Only with class labels.
    """,
    "label_smoothing": """
        label_smoothing : float, keyword-only
            A number ``eps`` in [0, 1] (default 0.0): the target becomes
            ``(1 - eps) q + eps / k`` over the ``k`` included classes, and the loss
            subtracts that target's entropy (so it stays >= 0 and is 0 at the optimum).
    """,
    "sample_weight": """
        sample_weight : array_like, keyword-only
            Finite, non-negative weight per slice (default None: all 1), broadcastable to
            the shape of ``logits`` without ``axis``.  A weight of 0 removes the slice
            entirely (loss 0, gradient 0, even when its logits hold NaN).
    """,
    "reduction": """
        reduction : {"mean", "sum", "none"}, keyword-only
            ``"mean"`` (default): ``sum w_i L_i / sum w_i`` over the slices not ignored
            (PyTorch's weighted mean; 0 when every slice is ignored); ``"sum"``:
            ``sum w_i L_i``; ``"none"``: ``w_i L_i`` per slice.
    """,
    "return_grad": """
        return_grad : bool, keyword-only
            Also return the gradient with respect to ``logits``, computed in the same pass
            (default False).
    """,
    "grad_out": """
        grad_out : ndarray, keyword-only
            Array to write the gradient to (the shape and dtype of the result for
            ``logits``, writeable); implies ``return_grad``.  Nothing is written unless the
            whole call succeeds.
    """,
    "loss_returns": """
        loss : numpy.floating or ndarray
            The reduced loss (a NumPy scalar of the float dtype of ``logits``), or one loss
            per slice for ``reduction="none"`` (the shape of ``logits`` without ``axis``).
        grad : ndarray
            Only with ``return_grad`` or ``grad_out``: the gradient of the returned loss
            with respect to ``logits`` (for ``"none"``: of the sum of the per-slice
            losses), of the shape and float dtype of ``logits``.
    """,
    "raises_loss": """
        TypeError
            If ``logits`` has a complex, object or string dtype, ``target`` is not numeric
            or holds booleans as labels, ``where`` is not boolean, ``ignore_index`` is not
            an integer, ``grad_out`` is not an ndarray of the gradient's dtype, ``axis`` is
            not an integer, or ``n_threads`` is not an integer or None.
        ValueError
            If ``logits`` is 0-d; ``temperature`` is not positive and finite; a label is not
            an integer in ``[0, n)`` (or ``ignore_index``); a target distribution is
            negative, not finite or does not sum to 1; ``ignore_index`` is given with
            distributions; ``label_smoothing`` is outside [0, 1]; ``sample_weight`` is
            negative or not finite; ``reduction`` is unknown;
            {alpha_err}
            a shape does not match or broadcast; or ``n_threads`` is 0 or below -1.  The
            message names the parameter.
        numpy.exceptions.AxisError
            If ``axis`` is out of range.
    """,
    "loss_special": """
        Special values: NaN among a slice's logits makes its loss and gradient NaN; a
        label on an excluded or -inf logit gives loss +inf, never NaN (the gradient stays
        finite); a slice whose logits are all -inf or excluded predicts 0 (loss +inf,
        gradient ``-q / t``); +inf logits share the prediction's mass (a label on one of
        them gives a finite loss, elsewhere +inf); a slice of one class gives 0.  Huge
        logits never overflow inside the computation (a loss beyond the dtype's range is
        +inf), and a tiny temperature gives the margin ``(max z - z_y)`` without NaN.
    """,
}

# ---------- shared by a few functions of one family ----------

_FAMILY = {
    "notes_sparse_d": """
        Two vectorised passes per slice in the compiled core (the sums ``sum s`` and
        ``<s, {v}>``, then the elementwise formula).  Entries off the support get exactly 0
        whatever ``{v}`` holds there.  NaN in ``y`` makes the slice NaN, and NaN in ``{v}``
        on the support makes the support NaN; a slice of one entry gives 0.
    """,
    "notes_ew_d": """
        Elementwise and branch-free in the compiled core; the Jacobian is diagonal, so the
        VJP and the JVP are the same computation.  NaN in ``y`` or ``{v}`` gives NaN there.
    """,
    "returns_jac": """
        ndarray
            The Jacobians, of shape ``(..., n, n)``: the slice axis moved last, then repeated
            (``J[..., i, j] = dy_i / dx_j``); the float dtype of ``{yname}``.
    """,
    "p_entropy": """
        p : array_like
            Probability vectors along ``axis`` (not checked to sum to 1).  float16, float32 and
            float64 keep their dtype; integers and bools become float64.
    """,
    "out_entropy": """
        out : ndarray, keyword-only
            Array to write the entropies to (default None: a new array): exactly their shape
            and dtype, writeable.  Nothing is written unless the whole call succeeds.
    """,
    "returns_entropy": """
        ndarray or numpy.floating
            The entropy per slice: the shape of ``p`` without ``axis`` (or with length 1 there
            when ``keepdims``), a NumPy scalar when that is 0-d; the float dtype of ``p``.
    """,
    "raises_entropy": """
        TypeError
            If ``p`` has a complex, object or string dtype, ``axis`` is not an integer, or
            ``out`` is not an ndarray of the result's dtype.
        ValueError
            If ``out`` has the wrong shape or is read-only.
            {alpha_err}
        numpy.exceptions.AxisError
            If ``axis`` is out of range.
    """,
    "smax_x": """
        x : array_like
            The input given to :func:`smoothed_max`.
        value : float or array_like
            What :func:`smoothed_max` returned (one value per slice); checked for shape, but
            not needed by the formula.
    """,
    "smax_alpha": """
        alpha : float, optional
            The ``alpha`` given to :func:`smoothed_max` (default 1.0): a finite scalar >= 1.
    """,
    "raises_smax_d": """
        TypeError
            If an array argument has a complex, object or string dtype, ``alpha`` is not a
            real number, ``where`` is not boolean, ``out`` is not an ndarray of the result's
            dtype, ``axis`` is not an integer, or ``n_threads`` is not an integer or None.
        ValueError
            If ``alpha`` is not a finite scalar >= 1, ``temperature`` is not positive and
            finite, a shape does not match or broadcast, ``out`` is read-only, or
            ``n_threads`` is 0 or below -1.  The message names the parameter.
        numpy.exceptions.AxisError
            If ``axis`` is out of range.
    """,
    "lse_a": """
        a : array_like
            The input given to :func:`logsumexp`.
        lse : float or array_like
            What :func:`logsumexp` returned: one value per slice (the reduced shape, or the
            keepdims shape).
    """,
    "lse_b_sign_t": """
        b : array_like, keyword-only
            The weights given to :func:`logsumexp` (default None: all 1).
        sign : float or array_like, keyword-only
            The sign :func:`logsumexp` returned with ``return_sign=True`` (default None: +1);
            needed when ``b`` has negative entries.
        temperature : float or array_like, keyword-only
            The temperature ``t`` given to :func:`logsumexp` (default 1.0): positive and
            finite; a scalar, or one value per slice.
    """,
    "sm_x": """
        x : array_like
            The input given to :func:`softmax_mean`.
        f : float or array_like
            What :func:`softmax_mean` returned: one value per slice (the reduced shape, or the
            keepdims shape).
    """,
    "dx_red": """
        dx : array_like
            The tangent, of the shape of ``{x}``.
    """,
    "returns_red_jvp": """
        ndarray or numpy.floating
            The directional derivative per slice: the reduced shape (or the keepdims shape),
            a NumPy scalar when that is 0-d; the {dtypes}.
    """,
    "where_lsm": """
        where : array_like of bool, keyword-only
            The mask given to :func:`log_softmax` (default None: all entries included).
            Excluded entries of the result are exactly 0, and they do not take part in the
            sums over the slice.
    """,
    "loss_fy": """
        The loss is the Fenchel-Young loss ``L(z; q) = Omega*(z) + Omega(q) - <q, z>`` of
        ``z = logits / t`` and the target ``q`` (one-hot for a label) [{cite}]_: >= 0, 0 exactly
        when the prediction equals ``q``, with gradient ``(prediction - q) / t`` with respect
        to ``logits``, computed in the same fused pass over each slice of the compiled core
        (no second pass, no Jacobian).  With several slices the losses are weighted and
        reduced as ``reduction`` says.  The conventions (ignored labels, weights, smoothing,
        reductions) are those of every loss here (the README and :mod:`cmaxfam._losses`).
    """,
    "y_soft": """
        y_soft : array_like
            The soft sample (what :func:`gumbel_softmax` returned without ``hard``).
    """,
}

# ---------- raises ----------

_RAISES = {
    "raises": """
        TypeError
            If an array argument has a complex, object or string dtype, ``where`` is not
            boolean, ``out`` is not an ndarray of the result's dtype, ``axis`` is not an
            integer (or a tuple or None where it may be), or ``n_threads`` is not an integer
            or None.
        ValueError
            If ``temperature`` is not positive and finite, a shape does not match or
            broadcast (``where``, ``out``, a cotangent), ``out`` is read-only, or
            ``n_threads`` is 0 or below -1.  The message names the parameter.
        numpy.exceptions.AxisError
            If ``axis`` is out of range.
    """,
    "raises_alpha": """
        TypeError
            If an array argument has a complex, object or string dtype, ``where`` is not
            boolean, ``out`` is not an ndarray of the result's dtype, ``axis`` is not an
            integer, or ``n_threads`` is not an integer or None.
        ValueError
            If ``temperature`` is not positive and finite, ``alpha`` is below 1, infinite
            or NaN, a shape does not match or broadcast (``where``, ``out``, a cotangent),
            ``out`` is read-only, or ``n_threads`` is 0 or below -1.  The message names the
            parameter.
        numpy.exceptions.AxisError
            If ``axis`` is out of range.
    """,
    "raises_ew": """
        TypeError
            If an array argument has a complex, object or string dtype, ``out`` is not an
            ndarray of the result's dtype, or ``n_threads`` is not an integer or None.
        ValueError
            If ``temperature`` is not positive and finite, a shape does not match or
            broadcast (``temperature``, ``out``, a cotangent), ``out`` is read-only, or
            ``n_threads`` is 0 or below -1.  The message names the parameter.
    """,
    "raises_jac": """
        TypeError
            If ``y`` has a complex, object or string dtype, ``where`` is not boolean, or
            ``axis`` is not an integer.
        ValueError
            If ``temperature`` is not positive and finite or ``where`` does not broadcast to
            ``y``.  The message names the parameter.
        numpy.exceptions.AxisError
            If ``axis`` is out of range.
    """,
    "raises_jac_alpha": """
        TypeError
            If ``y`` has a complex, object or string dtype, ``where`` is not boolean, or
            ``axis`` is not an integer.
        ValueError
            If ``temperature`` is not positive and finite, ``alpha`` is below 1, infinite or
            NaN, or ``where`` does not broadcast to ``y``.  The message names the parameter.
        numpy.exceptions.AxisError
            If ``axis`` is out of range.
    """,
}

# ---------- notes ----------

_NOTES = {
    "special_normalizer": """
        Special values (the same for every normaliser of the family): NaN anywhere in a
        slice makes that slice NaN; +inf entries share the mass equally and the finite
        entries get 0; -inf entries get exactly 0, and a slice of only -inf is NaN (unless
        ``where`` excludes it: then zeros); a slice of one entry gives 1; an empty array
        gives an empty array.  Inputs near the float range (+-1e38 in float32, +-1e308 in
        float64) never overflow, and a tiny temperature approaches :func:`argmax` without
        NaN.
    """,
    "dtypes_d": """
        The computation runs in the wider of the dtypes of ``y`` and ``{v}`` (float16 in
        float32; integers as float64) and the result has that dtype.
    """,
    "threads_note": """
        The kernel runs with the GIL released; see ``n_threads`` for large single calls.
    """,
}

# ---------- references ----------

_REFS = {
    "martins2016": """
        A. F. T. Martins and R. F. Astudillo, "From Softmax to Sparsemax: A Sparse Model of
        Attention and Multi-Label Classification", Proceedings of the 33rd International
        Conference on Machine Learning (ICML), PMLR 48, pp. 1614-1623, 2016.
        arXiv:1602.02068.
    """,
    "peters2019": """
        B. Peters, V. Niculae and A. F. T. Martins, "Sparse Sequence-to-Sequence Models",
        Proceedings of the 57th Annual Meeting of the Association for Computational
        Linguistics (ACL), 2019.  ACL Anthology P19-1146, arXiv:1905.05702.
    """,
    "jang2017": """
        E. Jang, S. Gu and B. Poole, "Categorical Reparameterization with Gumbel-Softmax",
        International Conference on Learning Representations (ICLR), 2017.
        arXiv:1611.01144.
    """,
    "maddison2017": """
        C. J. Maddison, A. Mnih and Y. W. Teh, "The Concrete Distribution: A Continuous
        Relaxation of Discrete Random Variables", International Conference on Learning
        Representations (ICLR), 2017.  arXiv:1611.00712.
    """,
    "correia2019": """
        G. M. Correia, V. Niculae and A. F. T. Martins, "Adaptively Sparse Transformers",
        Proceedings of the 2019 Conference on Empirical Methods in Natural Language
        Processing (EMNLP-IJCNLP), 2019.  arXiv:1909.00015.
    """,
    "hinton2015": """
        G. Hinton, O. Vinyals and J. Dean, "Distilling the Knowledge in a Neural Network",
        NIPS Deep Learning and Representation Learning Workshop, 2015.  arXiv:1503.02531.
    """,
    "condat2016": """
        L. Condat, "Fast projection onto the simplex and the l1 ball", Mathematical
        Programming 158(1), pp. 575-585, 2016.  doi:10.1007/s10107-015-0946-6.
    """,
    "blondel2020": """
        M. Blondel, A. F. T. Martins and V. Niculae, "Learning with Fenchel-Young Losses",
        Journal of Machine Learning Research 21(35), pp. 1-69, 2020.  arXiv:1901.02324.
    """,
    "blanchard2021": """
        P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing the log-sum-exp
        and softmax functions", IMA Journal of Numerical Analysis 41(4), pp. 2311-2330,
        2021.  doi:10.1093/imanum/draa038.
    """,
}

# ---------- the methods of the scikit-learn estimators (cmaxfam.sklearn) ----------

_ESTIMATORS = {
    "est_params_clf": """
        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.
    """,
    "est_params_ts": """
        Parameters
        ----------
        X : array-like
            Logits, of shape (n_samples, n_classes) or (n_samples,) for a binary margin
            (``estimator=None``), or the estimator's input.
    """,
    "est_returns_labels": """
        Returns
        -------
        ndarray of shape (n_samples,)
            The labels, from ``classes_``.
    """,
    "est_returns_proba": """
        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            The probabilities; rows sum to 1.
    """,
}

SNIPPETS = {**_PARAMS, **_LOSS, **_FAMILY, **_RAISES, **_NOTES, **_ESTIMATORS,
            **{"ref_" + k: v for k, v in _REFS.items()}}


_CACHE = {}


def _snippet(indent, key, label, fields):
    """The text of one placeholder line (cached: the same snippets recur in most
    docstrings, and this runs at import)."""
    ck = (indent, key, label, tuple(sorted(fields.items())))
    text = _CACHE.get(ck)
    if text is not None:
        return text
    lines = SNIPPETS[key].lstrip("\n").rstrip().split("\n")
    cut = min(len(ln) - len(ln.lstrip()) for ln in lines if ln.strip())
    lines = [ln[cut:].rstrip() for ln in lines]
    if key.startswith("ref_"):
        if label is None:
            raise ValueError(f"reference placeholder {key} needs a label: {{{key} 1}}")
        lines = [f".. [{label}] " + lines[0]] + ["   " + ln if ln else ln for ln in lines[1:]]
    elif label is not None:
        raise ValueError(f"placeholder {key} takes no label")
    # a snippet line that is only a field given as "" disappears
    lines = [ln for ln in lines if not (_FIELD.fullmatch(ln.strip()) and fields.get(ln.strip()[1:-1]) == "")]
    if fields:
        lines = [_FIELD.sub(lambda f: fields.get(f[1], f[0]), ln) if "{" in ln else ln for ln in lines]
    text = _CACHE[ck] = "\n".join(indent + ln if ln else ln for ln in lines)
    return text


def _expand(doc, fields):
    return _TOKEN.sub(lambda m: _snippet(*m.groups(), fields), doc)


def fill(**fields):
    """Decorator: expand the placeholder lines of the function's docstring (see the module
    docstring); ``fields`` fill the ``{name}`` fields of the snippets."""
    def deco(f):
        if f.__doc__:                              # None under python -OO
            f.__doc__ = _expand(f.__doc__, fields)
        return f
    return deco
