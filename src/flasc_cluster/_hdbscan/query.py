"""Nearest training points of new query points (kernel module)."""

import numpy as np
from numba import njit, prange

from .._config import NUMBA_CACHE
from .space_tree import min_rdist_to_node, rdist_reject_bound, rdist_to_dist, rdist_to_row


@njit(cache=NUMBA_CACHE, nogil=True)
def _insert(best_d, best_i, size, d, i):
    """Insert ``(d, i)`` into the sorted arrays (capacity ``best_d.shape[0]``)."""
    k = best_d.shape[0]
    pos = size if size < k else k - 1
    if size == k:
        if d > best_d[k - 1] or (d == best_d[k - 1] and i >= best_i[k - 1]):
            return size
    while pos > 0 and (best_d[pos - 1] > d or (best_d[pos - 1] == d and best_i[pos - 1] > i)):
        best_d[pos] = best_d[pos - 1]
        best_i[pos] = best_i[pos - 1]
        pos -= 1
    best_d[pos] = d
    best_i[pos] = i
    return size + 1 if size < k else size


@njit(cache=NUMBA_CACHE, nogil=True, parallel=True)
def knn_query_points(tree, queries, k, p):
    """The k nearest tree points of every query row, sorted by (distance, index).

    ``queries`` float64 (q, d); returns ``(distances (q, k), indices (q, k))``
    with original indices of the tree's points; requires ``k <= n``.
    """
    nq = queries.shape[0]
    out_d = np.empty((nq, k))
    out_i = np.empty((nq, k), dtype=np.intp)
    for qi in prange(nq):
        x = queries[qi]
        best_d = np.full(k, np.inf)
        best_i = np.full(k, -1, dtype=np.intp)
        size = 0
        r_max = np.inf
        stack = np.empty(256, dtype=np.intp)  # depth-first: 2 per level suffice
        stack[0] = 0
        top = 1
        while top > 0:
            top -= 1
            node = stack[top]
            if min_rdist_to_node(x, tree.node_lo, tree.node_hi, node, p) > r_max:
                continue
            if tree.node_is_leaf[node]:
                for j in range(tree.node_start[node], tree.node_end[node]):
                    r = rdist_to_row(x, tree.data, j, p)
                    if r > r_max:
                        continue
                    size = _insert(best_d, best_i, size, rdist_to_dist(r, p), tree.idx_array[j])
                    if size == k:
                        r_max = rdist_reject_bound(best_d[k - 1], p)
                continue
            left = 2 * node + 1
            right = left + 1
            if min_rdist_to_node(x, tree.node_lo, tree.node_hi, left, p) <= min_rdist_to_node(
                x, tree.node_lo, tree.node_hi, right, p
            ):
                stack[top] = right
                stack[top + 1] = left
            else:
                stack[top] = left
                stack[top + 1] = right
            top += 2
        out_d[qi] = best_d
        out_i[qi] = best_i
    return out_d, out_i
