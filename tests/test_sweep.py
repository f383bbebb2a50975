"""The kd-tree sweep of the ``full`` graph against the materialised CSR path.

Reference: the graph built by brute force in numpy (every pair, the reduced
distance accumulated dimension by dimension in ``rdist``'s order, so the
edge test ``d / alpha <= max_dist`` is decided on bit-identical values),
then ``symmetric_csr`` + ``centrality_spanning_tree``, and partners by brute
force over each point's earlier neighbours. The sweep must give
the same components, the same partners where the linkage consults them
(and -1 elsewhere) and the same linkage matrix.
"""

import numpy as np
import pytest

from flasc_cluster import FLASC
from flasc_cluster._branches import detect
from flasc_cluster._branches.graphs import grouped_csr, pair_edge_distances, symmetric_csr
from flasc_cluster._branches.linkage import (
    centrality_order,
    centrality_spanning_tree,
    tied_joiners,
)
from flasc_cluster._branches.sweep import full_graph_pairs, full_graph_spanning_tree
from flasc_cluster._hdbscan.linkage import mst_to_linkage
from flasc_cluster._hdbscan.space_tree import build_kdtree
from flasc_cluster.datasets import make_branching_stars, make_flared_blobs


def _brute_pairs(X, max_dist, alpha, p):
    """Pairs ``i < j`` with ``d_ij / alpha <= max_dist`` (p in {1, 2, inf})."""
    i, j = np.triu_indices(X.shape[0], 1)
    r = np.zeros(i.shape[0])
    for k in range(X.shape[1]):
        t = X[i, k] - X[j, k]
        if p == 2.0:
            r += t * t
        elif p == 1.0:
            r += np.abs(t)
        else:
            r = np.maximum(r, np.abs(t))
    d = np.sqrt(r) if p == 2.0 else r
    keep = d / alpha <= max_dist
    return i[keep].astype(np.intp), j[keep].astype(np.intp), d


def _brute_partners(X, indptr, indices, rank, p):
    """Every point's nearest earlier neighbour (ties by smallest id; -1: none)."""
    m = X.shape[0]
    rows = np.repeat(np.arange(m), np.diff(indptr))
    dist = pair_edge_distances(X, rows, indices, p)
    partner = np.full(m, -1, dtype=np.intp)
    for i in range(m):
        cols = indices[indptr[i]:indptr[i + 1]]  # sorted: argmin keeps the smallest id
        earlier = rank[cols] < rank[i]
        if earlier.any():
            partner[i] = cols[earlier][np.argmin(dist[indptr[i]:indptr[i + 1]][earlier])]
    return partner


def _csr_reference(X, centrality, max_dist, alpha, p):
    """``(edges, n_components, partner)`` of the materialised graph, every
    point's partner included."""
    m = X.shape[0]
    src, dst, _ = _brute_pairs(X, max_dist, alpha, p)
    indptr, indices = symmetric_csr(src, dst, m)
    order, rank = centrality_order(centrality)
    edges, n_comp = centrality_spanning_tree(indptr, indices, order, rank, centrality)
    return edges, n_comp, _brute_partners(X, indptr, indices, rank, p)


