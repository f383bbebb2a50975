"""Single linkage over a cluster's ``full`` graph without building it (kernel module).

The ``full`` approximation graph of a cluster joins every pair ``(i, j)``
with ``rdist_to_dist(rdist(x_i, x_j, p), p) / alpha <= max_dist``; each edge
weighs the larger centrality of its ends. Dense clusters give graphs with
billions of edges, so instead of materialising it (see
:func:`~flasc_cluster._branches.linkage.centrality_spanning_tree`) the same
union-find sweep asks a kd-tree, for every newly added point, which
components its already-added neighbours belong to.

Per tree node the sweep keeps ``added_count`` (added points below the node)
and a conservative ``uniform`` flag with a representative point ``rep``:
when set, every added point of the node belongs to the component of
``rep``. It is set by the node's first added point, cleared when a point of
another component is added below it, survives merges (components only
grow), and is re-established lazily from the children (or, for a leaf, from
its points). A range query first collects the component of the first
added point within reach in the query point's own leaf, then traverses
from the root, skipping nodes with no added point, nodes out of reach, and
uniform nodes whose component was already collected; a uniform node
entirely within reach yields its component without descending.

Decisions on the bound are exact: a pair is an edge iff the float64
expression above holds. Cheap bounds (in reduced distance) only prune, and
a whole box is accepted only when its farthest corner passes the exact test
(rounding is monotone, so every point of the box then passes too).
"""

import numpy as np
from numba import njit, prange

from .._config import NO_REFCOUNT, NUMBA_CACHE
from .._hdbscan.space_tree import (
    QUERY_CHUNK,
    key_less,
    leaf_of_row,
    leaf_rdists,
    min_rdist_to_node,
    rdist_add,
    rdist_reject_bound,
    rdist_to_dist,
    rdist_to_row,
    tree_n_levels_from_nodes,
    unscaled_dist_bound,
)
from .._kernels.union_find import ds_find
from .linkage import centrality_order, join_components, join_one, tied_joiners


@njit(cache=NUMBA_CACHE)
def within_bound(r, max_dist, alpha, p):
    """The edge test on a reduced distance ``r``: ``dist / alpha <= max_dist``."""
    return rdist_to_dist(r, p) / alpha <= max_dist


@njit(cache=NUMBA_CACHE, inline="always")
def max_rdist_to_node(x, node_lo, node_hi, node, p):
    """Upper bound of ``rdist(x, y, p)`` (as computed) over ``y`` in a node's box.

    Per dimension ``|x_k - y_k| <= max(|x_k - lo_k|, |x_k - hi_k|)`` holds in
    floating point (subtraction rounds monotonically), and the terms are
    combined exactly as in ``rdist``, so the bound holds bit for bit.
    """
    r = 0.0
    for k in range(x.shape[0]):
        t = abs(x[k] - node_lo[node, k])
        t = max(t, abs(x[k] - node_hi[node, k]))
        r = rdist_add(r, t, p)
    return r


@njit(cache=NUMBA_CACHE, nogil=True, inline="always")
def _remark_internal(node, added_count, uniform, rep, parent):
    """Mark internal ``node`` uniform if its non-empty children are uniform
    with one component; returns the flag."""
    left = 2 * node + 1
    right = left + 1
    nl = added_count[left]
    nr = added_count[right]
    if nl > 0 and not uniform[left]:
        return False
    if nr > 0 and not uniform[right]:
        return False
    if nl > 0 and nr > 0:
        if ds_find(parent, rep[left]) != ds_find(parent, rep[right]):
            return False
        rep[node] = rep[left]
    elif nl > 0:
        rep[node] = rep[left]
    elif nr > 0:
        rep[node] = rep[right]
    else:
        return False
    uniform[node] = True
    return True


@njit(cache=NUMBA_CACHE, nogil=True, inline="always")
def _remark_leaf(node, node_start, node_end, idx_array, added, uniform, rep, parent):
    """Mark leaf ``node`` uniform if all its added points share a component."""
    root = -1
    first = -1
    for row in range(node_start[node], node_end[node]):
        if not added[row]:
            continue
        j = idx_array[row]
        rj = ds_find(parent, j)
        if root < 0:
            root = rj
            first = j
        elif rj != root:
            return False
    if first < 0:
        return False
    uniform[node] = True
    rep[node] = first
    return True


