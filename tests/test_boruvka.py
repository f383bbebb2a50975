"""Tests of the exact Borůvka MST against a dense Kruskal reference."""

import json
import os
import subprocess
import sys

import numba
import numpy as np
import pytest
from scipy.sparse.csgraph import minimum_spanning_tree

from flasc_cluster._hdbscan.boruvka import (
    _seed_from_knn,
    argsort_edges,
    boruvka_mst,
    boruvka_mst_knn,
)
from flasc_cluster._hdbscan.space_tree import build_kdtree, knn_query

from test_space_tree import DATA_KINDS, P_VALUES, dense_distances, make_data


def mutual_reachability(X, core, alpha, p):
    D = dense_distances(X, p)
    return np.maximum(np.maximum(core[:, None], core[None, :]), D / alpha)


def kruskal_reference(W):
    """MST of the dense matrix ``W`` under the order (w, i, j), i < j."""
    n = W.shape[0]
    i, j = np.triu_indices(n, 1)
    w = W[i, j]
    parent = np.arange(n)

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    rows = []
    for e in np.lexsort((j, i, w)):
        a, b = find(i[e]), find(j[e])
        if a != b:
            parent[a] = b
            rows.append((i[e], j[e], w[e]))
    return np.array(rows, dtype=np.float64).reshape(-1, 3)


def core_distances(tree, k, p):
    return knn_query(tree, k, p)[0][:, k - 1].copy()


@pytest.mark.parametrize("kind", DATA_KINDS)
@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("alpha", [1.0, 0.6])
def test_mst_equals_kruskal(kind, p, alpha):
    X = make_data(kind, seed=11)
    tree = build_kdtree(X, 6)
    core = core_distances(tree, 4, p)
    mst = boruvka_mst(tree, core, alpha, p)
    np.testing.assert_array_equal(
        mst, kruskal_reference(mutual_reachability(X, core, alpha, p))
    )


@pytest.mark.parametrize("p", P_VALUES)
def test_mst_total_weight_equals_scipy(p):
    # tie-free data with positive core distances: scipy drops no edge
    X = np.random.default_rng(5).random((150, 3))
    tree = build_kdtree(X, 5)
    core = core_distances(tree, 3, p)
    for alpha in (1.0, 1.7):
        mst = boruvka_mst(tree, core, alpha, p)
        ref = minimum_spanning_tree(mutual_reachability(X, core, alpha, p))
        assert mst[:, 2].sum() == pytest.approx(ref.sum(), rel=1e-12)


def test_mst_core_distance_one_neighbour_and_zero_core():
    # k = 1 with duplicates gives zero core distances and zero weights
    X = make_data("duplicates", seed=6)
    tree = build_kdtree(X, 4)
    core = core_distances(tree, 1, 2.0)
    assert (core == 0).any()
    mst = boruvka_mst(tree, core, 1.0, 2.0)
    np.testing.assert_array_equal(
        mst, kruskal_reference(mutual_reachability(X, core, 1.0, 2.0))
    )


def test_mst_hand_examples():
    # all points identical: every weight is 0, ties broken by (i, j)
    X = np.zeros((4, 2))
    mst = boruvka_mst(build_kdtree(X, 1), np.zeros(4), 1.0, 2.0)
    np.testing.assert_array_equal(mst, [[0, 1, 0], [0, 2, 0], [0, 3, 0]])

    # 1-d points 0, 1, 3, 6 with core distances 1, 1, 2, 3 (k = 1)
    X = np.array([[3.0], [0.0], [6.0], [1.0]])
    tree = build_kdtree(X, 1)
    core = core_distances(tree, 1, 2.0)
    np.testing.assert_array_equal(core, [2, 1, 3, 1])
    mst = boruvka_mst(tree, core, 1.0, 2.0)
    np.testing.assert_array_equal(mst, [[1, 3, 1], [0, 3, 2], [0, 2, 3]])

    # unit square: four edges of weight 1; (w, i, j) order picks 0-1, 0-2,
    # 1-3 (0-3 and 1-2 are diagonals, 2-3 would close a cycle)
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    mst = boruvka_mst(build_kdtree(X, 1), np.zeros(4), 1.0, 2.0)
    np.testing.assert_array_equal(mst, [[0, 1, 1], [0, 2, 1], [1, 3, 1]])


def test_mst_tiny_inputs():
    one = boruvka_mst(build_kdtree(np.zeros((1, 2)), 5), np.zeros(1), 1.0, 2.0)
    assert one.shape == (0, 3) and one.dtype == np.float64
    X = np.array([[0.0, 0.0], [3.0, 4.0]])
    two = boruvka_mst(build_kdtree(X, 5), np.array([5.0, 5.0]), 0.5, 2.0)
    np.testing.assert_array_equal(two, [[0, 1, 10.0]])


