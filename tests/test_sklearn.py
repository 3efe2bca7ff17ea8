"""cmaxfam.sklearn: MaxFamilyClassifier and TemperatureScaling.

The objective and its gradient are checked against an independent float64 NumPy/SciPy
formulation (tests/reference.py's links, scipy's logsumexp) and its central finite
differences; the softmax link against scikit-learn's LogisticRegression (the same
objective); the temperature against scipy.optimize.minimize_scalar on a NumPy NLL.
"""
import doctest
import importlib
import pickle

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
pytest.importorskip("scipy")

import scipy.optimize  # noqa: E402
import scipy.sparse  # noqa: E402
from scipy.special import logsumexp  # noqa: E402
from sklearn.datasets import load_digits, load_iris, make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.frozen import FrozenEstimator  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import cmaxfam as cmf  # noqa: E402
import reference as ref  # noqa: E402
from cmaxfam.sklearn import MaxFamilyClassifier, TemperatureScaling  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # L-BFGS-B's small dense steps gain nothing from OpenBLAS threads, and on a shared
    # 2-core machine those threads cost ~15 ms per iteration (measured); results do not
    # depend on it.
    with threadpool_limits(1):
        yield


# ---------- scikit-learn's estimator checks ----------

# TemperatureScaling is checked as a meta-estimator (its scores are the inner
# classifier's decision_function).  With estimator=None its X must be logits with one
# column per class, which the generic checks' data (any number of features) are not:
# that mode is covered by the tests further down.
@parametrize_with_checks([
    MaxFamilyClassifier(),
    MaxFamilyClassifier(link="sparsemax", class_weight="balanced"),
    MaxFamilyClassifier(link="entmax", alpha=1.25, normalize="cosine"),
    TemperatureScaling(MaxFamilyClassifier()),
    TemperatureScaling(MaxFamilyClassifier(link="sparsemax"), bias=True),
])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_docstring_examples():
    """The Examples run, each in fresh globals (an example imports what it uses)."""
    mod = importlib.import_module("cmaxfam.sklearn")
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    report = []
    for t in doctest.DocTestFinder().find(mod, mod.__name__, globs={}):
        runner.run(t, out=report.append)
    res = runner.summarize(verbose=False)
    assert res.attempted >= 8
    assert res.failed == 0, "".join(report)


@pytest.mark.parametrize("name", [
    "MaxFamilyClassifier", "MaxFamilyClassifier.fit", "MaxFamilyClassifier.decision_function",
    "MaxFamilyClassifier.predict_proba", "MaxFamilyClassifier.predict",
    "TemperatureScaling", "TemperatureScaling.fit", "TemperatureScaling.transform",
    "TemperatureScaling.predict_proba", "TemperatureScaling.predict"])
def test_numpydoc_validates(name):
    """The classes pass the checks of tests/test_docs.py; their methods all but the
    extended summary, See Also and Examples (scikit-learn's own convention for methods)."""
    validate = pytest.importorskip("numpydoc.validate")
    from test_docs import NUMPYDOC_CHECKS

    checks = NUMPYDOC_CHECKS if "." not in name else NUMPYDOC_CHECKS - {"ES01", "SA01", "EX01"}
    errors = [(code, msg) for code, msg in validate.validate(f"cmaxfam.sklearn.{name}")["errors"]
              if code in checks]
    assert not errors, errors


# ---------- the objective: an independent formulation ----------

def _fy_loss(Z, y, link, alpha):
    """Fenchel-Young loss per row, from the float64 reference links."""
    n = Z.shape[0]
    if link == "softmax":
        return logsumexp(Z, axis=1) - Z[np.arange(n), y]
    a = 2.0 if link == "sparsemax" else alpha
    P = ref.sparsemax(Z) if link == "sparsemax" else ref.entmax(Z, alpha=a)
    E = np.eye(Z.shape[1])[y]
    H = (1.0 - (P ** a).sum(axis=1)) / (a * (a - 1.0))        # Tsallis; H(one-hot) = 0
    return ((P - E) * Z).sum(axis=1) + H


def _total_weights(y, sw, class_weight, k):
    if class_weight is None:
        cw = np.ones(k)
    elif class_weight == "balanced":
        cw = sw.sum() / (k * np.bincount(y, weights=sw, minlength=k))
    else:
        cw = np.array([class_weight.get(c, 1.0) for c in range(k)])
    return sw * cw[y]