@njit(cache=NUMBA_CACHE, nogil=True, inline="always")
def _collect_roots(
    data, idx_array, node_start, node_end, node_lo, node_hi, node_is_leaf,
    x, leaf, k, added, added_count, uniform, rep, parent, stamp, roots, stack,
    max_dist, alpha, p, r_reject,
):
    """Distinct components of the added points within reach of ``x``.

    Writes them to ``roots`` and stamps ``stamp[root] = k``; returns their
    number. ``leaf`` is the leaf holding ``x``. Traversal from the tree root
    with ``stack`` (intp), after a seed: the component of the first added
    point within reach in ``x``'s own leaf. That is usually the component
    around ``x``, so its uniform nodes, the root included once a single
    component is left, are skipped at once instead of being descended until
    a point within reach shows up (about half the sweep's time on dense
    clusters). The traversal finds every other component as before.
    """
    n_roots = 0
    if added_count[leaf] > 0:
        for row in range(node_start[leaf], node_end[leaf]):
            if not added[row]:
                continue
            r = rdist_to_row(x, data, row, p)
            if r > r_reject or not within_bound(r, max_dist, alpha, p):
                continue
            rj = ds_find(parent, idx_array[row])
            stamp[rj] = k
            roots[0] = rj
            n_roots = 1
            break
    stack[0] = 0
    top = 1
    while top > 0:
        top -= 1
        node = stack[top]
        if added_count[node] == 0:
            continue
        is_leaf = node_is_leaf[node]
        if not uniform[node] and not is_leaf:
            _remark_internal(node, added_count, uniform, rep, parent)
        rr = -1
        if uniform[node]:
            rr = ds_find(parent, rep[node])
            if stamp[rr] == k:
                continue
        if min_rdist_to_node(x, node_lo, node_hi, node, p) > r_reject:
            continue
        if rr >= 0 and within_bound(
            max_rdist_to_node(x, node_lo, node_hi, node, p), max_dist, alpha, p
        ):
            # every point of the box is a neighbour: the component is adjacent
            stamp[rr] = k
            roots[n_roots] = rr
            n_roots += 1
            continue
        if is_leaf:
            for row in range(node_start[node], node_end[node]):
                if not added[row]:
                    continue
                r = rdist_to_row(x, data, row, p)
                if r > r_reject or not within_bound(r, max_dist, alpha, p):
                    continue
                rj = ds_find(parent, idx_array[row])
                if stamp[rj] != k:
                    stamp[rj] = k
                    roots[n_roots] = rj
                    n_roots += 1
                    if rr >= 0:
                        break  # uniform leaf: nothing else to find here
            continue
        stack[top] = 2 * node + 2
        stack[top + 1] = 2 * node + 1
        top += 2
    return n_roots


@njit(cache=NUMBA_CACHE, nogil=True)
def _scan_earlier(
    data, idx_array, x, rank_i, rank, start, end, max_dist, alpha, p,
    r_reject, r_max, best_d, best_j, ids,
):
    """Offer the rows ``start:end`` ranked before ``rank_i`` as nearest
    neighbour of ``x`` (distance ties by smallest ``ids`` entry); returns
    the new ``(r_max, best_d, best_j)``."""
    for row in range(start, end):
        j = idx_array[row]
        if rank[j] >= rank_i:
            continue
        r = rdist_to_row(x, data, row, p)
        if r > r_max:
            continue
        d = rdist_to_dist(r, p)
        if not d / alpha <= max_dist:
            continue
        if key_less(d, ids[j], best_d, ids[best_j] if best_j >= 0 else -1):
            best_d = d
            best_j = j
            r_max = min(r_reject, rdist_reject_bound(d, p))
    return r_max, best_d, best_j


