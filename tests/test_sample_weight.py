"""``FLASC.fit(..., sample_weight=...)``: fast_hdbscan's meaning of weights.

A point of weight ``w`` stands for ``w`` copies of itself; fast_hdbscan's
``min_samples`` counts the point itself, so ours is one smaller.
"""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from flasc_cluster import FLASC
from flasc_cluster.datasets import make_branching_stars, make_flared_blobs
from flasc_cluster.prediction import approximate_predict

ATTRS = (
    "labels_", "probabilities_", "cluster_labels_", "cluster_probabilities_",
    "branch_labels_", "branch_probabilities_", "cluster_centralities_", "core_distances_",
)


def _assert_same(a, b, attrs=ATTRS):
    for name in attrs:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def _same_partition(a, b):
    """Labels equal up to renumbering (noise must stay noise)."""
    np.testing.assert_array_equal(a < 0, b < 0)
    assert adjusted_rand_score(a, b) == 1.0


@pytest.fixture(scope="module")
def stars():
    X, _ = make_branching_stars(n_samples=600, random_state=0)
    return X


@pytest.fixture(scope="module")
def light_cluster():
    """Five clusters of 300 points; cluster 0 weighs 0.25 per point (75 in
    all), below min_cluster_size=100, the rest 1 to 3."""
    X, _, clusters = make_flared_blobs(
        n_samples=1500, n_clusters=5, random_state=0, return_clusters=True
    )
    w = np.random.default_rng(0).integers(1, 4, X.shape[0]).astype(np.float64)
    w[clusters == 0] = 0.25
    return X, w, clusters


def _int_weights(n, seed=0):
    return np.random.default_rng(seed).integers(1, 4, n)


# ---------------------------------------------------------------- semantics
@pytest.mark.parametrize("method", ["full", "core"])
def test_unit_weights_equal_no_weights(stars, method):
    params = dict(min_cluster_size=20, min_samples=5, branch_detection_method=method)
    plain = FLASC(**params).fit(stars)
    ones = FLASC(**params).fit(stars, sample_weight=np.ones(stars.shape[0]))
    _assert_same(plain, ones)
    np.testing.assert_array_equal(plain.cluster_persistence_, ones.cluster_persistence_)


@pytest.mark.parametrize("method", ["full", "core"])
def test_integer_weights_equal_repeated_rows(stars, method):
    w = _int_weights(stars.shape[0])
    rows = np.repeat(np.arange(stars.shape[0]), w)
    params = dict(min_cluster_size=40, min_samples=8, branch_detection_method=method)
    weighted = FLASC(**params).fit(stars, sample_weight=w)
    repeated = FLASC(**params).fit(stars[rows])
    np.testing.assert_allclose(weighted.core_distances_[rows], repeated.core_distances_)
    _same_partition(weighted.cluster_labels_[rows], repeated.cluster_labels_)
    _same_partition(weighted.labels_[rows], repeated.labels_)
    np.testing.assert_allclose(
        weighted.cluster_probabilities_[rows], repeated.cluster_probabilities_
    )
    np.testing.assert_allclose(
        np.sort(weighted.cluster_persistence_), np.sort(repeated.cluster_persistence_)
    )
    # the weights matter here: without them the branches differ
    plain = FLASC(**params).fit(stars)
    assert not np.array_equal(plain.labels_, weighted.labels_)


def test_weights_decide_which_clusters_are_large_enough(light_cluster):
    X, w, clusters = light_cluster
    params = dict(min_cluster_size=100, min_samples=5)
    plain = FLASC(**params).fit(X)
    weighted = FLASC(**params).fit(X, sample_weight=w)
    assert plain.cluster_labels_.max() + 1 == 5
    assert weighted.cluster_labels_.max() + 1 == 4
    tree = weighted.condensed_tree_.to_numpy()
    assert tree["child_size"].dtype == np.float64
    n = X.shape[0]
    points = tree["child"] < n
    # a point row carries its weight; a cluster row the weight below it
    np.testing.assert_array_equal(tree["child_size"][points], w[tree["child"][points]])
    assert (tree["child_size"][~points] >= 100).all()
    root_rows = tree["parent"] == n
    assert tree["child_size"][root_rows].sum() == pytest.approx(w.sum())


def test_weighted_core_distance_rule():
    # points on a line at 0, 1, 2, 3; min_samples=2 other points
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    w = np.array([1.0, 1.0, 0.5, 3.0])
    model = FLASC(min_cluster_size=2, min_samples=2).fit(X, sample_weight=w)
    # 0: 1 (w=1) -> 1, then 2 (w=.5) -> 1.5, then 3 (w=3) -> reaches 2 at distance 3
    # 1: 0 and 2 at distance 1 (1 + .5), then 3 at distance 2
    # 2: own -.5; 1 and 3 at distance 1 (+1, +3) -> 3.5 at distance 1
    # 3: own copies 3 - 1 = 2 >= 2 -> 0
    np.testing.assert_allclose(model.core_distances_, [3.0, 2.0, 1.0, 0.0])


