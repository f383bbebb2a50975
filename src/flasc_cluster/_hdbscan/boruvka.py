"""Exact minimum spanning tree of the mutual-reachability graph (kernel module).

Borůvka's algorithm over a :class:`~flasc_cluster._hdbscan.space_tree.KDTree`,
in the spirit of fast_hdbscan, but exact and deterministic.

The mutual-reachability weight of points ``i`` and ``j`` is
``w = max(core_i, core_j, d_ij / alpha)`` where ``d_ij`` is the true
Minkowski distance ``rdist_to_dist(rdist(x_i, x_j, p), p)``. Edges are
ordered by the total order ``(w, min(i, j), max(i, j))`` on ORIGINAL indices;
under a total order the MST is unique, Borůvka never closes a cycle, and the
result equals Kruskal's with a stable sort by ``(w, i, j)``.

One round:

1. ``node_comp[node]``: the component of a node if all its points share it,
   else -1 (bottom-up).
2. Phase 1 (parallel over points): a point whose best edge from the previous
   round still leaves its component keeps it (its candidate set only
   shrank, so it is still its exact best); other points scan their own leaf
   for any edge to another component.
3. Per-component minimum of these edges: a deterministic upper bound
   ``bound[c]`` on the component's best edge. Components with no edge yet
   get one exact search from their root point.
4. Phase 2 (parallel over leaves): every point without an exact best and
   with ``core <= bound[c]`` searches the tree for its best edge of weight
   ``<= bound[c]``, pruning nodes of its own component, nodes whose minimum
   core distance exceeds the threshold, and nodes whose box is too far. The
   points of one leaf and component share one walk of the tree, bounded by
   the leaf's box, which lists the candidate leaves; each point then checks
   its own distance to those leaves' boxes, nearest first, and scans the
   ones within reach (:func:`_group_search`). A search that finds an edge
   of weight ``<= bound[c]`` has found the point's exact best (any better
   edge is never pruned). Points in mixed leaves go first; the bounds are
   then recomputed. Each single-component leaf gets a
   lower bound on its points' edges to other components (box-to-box
   distance to the nearest box holding other components); the leaf of each
   component with the smallest bound searches next, tightening the bounds,
   and then the other leaves whose lower bound does not exceed their
   component's bound. The first round reads most best edges off the kNN
   lists (see :func:`_seed_from_knn`).
5. Per-component minimum (serial), union of the chosen edges (an edge chosen
   by both its components is added once).

All pruning tests are strict (``bound > threshold``) and conservative in
floating point, so ties are always inspected and resolved by index. Every
parallel loop writes only its own points' entries and reads shared arrays
that are fixed during the loop, so the output does not depend on the number
of threads.
"""

import numpy as np
from numba import njit, prange

from .._config import NO_REFCOUNT, NUMBA_CACHE
from .._kernels.union_find import ds_find, ds_union_by_rank
from .space_tree import (
    min_rdist_between_nodes,
    min_rdist_to_node,
    rdist_reject_bound,
    rdist_to_dist,
    rdist_to_row,
    tree_n_levels_from_nodes,
    unscaled_dist_bound,
)

#: leaves per parallel work item of :func:`_group_search`
GROUP_CHUNK = 8


@njit(cache=NUMBA_CACHE)
def edge_less(w1, a1, b1, w2, a2, b2):
    """Total order on edges ``(w, a, b)`` with ``a < b`` original indices."""
    if w1 != w2:
        return w1 < w2
    if a1 != a2:
        return a1 < a2
    return b1 < b2


@njit(cache=NUMBA_CACHE, inline="always")
def _scan_leaf(
    data, idx_array, comp, core, x, c, ci, oi, start, end, alpha, p,
    best_w, best_j, best_a, best_b, thr, r_max,
):
    """Offer rows ``start:end`` as other ends of edges from a point.

    The point has component ``c``, core distance ``ci`` and original index
    ``oi``. Keeps the minimum edge of weight ``<= thr`` (the caller's bound);
    returns the updated ``(best_w, best_j, best_a, best_b, thr, r_max)``,
    ``thr`` lowered to each better edge's weight and ``r_max`` the matching
    reduced-distance bound.
    """
    for j in range(start, end):
        if comp[j] == c:
            continue
        cj = core[j]
        if cj > thr:
            continue
        r = rdist_to_row(x, data, j, p)
        if r > r_max:
            continue
        w = max(ci, cj, rdist_to_dist(r, p) / alpha)
        if w > thr:
            continue
        oj = idx_array[j]
        a = min(oi, oj)
        b = max(oi, oj)
        if best_j < 0 or edge_less(w, a, b, best_w, best_a, best_b):
            best_w = w
            best_j = j
            best_a = a
            best_b = b
            if w < thr:
                thr = w
                r_max = rdist_reject_bound(unscaled_dist_bound(thr, alpha), p)
    return best_w, best_j, best_a, best_b, thr, r_max


