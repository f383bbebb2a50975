"""Metric spaces: nearest neighbours, spanning trees and range graphs.

Python module. A space wraps the (finite) data and answers the geometric
questions both FLASC passes ask, dispatching to numba kernels (Minkowski
metrics, our kd-tree), to scikit-learn's ``BallTree`` (its other metrics) or
to a dense matrix (``metric="precomputed"``).
"""

import numpy as np

from .prim import prim_mst

#: metric names served by the kd-tree kernels, mapped to their Minkowski p
MINKOWSKI_METRICS = {
    "euclidean": 2.0,
    "l2": 2.0,
    "manhattan": 1.0,
    "cityblock": 1.0,
    "l1": 1.0,
    "chebyshev": np.inf,
    "infinity": np.inf,
    "minkowski": None,  # p from the estimator
}


#: Inputs of at most this many points take the brute-force kernels
#: (:mod:`~flasc_cluster._hdbscan.brute`: all pairs, no kd-tree, clusters'
#: branch passes one by one): with a cold numba cache a first fit compiles
#: in about 20 s instead of the kd-tree path's 68 s (on a
#: 2-core machine), and at this size a warm fit stays within about 2x the
#: kd-tree path's time (22-44 ms against 12-24 ms at 2,500 points in 2 and
#: 8 dimensions). Results do not depend on it.
BRUTE_MAX_POINTS = 3000


def _sorted_knn(dist, idx, k):
    """Drop each row's own index (or, if absent, its last entry); keep k
    neighbours ordered by (distance, index)."""
    n = dist.shape[0]
    is_self = idx == np.arange(n)[:, None]
    is_self[~is_self.any(axis=1), -1] = True
    drop = is_self & (is_self.cumsum(axis=1) == 1)
    dist = dist[~drop].reshape(n, -1)[:, :k]
    idx = idx[~drop].reshape(n, -1)[:, :k]
    order = np.lexsort((idx, dist), axis=-1)
    return (
        np.ascontiguousarray(np.take_along_axis(dist, order, axis=1)),
        np.ascontiguousarray(np.take_along_axis(idx, order, axis=1)),
    )


def _n_levels(n, leaf_size):
    """Levels of the kd-tree over ``n`` points (scikit-learn's rule, as
    :func:`~flasc_cluster._hdbscan.space_tree.tree_n_levels`)."""
    n_levels = 1
    while (1 << n_levels) * leaf_size <= n - 1:
        n_levels += 1
    return n_levels