@njit(cache=NUMBA_CACHE, nogil=True)
def _earlier_partners_chunk(
    tree, rank, max_dist, alpha, p, r_reject, node_min_rank, partner, rows, start, end,
    stack_size, ids,
):
    """:func:`earlier_partners` for the tree rows ``rows[start:end]`` (one task
    of its parallel loop; a separate function keeps the loop cheap to compile)."""
    data = tree.data
    idx_array = tree.idx_array
    node_start = tree.node_start
    node_end = tree.node_end
    node_lo = tree.node_lo
    node_hi = tree.node_hi
    node_is_leaf = tree.node_is_leaf
    stack = np.empty(stack_size, dtype=np.intp)
    for t in range(start, end):
        row_i = rows[t]
        i = idx_array[row_i]
        rank_i = rank[i]
        if rank_i == 0:
            continue
        x = data[row_i]
        node = leaf_of_row(node_end, node_is_leaf, row_i)
        r_max, best_d, best_j = _scan_earlier(
            data, idx_array, x, rank_i, rank, node_start[node], node_end[node],
            max_dist, alpha, p, r_reject, r_reject, np.inf, np.intp(-1), ids,
        )
        while node > 0:
            sibling = node + 1 if node % 2 == 1 else node - 1
            node = (node - 1) // 2
            if node_min_rank[sibling] >= rank_i:
                continue
            if min_rdist_to_node(x, node_lo, node_hi, sibling, p) > r_max:
                continue
            stack[0] = sibling
            top = 1
            while top > 0:
                top -= 1
                current = stack[top]
                if node_min_rank[current] >= rank_i:
                    continue
                if min_rdist_to_node(x, node_lo, node_hi, current, p) > r_max:
                    continue
                if node_is_leaf[current]:
                    r_max, best_d, best_j = _scan_earlier(
                        data, idx_array, x, rank_i, rank, node_start[current],
                        node_end[current], max_dist, alpha, p, r_reject, r_max,
                        best_d, best_j, ids,
                    )
                    continue
                left = 2 * current + 1
                right = left + 1
                if min_rdist_to_node(x, node_lo, node_hi, left, p) <= min_rdist_to_node(
                    x, node_lo, node_hi, right, p
                ):
                    stack[top] = right
                    stack[top + 1] = left
                else:
                    stack[top] = left
                    stack[top + 1] = right
                top += 2
        partner[i] = best_j


@njit(cache=NUMBA_CACHE, nogil=True)
def _node_min_rank(tree, rank):
    """Smallest rank below each node of ``tree``."""
    idx_array = tree.idx_array
    node_start = tree.node_start
    node_end = tree.node_end
    m = tree.data.shape[0]
    n_nodes = node_start.shape[0]
    first_leaf = n_nodes // 2
    node_min_rank = np.empty(n_nodes, dtype=np.intp)
    for leaf in range(first_leaf, n_nodes):
        low = m
        for row in range(node_start[leaf], node_end[leaf]):
            low = min(low, rank[idx_array[row]])
        node_min_rank[leaf] = low
    for node in range(first_leaf - 1, -1, -1):
        node_min_rank[node] = min(node_min_rank[2 * node + 1], node_min_rank[2 * node + 2])
    return node_min_rank


@njit(cache=NUMBA_CACHE, nogil=True, parallel=True)
def earlier_partners(tree, rank, max_dist, alpha, p, rows):
    """Nearest neighbour within reach among the points ranked before it
    (local id, distance ties by smallest id; -1: none) of the points at the
    tree rows ``rows`` (intp); -1 for every other point.

    This is the nearest already-added neighbour at the moment the sweep
    adds the point (the added points are exactly those ranked before it),
    found independently of the sweep's state, so the points are searched
    in parallel. Nodes whose points all rank later are pruned.
    """
    node_min_rank = _node_min_rank(tree, rank)
    m = tree.data.shape[0]
    n_nodes = node_min_rank.shape[0]
    partner = np.full(m, -1, dtype=np.intp)
    n_rows = rows.shape[0]
    if n_rows == 0:
        return partner
    r_reject = rdist_reject_bound(unscaled_dist_bound(max_dist, alpha), p)
    stack_size = 2 * tree_n_levels_from_nodes(n_nodes) + 2
    n_chunks = (n_rows + QUERY_CHUNK - 1) // QUERY_CHUNK
    ids = np.arange(m)
    for chunk in prange(n_chunks):
        _earlier_partners_chunk(
            tree, rank, max_dist, alpha, p, r_reject, node_min_rank, partner, rows,
            chunk * QUERY_CHUNK, min(n_rows, (chunk + 1) * QUERY_CHUNK), stack_size, ids,
        )
    return partner


@njit(cache=NUMBA_CACHE, nogil=True)
def earlier_partners_serial(tree, rank, max_dist, alpha, p, rows):
    """:func:`earlier_partners` on one thread (the same partners)."""
    return renumbered_partners(
        tree, rank, max_dist, alpha, p, rows, np.arange(tree.data.shape[0])
    )