def test_mst_thread_count_invariant():
    X = make_data("grid", seed=7)
    tree = build_kdtree(X, 3)
    core = core_distances(tree, 3, 1.0)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        m1 = boruvka_mst(tree, core, 1.0, 1.0)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        m2 = boruvka_mst(tree, core, 1.0, 1.0)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(m1, m2)


def test_mst_does_not_modify_inputs():
    X = make_data("random", seed=8)
    tree = build_kdtree(X, 5)
    core = core_distances(tree, 3, 2.0)
    copies = [a.copy() for a in tree] + [core.copy()]
    boruvka_mst(tree, core, 1.0, 2.0)
    for before, after in zip(copies, list(tree) + [core]):
        np.testing.assert_array_equal(before, after)


def test_argsort_edges_is_lexicographic():
    rng = np.random.default_rng(9)
    w = rng.integers(0, 3, 50).astype(np.float64)
    a = rng.integers(0, 4, 50)
    b = rng.integers(0, 4, 50)
    np.testing.assert_array_equal(
        argsort_edges(w, a, b), np.lexsort((np.arange(50), b, a, w))
    )


_PLAIN_PYTHON_SCRIPT = """
import json, numpy as np
from flasc_cluster._hdbscan.space_tree import build_kdtree, knn_query
from flasc_cluster._hdbscan.boruvka import boruvka_mst
X = np.random.default_rng(10).integers(0, 4, size=(25, 2)).astype(float)
tree = build_kdtree(X, 3)
d, i = knn_query(tree, 3, 2.0)
print(json.dumps({"d": d.tolist(), "i": i.tolist(),
                  "m": boruvka_mst(tree, d[:, 2].copy(), 1.0, 2.0).tolist()}))
"""


def test_kernels_run_as_plain_python():
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    src = os.path.join(os.path.dirname(__file__), os.pardir, "src")
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.abspath(src), env.get("PYTHONPATH", "")]
    )
    res = subprocess.run(
        [sys.executable, "-c", _PLAIN_PYTHON_SCRIPT],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    )
    plain = json.loads(res.stdout)
    X = np.random.default_rng(10).integers(0, 4, size=(25, 2)).astype(float)
    tree = build_kdtree(X, 3)
    d, i = knn_query(tree, 3, 2.0)
    np.testing.assert_array_equal(plain["d"], d)
    np.testing.assert_array_equal(plain["i"], i)
    np.testing.assert_array_equal(
        plain["m"], boruvka_mst(tree, d[:, 2].copy(), 1.0, 2.0)
    )


def test_scan_leaf_pairs_equals_per_point_minimum():
    from flasc_cluster._hdbscan.boruvka import scan_leaf_pairs

    rng = np.random.default_rng(12)
    for trial in range(20):
        m = int(rng.integers(2, 30))
        # a grid gives ties in distance; few components give ties in weight
        data = rng.integers(0, 3, size=(m + 4, 2)).astype(np.float64)
        idx_array = rng.permutation(m + 4).astype(np.intp)
        comp = rng.integers(0, 3, size=m + 4).astype(np.intp)
        core = rng.integers(0, 2, size=m + 4).astype(np.float64)
        need = rng.random(m + 4) < 0.7
        start, end = 2, 2 + m
        alpha = 1.0 if trial % 2 else 0.7
        cand_w = np.full(m + 4, -5.0)
        cand_j = np.full(m + 4, -7, dtype=np.intp)
        scan_leaf_pairs(
            data, idx_array, comp, core, start, end, alpha, 2.0, need,
            cand_w, cand_j,
        )
        for r in range(m + 4):
            if not (start <= r < end and need[r]):
                assert cand_w[r] == -5.0 and cand_j[r] == -7
                continue
            keys = []
            for j in range(start, end):
                if comp[j] != comp[r]:
                    d = np.sqrt(((data[r] - data[j]) ** 2).sum())
                    w = max(core[r], core[j], d / alpha)
                    oi, oj = idx_array[r], idx_array[j]
                    keys.append((w, min(oi, oj), max(oi, oj), j))
            if not keys:
                assert cand_j[r] == -1 and cand_w[r] == np.inf
            else:
                w, _, _, j = min(keys)
                assert (cand_w[r], cand_j[r]) == (w, j)


@pytest.mark.parametrize("alpha", [1.0, 0.6, 1.3])
def test_mst_equals_kruskal_many_rounds(alpha):
    # clustered data over many small leaves: several Borůvka rounds with
    # mixed and pure leaves, kept candidates and point lower bounds
    rng = np.random.default_rng(13)
    centres = rng.normal(scale=6.0, size=(6, 2))
    X = np.concatenate([c + rng.normal(size=(90, 2)) for c in centres])
    X = np.round(X, 1)  # ties
    tree = build_kdtree(X, 4)
    for k in (1, 5):
        core = core_distances(tree, k, 2.0)
        mst = boruvka_mst(tree, core, alpha, 2.0)
        np.testing.assert_array_equal(
            mst, kruskal_reference(mutual_reachability(X, core, alpha, 2.0))
        )


