"""Tests of the kd-tree kernels against brute-force numpy references."""

import math

import numba
import numpy as np
import pytest
from scipy.spatial.distance import cdist

from flasc_cluster._hdbscan.space_tree import (
    build_kdtree,
    dist_to_rdist,
    knn_query,
    max_rdist_within,
    min_rdist_to_box,
    query_radius,
    rdist,
    rdist_reject_bound,
    rdist_to_dist,
)

P_VALUES = [1.0, 2.0, 2.5, np.inf]


# ---------------------------------------------------------------- references
def dense_distances(X, p):
    """All-pairs true distances with the kernels' arithmetic: dimensions
    accumulated in order, libm pow for general p, then the root."""
    X = np.asarray(X, dtype=np.float64)
    r = np.zeros((X.shape[0], X.shape[0]))
    vpow = np.frompyfunc(math.pow, 2, 1)
    for c in range(X.shape[1]):
        t = np.abs(X[:, None, c] - X[None, :, c])
        if p == 2.0:
            r = r + t * t
        elif p == 1.0:
            r = r + t
        elif p == np.inf:
            r = np.maximum(r, t)
        else:
            r = r + vpow(t, p).astype(np.float64)
    if p == 2.0:
        return np.sqrt(r)
    if p in (1.0, np.inf):
        return r
    return vpow(r, 1.0 / p).astype(np.float64)


def brute_knn(X, k, p):
    """k nearest other points, rows sorted by (distance, index)."""
    D = dense_distances(X, p)
    n = D.shape[0]
    dist = np.empty((n, k))
    ind = np.empty((n, k), dtype=np.intp)
    ar = np.arange(n)
    for i in range(n):
        order = np.lexsort((ar, D[i]))
        order = order[order != i][:k]
        dist[i] = D[i, order]
        ind[i] = order
    return dist, ind


def scipy_metric(p):
    if p == 1.0:
        return {"metric": "cityblock"}
    if p == 2.0:
        return {"metric": "euclidean"}
    if p == np.inf:
        return {"metric": "chebyshev"}
    return {"metric": "minkowski", "p": p}


