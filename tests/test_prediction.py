"""approximate_predict: new points, training points, every selection option."""

import numpy as np
import pytest

from _reference import load_diabetes, load_elegans_3d, load_flared, load_horse
from flasc_cluster import FLASC
from flasc_cluster.datasets import make_branching_stars
from flasc_cluster.prediction import approximate_predict

SETS = {
    "flared": (load_flared, dict(min_cluster_size=20, min_samples=5)),
    "diabetes": (
        load_diabetes,
        dict(min_samples=5, min_cluster_size=10, min_branch_size=5, allow_single_cluster=True),
    ),
    "horse": (load_horse, dict(min_cluster_size=40, min_samples=10)),
    "elegans_3d": (load_elegans_3d, dict(min_cluster_size=80, min_samples=10)),
    "flared-eps": (load_flared, dict(min_cluster_size=10, cluster_selection_epsilon=0.05)),
    "flared-leaf-persistence": (
        load_flared,
        dict(min_cluster_size=10, cluster_selection_method="leaf",
             cluster_selection_persistence=1.0),
    ),
    "stars-branch-options": (
        lambda: make_branching_stars(1200, 2, random_state=4)[0],
        dict(min_cluster_size=15, branch_selection_method="leaf", max_cluster_size=500,
             label_sides_as_branches=True),
    ),
}


@pytest.mark.parametrize("method", ["full", "core"])
@pytest.mark.parametrize("name", list(SETS))
def test_training_points_reproduce_the_fit(name, method):
    loader, params = SETS[name]
    X = loader()
    model = FLASC(branch_detection_method=method, **params).fit(X)
    exact = approximate_predict(model, X)
    np.testing.assert_array_equal(exact.labels, model.labels_)
    np.testing.assert_array_equal(exact.cluster_labels, model.cluster_labels_)
    np.testing.assert_allclose(exact.probabilities, model.probabilities_)
    # a tiny jitter takes the general path (no identical training point)
    rng = np.random.default_rng(0)
    jittered = approximate_predict(model, X + rng.normal(scale=1e-7 * X.std(), size=X.shape))
    clustered = model.labels_ >= 0
    share = np.mean(jittered.labels[clustered] == model.labels_[clustered])
    assert share >= 0.995, f"{name}: {share:.4f} of non-noise labels reproduced"
    for arr in jittered[1::2]:
        assert np.all((arr >= 0) & (arr <= 1)) and not np.isnan(arr).any()


def test_held_out_points_follow_the_full_fit():
    X, _ = make_branching_stars(2000, 2, random_state=5)
    rng = np.random.default_rng(1)
    test = rng.random(X.shape[0]) < 0.1
    full = FLASC(min_cluster_size=20).fit(X)
    part = FLASC(min_cluster_size=20).fit(X[~test])
    pred = approximate_predict(part, X[test])
    # map labels of the partial fit to the full fit by majority
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(full.labels_[test], pred.labels) > 0.9


def test_special_rows_and_shapes():
    X, _ = make_branching_stars(600, 2, random_state=0)
    model = FLASC(min_cluster_size=15).fit(X)
    pred = approximate_predict(model, [[np.nan, 0.0], [np.inf, 0.0], list(X[0])])
    np.testing.assert_array_equal(pred.labels[:2], [-3, -2])
    np.testing.assert_array_equal(pred.probabilities[:2], 0.0)
    assert pred.labels[2] == model.labels_[0]
    one = approximate_predict(model, X[3])  # a single 1-D point
    assert one.labels.shape == (1,) and one.labels[0] == model.labels_[3]
    far = approximate_predict(model, [[1e6, 1e6]])
    assert far.cluster_labels[0] == -1 and far.probabilities[0] == 0.0
    with pytest.raises(ValueError, match="columns"):
        approximate_predict(model, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="user-given labels"):
        approximate_predict(FLASC().fit(X, labels=model.cluster_labels_), X)


