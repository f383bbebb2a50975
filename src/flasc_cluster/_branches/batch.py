"""The branch pass of many clusters per kernel call (kernel module).

Data with many small clusters spends most of a per-cluster branch pass in
Python and in launching kernels. These kernels run a list of whole
clusters, one after the other on one thread, with the serial variants of
the per-cluster kernels, so every cluster gets exactly the per-cluster
result: centralities, spanning tree (or forest, for a disconnected graph)
and branch selection. The caller runs one list per thread (these kernels release
the GIL and launch no parallel kernel, so any numba threading layer
serves); :func:`gather_batch` prepares the lists in passes over the
points, the tree rows and the edges.

Clusters are given as ``points`` (intp, the clusters' global ids one after
the other) with ``bounds`` (intp (n_clusters + 1,)); cluster ``b`` has
``m_b`` points. Its results go to :class:`BatchOutputs` rows: per point at
``bounds[b]:bounds[b + 1]``; spanning-forest rows (``m_b - 1`` at most)
from ``bounds[b] - b``; partners, persistence and selected ids from
``bounds[b]``.

The outputs are what the fit keeps and nothing more: the tree in compact
form (8 bytes per point; the linkage matrix and the condensed tree are
derived from it when asked for, :func:`~.linkage.hierarchy_linkage`), since
writing fresh memory is a large part of the branch pass at 10^6 points.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE
from .._hdbscan.linkage import mst_to_linkage_sized
from .._hdbscan.select import flat_selection
from .._hdbscan.space_tree import (
    build_kdtree_serial,
    key_less,
    rdist,
    rdist_to_dist,
    row_distances,
    subset_kdtree,
    subset_root,
    tree_n_levels_from_nodes,
)
from .._kernels.sorting import stable_argsort
from .._kernels.sums import weighted_mean_of
from .graphs import core_graph_edges_into, grouped_csr_into
from .linkage import (
    centrality_order,
    hierarchy_linkage,
    renumbered_spanning_tree,
    tied_joiners,
)
from .sweep import brute_full_sweep, renumbered_full_sweep, renumbered_partners


class BatchOutputs(NamedTuple):
    """Results of a batch of clusters (rows as in the module docstring)."""

    centrality: np.ndarray  # float64 (total,)
    joins: np.ndarray  # int32 (total - n_clusters, 2) spanning-forest rows [a, b]
    n_edges: np.ndarray  # intp (n_clusters,)
    tied: np.ndarray  # intp (total, 2) rows [point, partner] of the tied joiners
    n_tied: np.ndarray  # intp (n_clusters,)
    labels: np.ndarray  # intp (total,) branch labels
    probabilities: np.ndarray  # float64 (total,) branch probabilities
    persistence: np.ndarray  # float64 (total,)
    selected: np.ndarray  # intp (total,) condensed-tree id of each branch
    n_selected: np.ndarray  # intp (n_clusters,)


def join_dtype(total):
    """The integer type of :attr:`BatchOutputs.joins` for ``total`` points
    (local ids): int32 when they fit, halving the writes."""
    return np.int32 if total < 2**31 else np.intp


def batch_outputs(total, n_clusters, selection_only=False):
    """:class:`BatchOutputs` for ``n_clusters`` clusters of ``total``
    points: the per-cluster counts zeroed (a disconnected graph writes no
    partners and no selection), the rows left as allocated, since only
    the rows the kernels write are read (zeroing them cost 0.4-0.5 ms of a
    re-selection at 10^5 points, in memory reused from the fit, in a
    throw-away timing). With
    ``selection_only`` (:func:`select_clusters`, which writes only the
    selection), the centralities, joins and partners are empty."""
    rows = 0 if selection_only else total
    return BatchOutputs(
        np.empty(rows), np.empty((max(rows - n_clusters, 0), 2), join_dtype(total)),
        np.zeros(n_clusters, np.intp), np.empty((rows, 2), np.intp),
        np.zeros(n_clusters, np.intp), np.empty(total, np.intp), np.empty(total),
        np.empty(total), np.empty(total, np.intp), np.zeros(n_clusters, np.intp),
    )


class BatchInputs(NamedTuple):
    """A batch of clusters gathered from the fit (:func:`gather_batch`)."""

    points: np.ndarray  # intp (total,) global ids, cluster after cluster
    bounds: np.ndarray  # intp (n_clusters + 1,) each cluster's first row in points
    local: np.ndarray  # intp (n,) local id of each point of the batch, else -1
    mst_pairs: np.ndarray  # int32 or intp (n_edges, 2) in-cluster tree edges, local ids
    mst_bounds: np.ndarray  # intp (n_clusters + 1,) each cluster's first edge
    max_dists: np.ndarray  # float64 (n_clusters,) largest in-cluster edge weight (0: none)
    rows: np.ndarray  # int32 or intp (total,) the points' kd-tree rows


@njit(cache=NUMBA_CACHE, nogil=True)
def inside_edge_labels(cluster_labels, global_mst, out):
    """Into ``out`` (intp, an entry per edge): per spanning-tree edge
    (float64 rows ``[a, b, w]``, global ids), the cluster of both its ends
    when they share one, else -1."""
    for e in range(global_mst.shape[0]):
        label = cluster_labels[np.intp(global_mst[e, 0])]
        same = label >= 0 and label == cluster_labels[np.intp(global_mst[e, 1])]
        out[e] = label if same else -1


def gather_batch(cluster_labels, bounds, clusters, global_mst, tree_idx, run_beside=None):
    """The :class:`BatchInputs` of the ``clusters`` (intp ids, increasing):
    cluster ``c`` has the points whose ``cluster_labels`` is ``c``
    (``bounds[c + 1] - bounds[c]`` of them) and the edges of
    ``global_mst`` (float64 rows ``[a, b, w]`` in global ids) with both
    ends in it; ``tree_idx`` the ``idx_array`` of the fit's kd-tree.

    Three passes in the order of the points, the tree rows and the edges,
    each writing every cluster's entries at its own cursor (a gather
    cluster by cluster read each point's and each edge's entries at
    random, after two grouping sorts), into arrays numpy allocates (on
    huge pages where the system offers them: far fewer page faults than a
    kernel's own allocations at 10^7 points). ``run_beside(run)``, if
    given, starts ``run()`` on another thread and returns a callable that
    waits for it: the edge count and the tree rows then run beside the
    points and the edges.
    """
    n_clusters = clusters.shape[0]
    batch_of = np.full(bounds.shape[0] - 1, -1, dtype=np.intp)
    batch_of[clusters] = np.arange(n_clusters)
    starts = np.zeros(n_clusters + 1, dtype=np.intp)
    np.cumsum(bounds[clusters + 1] - bounds[clusters], out=starts[1:])
    n = cluster_labels.shape[0]
    edge_batch = np.empty(global_mst.shape[0], dtype=np.intp)
    edge_counts = np.zeros(n_clusters, dtype=np.intp)
    # spanning-tree pairs and tree rows as int32 where they fit: fewer new
    # pages to fault in (the gather took 45-66 ms at 10^6 points)
    points = np.empty(starts[-1], dtype=np.intp)
    local = np.full(n, -1, dtype=np.intp)
    rows = np.empty(starts[-1], dtype=join_dtype(n))

    def count():
        _count_batch_edges(cluster_labels, batch_of, global_mst, edge_batch, edge_counts)

    def tree_rows():
        _gather_tree_rows(cluster_labels, batch_of, tree_idx, starts, rows)

    if run_beside is None:
        run_beside = _run_now
    counted = run_beside(count)
    _gather_points(cluster_labels, batch_of, starts, points, local)
    counted()
    mst_bounds = np.zeros(n_clusters + 1, dtype=np.intp)
    np.cumsum(edge_counts, out=mst_bounds[1:])
    mst_pairs = np.empty((mst_bounds[-1], 2), dtype=join_dtype(starts[-1]))
    max_dists = np.zeros(n_clusters)
    rows_done = run_beside(tree_rows)
    _gather_edges(global_mst, edge_batch, local, mst_bounds, mst_pairs, max_dists)
    rows_done()
    return BatchInputs(points, starts, local, mst_pairs, mst_bounds, max_dists, rows)


def _run_now(run):
    """``run()`` at once; returns a callable with nothing left to wait for
    (:func:`gather_batch` without another thread)."""
    run()
    return lambda: None


@njit(cache=NUMBA_CACHE, inline="always")
def _batch_index(batch_of, label):
    """The batch index of the cluster ``label`` (``batch_of`` per cluster),
    -1 for noise or a cluster outside the batch."""
    return batch_of[label] if label >= 0 else -1


@njit(cache=NUMBA_CACHE, nogil=True)
def _count_batch_edges(cluster_labels, batch_of, global_mst, edge_batch, counts):
    """Per spanning-tree edge, the batch index of the cluster holding both
    its ends (``batch_of`` per cluster, -1 outside the batch), else -1,
    into ``edge_batch``; the edges of each batch cluster counted into
    ``counts`` (zeroed). The test of :func:`inside_edge_labels`, written
    out: composed from that test and :func:`_batch_index` as inlined
    helpers, this loop took 2.1 instead of 0.34 ms at 10^5 points."""
    for e in range(global_mst.shape[0]):
        label = cluster_labels[np.intp(global_mst[e, 0])]
        b = -1
        if label >= 0 and label == cluster_labels[np.intp(global_mst[e, 1])]:
            b = batch_of[label]
        edge_batch[e] = b
        if b >= 0:
            counts[b] += 1


@njit(cache=NUMBA_CACHE, nogil=True)
def _gather_points(cluster_labels, batch_of, starts, points, local):
    """Each batch cluster's points (global ids, increasing) at its rows of
    ``points`` and their local ids into ``local`` (all -1 on entry), in
    one pass over the points."""
    cursor = starts[:-1].copy()
    for i in range(cluster_labels.shape[0]):
        b = _batch_index(batch_of, cluster_labels[i])
        if b < 0:
            continue
        q = cursor[b]
        points[q] = i
        local[i] = q - starts[b]
        cursor[b] = q + 1


@njit(cache=NUMBA_CACHE, nogil=True)
def _gather_tree_rows(cluster_labels, batch_of, tree_idx, starts, rows):
    """Each batch cluster's kd-tree rows (increasing) at its rows of
    ``rows``, in one pass over the tree."""
    cursor = starts[:-1].copy()
    for r in range(tree_idx.shape[0]):
        b = _batch_index(batch_of, cluster_labels[tree_idx[r]])
        if b < 0:
            continue
        q = cursor[b]
        rows[q] = r
        cursor[b] = q + 1


@njit(cache=NUMBA_CACHE, nogil=True)
def _gather_edges(global_mst, edge_batch, local, mst_bounds, mst_pairs, max_dists):
    """Each batch cluster's spanning-tree pairs in local ids (in edge order)
    and their largest weight, in one pass over the edges (after the
    points: reads ``local``)."""
    cursor = mst_bounds[:-1].copy()
    for e in range(global_mst.shape[0]):
        b = edge_batch[e]
        if b < 0:
            continue
        q = cursor[b]
        mst_pairs[q, 0] = local[np.intp(global_mst[e, 0])]
        mst_pairs[q, 1] = local[np.intp(global_mst[e, 1])]
        if q == mst_bounds[b] or global_mst[e, 2] > max_dists[b]:
            max_dists[b] = global_mst[e, 2]
        cursor[b] = q + 1


@njit(cache=NUMBA_CACHE, nogil=True)
def centroid_centrality(X, points, centroid, p):
    """``1 / distance`` of each ``X[points]`` row to ``centroid`` (inf at
    distance 0), the distance formed as the kd-tree kernels form it."""
    out = row_distances(X, centroid, points, p)
    for t in range(out.shape[0]):
        out[t] = np.inf if out[t] == 0.0 else 1.0 / out[t]
    return out


@njit(cache=NUMBA_CACHE, nogil=True)
def csr_partners(X, points, indptr, indices, rank, joiners, ids, p):
    """Nearest neighbour ranked before it (local id; distance ties by smallest
    ``ids`` entry, intp (m,): the local ids of another numbering or
    ``arange(m)``; -1: none) of each of the ``joiners`` (local ids) in a CSR
    graph over local ids (rows holding at least the neighbours ranked
    before their point), -1 for every other point; distances of
    ``X[points]`` rows as the kd-tree kernels form them."""
    m = points.shape[0]
    partner = np.full(m, -1, dtype=np.intp)
    for t in range(joiners.shape[0]):
        i = joiners[t]
        best_d = np.inf
        best_j = -1
        best_id = -1
        x = X[points[i]]
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if rank[j] >= rank[i]:
                continue
            d = rdist_to_dist(rdist(x, X[points[j]], p), p)
            if key_less(d, ids[j], best_d, best_id):
                best_d = d
                best_j = j
                best_id = ids[j]
        partner[i] = best_j
    return partner


@njit(cache=NUMBA_CACHE, nogil=True)
def _put(dst, offset, src):
    """``dst[offset:offset + len(src)] = src`` for 1-D or 2-D arrays, as a loop
    (a slice assignment compiles numba's shape-mismatch error formatting)."""
    for t in range(src.shape[0]):
        dst[offset + t] = src[t]


@njit(cache=NUMBA_CACHE, nogil=True)
def _put_rows(dst, offset, src):
    """:func:`_put` for the rows of 2-D arrays."""
    for t in range(src.shape[0]):
        for k in range(src.shape[1]):
            dst[offset + t, k] = src[t, k]


@njit(cache=NUMBA_CACHE, nogil=True)
def _store_selection(b, start, m, linkage, selection, out):
    """Select cluster ``b``'s branches from its ``linkage`` matrix (``m``
    points of size one; ``selection`` as in :func:`full_clusters`) and write
    the selection into ``out`` (:class:`BatchOutputs`); the condensed tree
    is not kept (derived again when asked for)."""
    sizes = np.ones(m, dtype=np.intp)
    min_size, leaf, allow_single, epsilon, persistence_threshold, max_size = selection
    labels, probabilities, persistence, _, _, _, _, selected_ids = flat_selection(
        linkage, sizes, min_size, leaf, allow_single, epsilon, persistence_threshold, max_size,
    )
    _put(out.labels, start, labels)
    _put(out.probabilities, start, probabilities)
    _put(out.persistence, start, persistence)
    _put(out.selected, start, selected_ids)
    out.n_selected[b] = selected_ids.shape[0]


@njit(cache=NUMBA_CACHE, inline="always")
def _store(b, start, m, centrality, edges, partner, selection, out):
    """Write cluster ``b``'s results into ``out`` (:class:`BatchOutputs`):
    its centralities and spanning forest (the ``[a, b]`` columns: each row
    weighs ``centrality[a]``), and, if the graph is connected, the partners
    of its tied joiners and its branch selection (``selection`` as in
    :func:`full_clusters`)."""
    row = start - b
    _put(out.centrality, start, centrality)
    n_edges = edges.shape[0]
    out.n_edges[b] = n_edges
    for e in range(n_edges):
        out.joins[row + e, 0] = np.intp(edges[e, 0])
        out.joins[row + e, 1] = np.intp(edges[e, 1])
    if n_edges < m - 1:
        # a disconnected graph: its components label the points
        return
    n_tied = 0
    for i in range(m):
        if partner[i] >= 0:
            out.tied[start + n_tied, 0] = i
            out.tied[start + n_tied, 1] = partner[i]
            n_tied += 1
    out.n_tied[b] = n_tied
    linkage = mst_to_linkage_sized(edges, m, partner, np.ones(m, dtype=np.intp))
    _store_selection(b, start, m, linkage, selection, out)


@njit(cache=NUMBA_CACHE, nogil=True)
def select_clusters(centrality, joins, tied, tied_bounds, bounds, clusters, selection, out):
    """Branch selections of clusters whose spanning trees are known (a
    re-selection): cluster ``b``'s ``m_b`` points from ``bounds[b]`` in
    ``centrality``, its ``m_b - 1`` ``joins`` from row ``bounds[b] - b``
    (as :class:`BatchOutputs` holds them), its tied joiners' rows
    ``[point, partner]`` at ``tied[tied_bounds[b]:tied_bounds[b + 1]]``;
    ``selection`` as in :func:`full_clusters`; the selection rows of
    ``out`` as :func:`full_clusters` writes them; for the ``clusters``
    (intp indices into ``bounds``) only, so that threads can share the
    work (each cluster writes its own rows)."""
    for t in range(clusters.shape[0]):
        b = clusters[t]
        start = bounds[b]
        m = bounds[b + 1] - start
        row = start - b
        linkage = hierarchy_linkage(
            joins[row:row + m - 1], tied[tied_bounds[b]:tied_bounds[b + 1]],
            centrality[start:start + m], np.ones(m, dtype=np.intp),
        )
        _store_selection(b, start, m, linkage, selection, out)


@njit(cache=NUMBA_CACHE, nogil=True)
def put_known(clusters, bounds, ids, first, values, centrality, known):
    """Write known centralities into a batch's rows: cluster ``ids[k]``'s
    (``values`` from ``first[k]`` on, in the order of its points) to
    ``centrality`` at its rows ``bounds[b]:bounds[b + 1]``, where
    ``clusters[b] == ids[k]`` (``clusters`` increasing; an id not among
    them is skipped), and set ``known[b]``. One call, not a numpy slice
    per cluster: a re-selection with about 500 such clusters spent about
    1 ms (under cProfile) on that Python loop."""
    for k in range(ids.shape[0]):
        b = np.searchsorted(clusters, ids[k])
        if b < clusters.shape[0] and clusters[b] == ids[k]:
            start = bounds[b]
            for t in range(bounds[b + 1] - start):
                centrality[start + t] = values[first[k] + t]
            known[b] = True


@njit(cache=NUMBA_CACHE, nogil=True)
def previous_clusters(cluster_labels, old_labels, old_probabilities, probabilities, old_label,
                      same):
    """For each cluster ``c`` (the points whose ``cluster_labels`` is ``c``;
    ``old_label`` and ``same`` have an entry per cluster), the earlier
    label that all its points had, else -1 (mixed labels, noise or no
    points), into ``old_label[c]``, and whether every point kept its
    probability, into ``same[c]``. One pass in point order: read cluster
    by cluster, every point's three entries were a miss (1.0 of 30 ms of a
    re-selection of 432 random-walk clusters at 10^5 points)."""
    unseen = -2
    for c in range(old_label.shape[0]):
        old_label[c] = unseen
        same[c] = True
    for i in range(cluster_labels.shape[0]):
        c = cluster_labels[i]
        if c < 0:
            continue
        label = old_labels[i]
        if old_label[c] == unseen:
            old_label[c] = label
        elif old_label[c] != label:
            old_label[c] = -1
        if old_probabilities[i] != probabilities[i]:
            same[c] = False
    for c in range(old_label.shape[0]):
        if old_label[c] == unseen:
            old_label[c] = -1


@njit(cache=NUMBA_CACHE, nogil=True)
def recentred_in_same_order(X, points, bounds, clusters, weights, p, old, joiners, new,
                            same):
    """New centralities of clusters that keep their points, and whether
    each keeps its centrality order.

    Cluster ``b``'s points are ``points[bounds[b]:bounds[b + 1]]`` (global
    ids, as :func:`full_clusters` takes them), its earlier centralities
    ``old`` at the same rows; its centralities around the centroid weighted
    by ``weights`` (as :func:`_open_cluster` forms them) are written to
    ``new``, and ``same[b]`` is set when sorting ``new`` gives the stable
    order of ``old`` with equal values exactly where ``old`` has them; for
    the ``clusters`` (intp indices into ``bounds``) only, as
    :func:`select_clusters` takes them.

    ``joiners`` (integer, a row per point but one of each cluster, from
    ``bounds[b] - b``): the points of each cluster's spanning tree in merge
    order, that is in the order of ``old`` (the ``a`` column of the joins).
    New centralities that break the order between two consecutive joiners
    already decide, without the sort.
    """
    for t in range(clusters.shape[0]):
        b, start, pts, centrality = _open_cluster(X, points, bounds, clusters[t], weights, p)
        _put(new, start, centrality)
        m = pts.shape[0]
        previous = old[start:start + m]
        row = start - b
        # consecutive joiners first: most changed orders show there, unsorted
        kept = _keeps_order(previous, centrality, joiners, row, row + m - 1)
        if kept:
            kept = _keeps_order(previous, centrality, stable_argsort(previous), 0, m)
        same[b] = kept


@njit(cache=NUMBA_CACHE, inline="always")
def _keeps_order(previous, centrality, sequence, first, last):
    """Whether ``centrality`` orders every consecutive pair of
    ``sequence[first:last]`` (local ids) as ``previous`` does: strictly
    where ``previous`` is strict, equal where it is equal."""
    for k in range(first, last - 1):
        i = sequence[k]
        j = sequence[k + 1]
        if previous[i] == previous[j]:
            if centrality[i] != centrality[j]:
                return False
        elif not centrality[i] < centrality[j]:
            return False
    return True


@njit(cache=NUMBA_CACHE, inline="always")
def _open_cluster(X, points, bounds, b, weights, p):
    """Cluster ``b``'s first row, its points (global ids) and centralities:
    inverse distances to the centroid weighted by ``weights`` (float64
    (n,)), formed as ``np.average`` forms it (:func:`.sums.weighted_mean_of`)."""
    start = bounds[b]
    pts = points[start:bounds[b + 1]]
    centroid = np.empty(X.shape[1])
    weighted_mean_of(X, pts, weights, centroid)
    return b, start, pts, centroid_centrality(X, pts, centroid, p)


@njit(cache=NUMBA_CACHE, inline="always")
def _known_or_open(X, points, bounds, b, weights, p, known, out):
    """:func:`_open_cluster`, or, when ``known[b]``, the centralities the
    caller put at the cluster's rows of ``out.centrality`` (those of a
    re-selection's order check, formed the same way)."""
    if known[b]:
        start = bounds[b]
        pts = points[start:bounds[b + 1]]
        return b, start, pts, out.centrality[start:start + pts.shape[0]]
    return _open_cluster(X, points, bounds, b, weights, p)


@njit(cache=NUMBA_CACHE, nogil=True)
def _gather_rows(X, pts):
    """``X[pts]`` as a new C-contiguous float64 array."""
    data = np.empty((pts.shape[0], X.shape[1]))
    for q in range(pts.shape[0]):
        for k in range(X.shape[1]):
            data[q, k] = X[pts[q], k]
    return data


@njit(cache=NUMBA_CACHE, nogil=True)
def _cluster_tree(X, pts, tree, rows, local, leaf_size, nodes_per_point):
    """A kd-tree over a cluster's points ``pts`` (global ids; its ids are
    their local ids): cut from the fit's ``tree`` when the subtree holding
    the cluster's tree ``rows`` (increasing) has at most
    ``nodes_per_point * m`` nodes, else built with ``leaf_size``."""
    m = pts.shape[0]
    node, sub_levels = subset_root(tree.node_start, tree.node_end,
                                   tree_n_levels_from_nodes(tree.node_start.shape[0]), rows)
    if (1 << sub_levels) - 1 <= nodes_per_point * m:
        ids = np.empty(m, dtype=np.intp)
        for t in range(m):
            ids[t] = local[tree.idx_array[rows[t]]]
        return subset_kdtree(tree.data, tree.node_end, node, sub_levels, rows, ids)
    return build_kdtree_serial(_gather_rows(X, pts), leaf_size)


@njit(cache=NUMBA_CACHE, nogil=True)
def full_clusters(X, points, bounds, clusters, weights, max_dists, alpha, p, tree, rows,
                  local, leaf_size, nodes_per_point, brute_max, selection, known, out):
    """Branch hierarchies and selections of the ``clusters`` (intp indices
    into ``bounds``), with ``full`` graphs on a kd-tree space.

    ``X`` float64 (n, d); ``points``/``bounds`` as in the module docstring
    (every cluster with at least 2 points); ``weights`` float64 (n,) the
    points' weights in their cluster's centroid (the cluster probabilities);
    ``max_dists`` float64 (n_clusters,), each cluster's
    bound on ``d_ij / alpha``; ``tree`` the fit's kd-tree, ``rows`` (intp,
    aligned with ``points``) each cluster's rows of it in increasing order,
    ``local`` intp (n,) each point's local id in its cluster; ``selection``
    the tuple ``(min_branch_size, leaf_selection, allow_single_branch,
    epsilon, persistence, max_branch_size)``, as
    :func:`~flasc_cluster._hdbscan.flat.selection_options` gives it. Each
    cluster gets
    :func:`~flasc_cluster._branches.sweep.full_graph_spanning_tree` on a
    kd-tree over its points (:func:`_cluster_tree`; any tree gives the same
    result), or, with at most ``brute_max`` points, the same sweep over all
    pairs (:func:`~flasc_cluster._branches.sweep.brute_full_sweep`), then,
    if its graph is connected, the linkage matrix and
    :func:`~flasc_cluster._hdbscan.select.flat_selection`, written to
    ``out`` (:class:`BatchOutputs`). ``known`` bool (n_clusters,): the
    clusters whose centralities the caller already wrote to
    ``out.centrality`` (else they are formed here).
    """
    for t in range(clusters.shape[0]):
        b, start, pts, centrality = _known_or_open(
            X, points, bounds, clusters[t], weights, p, known, out
        )
        m = pts.shape[0]
        if m <= brute_max:
            edges, partner = brute_full_sweep(
                _gather_rows(X, pts), centrality, max_dists[b], alpha, p
            )
        else:
            edges, partner = _kd_numbered_full(
                X, pts, tree, rows[start:start + m], local, leaf_size, nodes_per_point,
                centrality, max_dists[b], alpha, p,
            )
        _store(b, start, m, centrality, edges, partner, selection, out)


@njit(cache=NUMBA_CACHE, nogil=True)
def full_open(X, points, bounds, b, weights, max_dists, alpha, p, tree, rows, local, leaf_size,
              nodes_per_point, brute_max, known, out):
    """The first stage of cluster ``b``'s ``full`` pass (arguments as in
    :func:`full_clusters`): its centralities, spanning forest and partners
    (in its local ids), which :func:`full_close` stores. The sweep stays
    with the tree cut: swept on another thread than the cut, a 33k-point
    cluster's sweep took 5.15 instead of 4.53 ms (a throw-away timing)."""
    b, start, pts, centrality = _known_or_open(X, points, bounds, b, weights, p, known, out)
    m = pts.shape[0]
    if m <= brute_max:
        edges, partner = brute_full_sweep(_gather_rows(X, pts), centrality, max_dists[b], alpha, p)
    else:
        edges, partner = _kd_numbered_full(
            X, pts, tree, rows[start:start + m], local, leaf_size, nodes_per_point,
            centrality, max_dists[b], alpha, p,
        )
    return centrality, edges, partner


@njit(cache=NUMBA_CACHE, nogil=True)
def full_close(b, start, opened, selection, out):
    """The second stage of cluster ``b``'s ``full`` pass, after
    :func:`full_open` (``opened`` its result): the linkage and the branch
    selection, written to ``out`` as :func:`full_clusters` writes them."""
    centrality, edges, partner = opened
    _store(b, start, centrality.shape[0], centrality, edges, partner, selection, out)


@njit(cache=NUMBA_CACHE, nogil=True)
def _kd_numbered_full(X, pts, tree, rows, local, leaf_size, nodes_per_point, centrality,
                      max_dist, alpha, p):
    """Spanning forest and partners of one cluster's ``full`` graph (in its
    local ids, as :func:`full_clusters` stores them), swept with the points
    renumbered in the order of the cluster's tree ``rows`` (new id ``q`` is
    local id ``kd[q]``), so that the cut tree's rows are the point ids and
    the union-find follows the tree. Ties are broken by the original local
    ids (:func:`~.sweep.renumbered_full_sweep`,
    :func:`~.sweep.renumbered_partners`): the result is the one of the
    original numbering. Sets ``local`` of the cluster's points to their new
    ids (read afterwards only to cut this cluster's tree).
    """
    kd, kd_pts, kd_order, kd_rank, kd_centrality, _ = _renumber(
        pts, tree.idx_array, rows, centrality, local
    )
    cluster_tree = _cluster_tree(X, kd_pts, tree, rows, local, leaf_size, nodes_per_point)
    edges, _, joiner_rows = renumbered_full_sweep(
        cluster_tree, kd_centrality, kd_order, kd_rank, kd, max_dist, alpha, p,
    )
    kd_partner = renumbered_partners(
        cluster_tree, kd_rank, max_dist, alpha, p, joiner_rows, kd,
    )
    return _original_numbering(edges, kd_partner, kd)


@njit(cache=NUMBA_CACHE, nogil=True)
def _renumber(pts, tree_idx, rows, centrality, local):
    """A cluster's points (global ids ``pts``, local ids their positions)
    renumbered in kd-tree order: new id ``q`` is the local id ``kd[q]`` of
    the point at the cluster's ``q``-th tree row (``rows``, increasing, of
    the tree with ``idx_array`` ``tree_idx``; ``local`` maps global to
    local ids). Returns ``(kd, pts, order, rank, centrality, new_id)``,
    all but ``kd`` in the new ids (``new_id[old] = q``), the centrality
    order and ranks those of the old ids (ties stay broken by them), and
    sets ``local`` of the cluster's points to their new ids."""
    m = pts.shape[0]
    kd = np.empty(m, dtype=np.intp)
    for q in range(m):
        kd[q] = local[tree_idx[rows[q]]]
    order, rank = centrality_order(centrality)
    new_id = np.empty(m, dtype=np.intp)
    kd_pts = np.empty(m, dtype=np.intp)
    kd_rank = np.empty(m, dtype=np.intp)
    kd_centrality = np.empty(m)
    for q in range(m):
        old = kd[q]
        new_id[old] = q
        kd_pts[q] = pts[old]
        kd_rank[q] = rank[old]
        kd_centrality[q] = centrality[old]
        local[pts[old]] = q
    kd_order = np.empty(m, dtype=np.intp)
    for k in range(m):
        kd_order[k] = new_id[order[k]]
    return kd, kd_pts, kd_order, kd_rank, kd_centrality, new_id


@njit(cache=NUMBA_CACHE, nogil=True)
def _original_numbering(edges, partner, kd):
    """A renumbered cluster's spanning-forest ``edges`` (rewritten in place)
    and ``partner`` (a new array) in the original local ids: new id ``q`` is
    original id ``kd[q]``."""
    for e in range(edges.shape[0]):
        edges[e, 0] = kd[np.intp(edges[e, 0])]
        edges[e, 1] = kd[np.intp(edges[e, 1])]
    original = np.full(kd.shape[0], -1, dtype=np.intp)
    for q in range(kd.shape[0]):
        if partner[q] >= 0:
            original[kd[q]] = kd[partner[q]]
    return edges, original


@njit(cache=NUMBA_CACHE, nogil=True)
def core_clusters(X, points, bounds, clusters, weights, p, local, neighbors, mst_pairs,
                  mst_bounds, tree_idx, rows, edge_buffers, indices, selection, known, out):
    """:func:`full_clusters` for clusters with ``core`` graphs: for each,
    :func:`core_open` then :func:`core_close`.

    ``local`` intp (n,) each point's local id in its own cluster (-1 for
    noise), ``neighbors`` intp (n, k) the fit's neighbour lists,
    ``mst_pairs`` intp (n_edges, 2) the in-cluster spanning-tree edges in
    local ids, cluster ``b``'s at ``mst_bounds[b]:mst_bounds[b + 1]``;
    ``tree_idx`` the fit's kd-tree's ``idx_array`` and ``rows`` (aligned
    with ``points``) each cluster's rows of it: the neighbour lists are read
    in kd-tree order (:func:`~.graphs.core_graph_edges`). ``edge_buffers``
    int32 or intp (2, E) and ``indices`` (E,) of the same type, with E at
    least ``m_b * k`` plus the cluster's spanning-tree edge count for every
    cluster: scratch space for the edges and the CSR, allocated by the
    caller once per call rather than per cluster in the kernel, so that
    its pages are faulted in once. ``known`` as in :func:`full_clusters`.
    """
    for t in range(clusters.shape[0]):
        b = clusters[t]
        opened = core_open(
            X, points, bounds, b, weights, p, local, neighbors, mst_pairs, mst_bounds,
            tree_idx, rows, edge_buffers, indices, known, out,
        )
        core_close(X, b, bounds[b], p, opened, indices, selection, out)


@njit(cache=NUMBA_CACHE, nogil=True)
def core_open(X, points, bounds, b, weights, p, local, neighbors, mst_pairs, mst_bounds,
              tree_idx, rows, edge_buffers, indices, known, out):
    """The first stage of cluster ``b``'s ``core`` pass (arguments as in
    :func:`core_clusters`): its centralities, its points renumbered in
    kd-tree order (:func:`_renumber`) and its graph's edges to earlier
    ranked neighbours as a CSR, whose ``indices`` are written to the
    caller's array. Returns ``(centrality, kd, kd_pts, order, rank,
    kd_centrality, indptr)`` for :func:`core_close`, which may run on
    another thread (with the same ``indices``).

    Neighbours in space then have nearby ids, so the union-find, rank and
    CSR accesses of the sweep mostly hit the cache (the branch pass of the
    ``1m_2d`` benchmark's ``core`` cell went from 1.14 to 0.86 s). Sets
    ``local`` of the cluster's points to their new ids (its only reader
    here afterwards is this cluster's edge search, which checks the ids
    against ``pts``).
    """
    b, start, pts, centrality = _known_or_open(X, points, bounds, b, weights, p, known, out)
    m = pts.shape[0]
    kd, kd_pts, kd_order, kd_rank, kd_centrality, new_id = _renumber(
        pts, tree_idx, rows[start:start + m], centrality, local
    )
    tree = mst_pairs[mst_bounds[b]:mst_bounds[b + 1]]
    n_mst = tree.shape[0]
    mst_src = np.empty(n_mst, dtype=np.intp)
    mst_dst = np.empty(n_mst, dtype=np.intp)
    for e in range(n_mst):
        mst_src[e] = new_id[tree[e, 0]]
        mst_dst[e] = new_id[tree[e, 1]]
    # rows of earlier neighbours only, unsorted, with duplicates: the sweep
    # and the partners only look back, do not depend on the order of a
    # row and count each neighbour component once
    src, dst = edge_buffers[0], edge_buffers[1]
    n_edges = core_graph_edges_into(
        kd_pts, local, neighbors, mst_src, mst_dst, kd_rank, np.arange(m), src, dst,
    )
    indptr = grouped_csr_into(src[:n_edges], dst[:n_edges], m, indices)
    return centrality, kd, kd_pts, kd_order, kd_rank, kd_centrality, indptr


@njit(cache=NUMBA_CACHE, nogil=True)
def core_close(X, b, start, p, opened, indices, selection, out):
    """The second stage of cluster ``b``'s ``core`` pass, after
    :func:`core_open` (``opened`` its result, ``indices`` the array it
    wrote, ``start`` the cluster's first row): the sweep and the partners
    in the new ids, with ties broken by the original local ids
    (:func:`~.linkage.renumbered_spanning_tree`, :func:`csr_partners`), so
    that the result is the one of the original numbering; written to
    ``out`` as :func:`full_clusters` writes it."""
    centrality, kd, kd_pts, kd_order, kd_rank, kd_centrality, indptr = opened
    m = kd.shape[0]
    edges = renumbered_spanning_tree(indptr, indices, kd_order, kd_rank, kd_centrality, kd)[0]
    kd_partner = csr_partners(
        X, kd_pts, indptr, indices, kd_rank, tied_joiners(edges, m), kd, p,
    )
    edges, partner = _original_numbering(edges, kd_partner, kd)
    _store(b, start, m, centrality, edges, partner, selection, out)


@njit(cache=NUMBA_CACHE, nogil=True)
def whole_cluster_labels(cluster_labels, cluster_probabilities, first, labels, probabilities,
                         branch_labels, branch_probabilities, centralities):
    """The combined labelling with every cluster kept whole, in one pass.

    ``first`` intp (n_clusters,): each cluster's label. Fills the caller's
    ``labels``, ``probabilities``, ``branch_labels``,
    ``branch_probabilities`` and ``centralities`` (an entry per point)
    with the cluster's label, its probability, branch 0 with probability 1
    and 0; -1, the cluster probability, -1, 0 and 0 outside (the caller
    writes the centralities inside clusters). Written in point order:
    scattered in cluster order, five arrays of 10^6 points missed the
    cache on nearly every write (3,606 clusters: 18 ms, against 4.6 ms in
    point order, memory warm).
    """
    for i in range(labels.shape[0]):
        c = cluster_labels[i]
        probabilities[i] = cluster_probabilities[i]
        centralities[i] = 0.0
        if c >= 0:
            labels[i] = first[c]
            branch_labels[i] = 0
            branch_probabilities[i] = 1.0
        else:
            labels[i] = -1
            branch_labels[i] = -1
            branch_probabilities[i] = 0.0


@njit(cache=NUMBA_CACHE, nogil=True)
def split_cluster_labels(order, bounds, clusters, offset, branch_labels_in,
                         branch_probabilities_in, labels, probabilities, branch_labels,
                         branch_probabilities):
    """The combined labelling of the clusters split into branches, after
    :func:`whole_cluster_labels`: cluster ``clusters[s]`` (points
    ``order[bounds[c]:bounds[c + 1]]``) has the next of its points' branch
    labels and probabilities in ``branch_labels_in`` (intp) and
    ``branch_probabilities_in`` (float64), the clusters one after the
    other; a point's label is its branch label plus ``offset[s]``, its
    probability the mean of its cluster and branch probabilities."""
    t = 0
    for s in range(clusters.shape[0]):
        c = clusters[s]
        for u in range(bounds[c], bounds[c + 1]):
            g = order[u]
            b = branch_labels_in[t]
            labels[g] = b + offset[s]
            branch_labels[g] = b
            branch_probabilities[g] = branch_probabilities_in[t]
            probabilities[g] = (probabilities[g] + branch_probabilities_in[t]) / 2.0
            t += 1