@njit(cache=NUMBA_CACHE)
def _start_edge(idx_array, oi, best_w, best_j, bound_w):
    """A search's starting state from its known edge ``(best_w, best_j)``
    (``best_j = -1``: none) for a point of original index ``oi``: returns
    ``(best_w, best_a, best_b, thr)`` with ``thr = min(bound_w, best_w)``."""
    if best_j < 0:
        return np.inf, -1, -1, bound_w
    oj = idx_array[best_j]
    return best_w, min(oi, oj), max(oi, oj), min(bound_w, best_w)


@njit(cache=NUMBA_CACHE, nogil=True, **NO_REFCOUNT)
def _search_point(
    data, idx_array, node_start, node_end, node_lo, node_hi, node_is_leaf,
    node_comp, node_min_core, comp, core, leaf, row, alpha, p, bound_w,
    lb_w, best_w, best_j, stack_node, stack_lb,
):
    """Best edge of weight ``<= bound_w`` from reordered row ``row`` to
    another component, starting from the known edge ``(best_w, best_j)``
    (``best_j = -1``: none; otherwise it must be the minimum edge from the
    point into its own ``leaf``, whose scan is then skipped). ``lb_w`` is a
    lower bound on the weight of every such edge (at least the point's core
    distance): if it exceeds ``bound_w`` there is nothing to search. Walks
    up from the point's ``leaf``, visiting sibling subtrees depth-first,
    nearer child first. Returns ``(best_w, best_j)``; ``best_j`` is a
    reordered row.
    """
    x = data[row]
    c = comp[row]
    ci = core[row]
    oi = idx_array[row]
    best_w, best_a, best_b, thr = _start_edge(idx_array, oi, best_w, best_j, bound_w)
    if ci > thr or lb_w > thr:
        return best_w, best_j
    r_max = rdist_reject_bound(unscaled_dist_bound(thr, alpha), p)
    node = leaf
    # a known edge (best_j >= 0) already is the minimum over the own leaf
    # (phase 1 scanned it), so only a search without one scans the leaf
    if best_j < 0 and node_comp[node] != c:
        best_w, best_j, best_a, best_b, thr, r_max = _scan_leaf(
            data, idx_array, comp, core, x, c, ci, oi, node_start[node],
            node_end[node], alpha, p, best_w, best_j, best_a, best_b, thr, r_max,
        )
    while node > 0:
        sibling = node + 1 if node % 2 == 1 else node - 1
        node = (node - 1) // 2
        if node_comp[sibling] == c or node_min_core[sibling] > thr:
            continue
        lb = min_rdist_to_node(x, node_lo, node_hi, sibling, p)
        if lb > r_max:
            continue
        stack_node[0] = sibling
        stack_lb[0] = lb
        top = 1
        while top > 0:
            top -= 1
            current = stack_node[top]
            if stack_lb[top] > r_max or node_min_core[current] > thr:
                continue
            if node_is_leaf[current]:
                best_w, best_j, best_a, best_b, thr, r_max = _scan_leaf(
                    data, idx_array, comp, core, x, c, ci, oi,
                    node_start[current], node_end[current], alpha, p,
                    best_w, best_j, best_a, best_b, thr, r_max,
                )
                continue
            left = 2 * current + 1
            right = left + 1
            lb_left = np.inf
            lb_right = np.inf
            if node_comp[left] != c and not node_min_core[left] > thr:
                lb_left = min_rdist_to_node(x, node_lo, node_hi, left, p)
            if node_comp[right] != c and not node_min_core[right] > thr:
                lb_right = min_rdist_to_node(x, node_lo, node_hi, right, p)
            # push the farther child first so that the nearer one is next
            if lb_left <= lb_right:
                if not lb_right > r_max:
                    stack_node[top] = right
                    stack_lb[top] = lb_right
                    top += 1
                if not lb_left > r_max:
                    stack_node[top] = left
                    stack_lb[top] = lb_left
                    top += 1
            else:
                if not lb_left > r_max:
                    stack_node[top] = left
                    stack_lb[top] = lb_left
                    top += 1
                if not lb_right > r_max:
                    stack_node[top] = right
                    stack_lb[top] = lb_right
                    top += 1
    return best_w, best_j


