"""Approximation graphs of one cluster (kernel module).

Graphs are undirected, over local point ids ``0..m-1``, stored as CSR
(``indptr``, ``indices``) with both directions present, rows sorted and
free of duplicates and self-loops.
"""

import numpy as np
from numba import njit, prange

from .._config import NO_REFCOUNT, NUMBA_CACHE
from .._hdbscan.space_tree import rdist, rdist_to_dist
from .._kernels.prefetch import AHEAD, LINE_ITEMS, prefetch_at, prefetch_row


@njit(cache=NUMBA_CACHE, nogil=True)
def grouped_csr(src, dst, m):
    """CSR ``(indptr, indices)`` whose row ``i`` holds ``dst[e]`` for every
    edge with ``src[e] == i`` (one direction only, in edge order).

    With edges from :func:`core_graph_edges`, row ``i`` holds exactly the
    neighbours ranked before ``i``, each edge once: all that the centrality
    sweep and the partner search read (they only look back), in half the
    memory of :func:`unsorted_symmetric_csr`.
    """
    indices = np.empty(src.shape[0], dtype=np.intp)
    return grouped_csr_into(src, dst, m, indices), indices


@njit(cache=NUMBA_CACHE, nogil=True)
def grouped_csr_into(src, dst, m, indices):
    """:func:`grouped_csr` into the caller's ``indices`` (int32 or intp, at least
    ``len(src)`` entries; its first ``len(src)`` are written); returns
    ``indptr``."""
    # unsigned positions: numba then skips its negative-index fix-up, which
    # cost a quarter of the time (1.93 against 1.38 ms for 367k edges:
    # benchmarks/branch_steps.py on the commit before and after)
    counts = np.zeros(m + 1, dtype=np.intp)
    for e in range(src.shape[0]):
        counts[np.uintp(src[e]) + np.uintp(1)] += 1
    for i in range(m):
        counts[np.uintp(i + 1)] += counts[np.uintp(i)]
    fill = counts[:-1].copy()
    for e in range(src.shape[0]):
        a = np.uintp(src[e])
        f = fill[a]
        indices[np.uintp(f)] = dst[e]
        fill[a] = f + 1
    return counts


@njit(cache=NUMBA_CACHE, nogil=True)
def unsorted_symmetric_csr(src, dst, m):
    """Both directions of every non-loop edge grouped by row: CSR ``(indptr,
    indices)`` whose rows are unsorted and may repeat a neighbour (enough
    for code that does not depend on the order of a row)."""
    n_kept = 0
    for e in range(src.shape[0]):
        if src[e] != dst[e]:
            n_kept += 1
    both_src = np.empty(2 * n_kept, dtype=np.intp)
    both_dst = np.empty(2 * n_kept, dtype=np.intp)
    pos = 0
    for e in range(src.shape[0]):
        if src[e] != dst[e]:
            both_src[pos] = src[e]
            both_dst[pos] = dst[e]
            both_src[pos + 1] = dst[e]
            both_dst[pos + 1] = src[e]
            pos += 2
    return grouped_csr(both_src, both_dst, m)


@njit(cache=NUMBA_CACHE, nogil=True)
def _sort_unique_row(raw, start, end):
    """Sort ``raw[start:end]`` in place, move its distinct values to the
    front and return their number."""
    if end - start <= 64:
        for e in range(start + 1, end):  # insertion sort: short rows
            v = raw[e]
            f = e - 1
            while f >= start and raw[f] > v:
                raw[f + 1] = raw[f]
                f -= 1
            raw[f + 1] = v
    else:
        raw[start:end].sort()
    pos = start
    last = -1
    for e in range(start, end):
        j = raw[e]
        if j != last:
            raw[pos] = j
            pos += 1
            last = j
    return pos - start


@njit(cache=NUMBA_CACHE, nogil=True, parallel=True)
def symmetric_csr(src, dst, m):
    """CSR of the undirected graph with edges ``src[e] -- dst[e]``.

    Rows are sorted in place and deduplicated in parallel (each row is
    touched by one thread), then compacted.
    """
    counts, raw = unsorted_symmetric_csr(src, dst, m)
    kept = np.zeros(m + 1, dtype=np.intp)
    for i in prange(m):
        kept[i + 1] = _sort_unique_row(raw, counts[i], counts[i + 1])
    indptr = np.zeros(m + 1, dtype=np.intp)
    for i in range(m):
        indptr[i + 1] = indptr[i] + kept[i + 1]
    indices = np.empty(indptr[m], dtype=np.intp)
    for i in prange(m):
        start = counts[i]
        out = indptr[i]
        for t in range(kept[i + 1]):
            indices[out + t] = raw[start + t]
    return indptr, indices


