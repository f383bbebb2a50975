"""Soft branch membership: centrality vectors, softmax, label update."""

import warnings

import numpy as np
import pytest

from _reference import load_diabetes
from flasc_cluster import FLASC
from flasc_cluster.datasets import make_branching_stars
from flasc_cluster.membership import (
    branch_centrality_vectors,
    branch_membership_from_centrality,
    update_labels_with_branch_centrality,
)


@pytest.fixture(scope="module")
def stars_model():
    X, _ = make_branching_stars(1200, 2, n_clusters=2, random_state=7)
    return FLASC(min_cluster_size=20).fit(X)


def test_vectors_shapes_and_roots(stars_model):
    vectors = branch_centrality_vectors(stars_model)
    assert len(vectors) == len(stars_model.cluster_points_)
    for c, v in enumerate(vectors):
        if v is None:
            continue
        points = stars_model.cluster_points_[c]
        assert v.shape == (points.shape[0], len(stars_model.branch_persistences_[c]))
        assert np.all((v >= 0) & (v <= 1))
        assert np.all(v.max(axis=0) == 1.0)  # each branch root has depth 1
        # points in a branch are closer (in hops) to their own root than average
        own = stars_model.branch_labels_[points]
        inside = own >= 0
        assert np.mean(np.argmax(v[inside], axis=1) == own[inside]) > 0.9


def test_softmax_rows_sum_to_one(stars_model):
    vectors = branch_centrality_vectors(stars_model)
    for t in (0.05, 1.0, 10.0):
        for m in branch_membership_from_centrality(vectors, temperature=t):
            if m is not None:
                np.testing.assert_allclose(m.sum(axis=1), 1.0)
                assert not np.isnan(m).any()
    cold = branch_membership_from_centrality(vectors, 0.01)
    warm = branch_membership_from_centrality(vectors, 100.0)
    v = next(x for x in cold if x is not None)
    w = next(x for x in warm if x is not None)
    assert v.max(axis=1).mean() > w.max(axis=1).mean()
    with pytest.raises(ValueError, match="temperature"):
        branch_membership_from_centrality(vectors, 0.0)


def test_update_labels(stars_model):
    vectors = branch_centrality_vectors(stars_model)
    labels, branch_labels = update_labels_with_branch_centrality(stars_model, vectors)
    split = np.zeros(labels.shape[0], dtype=bool)
    for c, v in enumerate(vectors):
        if v is not None:
            split[stars_model.cluster_points_[c]] = True
    assert split.any() and not (branch_labels[split] == -1).any()
    kept = stars_model.branch_labels_ >= 0
    np.testing.assert_array_equal(branch_labels[kept], stars_model.branch_labels_[kept])
    used = np.unique(labels[labels >= 0])
    np.testing.assert_array_equal(used, np.arange(used.shape[0]))
    for lab in used:  # labels still nest in clusters
        assert np.unique(stars_model.cluster_labels_[labels == lab]).shape[0] == 1


def test_vectors_match_pyflasc():
    pytest.importorskip("flasc")
    from flasc import FLASC as Reference
    from flasc.prediction import branch_centrality_vectors as ref_vectors

    X = load_diabetes()
    params = dict(min_samples=5, min_cluster_size=10, min_branch_size=5, allow_single_cluster=True)
    ours = FLASC(**params).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = Reference(approx_min_span_tree=False, **params).fit(X)
        expected = ref_vectors(ref)
    got = branch_centrality_vectors(ours)
    assert len(got) == len(expected)
    compared = 0
    for v, e in zip(got, expected):
        assert (v is None) == (e is None)
        if v is None:
            continue
        # same columns up to the order of the branches
        order_v = sorted(range(v.shape[1]), key=lambda k: tuple(v[:, k]))
        order_e = sorted(range(e.shape[1]), key=lambda k: tuple(e[:, k]))
        np.testing.assert_allclose(v[:, order_v], e[:, order_e])
        compared += 1
    assert compared >= 1
