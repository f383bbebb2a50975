"""Core distances with sample weights (kernel module).

A point of weight ``w`` stands for ``w`` duplicates. Its core distance is
the distance to its ``min_samples``-th nearest *other* point of the
duplicated data: the smallest neighbour distance ``d`` at which
``(w_i - 1) + sum(w_j for neighbours j within d) >= min_samples`` (its own
``w_i - 1`` copies sit at distance 0). With every weight 1 this is the
distance to the ``min_samples``-th nearest other point, as without weights.
fast_hdbscan uses the same rule with the point's full weight against its
``min_samples`` (which counts the point itself).
"""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE


@njit(cache=NUMBA_CACHE, nogil=True)
def weighted_core_distances(knn_dist, neighbors, neighbor_weight, own_weight, min_samples):
    """Weighted core distance of every row from its sorted neighbour list.

    ``knn_dist`` float64 (n, k) and ``neighbors`` intp (n, k): each row's k
    nearest other points sorted by (distance, index); ``neighbor_weight``
    float64 (n_data,) weights of the points ``neighbors`` refers to;
    ``own_weight`` float64 (n,) weight of each row itself. Returns
    ``(core float64 (n,), n_used intp (n,), reached bool (n,))``:
    ``n_used`` neighbours reach the weight (0 when the row's own copies
    do); where ``reached`` is False the k neighbours fall short and
    ``core`` is the distance to the farthest of them with positive weight
    (0 if none), which is the answer once k covers every other point.
    """
    n, k = neighbors.shape
    core = np.zeros(n)
    n_used = np.zeros(n, dtype=np.intp)
    reached = np.zeros(n, dtype=np.bool_)
    target = np.float64(min_samples)
    for i in range(n):
        acc = own_weight[i] - 1.0
        if acc >= target:
            reached[i] = True
            continue
        last = -1
        for q in range(k):
            wq = neighbor_weight[neighbors[i, q]]
            acc += wq
            if wq > 0.0:
                last = q
            if acc >= target:
                core[i] = knn_dist[i, q]
                n_used[i] = q + 1
                reached[i] = True
                break
        if not reached[i]:
            n_used[i] = k
            if last >= 0:
                core[i] = knn_dist[i, last]
    return core, n_used, reached


@njit(cache=NUMBA_CACHE, nogil=True)
def used_neighbors(neighbors, n_used):
    """Each row's first ``n_used`` neighbours; the row's own id fills the rest.

    ``neighbors`` intp (n, k), ``n_used`` intp (n,). Returns intp
    (n, max(n_used)). Consumers skip a point's own id (the ``core`` graph
    drops self-loops; a partner equal to the point is no partner).
    """
    n = neighbors.shape[0]
    width = 0
    for i in range(n):
        if n_used[i] > width:
            width = n_used[i]
    out = np.empty((n, width), dtype=np.intp)
    for i in range(n):
        for q in range(width):
            out[i, q] = neighbors[i, q] if q < n_used[i] else i
    return out
