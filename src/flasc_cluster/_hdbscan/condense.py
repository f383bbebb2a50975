"""Condensed cluster trees: condensing, persistence simplification, stability.

Kernel module. A condensed tree is a structure of arrays
(:class:`CondensedTree`): row ``r`` says that ``child[r]`` (a point when
``child < n_points``, else a cluster) leaves cluster ``parent[r]`` at density
``lambda_val[r]`` (1 / distance) and holds ``child_size[r]`` points (with
sample weights: their weight sum, float64; a point row then carries the
point's own weight, so find points by ``child < n_points``). The root
cluster is ``n_points``; cluster ids are assigned in breadth-first order, so
a parent's id is always smaller than its children's and rows appear in the
same order as in the ``hdbscan`` package.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE


class CondensedTree(NamedTuple):
    parent: np.ndarray  # intp (n_rows,)
    child: np.ndarray  # intp (n_rows,)
    lambda_val: np.ndarray  # float64 (n_rows,)
    child_size: np.ndarray  # intp (n_rows,); float64 with sample weights


@njit(cache=NUMBA_CACHE, nogil=True)
def _emit_subtree_points(
    children, child_sizes, start, start_size, n_points, parent_label, lambda_value, queue,
    queue_size, res_parent, res_child, res_lambda, res_size, pos,
):
    """Breadth-first walk below ``start`` (of size ``start_size``): emit its
    points (``children`` int32 (n_points - 1, 2), the hierarchy's first two
    columns, ``child_sizes`` the sizes of those two children). Each node
    carries its size through the queue, so a point's size is not looked
    up."""
    head = 0
    tail = 1
    queue[0] = start
    queue_size[0] = start_size
    while head < tail:
        node = queue[head]
        size = queue_size[head]
        head += 1
        if node < n_points:
            res_parent[pos] = parent_label
            res_child[pos] = node
            res_lambda[pos] = lambda_value
            res_size[pos] = size
            pos += 1
        else:
            row = node - n_points
            queue[tail] = children[row, 0]
            queue[tail + 1] = children[row, 1]
            queue_size[tail] = child_sizes[row, 0]
            queue_size[tail + 1] = child_sizes[row, 1]
            tail += 2
    return pos


@njit(cache=NUMBA_CACHE, nogil=True)
def condense_tree(hierarchy, min_cluster_size):
    """Condense a single-linkage tree (float64 (n-1, 4)) by a minimum size.

    Returns the four arrays of a :class:`CondensedTree`. Runt subtrees
    (fewer than ``min_cluster_size`` points) fall out of their parent as
    single points; a split into two non-runts creates two new clusters.
    """
    n_points = hierarchy.shape[0] + 1
    return condense_tree_sized(hierarchy, min_cluster_size, np.ones(n_points, dtype=np.intp))


@njit(cache=NUMBA_CACHE, nogil=True)
def condense_tree_sized(hierarchy, min_cluster_size, point_size):
    """:func:`condense_tree` with a size per point (sample weights).

    ``point_size`` (n_points,) intp ones or float64 non-negative weights; a
    subtree's size is the sum of its points' sizes (summed in linkage row
    order, as :func:`~flasc_cluster._hdbscan.linkage.mst_to_linkage_sized`
    does) and ``child_size`` has the dtype of ``point_size``. A single point
    is never a cluster, whatever its size. Column 3 of ``hierarchy`` is not
    read.
    """
    n_points = hierarchy.shape[0] + 1
    root = 2 * hierarchy.shape[0]
    max_rows = 2 * n_points
    res_parent = np.empty(max_rows, dtype=np.intp)
    res_child = np.empty(max_rows, dtype=np.intp)
    res_lambda = np.empty(max_rows, dtype=np.float64)
    res_size = np.empty(max_rows, dtype=point_size.dtype)
    pos = np.intp(0)  # not a literal: callees compile once
    if hierarchy.shape[0] == 0:
        return res_parent[:0], res_child[:0], res_lambda[:0], res_size[:0]
    node_size = np.empty(root + 1, dtype=point_size.dtype)
    for t in range(n_points):
        node_size[t] = point_size[t]
    # per row, in one sequential pass: the children as int32, their sizes
    # and the density. The walks below read rows in random order, and these
    # compact rows (no lookup of a child's size, a point's size or the
    # distance elsewhere) save about 8 % of the condensing (flared
    # 100k x 2, min_cluster_size=25, medians of 40 calls alternating with
    # the previous code: 1.89 -> 1.74 ms)
    children = np.empty((hierarchy.shape[0], 2), dtype=np.int32)
    child_sizes = np.empty((hierarchy.shape[0], 2), dtype=point_size.dtype)
    densities = np.empty(hierarchy.shape[0], dtype=np.float64)
    for row in range(hierarchy.shape[0]):
        left = np.intp(hierarchy[row, 0])
        right = np.intp(hierarchy[row, 1])
        children[row, 0] = left
        children[row, 1] = right
        left_size = node_size[left]
        right_size = node_size[right]
        child_sizes[row, 0] = left_size
        child_sizes[row, 1] = right_size
        node_size[n_points + row] = left_size + right_size
        distance = hierarchy[row, 2]
        densities[row] = 1.0 / distance if distance > 0.0 else np.inf

    relabel = np.empty(root + 1, dtype=np.intp)
    relabel[root] = n_points
    next_label = n_points + 1
    queue = np.empty(root + 1, dtype=np.intp)
    queue_size = np.empty(root + 1, dtype=point_size.dtype)

    # the internal nodes outside runt subtrees, breadth-first from the root:
    # the order in which a breadth-first list of all nodes meets them (a
    # runt subtree is emitted whole and its nodes never queued, so the
    # rest of the tree is not walked twice)
    order = np.empty(n_points, dtype=np.intp)
    order[0] = root
    head = 0
    tail = 1
    while head < tail:
        node = order[head]
        head += 1
        row = node - n_points
        left = np.intp(children[row, 0])
        right = np.intp(children[row, 1])
        lambda_value = densities[row]
        left_count = child_sizes[row, 0]
        right_count = child_sizes[row, 1]
        # a single point falls out even when its weight reaches the minimum
        left_big = left >= n_points and left_count >= min_cluster_size
        right_big = right >= n_points and right_count >= min_cluster_size
        this_label = relabel[node]
        if left_big and right_big:
            relabel[left] = next_label
            next_label += 1
            res_parent[pos] = this_label
            res_child[pos] = relabel[left]
            res_lambda[pos] = lambda_value
            res_size[pos] = left_count
            pos += 1
            relabel[right] = next_label
            next_label += 1
            res_parent[pos] = this_label
            res_child[pos] = relabel[right]
            res_lambda[pos] = lambda_value
            res_size[pos] = right_count
            pos += 1
            order[tail] = left
            order[tail + 1] = right
            tail += 2
        elif not left_big and not right_big:
            pos = _emit_subtree_points(
                children, child_sizes, left, left_count, n_points, this_label,
                lambda_value, queue, queue_size, res_parent, res_child, res_lambda, res_size, pos,
            )
            pos = _emit_subtree_points(
                children, child_sizes, right, right_count, n_points, this_label,
                lambda_value, queue, queue_size, res_parent, res_child, res_lambda, res_size, pos,
            )
        elif not left_big:
            relabel[right] = this_label
            order[tail] = right
            tail += 1
            pos = _emit_subtree_points(
                children, child_sizes, left, left_count, n_points, this_label,
                lambda_value, queue, queue_size, res_parent, res_child, res_lambda, res_size, pos,
            )
        else:
            relabel[left] = this_label
            order[tail] = left
            tail += 1
            pos = _emit_subtree_points(
                children, child_sizes, right, right_count, n_points, this_label,
                lambda_value, queue, queue_size, res_parent, res_child, res_lambda, res_size, pos,
            )
    return (
        res_parent[:pos].copy(),
        res_child[:pos].copy(),
        res_lambda[:pos].copy(),
        res_size[:pos].copy(),
    )


@njit(cache=NUMBA_CACHE, nogil=True)
def simplify_hierarchy(parent, child, lambda_val, child_size, persistence_threshold):
    """Merge leaf clusters whose persistence is below a threshold.

    Persistence of a split is ``min(max density below each child) - split
    density``, in lambda units, evaluated in float32 exactly as the
    ``hdbscan`` package does (which also rounds every output density to
    float32), so that results agree with it. Returns the four
    arrays of the simplified tree (rows in the same order, ids renumbered
    consecutively).
    """
    n_rows = parent.shape[0]
    root = parent[0]
    # rows whose child is a cluster
    n_cluster_rows = 0
    for r in range(n_rows):
        if child[r] >= root:
            n_cluster_rows += 1
    if n_cluster_rows == 0:
        return parent.copy(), child.copy(), lambda_val.copy(), child_size.copy()
    ct_rows = np.empty(n_cluster_rows, dtype=np.intp)
    k = 0
    for r in range(n_rows):
        if child[r] >= root:
            ct_rows[k] = r
            k += 1
    n_nodes = child[ct_rows[n_cluster_rows - 1]] + 1 - root

    leaf = np.ones(n_nodes, dtype=np.bool_)
    for k in range(n_cluster_rows):
        leaf[parent[ct_rows[k]] - root] = False
    max_births = np.zeros(n_nodes, dtype=np.float32)
    for r in range(n_rows):
        max_births[parent[r] - root] = np.float32(lambda_val[r])
    parent_map = np.arange(root, root + n_nodes)
    has_new_lambda = np.zeros(n_nodes, dtype=np.bool_)
    new_lambda = np.zeros(n_nodes, dtype=np.float32)

    idx = n_cluster_rows - 1
    while idx > 0:
        row = ct_rows[idx]
        p = parent[row]
        c0 = child[ct_rows[idx - 1]]
        c1 = child[row]
        death = np.float32(lambda_val[row])
        b0 = max_births[c0 - root]
        b1 = max_births[c1 - root]
        bmax = b0 if b0 > b1 else b1
        bmin = b0 if b0 < b1 else b1
        if bmax > max_births[p - root]:
            max_births[p - root] = bmax
        idx -= 2
        if np.float32(bmin - death) >= persistence_threshold:
            continue
        # the most persistent child (ties: the second)
        if b0 <= b1:
            sibling = c1
            other = c0
        else:
            sibling = c0
            other = c1
        if leaf[sibling - root]:
            leaf[p - root] = True
        else:
            has_new_lambda[other - root] = True
            new_lambda[other - root] = death
        parent_map[c0 - root] = p
        parent_map[c1 - root] = p

    for i in range(n_nodes):
        parent_map[i] = parent_map[parent_map[i] - root]
    skipped = np.zeros(n_nodes, dtype=np.bool_)
    for i in range(n_nodes):
        skipped[i] = parent_map[i] != i + root
    cum = np.cumsum(skipped)
    for i in range(n_nodes):
        q = parent_map[i] - root
        offset = cum[q - 1] if q > 0 else 0
        parent_map[i] = parent_map[i] - offset

    keep = np.empty(n_rows, dtype=np.bool_)
    n_keep = 0
    for r in range(n_rows):
        c = child[r] - root
        keep[r] = not skipped[c if c > 0 else 0]
        if keep[r]:
            n_keep += 1
    out_parent = np.empty(n_keep, dtype=np.intp)
    out_child = np.empty(n_keep, dtype=np.intp)
    out_lambda = np.empty(n_keep, dtype=np.float64)
    out_size = np.empty(n_keep, dtype=child_size.dtype)
    k = 0
    for r in range(n_rows):
        if not keep[r]:
            continue
        p = parent[r] - root
        if has_new_lambda[p]:
            out_lambda[k] = np.float64(new_lambda[p])
        else:
            # hdbscan passes every density through a C float here
            out_lambda[k] = np.float64(np.float32(lambda_val[r]))
        out_parent[k] = parent_map[p]
        if child[r] >= root:
            out_child[k] = parent_map[child[r] - root]
        else:
            out_child[k] = child[r]
        out_size[k] = child_size[r]
        k += 1
    return out_parent, out_child, out_lambda, out_size


@njit(cache=NUMBA_CACHE, nogil=True)
def compute_stability(parent, child, lambda_val, child_size, root, n_clusters):
    """Excess-of-mass stability of every cluster id ``root + i``.

    Returns float64 (n_clusters,): sum over rows of
    ``(lambda - birth(parent)) * child_size``, birth being the density at
    which the parent appeared (0 for the root). With sample weights a point
    row's ``child_size`` is its weight, so this is the weighted excess of
    mass (a point of weight ``w`` counts as ``w`` duplicates).
    """
    births = np.full(n_clusters, np.inf)
    for r in range(parent.shape[0]):
        c = child[r] - root
        if c >= 0 and lambda_val[r] < births[c]:
            births[c] = lambda_val[r]
    births[0] = 0.0
    stability = np.zeros(n_clusters)
    for r in range(parent.shape[0]):
        p = parent[r] - root
        stability[p] += (lambda_val[r] - births[p]) * child_size[r]
    return stability
