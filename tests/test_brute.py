"""The brute-force kernels of small inputs equal the kd-tree kernels.

Up to ``BRUTE_MAX_POINTS`` points a Minkowski fit scans all pairs for its
neighbours, spanning tree and ``full`` branch sweeps
(:mod:`flasc_cluster._hdbscan.brute`,
:func:`flasc_cluster._branches.sweep.brute_full_sweep`), runs its clusters'
branch passes one by one rather than batched, and builds no kd-tree.
Every result must be identical bit for bit to the kd-tree path's,
including on tied distances, duplicate points and tied centralities.
"""

import numpy as np
import pytest

from _reference import load_flared
from flasc_cluster import FLASC
from flasc_cluster._branches import detect, sweep
from flasc_cluster._hdbscan import brute as brute_module
from flasc_cluster._hdbscan import space as space_module
from flasc_cluster._hdbscan.boruvka import boruvka_mst_knn
from flasc_cluster._hdbscan.brute import brute_knn, brute_mst
from flasc_cluster._hdbscan.space import KDSpace
from flasc_cluster._hdbscan.space_tree import build_kdtree, knn_query
from flasc_cluster.datasets import make_branching_stars, make_flared_blobs

P_VALUES = [1.0, 2.0, np.inf, 3.0]


def _points(kind, n, d, seed):
    rng = np.random.default_rng(seed)
    if kind == "normal":
        X = rng.normal(size=(n, d))
    elif kind == "grid":  # many tied distances
        X = rng.integers(0, 4, size=(n, d)).astype(np.float64)
    elif kind == "duplicates":
        base = rng.normal(size=(n // 3 + 1, d))
        X = base[rng.integers(0, base.shape[0], n)]
    else:
        raise ValueError(kind)
    return np.ascontiguousarray(X)


SHAPES = [(2, 1), (3, 2), (40, 1), (300, 2), (300, 3), (500, 8)]


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("kind", ["normal", "grid", "duplicates"])
@pytest.mark.parametrize("n, d", SHAPES)
def test_brute_knn_equals_the_tree_search(n, d, kind, p):
    X = _points(kind, n, d, seed=n + d)
    tree = build_kdtree(X, 10)
    for k in sorted({1, min(5, n - 1), min(25, n - 1), n - 1}):
        dist, ind = knn_query(tree, k, p)
        b_dist, b_ind = brute_knn(X, k, p)
        np.testing.assert_array_equal(b_dist, dist)
        np.testing.assert_array_equal(b_ind, ind)


@pytest.mark.parametrize("kind", ["normal", "grid"])
def test_brute_knn_rescans_a_row_its_bound_left_short(monkeypatch, kind):
    # a bound below the k-th distance keeps fewer than k points; the row is
    # then scanned without it (run as Python to see the changed constant)
    monkeypatch.setattr(brute_module, "_HINT_SLACK", -0.5)
    X = _points(kind, 120, 2, seed=7)
    dist, ind = knn_query(build_kdtree(X, 10), 6, 2.0)
    b_dist, b_ind = brute_module.brute_knn.py_func(X, 6, 2.0)
    np.testing.assert_array_equal(b_dist, dist)
    np.testing.assert_array_equal(b_ind, ind)


@pytest.mark.parametrize("alpha", [1.0, 0.7])
@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("kind", ["normal", "grid", "duplicates"])
@pytest.mark.parametrize("n, d", SHAPES)
def test_brute_mst_equals_boruvka(n, d, kind, p, alpha):
    X = _points(kind, n, d, seed=2 * n + d)
    tree = build_kdtree(X, 10)
    k = min(5, n - 1)
    dist, ind = knn_query(tree, k, p)
    core = np.ascontiguousarray(dist[:, k - 1])
    expected = boruvka_mst_knn(tree, core, alpha, p, dist, ind)
    edges = brute_mst(X, core, alpha, p)
    # Prim's order differs; as a set (sorted by (w, i, j)) the tree is the same
    np.testing.assert_array_equal(
        edges[np.lexsort((edges[:, 1], edges[:, 0], edges[:, 2]))], expected
    )
    space = KDSpace(X, p, 40)
    assert space.brute
    np.testing.assert_array_equal(space.mst(core, alpha), expected)


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("kind", ["normal", "grid", "duplicates"])
@pytest.mark.parametrize("n, d", [(2, 2), (60, 2), (400, 2), (400, 3)])
def test_brute_sweep_equals_the_tree_sweep(n, d, kind, p):
    X = _points(kind, n, d, seed=3 * n + d)
    rng = np.random.default_rng(n)
    centrality = 1.0 / (np.linalg.norm(X - X.mean(axis=0), axis=1) + 0.5)
    tied = np.round(centrality, 1)  # many tied centralities
    tree = build_kdtree(X, 5)
    pair = rng.integers(0, n, size=2)
    exact = float(np.abs(X[pair[0]] - X[pair[1]]).sum())  # a bound hit by pairs (p=1)
    for c in (centrality, tied):
        for max_dist, alpha in ((exact, 1.0), (0.5, 1.0), (1.5, 0.7), (np.inf, 1.0)):
            edges, rank, rows = sweep.full_sweep(tree, c, max_dist, alpha, p)
            partner = sweep.earlier_partners_serial(tree, rank, max_dist, alpha, p, rows)
            b_edges, b_partner = sweep.brute_full_sweep(X, c, max_dist, alpha, p)
            np.testing.assert_array_equal(b_edges, edges)
            np.testing.assert_array_equal(b_partner, partner)


FIT_CASES = [
    ("stars", dict(min_cluster_size=15)),
    ("stars", dict(min_cluster_size=15, alpha=0.8, branch_selection_method="leaf")),
    ("lattice", dict(min_cluster_size=20, metric="manhattan")),
    ("lattice", dict(min_cluster_size=20, metric="chebyshev", allow_single_branch=True)),
    ("flared8", dict(min_cluster_size=25, metric="minkowski", p=3.0)),
    ("flared_file", dict(min_cluster_size=10)),
    ("flared_file", dict(min_cluster_size=20, min_samples=5, label_sides_as_branches=True)),
]

FITTED = (
    "labels_", "probabilities_", "cluster_labels_", "cluster_probabilities_",
    "branch_labels_", "branch_probabilities_", "cluster_centralities_",
)


def _fit_data(name):
    if name == "stars":
        return make_branching_stars(1500, 2, random_state=1)[0]
    if name == "lattice":
        X = make_branching_stars(2000, 2, n_clusters=6, n_branches=4, random_state=0)[0]
        return np.round(X * 10) / 10
    if name == "flared8":
        return make_flared_blobs(1200, 8, n_clusters=4, random_state=0)[0]
    return load_flared()


@pytest.mark.parametrize("method", ["full", "core"])
@pytest.mark.parametrize("name, params", FIT_CASES)
def test_fits_are_identical_on_both_backends(monkeypatch, name, params, method):
    X = _fit_data(name)
    params = dict(params, branch_detection_method=method)
    monkeypatch.setattr(space_module, "BRUTE_MAX_POINTS", 10**9)
    brute = FLASC(**params).fit(X)
    assert brute._result.space.brute
    monkeypatch.setattr(space_module, "BRUTE_MAX_POINTS", 0)
    tree = FLASC(**params).fit(X)
    assert not tree._result.space.brute
    for attr in FITTED:
        np.testing.assert_array_equal(getattr(brute, attr), getattr(tree, attr), err_msg=attr)
    np.testing.assert_array_equal(
        brute.single_linkage_tree_.to_numpy(), tree.single_linkage_tree_.to_numpy()
    )
    np.testing.assert_array_equal(
        brute.minimum_spanning_tree_.to_numpy(), tree.minimum_spanning_tree_.to_numpy()
    )
    for a, b in zip(brute.branch_linkage_trees_, tree.branch_linkage_trees_):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_the_size_picks_the_backend(monkeypatch):
    """Up to BRUTE_MAX_POINTS points: brute-force kernels, no kd-tree built
    during the fit (a prediction builds it); one more point: the tree."""
    X = make_branching_stars(600, 2, random_state=2)[0]
    monkeypatch.setattr(space_module, "BRUTE_MAX_POINTS", 600)
    calls = []
    for kernel in ("full_clusters", "full_open", "brute_full_sweep", "full_graph_spanning_tree"):
        original = getattr(detect, kernel)

        def spy(*args, _original=original, _kernel=kernel, **kwargs):
            calls.append(_kernel)
            return _original(*args, **kwargs)

        monkeypatch.setattr(detect, kernel, spy)
    model = FLASC(min_cluster_size=15).fit(X)
    space = model._result.space
    assert space.brute and space._mst_tree is None
    assert set(calls) == {"brute_full_sweep"}
    from flasc_cluster.prediction import approximate_predict

    labels = approximate_predict(model, X[:50]).labels
    assert space._mst_tree is not None
    fitted = model.labels_[:50]
    np.testing.assert_array_equal(labels[fitted >= 0], fitted[fitted >= 0])
    calls.clear()
    bigger = FLASC(min_cluster_size=15).fit(np.vstack([X, X[:1] + 1e-3]))
    assert not bigger._result.space.brute
    # batched: whole groups of clusters, or single clusters in two stages
    assert calls and set(calls) <= {"full_clusters", "full_open"}