@njit(cache=NUMBA_CACHE, nogil=True)
def argsort_edges(w, a, b):
    """Permutation (intp) sorting edges ascending by ``(w, a, b)``.

    Bottom-up merge sort (iterative, stable, O(m log m)) on float64 ``w``
    and intp ``a``, ``b`` of shape (m,).
    """
    m = w.shape[0]
    order = np.arange(m).astype(np.intp)
    buf = np.empty(m, dtype=np.intp)
    width = 1
    while width < m:
        for lo in range(0, m, 2 * width):
            mid = min(lo + width, m)
            hi = min(lo + 2 * width, m)
            i = lo
            j = mid
            for t in range(lo, hi):
                if j >= hi:
                    take_left = True
                elif i >= mid:
                    take_left = False
                else:
                    x = order[i]
                    y = order[j]
                    take_left = not edge_less(w[y], a[y], b[y], w[x], a[x], b[x])
                if take_left:
                    buf[t] = order[i]
                    i += 1
                else:
                    buf[t] = order[j]
                    j += 1
        tmp = order
        order = buf
        buf = tmp
        width *= 2
    return order


@njit(cache=NUMBA_CACHE, nogil=True, **NO_REFCOUNT)
def _component_minima(comp, idx_array, cand_w, cand_j, comp_w, comp_from,
                      comp_to):
    """Per-component minimum of the points' candidate edges (serial).

    ``comp_w``, ``comp_from``, ``comp_to`` (n,) indexed by component root;
    ``comp_to[c] = -1`` when component ``c`` has no candidate. Rows are
    reordered rows; the order is the edge total order on original indices.
    """
    n = comp.shape[0]
    for row in range(n):
        comp_to[row] = -1
        comp_w[row] = np.inf
    for row in range(n):
        j = cand_j[row]
        if j < 0:
            continue
        c = comp[row]
        oi = idx_array[row]
        oj = idx_array[j]
        a = min(oi, oj)
        b = max(oi, oj)
        w = cand_w[row]
        if comp_to[c] < 0:
            better = True
        else:
            oc = idx_array[comp_from[c]]
            od = idx_array[comp_to[c]]
            better = edge_less(w, a, b, comp_w[c], min(oc, od), max(oc, od))
        if better:
            comp_w[c] = w
            comp_from[c] = row
            comp_to[c] = j


@njit(cache=NUMBA_CACHE, nogil=True, **NO_REFCOUNT)
def scan_leaf_pairs(
    data, idx_array, comp, core, start, end, alpha, p, need, cand_w, cand_j,
):
    """Minimum edge to another component inside one leaf, for every point
    of rows ``start:end`` with ``need[row]``.

    Each pair of rows is inspected once and offered to both of its ends,
    half the work of one scan per point. Writes ``cand_w[row]``,
    ``cand_j[row]`` (reordered row, -1 if the leaf has no other component)
    for the needing rows only; the result is the minimum under the edge
    total order, so it does not depend on the scan order.
    """
    for row in range(start, end):
        if need[row]:
            cand_w[row] = np.inf
            cand_j[row] = -1
    for r1 in range(start, end):
        x1 = data[r1]
        c1 = comp[r1]
        core1 = core[r1]
        o1 = idx_array[r1]
        need1 = need[r1]
        for r2 in range(r1 + 1, end):
            if comp[r2] == c1:
                continue
            need2 = need[r2]
            if not (need1 or need2):
                continue
            m = max(core1, core[r2])
            # an edge heavier than both ends' current bests helps neither
            if (not need1 or (cand_j[r1] >= 0 and m > cand_w[r1])) and (
                not need2 or (cand_j[r2] >= 0 and m > cand_w[r2])
            ):
                continue
            w = max(
                m, rdist_to_dist(rdist_to_row(x1, data, r2, p), p) / alpha
            )
            o2 = idx_array[r2]
            a = min(o1, o2)
            b = max(o1, o2)
            if need1:
                j = cand_j[r1]
                if j < 0:
                    better = True
                else:
                    oj = idx_array[j]
                    better = edge_less(
                        w, a, b, cand_w[r1], min(o1, oj), max(o1, oj)
                    )
                if better:
                    cand_w[r1] = w
                    cand_j[r1] = r2
            if need2:
                j = cand_j[r2]
                if j < 0:
                    better = True
                else:
                    oj = idx_array[j]
                    better = edge_less(
                        w, a, b, cand_w[r2], min(o2, oj), max(o2, oj)
                    )
                if better:
                    cand_w[r2] = w
                    cand_j[r2] = r1


