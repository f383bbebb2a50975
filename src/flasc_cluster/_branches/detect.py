"""The branch pass: centrality, approximation graph and branch selection.

Python module driving the kernels cluster by cluster, then merging cluster
and branch labels into FLASC's combined labelling.
"""

import collections
import collections.abc
import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from typing import NamedTuple

import numba
import numpy as np

from .._hdbscan.condense import CondensedTree
from .._hdbscan.flat import (
    FlatClustering,
    extract_flat_clustering,
    point_sizes,
    selection_options,
)
from .._hdbscan.linkage import mst_to_linkage_sized
from .._hdbscan.select import flat_selection
from .._hdbscan.space_tree import build_kdtree
from .._kernels import sorting
from .batch import (
    BatchInputs,
    _run_now,
    batch_outputs,
    core_clusters,
    core_close,
    core_open,
    full_clusters,
    full_close,
    full_open,
    gather_batch,
    inside_edge_labels,
    join_dtype,
    previous_clusters,
    put_known,
    recentred_in_same_order,
    select_clusters,
    split_cluster_labels,
    whole_cluster_labels,
)
from .graphs import (
    core_graph_edges,
    csr_upper_edges,
    dense_full_graph_edges,
    grouped_csr,
    symmetric_csr,
)
from .linkage import (
    centrality_order,
    centrality_spanning_tree,
    hierarchy_linkage,
    tied_joiners,
)
from .sweep import brute_full_sweep, full_graph_pairs, full_graph_spanning_tree


class BranchHierarchy(NamedTuple):
    """A cluster's branch hierarchy in compact form, from which the linkage
    matrix and the condensed tree are derived when asked for
    (:attr:`ClusterBranches.linkage`, :attr:`ClusterBranches.condensed_tree`).

    joins : int32 or intp (m-1, 2), the spanning tree's rows ``[a, b]`` in
    merge order, each weighing the centrality of ``a``; tied : intp (k, 2),
    rows ``[point, partner]`` of the tied joiners
    (:func:`~.linkage.hierarchy_linkage`); point_weight : None or float64
    (m,) sample weights; options : the selection of the cluster's current
    ``flat``, as :func:`~flasc_cluster._hdbscan.flat.selection_options`
    gives it.
    """

    joins: np.ndarray
    tied: np.ndarray
    point_weight: object
    options: tuple


class ClusterBranches(NamedTuple):
    """Branch-pass result of one cluster.

    points : intp (m,) global ids; centrality : float64 (m,);
    graph : intp (n_edges, 2) edges ``i < j`` in local ids, or None when the
    graph is not kept (``full`` graphs on kd-trees and all ``core`` graphs;
    :func:`approximation_graph` rebuilds it);
    spanning_tree : float64 (n_edges, 3) local ids, the spanning forest of a
    disconnected graph (whose components label the points), else None;
    hierarchy : :class:`BranchHierarchy` of a connected graph, else None;
    flat : FlatClustering or None (its ``condensed_tree`` may be None: the
    :attr:`condensed_tree` property derives it);
    component_labels : intp (m,) or None (set when the graph is disconnected);
    max_dist : float, the ``full`` graph's bound on ``d_ij / alpha``;
    cluster_mst : integer (m-1, 2) in-cluster spanning-tree edges in local ids;
    neighbors : for ``core`` graphs, the fit's (n, k) neighbour array (shared,
    not copied), from which the graph is rebuilt; None otherwise.
    """

    points: np.ndarray
    centrality: np.ndarray
    graph: object
    spanning_tree: np.ndarray
    hierarchy: object
    flat: object
    component_labels: object
    max_dist: float = 0.0
    cluster_mst: object = None
    neighbors: object = None

    @property
    def linkage(self):
        """float64 (m-1, 4) linkage matrix of the branch hierarchy, or None."""
        h = self.hierarchy
        if h is None:
            return None
        m = self.centrality.shape[0]
        return hierarchy_linkage(
            h.joins, h.tied, self.centrality, point_sizes(h.point_weight, m)
        )

    @property
    def condensed_tree(self):
        """The :class:`CondensedTree` of the branch selection, or None."""
        if self.flat is None:
            return None
        if self.flat.condensed_tree is not None:
            return self.flat.condensed_tree
        h = self.hierarchy
        sizes = point_sizes(h.point_weight, self.centrality.shape[0])
        linkage = hierarchy_linkage(h.joins, h.tied, self.centrality, sizes)
        parent, child, lambda_val, child_size = flat_selection(linkage, sizes, *h.options)[3:7]
        return CondensedTree(parent, child, lambda_val, child_size)


class BranchResult(NamedTuple):
    """Combined labelling of the branch pass (arrays over the fitted rows)."""

    labels: np.ndarray
    probabilities: np.ndarray
    branch_labels: np.ndarray
    branch_probabilities: np.ndarray
    centralities: np.ndarray
    clusters: list  # or ClusterResults: a sequence of ClusterBranches
    # ``(order, bounds)`` of the cluster labels (:func:`label_order`), which
    # a re-selection with the same labels reuses; None where not kept
    label_order: object = None


