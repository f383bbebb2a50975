"""Single linkage from a sorted minimum spanning tree (kernel module).

Several merges at one height form one multi-way merge of the hierarchy; a
binary linkage matrix has to put them in an order, and that order decides
which side of a split a connecting point ends up on. The order used here
depends neither on which of several equally light spanning trees was found
nor on the row order of the data:

1. a single point that joins at this height first merges with the
   component of its ``partner`` (for the cluster pass: its nearest
   neighbour whose core distance is not larger than its own, the edge that
   realises its core distance), when that component takes part;
2. the remaining components merge largest first (ties by smallest point
   index), so runts that meet at a split fall out of the parent cluster.
   With sample weights (:func:`mst_to_linkage_sized`) "largest" and the
   size column mean weight sums.
"""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE
from .._kernels.union_find import ds_find


@njit(cache=NUMBA_CACHE, nogil=True)
def _merge(parent, size, min_idx, out, row, n_points, x, y, w):
    """Write linkage row ``row`` joining roots ``x`` and ``y``; returns row + 1."""
    new = n_points + row
    out[row, 0] = x
    out[row, 1] = y
    out[row, 2] = w
    size[new] = size[x] + size[y]
    out[row, 3] = size[new]
    min_idx[new] = min(min_idx[x], min_idx[y])
    parent[x] = new
    parent[y] = new
    return row + 1


@njit(cache=NUMBA_CACHE, nogil=True)
def mst_to_linkage(edges, n_points, partner):
    """Scipy-style linkage matrix from spanning-tree edges sorted by weight.

    Parameters: ``edges`` float64 (n_points - 1, 3) rows ``[a, b, w]`` with
    ``w`` non-decreasing; ``n_points``; ``partner`` intp (n_points,) or
    (0,): preferred first merge of each point (-1: none). Returns float64
    (n_points - 1, 4) rows ``[left, right, w, size]``; the cluster made by
    row ``r`` has id ``n_points + r``. An isolated merge keeps hdbscan's
    orientation (left holds ``a``).
    """
    return mst_to_linkage_sized(edges, n_points, partner, np.ones(n_points, dtype=np.intp))


@njit(cache=NUMBA_CACHE, nogil=True)
def mst_to_linkage_sized(edges, n_points, partner, point_size):
    """:func:`mst_to_linkage` with a size per point.

    ``point_size`` (n_points,): intp ones (plain counts) or float64
    non-negative sample weights; the size column holds the sums, and ties
    at one height merge the heaviest components first. Other arguments and
    the result as in :func:`mst_to_linkage`.
    """
    n_edges = edges.shape[0]
    n_nodes = n_points + n_edges
    has_partner = partner.shape[0] == n_points
    parent = np.arange(n_nodes)
    size = np.zeros(n_nodes, dtype=point_size.dtype)
    for t in range(n_points):
        size[t] = point_size[t]
    min_idx = np.arange(n_nodes)
    out = np.empty((n_edges, 4), dtype=np.float64)
    local = np.full(n_nodes, -1, dtype=np.intp)
    roots = np.empty(2 * n_edges, dtype=np.intp)
    lparent = np.empty(2 * n_edges, dtype=np.intp)
    row = np.intp(0)  # not a literal: callees compile once
    start = 0
    while start < n_edges:
        w = edges[start, 2]
        end = start + 1
        while end < n_edges and edges[end, 2] == w:
            end += 1
        if end - start == 1:
            aa = ds_find(parent, np.intp(edges[start, 0]))
            bb = ds_find(parent, np.intp(edges[start, 1]))
            row = _merge(parent, size, min_idx, out, row, n_points, aa, bb, w)
            start = end
            continue
        # distinct components touched by this group
        k = 0
        for e in range(start, end):
            for col in range(2):
                r = ds_find(parent, np.intp(edges[e, col]))
                if local[r] < 0:
                    local[r] = k
                    roots[k] = r
                    lparent[k] = k
                    k += 1
        # groups of components joined together at this height
        for e in range(start, end):
            ra = ds_find(lparent, local[ds_find(parent, np.intp(edges[e, 0]))])
            rb = ds_find(lparent, local[ds_find(parent, np.intp(edges[e, 1]))])
            if ra != rb:
                lparent[max(ra, rb)] = min(ra, rb)
        # 1. single points merge with their partner's component first
        if has_partner:
            for q in range(k):
                x = roots[q]
                if x >= n_points or partner[x] < 0:
                    continue
                px = ds_find(parent, partner[x])
                if px == x or local[px] < 0:
                    continue
                if ds_find(lparent, local[px]) != ds_find(lparent, q):
                    continue
                new = n_points + row
                row = _merge(parent, size, min_idx, out, row, n_points, px, x, w)
                # the merged component replaces the partner's slot
                local[new] = local[px]
                roots[local[px]] = new
                local[x] = -2  # consumed
        # 2. the rest, per group: largest first, ties by smallest point index
        m = 0
        comp = np.empty(k, dtype=np.intp)
        neg_size = np.empty(k, dtype=size.dtype)
        first = np.empty(k, dtype=np.intp)
        slot = np.empty(k, dtype=np.intp)
        for q in range(k):
            r = roots[q]
            if local[r] == -2:
                continue
            comp[m] = ds_find(lparent, q)
            neg_size[m] = -size[r]
            first[m] = min_idx[r]
            slot[m] = q
            m += 1
        # stable sorts on float64 keys (ids and sizes are exact in float64),
        # the one argsort specialisation the branch pass also compiles
        order = np.argsort(first[:m].astype(np.float64), kind="mergesort")
        order = order[np.argsort(neg_size[:m][order].astype(np.float64), kind="mergesort")]
        order = order[np.argsort(comp[:m][order].astype(np.float64), kind="mergesort")]
        q = 0
        while q < m:
            c = comp[order[q]]
            acc = roots[slot[order[q]]]
            q += 1
            while q < m and comp[order[q]] == c:
                new = n_points + row
                row = _merge(parent, size, min_idx, out, row, n_points, acc,
                             roots[slot[order[q]]], w)
                acc = new
                q += 1
        for q in range(k):
            local[roots[q]] = -1
        for e in range(start, end):
            local[np.intp(edges[e, 0])] = -1
            local[np.intp(edges[e, 1])] = -1
        start = end
    return out


@njit(cache=NUMBA_CACHE, nogil=True)
def core_partners(core_distances, neighbors):
    """Each point's nearest neighbour with a core distance not above its own.

    ``neighbors`` intp (n, k) sorted by distance; returns intp (n,), -1 where
    no neighbour qualifies.
    """
    n, k = neighbors.shape
    out = np.full(n, -1, dtype=np.intp)
    for i in range(n):
        for q in range(k):
            j = neighbors[i, q]
            if core_distances[j] <= core_distances[i]:
                out[i] = j
                break
    return out