@njit(cache=NUMBA_CACHE, nogil=True, parallel=True)
def _phase1_candidates(
    tree, comp, core, node_comp, alpha, p, need, cand_w, cand_j, cand_exact
):
    """Keep still-valid exact bests; else best edge inside the own leaf.

    Writes ``cand_w``, ``cand_j`` (reordered row, -1 none) and clears
    ``cand_exact`` for points whose exact best now lies in their component;
    ``need`` bool (n,) is scratch. Parallel over leaves; each iteration
    writes only its own leaf's rows.
    """
    n_nodes = tree.node_start.shape[0]
    first_leaf = n_nodes // 2
    for leaf in prange(first_leaf, n_nodes):
        start = tree.node_start[leaf]
        end = tree.node_end[leaf]
        any_need = False
        for row in range(start, end):
            c = comp[row]
            if cand_exact[row] and comp[cand_j[row]] != c:
                need[row] = False
                continue
            need[row] = True
            any_need = True
            cand_exact[row] = False
            cand_w[row] = np.inf
            cand_j[row] = -1
        if any_need and node_comp[leaf] < 0:
            scan_leaf_pairs(
                tree.data, tree.idx_array, comp, core, start, end, alpha, p,
                need, cand_w, cand_j,
            )


@njit(cache=NUMBA_CACHE, inline="always")
def _group_candidates(tree, node_comp, node_min_core, g, c, bound, r_max,
                      p, stack, stack_lb, cand, cand_lb):
    """Leaves that may hold the other end of an edge of weight ``<= bound``
    from a point of component ``c`` in node ``g``: every leaf not wholly in
    ``c``, with minimum core distance ``<= bound`` and box within reduced
    distance ``r_max`` of ``g``'s box. Writes them to ``cand[:m]``, with
    that box-to-box bound in ``cand_lb[:m]``, in depth-first order with the
    nearer child first, and returns ``m``."""
    stack[0] = 0
    stack_lb[0] = min_rdist_between_nodes(tree.node_lo, tree.node_hi, g, 0, p)
    top = 1
    m = 0
    while top > 0:
        top -= 1
        node = stack[top]
        r = stack_lb[top]
        if r > r_max or node_comp[node] == c or node_min_core[node] > bound:
            continue
        if tree.node_is_leaf[node]:
            cand[m] = node
            cand_lb[m] = r
            m += 1
            continue
        left = 2 * node + 1
        right = left + 1
        r_left = min_rdist_between_nodes(tree.node_lo, tree.node_hi, g, left, p)
        r_right = min_rdist_between_nodes(tree.node_lo, tree.node_hi, g, right, p)
        # push the farther child first so that the nearer one is next
        if r_left <= r_right:
            stack[top] = right
            stack_lb[top] = r_right
            stack[top + 1] = left
            stack_lb[top + 1] = r_left
        else:
            stack[top] = left
            stack_lb[top] = r_left
            stack[top + 1] = right
            stack_lb[top + 1] = r_right
        top += 2
    return m


@njit(cache=NUMBA_CACHE, inline="always")
def _record(row, bw, bj, bound, point_lb, cand_w, cand_j, cand_exact):
    """Store a search result: exact iff it found an edge of weight
    ``<= bound``, and raise the point's lower bound accordingly."""
    cand_w[row] = bw
    cand_j[row] = bj
    cand_exact[row] = bj >= 0 and not bw > bound
    if cand_exact[row]:
        point_lb[row] = bw
    elif bound < np.inf and bound > point_lb[row]:
        # no edge to another component weighs <= bound; components only
        # merge, so that holds in every later round too
        point_lb[row] = bound


