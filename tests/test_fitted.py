"""Outlier scores, exemplars, weighted centroids and medoids."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from _reference import load_flared
from flasc_cluster import FLASC


@pytest.fixture(scope="module")
def flared_fit():
    X = load_flared()
    return X, FLASC(min_cluster_size=20, min_samples=5).fit(X)


def test_outlier_scores_match_hdbscan(flared_fit):
    hdbscan = pytest.importorskip("hdbscan")
    X, model = flared_fit
    ref = hdbscan.HDBSCAN(min_cluster_size=20, min_samples=5, approx_min_span_tree=False).fit(X)
    scores = model.outlier_scores_
    assert np.all((scores >= 0) & (scores <= 1))
    assert np.corrcoef(scores, ref.outlier_scores_)[0, 1] > 0.999
    # outside tie-decided points the scores are the same
    assert np.median(np.abs(scores - ref.outlier_scores_)) < 1e-12


def test_outlier_scores_never_nan_with_duplicates():
    rng = np.random.default_rng(0)
    X = np.vstack([np.repeat(rng.normal(size=(40, 2)), 4, axis=0), rng.normal(size=(30, 2)) * 3])
    model = FLASC(min_cluster_size=5).fit(np.vstack([X, [[np.nan, 0]]]))
    scores = model.outlier_scores_
    assert not np.isnan(scores).any()
    assert scores[-1] == 1.0


def test_exemplars_match_hdbscan(flared_fit):
    hdbscan = pytest.importorskip("hdbscan")
    X, model = flared_fit
    ref = hdbscan.HDBSCAN(
        min_cluster_size=20, min_samples=5, approx_min_span_tree=False, prediction_data=True
    ).fit(X)
    ours = {tuple(sorted(map(tuple, X[e]))) for e in model.cluster_exemplars_}
    theirs = {tuple(sorted(map(tuple, e))) for e in ref.exemplars_}
    assert ours == theirs
    for c, ex in enumerate(model.cluster_exemplars_):
        assert np.all(model.cluster_labels_[ex] == c)


def test_branch_exemplars_lie_in_their_branch(flared_fit):
    _, model = flared_fit
    for c, per_branch in enumerate(model.branch_exemplars_):
        for b, ex in enumerate(per_branch):
            assert ex.shape[0] > 0
            assert np.all(model.cluster_labels_[ex] == c)
            if model.branch_labels_[model.cluster_labels_ == c].max() > 0:
                assert np.all(model.branch_labels_[ex] == b)


def test_weighted_centroid_and_medoid(flared_fit):
    X, model = flared_fit
    label = model.labels_.max()
    rows = model.labels_ == label
    w = model.probabilities_[rows]
    np.testing.assert_allclose(model.weighted_centroid(label), np.average(X[rows], weights=w, axis=0))
    D = cdist(X[rows], X[rows])
    np.testing.assert_array_equal(model.weighted_medoid(label), X[rows][np.argmin(D @ w)])
    pre = FLASC(min_cluster_size=20, min_samples=5, metric="precomputed").fit(cdist(X, X))
    plabel = pre.labels_.max()
    prow = np.flatnonzero(pre.labels_ == plabel)
    Dp = cdist(X[prow], X[prow])
    assert pre.weighted_medoid(plabel) == prow[np.argmin(Dp @ pre.probabilities_[prow])]
    with pytest.raises(ValueError, match="data="):
        pre.weighted_centroid(plabel)
    with pytest.raises(ValueError, match="label_id"):
        model.weighted_centroid(-1)


@pytest.mark.parametrize("method", ["full", "core"])
def test_relative_validity_matches_pyflasc(method):
    pytest.importorskip("flasc")
    import warnings

    from flasc import FLASC as Reference

    X = load_flared()
    params = dict(min_cluster_size=20, min_samples=5, branch_detection_method=method)
    ours = FLASC(**params).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = Reference(approx_min_span_tree=False, **params).fit(X)
        expected = ref.relative_validity_
    from flasc_cluster._validity import relative_validity

    # the formula, on the reference's own labels and spanning tree: exact
    assert relative_validity(ref.labels_, ref._min_spanning_tree) == pytest.approx(
        expected, rel=1e-12
    )
    # ours: labels differ from the reference only at tie-decided points,
    # which can move the between-cluster minimum a little
    got = ours.relative_validity_
    assert -1 <= got <= 1
    assert got == pytest.approx(expected, abs=0.02)


def test_relative_validity_scorer_in_grid_search():
    from sklearn.model_selection import GridSearchCV

    from flasc_cluster import relative_validity_score

    X = load_flared()
    n = X.shape[0]
    search = GridSearchCV(
        FLASC(min_samples=5), {"min_cluster_size": [10, 20, 40]},
        scoring=relative_validity_score, cv=[(np.arange(n), np.arange(n))],
    ).fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    best = FLASC(min_samples=5, min_cluster_size=search.best_params_["min_cluster_size"]).fit(X)
    assert best.relative_validity_ == pytest.approx(scores.max())


def test_writing_into_fitted_arrays_changes_no_later_result():
    from flasc_cluster import approximate_predict

    X = load_flared()
    params = dict(min_cluster_size=20, min_samples=5)
    model = FLASC(**params).fit(X)
    untouched = FLASC(**params).fit(X)
    names = ("labels_", "probabilities_", "cluster_labels_", "cluster_probabilities_",
             "branch_labels_", "branch_probabilities_", "cluster_centralities_")
    for name in names:
        getattr(model, name)[:] = 7
    queries = X[::7] + 0.01
    for got, expected in zip(approximate_predict(model, queries),
                             approximate_predict(untouched, queries)):
        np.testing.assert_array_equal(got, expected)
    model.reselect(min_branch_size=30)
    untouched.reselect(min_branch_size=30)
    for name in names:
        np.testing.assert_array_equal(getattr(model, name), getattr(untouched, name))
