"""Kd-tree for exact Minkowski nearest-neighbour and range queries.

Kernel module: only ``@njit`` functions, the :class:`KDTree` NamedTuple and
constants.

Array layout
------------
The tree is a complete binary tree of ``n_levels`` levels stored in arrays of
``n_nodes = 2 ** n_levels - 1`` entries, in breadth-first order: the root is
node 0 and the children of node ``i`` are ``2 * i + 1`` (left) and
``2 * i + 2`` (right), as in scikit-learn's ``KDTree``. All leaves are on the
last level, i.e. nodes ``n_nodes // 2 .. n_nodes - 1``. ``n_levels`` is the
largest ``L >= 1`` with ``2 ** (L - 1) * leaf_size <= max(n - 1, leaf_size)``
(scikit-learn's rule), so every node holds at least one point and a leaf holds
between about ``leaf_size / 2`` and ``2 * leaf_size`` points.

The points are stored REORDERED in ``KDTree.data`` so that every node owns the
contiguous rows ``node_start[i]:node_end[i]``; ``idx_array[r]`` is the
original row of reordered row ``r``. A node is split at its median
(``mid = start + (end - start) // 2``) along the widest dimension of its
bounding box; ``node_lo`` / ``node_hi`` are the exact bounding boxes of the
node's points.

Distances
---------
``p`` is a float64 Minkowski exponent ``p >= 1`` (``np.inf`` for Chebyshev).
The TRUE distance of two points is by definition
``rdist_to_dist(rdist(x, y, p), p)``: every query in the package goes through
these two functions, so kNN, MST and range queries see bit-identical values.
Pruning uses lower bounds that are exact in floating point (rounding is
monotone), compared strictly (``bound > threshold``), so ties at the threshold
are always inspected and the results are exact under the total order
``(distance, original index)``.
"""

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .._config import NO_REFCOUNT, NUMBA_CACHE

#: Number of query points handled per parallel task (each task allocates one
#: traversal stack). Results do not depend on it.
QUERY_CHUNK = 256

#: Number of groups of query points per parallel task of the neighbour
#: search. Results do not depend on it.
LEAF_CHUNK = 4

#: New points near one leaf search together while their bounding box is at
#: most this many times as wide as the leaf's on every side
#: (:func:`_query_groups`). Results do not depend on it.
QUERY_GROUP_EXTENT = 1.0
#: ... and hold at most this many points (about the half-leaf groups of the
#: tree's own points).
QUERY_GROUP_ROWS = 32

#: The neighbour search of the tree's own points groups them by halves of
#: leaves (the subtrees of the tree of half the leaf size), whose tighter
#: boxes prune better than whole leaves'. Results do not depend on it.
GROUP_SPLIT = 2


class KDTree(NamedTuple):
    """Array-based kd-tree (see the module docstring for the layout)."""

    data: np.ndarray  # float64 (n, d), C-contiguous, reordered rows
    idx_array: np.ndarray  # intp (n,), original row of each reordered row
    node_start: np.ndarray  # intp (n_nodes,), first reordered row of node
    node_end: np.ndarray  # intp (n_nodes,), one past the last row of node
    node_lo: np.ndarray  # float64 (n_nodes, d), bounding box lower corner
    node_hi: np.ndarray  # float64 (n_nodes, d), bounding box upper corner
    node_is_leaf: np.ndarray  # bool (n_nodes,)


# ---------------------------------------------------------------------------
# distances
# ---------------------------------------------------------------------------


@njit(cache=NUMBA_CACHE, inline="always")
def rdist(x, y, p):
    """Reduced Minkowski distance of float64 vectors ``x`` and ``y`` (d,).

    ``p == 2``: sum of squares; ``p == 1``: sum of absolute differences;
    ``p == inf``: maximum absolute difference; otherwise sum of
    ``|x_k - y_k| ** p``. Dimensions are accumulated in order (no
    reassociation), so the value is reproducible bit for bit.
    """
    r = 0.0
    if p == 2.0:
        for k in range(x.shape[0]):
            t = x[k] - y[k]
            r += t * t
    elif p == 1.0:
        for k in range(x.shape[0]):
            r += abs(x[k] - y[k])
    elif p == np.inf:
        for k in range(x.shape[0]):
            t = abs(x[k] - y[k])
            if t > r:
                r = t
    else:
        for k in range(x.shape[0]):
            r += abs(x[k] - y[k]) ** p
    return r


@njit(cache=NUMBA_CACHE, inline="always")
def rdist_to_row(x, data, j, p):
    """``rdist(x, data[j], p)`` without creating a row view (hot loops).

    Same arithmetic in the same order as :func:`rdist`, hence bit-identical.
    """
    r = 0.0
    if p == 2.0:
        for k in range(x.shape[0]):
            t = x[k] - data[j, k]
            r += t * t
    elif p == 1.0:
        for k in range(x.shape[0]):
            r += abs(x[k] - data[j, k])
    elif p == np.inf:
        for k in range(x.shape[0]):
            t = abs(x[k] - data[j, k])
            if t > r:
                r = t
    else:
        for k in range(x.shape[0]):
            r += abs(x[k] - data[j, k]) ** p
    return r


@njit(cache=NUMBA_CACHE)
def rdist_to_dist(r, p):
    """True distance from a reduced distance ``r`` (float64 scalar)."""
    if p == 2.0:
        return np.sqrt(r)
    if p == 1.0 or p == np.inf:
        return r
    return r ** (1.0 / p)