class BranchBatch:
    """Branch results of the clusters that one batch kernel call swept, or
    one batch re-selection selected again, kept in the kernels' arrays;
    :meth:`result` builds a cluster's :class:`ClusterBranches` (views of
    them) when it is first asked for. Building all of them after every
    batch took about 5 us a cluster (1.3 ms of a re-selection of 270
    random-walk clusters, in a throw-away timing), mostly for clusters
    nobody asks about.

    Cluster ``b`` (``0 <= b < len(starts) - 1``) has the points
    ``points[starts[b]:starts[b + 1]]`` (global ids) and the rows
    ``starts[b]:`` of ``out`` (:class:`.batch.BatchOutputs`) as the kernels
    write them, except its tied joiners, at ``tied_first[b]`` on; its
    in-cluster spanning-tree edges ``mst_pairs[mst_bounds[b]:mst_bounds[b +
    1]]`` (local ids) and ``max_dists[b]``; ``options`` its branch
    selection; ``neighbors`` the fit's neighbour lists of a ``core`` graph,
    else None; ``sources`` None, or per cluster the result it was selected
    again from (a :class:`ClusterBranches`, whose graph and neighbours it
    keeps, or a ``(batch, index)`` pair, which has neither but
    ``neighbors``); ``rows`` (a kernel batch's) the points' kd-tree rows as
    :func:`.batch.gather_batch` gave them, from which a re-selection
    gathers the clusters that keep their points (:func:`_gather_kept`).
    """

    def __init__(self, points, starts, out, tied_first, mst_pairs, mst_bounds, max_dists,
                 options, neighbors, sources=None, rows=None):
        self.points = points
        self.rows = rows
        self.starts = starts
        self.out = out
        self.tied_first = tied_first
        self.mst_pairs = mst_pairs
        self.mst_bounds = mst_bounds
        self.max_dists = max_dists
        self.options = options
        self.neighbors = neighbors
        self.sources = sources
        self._numbers = None

    def numbers(self):
        """The per-cluster counts as Python lists (no numpy scalar per
        lookup): ``(starts, mst_bounds, n_edges, tied_first, n_tied,
        n_selected, max_dists)``."""
        if self._numbers is None:
            out = self.out
            self._numbers = (
                self.starts.tolist(), self.mst_bounds.tolist(), out.n_edges.tolist(),
                self.tied_first.tolist(), out.n_tied.tolist(), out.n_selected.tolist(),
                self.max_dists.tolist(),
            )
        return self._numbers

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_numbers"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._numbers = None

    def connected(self, b):
        """Whether cluster ``b``'s graph is connected (it has a hierarchy)."""
        starts, _, n_edges = self.numbers()[:3]
        return n_edges[b] == starts[b + 1] - starts[b] - 1

    def size(self, b):
        starts = self.numbers()[0]
        return starts[b + 1] - starts[b]

    def parts(self, b):
        """Cluster ``b``'s ``(points, centrality, joins, tied, cluster_mst,
        max_dist)``: views of the arrays, without building its result."""
        starts, mst_bounds, n_edges, tied_first, n_tied, _, dists = self.numbers()
        out = self.out
        start = starts[b]
        row = start - b
        return (
            self.points[start:starts[b + 1]], out.centrality[start:starts[b + 1]],
            out.joins[row:row + n_edges[b]],
            out.tied[tied_first[b]:tied_first[b] + n_tied[b]],
            self.mst_pairs[mst_bounds[b]:mst_bounds[b + 1]], dists[b],
        )

    def result(self, b):
        """Cluster ``b``'s :class:`ClusterBranches`."""
        points, centrality, joins, tied, cluster_mst, max_dist = self.parts(b)
        m = points.shape[0]
        graph, neighbors = None, self.neighbors
        if self.sources is not None and isinstance(self.sources[b], ClusterBranches):
            graph, neighbors = self.sources[b].graph, self.sources[b].neighbors
        if joins.shape[0] < m - 1:
            forest = np.column_stack((joins.astype(np.float64), centrality[joins[:, 0]]))
            return ClusterBranches(
                points, centrality, graph, forest, None, None,
                _component_labels(forest, m), max_dist, cluster_mst, neighbors,
            )
        start = self.numbers()[0][b]
        return ClusterBranches(
            points, centrality, graph, None, BranchHierarchy(joins, tied, None, self.options),
            _batch_flat(self.out, start, start + m, start + self.numbers()[5][b]), None,
            max_dist, cluster_mst, neighbors,
        )


class ClusterResults(collections.abc.Sequence):
    """The clusters' :class:`ClusterBranches`, in cluster order: given
    (:meth:`put`) or held by a :class:`BranchBatch` (:meth:`put_batch`) and
    built on first access. :meth:`ref` tells where a cluster's result is
    without building it."""

    def __init__(self, n_clusters):
        self._items = [None] * n_clusters
        self._batches = [None] * n_clusters
        self._index = [0] * n_clusters
        self._groups = []  # (batch, intp array of its clusters)

    def __len__(self):
        return len(self._items)

    def __getitem__(self, c):
        if isinstance(c, slice):
            return [self[t] for t in range(*c.indices(len(self)))]
        item = self._items[c]
        if item is None:
            batch = self._batches[c]
            if batch is not None:
                item = batch.result(self._index[c])
                self._items[c] = item
        return item

    def put(self, c, item):
        self._items[c] = item

    def put_batch(self, clusters, batch):
        """Cluster ``clusters[b]`` is ``batch``'s cluster ``b``."""
        for b, c in enumerate(clusters):
            self._batches[c] = batch
            self._index[c] = b
        self._groups.append((batch, np.asarray(clusters, dtype=np.intp)))

    def groups(self):
        """``(batch, clusters)`` per batch: ``clusters[b]`` is its cluster ``b``."""
        return list(self._groups)

    def missing(self):
        """The clusters with no result yet."""
        return [c for c, (item, batch) in enumerate(zip(self._items, self._batches))
                if item is None and batch is None]

    def ref(self, c):
        """``(batch, index)`` of a batch-held cluster, else its result."""
        batch = self._batches[c]
        return (batch, self._index[c]) if batch is not None else self._items[c]


def _ref(clusters, c):
    """:meth:`ClusterResults.ref` of any sequence of results (a list held by
    a model from before, or built elsewhere, has only results)."""
    return clusters.ref(c) if isinstance(clusters, ClusterResults) else clusters[c]


def _materialized(ref):
    """The :class:`ClusterBranches` of a :func:`_ref`."""
    return ref if isinstance(ref, ClusterBranches) else ref[0].result(ref[1])


class _Gathered(NamedTuple):
    """Results with a hierarchy (:func:`_ref`), one after the other
    (:func:`_gather_refs`): cluster ``t`` has the points and centralities
    at ``starts[t]:starts[t + 1]``, its ``m - 1`` joins from row
    ``starts[t] - t``, its tied rows at ``tied_bounds[t]:tied_bounds[t +
    1]``, its spanning-tree pairs at ``mst_bounds[t]:mst_bounds[t + 1]``."""

    sizes: np.ndarray
    starts: np.ndarray
    points: np.ndarray
    centrality: np.ndarray
    joins: np.ndarray
    tied: np.ndarray
    tied_bounds: np.ndarray
    mst_pairs: np.ndarray
    mst_bounds: np.ndarray
    max_dists: np.ndarray


def _one_batch(refs):
    """``(batch, index)`` when every one of ``refs`` (:func:`_ref`) is
    held by one :class:`BranchBatch` (``index``: intp, their indices
    there), else None."""
    if not refs or isinstance(refs[0], ClusterBranches):
        return None
    batch = refs[0][0]
    if any(isinstance(ref, ClusterBranches) or ref[0] is not batch for ref in refs):
        return None
    return batch, np.array([b for _, b in refs], dtype=np.intp)


def _batch_blocks(batch, index):
    """The rows of ``batch``'s clusters ``index`` in its point arrays and in
    its spanning-tree pairs, one cluster after the other, as
    ``(point_rows, starts, edge_rows, mst_bounds)`` (:func:`_block_index`)."""
    first = batch.starts[index]
    point_rows, starts = _block_index(first, batch.starts[index + 1] - first)
    edge_first = batch.mst_bounds[index]
    edge_rows, mst_bounds = _block_index(edge_first, batch.mst_bounds[index + 1] - edge_first)
    return point_rows, starts, edge_rows, mst_bounds