def test_single_cluster_model_predicts_that_cluster():
    X = np.random.default_rng(2).normal(size=(300, 2))
    model = FLASC(min_cluster_size=20, allow_single_cluster=True).fit(X)
    pred = approximate_predict(model, [[0.1, 0.2], [40.0, 40.0]])
    np.testing.assert_array_equal(pred.cluster_labels, [0, 0])
    eps = FLASC(min_cluster_size=20, allow_single_cluster=True, cluster_selection_epsilon=1.0).fit(X)
    pred = approximate_predict(eps, [[0.1, 0.2], [40.0, 40.0]])
    assert pred.cluster_labels[1] == -1


def test_precomputed_prediction():
    from scipy.spatial.distance import cdist

    X, _ = make_branching_stars(500, 2, random_state=3)
    D = cdist(X, X)
    model = FLASC(min_cluster_size=15, metric="precomputed").fit(D)
    pred = approximate_predict(model, D[:50])
    np.testing.assert_array_equal(pred.cluster_labels, model.cluster_labels_[:50])


def _old_rule(model, Q):
    """hdbscan's rule read in one step: the nearest of the 2·min_samples
    nearest training rows in mutual reachability."""
    from flasc_cluster._hdbscan.predict import nearest_by_reachability
    from flasc_cluster.prediction import _neighbours

    result = model._result
    dist, idx = _neighbours(model, result, Q, 2 * model._min_samples)
    nearest, reach, _ = nearest_by_reachability(
        dist, idx.astype(np.intp), result.cluster.core_distances, model._min_samples,
        float(model.alpha),
    )
    return nearest, reach


@pytest.mark.parametrize(
    "kind, params",
    [
        ("stars", dict(min_cluster_size=15, min_samples=5)),
        ("grid", dict(min_cluster_size=10, min_samples=4)),  # many tied distances
        ("stars", dict(min_cluster_size=15, min_samples=5, alpha=0.7)),
        ("stars", dict(min_cluster_size=15, min_samples=5, alpha=1.5, metric="manhattan")),
        ("stars", dict(min_cluster_size=15, min_samples=5, algorithm="boruvka_balltree")),
        ("precomputed", dict(min_cluster_size=15, min_samples=5, metric="precomputed")),
        ("tiny", dict(min_cluster_size=2, min_samples=6)),  # fewer rows than 2·min_samples
    ],
)
def test_two_step_neighbour_reading_equals_the_one_step_rule(kind, params, monkeypatch):
    from sklearn.metrics import pairwise_distances

    from flasc_cluster.prediction import _Neighbourhoods

    rng = np.random.default_rng(3)
    if kind == "grid":
        X = np.array([[i, j] for i in range(30) for j in range(12)], dtype=float)
        X[:, 0] += 8.0 * (X[:, 0] >= 15)
        Q = np.vstack([X[rng.choice(X.shape[0], 150)] + rng.integers(-1, 2, (150, 2)),
                       rng.integers(-3, 50, (150, 2))]).astype(float)
    elif kind == "tiny":
        X = rng.normal(size=(9, 2))
        Q = rng.normal(size=(40, 2)) * 2
    else:
        X, _ = make_branching_stars(1500, 2, random_state=7)
        Q = np.vstack([X[:300] + rng.normal(scale=0.05, size=(300, 2)),
                       rng.uniform(X.min(0) - 1, X.max(0) + 1, size=(300, 2))])
    fit_X, fit_Q = X, Q
    if kind == "precomputed":
        fit_X, fit_Q = pairwise_distances(X), pairwise_distances(Q, X)
    model = FLASC(**params).fit(fit_X)
    hoods = _Neighbourhoods(model, model._result, np.ascontiguousarray(fit_Q))
    nearest, reach = _old_rule(model, np.ascontiguousarray(fit_Q))
    np.testing.assert_array_equal(hoods.nearest, nearest)
    np.testing.assert_array_equal(hoods.reach, reach)
    if kind == "stars" and "algorithm" not in params:
        # both steps ran: some queries were settled by the head, some not
        assert 0 < hoods.complete.sum() < Q.shape[0]
    two_step = approximate_predict(model, fit_Q)
    monkeypatch.setattr(_Neighbourhoods, "head_first", False)
    one_step = approximate_predict(model, fit_Q)
    for a, b in zip(two_step, one_step):
        np.testing.assert_array_equal(a, b)
