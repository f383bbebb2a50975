"""Branches for clusters found by hdbscan, scikit-learn, fast_hdbscan or labels."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from _reference import load_flared
from flasc_cluster import FLASC, branches_from_clusterer


def test_hdbscan_clusterer_matches_branch_detector():
    hdbscan = pytest.importorskip("hdbscan")
    X = load_flared()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clusterer = hdbscan.HDBSCAN(
            min_cluster_size=20, min_samples=5, approx_min_span_tree=False,
            branch_detection_data=True,
        ).fit(X)
        ref = hdbscan.BranchDetector(min_cluster_size=20).fit(clusterer)
    model = branches_from_clusterer(clusterer)
    np.testing.assert_array_equal(model.cluster_labels_, clusterer.labels_)
    assert adjusted_rand_score(ref.labels_, model.labels_) > 0.99


def test_sklearn_clusterer_needs_data_and_shifts_min_samples():
    from sklearn.cluster import HDBSCAN

    X = load_flared()
    clusterer = HDBSCAN(min_cluster_size=20, min_samples=6, copy=True).fit(X)
    model = branches_from_clusterer(clusterer)  # scikit-learn keeps its data
    assert model.min_samples == 5
    np.testing.assert_array_equal(model.cluster_labels_, clusterer.labels_)
    # the same clusters as our own HDBSCAN* pass with the equivalent min_samples
    ours = FLASC(min_cluster_size=20, min_samples=5).fit(X)
    assert adjusted_rand_score(ours.cluster_labels_, model.cluster_labels_) > 0.99


def test_fast_hdbscan_clusterer():
    fast_hdbscan = pytest.importorskip("fast_hdbscan")
    X = load_flared()
    clusterer = fast_hdbscan.HDBSCAN(min_cluster_size=20, min_samples=5).fit(X)
    model = branches_from_clusterer(clusterer, X)
    np.testing.assert_array_equal(model.cluster_labels_, clusterer.labels_)
    assert model.labels_.max() >= model.cluster_labels_.max()


def test_plain_labels():
    X = load_flared()
    labels = FLASC(min_cluster_size=20, min_samples=5).fit(X).cluster_labels_
    model = branches_from_clusterer(labels, X, min_cluster_size=20, min_samples=5)
    again = FLASC(min_cluster_size=20, min_samples=5).fit(X, labels=labels)
    np.testing.assert_array_equal(model.labels_, again.labels_)


def test_clusterer_without_data_needs_x():
    from types import SimpleNamespace

    X = load_flared()
    labels = FLASC(min_cluster_size=20, min_samples=5).fit(X).cluster_labels_
    with pytest.raises(ValueError, match="X is required"):
        branches_from_clusterer(SimpleNamespace(labels_=labels))
    model = branches_from_clusterer(SimpleNamespace(labels_=labels), X, min_samples=5)
    np.testing.assert_array_equal(model.cluster_labels_, labels)