def _top_levels(tree, n_levels):
    """The first ``n_levels`` levels of a kd-tree as a tree of their own.

    The tree is built level by level, so its top levels are exactly the tree
    a larger leaf size gives; only the order of the rows within a leaf of the
    cut tree differs, which no query depends on. The arrays are shared.
    """
    from .space_tree import KDTree

    n_nodes = (1 << n_levels) - 1
    if n_nodes == tree.node_start.shape[0]:
        return tree
    is_leaf = np.zeros(n_nodes, dtype=np.bool_)
    is_leaf[n_nodes // 2:] = True
    return KDTree(
        tree.data, tree.idx_array, tree.node_start[:n_nodes], tree.node_end[:n_nodes],
        tree.node_lo[:n_nodes], tree.node_hi[:n_nodes], is_leaf,
    )


class KDSpace:
    """Minkowski metrics on the numba kd-tree (the fast path).

    One tree serves both searches: it is built for ``leaf_size // 4``
    (``mst_tree``, about a quarter of the points per leaf), on which the
    spanning tree's searches prune best, and the neighbour searches use its
    top levels, the tree of ``leaf_size`` (``tree``), whose larger leaves
    the vectorised leaf scans prefer. Both are built on first use: with at
    most :data:`BRUTE_MAX_POINTS` points (``brute``) the neighbours, the
    spanning tree and the branch pass scan all pairs instead
    (:mod:`~flasc_cluster._hdbscan.brute`), with the same results, and only
    a prediction builds the tree.
    """

    kind = "kd_tree"

    def __init__(self, X, p, leaf_size):
        self.X = X
        self.p = float(p)
        self.leaf_size = int(leaf_size)
        self.brute = X.shape[0] <= BRUTE_MAX_POINTS
        self._mst_tree = None

    @property
    def mst_tree(self):
        """The kd-tree for ``leaf_size // 4`` (built on first use)."""
        if self._mst_tree is None:
            from .space_tree import build_kdtree, build_kdtree_serial

            # the same tree; a small one is not worth the parallel kernel's compilation
            build = build_kdtree_serial if self.brute else build_kdtree
            self._mst_tree = build(self.X, max(1, self.leaf_size // 4))
        return self._mst_tree

    @property
    def tree(self):
        """The kd-tree for ``leaf_size``: the top levels of :attr:`mst_tree`."""
        return _top_levels(self.mst_tree, _n_levels(self.X.shape[0], self.leaf_size))

    def tree_for_leaf_size(self, leaf_size):
        """The top levels of ``mst_tree`` that form the tree of ``leaf_size``
        (shared arrays), or None when ``mst_tree`` has larger leaves."""
        n_levels = _n_levels(self.X.shape[0], int(leaf_size))
        if (1 << n_levels) - 1 > self.mst_tree.node_start.shape[0]:
            return None
        return _top_levels(self.mst_tree, n_levels)

    def knn(self, k):
        if self.brute:
            from .brute import brute_knn

            return brute_knn(self.X, int(k), self.p)
        from .space_tree import knn_query

        return knn_query(self.tree, int(k), self.p)

    def mst(self, core_distances, alpha, knn=None):
        if self.brute:
            from .brute import brute_mst

            edges = brute_mst(
                self.X, np.ascontiguousarray(core_distances, np.float64), float(alpha), self.p
            )
            return edges[np.lexsort((edges[:, 1], edges[:, 0], edges[:, 2]))]
        from .boruvka import boruvka_mst, boruvka_mst_knn

        if knn is None:
            return boruvka_mst(self.mst_tree, core_distances, float(alpha), self.p)
        knn_dist, knn_ind = knn
        return boruvka_mst_knn(
            self.mst_tree, core_distances, float(alpha), self.p,
            np.ascontiguousarray(knn_dist, np.float64), np.ascontiguousarray(knn_ind, np.intp),
        )

    def subset_mst(self, points, core_distances, alpha):
        from .boruvka import boruvka_mst
        from .space_tree import build_kdtree

        tree = build_kdtree(np.ascontiguousarray(self.X[points]), 40)
        return boruvka_mst(tree, core_distances[points], float(alpha), self.p)

    def pair_distances(self, a, b):
        diff = np.abs(self.X[a] - self.X[b])
        return _minkowski_norm(diff, self.p)

    def point_distances(self, x, rows):
        """Distances from vector ``x`` to the data rows ``rows`` (the kernels'
        formula, bit for bit)."""
        from .space_tree import row_distances

        return row_distances(
            self.X, np.ascontiguousarray(x, dtype=np.float64),
            np.ascontiguousarray(rows, dtype=np.intp), self.p,
        )

    def centroid_distances(self, points, weights):
        return self.point_distances(weighted_mean(self.X[points], weights), points)

    def edge_distances(self, a, b):
        """Distances of the pairs ``(a[e], b[e])`` with the kernels' own
        formula (bit for bit as the sweep's and the tree searches')."""
        from .._branches.graphs import pair_edge_distances

        return pair_edge_distances(self.X, a, b, self.p)


def weighted_mean(rows, weights):
    """``np.average(rows, weights=weights, axis=0)`` bit for bit (the same
    ufunc calls on the same shapes), without its argument checks, which
    dominate for the many small clusters of the branch pass."""
    column = weights.reshape(-1, 1)
    return np.multiply(rows, column).sum(axis=0) / column.sum(axis=0)


def _minkowski_norm(diff, p):
    if p == 2.0:
        return np.sqrt(np.einsum("ij,ij->i", diff, diff))
    if p == 1.0:
        return diff.sum(axis=1)
    if np.isinf(p):
        return diff.max(axis=1)
    return (diff**p).sum(axis=1) ** (1.0 / p)


class BallSpace:
    """Any metric scikit-learn's ``BallTree`` supports (the general path)."""

    kind = "ball_tree"

    def __init__(self, X, metric, metric_params, leaf_size):
        # imported here: the kd-tree path never needs sklearn.neighbors
        from sklearn.metrics import DistanceMetric
        from sklearn.neighbors import BallTree

        self.X = X
        self.metric = metric
        self.metric_params = dict(metric_params or {})
        self.dist = DistanceMetric.get_metric(metric, **self.metric_params)
        self.leaf_size = int(leaf_size)
        self.tree = BallTree(X, metric=metric, leaf_size=self.leaf_size, **self.metric_params)

    def knn(self, k):
        k_query = min(k + 1, self.X.shape[0])
        dist, idx = self.tree.query(self.X, k=k_query)
        return _sorted_knn(dist, idx.astype(np.intp), k)

    def mst(self, core_distances, alpha, knn=None):
        X = self.X
        return prim_mst(lambda i: self.dist.pairwise(X[i : i + 1], X)[0], core_distances, alpha)

    def subset_mst(self, points, core_distances, alpha):
        X = self.X[points]
        return prim_mst(
            lambda i: self.dist.pairwise(X[i : i + 1], X)[0], core_distances[points], alpha
        )

    def pair_distances(self, a, b):
        out = np.empty(a.shape[0])
        order = np.argsort(a, kind="stable")
        starts = np.flatnonzero(np.r_[True, a[order][1:] != a[order][:-1]]) if a.shape[0] else []
        bounds = list(starts) + [a.shape[0]]
        for s, e in zip(bounds[:-1], bounds[1:]):
            rows = order[s:e]
            out[rows] = self.dist.pairwise(self.X[a[rows[0]] : a[rows[0]] + 1], self.X[b[rows]])[0]
        return out

    def point_distances(self, x, rows):
        """Distances from vector ``x`` to the data rows ``rows``."""
        return self.dist.pairwise(x[None], self.X[rows])[0]

    def centroid_distances(self, points, weights):
        return self.point_distances(weighted_mean(self.X[points], weights), points)

    def edge_distances(self, a, b):
        return self.pair_distances(a, b)

    def radius_pairs(self, points, radius):
        pts = self.X[points]
        tree = type(self.tree)(
            pts, metric=self.metric, leaf_size=self.leaf_size, **self.metric_params
        )
        nbrs = tree.query_radius(pts, r=radius)
        counts = np.array([len(x) for x in nbrs], dtype=np.intp)
        src = np.repeat(np.arange(pts.shape[0], dtype=np.intp), counts)
        dst = np.concatenate(nbrs).astype(np.intp) if len(nbrs) else np.empty(0, np.intp)
        keep = src < dst
        return src[keep], dst[keep]


class PrecomputedSpace:
    """A dense square distance matrix."""

    kind = "precomputed"

    def __init__(self, D):
        self.D = D

    def knn(self, k):
        D = self.D
        n = D.shape[0]
        idx = np.empty((n, k), dtype=np.intp)
        dist = np.empty((n, k))
        cols = np.arange(n)
        for i in range(n):
            row = D[i].copy()
            row[i] = np.inf
            # order by (distance, index), self last
            order = np.lexsort((cols, row))[:k]
            idx[i] = order
            dist[i] = row[order]
        return dist, idx

    def mst(self, core_distances, alpha, knn=None):
        return prim_mst(lambda i: self.D[i], core_distances, alpha)

    def subset_mst(self, points, core_distances, alpha):
        sub = self.D[np.ix_(points, points)]
        return prim_mst(lambda i: sub[i], core_distances[points], alpha)

    def pair_distances(self, a, b):
        return self.D[a, b]

    def edge_distances(self, a, b):
        return self.D[a, b]

    def reachability(self, points, core_distances, alpha):
        sub = self.D[np.ix_(points, points)]
        if alpha != 1.0:
            sub = sub / alpha
        core = core_distances[points]
        mr = np.maximum(np.maximum(sub, core[:, None]), core[None, :])
        np.fill_diagonal(mr, core)
        return mr
