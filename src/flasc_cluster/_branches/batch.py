"""The branch pass of many clusters in one parallel kernel (kernel module).

Data with many small clusters spends most of a per-cluster branch pass in
Python and in launching kernels. These kernels run whole clusters, one per
task of a parallel loop, each on one thread with the serial variants of the
per-cluster kernels, so every cluster gets exactly the per-cluster result:
centralities, spanning forest, partners and linkage matrix.

Clusters are given as ``points`` (intp, the clusters' global ids one after
the other) with ``bounds`` (intp (n_clusters + 1,)); cluster ``b`` has
``m_b`` points and its spanning-forest rows and linkage rows start at
``bounds[b] - b`` in the outputs (``m_b - 1`` rows each).
"""

import numpy as np
from numba import njit, prange

from .._config import NUMBA_CACHE
from .._hdbscan.linkage import mst_to_linkage_sized
from .._hdbscan.select import flat_selection
from .._hdbscan.space_tree import (
    build_kdtree_serial,
    key_less,
    rdist,
    rdist_to_dist,
    row_distances,
)
from .graphs import _csr_raw, core_graph_edges
from .linkage import centrality_order, centrality_spanning_tree, tied_joiners
from .sweep import earlier_partners_serial, full_sweep


@njit(cache=NUMBA_CACHE, nogil=True)
def centroid_centrality(X, points, centroid, p):
    """``1 / distance`` of each ``X[points]`` row to ``centroid`` (inf at
    distance 0), the distance formed as the kd-tree kernels form it."""
    out = row_distances(X, centroid, points, p)
    for t in range(out.shape[0]):
        out[t] = np.inf if out[t] == 0.0 else 1.0 / out[t]
    return out


@njit(cache=NUMBA_CACHE, nogil=True)
def csr_partners(X, points, indptr, indices, rank, joiners, p):
    """Nearest neighbour ranked before it (local id; distance ties by smallest
    id; -1: none) of each of the ``joiners`` (local ids) in a CSR graph over
    local ids, -1 for every other point; distances of ``X[points]`` rows as
    the kd-tree kernels form them."""
    m = points.shape[0]
    partner = np.full(m, -1, dtype=np.intp)
    for t in range(joiners.shape[0]):
        i = joiners[t]
        best_d = np.inf
        best_j = -1
        x = X[points[i]]
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if rank[j] >= rank[i]:
                continue
            d = rdist_to_dist(rdist(x, X[points[j]], p), p)
            if key_less(d, j, best_d, best_j):
                best_d = d
                best_j = j
        partner[i] = best_j
    return partner


@njit(cache=NUMBA_CACHE, nogil=True)
def _new_outputs(total, n_clusters):
    """Output arrays of a batch (see :func:`full_branch_batch`)."""
    return (
        np.empty(total),  # centrality
        np.zeros((total - n_clusters, 3)),  # spanning-forest edges
        np.zeros(n_clusters, dtype=np.intp),  # edge count
        np.zeros((total - n_clusters, 4)),  # linkage
        np.full(total, -1, dtype=np.intp),  # branch labels
        np.zeros(total),  # branch probabilities
        np.zeros(total),  # persistence (first n_selected of each cluster)
        np.zeros(total, dtype=np.intp),  # selected condensed-tree ids (same rows)
        np.zeros(n_clusters, dtype=np.intp),  # n_selected
        np.zeros(2 * total, dtype=np.intp),  # condensed tree: parent
        np.zeros(2 * total, dtype=np.intp),  # child
        np.zeros(2 * total),  # lambda_val
        np.zeros(2 * total, dtype=np.intp),  # child_size
        np.zeros(n_clusters, dtype=np.intp),  # condensed-tree rows
    )


@njit(cache=NUMBA_CACHE, nogil=True)
def _store(b, start, m, centrality, edges, partner, selection, out):
    """Write cluster ``b``'s results into ``out``; with a connected graph also
    its linkage matrix and its branch selection (``selection`` as in
    :func:`full_branch_batch`)."""
    row = start - b
    out[0][start:start + m] = centrality
    n_edges = edges.shape[0]
    out[1][row:row + n_edges] = edges
    out[2][b] = n_edges
    if n_edges < m - 1:
        return
    linkage = mst_to_linkage_sized(edges, m, partner, np.ones(m, dtype=np.intp))
    out[3][row:row + n_edges] = linkage
    min_size, leaf, allow_single, epsilon, persistence_threshold, max_size = selection
    (labels, probabilities, persistence, parent, child, lambda_val, child_size,
     selected_ids) = flat_selection(
        linkage, np.ones(m, dtype=np.intp), min_size, leaf, allow_single, epsilon,
        persistence_threshold, max_size,
    )
    out[4][start:start + m] = labels
    out[5][start:start + m] = probabilities
    n_selected = selected_ids.shape[0]
    out[6][start:start + n_selected] = persistence
    out[7][start:start + n_selected] = selected_ids
    out[8][b] = n_selected
    n_rows = parent.shape[0]
    out[9][2 * start:2 * start + n_rows] = parent
    out[10][2 * start:2 * start + n_rows] = child
    out[11][2 * start:2 * start + n_rows] = lambda_val
    out[12][2 * start:2 * start + n_rows] = child_size
    out[13][b] = n_rows