@njit(cache=NUMBA_CACHE, nogil=True)
def row_distances(X, x, rows, p):
    """Distances from ``x`` float64 (d,) to the rows ``X[rows]``, formed as
    every kd-tree kernel forms them (``rdist_to_dist(rdist(...))``)."""
    out = np.empty(rows.shape[0])
    for t in range(rows.shape[0]):
        out[t] = rdist_to_dist(rdist(x, X[rows[t]], p), p)
    return out


@njit(cache=NUMBA_CACHE)
def dist_to_rdist(d, p):
    """Reduced distance from a true distance ``d`` (float64 scalar).

    Only approximately inverse to :func:`rdist_to_dist` (rounding); do not use
    it to decide ties.
    """
    if p == 2.0:
        return d * d
    if p == 1.0 or p == np.inf:
        return d
    return d ** p


@njit(cache=NUMBA_CACHE)
def rdist_add(r, t, p):
    """Add the per-dimension gap ``t >= 0`` to the reduced distance ``r``
    as :func:`rdist` combines its terms."""
    if p == 2.0:
        return r + t * t
    if p == 1.0:
        return r + t
    if p == np.inf:
        return t if t > r else r
    return r + t ** p


@njit(cache=NUMBA_CACHE, inline="always")
def _gap(lo, hi, v):
    """Distance from ``v`` to the interval [lo, hi] (0 inside), as two
    selects rather than branches: ``lo - v`` where positive, else ``v - hi``
    where positive, else 0."""
    a = lo - v
    b = v - hi
    t = a if a > b else b
    return t if t > 0.0 else 0.0


@njit(cache=NUMBA_CACHE, inline="always")
def min_rdist_to_box(x, lo, hi, p):
    """Lower bound of ``rdist(x, y, p)`` over all ``y`` in the box [lo, hi].

    ``x``, ``lo``, ``hi`` float64 (d,). The per-dimension gaps are combined
    exactly as in :func:`rdist`, so the bound holds in floating point too.
    """
    r = 0.0
    d = x.shape[0]
    if p == 2.0:
        for k in range(d):
            t = _gap(lo[k], hi[k], x[k])
            r += t * t
    else:
        for k in range(d):
            r = rdist_add(r, _gap(lo[k], hi[k], x[k]), p)
    return r


@njit(cache=NUMBA_CACHE, inline="always")
def min_rdist_to_node(x, node_lo, node_hi, node, p):
    """``min_rdist_to_box(x, node_lo[node], node_hi[node], p)`` without views.

    The ``p == 2`` loop is branch-free, which matters in high dimensions,
    where the gaps of a box's sides are unpredictable.
    """
    r = 0.0
    d = x.shape[0]
    if p == 2.0:
        for k in range(d):
            t = _gap(node_lo[node, k], node_hi[node, k], x[k])
            r += t * t
    else:
        for k in range(d):
            r = rdist_add(r, _gap(node_lo[node, k], node_hi[node, k], x[k]), p)
    return r


@njit(cache=NUMBA_CACHE, inline="always")
def min_rdist_box_to_node(lo, hi, node_lo, node_hi, node, p):
    """Lower bound of ``rdist(x, y, p)`` for ``x`` in the box [lo, hi] and
    ``y`` in ``node``'s box; per-dimension gaps round monotonically and are
    combined as in ``rdist``, so the bound holds in floating point."""
    r = 0.0
    for q in range(lo.shape[0]):
        # lo_node - hi where positive, else lo - hi_node where positive, else 0
        u = node_lo[node, q] - hi[q]
        v = lo[q] - node_hi[node, q]
        t = u if u > v else v
        r = rdist_add(r, t if t > 0.0 else 0.0, p)
    return r


@njit(cache=NUMBA_CACHE, inline="always")
def min_rdist_between_nodes(node_lo, node_hi, a, b, p):
    """Lower bound of ``rdist(x, y, p)`` for ``x`` in node ``a``'s box and
    ``y`` in node ``b``'s (:func:`min_rdist_box_to_node`)."""
    return min_rdist_box_to_node(node_lo[a], node_hi[a], node_lo, node_hi, b, p)


@njit(cache=NUMBA_CACHE, nogil=True)
def max_rdist_within(d, p):
    """Largest float64 ``r`` with ``rdist_to_dist(r, p) <= d`` (``d >= 0``).

    Turns a bound on true distances into an EXACTLY equivalent bound on
    reduced distances: ``rdist_to_dist(r, p) <= d`` iff ``r <= R``, given
    that ``rdist_to_dist`` is non-decreasing (sqrt is correctly rounded; for
    general ``p`` this relies on a monotone ``pow``). Lets searches compare
    reduced distances and skip the root/power for rejected candidates.
    """
    if p == 1.0 or p == np.inf or not d < np.inf:
        return d
    r = dist_to_rdist(d, p)
    while r > 0.0 and rdist_to_dist(r, p) > d:
        r = np.nextafter(r, -np.inf)
    while True:
        nxt = np.nextafter(r, np.inf)
        if nxt < np.inf and rdist_to_dist(nxt, p) <= d:
            r = nxt
        else:
            break
    return r


