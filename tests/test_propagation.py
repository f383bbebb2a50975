"""Label propagation to noise points (fast_hdbscan's propagated_labels)."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from flasc_cluster import FLASC
from flasc_cluster._branches.detect import local_graph_csr
from flasc_cluster._branches.propagate import propagate_by_vote
from flasc_cluster.datasets import make_branching_stars, make_flared_blobs
from flasc_cluster.membership import (
    PropagatedLabels,
    branch_centrality_vectors,
    propagate_labels,
    update_labels_with_branch_centrality,
)
from flasc_cluster.membership import _graph_csr

FLARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "flared.npy"


def _csr(edges, votes, n):
    edges = np.asarray(edges, dtype=np.intp)
    return _graph_csr(edges[:, 0], edges[:, 1], np.asarray(votes, dtype=float), n)


def test_kernel_rounds_and_ties():
    # path 0-1-2-3-4 plus an island 5-6; 2 is reached from both sides in
    # round two with equal votes: the smaller label wins
    graph = _csr([(0, 1), (1, 2), (2, 3), (3, 4), (5, 6)], [1.0] * 5, 7)
    labels = np.array([0, -1, -1, -1, 1, -1, -1], dtype=np.intp)
    got = propagate_by_vote(*graph, labels, 2)
    np.testing.assert_array_equal(got, [0, 0, 0, 1, 1, -1, -1])
    np.testing.assert_array_equal(labels, [0, -1, -1, -1, 1, -1, -1])  # input kept


def test_kernel_weighted_vote_is_synchronous():
    # 2 and 3 are both next to a labelled point in round one; a point by
    # point update in row order would let 2's new label outvote 1 at 3
    graph = _csr([(0, 2), (2, 3), (3, 1)], [1.0, 5.0, 1.0], 4)
    labels = np.array([0, 1, -1, -1], dtype=np.intp)
    np.testing.assert_array_equal(propagate_by_vote(*graph, labels, 2), [0, 1, 0, 1])
    # the larger summed vote wins: 4 sees label 0 twice (1 + 1) and label 1 once (1.5)
    graph = _csr([(0, 4), (2, 4), (1, 4), (4, 3)], [1.0, 1.0, 1.5, 9.0], 5)
    labels = np.array([0, 1, 0, -1, -1], dtype=np.intp)
    np.testing.assert_array_equal(propagate_by_vote(*graph, labels, 2), [0, 1, 0, 0, 0])


def test_kernel_ignores_point_order():
    rng = np.random.default_rng(3)
    n = 300
    edges = np.unique(np.sort(rng.integers(0, n, size=(900, 2)), axis=1), axis=0)
    edges = edges[edges[:, 0] != edges[:, 1]]
    votes = rng.uniform(size=edges.shape[0])
    labels = np.where(rng.uniform(size=n) < 0.1, rng.integers(0, 4, n), -1).astype(np.intp)
    base = propagate_by_vote(*_graph_csr(edges[:, 0], edges[:, 1], votes, n), labels, 4)
    perm = rng.permutation(n)
    inv = np.argsort(perm)  # new id of old point i
    moved = propagate_by_vote(
        *_graph_csr(inv[edges[:, 0]], inv[edges[:, 1]], votes, n), labels[perm], 4
    )
    np.testing.assert_array_equal(moved[inv], base)
    assert (base >= 0).mean() > 0.9


@pytest.fixture(scope="module")
def stars():
    X, _ = make_branching_stars(1200, 2, n_clusters=2, random_state=7)
    return X, FLASC(min_cluster_size=20).fit(X)


def test_between_branch_points_take_a_branch(stars):
    _, model = stars
    between = (model.branch_labels_ == -1) & (model.cluster_labels_ >= 0)
    assert between.sum() > 50
    out = propagate_labels(model)
    assert isinstance(out, PropagatedLabels)
    assert not ((out.branch_labels == -1) & (model.cluster_labels_ >= 0)).any()
    kept = model.branch_labels_ >= 0
    np.testing.assert_array_equal(out.branch_labels[kept], model.branch_labels_[kept])
    np.testing.assert_array_equal(out.cluster_labels, model.cluster_labels_)
    # numbering as update_labels_with_branch_centrality: the between label goes
    reference, _ = update_labels_with_branch_centrality(model, branch_centrality_vectors(model))
    np.testing.assert_array_equal(out.labels[kept], reference[kept])
    used = np.unique(out.labels[out.labels >= 0])
    np.testing.assert_array_equal(used, np.arange(used.shape[0]))


def test_cluster_noise_along_spanning_tree():
    X, _ = make_flared_blobs(800, random_state=1)
    background = np.random.default_rng(0).uniform(X.min(axis=0), X.max(axis=0), size=(80, 2))
    X = np.vstack([X, background, [[np.nan, 0.0], [np.inf, 0.0]]])
    model = FLASC(min_cluster_size=30).fit(X)
    noise = model.cluster_labels_ == -1
    assert noise.sum() > 30
    plain = propagate_labels(model)
    np.testing.assert_array_equal(plain.cluster_labels, model.cluster_labels_)
    out = propagate_labels(model, cluster_noise=True)
    assert (out.labels >= 0).sum() == X.shape[0] - 2  # no noise left, bad rows kept
    np.testing.assert_array_equal(out.labels[-2:], [-3, -2])
    clustered = model.cluster_labels_ >= 0
    np.testing.assert_array_equal(out.cluster_labels[clustered], model.cluster_labels_[clustered])
    np.testing.assert_array_equal(out.labels[clustered], plain.labels[clustered])
    # cluster and branch labels follow the combined label
    for lab in np.unique(out.labels[out.labels >= 0]):
        assert np.unique(out.cluster_labels[out.labels == lab]).shape[0] == 1
        assert np.unique(out.branch_labels[out.labels == lab]).shape[0] == 1
    # a noise point takes the label of a spanning-tree neighbour
    mst = model.minimum_spanning_tree_.to_numpy()
    a, b = mst[:, 0].astype(int), mst[:, 1].astype(int)
    rows = model.finite_index_
    for p in np.flatnonzero(noise[rows])[:50]:
        nbrs = np.concatenate([b[a == p], a[b == p]])
        assert out.labels[rows[p]] in set(out.labels[rows[nbrs]].tolist())


def test_override_labels_compute_a_spanning_tree(stars):
    X, model = stars
    labels = model.cluster_labels_.copy()
    labels[::7] = -1
    given = FLASC(min_cluster_size=20).fit(X, labels=labels)
    out = propagate_labels(given, cluster_noise=True)
    assert (out.labels >= 0).all()
    np.testing.assert_array_equal(out.cluster_labels[::7], model.cluster_labels_[::7])


def test_all_noise_and_validation():
    X = np.random.default_rng(0).uniform(size=(40, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = FLASC(min_cluster_size=30).fit(X)
    out = propagate_labels(model, cluster_noise=True)
    assert (out.labels == -1).all() and (out.cluster_labels == -1).all()
    with pytest.raises(ValueError, match="cluster_noise must be a bool"):
        propagate_labels(model, cluster_noise="yes")


def test_row_order_does_not_matter(stars):
    X, model = stars
    perm = np.random.default_rng(5).permutation(X.shape[0])
    moved = FLASC(min_cluster_size=20).fit(X[perm])
    np.testing.assert_array_equal(moved.labels_, model.labels_[perm])  # precondition
    a = propagate_labels(model, cluster_noise=True)
    b = propagate_labels(moved, cluster_noise=True)
    np.testing.assert_array_equal(b.labels, a.labels[perm])


def _fast_graph(model, c):
    from fast_hdbscan.core_graph import CoreGraph

    cluster = model._result.branches.clusters[c]
    indptr, indices = local_graph_csr(model._result.space, cluster, 1.0)
    src = np.repeat(np.arange(indptr.shape[0] - 1), np.diff(indptr))
    w = np.maximum(cluster.centrality[src], cluster.centrality[indices])
    return CoreGraph(w, w, indices.astype(np.int32), indptr.astype(np.int32))


def _split_clusters(model):
    for c, points in enumerate(model.cluster_points_):
        b = model.branch_labels_[points]
        if (b != 0).any() and (b < 0).any():
            yield c, points, b


def test_matches_fast_hdbscan_where_order_cannot_matter(stars):
    pytest.importorskip("fast_hdbscan")
    from fast_hdbscan.sub_clusters import propagate_labels_per_cluster

    X, _ = stars
    model = FLASC(min_cluster_size=20, branch_detection_method="core").fit(X)
    full = propagate_labels(model).branch_labels
    compared = 0
    for c, points, _ in _split_clusters(model):
        graph = _fast_graph(model, c)
        # unlabel an independent set: every such point is decided in one round
        b = full[points].copy()
        chosen = np.zeros(b.shape[0], dtype=bool)
        for i in range(b.shape[0]):
            nbrs = graph.indices[graph.indptr[i]:graph.indptr[i + 1]]
            if not chosen[nbrs].any():
                chosen[i] = True
        b[chosen] = -1
        ours = propagate_by_vote(
            graph.indptr.astype(np.intp), graph.indices.astype(np.intp),
            1.0 / graph.weights, b, int(b.max()) + 1,
        )
        theirs = propagate_labels_per_cluster(graph, b.astype(np.int64).copy())
        np.testing.assert_array_equal(ours, theirs)
        compared += chosen.sum()
    assert compared > 50


@pytest.mark.parametrize("method", ["core", "full"])
def test_agreement_with_fast_hdbscan_vote(method):
    pytest.importorskip("fast_hdbscan")
    from fast_hdbscan.sub_clusters import propagate_labels_per_cluster

    X = np.load(FLARED) if FLARED.exists() else make_branching_stars(2000, random_state=3)[0]
    model = FLASC(min_cluster_size=20, min_samples=5, branch_detection_method=method).fit(X)
    ours = propagate_labels(model).branch_labels
    total = agree = 0
    for c, points, b in _split_clusters(model):
        theirs = propagate_labels_per_cluster(_fast_graph(model, c), b.astype(np.int64).copy())
        total += (b < 0).sum()
        agree += (theirs[b < 0] == ours[points][b < 0]).sum()
    # fast_hdbscan updates in row order: its own result under a row
    # permutation agrees with itself on 56-85% of these points
    assert total > 50 and agree / total > 0.5