@pytest.mark.parametrize("kind", DATA_KINDS)
@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("k", [1, 4, 9])
def test_knn_seeded_mst_equals_kruskal(kind, p, k):
    # first-round edges read off the kNN lists: same unique MST, including
    # ties at the k-th distance (grid and duplicate data) and core
    # distances below the last listed distance (a lighter, weighted core)
    X = make_data(kind, seed=17)
    tree = build_kdtree(X, 5)
    knn_dist, knn_ind = knn_query(tree, k, p)
    cores = [knn_dist[:, k - 1].copy()]
    if k > 1:
        cores.append(knn_dist[:, k // 2 - 1 if k > 2 else 0].copy())
    for core in cores:
        mst = boruvka_mst_knn(tree, core, 1.0, p, knn_dist, knn_ind)
        np.testing.assert_array_equal(
            mst, kruskal_reference(mutual_reachability(X, core, 1.0, p))
        )
        np.testing.assert_array_equal(mst, boruvka_mst(tree, core, 1.0, p))


def test_knn_seeding_is_used_and_exact_on_ties():
    # a shuffled square grid: every core distance is a tie at the k-th
    # distance. Seeded rows must hold the brute-force best first-round edge
    # under the (w, i, j) order, most rows must be seeded, and the tree
    # must equal Kruskal's.
    g = np.arange(12, dtype=np.float64)
    X = np.array(np.meshgrid(g, g)).reshape(2, -1).T.copy()
    X = X[np.random.default_rng(3).permutation(X.shape[0])]
    n = X.shape[0]
    tree = build_kdtree(X, 4)
    idx = tree.idx_array
    for k in (2, 3, 4, 5):
        knn_dist, knn_ind = knn_query(tree, k, 2.0)
        core = knn_dist[:, k - 1].copy()
        W = mutual_reachability(X, core, 1.0, 2.0)
        cand_w = np.full(n, np.inf)
        cand_j = np.full(n, -1, dtype=np.intp)
        exact = np.zeros(n, dtype=np.bool_)
        lb = core[idx].copy()
        _seed_from_knn(idx, core[idx].copy(), core, knn_dist, knn_ind, cand_w, cand_j, exact, lb)
        assert exact.mean() > 0.5
        for row in np.flatnonzero(exact):
            i = idx[row]
            keys = [(W[i, j], min(i, j), max(i, j), j) for j in range(n) if j != i]
            w, _, _, j = min(keys)
            assert (cand_w[row], idx[cand_j[row]]) == (w, j)
        np.testing.assert_array_equal(
            boruvka_mst_knn(tree, core, 1.0, 2.0, knn_dist, knn_ind),
            kruskal_reference(W),
        )


def test_knn_seeding_respects_unlisted_ties():
    # point 0's 2 nearest: a (row 10, 0.9) and, of the ties at distance 1,
    # b (row 3) but not c (row 5). b's core is larger than point 0's, c's
    # is not: the best first-round edge of point 0 is (0, 5), which is not
    # in its list, so the list's best candidate (0, 10) must not be taken
    X = np.zeros((12, 2))
    X[10] = (0.9, 0.0)   # a
    X[3] = (0.0, 1.0)    # b
    X[5] = (-1.0, 0.0)   # c
    X[1] = (-1.3, 0.0)   # c's close friend
    X[2] = (1.2, 0.0)    # a's close friend
    for r, t in zip((4, 6, 7, 8, 9, 11), range(6)):
        X[r] = (100.0 + t, 100.0)
    tree = build_kdtree(X, 2)
    knn_dist, knn_ind = knn_query(tree, 2, 2.0)
    assert list(knn_ind[0]) == [10, 3]
    core = knn_dist[:, 1].copy()
    idx = tree.idx_array
    n = X.shape[0]
    cand_w = np.full(n, np.inf)
    cand_j = np.full(n, -1, dtype=np.intp)
    exact = np.zeros(n, dtype=np.bool_)
    _seed_from_knn(idx, core[idx].copy(), core, knn_dist, knn_ind, cand_w, cand_j, exact,
                   core[idx].copy())
    row0 = int(np.flatnonzero(idx == 0)[0])
    assert not exact[row0] or idx[cand_j[row0]] == 5
    W = mutual_reachability(X, core, 1.0, 2.0)
    np.testing.assert_array_equal(
        boruvka_mst_knn(tree, core, 1.0, 2.0, knn_dist, knn_ind), kruskal_reference(W)
    )