@njit(cache=NUMBA_CACHE, nogil=True)
def _full_one(X, points, bounds, centroids, max_dists, alpha, p, leaf_size, selection, b,
              out):
    start = bounds[b]
    pts = points[start:bounds[b + 1]]
    m = pts.shape[0]
    centrality = centroid_centrality(X, pts, centroids[b], p)
    data = np.empty((m, X.shape[1]))
    for t in range(m):
        data[t] = X[pts[t]]
    tree = build_kdtree_serial(data, leaf_size)
    edges, rank, rows = full_sweep(tree, centrality, max_dists[b], alpha, p)
    partner = earlier_partners_serial(tree, rank, max_dists[b], alpha, p, rows)
    _store(b, start, m, centrality, edges, partner, selection, out)


@njit(cache=NUMBA_CACHE, nogil=True, parallel=True)
def full_branch_batch(X, points, bounds, centroids, max_dists, alpha, p, leaf_size, selection):
    """Branch hierarchies and selections of clusters with ``full`` graphs on a
    kd-tree space.

    ``X`` float64 (n, d); ``points``/``bounds`` as in the module docstring
    (every cluster with at least 2 points); ``centroids`` float64
    (n_clusters, d); ``max_dists`` float64 (n_clusters,), each cluster's
    bound on ``d_ij / alpha``; ``selection`` the tuple ``(min_branch_size,
    leaf_selection, allow_single_branch, epsilon, persistence,
    max_branch_size)``. Each cluster gets
    :func:`~flasc_cluster._branches.sweep.full_graph_spanning_tree` on a
    kd-tree of ``leaf_size`` over its points, then, if its graph is
    connected, the linkage matrix and
    :func:`~flasc_cluster._hdbscan.select.flat_selection`. Returns the
    tuple of :func:`_new_outputs`: per point (rows ``bounds[b]:bounds[b+1]``)
    centrality, branch label and probability; per cluster ``m - 1`` rows of
    edges and linkage from ``bounds[b] - b``, the persistence and selected
    ids from ``bounds[b]``, the condensed tree from ``2 * bounds[b]``, each
    with its count.
    """
    n_clusters = bounds.shape[0] - 1
    out = _new_outputs(points.shape[0], n_clusters)
    for b in prange(n_clusters):
        _full_one(X, points, bounds, centroids, max_dists, alpha, p, leaf_size, selection, b,
                  out)
    return out


@njit(cache=NUMBA_CACHE, nogil=True)
def _core_one(X, points, bounds, centroids, p, local, neighbors, mst_src, mst_dst,
              mst_bounds, selection, b, out):
    start = bounds[b]
    pts = points[start:bounds[b + 1]]
    m = pts.shape[0]
    centrality = centroid_centrality(X, pts, centroids[b], p)
    src, dst = core_graph_edges(
        pts, local, neighbors, mst_src[mst_bounds[b]:mst_bounds[b + 1]],
        mst_dst[mst_bounds[b]:mst_bounds[b + 1]],
    )
    # unsorted rows with duplicates: the sweep and the partners do not
    # depend on the order of a row, and count each neighbour component once
    indptr, indices = _csr_raw(src, dst, m)
    order, rank = centrality_order(centrality)
    edges, _ = centrality_spanning_tree(indptr, indices, order, rank, centrality)
    partner = csr_partners(X, pts, indptr, indices, rank, tied_joiners(edges, m), p)
    _store(b, start, m, centrality, edges, partner, selection, out)


@njit(cache=NUMBA_CACHE, nogil=True, parallel=True)
def core_branch_batch(X, points, bounds, centroids, p, local, neighbors, mst_src, mst_dst,
                      mst_bounds, selection):
    """:func:`full_branch_batch` for clusters with ``core`` graphs.

    ``local`` intp (n,) each point's local id in its own cluster (-1 for
    noise), ``neighbors`` intp (n, k) the fit's neighbour lists,
    ``mst_src``/``mst_dst`` the in-cluster spanning-tree edges in local ids,
    cluster ``b``'s at ``mst_bounds[b]:mst_bounds[b + 1]``.
    """
    n_clusters = bounds.shape[0] - 1
    out = _new_outputs(points.shape[0], n_clusters)
    for b in prange(n_clusters):
        _core_one(X, points, bounds, centroids, p, local, neighbors, mst_src, mst_dst,
                  mst_bounds, selection, b, out)
    return out