def _make_cluster(kind, seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(50, 500))
    if kind == "normal2":
        X = rng.normal(size=(m, 2))
    elif kind == "normal3":
        X = rng.normal(size=(m, 3))
    elif kind == "normal8":
        X = rng.normal(size=(m, 8))
    elif kind == "duplicates":
        base = rng.normal(size=(m // 4 + 1, 3))
        X = base[rng.integers(0, base.shape[0], m)]
    elif kind == "grid2":
        X = rng.integers(0, 8, size=(m, 2)).astype(np.float64)
    elif kind == "grid3":
        X = rng.integers(0, 4, size=(m, 3)).astype(np.float64)
    else:
        raise ValueError(kind)
    return np.ascontiguousarray(X), rng


CASES = [
    (kind, p, alpha, seed)
    for kind in ("normal2", "normal3", "normal8", "duplicates", "grid2", "grid3")
    for p in (1.0, 2.0, np.inf)
    for alpha, seed in ((1.0, 0), (1.0, 1), (0.7, 2), (1.3, 3))
]


@pytest.mark.parametrize("kind, p, alpha, seed", CASES)
def test_sweep_matches_csr_path(kind, p, alpha, seed):
    X, rng = _make_cluster(kind, seed)
    m = X.shape[0]
    centrality = 1.0 / (np.linalg.norm(X - X.mean(axis=0), axis=1) + 0.5)
    if seed % 2:
        centrality = np.round(centrality, 1)  # many centrality ties
    _, _, dist = _brute_pairs(X, np.inf, alpha, p)
    # bounds that hit pair distances exactly (ties at the bound), a generous
    # one (few components) and a tight one (many components)
    candidates = [dist[rng.integers(dist.shape[0])] / alpha for _ in range(2)]
    candidates += [np.quantile(dist, 0.3) / alpha, np.quantile(dist, 0.01) / alpha]
    for max_dist in candidates:
        for leaf_size in (1, 5, 40):
            tree = build_kdtree(X, leaf_size)
            edges, n_comp, partner = full_graph_spanning_tree(
                tree, centrality, float(max_dist), alpha, p
            )
            ref_edges, ref_comp, ref_partner = _csr_reference(
                X, centrality, float(max_dist), alpha, p
            )
            assert n_comp == ref_comp
            used = tied_joiners(edges, m)
            np.testing.assert_array_equal(partner[used], ref_partner[used])
            unused = np.ones(m, dtype=bool)
            unused[used] = False
            assert (partner[unused] == -1).all()
            np.testing.assert_array_equal(edges[:, [0, 2]], ref_edges[:, [0, 2]])
            np.testing.assert_array_equal(
                mst_to_linkage(edges, m, partner), mst_to_linkage(ref_edges, m, ref_partner)
            )


@pytest.mark.parametrize("kind", ["normal2", "normal3", "duplicates", "grid2"])
def test_sweep_on_a_cut_tree_equals_the_built_tree(kind):
    """The batched pass cuts a cluster's kd-tree from the fit's instead of
    building one (nodes may be empty, leaves unequal); the sweep's edges
    and the partners must not depend on the tree."""
    from flasc_cluster._hdbscan.space_tree import subset_kdtree, subset_root

    X, rng = _make_cluster(kind, 7)
    n = X.shape[0]
    big = build_kdtree(X, 5)
    row_of = np.empty(n, dtype=np.intp)
    row_of[big.idx_array] = np.arange(n)
    members = np.flatnonzero(X[:, 0] < np.quantile(X[:, 0], 0.6))
    rows = np.sort(row_of[members])
    local = np.full(n, -1, dtype=np.intp)
    local[members] = np.arange(members.shape[0])
    node, levels = subset_root(
        big.node_start, big.node_end, int(np.log2(big.node_start.shape[0] + 1)), rows
    )
    cut = subset_kdtree(big.data, big.node_end, node, levels, rows, local[big.idx_array[rows]])
    Xm = np.ascontiguousarray(X[members])
    built = build_kdtree(Xm, 40)
    centrality = np.round(1.0 / (np.linalg.norm(Xm - Xm.mean(axis=0), axis=1) + 0.5), 1)
    max_dist = float(np.quantile(np.linalg.norm(Xm[:, None] - Xm[None], axis=2), 0.2))
    a = full_graph_spanning_tree(cut, centrality, max_dist, 1.0, 2.0)
    b = full_graph_spanning_tree(built, centrality, max_dist, 1.0, 2.0)
    assert tied_joiners(a[0], Xm.shape[0]).shape[0] > 0  # partners are consulted
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]
    np.testing.assert_array_equal(a[2], b[2])


@pytest.mark.parametrize("p", [1.0, 2.0, np.inf])
@pytest.mark.parametrize("kind", ["normal3", "grid3", "duplicates"])
def test_full_graph_pairs_matches_brute_force(kind, p):
    X, _ = _make_cluster(kind, 5)
    _, _, dist = _brute_pairs(X, np.inf, 1.0, p)
    for alpha in (1.0, 0.7):
        max_dist = float(np.quantile(dist, 0.2)) / alpha
        src, dst, _ = _brute_pairs(X, max_dist, alpha, p)
        got_src, got_dst = full_graph_pairs(build_kdtree(X, 5), max_dist, alpha, p)
        assert np.all(got_src < got_dst)
        assert sorted(zip(got_src.tolist(), got_dst.tolist())) == sorted(
            zip(src.tolist(), dst.tolist())
        )


def test_sweep_tiny():
    # points 0..4 on a line; only neighbours at distance <= 1.5 are joined
    X = np.array([[0.0], [1.0], [2.0], [5.0], [6.0]])
    centrality = np.array([0.1, 0.5, 0.3, 0.2, 0.4])
    edges, n_comp, partner = full_graph_spanning_tree(
        build_kdtree(X, 1), centrality, 1.5, 1.0, 2.0
    )
    # order of addition: 0, 3, 2, 4, 1
    np.testing.assert_array_equal(
        edges, [[4.0, 3.0, 0.4], [1.0, 0.0, 0.5], [1.0, 2.0, 0.5]]
    )
    assert n_comp == 2
    # point 1 joins two components at one height: its partner decides the
    # order; point 4's single join needs none
    np.testing.assert_array_equal(tied_joiners(edges, 5), [1])
    np.testing.assert_array_equal(partner, [-1, 0, -1, -1, -1])


def test_sweep_singleton_and_zero_bound():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    centrality = np.array([0.2, 0.1, 0.3])
    edges, n_comp, partner = full_graph_spanning_tree(
        build_kdtree(X, 40), centrality, 0.0, 1.0, 2.0
    )
    np.testing.assert_array_equal(edges, [[0.0, 1.0, 0.2]])
    assert n_comp == 2
    np.testing.assert_array_equal(partner, [-1, -1, -1])
    edges, n_comp, partner = full_graph_spanning_tree(
        build_kdtree(X[:1], 40), centrality[:1], 1.0, 1.0, 2.0
    )
    assert edges.shape == (0, 3) and n_comp == 1
    np.testing.assert_array_equal(partner, [-1])


# ------------------------------------------------------------- end to end


def _grid_data():
    rng = np.random.default_rng(7)
    arms = [
        np.column_stack((np.arange(40), np.zeros(40))),
        np.column_stack((np.zeros(40), np.arange(40))),
        np.column_stack((np.arange(40), np.arange(40))),
    ]
    X = np.vstack(arms + [rng.integers(-2, 3, size=(200, 2))]).astype(np.float64)
    return np.vstack((X, X[:60]))  # duplicates


FIT_CASES = [
    ("flared", dict(min_cluster_size=10)),
    ("flared", dict(min_cluster_size=15, alpha=0.8, metric="manhattan")),
    ("stars3", dict(min_cluster_size=15, metric="chebyshev")),
    ("stars3", dict(min_cluster_size=15, metric="minkowski", p=3)),
    ("grid", dict(min_cluster_size=8, allow_single_cluster=True)),
    ("grid", dict(min_cluster_size=8, alpha=1.5, metric="chebyshev",
                  allow_single_cluster=True)),
]


def _data(name):
    if name == "flared":
        return make_flared_blobs(2000, 2, random_state=0)[0]
    if name == "stars3":
        return make_branching_stars(1200, 3, random_state=2)[0]
    return _grid_data()


def _fit(monkeypatch, X, sweep, **params):
    monkeypatch.setattr(detect, "_USE_FULL_SWEEP", sweep)
    return FLASC(branch_detection_method="full", **params).fit(X)


@pytest.mark.parametrize("name, params", FIT_CASES)
def test_flasc_full_labels_unchanged(monkeypatch, name, params):
    X = _data(name)
    swept = _fit(monkeypatch, X, True, **params)
    csr = _fit(monkeypatch, X, False, **params)
    assert all(c.graph is None for c in swept._result.branches.clusters if c.points.size > 1)
    for attr in (
        "labels_", "probabilities_", "cluster_labels_", "branch_labels_",
        "branch_probabilities_", "cluster_centralities_",
    ):
        np.testing.assert_array_equal(getattr(swept, attr), getattr(csr, attr), err_msg=attr)
    for a, b in zip(swept.branch_linkage_trees_, csr.branch_linkage_trees_):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    # the lazily rebuilt graphs are the ones the CSR path materialised
    for a, b in zip(swept.cluster_approximation_graphs_, csr.cluster_approximation_graphs_):
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


@pytest.mark.parametrize("m, n_edges", [(1, 3), (30, 500), (50, 6000), (400, 3000)])
def test_symmetric_csr_equals_scipy(m, n_edges):
    # duplicates, both directions, self-loops; rows short (insertion sort)
    # and long (> 64 entries) alike
    from scipy.sparse import coo_matrix

    rng = np.random.default_rng(m)
    src = rng.integers(0, m, n_edges).astype(np.intp)
    dst = rng.integers(0, m, n_edges).astype(np.intp)
    indptr, indices = symmetric_csr(src, dst, m)
    keep = src != dst
    ref = coo_matrix(
        (np.ones(2 * keep.sum()), (np.r_[src[keep], dst[keep]], np.r_[dst[keep], src[keep]])),
        shape=(m, m),
    ).tocsr()
    ref.sum_duplicates()
    ref.sort_indices()
    np.testing.assert_array_equal(indptr, ref.indptr)
    np.testing.assert_array_equal(indices, ref.indices)


@pytest.mark.parametrize("m, n_edges", [(1, 3), (30, 500), (400, 3000)])
def test_grouped_csr_groups_each_edge_by_its_source(m, n_edges):
    rng = np.random.default_rng(m + 1)
    src = rng.integers(0, m, n_edges).astype(np.intp)
    dst = rng.integers(0, m, n_edges).astype(np.intp)
    indptr, indices = grouped_csr(src, dst, m)
    assert indptr[-1] == n_edges
    for i in range(m):
        # each row in edge order
        np.testing.assert_array_equal(indices[indptr[i]:indptr[i + 1]], dst[src == i])


@pytest.mark.parametrize("visit", ["ids", "shuffled"])
def test_core_graph_edges_point_from_the_later_to_the_earlier_end(visit):
    """Any reading order of the neighbour lists gives the same edges."""
    from flasc_cluster._branches.graphs import core_graph_edges

    rng = np.random.default_rng(5)
    n, k = 300, 6
    labels = rng.integers(-1, 3, n)
    points = np.flatnonzero(labels == 1).astype(np.intp)
    m = points.shape[0]
    local = np.full(n, -1, dtype=np.intp)
    local[points] = np.arange(m)
    neighbors = rng.integers(0, n, (n, k)).astype(np.intp)
    mst_src = np.arange(m - 1, dtype=np.intp)
    mst_dst = mst_src + 1
    rank = rng.permutation(m).astype(np.intp)
    order = np.arange(m) if visit == "ids" else rng.permutation(m)
    src, dst = core_graph_edges(
        points, local, neighbors, mst_src, mst_dst, rank, order.astype(np.intp)
    )
    assert (rank[src] > rank[dst]).all()
    # the same undirected edges as an unoriented reading of the inputs
    expected = {frozenset(e) for e in zip(mst_src.tolist(), mst_dst.tolist())}
    for i in range(m):
        for g in neighbors[points[i]]:
            if local[g] >= 0 and local[g] != i:
                expected.add(frozenset((i, int(local[g]))))
    got = {frozenset(e) for e in zip(src.tolist(), dst.tolist())}
    assert got == expected
    # each (i, neighbour) pair and each tree edge appears once
    assert src.shape[0] == (m - 1) + sum(
        int(local[g] >= 0 and local[g] != i) for i in range(m) for g in neighbors[points[i]]
    )


def _tied_csr(kind, seed, quantile):
    """A cluster with tied centralities (rounded to one decimal), its graph of
    the pairs within the ``quantile`` of all distances as CSR and its
    spanning forest: ``(X, rng, centrality, src, dst, indptr, indices,
    order, rank, edges, n_components)``."""
    X, rng = _make_cluster(kind, seed)
    centrality = np.round(1.0 / (np.linalg.norm(X - X.mean(axis=0), axis=1) + 0.5), 1)
    _, _, dist = _brute_pairs(X, np.inf, 1.0, 2.0)
    src, dst, _ = _brute_pairs(X, float(np.quantile(dist, quantile)), 1.0, 2.0)
    indptr, indices = symmetric_csr(src, dst, X.shape[0])
    order, rank = centrality_order(centrality)
    edges, n_comp = centrality_spanning_tree(indptr, indices, order, rank, centrality)
    return X, rng, centrality, src, dst, indptr, indices, order, rank, edges, n_comp


@pytest.mark.parametrize("kind", ["grid2", "grid3", "duplicates", "normal3"])
def test_csr_partners_give_the_full_partner_linkage(kind):
    """The CSR path measures only the joiners' rows; their partners equal
    those found with every edge distance, and so does the linkage."""
    from flasc_cluster._branches.detect import _csr_partners
    from flasc_cluster._hdbscan.space import KDSpace

    X, _, centrality, src, dst, indptr, indices, order, rank, edges, n_comp = _tied_csr(
        kind, 11, 0.6
    )
    m = X.shape[0]
    full = _brute_partners(X, indptr, indices, rank, 2.0)
    assert n_comp == 1
    used = tied_joiners(edges, m)
    assert used.shape[0] > 0
    partial = _csr_partners(KDSpace(X, 2.0, 40), np.arange(m), indptr, indices, rank, used)
    np.testing.assert_array_equal(partial[used], full[used])
    np.testing.assert_array_equal(
        mst_to_linkage(edges, m, partial), mst_to_linkage(edges, m, full)
    )

def _renumbering(rng, m):
    """A random renumbering: ``old[q]`` is new id q's old id, ``new_id`` its
    inverse."""
    old = rng.permutation(m)
    new_id = np.empty(m, dtype=np.intp)
    new_id[old] = np.arange(m)
    return old, new_id


def _assert_maps_back(old, n_edges, n_partner, edges, partner):
    """Spanning-forest edges and partners of the renumbered points, mapped
    back through ``old``, equal those of the original numbering."""
    mapped = n_edges.copy()
    mapped[:, :2] = old[n_edges[:, :2].astype(np.intp)]
    np.testing.assert_array_equal(mapped, edges)
    back = np.full(old.shape[0], -1, dtype=np.intp)
    back[old] = np.where(n_partner >= 0, old[np.maximum(n_partner, 0)], -1)
    np.testing.assert_array_equal(back, partner)


@pytest.mark.parametrize("kind", ["grid2", "grid3", "duplicates", "normal2"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_renumbered_sweep_and_partners_equal_the_original_numbering(kind, seed):
    """The batched ``core`` path renumbers each cluster (kd-tree order) and
    breaks ties by the original ids: mapped back, its spanning forest and
    partners equal those of the original numbering, on data whose
    centralities, component sizes and distances tie."""
    from flasc_cluster._branches.batch import csr_partners
    from flasc_cluster._branches.linkage import renumbered_spanning_tree

    X, rng, centrality, src, dst, indptr, indices, order, rank, edges, n_comp = _tied_csr(
        kind, seed, 0.05
    )
    m = X.shape[0]
    ids = np.arange(m)
    partner = csr_partners(X, ids, indptr, indices, rank, tied_joiners(edges, m), ids, 2.0)

    old, new_id = _renumbering(rng, m)
    n_indptr, n_indices = symmetric_csr(new_id[src], new_id[dst], m)
    n_edges, n_n_comp = renumbered_spanning_tree(
        n_indptr, n_indices, new_id[order], rank[old], centrality[old], old
    )
    n_partner = csr_partners(
        X, old, n_indptr, n_indices, rank[old], tied_joiners(n_edges, m), old, 2.0
    )
    assert n_n_comp == n_comp
    _assert_maps_back(old, n_edges, n_partner, edges, partner)
    # the data must exercise the tie rules the ids decide
    assert tied_joiners(edges, m).shape[0] > 0


@pytest.mark.parametrize("kind", ["grid2", "grid3", "duplicates", "normal2"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_renumbered_full_sweep_and_partners_equal_the_original_numbering(kind, seed):
    """The batched ``full`` path sweeps each cluster renumbered in its tree's
    row order, breaking ties by the original ids: mapped back, the spanning
    forest and every point's partner equal those of the original numbering."""
    from flasc_cluster._branches.sweep import (
        earlier_partners_serial,
        full_sweep,
        renumbered_full_sweep,
        renumbered_partners,
    )

    X, rng = _make_cluster(kind, seed)
    m = X.shape[0]
    centrality = np.round(1.0 / (np.linalg.norm(X - X.mean(axis=0), axis=1) + 0.5), 1)
    _, _, dist = _brute_pairs(X, np.inf, 1.0, 2.0)
    max_dist = float(np.quantile(dist, 0.05))
    tree = build_kdtree(X, 8)
    edges, rank, _ = full_sweep(tree, centrality, max_dist, 1.0, 2.0)
    every_row = np.arange(m)
    partner = earlier_partners_serial(tree, rank, max_dist, 1.0, 2.0, every_row)

    old, new_id = _renumbering(rng, m)
    order, _ = centrality_order(centrality)
    n_tree = build_kdtree(np.ascontiguousarray(X[old]), 8)
    n_edges, n_rank, _ = renumbered_full_sweep(
        n_tree, centrality[old], new_id[order], rank[old], old, max_dist, 1.0, 2.0
    )
    n_partner = renumbered_partners(n_tree, n_rank, max_dist, 1.0, 2.0, every_row, old)
    _assert_maps_back(old, n_edges, n_partner, edges, partner)
    assert tied_joiners(edges, m).shape[0] > 0
