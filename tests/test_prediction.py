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