def _objective(theta, X, y, sw, *, k, link="softmax", alpha=1.5, C=1.0, temperature=1.0,
               normalize=None, scale=10.0, class_weight=None, fit_intercept=True):
    d = X.shape[1]
    W = theta[:d * k].reshape(d, k)
    b = theta[d * k:] if fit_intercept else np.zeros(k)
    s = _total_weights(y, sw, class_weight, k)
    if normalize == "cosine":
        Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
        U = W / np.linalg.norm(W, axis=0)
        Z = scale * Xn @ U + b
        penalty = 0.5 * ((np.linalg.norm(W, axis=0) - 1.0) ** 2).sum()
    else:
        Z = X @ W + b
        penalty = 0.5 * (W ** 2).sum()
    return (C * (s * _fy_loss(Z / temperature, y, link, alpha)).sum() + penalty) / s.sum()


def _central_differences(f, theta, h=1e-6):
    g = np.empty_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = h
        g[j] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g


GRAD_CASES = [
    dict(link="softmax"),
    dict(link="sparsemax"),
    dict(link="entmax", alpha=1.5),
    dict(link="entmax", alpha=1.25, temperature=0.7, C=3.0),
    dict(link="softmax", normalize="cosine", scale=4.0),
    dict(link="sparsemax", normalize="cosine", scale=3.0, temperature=2.0),
    dict(link="entmax", alpha=1.5, normalize="cosine", scale=5.0, fit_intercept=False),
    dict(link="softmax", fit_intercept=False, temperature=2.5),
]


@pytest.mark.parametrize("class_weight", [None, "balanced", {0: 2.0, 2: 0.5}],
                         ids=["no-cw", "balanced", "dict-cw"])