def _gather_refs(refs):
    """The :class:`_Gathered` arrays of ``refs`` (:func:`_ref` of results
    with a hierarchy). Refs into one batch are copied with a few
    ``np.take`` over its arrays; others slice each result (about 2 us a
    result, 0.7 ms for 340 random-walk clusters, in a throw-away timing)."""
    held = _one_batch(refs)
    if held is not None:
        batch, index = held
        out = batch.out
        rows, starts, mst_rows, mst_bounds = _batch_blocks(batch, index)
        sizes = np.diff(starts)
        join_rows, _ = _block_index(batch.starts[index] - index, sizes - 1)
        tied_rows, tied_bounds = _block_index(batch.tied_first[index], out.n_tied[index])
        # np.take: row indexing of (e, 2) arrays took 1.2 ms for the
        # spanning-tree pairs of 10^5 points, np.take 0.07 ms (throw-away timing)
        return _Gathered(
            sizes, starts, np.take(batch.points, rows), np.take(out.centrality, rows),
            np.take(out.joins, join_rows, axis=0), np.take(out.tied, tied_rows, axis=0),
            tied_bounds, np.take(batch.mst_pairs, mst_rows, axis=0), mst_bounds,
            batch.max_dists[index],
        )
    parts = [_ref_parts(ref) for ref in refs]

    def bounds_of(k):
        bounds = np.zeros(len(parts) + 1, dtype=np.intp)
        np.cumsum([part[k].shape[0] for part in parts], out=bounds[1:])
        return bounds

    starts = bounds_of(0)
    total = int(starts[-1])
    return _Gathered(
        np.diff(starts), starts,
        np.concatenate([part[0] for part in parts]).astype(np.intp, copy=False),
        np.concatenate([part[1] for part in parts]).astype(np.float64, copy=False),
        np.concatenate([part[2] for part in parts]).astype(join_dtype(total), copy=False),
        np.concatenate([part[3] for part in parts]).astype(np.intp, copy=False).reshape(-1, 2),
        bounds_of(3), np.concatenate([part[4] for part in parts]), bounds_of(4),
        np.array([part[5] for part in parts], dtype=np.float64),
    )


def _ref_parts(ref):
    """``(points, centrality, joins, tied, cluster_mst, max_dist)`` of a
    :func:`_ref` with a hierarchy, without building its result."""
    if isinstance(ref, ClusterBranches):
        h = ref.hierarchy
        return ref.points, ref.centrality, h.joins, h.tied, ref.cluster_mst, ref.max_dist
    return ref[0].parts(ref[1])


def _cluster_mst(space, points, cluster_id, cluster_labels, global_mst,
                 core_distances, alpha, local):
    """In-cluster spanning tree edges ``(src, dst, w)`` in local ids."""
    if global_mst is not None:
        a = global_mst[:, 0].astype(np.intp)
        b = global_mst[:, 1].astype(np.intp)
        keep = (cluster_labels[a] == cluster_id) & (cluster_labels[b] == cluster_id)
        return local[a[keep]], local[b[keep]], global_mst[keep, 2]
    edges = space.subset_mst(points, core_distances, alpha)
    return edges[:, 0].astype(np.intp), edges[:, 1].astype(np.intp), edges[:, 2]


#: Use the kd-tree sweep (no materialised graph) for ``full`` graphs on
#: kd-tree spaces; the CSR path is the reference (tests switch this off).
_USE_FULL_SWEEP = True

#: Leaf size of the per-cluster kd-tree of the ``full`` graph.
_CLUSTER_LEAF_SIZE = 40

#: The batched ``full`` pass cuts a cluster's kd-tree from the fit's when
#: the subtree holding the cluster has at most this many nodes per point of
#: the cluster, and builds one otherwise (tests vary it).
_SUBSET_NODES_PER_POINT = 4
#: Batched ``full`` clusters of at most :func:`_brute_cluster_max` points
#: sweep all pairs (:func:`~.sweep.brute_full_sweep`) instead of a kd-tree:
#: the same result, faster for small clusters. None: the limit depends on
#: the dimension; a number overrides it (the tests run both sweeps).
_BRUTE_CLUSTER_MAX = None


def _brute_cluster_max(n_features):
    """Largest batched cluster that sweeps all pairs. One cluster's sweep
    and partners (tree cut included) are faster on all pairs up to about
    3,000 points of random-walk clusters in 2-D, 3-D and 16-D and 3,800 in
    8-D, and still at 4,000 points of flared blobs in 2-D and 8-D
    (``benchmarks/branch_kernels.py``: 2,092 random-walk points in 2-D,
    470 us against 557 us; 4,400: 1,473 against 1,135 us). Results do not
    depend on it."""
    if _BRUTE_CLUSTER_MAX is not None:
        return _BRUTE_CLUSTER_MAX
    return 2048


def _cluster_kdtree(space, points):
    """Kd-tree over a cluster's points; its original ids are the local ids."""
    return build_kdtree(np.ascontiguousarray(space.X[points]), _CLUSTER_LEAF_SIZE)


def _full_graph_edges(space, points, max_dist, alpha, src_m, dst_m, reach=None):
    """Edges of the ``full`` graph (local ids, duplicates allowed)."""
    if space.kind == "precomputed":
        src, dst = dense_full_graph_edges(reach, max_dist)
    elif space.kind == "kd_tree":
        # the sweep's exact edge test: d_ij / alpha <= max_dist
        src, dst = full_graph_pairs(
            _cluster_kdtree(space, points), max_dist, float(alpha), space.p
        )
    else:
        src, dst = space.radius_pairs(points, max_dist * alpha)
    # spanning-tree edges always belong (guards rounding at the bound)
    return np.concatenate((src, src_m)), np.concatenate((dst, dst_m))


def detect_cluster_branches(
    space, points, cluster_id, *, cluster_labels, cluster_probabilities,
    core_distances, neighbors, global_mst, alpha, method, local, selection,
):
    """Run the branch pass on one cluster. ``local`` is a scratch array."""
    m = points.shape[0]
    # a full graph on a kd-tree is swept, which orders the centralities itself
    sweep = method == "full" and space.kind == "kd_tree" and _USE_FULL_SWEEP
    local[points] = np.arange(m)
    reach = None
    try:
        src_m, dst_m, w_m = _cluster_mst(
            space, points, cluster_id, cluster_labels, global_mst,
            core_distances, alpha, local,
        )
        if space.kind == "precomputed":
            reach = space.reachability(points, core_distances, alpha)
            with np.errstate(divide="ignore"):
                centrality = 1.0 / reach.max(axis=0)
        else:
            with np.errstate(divide="ignore"):
                centrality = 1.0 / space.centroid_distances(
                    points, _centroid_weights(cluster_probabilities[points], selection)
                )
        if not sweep:
            order, rank = centrality_order(np.ascontiguousarray(centrality, np.float64))
        if method == "core":
            src, dst = core_graph_edges(
                points, local, neighbors, src_m, dst_m, rank, np.arange(m)
            )
    finally:
        local[points] = -1
    max_dist = float(w_m.max()) if w_m.shape[0] else 0.0
    cluster_mst = np.column_stack((src_m, dst_m)).astype(np.intp)
    if sweep:
        # no materialised graph; the spanning-tree edges pass the sweep's edge
        # test by themselves (Boruvka weighs them max(core_i, core_j, d/alpha)
        # with the same expression), so this is the CSR path's graph
        centrality = np.ascontiguousarray(centrality, np.float64)
        if space.brute:  # all pairs, no kd-tree: the same result
            tree_edges, partner = brute_full_sweep(
                np.ascontiguousarray(space.X[points]), centrality, max_dist, float(alpha),
                space.p,
            )
            n_components = m - tree_edges.shape[0]
        else:
            tree_edges, n_components, partner = full_graph_spanning_tree(
                _cluster_kdtree(space, points), centrality, max_dist, float(alpha), space.p,
            )
        graph = None
    else:
        if method == "full":
            src, dst = _full_graph_edges(space, points, max_dist, alpha, src_m, dst_m, reach)
        if method == "core":
            # not kept, so rows need only the earlier neighbours, in any
            # order: the spanning tree and the partners only look back
            indptr, indices = grouped_csr(src, dst, m)
        else:
            indptr, indices = symmetric_csr(src, dst, m)
        tree_edges, n_components = centrality_spanning_tree(
            indptr, indices, order, rank, centrality
        )
        partner = _csr_partners(
            space, points, indptr, indices, rank, tied_joiners(tree_edges, m)
        )
        # a core graph is rebuilt from the neighbour lists when asked for
        graph = None if method == "core" else np.column_stack(csr_upper_edges(indptr, indices))
    kept_neighbors = neighbors if method == "core" else None
    if n_components > 1:
        comp = _component_labels(tree_edges, m)
        return ClusterBranches(
            points, centrality, graph, tree_edges, None, None, comp, max_dist, cluster_mst,
            kept_neighbors,
        )
    linkage = mst_to_linkage_sized(
        tree_edges, m, partner, point_sizes(selection.get("point_weight"), m)
    )
    flat = extract_flat_clustering(linkage, **selection)
    return ClusterBranches(
        points, centrality, graph, None, _hierarchy(tree_edges, partner, selection), flat, None,
        max_dist, cluster_mst, kept_neighbors,
    )