#: Relative slack of the cheap bounds below: 2 ** -49 covers the rounding
#: of one square root, one division and the products that form the bound
#: (each at most 2 ** -53 relative) with a wide margin.
BOUND_SLACK = 2.0 ** -49
#: Absolute slack for bounds that land in the subnormal range.
BOUND_TINY = 2.0 ** -1000


@njit(cache=NUMBA_CACHE)
def rdist_reject_bound(d, p):
    """Cheap ``R >= max_rdist_within(d, p)``: ``rdist > R`` implies ``dist > d``.

    Candidates with ``r <= R`` must still be decided on their true distance.
    Exact for ``p`` in {1, inf}; for ``p == 2`` it uses that sqrt is
    correctly rounded: ``sqrt(r) <= d`` implies ``r < (d + ulp(d) / 2) ** 2
    <= d * d * (1 + 2 ** -51)``. Other ``p`` use :func:`max_rdist_within`.
    """
    if p == 1.0 or p == np.inf or not d < np.inf:
        return d
    if p == 2.0:
        return d * d * (1.0 + BOUND_SLACK) + BOUND_TINY
    return max_rdist_within(d, p)


@njit(cache=NUMBA_CACHE)
def unscaled_dist_bound(w, alpha):
    """Cheap ``D`` with ``d / alpha > w`` for every ``d > D`` (``alpha > 0``).

    ``fl(d / alpha) <= w`` implies ``d <= w * alpha * (1 + 2 ** -52)``.
    Exact (``D = w``) for ``alpha == 1``.
    """
    if alpha == 1.0 or not w < np.inf:
        return w
    return w * alpha * (1.0 + BOUND_SLACK) + BOUND_TINY


@njit(cache=NUMBA_CACHE)
def key_less(d1, i1, d2, i2):
    """Total order on (distance, index) pairs: ``(d1, i1) < (d2, i2)``."""
    return d1 < d2 or (d1 == d2 and i1 < i2)


# ---------------------------------------------------------------------------
# construction
# ---------------------------------------------------------------------------


@njit(cache=NUMBA_CACHE, nogil=True)
def tree_n_levels(n, leaf_size):
    """Number of levels of the tree for ``n >= 1`` points (intp)."""
    n_levels = 1
    while (1 << n_levels) * leaf_size <= n - 1:
        n_levels += 1
    return n_levels