def make_data(kind, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.random((230, 3))
    if kind == "duplicates":
        return np.repeat(rng.random((40, 2)), 5, axis=0)[rng.permutation(200)]
    if kind == "grid":
        return rng.integers(0, 5, size=(220, 2)).astype(np.float64)
    if kind == "collinear":
        t = rng.random(150)
        return np.c_[t, 2.0 * t, -t]
    raise ValueError(kind)


DATA_KINDS = ["random", "duplicates", "grid", "collinear"]


# ---------------------------------------------------------------- distances
@pytest.mark.parametrize("p", P_VALUES)
def test_rdist_matches_scipy(p):
    X = np.random.default_rng(1).normal(size=(20, 4))
    ours = np.array(
        [[rdist_to_dist(rdist(x, y, p), p) for y in X] for x in X]
    )
    np.testing.assert_allclose(ours, cdist(X, X, **scipy_metric(p)), rtol=1e-12)
    np.testing.assert_array_equal(ours, dense_distances(X, p))


@pytest.mark.parametrize("p", P_VALUES)
def test_box_bound_and_thresholds(p):
    rng = np.random.default_rng(2)
    for _ in range(50):
        box = rng.normal(size=(2, 3))
        lo, hi = box.min(axis=0), box.max(axis=0)
        x = rng.normal(size=3) * 2
        ys = lo + (hi - lo) * rng.random((30, 3))
        ys[:3] = lo, hi, np.clip(x, lo, hi)
        bound = min_rdist_to_box(x, lo, hi, p)
        assert all(bound <= rdist(x, y, p) for y in ys)
        if np.all((lo <= x) & (x <= hi)):
            assert bound == 0.0
        d = rdist_to_dist(rdist(x, ys[5], p), p)
        r_exact = max_rdist_within(d, p)
        assert rdist_to_dist(r_exact, p) <= d
        assert rdist_to_dist(np.nextafter(r_exact, np.inf), p) > d
        assert rdist_reject_bound(d, p) >= r_exact
        assert dist_to_rdist(d, p) == pytest.approx(rdist(x, ys[5], p))


def _reference_box_rdist(gaps, p):
    """Per-dimension gaps combined in dimension order, as ``rdist`` does."""
    r = 0.0
    for t in gaps:
        if p == 2.0:
            r += t * t
        elif p == 1.0:
            r += t
        elif p == np.inf:
            r = max(r, t)
        else:
            r += t**p
    return r


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("d", [1, 3, 16])
def test_box_bounds_equal_the_gap_by_gap_reference(p, d):
    """The branch-free box bounds equal the plain "lo - x if positive, else
    x - hi if positive, else 0" rule bit for bit, at box faces and corners
    and for touching and degenerate boxes too."""
    from flasc_cluster._hdbscan.space_tree import min_rdist_between_nodes, min_rdist_to_node

    rng = np.random.default_rng(d)
    n_boxes = 60
    corners = rng.normal(size=(2, n_boxes, d)).round(1)  # ties between coordinates
    corners[:, :5] = corners[0, :5]  # degenerate boxes (points)
    node_lo, node_hi = corners.min(axis=0), corners.max(axis=0)
    node_lo[5], node_hi[5] = node_hi[6], node_hi[6] + 1.0  # touches box 6
    for _ in range(40):
        x = rng.normal(size=d).round(1) * 2
        a = int(rng.integers(n_boxes))
        x[: d // 2] = node_lo[a, : d // 2]  # on a face
        for b in range(n_boxes):
            lo, hi = node_lo[b], node_hi[b]
            gaps = [
                lo[k] - x[k] if lo[k] - x[k] > 0 else (x[k] - hi[k] if x[k] - hi[k] > 0 else 0.0)
                for k in range(d)
            ]
            expected = _reference_box_rdist(gaps, p)
            assert min_rdist_to_box(x, lo, hi, p) == expected
            assert min_rdist_to_node(x, node_lo, node_hi, b, p) == expected
            pair = [
                node_lo[b, k] - node_hi[a, k] if node_lo[b, k] - node_hi[a, k] > 0
                else (node_lo[a, k] - node_hi[b, k] if node_lo[a, k] - node_hi[b, k] > 0 else 0.0)
                for k in range(d)
            ]
            assert min_rdist_between_nodes(node_lo, node_hi, a, b, p) == _reference_box_rdist(pair, p)


# ---------------------------------------------------------------- tree
@pytest.mark.parametrize("n, leaf_size", [(1, 5), (2, 1), (7, 2), (100, 5), (257, 16)])
def test_build_kdtree_invariants(n, leaf_size):
    X = np.random.default_rng(n).random((n, 3))
    X_copy = X.copy()
    tree = build_kdtree(X, leaf_size)
    np.testing.assert_array_equal(X, X_copy)
    assert tree.data.flags.c_contiguous and tree.data.dtype == np.float64
    assert tree.idx_array.dtype == np.intp
    np.testing.assert_array_equal(np.sort(tree.idx_array), np.arange(n))
    np.testing.assert_array_equal(tree.data, X[tree.idx_array])
    n_nodes = tree.node_start.shape[0]
    assert (n_nodes + 1) & n_nodes == 0  # complete binary tree
    first_leaf = n_nodes // 2
    np.testing.assert_array_equal(
        tree.node_is_leaf, np.arange(n_nodes) >= first_leaf
    )
    assert tree.node_start[0] == 0 and tree.node_end[0] == n
    for node in range(n_nodes):
        s, e = tree.node_start[node], tree.node_end[node]
        assert s < e  # no empty node
        pts = tree.data[s:e]
        np.testing.assert_array_equal(tree.node_lo[node], pts.min(axis=0))
        np.testing.assert_array_equal(tree.node_hi[node], pts.max(axis=0))
        if node < first_leaf:
            left, right = 2 * node + 1, 2 * node + 2
            assert tree.node_start[left] == s and tree.node_end[right] == e
            assert tree.node_end[left] == tree.node_start[right]
    leaf_sizes = tree.node_end[first_leaf:] - tree.node_start[first_leaf:]
    if n > leaf_size:
        assert leaf_sizes.max() <= 2 * leaf_size + 1


@pytest.mark.parametrize("n, leaf_size", [(1, 40), (30, 40), (100, 5), (1000, 40), (1000, 25)])
def test_kd_space_cut_tree_is_the_leaf_size_tree(n, leaf_size):
    """The neighbour searches' tree is the top of the spanning tree's deeper
    one; it must be the tree ``leaf_size`` builds, up to the order of the
    rows within a leaf."""
    from flasc_cluster._hdbscan.space import KDSpace

    X = np.round(np.random.default_rng(n).random((n, 3)), 1)  # ties at medians
    space = KDSpace(X, 2.0, leaf_size)
    cut, fine, ref = space.tree, space.mst_tree, build_kdtree(X, leaf_size)
    assert fine.node_start.shape[0] >= cut.node_start.shape[0]
    if n > leaf_size:
        assert fine.node_start.shape[0] > cut.node_start.shape[0]
    for name in ("node_start", "node_end", "node_lo", "node_hi", "node_is_leaf"):
        np.testing.assert_array_equal(getattr(cut, name), getattr(ref, name))
    assert cut.data is fine.data and cut.idx_array is fine.idx_array
    for node in np.flatnonzero(cut.node_is_leaf):
        s, e = cut.node_start[node], cut.node_end[node]
        np.testing.assert_array_equal(np.sort(cut.idx_array[s:e]), np.sort(ref.idx_array[s:e]))
    if n > 8:
        for a, b in zip(knn_query(cut, 8, 2.0), knn_query(ref, 8, 2.0)):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("leaf_size", [10, 40, 159, 160, 200])
def test_kd_space_tree_for_another_leaf_size(leaf_size):
    """The top levels of the fit's tree that form the tree of leaf size 40,
    or None when the fit's tree has larger leaves."""
    from flasc_cluster._hdbscan.space import KDSpace

    X = np.random.default_rng(leaf_size).random((3000, 2))
    space = KDSpace(X, 2.0, leaf_size)
    top = space.tree_for_leaf_size(40)
    if leaf_size // 4 > 40:
        assert top is None
        return
    ref = build_kdtree(X, 40)
    for name in ("node_start", "node_end", "node_lo", "node_hi", "node_is_leaf"):
        np.testing.assert_array_equal(getattr(top, name), getattr(ref, name))
    assert top.data is space.mst_tree.data


@pytest.mark.parametrize("subset", ["region", "scattered", "one", "all"])
@pytest.mark.parametrize("n, leaf_size", [(1, 40), (300, 5), (2000, 40)])
def test_subset_kdtree_is_the_tree_restricted_to_the_rows(n, leaf_size, subset):
    """A subset's tree cut from a larger one: the subtree below the smallest
    node holding the subset, each node keeping only the subset's rows, with
    tight boxes."""
    from flasc_cluster._hdbscan.space_tree import subset_kdtree, subset_root

    rng = np.random.default_rng(n + leaf_size)
    X = np.round(rng.random((n, 2)), 2)  # ties at medians
    tree = build_kdtree(X, leaf_size)
    if subset == "region":
        members = np.flatnonzero((X[:, 0] < 0.3) & (X[:, 1] > 0.2))
    elif subset == "scattered":
        members = np.flatnonzero(rng.random(n) < 0.1)
    elif subset == "one":
        members = np.array([n // 2])
    else:
        members = np.arange(n)
    if members.shape[0] == 0:
        members = np.array([0])
    row_of = np.empty(n, dtype=np.intp)
    row_of[tree.idx_array] = np.arange(n)
    rows = np.sort(row_of[members])
    n_levels = int(np.log2(tree.node_start.shape[0] + 1))
    node, sub_levels = subset_root(tree.node_start, tree.node_end, n_levels, rows)
    ids = np.arange(rows.shape[0]) + 1000
    sub = subset_kdtree(tree.data, tree.node_end, node, sub_levels, rows, ids.copy())
    # the root is the deepest node whose range holds every row
    assert tree.node_start[node] <= rows[0] and rows[-1] < tree.node_end[node]
    if not tree.node_is_leaf[node]:
        left, right = 2 * node + 1, 2 * node + 2
        assert rows[0] < tree.node_end[left] and rows[-1] >= tree.node_start[right]
    n_sub = sub.node_start.shape[0]
    assert n_sub == 2 ** sub_levels - 1
    np.testing.assert_array_equal(sub.data, tree.data[rows])
    np.testing.assert_array_equal(sub.idx_array, ids)
    first_leaf = n_sub // 2
    np.testing.assert_array_equal(sub.node_is_leaf, np.arange(n_sub) >= first_leaf)
    for u in range(n_sub):
        depth = int(np.log2(u + 1))
        g = u + node * 2 ** depth  # the matching node of the tree
        inside = np.flatnonzero((rows >= tree.node_start[g]) & (rows < tree.node_end[g]))
        s, e = sub.node_start[u], sub.node_end[u]
        np.testing.assert_array_equal(np.arange(s, e), inside)
        if e > s:
            np.testing.assert_array_equal(sub.node_lo[u], sub.data[s:e].min(axis=0))
            np.testing.assert_array_equal(sub.node_hi[u], sub.data[s:e].max(axis=0))
        else:
            assert (sub.node_lo[u] == np.inf).all() and (sub.node_hi[u] == -np.inf).all()


# ---------------------------------------------------------------- kNN
@pytest.mark.parametrize("kind", DATA_KINDS)
@pytest.mark.parametrize("p", P_VALUES)
def test_knn_equals_brute_force(kind, p):
    X = make_data(kind)
    k = 7
    ref_d, ref_i = brute_knn(X, k, p)
    for leaf_size in (3, 20):
        tree = build_kdtree(X, leaf_size)
        dist, ind = knn_query(tree, k, p)
        assert dist.dtype == np.float64 and ind.dtype == np.intp
        np.testing.assert_array_equal(dist, ref_d)
        np.testing.assert_array_equal(ind, ref_i)


@pytest.mark.parametrize("kind", DATA_KINDS)
@pytest.mark.parametrize("p", P_VALUES)
def test_knn_of_new_points_equals_brute_force(kind, p):
    """Queries that are not tree points (inside, on and far outside the
    data, duplicates of tree points among them): the k nearest tree
    points, ties by index, whichever leaf each search starts in."""
    from flasc_cluster._hdbscan.space_tree import knn_query_points

    X = make_data(kind)
    rng = np.random.default_rng(1)
    Q = np.vstack([
        make_data(kind, seed=2)[:60],
        X[:10],  # at distance 0 from a tree point
        rng.random((10, X.shape[1])) * 50.0 - 25.0,  # far away
    ])
    Q_copy = Q.copy()
    k = 7
    D = dense_distances(np.vstack([Q, X]), p)[:Q.shape[0], Q.shape[0]:]
    ar = np.arange(X.shape[0])
    for leaf_size in (3, 20):
        tree = build_kdtree(X, leaf_size)
        dist, ind = knn_query_points(tree, Q, k, p)
        for q in range(Q.shape[0]):
            order = np.lexsort((ar, D[q]))[:k]
            np.testing.assert_array_equal(ind[q], order)
            np.testing.assert_array_equal(dist[q], D[q, order])
    np.testing.assert_array_equal(Q, Q_copy)


@pytest.mark.parametrize("kind", DATA_KINDS)
def test_knn_of_dense_query_clouds_equals_brute_force(kind):
    """Hundreds of queries near one point, inside and far outside the data,
    so that many queries share a start leaf and their groups are split (by
    width and by size): the k nearest tree points, ties by index."""
    from flasc_cluster._hdbscan.space_tree import knn_query_points

    X = make_data(kind)
    rng = np.random.default_rng(5)
    d = X.shape[1]
    Q = np.vstack([
        X[3] + rng.normal(scale=1e-3, size=(150, d)),
        np.full(d, 40.0) + rng.normal(scale=1.0, size=(150, d)),
        np.full(d, -30.0) + rng.normal(scale=1e-2, size=(100, d)),
    ])
    k = 5
    D = dense_distances(np.vstack([Q, X]), 2.0)[:Q.shape[0], Q.shape[0]:]
    ar = np.arange(X.shape[0])
    tree = build_kdtree(X, 20)
    dist, ind = knn_query_points(tree, Q, k, 2.0)
    for q in range(Q.shape[0]):
        order = np.lexsort((ar, D[q]))[:k]
        np.testing.assert_array_equal(ind[q], order)
        np.testing.assert_array_equal(dist[q], D[q, order])


def test_query_groups_partition_the_rows_within_the_caps():
    """The groups new points search in: every row exactly once, contiguous
    in ``order``, all rows of a group assigned the group's leaf, at most
    ``QUERY_GROUP_ROWS`` rows, and a group of two or more rows no wider
    than ``QUERY_GROUP_EXTENT`` times its leaf's box on any side."""
    from flasc_cluster._hdbscan.space_tree import (
        QUERY_GROUP_EXTENT,
        QUERY_GROUP_ROWS,
        _leaf_near,
        _query_groups,
    )

    rng = np.random.default_rng(7)
    X = rng.normal(size=(2000, 3))
    tree = build_kdtree(X, 20)
    Q = np.vstack([
        rng.normal(size=(500, 3)),
        np.full(3, 9.0) + rng.normal(scale=0.01, size=(300, 3)),  # one far clump
        rng.uniform(-30.0, 30.0, size=(200, 3)),  # far and spread
    ])
    leaves = np.array(
        [_leaf_near(tree.node_lo, tree.node_hi, tree.node_is_leaf, q, 2.0) for q in Q]
    )
    order, start, leaf, n = _query_groups(
        Q, leaves, tree.node_lo, tree.node_hi, QUERY_GROUP_EXTENT, QUERY_GROUP_ROWS
    )
    np.testing.assert_array_equal(np.sort(order), np.arange(Q.shape[0]))
    assert start[0] == 0 and start[n] == Q.shape[0]
    sizes = np.diff(start[:n + 1])
    assert (sizes > 0).all() and (sizes <= QUERY_GROUP_ROWS).all()
    for g in range(n):
        rows = order[start[g]:start[g + 1]]
        assert (leaves[rows] == leaf[g]).all()
        if rows.shape[0] > 1:
            span = Q[rows].max(axis=0) - Q[rows].min(axis=0)
            side = tree.node_hi[leaf[g]] - tree.node_lo[leaf[g]]
            assert (span <= QUERY_GROUP_EXTENT * side).all()
    # the data exercise both rules: some leaf got more rows than a group may
    # hold, and groups of several rows remain
    assert np.bincount(leaves).max() > QUERY_GROUP_ROWS
    assert n < Q.shape[0]


def test_knn_hand_example():
    X = np.array([[0.0], [1.0], [1.0], [3.0], [0.0]])
    dist, ind = knn_query(build_kdtree(X, 1), 2, 2.0)
    np.testing.assert_array_equal(
        ind, [[4, 1], [2, 0], [1, 0], [1, 2], [0, 1]]
    )
    np.testing.assert_array_equal(
        dist, [[0, 1], [0, 1], [0, 1], [2, 2], [0, 1]]
    )


def test_knn_all_identical_and_k_max():
    X = np.ones((12, 2))
    dist, ind = knn_query(build_kdtree(X, 2), 11, 2.0)
    np.testing.assert_array_equal(dist, 0.0)
    expected = np.array([[j for j in range(12) if j != i] for i in range(12)])
    np.testing.assert_array_equal(ind, expected)


def test_knn_thread_count_invariant():
    X = make_data("grid", seed=3)
    tree = build_kdtree(X, 4)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        d1, i1 = knn_query(tree, 6, 2.0)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        d2, i2 = knn_query(tree, 6, 2.0)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(d1, d2)
    np.testing.assert_array_equal(i1, i2)


# ---------------------------------------------------------------- radius
@pytest.mark.parametrize("p", P_VALUES)
def test_query_radius_equals_brute_force(p):
    X = make_data("grid", seed=4)
    tree = build_kdtree(X, 4)
    D = dense_distances(X, p)
    out = np.empty(X.shape[0], dtype=np.intp)
    for i in range(0, X.shape[0], 7):
        for radius in (0.0, 1.0, 1.5, 2.0):
            count = query_radius(tree, X[i], radius, p, out)
            expected = np.flatnonzero(D[i] <= radius)
            assert count == expected.size
            np.testing.assert_array_equal(np.sort(out[:count]), expected)


def test_query_radius_small_buffer_reports_full_count():
    X = np.zeros((10, 2))
    tree = build_kdtree(X, 3)
    out = np.full(4, -1, dtype=np.intp)
    assert query_radius(tree, np.zeros(2), 0.5, 2.0, out) == 10
    assert len(set(out.tolist())) == 4 and out.min() >= 0


def test_weighted_mean_is_numpy_average_bit_for_bit():
    from flasc_cluster._hdbscan.space import weighted_mean

    rng = np.random.default_rng(3)
    for _ in range(300):
        m = int(rng.integers(1, 3000))
        d = int(rng.integers(1, 9))
        rows = rng.normal(size=(m, d)) * rng.uniform(0.01, 100.0)
        weights = rng.uniform(0.0, 1.0, size=m) + 1e-3
        weights[rng.random(m) < 0.3] = 1.0
        np.testing.assert_array_equal(
            weighted_mean(rows, weights), np.average(rows, weights=weights, axis=0)
        )
