"""scikit-learn estimators built on cmaxfam's fused Fenchel-Young losses.

scikit-learn (>= 1.6) and SciPy are optional dependencies of cmaxfam, imported only here
(``pip install "cmaxfam[sklearn]"``):

* :class:`MaxFamilyClassifier`: a multinomial linear classifier ``P = link((X W + b) / t)``
  with the softmax, sparsemax or alpha-entmax link, trained by L-BFGS on the link's
  Fenchel-Young loss plus an L2 penalty, with the loss and its gradient ``P - Y`` from one
  fused cmaxfam kernel and ``X^T (P - Y)`` for the weights (seed 002).  Optionally the
  NormFace cosine logits ``s cos(x, w_k)`` (seed 003).
* :class:`TemperatureScaling`: calibrates logits (or any classifier's
  ``decision_function``) with one temperature, optionally plus one bias per class,
  fitted by minimising the negative log-likelihood.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.optimize
import scipy.sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import assert_all_finite, get_tags
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.extmath import row_norms, safe_sparse_dot
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (check_consistent_length, check_is_fitted, column_or_1d,
                                      has_fit_parameter, validate_data)

from . import _docstrings as _doc
from ._losses import entmax_loss, softmax_cross_entropy, sparsemax_loss
from ._normalizers import softmax
from ._sparse import entmax, sparsemax
from ._validation import check_choice, check_fit_sample_weight, check_n_threads, check_number

__all__ = ["MaxFamilyClassifier", "TemperatureScaling"]

_LINKS = ("softmax", "sparsemax", "entmax")
_NORMALIZE = (None, "cosine")


def _link_loss(link, alpha):
    """The Fenchel-Young loss of ``link`` as ``f(logits, labels, **kw)``."""
    if link == "softmax":
        return softmax_cross_entropy
    if link == "sparsemax":
        return sparsemax_loss
    return lambda z, y, **kw: entmax_loss(z, y, alpha=alpha, **kw)


def _link_proba(link, alpha, z, n_threads):
    if link == "softmax":
        return softmax(z, n_threads=n_threads)
    if link == "sparsemax":
        return sparsemax(z, n_threads=n_threads)
    return entmax(z, alpha=alpha, n_threads=n_threads)


def _inv_row_norms(X):
    """``1 / ||x_i||`` per row (0 for a row of norm 0: its cosines are 0)."""
    rn = row_norms(X)
    return np.where(rn > 0, 1.0 / np.where(rn > 0, rn, 1.0), 0.0)


def _encode_labels(y):
    """Validated classification targets: ``(classes, indices)``."""
    check_classification_targets(y)
    classes, idx = np.unique(y, return_inverse=True)
    return classes, idx.reshape(-1)


def _class_weights(class_weight, classes, y_idx, sw):
    """One weight per class.  ``"balanced"`` uses the *weighted* class counts,
    ``sum(sw) / (n_classes * sum_{i in k} sw_i)``, so that integer sample weights are
    equivalent to repeated rows."""
    k = len(classes)
    if class_weight is None:
        return np.ones(k)
    if isinstance(class_weight, str):
        check_choice(class_weight, "class_weight", ("balanced",))
        counts = np.bincount(y_idx, weights=sw, minlength=k)
        return np.where(counts > 0, sw.sum() / (k * np.where(counts > 0, counts, 1.0)), 0.0)
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be None, 'balanced' or a dict; got {class_weight!r}")
    for label, v in class_weight.items():
        check_number(v, f"class_weight[{label!r}]", low=0)
    return compute_class_weight(class_weight, classes=classes, y=classes[y_idx])


class MaxFamilyClassifier(ClassifierMixin, BaseEstimator):
    r"""Multinomial linear classifier with a softmax, sparsemax or entmax link.

    The model is ``P = link(Z)`` with logits ``Z = (X W^T + b) / temperature`` (``W`` is
    ``coef_``, one row per class), trained by minimising

    .. math:: C \sum_i s_i L(z_i; y_i) + \tfrac12 \|W\|_F^2,

    where ``L`` is the Fenchel-Young loss of the link (softmax: the cross-entropy,
    sparsemax: the sparsemax loss, entmax: the alpha-entmax loss; see
    :func:`cmaxfam.entmax_loss`) and ``s_i`` is the sample weight times the class weight
    of ``y_i``: the convention of :class:`sklearn.linear_model.LogisticRegression`, whose
    ``C`` means the same thing (the intercept is not penalised).  The solver is SciPy's
    L-BFGS-B on the objective divided by ``sum_i s_i``; each evaluation is one fused
    cmaxfam kernel for the losses and their gradient ``P - Y`` (divided by the
    temperature) and one product ``X^T (P - Y)``.

    Parameters
    ----------
    link : {"softmax", "sparsemax", "entmax"}, default="softmax"
        The link from logits to probabilities.  sparsemax and entmax give exact zeros.
    alpha : float, default=1.5
        The alpha of entmax (>= 1; 1 is softmax, 2 is sparsemax); used only with
        ``link="entmax"``.
    C : float, default=1.0
        Inverse of the L2 regularisation strength (> 0), as in ``LogisticRegression``.
    temperature : float, default=1.0
        Positive: the logits are divided by it.  Without ``normalize`` the weights can
        absorb it (only the balance with the penalty changes); with
        ``normalize="cosine"`` it divides the fixed logit scale.
    normalize : {None, "cosine"}, default=None
        ``"cosine"``: the NormFace formulation (seed 003).  Samples and class weight
        vectors are L2-normalised and the logits are ``scale * cos(x_i, w_k) + b_k``
        (over the temperature), so the logits' magnitude is fixed by ``scale`` instead
        of growing with the weights' norm.  The loss does not depend on ``||w_k||``,
        so the L2 penalty is replaced by ``0.5 sum_k (||w_k|| - 1)^2``, which fixes the
        norm without changing the minimiser; ``C`` then only weights the data term
        during the iterations.  A sample of norm 0 has cosine 0.
    scale : float, default=10.0
        The logit scale ``s`` of ``normalize="cosine"`` (> 0).  NormFace (Wang et al.
        2017, Proposition 2): with ``K`` classes the softmax can put probability ``p``
        on the right class only when ``s >= (K - 1) / K * log((K - 1) p / (1 - p))``.
    class_weight : dict, "balanced" or None, default=None
        Weight per class (``{label: weight}``), or ``"balanced"``:
        ``sum(sample_weight) / (n_classes * weighted count of the class)``.
    fit_intercept : bool, default=True
        Fit the per-class intercept ``b`` (not penalised).
    max_iter : int, default=1000
        Maximum number of L-BFGS iterations.
    tol : float, default=1e-6
        L-BFGS stops when the largest gradient component of the objective divided by
        ``sum_i s_i`` falls below ``tol`` (SciPy's ``gtol``), or, as in
        ``LogisticRegression``, when an iteration decreases that objective by less than
        ``64 eps`` relative (SciPy's ``ftol``).
    warm_start : bool, default=False
        Start from the previous ``coef_``/``intercept_`` when the classes and the number
        of features are unchanged.
    n_threads : int or None, default=1
        Threads for the cmaxfam kernels (None or -1: all cores).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (n_classes, n_features)
        The weights, one row per class (also for two classes).  With
        ``normalize="cosine"`` the rows have unit norm.
    intercept_ : ndarray of shape (n_classes,)
        The intercepts (zeros when ``fit_intercept=False``).
    n_iter_ : int
        Number of L-BFGS iterations of the last fit.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        The feature names seen in fit, when ``X`` had string column names.

    See Also
    --------
    TemperatureScaling : Calibrate the logits of a fitted classifier.
    sklearn.linear_model.LogisticRegression : The softmax link without normalisation.

    Notes
    -----
    Fenchel-Young losses are convex in the logits, so without ``normalize`` the objective
    is convex (strictly in ``W``); the cosine formulation is not convex, and L-BFGS starts
    it from the (weighted) class means of the normalised samples.  Sparse ``X`` (CSR) is
    accepted.  Fitting is in float64.

    References
    ----------
    Martins & Astudillo (2016), From softmax to sparsemax.  Peters, Niculae & Martins
    (2019), Sparse sequence-to-sequence models.  Blondel, Martins & Niculae (2020),
    Learning with Fenchel-Young losses.  Wang, Xiang, Cheng & Yuille (2017), NormFace:
    L2 hypersphere embedding for face verification.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from cmaxfam.sklearn import MaxFamilyClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MaxFamilyClassifier(link="sparsemax").fit(X, y)
    >>> clf.coef_.shape
    (3, 4)
    >>> P = clf.predict_proba(X[:3])
    >>> bool((P == 0).any()), bool(np.allclose(P.sum(axis=1), 1))
    (True, True)
    >>> clf.score(X, y) > 0.95
    True
    >>> cos = MaxFamilyClassifier(normalize="cosine", scale=20.0).fit(X, y)
    >>> bool(np.allclose(np.linalg.norm(cos.coef_, axis=1), 1.0))
    True
    """

    def __init__(self, link="softmax", *, alpha=1.5, C=1.0, temperature=1.0, normalize=None,
                 scale=10.0, class_weight=None, fit_intercept=True, max_iter=1000, tol=1e-6,
                 warm_start=False, n_threads=1):
        self.link = link
        self.alpha = alpha
        self.C = C
        self.temperature = temperature
        self.normalize = normalize
        self.scale = scale
        self.class_weight = class_weight
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.n_threads = n_threads

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ---------- parameters ----------

    def _checked_params(self):
        if self.normalize not in _NORMALIZE:
            raise ValueError(f"normalize must be None or 'cosine'; got {self.normalize!r}")
        return dict(
            link=check_choice(self.link, "link", _LINKS),
            alpha=check_number(self.alpha, "alpha", low=1.0),
            C=check_number(self.C, "C", low=0.0, low_open=True),
            t=check_number(self.temperature, "temperature", low=0.0, low_open=True),
            scale=check_number(self.scale, "scale", low=0.0, low_open=True),
            max_iter=check_number(self.max_iter, "max_iter", integer=True, low=1),
            tol=check_number(self.tol, "tol", low=0.0),
            n_threads=check_n_threads(self.n_threads),
        )

    # ---------- the objective ----------

    def _objective(self, X, y_idx, sw, p, n_classes, cosine, fit_intercept, inv_norm):
        """``theta -> (f, grad)``: the objective divided by ``sum(sw)``, theta = [W (d, K)
        row-major, b]."""
        loss_fn = _link_loss(p["link"], p["alpha"])
        d = X.shape[1]
        nw = d * n_classes
        scale = 1.0 / sw.sum()
        C, t, s, nt = p["C"], p["t"], p["scale"], p["n_threads"]

        def fg(theta):
            W = theta[:nw].reshape(d, n_classes)
            b = theta[nw:] if fit_intercept else 0.0
            if cosine:
                norms = np.sqrt(np.einsum("dk,dk->k", W, W))
                U = W / np.maximum(norms, np.finfo(float).tiny)
                Z = (s * inv_norm)[:, None] * np.asarray(X @ U) + b
            else:
                Z = np.asarray(X @ W) + b
            loss, G = loss_fn(Z, y_idx, temperature=t, sample_weight=sw, reduction="sum",
                              return_grad=True, n_threads=nt)
            if cosine:
                gU = s * np.asarray(X.T @ (G * inv_norm[:, None]))
                gW = (gU - U * np.einsum("dk,dk->k", U, gU)) / np.maximum(norms, np.finfo(float).tiny)
                dn = norms - 1.0
                f = C * float(loss) + 0.5 * float(dn @ dn)
                gW = C * gW + U * dn
            else:
                gW = np.asarray(X.T @ G)
                f = C * float(loss) + 0.5 * float(np.einsum("dk,dk->", W, W))
                gW = C * gW + W
            grad = [gW.ravel()]
            if fit_intercept:
                grad.append(C * G.sum(axis=0))
            return f * scale, np.concatenate(grad) * scale

        return fg

    def _initial(self, X, y_idx, sw, classes, cosine, inv_norm):
        """Starting point: the previous solution (warm start, same classes and number of
        features), else zeros, or for the cosine logits the centred weighted class means
        of the normalised samples."""
        n_classes, d = len(classes), X.shape[1]
        b = np.zeros(n_classes)
        if (self.warm_start and hasattr(self, "coef_") and self.coef_.shape == (n_classes, d)
                and np.array_equal(self.classes_, classes)):
            return self.coef_.T.copy(), self.intercept_.copy()
        if not cosine:
            return np.zeros((d, n_classes)), b
        R = scipy.sparse.csr_matrix(
            (sw * inv_norm, (y_idx, np.arange(len(y_idx)))), shape=(n_classes, len(y_idx)))
        M = safe_sparse_dot(R, X, dense_output=True)
        M -= M.mean(axis=0)
        W = M.T.copy()
        norms = np.linalg.norm(W, axis=0)
        for k in np.flatnonzero(norms < 1e-12 * max(1.0, norms.max())):
            W[:, k] = 0.0
            W[k % d, k] = 1.0
        return W / np.linalg.norm(W, axis=0), b

    # ---------- fit / predict ----------

    def _problem(self, X, y, sample_weight, p):
        """Validate the data; return ``(fg, theta0, classes)``: the objective divided by
        the total weight and its gradient as a function of ``theta = [W.ravel(), b]``
        (``W`` of shape (n_features, n_classes), ``b`` only with ``fit_intercept``) and
        the starting point."""
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64, order="C")
        classes, y_idx = _encode_labels(y)
        sw = check_fit_sample_weight(sample_weight, X.shape[0])
        if not sw.sum() > 0:
            raise ValueError("sample_weight is all zero: nothing to fit")
        sw = sw * _class_weights(self.class_weight, classes, y_idx, sw)[y_idx]
        live = np.bincount(y_idx, weights=sw, minlength=len(classes)) > 0
        if live.sum() < 2:
            raise ValueError("MaxFamilyClassifier needs samples of at least 2 classes with positive "
                             f"weight; the data has {int(live.sum())} class(es) with positive weight")
        cosine = self.normalize == "cosine"
        inv_norm = _inv_row_norms(X) if cosine else None
        W0, b0 = self._initial(X, y_idx, sw, classes, cosine, inv_norm)
        theta0 = np.concatenate([W0.ravel(), b0] if self.fit_intercept else [W0.ravel()])
        fg = self._objective(X, y_idx, sw, p, len(classes), cosine, bool(self.fit_intercept), inv_norm)
        return fg, theta0, classes

    def fit(self, X, y, sample_weight=None):
        """Fit the model by L-BFGS.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes with positive weight).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight per sample; an integer weight is the same as repeating
            the row, a weight of 0 the same as removing it.

        Returns
        -------
        MaxFamilyClassifier
            The fitted estimator.
        """
        p = self._checked_params()
        fg, theta0, classes = self._problem(X, y, sample_weight, p)
        k, d = len(classes), self.n_features_in_
        res = scipy.optimize.minimize(
            fg, theta0, method="L-BFGS-B", jac=True,
            options={"maxiter": p["max_iter"], "gtol": p["tol"], "ftol": 64 * np.finfo(float).eps,
                     "maxls": 50})
        if not res.success:
            warnings.warn(f"MaxFamilyClassifier: L-BFGS did not converge ({res.message}) after "
                          f"{res.nit} iterations; increase max_iter or scale the data",
                          ConvergenceWarning, stacklevel=2)
        W = res.x[:d * k].reshape(d, k)
        if self.normalize == "cosine":
            W = W / np.linalg.norm(W, axis=0)
        self.classes_ = classes
        self.coef_ = np.ascontiguousarray(W.T)
        self.intercept_ = res.x[d * k:].copy() if self.fit_intercept else np.zeros(k)
        self.n_iter_ = int(res.nit)
        return self

    def _logits(self, X):
        """All ``n_classes`` logits ``(X W^T + b) / t`` (cosine: ``(s cos + b) / t``)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        if self.normalize == "cosine":
            Z = (float(self.scale) * _inv_row_norms(X))[:, None] * np.asarray(X @ self.coef_.T)
        else:
            Z = np.asarray(X @ self.coef_.T)
        return (Z + self.intercept_) / float(self.temperature)

    @_doc.fill()
    def decision_function(self, X):
        """The logits ``Z`` that go into the link.

        {est_params_clf}

        Returns
        -------
        ndarray of shape (n_samples, n_classes) or (n_samples,)
            ``Z``; for two classes ``Z[:, 1] - Z[:, 0]`` (positive means ``classes_[1]``),
            the scikit-learn convention for binary classifiers.
        """
        Z = self._logits(X)
        return Z[:, 1] - Z[:, 0] if Z.shape[1] == 2 else Z

    @_doc.fill()
    def predict_proba(self, X):
        """Class probabilities ``link(Z)``, exact zeros for sparsemax and entmax.

        {est_params_clf}

        {est_returns_proba}
        """
        return _link_proba(self.link, float(self.alpha), self._logits(X), check_n_threads(self.n_threads))

    @_doc.fill()
    def predict(self, X):
        """The class of the largest logit (the first one on ties).

        {est_params_clf}

        {est_returns_labels}
        """
        Z = self._logits(X)
        return self.classes_[np.argmax(Z, axis=1)]


def _as_logit_matrix(D, n_classes):
    """Scores as an (n_samples, n_classes) float64 matrix; a binary margin ``d`` (1-D or
    one column) becomes ``[0, d]``."""
    D = np.asarray(D, dtype=np.float64)
    if D.ndim == 1:
        D = D[:, None]
    if D.shape[1] == 1:
        D = np.hstack([np.zeros_like(D), D])
    if D.shape[1] != n_classes:
        raise ValueError(f"the scores have {D.shape[1]} columns for {n_classes} classes")
    return D


class TemperatureScaling(ClassifierMixin, TransformerMixin, BaseEstimator):
    r"""Temperature scaling (Guo et al. 2017): calibrated probabilities ``softmax(Z / T + b)``.

    Fits one temperature ``T > 0`` (and, with ``bias=True``, one bias per class) by
    minimising the (weighted) negative log-likelihood of the labels under
    ``softmax(Z / T + b)``, computed with :func:`cmaxfam.softmax_cross_entropy` and its
    fused gradient.  In ``u = 1 / T`` the NLL is convex (jointly with ``b``), with
    derivative ``sum_i w_i (<softmax(u z_i + b), z_i> - z_{i, y_i})``; its root is found
    by Brent's method (:func:`scipy.optimize.brentq`) to machine precision.  With a
    bias, the convex problem in ``(u, b)`` is then solved from that ``u`` by SciPy's
    ``trust-exact`` with the exact Hessian (``sum_i w_i J_i^T (diag p_i - p_i p_i^T)
    J_i``, ``J_i = [z_i | I]``), or by L-BFGS-B when the optimum lies on a bound of
    ``T`` or the problem is degenerate (separable data).

    The logits ``Z`` are either ``X`` itself (``estimator=None``) or
    ``estimator.decision_function(X)``:

    * ``estimator=None``: ``X`` holds held-out logits, one column per class in the order
      of ``classes`` (default: the sorted labels of ``y``); a single column (or 1-D
      ``X``) is a binary margin ``d``, read as the logits ``[0, d]``.
    * ``estimator`` given: it is cloned and fitted on ``(X, y)`` (with ``sample_weight``
      when its ``fit`` accepts it), then the temperature is fitted on its
      ``decision_function(X)``.  To calibrate an already fitted classifier on held-out
      data, wrap it in :class:`sklearn.frozen.FrozenEstimator` (fitting it is then a
      no-op): ``TemperatureScaling(FrozenEstimator(clf)).fit(X_val, y_val)``.

    Parameters
    ----------
    estimator : estimator with ``decision_function`` or None, default=None
        The classifier whose scores are calibrated; None: ``X`` is the scores.
    bias : bool, default=False
        Also fit one bias per class (a "vector scaling" restricted to a shared scale);
        every class must then appear in ``y`` with positive weight.
    classes : array-like of shape (n_classes,) or None, default=None
        ``estimator=None`` only: the labels of the columns of ``X`` (default: the sorted
        labels of ``y``, which must then hold every class).
    temperature_bounds : tuple of two floats, default=(1e-3, 1e3)
        The interval searched for ``T``; the bound is returned when the NLL is monotone
        on it (for instance when every held-out sample is classified correctly, the NLL
        decreases as ``T -> 0``).
    max_iter : int, default=1000
        Iterations of the ``(T, b)`` solve (``bias=True`` only).
    tol : float, default=1e-10
        Gradient tolerance (``gtol``) of the ``(T, b)`` solve on the mean NLL
        (``bias=True`` only).
    n_threads : int or None, default=1
        Threads for the cmaxfam kernels.

    Attributes
    ----------
    temperature_ : float
        The fitted temperature.
    bias_ : ndarray of shape (n_classes,)
        The fitted biases (zeros when ``bias=False``), centred (they sum to 0).
    n_iter_ : int
        Evaluations of the derivative in ``u`` (Brent's method and the bounds), plus
        the iterations of the ``(T, b)`` solve with ``bias=True``.
    classes_ : ndarray of shape (n_classes,)
        The class labels, in the order of the columns of the scores.
    estimator_ : estimator
        The fitted clone of ``estimator`` (only when ``estimator`` is given).
    n_features_in_ : int
        Number of features (of logits when ``estimator=None``) seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        The feature names seen in fit, when ``X`` had string column names.

    See Also
    --------
    MaxFamilyClassifier : A classifier whose logits it can calibrate.
    sklearn.calibration.CalibratedClassifierCV : Sigmoid and isotonic calibration.
    cmaxfam.softmax_cross_entropy : The NLL and its gradient, in one pass.

    References
    ----------
    Guo, Pleiss, Sun & Weinberger (2017), On calibration of modern neural networks.
    Hinton, Vinyals & Dean (2015), Distilling the knowledge in a neural network.

    Examples
    --------
    >>> import numpy as np
    >>> from cmaxfam.sklearn import TemperatureScaling
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.standard_normal((500, 4)) * 2.0          # logits that are too confident:
    >>> y = np.array([rng.choice(4, p=np.exp(z / 4) / np.exp(z / 4).sum()) for z in Z])
    >>> ts = TemperatureScaling().fit(Z, y)              # the labels follow softmax(Z / 4)
    >>> 2.5 < ts.temperature_ < 6.0
    True
    >>> P = ts.predict_proba(Z)
    >>> bool(np.allclose(P.sum(axis=1), 1.0))
    True
    """

    def __init__(self, estimator=None, *, bias=False, classes=None, temperature_bounds=(1e-3, 1e3),
                 max_iter=1000, tol=1e-10, n_threads=1):
        self.estimator = estimator
        self.bias = bias
        self.classes = classes
        self.temperature_bounds = temperature_bounds
        self.max_iter = max_iter
        self.tol = tol
        self.n_threads = n_threads

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.estimator is not None:
            inner = get_tags(self.estimator)
            tags.input_tags.sparse = inner.input_tags.sparse
            tags.input_tags.allow_nan = inner.input_tags.allow_nan
        return tags

    def _scores(self, X, reset=False):
        """The scores of X (logits, or the fitted estimator's decision_function)."""
        if self.estimator is None:
            X = validate_data(self, X, dtype=np.float64, ensure_2d=False, reset=reset)
            if X.ndim not in (1, 2):
                raise ValueError(f"X must be 1-D or 2-D logits; got {X.ndim}-D")
            return X
        self._check_n_features(X, reset)
        return self.estimator_.decision_function(X)

    def _check_n_features(self, X, reset):
        """Number and names of the features of a 2-D X, left to the estimator to convert
        (anything else is left to the estimator to reject)."""
        shape = getattr(X, "shape", None)
        if len(np.asarray(X).shape if shape is None else shape) == 2:
            validate_data(self, X, reset=reset, skip_check_array=True)

    def fit(self, X, y, sample_weight=None):
        """Fit the temperature (and biases).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_classes) or (n_samples,)
            The logits (``estimator=None``), or the estimator's input.
        y : array-like of shape (n_samples,)
            Labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight per sample (also passed to the estimator's ``fit`` when
            it accepts it).

        Returns
        -------
        TemperatureScaling
            The fitted calibrator.
        """
        lo, hi = self._bounds()
        max_iter = check_number(self.max_iter, "max_iter", integer=True, low=1)
        tol = check_number(self.tol, "tol", low=0.0)
        nt = check_n_threads(self.n_threads)
        y = column_or_1d(y, warn=True)
        if y.dtype.kind == "f":
            assert_all_finite(y, input_name="y")
        check_classification_targets(y)
        if self.estimator is None:
            D = self._scores(X, reset=True)
            if self.classes is None:
                classes = np.unique(y)
            else:
                classes = np.asarray(self.classes)
                if classes.ndim != 1 or len(np.unique(classes)) != len(classes):
                    raise ValueError("classes must be a 1-D sequence of distinct labels")
        else:
            self._check_n_features(X, reset=True)
            est = clone(self.estimator)
            if sample_weight is not None and has_fit_parameter(est, "sample_weight"):
                est.fit(X, y, sample_weight=sample_weight)
            else:
                est.fit(X, y)
            if not hasattr(est, "decision_function"):
                raise TypeError(f"estimator must have a decision_function; {type(est).__name__} has none")
            self.estimator_ = est
            classes = np.asarray(est.classes_)
            D = est.decision_function(X)
        if len(classes) < 2:
            raise ValueError(f"TemperatureScaling needs at least 2 classes; got {len(classes)} class")
        A = _as_logit_matrix(D, len(classes))
        check_consistent_length(A, y)
        order = np.argsort(classes, kind="stable")
        pos = np.minimum(np.searchsorted(classes[order], y), len(classes) - 1)
        if not np.all(classes[order][pos] == y):
            raise ValueError(f"y holds labels that are not among the classes {classes.tolist()}")
        y_idx = order[pos]
        sw = check_fit_sample_weight(sample_weight, A.shape[0])
        if not sw.sum() > 0:
            raise ValueError("sample_weight is all zero: nothing to fit")
        if self.bias and not np.all(np.bincount(y_idx, weights=sw, minlength=len(classes)) > 0):
            raise ValueError("bias=True needs samples of every class with positive weight "
                             "(the bias of an absent class has no finite optimum)")
        u, b, n_iter = self._fit(A, y_idx, sw, lo, hi, max_iter, tol, nt)
        self.classes_ = classes
        self.temperature_ = 1.0 / u
        self.bias_ = b
        self.n_iter_ = n_iter
        return self

    def _bounds(self):
        try:
            lo, hi = self.temperature_bounds
        except (TypeError, ValueError):
            raise TypeError(f"temperature_bounds must be a pair (low, high); "
                            f"got {self.temperature_bounds!r}") from None
        lo = check_number(lo, "temperature_bounds[0]", low=0.0, low_open=True)
        hi = check_number(hi, "temperature_bounds[1]", low=lo)
        return lo, hi

    def _fit(self, A, y_idx, sw, lo, hi, max_iter, tol, nt):
        """``(u, b, n_iter)`` with ``u = 1 / T``."""
        u_lo, u_hi = 1.0 / hi, 1.0 / lo
        scale = 1.0 / sw.sum()
        k = A.shape[1]

        def nll_grad(u, b):
            """Mean weighted NLL of ``softmax(u A + b)`` and its gradient in the logits."""
            f, G = softmax_cross_entropy(u * A + b, y_idx, sample_weight=sw, reduction="sum",
                                         return_grad=True, n_threads=nt)
            return float(f) * scale, G * scale

        def dnll(u):
            return float(np.einsum("ik,ik->", nll_grad(u, 0.0)[1], A))

        # the temperature alone: the derivative in u is increasing (convex NLL)
        if dnll(u_lo) >= 0:
            u, n_iter = u_lo, 1
        elif dnll(u_hi) <= 0:
            u, n_iter = u_hi, 2
        else:
            u, r = scipy.optimize.brentq(dnll, u_lo, u_hi, xtol=1e-300, rtol=4 * np.finfo(float).eps,
                                         maxiter=500, full_output=True)
            n_iter = 2 + r.function_calls
        if not self.bias:
            return u, np.zeros(k), n_iter

        def split(theta):
            return theta[0], np.concatenate([[0.0], theta[1:]])      # b_0 = 0 fixes the gauge

        def fg(theta):
            uu, b = split(theta)
            f, G = nll_grad(uu, b)
            return f, np.concatenate([[np.einsum("ik,ik->", G, A)], G.sum(axis=0)[1:]])

        def hess(theta):
            uu, b = split(theta)
            P = softmax(uu * A + b, n_threads=nt)
            wP = P * (sw * scale)[:, None]
            pa = (P * A).sum(axis=1)
            H = np.empty((k + 1, k + 1))
            H[0, 0] = float((wP * A * A).sum() - (wP.sum(axis=1) * pa * pa).sum())
            H[0, 1:] = H[1:, 0] = (wP * A).sum(axis=0) - (wP * pa[:, None]).sum(axis=0)
            H[1:, 1:] = np.diag(wP.sum(axis=0)) - wP.T @ P
            keep = np.r_[0, 2:k + 1]                                 # drop b_0
            return H[np.ix_(keep, keep)]

        theta0 = np.concatenate([[u], np.zeros(k - 1)])
        res = None
        try:
            res = scipy.optimize.minimize(fg, theta0, jac=True, hess=hess, method="trust-exact",
                                          options={"gtol": tol, "maxiter": max_iter})
        except (ValueError, np.linalg.LinAlgError):          # a degenerate Hessian on the way
            res = None
        # near the optimum the predicted decrease g^2 / (2h) falls below the rounding of the
        # NLL and trust-exact may stop short of gtol: converged all the same
        ok = (res is not None and np.all(np.isfinite(res.x)) and u_lo <= res.x[0] <= u_hi
              and (res.success or np.abs(res.jac).max() <= np.sqrt(np.finfo(float).eps)))
        if not ok:
            # the optimum is at a bound of T or the problem degenerate: a bounded solver
            res = scipy.optimize.minimize(fg, theta0, jac=True, method="L-BFGS-B",
                                          bounds=[(u_lo, u_hi)] + [(None, None)] * (k - 1),
                                          options={"maxiter": max_iter, "gtol": tol,
                                                   "ftol": 64 * np.finfo(float).eps, "maxls": 50})
            if not res.success:
                warnings.warn(f"TemperatureScaling: L-BFGS did not converge ({res.message})",
                              ConvergenceWarning, stacklevel=3)
        u, b = split(res.x)
        return float(u), b - b.mean(), n_iter + max(int(res.nit), 1)

    @_doc.fill()
    def transform(self, X):
        """Calibrated logits ``Z / T + b``.

        {est_params_ts}

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            The calibrated logits (a binary margin ``d`` as ``[0, d] / T + b``).
        """
        check_is_fitted(self)
        A = _as_logit_matrix(self._scores(X), len(self.classes_))
        return A / self.temperature_ + self.bias_

    @_doc.fill()
    def predict_proba(self, X):
        """Calibrated probabilities ``softmax(Z / T + b)``.

        {est_params_ts}

        {est_returns_proba}
        """
        return softmax(self.transform(X), n_threads=check_n_threads(self.n_threads))

    @_doc.fill()
    def predict(self, X):
        """The class of the largest calibrated logit.

        {est_params_ts}

        {est_returns_labels}
        """
        Z = self.transform(X)
        return self.classes_[np.argmax(Z, axis=1)]