def _options(selection):
    """:func:`~flasc_cluster._hdbscan.flat.selection_options` of a selection
    dict (whose ``point_weight``, if any, is not an option)."""
    return selection_options(**{k: v for k, v in selection.items() if k != "point_weight"})


def _hierarchy(tree_edges, partner, selection):
    """The :class:`BranchHierarchy` of a spanning tree (float64 rows
    ``[a, b, w]``), its partners (intp (m,), -1 where none) and the
    selection dict of its flat clustering."""
    m = partner.shape[0]
    tied = np.flatnonzero(partner >= 0)
    return BranchHierarchy(
        tree_edges[:, :2].astype(join_dtype(m)),
        np.column_stack((tied, partner[tied])).astype(np.intp),
        selection.get("point_weight"), _options(selection),
    )


def _csr_partners(space, points, indptr, indices, rank, joiners):
    """Partners of the ``joiners`` (local ids) in a CSR graph, -1 elsewhere.

    A joiner's partner is its nearest neighbour ranked before it in
    centrality order (``rank`` from :func:`centrality_order`; distance ties
    by smallest local id), the same rule as the ``full`` sweep's
    :func:`~flasc_cluster._branches.sweep.earlier_partners`; only the
    joiners' rows are measured.
    """
    m = points.shape[0]
    partner = np.full(m, -1, dtype=np.intp)
    if joiners.shape[0] == 0:
        return partner
    starts = indptr[joiners]
    degree = indptr[joiners + 1] - starts
    row = np.repeat(joiners, degree)
    entry = np.arange(row.shape[0]) + np.repeat(starts - (np.cumsum(degree) - degree), degree)
    col = indices[entry]
    keep = rank[col] < rank[row]
    row = row[keep]
    col = col[keep]
    if row.shape[0] == 0:
        return partner
    dist = space.edge_distances(points[row], points[col])
    order = np.lexsort((col, dist, row))
    row = row[order]
    first = np.r_[True, row[1:] != row[:-1]]
    partner[row[first]] = col[order][first]
    return partner


def _centroid_weights(probabilities, selection):
    """Centroid weights: probability times sample weight (if any is positive)."""
    weight = selection.get("point_weight")
    if weight is None:
        return probabilities
    product = probabilities * weight
    return product if product.sum() > 0.0 else probabilities


def _component_labels(edges, m):
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix(
        (np.ones(edges.shape[0]), (edges[:, 0].astype(np.intp), edges[:, 1].astype(np.intp))),
        shape=(m, m),
    )
    return connected_components(g, directed=False)[1].astype(np.intp)


#: ``index`` argument of :func:`label_order` for labels read in place.
_ALL = np.empty(0, dtype=np.intp)


def label_order(labels, index, n_labels):
    """``(order, bounds)`` of :func:`~flasc_cluster._kernels.sorting.label_order`,
    its arrays allocated by numpy."""
    n = index.shape[0] if index.shape[0] else labels.shape[0]
    order = np.empty(n, dtype=np.intp)
    bounds = sorting.label_order(labels, index, n_labels, order, np.empty(n, dtype=np.intp))
    return order, bounds


def _threads_safe():
    """Whether numba's parallel kernels may run from several threads at once
    (the ``workqueue`` threading layer aborts on concurrent launches)."""
    try:
        return numba.threading_layer() in ("omp", "tbb")
    except ValueError:  # no parallel kernel has run yet
        return False


def _map_clusters(one_cluster, sizes, n):
    """``[one_cluster(c, local) for c in range(len(sizes))]``, clusters in parallel.

    Clusters holding at least ``1 / n_threads`` of the clustered points run
    one after the other with every numba thread; the others are spread over
    a pool of ``n_threads`` Python threads, each running its kernels on one
    numba thread (the kernels release the GIL). ``local`` is a scratch
    array of ``n`` entries, all -1, owned by one thread at a time.
    """
    n_clusters = sizes.shape[0]
    n_threads = numba.get_num_threads()
    results = [None] * n_clusters
    total = int(sizes.sum())
    big = sizes * n_threads >= total
    small = np.flatnonzero(~big)
    local = np.full(n, -1, dtype=np.intp)
    for c in np.flatnonzero(big):
        results[c] = one_cluster(c, local)
    if small.shape[0] < 2 or n_threads < 2 or not _threads_safe():
        for c in small:
            results[c] = one_cluster(c, local)
        return results
    scratch = queue.SimpleQueue()
    scratch.put(local)
    for _ in range(n_threads - 1):
        scratch.put(np.full(n, -1, dtype=np.intp))

    def task(c):
        numba.set_num_threads(1)  # thread-local in numba
        buffer = scratch.get()
        try:
            results[c] = one_cluster(c, buffer)
        finally:
            scratch.put(buffer)

    pool = _worker_pool(n_threads)
    # largest first, so that the pool ends evenly
    futures = [pool.submit(task, c) for c in small[np.argsort(-sizes[small], kind="stable")]]
    # every task ends before an error is raised: none is left running on the
    # kept pool, ahead of the next fit's tasks
    wait(futures)
    for future in futures:
        future.result()
    return results


def _batchable(space, method, global_mst, sample_weight):
    """Whether :func:`_batch_branches` serves this fit's clusters."""
    return (
        space.kind == "kd_tree"
        # a small space's clusters run one by one: their kernels are those of
        # the clustering pass, with no batch kernel to compile on a first fit
        and not space.brute
        and global_mst is not None
        and sample_weight is None
        and (method == "core" or _USE_FULL_SWEEP)
    )


def _work_chunks(sizes, n_threads):
    """Cluster indices in chunks for ``n_threads`` threads that pull the next
    chunk when free: largest work first (work ~ size log size); clusters
    are gathered until a chunk holds ``1 / (8 n_threads)`` of the work, so
    a large cluster is a chunk of its own and the many small ones cost few
    kernel calls. One thread gets a single chunk."""
    order = np.argsort(-(sizes * np.log2(sizes + 1.0)), kind="stable")
    if n_threads <= 1:
        return [order.astype(np.intp)]
    work = sizes[order] * np.log2(sizes[order] + 1.0)
    target = float(work.sum()) / (8 * n_threads)
    order = order.astype(np.intp)
    ends = []
    acc = 0.0
    for t, w in enumerate(work.tolist()):  # Python floats: no numpy scalar per cluster
        acc += w
        if acc >= target:
            ends.append(t + 1)
            acc = 0.0
    if not ends or ends[-1] != order.shape[0]:
        ends.append(order.shape[0])
    return [order[a:b] for a, b in zip([0] + ends[:-1], ends)]