@pytest.mark.parametrize("params", GRAD_CASES, ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
def test_objective_value_and_gradient(params, class_weight, rng):
    n, d, k = 40, 5, 3
    X = rng.standard_normal((n, d))
    y = rng.integers(0, k, n)
    sw = rng.uniform(0.0, 3.0, n)
    sw[:4] = 0.0
    clf = MaxFamilyClassifier(class_weight=class_weight, **params)
    fg, theta0, classes = clf._problem(X, y, sw, clf._checked_params())
    assert classes.tolist() == [0, 1, 2]
    # a point where the links are neither uniform nor one-hot; column norms != 1
    theta = rng.standard_normal(theta0.size) * rng.uniform(0.3, 2.0, theta0.size)
    f, g = fg(theta)
    ref_f = lambda t: _objective(t, X, y, sw, k=k, class_weight=class_weight, **params)  # noqa: E731
    assert f == pytest.approx(ref_f(theta), rel=1e-10)
    np.testing.assert_allclose(g, _central_differences(ref_f, theta), rtol=1e-5, atol=1e-8)


def test_softmax_objective_matches_softmax_layer_grad(rng):
    """The estimator's route (Z, then the fused loss, then X^T G) and cmaxfam's
    softmax_layer_grad agree."""
    X = rng.standard_normal((50, 6))
    y = rng.integers(0, 4, 50)
    sw = rng.uniform(0.5, 2.0, 50)
    clf = MaxFamilyClassifier(C=2.0, temperature=1.5)
    fg, theta0, _ = clf._problem(X, y, sw, clf._checked_params())
    W, b = rng.standard_normal((6, 4)), rng.standard_normal(4)
    f, g = fg(np.concatenate([W.ravel(), b]))
    loss, gW, gb = cmf.softmax_layer_grad(X, W, b, y, temperature=1.5, sample_weight=sw, reduction="sum")
    s = sw.sum()
    assert f == pytest.approx((2.0 * loss + 0.5 * (W ** 2).sum()) / s, rel=1e-13)
    np.testing.assert_allclose(g[:24], ((2.0 * gW + W) / s).ravel(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g[24:], 2.0 * gb / s, rtol=1e-12, atol=1e-15)


# ---------- accuracy: the softmax link is LogisticRegression's objective ----------

def _digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _twenty():
    return make_classification(n_samples=2000, n_features=40, n_informative=30, n_redundant=5,
                               n_classes=20, n_clusters_per_class=1, class_sep=2.0, random_state=0)


@pytest.mark.parametrize("data", [lambda: load_iris(return_X_y=True), _digits, _twenty],
                         ids=["iris", "digits-scaled", "synthetic-20-class"])
def test_softmax_link_matches_logistic_regression(data):
    X, y = data()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    C = 0.5
    ours = MaxFamilyClassifier(C=C, tol=1e-8, max_iter=5000).fit(Xtr, ytr)
    lr = LogisticRegression(C=C, tol=1e-10, max_iter=20000).fit(Xtr, ytr)
    acc_ours, acc_lr = ours.score(Xte, yte), lr.score(Xte, yte)
    assert abs(acc_ours - acc_lr) <= 0.01, (acc_ours, acc_lr)
    assert acc_ours > 0.8
    # the same minimiser, not only the same accuracy
    np.testing.assert_allclose(ours.predict_proba(Xte), lr.predict_proba(Xte), atol=2e-4)


# ---------- sparse links ----------

@pytest.mark.parametrize("link,alpha", [("sparsemax", 2.0), ("entmax", 1.5), ("entmax", 1.25)])
def test_sparse_links_give_exact_zeros(link, alpha):
    X, y = _digits()
    clf = MaxFamilyClassifier(link=link, alpha=alpha).fit(X, y)
    P = clf.predict_proba(X)
    assert P.shape == (len(y), 10)
    assert (P == 0.0).mean() > 0.5                      # most classes get exactly 0
    assert np.all(P >= 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    Z = clf.decision_function(X)
    Pref = ref.sparsemax(Z) if link == "sparsemax" else ref.entmax(Z, alpha=alpha)
    np.testing.assert_allclose(P, Pref, atol=1e-12)
    assert np.array_equal(clf.predict(X), clf.classes_[np.argmax(P, axis=1)])
    assert clf.score(X, y) > 0.95


def test_softmax_link_has_no_zeros_and_binary_decision_function():
    X, y = make_classification(n_samples=200, n_features=5, random_state=1)
    clf = MaxFamilyClassifier().fit(X, y)
    P = clf.predict_proba(X)
    assert np.all(P > 0)
    d = clf.decision_function(X)
    assert d.shape == (200,)
    np.testing.assert_allclose(P[:, 1], 1.0 / (1.0 + np.exp(-d)), rtol=1e-12)
    assert np.array_equal(clf.predict(X), clf.classes_[(d > 0).astype(int)])
    assert clf.coef_.shape == (2, 5)


# ---------- weights ----------

@pytest.mark.parametrize("params", [dict(), dict(link="sparsemax"), dict(link="entmax", alpha=1.5),
                                    dict(normalize="cosine", scale=5.0), dict(class_weight="balanced")],
                         ids=["softmax", "sparsemax", "entmax", "cosine", "balanced"])
def test_integer_sample_weight_equals_repeated_rows(params, rng):
    X = rng.standard_normal((30, 4))
    y = rng.integers(0, 3, 30)
    sw = rng.integers(0, 4, 30)
    sw[:3] = [0, 2, 3]
    kw = dict(tol=1e-10, **params)
    weighted = MaxFamilyClassifier(**kw).fit(X, y, sample_weight=sw)
    repeated = MaxFamilyClassifier(**kw).fit(np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(weighted.intercept_ - weighted.intercept_.mean(),
                               repeated.intercept_ - repeated.intercept_.mean(), atol=1e-6)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-7)


def test_class_weight_dict_equals_sample_weight(rng):
    X = rng.standard_normal((60, 3))
    y = rng.integers(0, 3, 60)
    cw = {0: 3.0, 1: 0.5, 2: 1.0}
    a = MaxFamilyClassifier(class_weight=cw, tol=1e-10).fit(X, y)
    b = MaxFamilyClassifier(tol=1e-10).fit(X, y, sample_weight=np.array([cw[c] for c in y]))
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-8)
    c = MaxFamilyClassifier(tol=1e-10).fit(X, y)
    assert not np.allclose(a.predict_proba(X), c.predict_proba(X), atol=1e-3)


# ---------- the temperature and the cosine logits ----------

def test_temperature_is_a_rescaled_C(rng):
    """C sum L((XW + b)/t) + |W|^2/2 has, with W = t W', the minimiser of C/t^2 at t = 1."""
    X = rng.standard_normal((80, 4))
    y = rng.integers(0, 3, 80)
    a = MaxFamilyClassifier(C=2.0, temperature=2.0, tol=1e-10).fit(X, y)
    b = MaxFamilyClassifier(C=0.5, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-7)
    np.testing.assert_allclose(a.coef_, 2.0 * b.coef_, rtol=1e-5, atol=1e-7)


def test_cosine_logits_are_bounded_by_the_scale():
    X, y = _digits()
    for s in (2.0, 8.0):
        clf = MaxFamilyClassifier(normalize="cosine", scale=s, fit_intercept=False).fit(X, y)
        np.testing.assert_allclose(np.linalg.norm(clf.coef_, axis=1), 1.0, rtol=1e-12)
        Z = clf.decision_function(X)
        assert np.abs(Z).max() <= s * (1 + 1e-12)
        Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
        np.testing.assert_allclose(Z, s * Xn @ clf.coef_.T, rtol=1e-12, atol=1e-12)
    # a larger scale separates the training data better (seed 003: s too small cannot
    # reach confident probabilities)
    small = MaxFamilyClassifier(normalize="cosine", scale=1.0).fit(X, y)
    large = MaxFamilyClassifier(normalize="cosine", scale=16.0).fit(X, y)
    assert small.predict_proba(X).max() < 0.5 < large.predict_proba(X).max()
    assert large.score(X, y) > 0.95
    # the fixed scale: multiplying X does not change the cosine model's predictions
    np.testing.assert_allclose(large.predict_proba(3.0 * X), large.predict_proba(X), atol=1e-12)


def test_cosine_zero_rows_and_scale_invariance():
    X, y = load_iris(return_X_y=True)
    clf = MaxFamilyClassifier(normalize="cosine", scale=20.0, tol=1e-10).fit(X, y)
    zero = np.zeros((1, 4))
    np.testing.assert_allclose(clf.decision_function(zero)[0], clf.intercept_, atol=1e-12)
    # the objective only sees the directions of the samples (the same up to rounding: L-BFGS
    # also stops when f decreases by less than 64 eps, here at a gradient of ~1e-6)
    a = MaxFamilyClassifier(normalize="cosine", scale=20.0, tol=1e-10).fit(5.0 * X, y)
    np.testing.assert_allclose(a.coef_, clf.coef_, atol=1e-4)
    np.testing.assert_allclose(a.predict_proba(X), clf.predict_proba(X), atol=1e-5)


# ---------- inputs, warm start, threads, errors ----------

def test_sparse_input_equals_dense(rng):
    X = rng.standard_normal((60, 8)) * (rng.random((60, 8)) < 0.4)
    y = rng.integers(0, 3, 60)
    for params in (dict(), dict(link="sparsemax"), dict(normalize="cosine")):
        dense = MaxFamilyClassifier(tol=1e-10, **params).fit(X, y)
        sparse = MaxFamilyClassifier(tol=1e-10, **params).fit(scipy.sparse.csr_matrix(X), y)
        np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(sparse.predict_proba(scipy.sparse.csr_matrix(X)),
                                   dense.predict_proba(X), atol=1e-9)


def test_warm_start_and_n_threads():
    X, y = _digits()
    cold = MaxFamilyClassifier(tol=1e-7).fit(X, y)
    warm = MaxFamilyClassifier(tol=1e-7, warm_start=True).fit(X, y)
    assert warm.fit(X, y).n_iter_ <= 2 < cold.n_iter_
    np.testing.assert_allclose(warm.predict_proba(X), cold.predict_proba(X), atol=1e-5)
    two = MaxFamilyClassifier(tol=1e-7, n_threads=2).fit(X, y)
    np.testing.assert_array_equal(two.coef_, cold.coef_)
    # warm start with other classes: a cold start, not an error
    warm.fit(X[y < 5], y[y < 5])
    assert warm.coef_.shape == (5, 64)


def test_not_converged_warns():
    X, y = _digits()
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        clf = MaxFamilyClassifier(max_iter=2).fit(X, y)
    assert clf.n_iter_ == 2


@pytest.mark.parametrize("params,exc,match", [
    (dict(link="argmax"), ValueError, "link must be one of"),
    (dict(alpha=0.5, link="entmax"), ValueError, "alpha must be"),
    (dict(C=0.0), ValueError, "C must be"),
    (dict(C="1"), TypeError, "C must be a real number"),
    (dict(temperature=-1.0), ValueError, "temperature must be"),
    (dict(normalize="l2"), ValueError, "normalize must be"),
    (dict(scale=0.0, normalize="cosine"), ValueError, "scale must be"),
    (dict(max_iter=0), ValueError, "max_iter must be"),
    (dict(max_iter=1.5), TypeError, "max_iter must be an integer"),
    (dict(tol=-1.0), ValueError, "tol must be"),
    (dict(class_weight="uniform"), ValueError, "class_weight must be one of"),
    (dict(class_weight={0: -1.0}), ValueError, r"class_weight\[0\] must be"),
    (dict(n_threads=0), ValueError, "n_threads must be"),
])
def test_bad_parameters(params, exc, match):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(exc, match=match):
        MaxFamilyClassifier(**params).fit(X, y)


def test_bad_fit_inputs():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="at least 2 classes"):
        MaxFamilyClassifier().fit(X, np.zeros(150))
    with pytest.raises(ValueError, match="at least 2 classes"):
        MaxFamilyClassifier().fit(X, y, sample_weight=(y == 1).astype(float))
    with pytest.raises(ValueError, match="sample_weight must be finite and >= 0"):
        MaxFamilyClassifier().fit(X, y, sample_weight=-np.ones(150))
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(150,\)"):
        MaxFamilyClassifier().fit(X, y, sample_weight=np.ones(3))


# ---------- scikit-learn composition ----------

def test_pipeline_grid_search_and_pickle():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), MaxFamilyClassifier())
    grid = GridSearchCV(pipe, {"maxfamilyclassifier__link": ["softmax", "sparsemax"],
                               "maxfamilyclassifier__C": [0.1, 10.0]}, cv=3).fit(X, y)
    assert grid.best_score_ > 0.9
    assert set(grid.cv_results_["param_maxfamilyclassifier__link"]) == {"softmax", "sparsemax"}
    best = grid.best_estimator_
    again = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(again.predict_proba(X), best.predict_proba(X))

    ts = GridSearchCV(TemperatureScaling(MaxFamilyClassifier()),
                      {"estimator__C": [0.1, 1.0], "bias": [False, True]}, cv=3).fit(X, y)
    assert ts.best_score_ > 0.9
    ts2 = pickle.loads(pickle.dumps(ts.best_estimator_))
    np.testing.assert_array_equal(ts2.predict_proba(X), ts.best_estimator_.predict_proba(X))
    assert ts2.temperature_ == ts.best_estimator_.temperature_


