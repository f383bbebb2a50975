"""Exact Prim spanning tree for metrics without a fast space tree.

Python module (vectorised numpy, one distance row per step): O(n^2) time,
O(n) memory beyond the rows it is given. Used for ``metric="precomputed"``
and for metrics only scikit-learn's ``BallTree`` knows.
"""

import numpy as np


def prim_mst(row_distances, core_distances, alpha=1.0):
    """Exact mutual-reachability MST with the (w, min(i,j), max(i,j)) order.

    Parameters
    ----------
    row_distances : callable
        ``row_distances(i)`` returns float64 (n,) distances from point ``i``
        to every point.
    core_distances : ndarray of shape (n,)
    alpha : float

    Returns
    -------
    edges : ndarray of shape (n - 1, 3)
        Rows ``[i, j, w]``, ``i < j``, sorted by (w, i, j).
    """
    n = core_distances.shape[0]
    if n < 2:
        return np.empty((0, 3))
    in_tree = np.zeros(n, dtype=bool)
    best_w = np.full(n, np.inf)
    best_u = np.full(n, -1, dtype=np.intp)
    idx = np.arange(n)
    edges = np.empty((n - 1, 3))
    v = 0
    for step in range(n - 1):
        in_tree[v] = True
        d = np.asarray(row_distances(v), dtype=np.float64)
        if alpha != 1.0:
            d = d / alpha
        w = np.maximum(np.maximum(d, core_distances), core_distances[v])
        lo = np.minimum(idx, v)
        hi = np.maximum(idx, v)
        cur_lo = np.minimum(idx, best_u)
        cur_hi = np.maximum(idx, best_u)
        better = (w < best_w) | (
            (w == best_w)
            & ((best_u < 0) | (lo < cur_lo) | ((lo == cur_lo) & (hi < cur_hi)))
        )
        better &= ~in_tree
        best_w[better] = w[better]
        best_u[better] = v
        # next vertex: smallest (w, min(u, x), max(u, x)) among outside points
        cand = np.flatnonzero(~in_tree)
        cw = best_w[cand]
        m = cw.min()
        tied = cand[cw == m]
        if tied.shape[0] > 1:
            tlo = np.minimum(tied, best_u[tied])
            thi = np.maximum(tied, best_u[tied])
            k = np.lexsort((thi, tlo))[0]
            nxt = tied[k]
        else:
            nxt = tied[0]
        u = best_u[nxt]
        if u < 0:  # disconnected (infinite distances): join at infinity
            u = 0
        edges[step] = (min(u, nxt), max(u, nxt), best_w[nxt])
        v = nxt
    order = np.lexsort((edges[:, 1], edges[:, 0], edges[:, 2]))
    return edges[order]