def _run_chunks(run, chunks, n_threads):
    """``run(chunk)`` for each of the ``chunks``, on the calling thread and
    up to ``n_threads - 1`` pool threads, each taking the next chunk (in the
    order given) when free: :func:`_run_staged` without stages or
    scratch."""
    n_slots = min(n_threads, len(chunks)) + 1
    _run_staged(lambda chunk, slot: run(chunk), chunks, n_threads, [None] * n_slots)


def _run_staged(run, chunks, n_threads, slots, stages=None):
    """``run(chunk, slot)`` for each of the ``chunks``, on the calling
    thread and up to ``n_threads - 1`` pool threads, each taking the next
    chunk (in the order given) when free. The calling thread works too
    rather than wait: a re-selection of three clusters on two threads spent
    3 ms per call starting a thread it then left idle.

    ``slots``: at least ``min(n_threads, len(chunks)) + 1`` scratch
    objects; a task holds one of them, which no other task is given
    meanwhile. ``stages``: None, or ``(open_, close)``, with which a chunk
    of one cluster ``c`` runs in two tasks, ``state = open_(c, slot)``,
    then ``close(c, state, slot)``, with the same slot, maybe on another
    thread. Three equal clusters on two threads then end together, where
    whole ones leave a thread idle for a third of the time (the ``core``
    kernels of the 33k-point clusters of flared 100k x 2: 18.0 -> 14.7 ms,
    medians of 40 alternating calls in a throw-away script). A free thread opens the next chunk
    while a slot is free, else closes an opened one (one always waits
    then: with ``n_workers + 1`` slots, the other workers hold at most
    ``n_workers - 1``).
    """
    n_workers = min(n_threads, len(chunks))
    if n_workers <= 1:
        for chunk in chunks:
            run(chunk, slots[0])
        return
    open_, close = stages if stages is not None else (None, None)
    todo = collections.deque(chunks)
    opened = collections.deque()
    free = list(slots)
    state = {"opening": 0, "failed": False}
    changed = threading.Condition()

    def next_task():
        with changed:
            while not state["failed"]:
                if todo and free:
                    chunk = todo.popleft()
                    staged = open_ is not None and chunk.shape[0] == 1
                    state["opening"] += staged
                    return (open_ if staged else run), chunk, None, free.pop()
                if opened:
                    return (close, *opened.popleft())
                if not todo and not state["opening"]:
                    return None
                changed.wait()
            return None

    def worker():
        while True:
            task = next_task()
            if task is None:
                return
            step, chunk, opened_state, slot = task
            try:
                if step is open_:
                    result = open_(int(chunk[0]), slot)
                elif step is close:
                    close(int(chunk[0]), opened_state, slot)
                else:
                    run(chunk, slot)
            except BaseException:
                with changed:
                    state["failed"] = True
                    changed.notify_all()
                raise
            with changed:
                if step is open_:
                    state["opening"] -= 1
                    opened.append((chunk, result, slot))
                else:
                    free.append(slot)
                changed.notify_all()

    pool = _worker_pool(n_workers - 1)
    futures = [pool.submit(worker) for _ in range(n_workers - 1)]
    try:
        worker()
    finally:
        for future in futures:
            future.result()


def _on_threads(run, sizes):
    """``run(chunk)`` over chunks of the cluster indices ``0..len(sizes)-1``
    (:func:`_work_chunks`) on numba's thread count (:func:`_run_chunks`):
    Python threads running ``nogil`` kernels, so that no OpenMP team is
    left spinning beside the branch kernels that follow."""
    n_threads = numba.get_num_threads()
    _run_chunks(run, _work_chunks(sizes, n_threads), n_threads)


_POOL = None
_POOL_LOCK = threading.Lock()


def _worker_pool(n_workers):
    """A thread pool with at least ``n_workers`` threads, kept between fits.

    A new thread's first cluster runs about twice as long as the same
    cluster on a thread that has run one before (its memory is fresh), and
    starting threads costs milliseconds: a re-selection of three 33k-point
    clusters took 16–20 ms on a new pool thread, 9–10 ms on the calling
    thread. Idle threads cost nothing; a forked child starts a new pool.
    """
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL._max_workers < n_workers:
            if _POOL is not None:
                _POOL.shutdown(wait=False)
            _POOL = ThreadPoolExecutor(
                max_workers=n_workers, thread_name_prefix="flasc_cluster"
            )
        return _POOL


