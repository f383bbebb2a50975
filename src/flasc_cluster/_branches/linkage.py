"""Single linkage over a cluster's approximation graph (kernel module).

Every edge of the graph weighs the larger centrality of its two ends, so the
single-linkage merges are found by adding points in order of increasing
centrality (most eccentric first) and uniting each point with the
components of its already-added neighbours: one union-find sweep, no edge
sort. Merges at one height are ordered by a fixed rule (largest neighbour
component first, ties by smallest root id), so that small components that
meet at a split fall out of the parent cluster rather than joining one of
the children.
"""

import numpy as np
from numba import njit

from .._config import NO_REFCOUNT, NUMBA_CACHE
from .._hdbscan.linkage import mst_to_linkage_sized
from .._kernels.prefetch import AHEAD, prefetch_row
from .._kernels.sorting import sort_pairs, stable_argsort
from .._kernels.union_find import ds_find


@njit(cache=NUMBA_CACHE, nogil=True)
def centrality_order(centrality):
    """Points sorted by (centrality, index) ascending; returns (order, rank)."""
    order = stable_argsort(centrality)
    rank = np.empty(order.shape[0], dtype=np.intp)
    for k in range(order.shape[0]):
        rank[order[k]] = k
    return order, rank


@njit(cache=NUMBA_CACHE, nogil=True)
def centrality_spanning_tree(indptr, indices, order, rank, centrality):
    """Minimum spanning forest of the graph under max-centrality weights.

    ``indptr``/``indices`` (intp) hold the undirected graph as CSR over local
    point ids; row ``i`` must hold at least the neighbours ranked before
    ``i`` (both directions present, or only those, as
    :func:`~flasc_cluster._branches.graphs.grouped_csr` stores them;
    order and repeats within a row do not matter); ``order``, ``rank`` as returned by
    :func:`centrality_order` for ``centrality`` float64 (m,). Returns
    ``(edges float64 (n_edges, 3), n_components)``: rows ``[a, b, w]`` in
    merge order (w non-decreasing), ``a`` the point that joins at height
    ``w``. The partners the linkage needs come from :func:`tied_joiners`.
    """
    return renumbered_spanning_tree(
        indptr, indices, order, rank, centrality, np.arange(centrality.shape[0])
    )


@njit(cache=NUMBA_CACHE, nogil=True, **NO_REFCOUNT)
def _spanning_tree_points(indptr, indices, order, rank, centrality, ids, parent, size, edges,
                          roots, keys):
    """The loop of :func:`renumbered_spanning_tree` over the points in
    centrality order, on the arrays it allocates (``NO_REFCOUNT``); returns
    the number of edges written."""
    m = centrality.shape[0]
    n_edges = np.intp(0)  # not a literal: callees compile once
    for k in range(m):
        i = order[k]
        if k + AHEAD < m:
            # rows are visited in centrality order, scattered over the CSR
            prefetch_row(indices, indptr[order[k + AHEAD]])
        # distinct components of already-added neighbours
        n_roots = np.intp(0)
        # unsigned positions, as in ds_find
        for e in range(indptr[np.uintp(i)], indptr[np.uintp(i) + np.uintp(1)]):
            j = indices[np.uintp(e)]
            if rank[np.uintp(j)] >= k:
                continue
            r = ds_find(parent, j)
            seen = False
            for q in range(n_roots):
                if roots[q] == r:
                    seen = True
                    break
            if not seen:
                roots[n_roots] = r
                n_roots += 1
        if n_roots == 0:
            continue
        if n_roots == 1:
            n_edges = join_one(i, roots[0], centrality[i], parent, size, edges, n_edges)
            continue
        n_edges = join_components(
            i, roots, n_roots, centrality[i], parent, size, keys, edges, n_edges, ids
        )
    return n_edges


@njit(cache=NUMBA_CACHE, nogil=True)
def renumbered_spanning_tree(indptr, indices, order, rank, centrality, ids):
    """:func:`centrality_spanning_tree` of a graph whose points were
    renumbered: ``ids`` intp (m,) each point's id in the original numbering
    (a permutation), used wherever the rule breaks a tie by id (components of
    equal size join in the order of their roots' original ids). Every other
    decision depends on ranks and sizes only, so the edges, mapped back
    through ``ids``, equal those of the original numbering.
    """
    m = centrality.shape[0]
    parent = np.arange(m)
    size = np.ones(m, dtype=np.intp)
    edges = np.empty((max(m - 1, 0), 3))
    roots = np.empty(m, dtype=np.intp)
    keys = np.empty(m, dtype=np.float64)
    n_edges = _spanning_tree_points(
        indptr, indices, order, rank, centrality, ids, parent, size, edges, roots, keys,
    )
    return edges[:n_edges].copy(), m - n_edges