# ------------------------------------------------------ against fast_hdbscan
def test_core_distances_match_fast_hdbscan_kernel(light_cluster):
    boruvka = pytest.importorskip("fast_hdbscan.boruvka")
    from sklearn.neighbors import NearestNeighbors

    X, w, _ = light_cluster
    ms = 5
    ours = FLASC(min_cluster_size=100, min_samples=ms).fit(X, sample_weight=w)
    dist, idx = NearestNeighbors(n_neighbors=60).fit(X).kneighbors(X)  # self included
    theirs = boruvka.sample_weight_core_distance(
        dist.astype(np.float32), idx.astype(np.int32), w.astype(np.float32), ms + 1
    )
    np.testing.assert_allclose(ours.core_distances_, theirs, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("selection", ["eom", "leaf"])
def test_selection_matches_fast_hdbscan_on_our_hierarchy(stars, selection):
    """Same single-linkage tree in: fast_hdbscan's weighted condense and
    selection give our labels (ties in the spanning tree are ordered
    differently by the two libraries, so the trees must be the same)."""
    ct = pytest.importorskip("fast_hdbscan.cluster_trees")
    w = np.random.default_rng(1).uniform(0.2, 3.0, stars.shape[0])
    ours = FLASC(
        min_cluster_size=30, min_samples=5, cluster_selection_method=selection
    ).fit(stars, sample_weight=w)
    n = stars.shape[0]
    tree = ct.condense_tree(
        ours._result.cluster.linkage, min_cluster_size=30, sample_weights=w.astype(np.float32)
    )
    cluster_tree = ct.cluster_tree_from_condensed_tree(tree)
    if selection == "eom":
        selected = ct.extract_eom_clusters(tree, cluster_tree)
    else:
        selected = ct.cluster_tree_leaves(cluster_tree, n)
    labels = ct.get_cluster_label_vector(tree, selected, 0.0, n)
    probabilities = ct.get_point_membership_strength_vector(tree, selected, labels)
    assert ours.cluster_labels_.max() >= 1
    _same_partition(ours.cluster_labels_, labels)
    if selection == "leaf":
        # fast_hdbscan scales by the largest exit density of points only,
        # hdbscan (and we) by that of any row; leaves have no cluster rows
        np.testing.assert_allclose(
            ours.cluster_probabilities_, probabilities, rtol=1e-5, atol=1e-6
        )


@pytest.mark.parametrize("min_samples", [5, 10])
def test_labels_match_fast_hdbscan(light_cluster, min_samples):
    fast_hdbscan = pytest.importorskip("fast_hdbscan")
    X, w, _ = light_cluster
    ours = FLASC(min_cluster_size=100, min_samples=min_samples).fit(X, sample_weight=w)
    theirs = fast_hdbscan.HDBSCAN(min_cluster_size=100, min_samples=min_samples + 1).fit(
        X, sample_weight=w.astype(np.float32)
    )
    assert ours.cluster_labels_.max() + 1 == 4
    assert adjusted_rand_score(ours.cluster_labels_, theirs.labels_) >= 0.99


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "bad, match",
    [
        (np.ones(10), "sample_weight"),
        (np.ones((600, 2)), "[Ss]ample.weight"),
        (np.r_[np.nan, np.ones(599)], "sample_weight"),
        (np.r_[np.inf, np.ones(599)], "sample_weight"),
        (np.r_[-1.0, np.ones(599)], "sample_weight"),
        (np.zeros(600), "sample_weight.*zero"),
    ],
)
def test_invalid_weights_raise(stars, bad, match):
    with pytest.raises(ValueError, match=match):
        FLASC(min_cluster_size=20).fit(stars, sample_weight=bad)


def test_weights_of_finite_rows_all_zero_raise(stars):
    X = stars[:50].copy()
    X[:5, 0] = np.nan
    w = np.zeros(50)
    w[:5] = 1.0
    with pytest.raises(ValueError, match="sample_weight is zero"):
        FLASC(min_cluster_size=5).fit(X, sample_weight=w)


def test_caller_weights_not_modified(stars):
    X = stars.copy()
    X[3] = np.nan
    w = _int_weights(X.shape[0]).astype(np.float64)
    w_list = w.tolist()
    before = w.copy()
    FLASC(min_cluster_size=20).fit(X, sample_weight=w)
    FLASC(min_cluster_size=20).fit(X, sample_weight=w_list)
    np.testing.assert_array_equal(w, before)
    assert w_list == before.tolist()