def _forget_pool():
    global _POOL, _POOL_LOCK
    _POOL = None
    _POOL_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _batch_branches(space, clusters, cluster_labels, bounds, cluster_probabilities,
                    global_mst, neighbors, method, alpha, selection, recentred=None,
                    kept=None):
    """:func:`detect_cluster_branches` of the ``clusters`` (each with 2+
    points; cluster ``c`` has the ``bounds[c + 1] - bounds[c]`` points
    labelled ``c``), a list of clusters per thread (:mod:`.batch`); the same
    results, held by a :class:`BranchBatch` (``clusters[b]`` is its
    cluster ``b``). A ``full`` graph cuts each cluster's tree from its
    rows of the space's kd-tree, a ``core`` graph reads the neighbour lists
    in their order. ``recentred``: None or ``(ids, first, values)`` for
    clusters whose centralities a re-selection's order check already
    formed (:func:`_same_order`): cluster ``ids[k]``'s, in the order of its
    points, from ``values[first[k]]`` on; the kernels then do not form them
    again."""
    n_threads = numba.get_num_threads()
    gathered = None if kept is None else _gather_kept(kept, cluster_labels.shape[0])
    if gathered is None:
        gathered = gather_batch(
            cluster_labels, bounds, clusters, global_mst, space.mst_tree.idx_array,
            run_beside=_run_beside if n_threads > 1 else None,
        )
    points, starts, local = gathered.points, gathered.bounds, gathered.local
    mst_pairs, mst_bounds, max_dists = gathered.mst_pairs, gathered.mst_bounds, gathered.max_dists
    X = np.ascontiguousarray(space.X, dtype=np.float64)
    flat_options = selection_options(**selection)
    out = batch_outputs(points.shape[0], clusters.shape[0])
    known = np.zeros(clusters.shape[0], dtype=np.bool_)
    if recentred is not None:
        put_known(clusters, starts, *recentred, out.centrality, known)
    rows = gathered.rows
    if method != "core":
        # the fit's tree, cut at the cluster trees' leaf size (a tree with larger
        # leaves, from a larger ``leaf_size``, is not cut: every cluster builds)
        cut_from = space.tree_for_leaf_size(_CLUSTER_LEAF_SIZE)
        nodes_per_point = float(_SUBSET_NODES_PER_POINT)
        if cut_from is None:
            cut_from = space.mst_tree
            nodes_per_point = 0.0

    weights = np.ascontiguousarray(cluster_probabilities, dtype=np.float64)

    chunks = _work_chunks(np.diff(starts), n_threads)
    n_slots = min(n_threads, len(chunks)) + 1
    if method == "core":
        # scratch for the edges and CSR of the largest cluster, reused by
        # every chunk: fresh scratch per chunk (3 m k entries) would fault in
        # new pages for every cluster of 10^5 points. The edges are needed
        # while a cluster opens (one pair per thread), its CSR until it
        # closes (one per slot). Local ids fit int32: half the memory to
        # fault in and to stream through (the branch pass of the 1m_2d core
        # cell: 614 -> 566 ms, median of 8)
        edge_counts = np.diff(starts) * neighbors.shape[1] + np.diff(mst_bounds)
        size, dtype = int(edge_counts.max()), join_dtype(starts[-1])
        pairs = queue.SimpleQueue()
        for _ in range(min(n_threads, len(chunks))):
            pairs.put(np.empty((2, size), dtype=dtype))
        slots = [np.empty(size, dtype=dtype) for _ in range(n_slots)]

        def with_pair(kernel, clusters_or_b, indices, *tail):
            # core_clusters (a group) and core_open (one cluster) share
            # their leading arguments; a thread's pair of edge arrays
            pair = pairs.get()
            try:
                return kernel(
                    X, points, starts, clusters_or_b, weights, space.p, local, neighbors,
                    mst_pairs, mst_bounds, space.mst_tree.idx_array, rows, pair, indices,
                    *tail,
                )
            finally:
                pairs.put(pair)

        def run(group, indices):
            with_pair(core_clusters, group, indices, flat_options, known, out)

        def open_(b, indices):
            return with_pair(core_open, b, indices, known, out)

        def close(b, opened, indices):
            core_close(X, b, starts[b], space.p, opened, indices, flat_options, out)

        stages = (open_, close)
    else:
        slots = [None] * n_slots
        full_args = (
            weights, max_dists, float(alpha), space.p, cut_from, rows, local,
            _CLUSTER_LEAF_SIZE, nodes_per_point, _brute_cluster_max(X.shape[1]),
        )

        def open_(b, _):
            return full_open(X, points, starts, b, *full_args, known, out)

        def close(b, opened, _):
            full_close(b, starts[b], opened, flat_options, out)

        # the sweep stays with its tree cut (full_open); three clusters on
        # two threads then close while the third sweeps
        stages = (open_, close)

        def run(group, _):
            full_clusters(
                X, points, starts, group, weights, max_dists, float(alpha), space.p,
                cut_from, rows, local, _CLUSTER_LEAF_SIZE, nodes_per_point,
                _brute_cluster_max(X.shape[1]), flat_options, known, out,
            )

    _run_staged(run, chunks, n_threads, slots, stages)
    return BranchBatch(
        points, starts, out, starts[:-1], mst_pairs, mst_bounds, max_dists, flat_options,
        neighbors if method == "core" else None, rows=rows,
    )


def _block_index(first, lengths):
    """The positions ``first[t]:first[t] + lengths[t]`` one block after the
    other (intp arrays), and each block's first position in the result."""
    starts = np.zeros(lengths.shape[0] + 1, dtype=np.intp)
    np.cumsum(lengths, out=starts[1:])
    index = np.arange(starts[-1], dtype=np.intp)
    index += np.repeat(first - starts[:-1], lengths)
    return index, starts


def _gather_kept(kept, n):
    """The :class:`.batch.BatchInputs` of clusters that keep the points of
    clusters of one earlier kernel batch (``kept``: their ``(batch,
    index)`` pairs, :func:`_reused`), copied from that batch's arrays (the
    same arrays :func:`.batch.gather_batch` gives: each cluster's points,
    tree rows and spanning-tree edges depend on its points only), or None
    when they do not all come from one such batch."""
    held = _one_batch(kept)
    if held is None or held[0].rows is None:
        return None
    batch, index = held
    point_rows, starts, edge_rows, mst_bounds = _batch_blocks(batch, index)
    points = np.take(batch.points, point_rows)  # np.take: see _gather_refs
    local = np.full(n, -1, dtype=np.intp)
    local[points] = point_rows - np.repeat(batch.starts[index], np.diff(starts))
    return BatchInputs(
        points, starts, local, np.take(batch.mst_pairs, edge_rows, axis=0), mst_bounds,
        batch.max_dists[index], np.take(batch.rows, point_rows),
    )


def _run_beside(run):
    """Start ``run()`` on a pool thread; returns a callable that waits for
    it (and raises its error)."""
    return _worker_pool(1).submit(run).result


def _batch_reselect(olds, selection, centralities):
    """For each of the ``olds`` (:func:`_ref` of results with a hierarchy,
    points of size one), the same result with its branches selected again,
    all in one kernel call (:func:`.batch.select_clusters`), held by a
    :class:`BranchBatch` (in the order of ``olds``).
    ``centralities``: per old result, its new centralities (the tree is
    kept: :func:`_same_order`) or None for its own."""
    gathered = _gather_refs(olds)
    sizes, starts, points = gathered.sizes, gathered.starts, gathered.points
    total = int(starts[-1])
    centrality = gathered.centrality  # a new array: the new centralities go into it
    bound = starts.tolist()
    for t, values in enumerate(centralities):
        if values is not None:
            centrality[bound[t]:bound[t + 1]] = values
    joins = gathered.joins.astype(join_dtype(total), copy=False)
    tied, tied_bounds = gathered.tied, gathered.tied_bounds
    mst_pairs, mst_bounds = gathered.mst_pairs, gathered.mst_bounds
    out = batch_outputs(total, sizes.shape[0], selection_only=True)
    options = selection_options(**selection)
    _on_threads(
        lambda chunk: select_clusters(
            centrality, joins, tied, tied_bounds, starts, chunk, options, out,
        ),
        sizes,
    )
    out = out._replace(
        centrality=centrality, joins=joins, n_edges=sizes - 1, tied=tied,
        n_tied=np.diff(tied_bounds),
    )
    first = next((old for old in olds if not isinstance(old, ClusterBranches)), None)
    return BranchBatch(
        points, starts, out, tied_bounds[:-1], mst_pairs, mst_bounds, gathered.max_dists,
        options,
        first[0].neighbors if first is not None else None, sources=list(olds),
    )


def _batch_flat(out, start, end, chosen):
    """The :class:`FlatClustering` of the cluster at rows ``start:end`` of a
    batch kernel's outputs ``out``, whose selected branches are at rows
    ``start:chosen`` (Python ints), without its condensed tree
    (:attr:`ClusterBranches.condensed_tree` derives it)."""
    return FlatClustering(
        out.labels[start:end], out.probabilities[start:end], out.persistence[start:chosen],
        None, out.selected[start:chosen],
    )


def _match_previous(previous, cluster_labels, cluster_probabilities, n_clusters):
    """Start :func:`.batch.previous_clusters` for :func:`_reused` on a pool
    thread when there is more than one (beside the label order, which
    reads the same labels); returns ``(old_label, same, wait)``."""
    old_label = np.empty(n_clusters, dtype=np.intp)
    same = np.empty(n_clusters, dtype=np.bool_)

    def run():
        previous_clusters(
            cluster_labels, previous.cluster_labels, previous.cluster_probabilities,
            cluster_probabilities, old_label, same,
        )

    return old_label, same, (_run_beside(run) if numba.get_num_threads() > 1 else _run_now(run))