@njit(cache=NUMBA_CACHE, nogil=True, **NO_REFCOUNT)
def _search_group(
    tree, comp, core, node_comp, node_min_core, alpha, p, g, take, bound_w,
    point_lb, cand_w, cand_j, cand_exact, stack, stack_lb, cand, cand_lb,
):
    """The searches of :func:`_group_search` for the rows of leaf ``g``
    (serial, so that the parallel loop stays small to compile)."""
    data = tree.data
    idx_array = tree.idx_array
    node_start = tree.node_start
    node_end = tree.node_end
    start = node_start[g]
    end = node_end[g]
    for first in range(start, end):
        if not take[first]:
            continue
        c = comp[first]
        seen = False
        for row in range(start, first):
            if take[row] and comp[row] == c:
                seen = True
                break
        if seen:
            continue
        bound = bound_w[c]
        alone = True
        for row in range(first + 1, end):
            if take[row] and comp[row] == c:
                alone = False
                break
        if alone:
            bw, bj = _search_point(
                data, idx_array, node_start, node_end, tree.node_lo,
                tree.node_hi, tree.node_is_leaf, node_comp,
                node_min_core, comp, core, g, first, alpha, p, bound,
                point_lb[first], cand_w[first], cand_j[first], stack,
                stack_lb,
            )
            _record(first, bw, bj, bound, point_lb, cand_w, cand_j,
                    cand_exact)
            continue
        r_max0 = rdist_reject_bound(unscaled_dist_bound(bound, alpha), p)
        m = _group_candidates(
            tree, node_comp, node_min_core, g, c, bound, r_max0, p,
            stack, stack_lb, cand, cand_lb,
        )
        for row in range(first, end):
            if not take[row] or comp[row] != c:
                continue
            x = data[row]
            ci = core[row]
            oi = idx_array[row]
            best_j = cand_j[row]
            best_w, best_a, best_b, thr = _start_edge(
                idx_array, oi, cand_w[row], best_j, bound
            )
            if not (ci > thr or point_lb[row] > thr):
                r_max = rdist_reject_bound(
                    unscaled_dist_bound(thr, alpha), p
                )
                for t in range(m):
                    leaf = cand[t]
                    if cand_lb[t] > r_max or node_min_core[leaf] > thr:
                        continue
                    if min_rdist_to_node(
                        x, tree.node_lo, tree.node_hi, leaf, p
                    ) > r_max:
                        continue
                    best_w, best_j, best_a, best_b, thr, r_max = _scan_leaf(
                        data, idx_array, comp, core, x, c, ci, oi,
                        node_start[leaf], node_end[leaf], alpha, p,
                        best_w, best_j, best_a, best_b, thr, r_max,
                    )
            _record(row, best_w, best_j, bound, point_lb, cand_w,
                    cand_j, cand_exact)


@njit(cache=NUMBA_CACHE, nogil=True, parallel=True)
def _group_search(
    tree, comp, core, node_comp, node_min_core, alpha, p, groups, n_groups,
    take, bound_w, point_lb, cand_w, cand_j, cand_exact,
):
    """Exact searches below the component bounds, one leaf at a time.

    For every leaf ``groups[:n_groups]`` and every component ``c`` among
    its rows with ``take[row]``, each such row gets its best edge of weight
    ``<= bound_w[c]`` (``np.inf``: no bound) to another component. A row
    alone in its leaf and component searches by itself
    (:func:`_search_point`). Otherwise one traversal of the tree with the
    leaf's box lists the candidate leaves for all of them
    (:func:`_group_candidates`); each row then checks its own distance to
    each candidate box and scans the leaves within reach. A point-by-point
    search walks the tree once per point, with a box bound per visited
    node; here the walk is shared and a point only bounds the candidate
    leaves. A row starts from its current candidate (``cand_j >= 0``: the
    minimum edge into its own leaf, phase 1); the own leaf is a candidate
    too, and rescanning it changes nothing. A result of weight ``<= bound``
    is the row's exact best (``cand_exact``, ``point_lb`` raised to it);
    otherwise ``point_lb`` is raised to the bound. Parallel over chunks of
    leaves; each iteration writes only its own leaf's rows.
    """
    n_nodes = tree.node_start.shape[0]
    first_leaf = n_nodes // 2
    stack_size = 2 * tree_n_levels_from_nodes(n_nodes) + 2
    n_chunks = (n_groups + GROUP_CHUNK - 1) // GROUP_CHUNK
    for chunk in prange(n_chunks):
        stack = np.empty(stack_size, dtype=np.intp)
        stack_lb = np.empty(stack_size, dtype=np.float64)
        cand = np.empty(n_nodes - first_leaf, dtype=np.intp)
        cand_lb = np.empty(n_nodes - first_leaf, dtype=np.float64)
        for gi in range(
            chunk * GROUP_CHUNK, min(n_groups, (chunk + 1) * GROUP_CHUNK)
        ):
            _search_group(
                tree, comp, core, node_comp, node_min_core, alpha, p,
                groups[gi], take, bound_w, point_lb, cand_w, cand_j,
                cand_exact, stack, stack_lb, cand, cand_lb,
            )


@njit(cache=NUMBA_CACHE, nogil=True)
def _search_rows(tree, comp, core, leaf_of, node_comp, node_min_core, alpha,
                 p, rows, n_rows, bound_w, point_lb, cand_w, cand_j,
                 cand_exact, in_rows, groups):
    """:func:`_group_search` for the rows ``rows[:n_rows]`` (increasing,
    so a leaf's rows are adjacent); ``in_rows`` bool (n,) all False and
    ``groups`` intp scratch of one entry per leaf."""
    n_groups = 0
    for t in range(n_rows):
        in_rows[rows[t]] = True
        if n_groups == 0 or groups[n_groups - 1] != leaf_of[rows[t]]:
            groups[n_groups] = leaf_of[rows[t]]
            n_groups += 1
    _group_search(
        tree, comp, core, node_comp, node_min_core, alpha, p, groups,
        np.intp(n_groups), in_rows, bound_w, point_lb, cand_w, cand_j,
        cand_exact,
    )
    for t in range(n_rows):
        in_rows[rows[t]] = False