@njit(cache=NUMBA_CACHE, nogil=True)
def renumbered_partners(tree, rank, max_dist, alpha, p, rows, ids):
    """:func:`earlier_partners_serial` with distance ties broken by ``ids``
    (intp (m,), each point's id in another numbering, as
    :func:`renumbered_full_sweep` takes it)."""
    node_min_rank = _node_min_rank(tree, rank)
    partner = np.full(tree.data.shape[0], -1, dtype=np.intp)
    if rows.shape[0] == 0:
        return partner
    _earlier_partners_chunk(
        tree, rank, max_dist, alpha, p,
        rdist_reject_bound(unscaled_dist_bound(max_dist, alpha), p), node_min_rank,
        partner, rows, 0, rows.shape[0],
        2 * tree_n_levels_from_nodes(node_min_rank.shape[0]) + 2, ids,
    )
    return partner


@njit(cache=NUMBA_CACHE, nogil=True)
def full_sweep(tree, centrality, max_dist, alpha, p):
    """The union-find sweep of :func:`full_graph_spanning_tree`.

    Returns ``(edges, rank, rows)``: the spanning-forest edges, each point's
    rank in centrality order and the tree rows of the points whose partner
    the linkage consults.
    """
    order, rank = centrality_order(centrality)
    return renumbered_full_sweep(
        tree, centrality, order, rank, np.arange(centrality.shape[0]), max_dist, alpha, p
    )


@njit(cache=NUMBA_CACHE, nogil=True, **NO_REFCOUNT)
def _sweep_points(data, idx_array, node_start, node_end, node_lo, node_hi, node_is_leaf,
                  centrality, order, ids, row_of, added, added_count, uniform, rep, stack,
                  parent, size, stamp, edges, roots, keys, max_dist, alpha, p, r_reject):
    """The loop of :func:`renumbered_full_sweep` over the points in
    centrality order, on the arrays it allocates (no reference counting:
    ``NO_REFCOUNT``); returns the number of edges written."""
    m = centrality.shape[0]
    n_edges = np.intp(0)  # not a literal: callees compile once
    for k in range(m):
        i = order[k]
        row_i = row_of[i]
        x = data[row_i]
        leaf = leaf_of_row(node_end, node_is_leaf, row_i)
        n_roots = 0
        if k > 0:
            n_roots = _collect_roots(
                data, idx_array, node_start, node_end, node_lo, node_hi,
                node_is_leaf, x, leaf, k, added, added_count, uniform, rep, parent,
                stamp, roots, stack, max_dist, alpha, p, r_reject,
            )
        if n_roots == 1:
            n_edges = join_one(i, roots[0], centrality[i], parent, size, edges, n_edges)
        elif n_roots > 1:
            # the same unions, in the same order, as the CSR sweep
            n_edges = join_components(
                i, roots, n_roots, centrality[i], parent, size, keys, edges, n_edges, ids
            )
        # add i: update the nodes on its leaf-to-root path, bottom-up
        added[row_i] = True
        ri = ds_find(parent, i)
        node = leaf
        while True:
            if added_count[node] == 0:
                uniform[node] = True
                rep[node] = i
            elif uniform[node]:
                if ds_find(parent, rep[node]) == ri:
                    # the node's earlier points are in i's component, and so
                    # are those of each uniform ancestor: only counts change
                    while True:
                        added_count[node] += 1
                        if node == 0:
                            break
                        node = (node - 1) // 2
                    break
                uniform[node] = False
            elif node_is_leaf[node]:
                _remark_leaf(
                    node, node_start, node_end, idx_array, added, uniform, rep,
                    parent,
                )
            added_count[node] += 1
            if not uniform[node] and not node_is_leaf[node]:
                _remark_internal(node, added_count, uniform, rep, parent)
            if node == 0:
                break
            node = (node - 1) // 2
    return n_edges