def _reused(previous, old_label, same, bounds):
    """Per cluster, the previous fit's result (:func:`_ref`) for the same
    points when it has a branch hierarchy, else None, as two lists:
    ``(same, moved)``, the clusters whose every probability is unchanged
    in ``same``, the others in ``moved`` (their centroid moved;
    :func:`_same_order`).

    A cluster matches a previous one when all its points had that one's
    label (``old_label``, from :func:`_match_previous`) and the two have
    the same size; ``same`` per cluster whether every probability is kept.
    """
    n_clusters = bounds.shape[0] - 1
    reused = [None] * n_clusters
    moved = [None] * n_clusters
    old_clusters = previous.branches.clusters
    # Python ints and bools: no numpy scalar per cluster
    labels = old_label.tolist()
    kept = same.tolist()
    sizes = np.diff(bounds).tolist()
    for c, label in enumerate(labels):
        if label < 0:
            continue
        old = _ref(old_clusters, label)  # not built: a batch answers from its arrays
        if isinstance(old, ClusterBranches):
            match = old.hierarchy is not None and old.points.shape[0] == sizes[c]
        else:
            match = old[0].connected(old[1]) and old[0].size(old[1]) == sizes[c]
        if match:
            (reused if kept[c] else moved)[c] = old
    return reused, moved


def _same_order(space, moved, order, bounds, cluster_probabilities):
    """``(cluster, old result, new centralities)`` for the clusters of
    ``moved`` (:func:`_reused`) whose
    points keep their centrality order and ties although the centroid
    moved (:func:`.batch.recentred_in_same_order`), and the new
    centralities of the others as ``(ids, first, values)`` (cluster
    ``ids[k]``'s from ``values[first[k]]`` on), which the branch kernels
    take rather than form them again (:func:`.batch.put_known`).

    The sweeps read only that order (ties broken by id) and the graph, and
    the joiners with a partner are the ones whose centrality another
    joiner shares, so the spanning tree and the partners are the old
    ones; only the weights, and with them the selection, change. A
    ``min_cluster_size`` or persistence change that moves a cluster's
    probabilities often leaves small clusters so.
    """
    clusters = [c for c, old in enumerate(moved) if old is not None]
    if not clusters:
        return [], None
    gathered = _gather_refs([moved[c] for c in clusters])
    sizes, starts, points = gathered.sizes, gathered.starts, gathered.points
    old = gathered.centrality
    # the joining points in merge order, m - 1 rows per cluster (each has a
    # spanning tree)
    joiners = np.ascontiguousarray(gathered.joins[:, 0], dtype=np.intp)
    new = np.empty_like(old)
    same = np.zeros(len(clusters), dtype=np.bool_)
    X = np.ascontiguousarray(space.X, dtype=np.float64)
    weights = np.ascontiguousarray(cluster_probabilities, dtype=np.float64)
    _on_threads(
        lambda chunk: recentred_in_same_order(
            X, points, starts, chunk, weights, space.p, old, joiners, new, same,
        ),
        sizes,
    )
    bound = starts.tolist()
    kept = same.tolist()
    changed = ~same
    return (
        [(c, moved[c], new[bound[t]:bound[t + 1]]) for t, c in enumerate(clusters) if kept[t]],
        (np.array(clusters, dtype=np.intp)[changed], starts[:-1][changed], new),
    )


def detect_branches(
    space, *, cluster_labels, cluster_probabilities, n_clusters, core_distances,
    neighbors, global_mst, alpha, method, selection, label_sides_as_branches,
    previous=None, sample_weight=None,
):
    """Branch pass over every cluster and FLASC's combined labelling.

    ``previous``: an earlier FitResult with the same graph method; a
    cluster with the same points and probabilities (:func:`_reused`) reuses
    its centrality hierarchy and only runs the selection again.

    ``sample_weight``: None or float64 (n,); branch sizes are then weight
    sums (as fast_hdbscan's ``BranchDetector``) and the centroid weighs each
    point by probability times weight.
    """
    n = cluster_labels.shape[0]
    if previous is not None:
        old_label, same, matched = _match_previous(
            previous, cluster_labels, cluster_probabilities, n_clusters
        )
    kept_order = None if previous is None else previous.branches.label_order
    if kept_order is not None and np.array_equal(cluster_labels, previous.cluster_labels):
        order, bounds = kept_order  # the same labels (read only)
    else:
        order, bounds = label_order(cluster_labels, _ALL, n_clusters)
    results = ClusterResults(n_clusters)
    reused = [None] * n_clusters
    recentred = None
    batchable = _batchable(space, method, global_mst, sample_weight)
    if previous is not None:
        matched()
        reused, moved = _reused(previous, old_label, same, bounds)
    if sample_weight is None:
        # clusters that keep their points and probabilities, or their
        # points and centrality order: one kernel call selects all their
        # branches again
        kept = [(c, old, None) for c, old in enumerate(reused) if old is not None]
        if previous is not None and batchable:
            # the centralities as the batch kernels form them (those of the
            # clusters that change order are passed on to the kernels)
            same_order, recentred = _same_order(
                space, moved, order, bounds, cluster_probabilities
            )
            kept += same_order
        if kept:
            results.put_batch([c for c, _, _ in kept], _batch_reselect(
                [old for _, old, _ in kept], selection, [new for _, _, new in kept]
            ))

    def one_cluster(c, local):
        points = order[bounds[c]:bounds[c + 1]]  # increasing: the sort is stable
        cluster_selection = selection if sample_weight is None else dict(
            selection, point_weight=sample_weight[points]
        )
        old = reused[c]
        if old is not None:
            old = _materialized(old)
            return old._replace(
                flat=extract_flat_clustering(old.linkage, **cluster_selection),
                hierarchy=old.hierarchy._replace(options=_options(cluster_selection)),
            )
        if points.shape[0] < 2:
            return ClusterBranches(
                points, np.full(points.shape[0], np.inf), np.empty((0, 2), np.intp),
                None, None, None, None,
            )
        return detect_cluster_branches(
            space, points, c, cluster_labels=cluster_labels,
            cluster_probabilities=cluster_probabilities,
            core_distances=core_distances, neighbors=neighbors,
            global_mst=(
                None if global_mst is None
                else global_mst[edge_order[edge_bounds[c]:edge_bounds[c + 1]]]
            ),
            alpha=alpha, method=method, local=local,
            selection=cluster_selection,
        )

    sizes = np.diff(bounds)
    if batchable:
        # whole clusters, a list per thread (the sweep is serial anyway)
        missing = np.array(results.missing(), dtype=np.intp)
        batched = missing[sizes[missing] >= 2]
        if batched.shape[0]:
            # clusters that keep an earlier kernel batch's points gather from it
            refs = None if previous is None else [moved[c] for c in batched.tolist()]
            results.put_batch(batched.tolist(), _batch_branches(
                space, batched, cluster_labels, bounds, cluster_probabilities, global_mst,
                neighbors, method, alpha, selection, recentred,
                None if refs is None or None in refs else refs,
            ))
    rest = np.array(results.missing(), dtype=np.intp)
    edge_order = edge_bounds = None
    if rest.shape[0] and global_mst is not None:
        # spanning-tree edges inside each cluster, grouped once (order kept)
        edge_labels = np.empty(global_mst.shape[0], dtype=np.intp)
        inside_edge_labels(cluster_labels, global_mst, edge_labels)
        edge_order, edge_bounds = label_order(edge_labels, _ALL, n_clusters)
        edge_order = edge_order[edge_bounds[0]:edge_bounds[-1]]
        edge_bounds = edge_bounds - edge_bounds[0]
    if rest.shape[0]:
        for c, result in zip(rest.tolist(), _map_clusters(
            lambda i, local: one_cluster(rest[i], local), sizes[rest], n
        )):
            results.put(c, result)

    return _combine(results, cluster_labels, cluster_probabilities, order, bounds,
                    label_sides_as_branches)._replace(label_order=(order, bounds))