@njit(cache=NUMBA_CACHE, nogil=True, parallel=True)
def _seed_from_knn(
    idx_array, core, core_distances, knn_dist, knn_ind, cand_w, cand_j,
    cand_exact, point_lb,
):
    """First-round best edges read off the kNN lists where they are exact.

    ``knn_dist``/``knn_ind`` (n, k) in ORIGINAL row order, each row all the
    other points with key ``(d, index) <= (D, I)``, its last entry, in that
    order (:func:`~flasc_cluster._hdbscan.space_tree.knn_query`); ``alpha``
    is 1. Every edge of point ``i`` weighs at least ``core_i``; it weighs
    exactly ``core_i`` iff ``d_ij <= core_i`` and ``core_j <= core_i``. If
    ``core_i <= D``, every such ``j`` with ``d_ij < D`` is listed and an
    unlisted one (``d_ij = D``) has index ``> I``. The best such edge under
    the total order is the one with the smallest ``j``, so the smallest
    listed ``j`` is exact when ``core_i < D`` or ``j <= I``. Other points
    are left alone (``cand_exact`` False). ``core`` is in reordered rows,
    ``core_distances`` in original order. Parallel over rows; each writes
    only its own entries.
    """
    n = idx_array.shape[0]
    k = knn_ind.shape[1]
    inverse = np.empty(n, dtype=np.intp)
    for row in range(n):
        inverse[idx_array[row]] = row
    for row in prange(n):
        i = idx_array[row]
        ci = core[row]
        if k == 0:
            continue
        d_last = knn_dist[i, k - 1]
        i_last = knn_ind[i, k - 1]
        if ci > d_last:
            continue
        best = -1
        for t in range(k):
            if knn_dist[i, t] > ci:
                break
            j = knn_ind[i, t]
            if j == i or core_distances[j] > ci:
                continue
            if best < 0 or j < best:
                best = j
        if best < 0 or (ci == d_last and best > i_last):
            continue
        cand_w[row] = ci
        cand_j[row] = inverse[best]
        cand_exact[row] = True
        point_lb[row] = ci


@njit(cache=NUMBA_CACHE, nogil=True)
def _leaf_lower_bounds(tree, node_comp, node_min_core, alpha, p, leaf_lb):
    """Lower bound of every edge from a single-component leaf's points to
    another component: ``max(min core in the leaf, d_lb / alpha)`` with
    ``d_lb`` the distance from the leaf's box to the nearest box holding
    points of other components (branch and bound over the tree; ``inf``
    when there is none). Box gaps round monotonically and distances are
    formed as in ``rdist``/``rdist_to_dist``, so no computed edge weight is
    below the bound. Mixed leaves get 0. Serial: about 0.1 s of a 2.5 s
    spanning tree at 10^6 x 2, against about 2 s that a parallel loop adds
    to the first compilation.
    """
    n_nodes = tree.node_start.shape[0]
    first_leaf = n_nodes // 2
    node_lo = tree.node_lo
    node_hi = tree.node_hi
    stack_size = 2 * tree_n_levels_from_nodes(n_nodes) + 2
    for leaf in range(first_leaf, n_nodes):
        c = node_comp[leaf]
        if c < 0:
            leaf_lb[leaf] = 0.0
            continue
        stack = np.empty(stack_size, dtype=np.intp)
        stack[0] = 0
        top = 1
        best = np.inf
        while top > 0:
            top -= 1
            node = stack[top]
            if node_comp[node] == c:
                continue
            r = min_rdist_between_nodes(node_lo, node_hi, leaf, node, p)
            if not r < best:
                continue
            if node >= first_leaf:
                best = r
                continue
            left = 2 * node + 1
            right = left + 1
            r_left = min_rdist_between_nodes(node_lo, node_hi, leaf, left, p)
            r_right = min_rdist_between_nodes(node_lo, node_hi, leaf, right, p)
            # push the farther child first so that the nearer one is next
            if r_left <= r_right:
                stack[top] = right
                stack[top + 1] = left
            else:
                stack[top] = left
                stack[top + 1] = right
            top += 2
        leaf_lb[leaf] = max(node_min_core[leaf], rdist_to_dist(best, p) / alpha)