@njit(cache=NUMBA_CACHE, nogil=True)
def renumbered_full_sweep(tree, centrality, order, rank, ids, max_dist, alpha, p):
    """:func:`full_sweep` of points renumbered from another numbering:
    ``ids`` intp (m,) each point's id there, ``order`` / ``rank`` the
    centrality order with ties by those ids (a point's rank is the one it
    has there). The tie rule of
    :func:`~flasc_cluster._branches.linkage.join_components` reads ``ids``
    too, so the edges, mapped back through ``ids``, are those of the other
    numbering. With the points numbered in the tree's row order the
    union-find reads mostly hit the cache.
    """
    data = tree.data
    idx_array = tree.idx_array
    node_start = tree.node_start
    node_end = tree.node_end
    node_lo = tree.node_lo
    node_hi = tree.node_hi
    node_is_leaf = tree.node_is_leaf
    m = centrality.shape[0]
    n_nodes = node_start.shape[0]
    row_of = np.empty(m, dtype=np.intp)
    for row in range(m):
        row_of[idx_array[row]] = row
    r_reject = rdist_reject_bound(unscaled_dist_bound(max_dist, alpha), p)

    added = np.zeros(m, dtype=np.bool_)  # by reordered row
    added_count = np.zeros(n_nodes, dtype=np.intp)
    uniform = np.zeros(n_nodes, dtype=np.bool_)
    rep = np.full(n_nodes, -1, dtype=np.intp)
    stack = np.empty(2 * tree_n_levels_from_nodes(n_nodes) + 2, dtype=np.intp)

    parent = np.arange(m)
    size = np.ones(m, dtype=np.intp)
    stamp = np.full(m, -1, dtype=np.intp)
    edges = np.empty((max(m - 1, 0), 3))
    roots = np.empty(m, dtype=np.intp)
    keys = np.empty(m, dtype=np.float64)
    n_edges = _sweep_points(
        data, idx_array, node_start, node_end, node_lo, node_hi, node_is_leaf, centrality,
        order, ids, row_of, added, added_count, uniform, rep, stack, parent, size, stamp,
        edges, roots, keys, max_dist, alpha, p, r_reject,
    )
    edges = edges[:n_edges].copy()
    return edges, rank, _joiner_rows(edges, row_of)


@njit(cache=NUMBA_CACHE, nogil=True)
def _joiner_rows(edges, row_of):
    """Tree rows of the :func:`~flasc_cluster._branches.linkage.tied_joiners`."""
    joiners = tied_joiners(edges, row_of.shape[0])
    rows = np.empty(joiners.shape[0], dtype=np.intp)
    for t in range(joiners.shape[0]):
        rows[t] = row_of[joiners[t]]
    return rows


@njit(cache=NUMBA_CACHE, nogil=True)
def full_graph_spanning_tree(tree, centrality, max_dist, alpha, p):
    """:func:`~flasc_cluster._branches.linkage.centrality_spanning_tree` of the ``full`` graph, found with a kd-tree.

    ``tree`` a ``KDTree`` over the cluster's m points (its original ids are
    the local ids 0..m-1); ``centrality`` float64 (m,); ``max_dist``,
    ``alpha > 0``, ``p >= 1`` float64. The graph has an edge ``(i, j)``,
    ``i != j``, iff ``rdist_to_dist(rdist(x_i, x_j, p), p) / alpha <=
    max_dist``. Returns ``(edges float64 (n_edges, 3), n_components, partner
    intp (m,))``: the edges and component count exactly as
    ``centrality_spanning_tree`` on that graph (the same unions in the same
    order, hence the same roots), and the partners the linkage consults:
    each point's nearest earlier neighbour for the joining point of every
    edge that shares its weight with another edge
    (:func:`~flasc_cluster._branches.linkage.tied_joiners`); -1 elsewhere,
    searched in parallel. O(m) memory.
    """
    edges, rank, rows = full_sweep(tree, centrality, max_dist, alpha, p)
    partner = earlier_partners(tree, rank, max_dist, alpha, p, rows)
    return edges, centrality.shape[0] - edges.shape[0], partner