@njit(cache=NUMBA_CACHE, nogil=True)
def _select_nth(keys, perm, nth):
    """Partially order ``keys`` (float64 (m,)) and ``perm`` (intp (m,))
    together around position ``nth``.

    Afterwards ``keys[r] <= keys[nth]`` for ``r < nth`` and ``>=`` for
    ``r > nth`` (iterative 3-way quickselect with a median-of-three pivot;
    deterministic, linear on data with many ties). Works on contiguous
    arrays, so the tree build never gathers through an index per step.
    """
    lo = 0
    hi = keys.shape[0] - 1
    while hi > lo:
        a = keys[lo]
        b = keys[(lo + hi) // 2]
        c = keys[hi]
        if a < b:
            if b < c:
                pivot = b
            elif a < c:
                pivot = c
            else:
                pivot = a
        else:
            if a < c:
                pivot = a
            elif b < c:
                pivot = c
            else:
                pivot = b
        lt = lo
        i = lo
        gt = hi
        while i <= gt:
            v = keys[i]
            if v < pivot:
                keys[i] = keys[lt]
                keys[lt] = v
                t = perm[i]
                perm[i] = perm[lt]
                perm[lt] = t
                lt += 1
                i += 1
            elif v > pivot:
                keys[i] = keys[gt]
                keys[gt] = v
                t = perm[i]
                perm[i] = perm[gt]
                perm[gt] = t
                gt -= 1
            else:
                i += 1
        if nth < lt:
            hi = lt - 1
        elif nth > gt:
            lo = gt + 1
        else:
            return


@njit(cache=NUMBA_CACHE, nogil=True)
def _kdtree_start(data, leaf_size):
    """Arrays of a tree over ``data`` with only the root's range and box set;
    returns ``(tree, n_levels)``."""
    n = data.shape[0]
    dim = data.shape[1]
    n_levels = tree_n_levels(n, leaf_size)
    n_nodes = (1 << n_levels) - 1
    work = np.empty((n, dim), dtype=np.float64)
    for r in range(n):
        for k in range(dim):
            work[r, k] = data[r, k]
    idx = np.arange(n).astype(np.intp)
    node_start = np.zeros(n_nodes, dtype=np.intp)
    node_end = np.zeros(n_nodes, dtype=np.intp)
    node_lo = np.empty((n_nodes, dim), dtype=np.float64)
    node_hi = np.empty((n_nodes, dim), dtype=np.float64)
    node_is_leaf = np.zeros(n_nodes, dtype=np.bool_)
    node_end[0] = n
    # the root's box; every other node's box is computed as its parent's
    # split moves the rows
    for k in range(dim):
        node_lo[:, k] = np.inf
        node_hi[:, k] = -np.inf
    for r in range(n):
        for k in range(dim):
            v = work[r, k]
            if v < node_lo[0, k]:
                node_lo[0, k] = v
            if v > node_hi[0, k]:
                node_hi[0, k] = v
    return KDTree(work, idx, node_start, node_end, node_lo, node_hi, node_is_leaf), n_levels


@njit(cache=NUMBA_CACHE, nogil=True)
def _split_node(work, idx, node_start, node_end, node_lo, node_hi, node_is_leaf, node):
    """Split ``node`` (or mark it a leaf): move its rows around the median of
    its widest dimension and set both children's ranges and boxes. Touches
    only the node's own rows and children, so the nodes of one level can
    split in parallel. Arguments are the :class:`KDTree` fields in order
    (passed one by one: numba's parallel loops take no named tuples)."""
    dim = work.shape[1]
    start = node_start[node]
    end = node_end[node]
    if node >= node_start.shape[0] // 2:
        node_is_leaf[node] = True
        return
    split_dim = 0
    widest = -1.0
    for k in range(dim):
        spread = node_hi[node, k] - node_lo[node, k]
        if spread > widest:
            widest = spread
            split_dim = k
    m = end - start
    mid = start + m // 2
    left = 2 * node + 1
    if m > 1:
        keys = np.empty(m, dtype=np.float64)
        perm = np.arange(m).astype(np.intp)
        for r in range(m):
            keys[r] = work[start + r, split_dim]
        _select_nth(keys, perm, mid - start)
        moved = np.empty((m, dim), dtype=np.float64)
        moved_idx = np.empty(m, dtype=np.intp)
        for r in range(m):
            src = start + perm[r]
            moved_idx[r] = idx[src]
            for k in range(dim):
                moved[r, k] = work[src, k]
        for r in range(m):
            child = left if start + r < mid else left + 1
            idx[start + r] = moved_idx[r]
            for k in range(dim):
                v = moved[r, k]
                work[start + r, k] = v
                if v < node_lo[child, k]:
                    node_lo[child, k] = v
                if v > node_hi[child, k]:
                    node_hi[child, k] = v
    else:
        for r in range(start, end):
            for k in range(dim):
                node_lo[left + 1, k] = work[r, k]
                node_hi[left + 1, k] = work[r, k]
    node_start[left] = start
    node_end[left] = mid
    node_start[left + 1] = mid
    node_end[left + 1] = end


@njit(cache=NUMBA_CACHE, nogil=True, parallel=True)
def build_kdtree(data, leaf_size):
    """Build a :class:`KDTree` over ``data`` float64 (n, d), ``n >= 1``.

    ``leaf_size`` (int >= 1) as in scikit-learn. The input is not modified;
    the tree holds a reordered C-contiguous copy, which is kept in node
    order while the tree is built (each split moves the node's rows), so
    every scan is contiguous. Each level is built in parallel over its
    nodes (disjoint row ranges), so the tree does not depend on the thread
    count. A node splits its widest dimension at the median row.
    """
    tree, n_levels = _kdtree_start(data, leaf_size)
    work, idx, node_start, node_end, node_lo, node_hi, node_is_leaf = tree
    for level in range(n_levels):
        for node in prange((1 << level) - 1, (1 << (level + 1)) - 1):
            _split_node(work, idx, node_start, node_end, node_lo, node_hi, node_is_leaf, node)
    return tree


@njit(cache=NUMBA_CACHE, nogil=True)
def build_kdtree_serial(data, leaf_size):
    """:func:`build_kdtree` on one thread (the same tree), for callers that
    are themselves parallel over many small trees."""
    tree, n_levels = _kdtree_start(data, leaf_size)
    work, idx, node_start, node_end, node_lo, node_hi, node_is_leaf = tree
    for node in range((1 << n_levels) - 1):
        _split_node(work, idx, node_start, node_end, node_lo, node_hi, node_is_leaf, node)
    return tree


@njit(cache=NUMBA_CACHE, nogil=True)
def subset_root(node_start, node_end, n_levels, rows):
    """``(node, n_levels)`` of the smallest node of a tree (``n_levels``
    levels) whose row range holds every row of ``rows`` (intp, increasing,
    non-empty), and the number of levels of its subtree."""
    last = rows.shape[0] - 1
    node = 0
    depth = 0
    while depth < n_levels - 1:
        left = 2 * node + 1
        if rows[last] < node_end[left]:
            node = left
        elif rows[0] >= node_start[left + 1]:
            node = left + 1
        else:
            break
        depth += 1
    return node, n_levels - depth


@njit(cache=NUMBA_CACHE, nogil=True)
def subset_kdtree(tree_data, node_end, node, sub_levels, rows, ids):
    """The kd-tree of a tree's reordered rows ``rows`` without a new build.

    ``rows`` (intp (m,), increasing, non-empty) lie below ``node``, whose
    subtree has ``sub_levels`` levels (:func:`subset_root`); ``tree_data``
    and ``node_end`` are the tree's. The result keeps that subtree's shape
    and splits, as a complete tree of its own: each node holds the given
    rows below the matching node of the tree (possibly none), with their
    tight bounding box (inf/-inf when empty). Its data are those rows, in
    order, and ``ids`` (intp (m,)) becomes its ``idx_array``. O(m d +
    2^sub_levels d) instead of a build's O(m d log m).
    """
    m = rows.shape[0]
    dim = tree_data.shape[1]
    n_nodes = (1 << sub_levels) - 1
    node_start = np.empty(n_nodes, dtype=np.intp)
    sub_end = np.empty(n_nodes, dtype=np.intp)
    node_lo = np.empty((n_nodes, dim), dtype=np.float64)
    node_hi = np.empty((n_nodes, dim), dtype=np.float64)
    node_is_leaf = np.zeros(n_nodes, dtype=np.bool_)
    data = np.empty((m, dim), dtype=np.float64)
    first_leaf = (1 << (sub_levels - 1)) - 1
    # the leaves below ``node`` are consecutive nodes of the tree, in row order
    tree_leaf = (node + 1) * (1 << (sub_levels - 1)) - 1
    t = 0
    for leaf in range(first_leaf, n_nodes):
        node_is_leaf[leaf] = True
        node_start[leaf] = t
        for k in range(dim):
            node_lo[leaf, k] = np.inf
            node_hi[leaf, k] = -np.inf
        end = node_end[tree_leaf + leaf - first_leaf]
        while t < m and rows[t] < end:
            for k in range(dim):
                v = tree_data[rows[t], k]
                data[t, k] = v
                if v < node_lo[leaf, k]:
                    node_lo[leaf, k] = v
                if v > node_hi[leaf, k]:
                    node_hi[leaf, k] = v
            t += 1
        sub_end[leaf] = t
    for u in range(first_leaf - 1, -1, -1):
        left = 2 * u + 1
        node_start[u] = node_start[left]
        sub_end[u] = sub_end[left + 1]
        for k in range(dim):
            node_lo[u, k] = min(node_lo[left, k], node_lo[left + 1, k])
            node_hi[u, k] = max(node_hi[left, k], node_hi[left + 1, k])
    return KDTree(data, ids, node_start, sub_end, node_lo, node_hi, node_is_leaf)


# ---------------------------------------------------------------------------
# k nearest neighbours
# ---------------------------------------------------------------------------


@njit(cache=NUMBA_CACHE, inline="always")
def _heap_sift_down(heap_d, heap_i, size, pos):
    """Restore the max-heap order of ``(heap_d, heap_i)[:size]`` below ``pos``."""
    d = heap_d[pos]
    i = heap_i[pos]
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and key_less(
            heap_d[child], heap_i[child], heap_d[child + 1], heap_i[child + 1]
        ):
            child += 1
        if key_less(d, i, heap_d[child], heap_i[child]):
            heap_d[pos] = heap_d[child]
            heap_i[pos] = heap_i[child]
            pos = child
        else:
            break
    heap_d[pos] = d
    heap_i[pos] = i


@njit(cache=NUMBA_CACHE, inline="always")
def _heap_push(heap_d, heap_i, size, d, i):
    """Insert ``(d, i)`` into the max-heap of ``size`` entries (room needed)."""
    pos = size
    while pos > 0:
        parent = (pos - 1) // 2
        if key_less(heap_d[parent], heap_i[parent], d, i):
            heap_d[pos] = heap_d[parent]
            heap_i[pos] = heap_i[parent]
            pos = parent
        else:
            break
    heap_d[pos] = d
    heap_i[pos] = i


@njit(cache=NUMBA_CACHE, nogil=True)
def _heap_sort(heap_d, heap_i, size):
    """Turn a max-heap into ascending ``(d, i)`` order in place."""
    for last in range(size - 1, 0, -1):
        d = heap_d[last]
        i = heap_i[last]
        heap_d[last] = heap_d[0]
        heap_i[last] = heap_i[0]
        heap_d[0] = d
        heap_i[0] = i
        _heap_sift_down(heap_d, heap_i, last, 0)


@njit(cache=NUMBA_CACHE, inline="always")
def leaf_rdists(data, columns, x, start, end, p, out):
    """``rdist(x, data[row], p)`` of the rows ``start:end`` into ``out[:end - start]``.

    ``columns`` is ``data`` transposed (float64 (d, n), C-contiguous), so the
    loop over rows is contiguous and vectorises, while each row's terms are
    still accumulated in dimension order: bit for bit :func:`rdist`. A
    general ``p`` takes the row-by-row loop, so that ``** p`` is never a
    vectorised (possibly less exact) power.
    """
    m = end - start
    if p != 2.0 and p != 1.0 and p != np.inf:
        for j in range(m):
            out[j] = rdist_to_row(x, data, start + j, p)
        return
    for j in range(m):
        out[j] = 0.0
    # unsigned positions: a signed one gets numba's negative-index
    # wraparound, which turns the contiguous loads into gathers (the loop
    # took 2-5 times as long at d = 2-16)
    first = np.uintp(start)
    for q in range(x.shape[0]):
        xq = x[q]
        column = columns[q]
        if p == 2.0:
            for j in range(m):
                t = xq - column[first + np.uintp(j)]
                out[j] += t * t
        elif p == 1.0:
            for j in range(m):
                out[j] += abs(xq - column[first + np.uintp(j)])
        else:
            for j in range(m):
                t = abs(xq - column[first + np.uintp(j)])
                if t > out[j]:
                    out[j] = t


@njit(cache=NUMBA_CACHE, inline="always")
def _knn_scan_leaf(
    data, columns, idx_array, x, self_idx, start, end, k, p, heap_d, heap_i, size,
    r_max, scratch,
):
    """Offer rows ``start:end`` to the kNN max-heap; returns the new
    ``(size, r_max)`` with ``r_max = rdist_reject_bound(worst distance)``.
    ``scratch`` float64 holds at least ``end - start`` entries."""
    leaf_rdists(data, columns, x, start, end, p, scratch)
    for j in range(end - start):
        r = scratch[j]
        if r > r_max:
            continue
        other = idx_array[start + j]
        if other == self_idx:
            continue
        d = rdist_to_dist(r, p)
        if size < k:
            _heap_push(heap_d, heap_i, size, d, other)
            size += 1
            if size == k:
                r_max = rdist_reject_bound(heap_d[0], p)
        elif key_less(d, other, heap_d[0], heap_i[0]):
            heap_d[0] = d
            heap_i[0] = other
            _heap_sift_down(heap_d, heap_i, size, 0)
            r_max = rdist_reject_bound(heap_d[0], p)
    return size, r_max


@njit(cache=NUMBA_CACHE, nogil=True)
def max_leaf_size(node_start, node_end, node_is_leaf):
    """Largest number of rows in a leaf."""
    out = 0
    for node in range(node_start.shape[0]):
        if node_is_leaf[node]:
            out = max(out, node_end[node] - node_start[node])
    return out


@njit(cache=NUMBA_CACHE, inline="always")
def leaf_of_row(node_end, node_is_leaf, row):
    """Leaf node (intp) whose row range contains reordered row ``row``."""
    node = 0
    while not node_is_leaf[node]:
        node = 2 * node + 1
        if row >= node_end[node]:
            node += 1
    return node


@njit(cache=NUMBA_CACHE, inline="always")
def _leaf_near(node_lo, node_hi, node_is_leaf, x, p):
    """A leaf whose box is near ``x``: from the root, the child whose box is
    nearer (the left one on a tie). Any leaf gives :func:`_knn_group` the
    same result; a near one prunes the most."""
    node = 0
    while not node_is_leaf[node]:
        left = 2 * node + 1
        if min_rdist_to_node(x, node_lo, node_hi, left, p) <= min_rdist_to_node(
            x, node_lo, node_hi, left + 1, p
        ):
            node = left
        else:
            node = left + 1
    return node


@njit(cache=NUMBA_CACHE, inline="always")
def _knn_group_leaf(
    data, columns, idx_array, node_start, node_end, node_lo, node_hi, points, exclude,
    out_rows, rows, leaf, k, p, distances, indices, sizes, bounds, scratch, check,
):
    """Offer ``leaf``'s points to the searches of ``rows`` (each skipped
    when ``check`` and its point's box bound exceeds its own bound);
    returns the largest bound after."""
    worst = 0.0
    for j in range(rows.shape[0]):
        i = rows[j]
        x = points[i]
        if not (check and min_rdist_to_node(x, node_lo, node_hi, leaf, p) > bounds[j]):
            sizes[j], bounds[j] = _knn_scan_leaf(
                data, columns, idx_array, x, exclude[i], node_start[leaf], node_end[leaf],
                k, p, distances[out_rows[i]], indices[out_rows[i]], sizes[j], bounds[j],
                scratch,
            )
        if bounds[j] > worst:
            worst = bounds[j]
    return worst


@njit(cache=NUMBA_CACHE, nogil=True, **NO_REFCOUNT)
def _knn_group(
    data, columns, idx_array, node_start, node_end, node_lo, node_hi, node_is_leaf,
    points, exclude, out_rows, rows, leaf, k, p, distances, indices, stack_node, stack_lb,
    scratch, sizes, bounds, lo, hi,
):
    """The k nearest points of each of ``points[rows]`` (other than
    original index ``exclude[i]``; -1: none excluded), found together.

    Each row keeps a max-heap of its k best (distance, index) pairs in row
    ``out_rows[i]`` of ``distances`` (float64) and ``indices`` (intp), and
    its bound :func:`rdist_reject_bound` of the worst. All first scan
    ``leaf``; then one walk up the tree visits each sibling subtree
    depth-first, nearer child first, skipping a node whose box is farther
    from the group's bounding box than the largest of the rows' bounds. At
    each leaf reached, a row scans it unless the leaf's box is beyond its
    own bound. The group's box bound never exceeds a row's own, and bounds
    only shrink, so every point within a row's final bound is offered to
    it: the result is exact under the total order (distance, index), with
    duplicates at distance 0 kept, and sorted at the end.
    """
    c = rows.shape[0]
    for q in range(lo.shape[0]):
        lo[q] = np.inf
        hi[q] = -np.inf
    for j in range(c):
        x = points[rows[j]]
        for q in range(lo.shape[0]):
            lo[q] = min(lo[q], x[q])
            hi[q] = max(hi[q], x[q])
        sizes[j] = 0
        bounds[j] = np.inf
    worst = _knn_group_leaf(
        data, columns, idx_array, node_start, node_end, node_lo, node_hi, points, exclude,
        out_rows, rows, leaf, k, p, distances, indices, sizes, bounds, scratch, False,
    )
    node = leaf
    while node > 0:
        sibling = node + 1 if node % 2 == 1 else node - 1
        node = (node - 1) // 2
        lb = min_rdist_box_to_node(lo, hi, node_lo, node_hi, sibling, p)
        if lb > worst:
            continue
        stack_node[0] = sibling
        stack_lb[0] = lb
        top = 1
        while top > 0:
            top -= 1
            current = stack_node[top]
            if stack_lb[top] > worst:
                continue
            if node_is_leaf[current]:
                worst = _knn_group_leaf(
                    data, columns, idx_array, node_start, node_end, node_lo, node_hi,
                    points, exclude, out_rows, rows, current, k, p, distances, indices,
                    sizes, bounds, scratch, True,
                )
                continue
            left = 2 * current + 1
            right = left + 1
            lb_left = min_rdist_box_to_node(lo, hi, node_lo, node_hi, left, p)
            lb_right = min_rdist_box_to_node(lo, hi, node_lo, node_hi, right, p)
            # push the farther child first so that the nearer one is next
            if lb_left <= lb_right:
                if not lb_right > worst:
                    stack_node[top] = right
                    stack_lb[top] = lb_right
                    top += 1
                if not lb_left > worst:
                    stack_node[top] = left
                    stack_lb[top] = lb_left
                    top += 1
            else:
                if not lb_left > worst:
                    stack_node[top] = left
                    stack_lb[top] = lb_left
                    top += 1
                if not lb_right > worst:
                    stack_node[top] = right
                    stack_lb[top] = lb_right
                    top += 1
    for j in range(c):
        o = out_rows[rows[j]]
        _heap_sort(distances[o], indices[o], np.intp(sizes[j]))


@njit(cache=NUMBA_CACHE, nogil=True)
def _query_groups(points, leaves, node_lo, node_hi, extent, max_rows):
    """Groups of query rows for :func:`_knn_group`: the rows of ``points``
    (float64 (m, d)) assigned to one leaf (``leaves``, intp (m,)), split
    at the median of the side that most exceeds ``extent`` times the leaf
    box's, until no side does (or one row is left), and then at the median
    of the widest side while a group holds more than ``max_rows`` rows.
    Returns ``(order, group_start, group_leaf, n_groups)``: group ``g``
    holds the rows ``order[group_start[g]:group_start[g + 1]]`` and starts
    in leaf ``group_leaf[g]``.
    """
    m, d = points.shape
    order = np.argsort(leaves, kind="mergesort")
    group_start = np.empty(m + 1, dtype=np.intp)
    group_leaf = np.empty(m, dtype=np.intp)
    keys = np.empty(m, dtype=np.float64)
    stack_start = np.empty(m + 1, dtype=np.intp)
    stack_end = np.empty(m + 1, dtype=np.intp)
    n_groups = 0
    t = 0
    while t < m:
        leaf = leaves[order[t]]
        u = t + 1
        while u < m and leaves[order[u]] == leaf:
            u += 1
        stack_start[0] = t
        stack_end[0] = u
        top = 1
        while top > 0:
            top -= 1
            s = stack_start[top]
            e = stack_end[top]
            split_k = -1
            excess = 0.0
            widest_k = 0
            widest = -1.0
            if e - s > 1:
                for k in range(d):
                    lo = np.inf
                    hi = -np.inf
                    for r in range(s, e):
                        v = points[order[r], k]
                        lo = min(lo, v)
                        hi = max(hi, v)
                    over = (hi - lo) - extent * (node_hi[leaf, k] - node_lo[leaf, k])
                    if over > excess:
                        excess = over
                        split_k = k
                    if hi - lo > widest:
                        widest = hi - lo
                        widest_k = k
                if split_k < 0 and e - s > max_rows:
                    split_k = widest_k
            if split_k < 0:
                group_start[n_groups] = s
                group_leaf[n_groups] = leaf
                n_groups += 1
                continue
            for r in range(s, e):
                keys[r] = points[order[r], split_k]
            half = (e - s) // 2
            _select_nth(keys[s:e], order[s:e], half)
            stack_start[top] = s + half
            stack_end[top] = e
            stack_start[top + 1] = s
            stack_end[top + 1] = s + half
            top += 2
        t = u
    group_start[n_groups] = m
    return order, group_start, group_leaf, n_groups


@njit(cache=NUMBA_CACHE, nogil=True, parallel=True)
def _knn_rows(tree, points, exclude, out_rows, tree_rows, k, p):
    """The k nearest tree points of every row ``i`` of ``points`` (float64
    (m, d)) other than original index ``exclude[i]``, into row
    ``out_rows[i]`` of the float64 and intp (m, k) outputs.

    With ``tree_rows`` the points are the tree's own (reordered) rows and
    the rows of each half-leaf search together (:func:`_knn_group`);
    otherwise each point is assigned a leaf near it (:func:`_leaf_near`),
    and the points of one leaf search together in groups whose bounding
    box is no wider than the leaf's (:func:`_query_groups`; a point far
    from the others searches alone). Parallel over groups, each computed
    independently: the result does not depend on the thread count.
    """
    data, idx_array, node_start, node_end, node_lo, node_hi, node_is_leaf = tree
    m = points.shape[0]
    distances = np.empty((m, k), dtype=np.float64)
    indices = np.empty((m, k), dtype=np.intp)
    n_nodes = node_start.shape[0]
    first_leaf = n_nodes // 2
    n_leaves = n_nodes - first_leaf
    if tree_rows:
        # tree rows are in leaf order already; each leaf's rows split
        # into GROUP_SPLIT contiguous parts (the subtrees of a deeper tree)
        order = np.arange(m)
        n_groups = n_leaves * GROUP_SPLIT
        group_start = np.empty(n_groups + 1, dtype=np.intp)
        group_leaf = np.empty(n_groups, dtype=np.intp)
        for leaf in range(n_leaves):
            start = node_start[first_leaf + leaf]
            size = node_end[first_leaf + leaf] - start
            for part in range(GROUP_SPLIT):
                group_start[leaf * GROUP_SPLIT + part] = start + (size * part) // GROUP_SPLIT
                group_leaf[leaf * GROUP_SPLIT + part] = first_leaf + leaf
        group_start[n_groups] = m
    else:
        # the points near one leaf search together, split until their box is
        # no wider than the leaf's
        leaves = np.empty(m, dtype=np.intp)
        for i in prange(m):
            leaves[i] = _leaf_near(node_lo, node_hi, node_is_leaf, points[i], p)
        order, group_start, group_leaf, n_groups = _query_groups(
            points, leaves, node_lo, node_hi, QUERY_GROUP_EXTENT, QUERY_GROUP_ROWS,
        )
    largest = 0
    for g in range(n_groups):
        largest = max(largest, group_start[g + 1] - group_start[g])
    stack_size = 2 * tree_n_levels_from_nodes(n_nodes) + 2
    columns = np.ascontiguousarray(data.T)
    leaf_rows = max_leaf_size(node_start, node_end, node_is_leaf)
    n_chunks = (n_groups + LEAF_CHUNK - 1) // LEAF_CHUNK
    for chunk in prange(n_chunks):
        stack_node = np.empty(stack_size, dtype=np.intp)
        stack_lb = np.empty(stack_size, dtype=np.float64)
        scratch = np.empty(leaf_rows, dtype=np.float64)
        sizes = np.empty(largest, dtype=np.intp)
        bounds = np.empty(largest, dtype=np.float64)
        lo = np.empty(data.shape[1], dtype=np.float64)
        hi = np.empty(data.shape[1], dtype=np.float64)
        for g in range(chunk * LEAF_CHUNK, min(n_groups, (chunk + 1) * LEAF_CHUNK)):
            if group_start[g + 1] > group_start[g]:
                _knn_group(
                    data, columns, idx_array, node_start, node_end, node_lo, node_hi,
                    node_is_leaf, points, exclude, out_rows,
                    order[group_start[g]:group_start[g + 1]], group_leaf[g], k, p,
                    distances, indices, stack_node, stack_lb, scratch, sizes, bounds, lo, hi,
                )
    return distances, indices


def knn_query(tree, k, p):
    """k nearest OTHER points of every tree point.

    ``tree`` a :class:`KDTree` over n points, ``1 <= k <= n - 1`` (caller
    guarantees), ``p`` float64 Minkowski exponent. Returns ``(distances,
    indices)``: float64 (n, k) true distances and intp (n, k) original
    indices, in ORIGINAL row order, each row ascending by (distance, index).
    A point's own index is excluded; other points at distance 0 are kept.
    HDBSCAN*'s core distance (point itself not counted) is
    ``distances[:, k - 1]``. The points of each half-leaf search together,
    starting in their own leaf (:func:`_knn_group`); the result does not
    depend on the thread count.
    """
    return _knn_rows(tree, tree.data, tree.idx_array, tree.idx_array, True, k, float(p))


def knn_query_points(tree, queries, k, p):
    """The k nearest tree points of every query row, sorted by (distance, index).

    ``queries`` float64 (q, d), C-contiguous; ``1 <= k <= n``. Returns
    ``(distances (q, k), indices (q, k))`` with original indices of the
    tree's points. Each query starts in a leaf near it and searches as
    :func:`knn_query` does (:func:`_knn_rows`).
    """
    q = queries.shape[0]
    return _knn_rows(
        tree, queries, np.full(q, -1, dtype=np.intp), np.arange(q), False, k, float(p)
    )


@njit(cache=NUMBA_CACHE, nogil=True)
def tree_n_levels_from_nodes(n_nodes):
    """Number of levels of a complete tree with ``n_nodes`` nodes."""
    n_levels = 0
    while (1 << n_levels) - 1 < n_nodes:
        n_levels += 1
    return n_levels


# ---------------------------------------------------------------------------
# range queries
# ---------------------------------------------------------------------------


@njit(cache=NUMBA_CACHE, nogil=True)
def query_radius(tree, x, radius, p, out):
    """Points within true distance ``radius`` (inclusive) of ``x``.

    ``x`` float64 (d,), ``out`` intp (m,) preallocated. Returns the number of
    tree points ``y`` with ``rdist_to_dist(rdist(x, y, p), p) <= radius``;
    the original indices of the first ``min(count, m)`` of them are written
    to ``out`` in tree order (deterministic; sort them if order matters). If
    the count exceeds ``m``, call again with a larger buffer.
    """
    data = tree.data
    stack_size = 2 * tree_n_levels_from_nodes(tree.node_start.shape[0]) + 2
    stack_node = np.empty(stack_size, dtype=np.intp)
    stack_node[0] = 0
    top = 1
    count = 0
    m = out.shape[0]
    while top > 0:
        top -= 1
        node = stack_node[top]
        lb = rdist_to_dist(
            min_rdist_to_node(x, tree.node_lo, tree.node_hi, node, p), p
        )
        if lb > radius:
            continue
        if tree.node_is_leaf[node]:
            for j in range(tree.node_start[node], tree.node_end[node]):
                if rdist_to_dist(rdist_to_row(x, data, j, p), p) <= radius:
                    if count < m:
                        out[count] = tree.idx_array[j]
                    count += 1
        else:
            stack_node[top] = 2 * node + 2
            stack_node[top + 1] = 2 * node + 1
            top += 2
    return count