@njit(cache=NUMBA_CACHE, inline="always")
def join_one(i, r, w, parent, size, edges, n_edges):
    """Unite point ``i``'s component with the component of root ``r`` at
    height ``w`` (union by size), writing edge row ``n_edges``; returns
    ``n_edges + 1``."""
    ri = ds_find(parent, i)
    edges[n_edges, 0] = i
    edges[n_edges, 1] = r
    edges[n_edges, 2] = w
    # unsigned positions, as in ds_find
    ri_u = np.uintp(ri)
    r_u = np.uintp(r)
    if size[ri_u] < size[r_u]:
        parent[ri_u] = r
        size[r_u] += size[ri_u]
    else:
        parent[r_u] = ri
        size[ri_u] += size[r_u]
    return n_edges + 1


@njit(cache=NUMBA_CACHE, nogil=True)
def join_components(i, roots, n_roots, w, parent, size, keys, edges, n_edges, ids):
    """Unite point ``i`` with the components ``roots[:n_roots]`` at height
    ``w``, largest component first (ties by the roots' ``ids``: intp, the
    points' ids in the numbering whose order decides), writing one edge row
    per union into ``edges`` from row ``n_edges``; returns the new row count.
    ``keys`` is scratch space of at least ``n_roots`` entries, and
    ``roots[:n_roots]`` is left in that order. (The sweeps call
    :func:`join_one` themselves for a single component, nearly every
    point: a call per point costs more than the union.) Allocates nothing
    (:func:`~flasc_cluster._kernels.sorting.sort_pairs`): its callers run without reference counting,
    where the array a sort returned was never freed."""
    m1 = parent.shape[0] + 1.0
    for q in range(n_roots):
        keys[q] = -size[roots[q]] * m1 + ids[roots[q]]
    sort_pairs(keys, roots, n_roots)
    for q in range(n_roots):
        n_edges = join_one(i, roots[q], w, parent, size, edges, n_edges)
    return n_edges


@njit(cache=NUMBA_CACHE, nogil=True)
def tied_joiners(edges, m):
    """Distinct points ``a`` (column 0) of the edges whose weight another edge
    shares, the only points whose partner the linkage consults.

    ``edges`` float64 (n_edges, 3) with non-decreasing weights; a single
    point in a group of equal weights merges with its partner's component
    first (:func:`~flasc_cluster._hdbscan.linkage.mst_to_linkage_sized`);
    the other single points of such a group had no earlier neighbour when
    they were added, so their partner is -1 anyway.
    """
    n_edges = edges.shape[0]
    marked = np.zeros(m, dtype=np.bool_)
    out = np.empty(n_edges, dtype=np.intp)
    count = 0
    start = 0
    while start < n_edges:
        end = start + 1
        while end < n_edges and edges[end, 2] == edges[start, 2]:
            end += 1
        if end - start > 1:
            for e in range(start, end):
                a = np.intp(edges[e, 0])
                if not marked[a]:
                    marked[a] = True
                    out[count] = a
                    count += 1
        start = end
    return out[:count].copy()


@njit(cache=NUMBA_CACHE, nogil=True)
def hierarchy_linkage(joins, tied, centrality, point_size):
    """The linkage matrix of a spanning tree kept in compact form.

    ``joins`` (integer (m - 1, 2)): the tree's rows ``[a, b]`` in merge
    order, as :func:`centrality_spanning_tree` gives them; each weighs
    ``centrality[a]``, the centrality of the point that joins (every sweep
    weighs it so). ``tied`` (intp (k, 2)): rows ``[point, partner]`` of the
    points that have a partner (:func:`tied_joiners`), -1 for the others;
    ``point_size`` as in
    :func:`~flasc_cluster._hdbscan.linkage.mst_to_linkage_sized`, which
    gives the result: the linkage of the full ``[a, b, w]`` rows.
    """
    m = centrality.shape[0]
    edges = np.empty((joins.shape[0], 3))
    for e in range(joins.shape[0]):
        a = np.intp(joins[e, 0])
        edges[e, 0] = a
        edges[e, 1] = joins[e, 1]
        edges[e, 2] = centrality[a]
    partner = np.full(m, -1, dtype=np.intp)
    for t in range(tied.shape[0]):
        partner[tied[t, 0]] = tied[t, 1]
    return mst_to_linkage_sized(edges, m, partner, point_size)