# ---------- TemperatureScaling ----------

def _nll(T, Z, y, w, b=0.0):
    """Weighted NLL of softmax(Z / T + b), in NumPy/SciPy."""
    V = Z / T + b
    return float((w * (logsumexp(V, axis=1) - V[np.arange(len(y)), y])).sum())


def _overconfident(rng, n=600, k=5, true_T=3.0):
    Z = rng.standard_normal((n, k)) * 2.5
    P = np.exp(Z / true_T - logsumexp(Z / true_T, axis=1, keepdims=True))
    y = (P.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    return Z, np.minimum(y, k - 1)


@pytest.mark.parametrize("weighted", [False, True])
def test_temperature_exact_against_minimize_scalar(weighted, rng):
    Z, y = _overconfident(rng)
    w = rng.uniform(0.2, 3.0, len(y)) if weighted else np.ones(len(y))
    ts = TemperatureScaling().fit(Z, y, sample_weight=w if weighted else None)
    res = scipy.optimize.minimize_scalar(lambda T: _nll(T, Z, y, w), bounds=(0.05, 50.0), method="bounded",
                                         options={"xatol": 1e-12})
    assert abs(ts.temperature_ - res.x) < 1e-6
    assert 2.0 < ts.temperature_ < 4.5             # near the temperature the labels came from
    assert _nll(ts.temperature_, Z, y, w) < _nll(1.0, Z, y, w)
    np.testing.assert_allclose(ts.predict_proba(Z), ref.softmax(Z / ts.temperature_), rtol=1e-12)
    np.testing.assert_allclose(ts.transform(Z), Z / ts.temperature_, rtol=1e-15)
    assert ts.n_iter_ >= 3


def test_temperature_with_bias_against_minimize(rng):
    Z, y = _overconfident(rng, k=4)
    Z = Z + np.array([1.0, 0.0, -0.5, 0.3])               # a class bias to undo
    ts = TemperatureScaling(bias=True).fit(Z, y)
    f = lambda v: _nll(v[0], Z, y, np.ones(len(y)), np.concatenate([[0.0], v[1:]]))  # noqa: E731
    res = scipy.optimize.minimize(f, np.array([1.0, 0, 0, 0]), method="Nelder-Mead",
                                  options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
    assert abs(ts.temperature_ - res.x[0]) < 1e-5
    b = np.concatenate([[0.0], res.x[1:]])
    np.testing.assert_allclose(ts.bias_, b - b.mean(), atol=1e-5)
    assert abs(ts.bias_.sum()) < 1e-12
    assert _nll(ts.temperature_, Z, y, np.ones(len(y)), ts.bias_) <= res.fun + 1e-9
    np.testing.assert_allclose(ts.predict_proba(Z), ref.softmax(Z / ts.temperature_ + ts.bias_), rtol=1e-12)


def test_temperature_bounds_binary_margins_and_classes(rng):
    # every label is the argmax: the NLL decreases as T -> 0, so the lower bound is returned
    Z = rng.standard_normal((50, 3))
    y = Z.argmax(axis=1)
    assert TemperatureScaling(temperature_bounds=(0.01, 10.0)).fit(Z, y).temperature_ == 0.01
    # a binary margin d (1-D or one column) is the logits [0, d]
    d = rng.standard_normal(300) * 3
    yb = (rng.random(300) < 1 / (1 + np.exp(-d / 2))).astype(int)
    a = TemperatureScaling().fit(d, yb)
    b = TemperatureScaling().fit(np.column_stack([np.zeros(300), d]), yb)
    assert a.temperature_ == pytest.approx(b.temperature_, rel=1e-12)
    np.testing.assert_allclose(a.predict_proba(d[:, None]), b.predict_proba(np.column_stack([0 * d, d])))
    # string labels, and explicit classes naming the columns
    names = np.array(["cat", "dog", "eel"])
    Z3, y3 = _overconfident(rng, k=3)
    c = TemperatureScaling().fit(Z3, names[y3])
    assert c.classes_.tolist() == ["cat", "dog", "eel"]
    assert c.temperature_ == TemperatureScaling().fit(Z3, y3).temperature_
    e = TemperatureScaling(classes=["eel", "dog", "cat"]).fit(Z3[:, ::-1], names[y3])
    assert e.temperature_ == pytest.approx(c.temperature_, rel=1e-12)
    assert np.array_equal(e.predict(Z3[:, ::-1]), c.predict(Z3))
    with pytest.raises(ValueError, match="columns for"):
        TemperatureScaling().fit(Z3[:, :2], y3)
    with pytest.raises(ValueError, match="not among the classes"):
        TemperatureScaling(classes=[0, 1, 5]).fit(Z3, y3)
    with pytest.raises(ValueError, match=r"temperature_bounds\[0\] must be"):
        TemperatureScaling(temperature_bounds=(0.0, 1.0)).fit(Z3, y3)


def test_temperature_scaling_after_a_frozen_classifier():
    X, y = _digits()
    Xtr, Xval, ytr, yval = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    clf = MaxFamilyClassifier(C=100.0).fit(Xtr, ytr)              # weakly regularised: overconfident
    ts = TemperatureScaling(FrozenEstimator(clf)).fit(Xval, yval)
    direct = TemperatureScaling().fit(clf.decision_function(Xval), yval)
    assert ts.temperature_ == direct.temperature_
    assert ts.estimator_.estimator is clf                          # not refitted
    assert ts.temperature_ > 1.0
    nll = lambda P: -np.log(P[np.arange(len(yval)), np.searchsorted(clf.classes_, yval)]).mean()  # noqa: E731
    assert nll(ts.predict_proba(Xval)) < nll(clf.predict_proba(Xval))
    np.testing.assert_array_equal(ts.predict(Xval), clf.predict(Xval))   # T > 0 keeps the argmax
    # also after another library's classifier
    lr = LogisticRegression(C=100.0, max_iter=5000).fit(Xtr, ytr)
    ts_lr = TemperatureScaling(FrozenEstimator(lr)).fit(Xval, yval)
    assert ts_lr.temperature_ == TemperatureScaling().fit(lr.decision_function(Xval), yval).temperature_


def test_temperature_scaling_errors():
    with pytest.raises(TypeError, match="decision_function"):
        from sklearn.naive_bayes import GaussianNB
        TemperatureScaling(GaussianNB()).fit(*load_iris(return_X_y=True))
    with pytest.raises(ValueError, match="all zero"):
        TemperatureScaling().fit(np.eye(3), [0, 1, 2], sample_weight=np.zeros(3))
    with pytest.raises(ValueError, match="at least 2 classes"):
        TemperatureScaling().fit(np.ones((3, 1)), [0, 0, 0])