def _combine(results, cluster_labels, cluster_probabilities, order, bounds,
             label_sides_as_branches):
    """FLASC's combined labelling from the clusters' branch results (in
    cluster order; cluster ``c``'s points are ``order[bounds[c]:bounds[c + 1]]``).

    A cluster keeps one label unless it has more branches than the limit
    (or a disconnected graph); labels are numbered cluster by cluster. The
    clusters that keep one label, nearly all, are labelled at once.
    """
    n_clusters = len(results)
    limit = 1 if label_sides_as_branches else 2
    n_labels = np.ones(n_clusters, dtype=np.intp)
    split = []  # (cluster, branch labels, branch probabilities, has noise)
    in_batch = np.zeros(n_clusters, dtype=np.bool_)
    for batch, clusters in results.groups():
        # a batch answers from its arrays, without building the results:
        # only split clusters and disconnected graphs are looked at one by one
        in_batch[clusters] = True
        out = batch.out
        sizes = np.diff(batch.starts)
        connected = out.n_edges == sizes - 1
        starts = batch.starts.tolist()
        n_selected = out.n_selected.tolist()
        for b in np.flatnonzero(connected & (out.n_selected > limit)).tolist():
            b_labels = out.labels[starts[b]:starts[b + 1]]
            has_noise = int((b_labels < 0).any())
            split.append((int(clusters[b]), b_labels,
                          out.probabilities[starts[b]:starts[b + 1]], has_noise))
            n_labels[clusters[b]] = n_selected[b] + has_noise
        for b in np.flatnonzero(~connected).tolist():
            c = int(clusters[b])
            b_labels = results[c].component_labels
            split.append((c, b_labels, np.ones(b_labels.shape[0]), 0))
            n_labels[c] = int(b_labels.max()) + 1
    given = np.flatnonzero(~in_batch).tolist()  # clusters with a result of their own
    for c in given:
        result = results[c]
        if result.component_labels is not None:
            b_labels = result.component_labels
            split.append((c, b_labels, np.ones(b_labels.shape[0]), 0))
            n_labels[c] = int(b_labels.max()) + 1
        elif result.flat is not None and result.flat.selected_ids.shape[0] > limit:
            b_labels = result.flat.labels
            has_noise = int((b_labels < 0).any())
            split.append((c, b_labels, result.flat.probabilities, has_noise))
            n_labels[c] = result.flat.selected_ids.shape[0] + has_noise
    first = np.zeros(n_clusters + 1, dtype=np.intp)
    np.cumsum(n_labels, out=first[1:])
    n = cluster_labels.shape[0]
    labels = np.empty(n, dtype=np.intp)
    probabilities = np.empty(n)
    branch_labels = np.empty(n, dtype=np.intp)
    branch_probabilities = np.empty(n)
    centralities = np.empty(n)
    whole_cluster_labels(
        cluster_labels, cluster_probabilities, first, labels, probabilities, branch_labels,
        branch_probabilities, centralities,
    )
    # each batch's centralities in one scatter (every cluster of a batch is here)
    for batch, _ in results.groups():
        centralities[batch.points] = batch.out.centrality[:batch.points.shape[0]]
    for c in given:
        centralities[results[c].points] = results[c].centrality
    if split:
        # the split clusters' branch labels one after the other, labelled in one pass
        clusters = np.array([c for c, _, _, _ in split], dtype=np.intp)
        split_cluster_labels(
            order, bounds, clusters,
            first[clusters] + np.array([noise for _, _, _, noise in split], dtype=np.intp),
            np.concatenate([b for _, b, _, _ in split]).astype(np.intp, copy=False),
            np.concatenate([q for _, _, q, _ in split]).astype(np.float64, copy=False),
            labels, probabilities, branch_labels, branch_probabilities,
        )
    return BranchResult(
        labels, probabilities, branch_labels, branch_probabilities, centralities, results
    )


def _rebuilt_graph_edges(space, cluster, alpha):
    """Edges (local ids, duplicates allowed) of a graph that was not kept."""
    mst_src = cluster.cluster_mst[:, 0]
    mst_dst = cluster.cluster_mst[:, 1]
    if cluster.neighbors is not None:
        ids = np.arange(cluster.points.shape[0])
        local = np.full(cluster.neighbors.shape[0], -1, dtype=np.intp)
        local[cluster.points] = ids
        # any rank and reading order serve: the callers treat the edges as
        # undirected
        return core_graph_edges(
            cluster.points, local, cluster.neighbors,
            np.ascontiguousarray(mst_src), np.ascontiguousarray(mst_dst), ids, ids,
        )
    return _full_graph_edges(space, cluster.points, cluster.max_dist, alpha, mst_src, mst_dst)


def local_graph_csr(space, cluster, alpha):
    """A cluster's approximation graph as CSR over local ids (rebuilt if lazy)."""
    m = cluster.points.shape[0]
    graph = cluster.graph
    if graph is None:
        return symmetric_csr(*_rebuilt_graph_edges(space, cluster, alpha), m)
    return symmetric_csr(graph[:, 0].copy(), graph[:, 1].copy(), m)


def approximation_graph(space, cluster, core_distances, alpha):
    """A cluster's graph as float64 rows ``[i, j, centrality, reachability]``.

    ``i``, ``j`` are global ids (rows of the fitted data); the reachability
    column is ``max(core_i, core_j, d_ij / alpha)``. A graph that was not
    kept (see :class:`ClusterBranches`) is rebuilt here.
    """
    graph = cluster.graph
    if graph is None:
        m = cluster.points.shape[0]
        graph = np.column_stack(
            csr_upper_edges(*symmetric_csr(*_rebuilt_graph_edges(space, cluster, alpha), m))
        )
    src, dst = graph[:, 0], graph[:, 1]
    gi = cluster.points[src]
    gj = cluster.points[dst]
    out = np.empty((src.shape[0], 4))
    out[:, 0] = gi
    out[:, 1] = gj
    out[:, 2] = np.maximum(cluster.centrality[src], cluster.centrality[dst])
    dist = space.pair_distances(gi, gj) / alpha
    out[:, 3] = np.maximum(np.maximum(core_distances[gi], core_distances[gj]), dist)
    return out