@njit(cache=NUMBA_CACHE, nogil=True)
def full_graph_pairs(tree, max_dist, alpha, p):
    """All edges ``i < j`` of the ``full`` graph (local ids), as two intp arrays.

    Same edge test as :func:`full_graph_spanning_tree`; ``tree`` over the
    cluster's points with original ids 0..m-1. Memory grows with the number
    of edges: for the CSR reference path and for reporting the graph.
    """
    data = tree.data
    idx_array = tree.idx_array
    node_start = tree.node_start
    node_end = tree.node_end
    node_lo = tree.node_lo
    node_hi = tree.node_hi
    node_is_leaf = tree.node_is_leaf
    m = data.shape[0]
    r_reject = rdist_reject_bound(unscaled_dist_bound(max_dist, alpha), p)
    stack = np.empty(
        2 * tree_n_levels_from_nodes(node_start.shape[0]) + 2, dtype=np.intp
    )
    capacity = max(16, 4 * m)
    src = np.empty(capacity, dtype=np.intp)
    dst = np.empty(capacity, dtype=np.intp)
    count = 0
    for row_i in range(m):
        x = data[row_i]
        i = idx_array[row_i]
        stack[0] = 0
        top = 1
        while top > 0:
            top -= 1
            node = stack[top]
            if min_rdist_to_node(x, node_lo, node_hi, node, p) > r_reject:
                continue
            if not node_is_leaf[node]:
                stack[top] = 2 * node + 2
                stack[top + 1] = 2 * node + 1
                top += 2
                continue
            for row in range(node_start[node], node_end[node]):
                j = idx_array[row]
                if j <= i:
                    continue
                r = rdist_to_row(x, data, row, p)
                if r > r_reject or not within_bound(r, max_dist, alpha, p):
                    continue
                if count == capacity:
                    capacity *= 2
                    grown = np.empty(capacity, dtype=np.intp)
                    grown[:count] = src[:count]
                    src = grown
                    grown = np.empty(capacity, dtype=np.intp)
                    grown[:count] = dst[:count]
                    dst = grown
                src[count] = i
                dst[count] = j
                count += 1
    return src[:count].copy(), dst[:count].copy()


@njit(cache=NUMBA_CACHE, nogil=True, inline="always")
def _component_in_reach(x, q, next_row, ordered, box_lo, box_hi, r, max_dist, alpha, p,
                        r_reject):
    """Whether the component with root ``r`` has a point within reach of
    ``x``: no when its bounding box (``box_lo[r]``, ``box_hi[r]``) is out
    of reach, yes when the box's farthest corner is within it, else its
    points (rows of ``ordered``, linked from ``q`` through ``next_row``)
    are tried until one is."""
    if min_rdist_to_node(x, box_lo, box_hi, r, p) > r_reject:
        return False
    if within_bound(max_rdist_to_node(x, box_lo, box_hi, r, p), max_dist, alpha, p):
        return True
    while q >= 0:
        rq = rdist_to_row(x, ordered, q, p)
        if rq <= r_reject and within_bound(rq, max_dist, alpha, p):
            return True
        q = next_row[q]
    return False


@njit(cache=NUMBA_CACHE, nogil=True, **NO_REFCOUNT)
def _brute_sweep_points(ordered, order, centrality, parent, size, edges, roots, keys, ids,
                        head, tail, next_row, box_lo, box_hi, active, active_pos,
                        max_dist, alpha, p, r_reject):
    """The loop of :func:`brute_full_sweep` over the points in centrality
    order, on the arrays it allocates (``NO_REFCOUNT``); returns the number
    of edges written.

    Each component of the points added so far (root ``r``, one of the
    ``active[:n_active]`` roots, ``active_pos[r]`` its place there) keeps
    its points' rows of ``ordered`` as a list (from ``head[r]`` through
    ``next_row`` to ``tail[r]``, the latest added first) and their
    bounding box (``box_lo[r]``, ``box_hi[r]``). A new point asks each
    component whether it is within reach (:func:`_component_in_reach`):
    the set of components a scan of all earlier points meets, found
    without measuring the distance to the rest of a component once one
    of its points is within reach, nor to any when its box decides. On
    random-walk clusters of 120-200 points in 2-D the scan of all earlier
    points measured about 48 distances per point."""
    m = order.shape[0]
    d = ordered.shape[1]
    n_edges = np.intp(0)  # not a literal: callees compile once
    n_active = 0
    for k in range(m):
        i = order[k]
        x = ordered[k]
        n_roots = 0
        for a in range(n_active):
            r = active[a]
            if _component_in_reach(x, head[r], next_row, ordered, box_lo, box_hi, r,
                                   max_dist, alpha, p, r_reject):
                roots[n_roots] = r
                n_roots += 1
        if n_roots == 1:
            n_edges = join_one(i, roots[0], centrality[i], parent, size, edges, n_edges)
        elif n_roots > 1:
            # the unions do not depend on the order the roots were found in
            n_edges = join_components(
                i, roots, n_roots, centrality[i], parent, size, keys, edges, n_edges, ids
            )
        # the joined component: point k, then the lists of the components
        # it joined, inside the union of their boxes (the new root may be
        # one of theirs: everything is read before it is written)
        root = ds_find(parent, i)
        for q in range(d):
            lo = x[q]
            hi = x[q]
            for t in range(n_roots):
                lo = min(lo, box_lo[roots[t], q])
                hi = max(hi, box_hi[roots[t], q])
            box_lo[root, q] = lo
            box_hi[root, q] = hi
        last_row = k
        for t in range(n_roots):
            r = roots[t]
            next_row[last_row] = head[r]
            last_row = tail[r]
            a = active_pos[r]
            n_active -= 1
            moved = active[n_active]
            active[a] = moved
            active_pos[moved] = a
        next_row[last_row] = -1
        head[root] = k
        tail[root] = last_row
        active[n_active] = root
        active_pos[root] = n_active
        n_active += 1
    return n_edges