def test_nan_rows_are_dropped_with_their_weights(stars):
    X = stars.copy()
    bad = [0, 17, 300]
    X[bad[0], 1] = np.nan
    X[bad[1], 0] = np.inf
    X[bad[2]] = np.nan
    w = _int_weights(X.shape[0]).astype(np.float64)
    keep = np.setdiff1d(np.arange(X.shape[0]), bad)
    full = FLASC(min_cluster_size=20, min_samples=5).fit(X, sample_weight=w)
    clean = FLASC(min_cluster_size=20, min_samples=5).fit(X[keep], sample_weight=w[keep])
    np.testing.assert_array_equal(full.labels_[bad], [-3, -2, -3])
    np.testing.assert_array_equal(full.labels_[keep], clean.labels_)
    np.testing.assert_array_equal(full.probabilities_[keep], clean.probabilities_)


# ------------------------------------------------------------ other paths
def test_label_override_uses_weights_in_branch_pass(stars):
    w = _int_weights(stars.shape[0], seed=2)
    rows = np.repeat(np.arange(stars.shape[0]), w)
    base = FLASC(min_cluster_size=20, min_samples=5).fit(stars)
    params = dict(min_cluster_size=20, min_branch_size=40, min_samples=5)
    weighted = FLASC(**params).fit(stars, labels=base.cluster_labels_, sample_weight=w)
    repeated = FLASC(**params).fit(stars[rows], labels=base.cluster_labels_[rows])
    np.testing.assert_array_equal(weighted.cluster_labels_, base.cluster_labels_)
    _same_partition(weighted.labels_[rows], repeated.labels_)
    plain = FLASC(**params).fit(stars, labels=base.cluster_labels_)
    assert not np.array_equal(plain.labels_, weighted.labels_)
    trees = [t for t in weighted.branch_condensed_trees_ if t is not None]
    assert trees and all(t.to_numpy()["child_size"].dtype == np.float64 for t in trees)


def test_precomputed_weighted_equals_feature_weighted(stars):
    from sklearn.metrics import pairwise_distances

    w = _int_weights(stars.shape[0], seed=3)
    params = dict(min_cluster_size=30, min_samples=6)
    features = FLASC(**params).fit(stars, sample_weight=w)
    distances = FLASC(metric="precomputed", **params).fit(
        pairwise_distances(stars), sample_weight=w
    )
    np.testing.assert_allclose(distances.core_distances_, features.core_distances_)
    _same_partition(distances.cluster_labels_, features.cluster_labels_)
    plain = FLASC(metric="precomputed", **params).fit(pairwise_distances(stars))
    assert not np.array_equal(plain.core_distances_, distances.core_distances_)


def test_ball_tree_weighted_equals_repeated_rows(stars):
    w = _int_weights(stars.shape[0], seed=4)
    rows = np.repeat(np.arange(stars.shape[0]), w)
    params = dict(min_cluster_size=40, min_samples=8, metric="canberra")
    weighted = FLASC(**params).fit(stars, sample_weight=w)
    repeated = FLASC(**params).fit(stars[rows])
    assert weighted._result.space.kind == "ball_tree"
    np.testing.assert_allclose(weighted.core_distances_[rows], repeated.core_distances_)
    _same_partition(weighted.cluster_labels_[rows], repeated.cluster_labels_)
    _same_partition(weighted.labels_[rows], repeated.labels_)


@pytest.mark.parametrize("change", [
    dict(min_cluster_size=60),
    dict(cluster_selection_method="leaf"),
    dict(max_cluster_size=150),
    dict(min_branch_size=60, branch_selection_method="leaf"),
    dict(cluster_selection_persistence=0.5),
])
def test_reselect_equals_fresh_weighted_fit(stars, change):
    w = np.random.default_rng(5).uniform(0.2, 3.0, stars.shape[0])
    base = dict(min_cluster_size=20, min_samples=5)
    model = FLASC(**base).fit(stars, sample_weight=w)
    model.reselect(**change)
    fresh = FLASC(**dict(base, **change)).fit(stars, sample_weight=w)
    _assert_same(model, fresh)


def test_approximate_predict_equals_repeated_rows(stars):
    w = _int_weights(stars.shape[0], seed=6)
    rows = np.repeat(np.arange(stars.shape[0]), w)
    params = dict(min_cluster_size=40, min_samples=8)
    weighted = FLASC(**params).fit(stars, sample_weight=w)
    repeated = FLASC(**params).fit(stars[rows])
    pred = approximate_predict(weighted, stars)
    np.testing.assert_array_equal(pred.labels, weighted.labels_)
    Q = stars[:100] + np.random.default_rng(7).normal(scale=0.05, size=(100, 2))
    ours = approximate_predict(weighted, Q)
    ref = approximate_predict(repeated, Q)
    # map the repeated model's cluster ids onto ours through the training rows
    mapping = dict(zip(repeated.cluster_labels_, weighted.cluster_labels_[rows]))
    mapped = np.array([mapping.get(label, label) if label >= 0 else label for label in ref.cluster_labels])
    np.testing.assert_array_equal(ours.cluster_labels, mapped)
    np.testing.assert_allclose(ours.cluster_probabilities, ref.cluster_probabilities)
