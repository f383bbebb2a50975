"""Brute-force neighbours and spanning tree for small inputs.

Kernel module: only ``@njit`` functions.

Up to :data:`~flasc_cluster._hdbscan.space.BRUTE_MAX_POINTS` points the
kd-tree searches (:mod:`~flasc_cluster._hdbscan.space_tree`,
:mod:`~flasc_cluster._hdbscan.boruvka`) save little, while their kernels are
the largest of the package to compile on a first fit with a cold numba
cache. These two loops over all pairs give the same results bit for bit:
distances through the same
:func:`~flasc_cluster._hdbscan.space_tree.leaf_rdists` and
:func:`~flasc_cluster._hdbscan.space_tree.rdist_to_dist` as the tree
searches, neighbours in the total order ``(distance, index)``, and the
spanning tree that is unique under the order ``(w, min(i, j), max(i, j))``.
"""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE
from .space_tree import leaf_rdists, rdist_reject_bound, rdist_to_dist

#: Relative slack on the triangle-inequality bound of :func:`brute_knn`,
#: far above the rounding error of a few distances.
_HINT_SLACK = 1e-9


@njit(cache=NUMBA_CACHE, nogil=True)
def brute_knn(data, k, p):
    """The ``k`` nearest other points of every row of ``data`` float64 (n, d).

    ``1 <= k <= n - 1``. Returns float64 and intp (n, k) arrays, each row
    ascending by (distance, index), a point's own row excluded and other
    points at distance 0 kept: exactly
    :func:`~flasc_cluster._hdbscan.space_tree.knn_query`.

    A row listed among the neighbours of an earlier row ``h`` starts its
    scan with a bound instead of none: ``h`` and its other neighbours are
    ``k`` points within ``d(i, h) + d_k(h)`` of it (triangle inequality), so
    no point beyond that bound (with slack for rounding) can be among its
    ``k`` nearest. The bound only skips points; which are kept, and their
    order, do not change.
    """
    n = data.shape[0]
    distances = np.empty((n, k), dtype=np.float64)
    indices = np.empty((n, k), dtype=np.intp)
    columns = np.ascontiguousarray(data.T)
    scratch = np.empty(n, dtype=np.float64)
    hint = np.full(n, np.inf)  # the smallest d(i, h) + d_k(h) over earlier rows h
    for i in range(n):
        leaf_rdists(data, columns, data[i], 0, n, p, scratch)
        r_start = np.inf
        if hint[i] < np.inf:
            r_start = rdist_reject_bound(hint[i] * (1.0 + _HINT_SLACK), p)
        size = _knn_row(scratch, i, k, p, r_start, distances[i], indices[i])
        if size < k:  # a safety net: the bound's slack already covers rounding
            _knn_row(scratch, i, k, p, np.inf, distances[i], indices[i])
        d_k = distances[i, k - 1]
        for q in range(k):
            j = indices[i, q]
            bound = distances[i, q] + d_k
            if bound < hint[j]:
                hint[j] = bound
    return distances, indices


@njit(cache=NUMBA_CACHE, nogil=True)
def _knn_row(scratch, i, k, p, r_max, row_d, row_i):
    """Insert the rows ``j != i`` with ``scratch[j] <= r_max`` (reduced
    distances) into the sorted ``row_d``/``row_i``, keeping the ``k`` first
    by (distance, index); returns how many were kept."""
    size = 0
    for j in range(scratch.shape[0]):
        if j == i:
            continue
        r = scratch[j]
        if r > r_max:
            continue
        d = rdist_to_dist(r, p)
        # rows come in index order, so an equal distance ranks after
        if size < k:
            pos = size
            size += 1
        elif d < row_d[k - 1]:
            pos = k - 1
        else:
            continue
        while pos > 0 and row_d[pos - 1] > d:
            row_d[pos] = row_d[pos - 1]
            row_i[pos] = row_i[pos - 1]
            pos -= 1
        row_d[pos] = d
        row_i[pos] = j
        if size == k:
            r_max = rdist_reject_bound(row_d[k - 1], p)
    return size


@njit(cache=NUMBA_CACHE, nogil=True)
def brute_mst(data, core, alpha, p):
    """Prim's spanning tree of the mutual-reachability graph of ``data``.

    ``core`` float64 (n,) core distances, ``alpha > 0``. The weight of a
    pair is ``max(core_i, core_j, d_ij / alpha)``. Returns float64
    (n - 1, 3) rows ``[min(i, j), max(i, j), w]`` in the order Prim adds
    them; sorted by ``(w, i, j)`` they equal
    :func:`~flasc_cluster._hdbscan.boruvka.boruvka_mst_knn`. The points not
    yet in the tree are kept compacted at the front of working copies
    (each added point swaps with the last), so every step scans them
    contiguously.
    """
    n = data.shape[0]
    edges = np.empty((max(n - 1, 0), 3), dtype=np.float64)
    work = data.copy()
    columns = np.ascontiguousarray(data.T)
    point = np.arange(n)
    rest_core = core.copy()
    best_w = np.full(n, np.inf)
    best_u = np.full(n, -1, dtype=np.intp)
    scratch = np.empty(n, dtype=np.float64)
    v = 0
    t_v = 0
    m = n
    for step in range(n - 1):
        # remove v (at slot t_v) from the rest: the last slot moves there
        x = work[t_v].copy()
        core_v = rest_core[t_v]
        m -= 1
        if t_v != m:
            point[t_v] = point[m]
            rest_core[t_v] = rest_core[m]
            best_w[t_v] = best_w[m]
            best_u[t_v] = best_u[m]
            for q in range(work.shape[1]):
                work[t_v, q] = work[m, q]
                columns[q, t_v] = columns[q, m]
        leaf_rdists(work, columns, x, 0, m, p, scratch)
        # v's pairs improve the best known edges: a strictly lighter pair
        # first (branch-free), equal weights then by (min, max) index
        if p == 2.0 and alpha == 1.0:  # the common case, a loop that vectorises
            for t in range(m):
                scratch[t] = max(core_v, rest_core[t], np.sqrt(scratch[t]))
        else:
            for t in range(m):
                scratch[t] = max(core_v, rest_core[t], rdist_to_dist(scratch[t], p) / alpha)
        tied = False
        for t in range(m):
            w = scratch[t]
            better = w < best_w[t]
            tied |= w == best_w[t]
            best_u[t] = v if better else best_u[t]
            best_w[t] = w if better else best_w[t]
        if tied:
            for t in range(m):
                if scratch[t] == best_w[t]:
                    j = point[t]
                    u = best_u[t]
                    if u < 0 or min(v, j) < min(u, j) or (
                        min(v, j) == min(u, j) and max(v, j) < max(u, j)
                    ):
                        best_u[t] = v
        # the next point: the lightest best edge, ties by (min, max) index
        next_w = np.inf
        for t in range(m):
            if best_w[t] < next_w:
                next_w = best_w[t]
        t_next = -1
        next_lo = 0
        next_hi = 0
        for t in range(m):
            if best_w[t] == next_w:
                j = point[t]
                lo = min(best_u[t], j)
                hi = max(best_u[t], j)
                if t_next < 0 or lo < next_lo or (lo == next_lo and hi < next_hi):
                    t_next = t
                    next_lo = lo
                    next_hi = hi
        edges[step, 0] = next_lo
        edges[step, 1] = next_hi
        edges[step, 2] = next_w
        v = point[t_next]
        t_v = t_next
    return edges
