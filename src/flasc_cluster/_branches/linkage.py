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

from .._config import NUMBA_CACHE
from .._kernels.union_find import ds_find


@njit(cache=NUMBA_CACHE, nogil=True)
def centrality_order(centrality):
    """Points sorted by (centrality, index) ascending; returns (order, rank)."""
    order = np.argsort(centrality, kind="mergesort")
    rank = np.empty(order.shape[0], dtype=np.intp)
    for k in range(order.shape[0]):
        rank[order[k]] = k
    return order, rank


@njit(cache=NUMBA_CACHE, nogil=True)
def centrality_spanning_tree(indptr, indices, edge_dist, centrality):
    """Minimum spanning forest of the graph under max-centrality weights.

    ``indptr``/``indices`` (intp) hold the undirected graph as CSR over local
    point ids (both directions present), ``edge_dist`` float64 the distance
    of each CSR entry, or an empty array to skip the partners;
    ``centrality`` float64 (m,). Returns ``(edges float64 (n_edges, 3),
    n_components, partner intp (m,))``: rows ``[a, b, w]`` in merge order
    (w non-decreasing), ``a`` the point that joins at height ``w``;
    ``partner`` each point's nearest earlier neighbour (-1: none, or no
    ``edge_dist``; distance ties by local id).
    """
    m = centrality.shape[0]
    order, rank = centrality_order(centrality)
    parent = np.arange(m)
    size = np.ones(m, dtype=np.intp)
    edges = np.empty((max(m - 1, 0), 3))
    n_edges = 0
    roots = np.empty(m, dtype=np.intp)
    partner = np.full(m, -1, dtype=np.intp)
    keys = np.empty(m, dtype=np.float64)
    with_partners = edge_dist.shape[0] == indices.shape[0]
    for k in range(m):
        i = order[k]
        # distinct components of already-added neighbours
        n_roots = 0
        best = np.inf
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if rank[j] >= k:
                continue
            if with_partners and edge_dist[e] < best:  # sorted: ties keep the smaller id
                best = edge_dist[e]
                partner[i] = j
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
        n_edges = join_components(
            i, roots, n_roots, centrality[i], parent, size, keys, edges, n_edges
        )
    return edges[:n_edges].copy(), m - n_edges, partner


@njit(cache=NUMBA_CACHE, nogil=True)
def join_components(i, roots, n_roots, w, parent, size, keys, edges, n_edges):
    """Unite point ``i`` with the components ``roots[:n_roots]`` at height
    ``w``, largest component first (ties by root id), writing one edge row
    per union into ``edges`` from row ``n_edges``; returns the new row count.
    ``keys`` is scratch space of at least ``n_roots`` entries."""
    m1 = parent.shape[0] + 1.0
    for q in range(n_roots):
        keys[q] = -size[roots[q]] * m1 + roots[q]
    sel = np.argsort(keys[:n_roots])
    for q in range(n_roots):
        r = roots[sel[q]]
        ri = ds_find(parent, i)
        edges[n_edges, 0] = i
        edges[n_edges, 1] = r
        edges[n_edges, 2] = w
        n_edges += 1
        if size[ri] < size[r]:
            parent[ri] = r
            size[r] += size[ri]
        else:
            parent[r] = ri
            size[ri] += size[r]
    return n_edges