@njit(cache=NUMBA_CACHE, nogil=True)
def core_graph_edges(points, local, neighbors, mst_src, mst_dst, rank, visit):
    """Edges of the ``core`` graph of one cluster, in local ids.

    ``points`` intp (m,) global ids of the cluster; ``local`` intp (n,) local
    id of every global point within its own cluster (-1 for noise; a
    neighbour counts when ``points[local[g]] == g``, so one array serves
    every cluster at once); ``neighbors`` intp
    (n, k) global ids of each point's k nearest other points; ``mst_src`` /
    ``mst_dst`` local ids of the in-cluster spanning tree edges; ``rank``
    intp (m,) a permutation of the local ids; ``visit`` intp (m,) the order
    in which the points' neighbour lists are read, any permutation of the
    local ids (the same edges, in another order): points in kd-tree order
    share most neighbours with the points read just before, so the
    neighbours' lookups mostly hit the cache (35-40 % less time than the order of
    the ids on 10 clusters of 10^4 points: ``benchmarks/branch_kernels.py``).
    Returns ``(src, dst)``
    (duplicates allowed, no loops), each edge oriented from its later- to
    its earlier-ranked end: ``rank[src[e]] > rank[dst[e]]``.
    """
    n_edges = points.shape[0] * neighbors.shape[1] + mst_src.shape[0]
    src = np.empty(n_edges, dtype=np.intp)
    dst = np.empty(n_edges, dtype=np.intp)
    n_edges = core_graph_edges_into(points, local, neighbors, mst_src, mst_dst, rank, visit,
                                    src, dst)
    return src[:n_edges], dst[:n_edges]


@njit(cache=NUMBA_CACHE, nogil=True, **NO_REFCOUNT)
def core_graph_edges_into(points, local, neighbors, mst_src, mst_dst, rank, visit, src, dst):
    """:func:`core_graph_edges` into the caller's ``src`` and ``dst`` (int32
    or intp, at least ``m * k + len(mst_src)`` entries each); returns the
    number of edges written."""
    m = points.shape[0]
    k = neighbors.shape[1]
    n_mst = mst_src.shape[0]
    pos = 0
    for e in range(n_mst):
        a = mst_src[e]
        b = mst_dst[e]
        if a == b:
            continue
        if rank[a] < rank[b]:
            a, b = b, a
        src[pos] = a
        dst[pos] = b
        pos += 1
    for t in range(m):
        i = visit[t]
        # the rows of a cluster's points lie scattered over the array, and so
        # do the ``local`` entries of their neighbours: every line of the row
        # ``2 * AHEAD`` points ahead, then the lookups of the next point (its
        # row arrived meanwhile)
        if t + 2 * AHEAD < m:
            ahead = points[visit[t + 2 * AHEAD]]
            for q in range(0, k, LINE_ITEMS):
                prefetch_at(neighbors, ahead, q)
        if t + 1 < m:
            ahead = points[visit[t + 1]]
            for q in range(k):
                prefetch_row(local, neighbors[ahead, q])
        rank_i = rank[i]
        g_i = points[i]
        for q in range(k):
            g = neighbors[g_i, q]
            j = local[np.uintp(g)]
            # without branches: which end is ranked later is a coin toss,
            # mispredicted about half the time inside the kernel (with the
            # unsigned positions, the whole core kernel of a 33,427-point
            # cluster went from 12.3 to 8.4 ms, benchmarks/branch_steps.py
            # before and after; this loop timed alone on one repeated input
            # shows little of it); a rejected neighbour writes a row that
            # the next one overwrites
            keep = (j >= 0) & (j < m) & (j != i)
            # unsigned positions where they cannot be negative: numba then
            # skips its negative-index fix-up
            if keep:
                keep = points[np.uintp(j)] == g
            later = rank[np.uintp(j)] < rank_i if keep else False
            src[pos] = i if later else j
            dst[pos] = j if later else i
            pos += np.intp(keep)
    return pos


@njit(cache=NUMBA_CACHE, nogil=True)
def dense_full_graph_edges(reachability, max_dist):
    """Pairs ``i < j`` with ``reachability[i, j] <= max_dist`` (local ids)."""
    m = reachability.shape[0]
    count = 0
    for i in range(m):
        for j in range(i + 1, m):
            if reachability[i, j] <= max_dist:
                count += 1
    src = np.empty(count, dtype=np.intp)
    dst = np.empty(count, dtype=np.intp)
    pos = 0
    for i in range(m):
        for j in range(i + 1, m):
            if reachability[i, j] <= max_dist:
                src[pos] = i
                dst[pos] = j
                pos += 1
    return src, dst


@njit(cache=NUMBA_CACHE, nogil=True)
def csr_upper_edges(indptr, indices):
    """The edges ``i < j`` of a symmetric CSR graph as two arrays."""
    m = indptr.shape[0] - 1
    count = 0
    for i in range(m):
        for e in range(indptr[i], indptr[i + 1]):
            if indices[e] > i:
                count += 1
    src = np.empty(count, dtype=np.intp)
    dst = np.empty(count, dtype=np.intp)
    pos = 0
    for i in range(m):
        for e in range(indptr[i], indptr[i + 1]):
            if indices[e] > i:
                src[pos] = i
                dst[pos] = indices[e]
                pos += 1
    return src, dst


@njit(cache=NUMBA_CACHE, nogil=True)
def pair_edge_distances(data, a, b, p):
    """Minkowski distance of ``data[a[e]]`` to ``data[b[e]]``, formed as the
    kd-tree kernels form it (``rdist_to_dist(rdist(...))``, bit for bit)."""
    out = np.empty(a.shape[0])
    for e in range(a.shape[0]):
        out[e] = rdist_to_dist(rdist(data[a[e]], data[b[e]], p), p)
    return out