@njit(cache=NUMBA_CACHE, nogil=True)
def boruvka_mst(tree, core_distances, alpha, p):
    """Exact MST of the mutual-reachability graph of the tree's points.

    See :func:`boruvka_mst_knn`, which also takes the kNN lists.
    """
    empty_d = np.empty((0, 0), dtype=np.float64)
    empty_i = np.empty((0, 0), dtype=np.intp)
    return boruvka_mst_knn(tree, core_distances, alpha, p, empty_d, empty_i)


@njit(cache=NUMBA_CACHE, nogil=True)
def boruvka_mst_knn(tree, core_distances, alpha, p, knn_dist, knn_ind):
    """Exact MST of the mutual-reachability graph of the tree's points.

    ``tree`` a :class:`KDTree` over n >= 1 points; ``core_distances`` float64
    (n,) in ORIGINAL row order; ``alpha`` float64 > 0; ``p`` float64 >= 1
    Minkowski exponent (``np.inf`` allowed). Returns float64 (n - 1, 3) rows
    ``[i, j, w]`` with original indices ``i < j`` and ``w = max(core_i,
    core_j, d_ij / alpha)``, sorted ascending by ``(w, i, j)``: the unique
    MST under that total order (Kruskal with a stable ``(w, i, j)`` sort).
    The searches run in parallel (see the module docstring); the result does
    not depend on the thread count.

    ``knn_dist``, ``knn_ind``: the kNN lists the core distances were read
    from (:func:`~flasc_cluster._hdbscan.space_tree.knn_query`), or arrays
    of shape (0, 0). With ``alpha == 1`` most first-round best edges are
    read off them (:func:`_seed_from_knn`) instead of searched for; the
    result is the same.
    """
    idx_array = tree.idx_array
    node_start = tree.node_start
    node_end = tree.node_end
    n = tree.data.shape[0]
    n_nodes = node_start.shape[0]
    first_leaf = n_nodes // 2
    if n <= 1:
        return np.empty((0, 3), dtype=np.float64)

    core = np.empty(n, dtype=np.float64)
    for row in range(n):
        core[row] = core_distances[idx_array[row]]
    leaf_of = np.empty(n, dtype=np.intp)
    node_min_core = np.empty(n_nodes, dtype=np.float64)
    for leaf in range(first_leaf, n_nodes):
        m = np.inf
        for row in range(node_start[leaf], node_end[leaf]):
            leaf_of[row] = leaf
            m = min(m, core[row])
        node_min_core[leaf] = m
    for node in range(first_leaf - 1, -1, -1):
        node_min_core[node] = min(
            node_min_core[2 * node + 1], node_min_core[2 * node + 2]
        )

    parent = np.arange(n).astype(np.intp)
    rank = np.zeros(n, dtype=np.intp)
    comp = np.arange(n).astype(np.intp)
    node_comp = np.empty(n_nodes, dtype=np.intp)
    cand_w = np.full(n, np.inf)
    cand_j = np.full(n, -1, dtype=np.intp)
    cand_exact = np.zeros(n, dtype=np.bool_)
    need = np.zeros(n, dtype=np.bool_)
    leaf_lb = np.zeros(n_nodes, dtype=np.float64)
    frontier = np.empty(n, dtype=np.intp)
    comp_w = np.empty(n, dtype=np.float64)
    comp_from = np.empty(n, dtype=np.intp)
    comp_to = np.empty(n, dtype=np.intp)
    rows = np.empty(n, dtype=np.intp)
    in_rows = np.zeros(n, dtype=np.bool_)
    groups = np.empty(n_nodes - first_leaf, dtype=np.intp)
    # exact best edges only get heavier as components grow (the candidate
    # set shrinks), so a point's last exact best weight bounds its next one
    point_lb = core.copy()
    no_bound = np.full(n, np.inf)
    edge_a = np.empty(n - 1, dtype=np.intp)
    edge_b = np.empty(n - 1, dtype=np.intp)
    edge_w = np.empty(n - 1, dtype=np.float64)
    n_edges = 0

    while n_edges < n - 1:
        # 1. components of nodes (-1: mixed)
        for leaf in range(first_leaf, n_nodes):
            c = comp[node_start[leaf]]
            for row in range(node_start[leaf] + 1, node_end[leaf]):
                if comp[row] != c:
                    c = -1
                    break
            node_comp[leaf] = c
        for node in range(first_leaf - 1, -1, -1):
            c = node_comp[2 * node + 1]
            node_comp[node] = c if c == node_comp[2 * node + 2] else -1

        if n_edges == 0:
            # first round (all singletons): a point's edges all weigh at
            # least its core distance, so a search with that bound (a range
            # query of about min_samples points) is exact when it succeeds;
            # most points find that edge in their kNN list
            if alpha == 1.0 and knn_ind.shape[0] == n:
                _seed_from_knn(
                    idx_array, core, core_distances, knn_dist, knn_ind,
                    cand_w, cand_j, cand_exact, point_lb,
                )
            n_rows = 0
            for row in range(n):
                if not cand_exact[row]:
                    rows[n_rows] = row
                    n_rows += 1
            _search_rows(
                tree, comp, core, leaf_of, node_comp, node_min_core, alpha, p,
                rows, np.intp(n_rows), core, point_lb, cand_w, cand_j, cand_exact,
                in_rows, groups,
            )

        # 2. phase 1: still-valid exact bests, else own-leaf candidates
        _phase1_candidates(
            tree, comp, core, node_comp, alpha, p, need, cand_w, cand_j,
            cand_exact,
        )

        # 3. component bounds; one exact search for components without any
        _component_minima(
            comp, idx_array, cand_w, cand_j, comp_w, comp_from, comp_to
        )
        n_rows = 0
        for row in range(n):
            if comp[row] == row and comp_to[row] < 0:
                rows[n_rows] = row
                n_rows += 1
        if n_rows > 0:
            _search_rows(
                tree, comp, core, leaf_of, node_comp, node_min_core, alpha, p,
                rows, np.intp(n_rows), no_bound, point_lb, cand_w, cand_j, cand_exact,
                in_rows, groups,
            )
            for t in range(n_rows):
                comp_w[rows[t]] = cand_w[rows[t]]

        # 4. phase 2: exact searches below the component bounds, first for
        # points in mixed leaves (likely on a component border), which
        # tightens the bounds for the (interior) rest
        # first points in mixed leaves, then those in single-component
        # leaves nearest to other components (tightening the bounds), then
        # the remaining single-component leaves whose lower bound is not
        # above their component's bound
        for stage in range(3):
            if stage == 1:
                _leaf_lower_bounds(tree, node_comp, node_min_core, alpha, p, leaf_lb)
                for c in range(n):
                    frontier[c] = -1
                for leaf in range(first_leaf, n_nodes):
                    c = node_comp[leaf]
                    if c >= 0 and not leaf_lb[leaf] > comp_w[c] and (
                        frontier[c] < 0 or leaf_lb[leaf] < leaf_lb[frontier[c]]
                    ):
                        frontier[c] = leaf
            n_rows = 0
            for row in range(n):
                if cand_exact[row] or point_lb[row] > comp_w[comp[row]]:
                    continue
                leaf = leaf_of[row]
                if stage == 0:
                    take = node_comp[leaf] < 0
                else:
                    c = node_comp[leaf]
                    take = (
                        c >= 0
                        and not leaf_lb[leaf] > comp_w[c]
                        and (frontier[c] == leaf) == (stage == 1)
                    )
                if take:
                    rows[n_rows] = row
                    n_rows += 1
            _search_rows(
                tree, comp, core, leaf_of, node_comp, node_min_core, alpha, p,
                rows, np.intp(n_rows), comp_w, point_lb, cand_w, cand_j, cand_exact,
                in_rows, groups,
            )
            if stage < 2:
                _component_minima(
                    comp, idx_array, cand_w, cand_j, comp_w, comp_from, comp_to
                )

        # 5. component minima and merge
        _component_minima(
            comp, idx_array, cand_w, cand_j, comp_w, comp_from, comp_to
        )
        n_added = 0
        for c in range(n):
            if comp[c] != c or comp_to[c] < 0:
                continue
            u = ds_find(parent, comp_from[c])
            v = ds_find(parent, comp_to[c])
            if u == v:
                continue
            ds_union_by_rank(parent, rank, u, v)
            oi = idx_array[comp_from[c]]
            oj = idx_array[comp_to[c]]
            edge_a[n_edges] = min(oi, oj)
            edge_b[n_edges] = max(oi, oj)
            edge_w[n_edges] = comp_w[c]
            n_edges += 1
            n_added += 1
        if n_added == 0:
            break  # unreachable for finite input; never loop forever
        for row in range(n):
            comp[row] = ds_find(parent, row)

    order = argsort_edges(edge_w[:n_edges], edge_a[:n_edges], edge_b[:n_edges])
    out = np.empty((n_edges, 3), dtype=np.float64)
    for e in range(n_edges):
        o = order[e]
        out[e, 0] = edge_a[o]
        out[e, 1] = edge_b[o]
        out[e, 2] = edge_w[o]
    return out