@njit(cache=NUMBA_CACHE, nogil=True)
def brute_full_sweep(data, centrality, max_dist, alpha, p):
    """:func:`full_graph_spanning_tree` by scanning all pairs: for small
    inputs (:data:`~flasc_cluster._hdbscan.space.BRUTE_MAX_POINTS`), whose
    first fit then compiles no kd-tree kernel.

    ``data`` float64 (m, d), the cluster's points by local id. Returns
    ``(edges, partner)`` exactly as :func:`full_sweep` and
    :func:`earlier_partners` give them: each added point meets the
    components of all earlier points within reach (the same set as the
    tree's range query, hence the same unions in the same order), and the
    partners are the nearest earlier points within reach, ties by smallest
    id. Each point asks every component of the earlier points whether it
    is within reach (:func:`_brute_sweep_points`; the unions depend on the
    set of components, not on the order they are found:
    :func:`~flasc_cluster._branches.linkage.join_components` orders them).
    The points are copied in centrality order, so the earlier points of a
    tied joiner, whose partner is the nearest, are a prefix, scanned with
    the vectorised :func:`~flasc_cluster._hdbscan.space_tree.leaf_rdists`.
    """
    m = data.shape[0]
    order, rank = centrality_order(centrality)
    ordered = np.empty_like(data)
    for k in range(m):
        for q in range(data.shape[1]):
            ordered[k, q] = data[order[k], q]
    r_reject = rdist_reject_bound(unscaled_dist_bound(max_dist, alpha), p)
    parent = np.arange(m)
    size = np.ones(m, dtype=np.intp)
    edges = np.empty((max(m - 1, 0), 3))
    roots = np.empty(m, dtype=np.intp)
    keys = np.empty(m, dtype=np.float64)
    ids = np.arange(m)  # ties between components by root id
    head = np.empty(m, dtype=np.intp)
    tail = np.empty(m, dtype=np.intp)
    next_row = np.empty(m, dtype=np.intp)
    box_lo = np.empty_like(data)
    box_hi = np.empty_like(data)
    active = np.empty(m, dtype=np.intp)
    active_pos = np.empty(m, dtype=np.intp)
    n_edges = _brute_sweep_points(
        ordered, order, centrality, parent, size, edges, roots, keys, ids, head, tail,
        next_row, box_lo, box_hi, active, active_pos, max_dist, alpha, p, r_reject,
    )
    edges = edges[:n_edges].copy()
    partner = np.full(m, -1, dtype=np.intp)
    joiners = tied_joiners(edges, m)
    if joiners.shape[0] == 0:
        return edges, partner
    columns = np.ascontiguousarray(ordered.T)
    scratch = np.empty(m, dtype=np.float64)
    for t in range(joiners.shape[0]):
        i = joiners[t]
        k = rank[i]
        leaf_rdists(ordered, columns, ordered[k], 0, k, p, scratch)
        best_d = np.inf
        best_j = np.intp(-1)
        for s in range(k):
            d = rdist_to_dist(scratch[s], p)
            if not d / alpha <= max_dist:
                continue
            if key_less(d, order[s], best_d, best_j):
                best_d = d
                best_j = order[s]
        partner[i] = best_j
    return edges, partner
