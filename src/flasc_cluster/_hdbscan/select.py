"""Flat cluster selection from a condensed tree (kernel module).

One engine for both FLASC passes: excess of mass or leaf selection, the
``cluster_selection_epsilon`` merge, ``max_cluster_size`` and
``allow_single_cluster``, then point labels, membership probabilities and
cluster persistence scores. The rules (including the float32 accumulation of
subtree stabilities) follow the ``hdbscan`` package so labels agree with it.
"""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE
from .condense import compute_stability, condense_tree_sized, simplify_hierarchy


@njit(cache=NUMBA_CACHE, nogil=True)
def _cluster_structure(parent, child, lambda_val, child_size, root, n_clusters):
    """Per-cluster parent, birth lambda, size, child count and max row lambda."""
    node_parent = np.full(n_clusters, -1, dtype=np.intp)
    node_birth = np.zeros(n_clusters)
    node_size = np.zeros(n_clusters)  # float64: sizes may be weight sums
    n_children = np.zeros(n_clusters, dtype=np.intp)
    max_lambda = np.zeros(n_clusters)  # hdbscan's ``max_lambdas``
    for r in range(parent.shape[0]):
        p = parent[r] - root
        if lambda_val[r] > max_lambda[p]:
            max_lambda[p] = lambda_val[r]
        if child[r] >= root:
            c = child[r] - root
            node_parent[c] = p
            node_birth[c] = lambda_val[r]
            node_size[c] = child_size[r]
            n_children[p] += 1
    return node_parent, node_birth, node_size, n_children, max_lambda


@njit(cache=NUMBA_CACHE, nogil=True)
def select_clusters(
    parent, child, lambda_val, child_size, stability, root,
    leaf_selection, allow_single_cluster, epsilon, max_cluster_size,
):
    """Select flat clusters. Returns a bool mask over cluster ids ``root + i``.

    ``stability`` (float64 (n_clusters,)) is updated in place: a cluster not
    selected by excess of mass gets the stability of its selected subtree,
    as hdbscan does (used by the persistence scores).
    """
    n_clusters = stability.shape[0]
    node_parent, node_birth, node_size, n_children, _ = _cluster_structure(
        parent, child, lambda_val, child_size, root, n_clusters
    )
    is_cluster = np.zeros(n_clusters, dtype=np.bool_)
    size_limit = np.inf if max_cluster_size <= 0 else np.float64(max_cluster_size)
    # the root holds every point (hdbscan counts only its cluster children,
    # which lets max_cluster_size pass a root that then takes every point);
    # its rows' sizes sum to n_points, or to the total weight
    root_size = 0.0
    for r in range(parent.shape[0]):
        if parent[r] == root:
            root_size += child_size[r]
    node_size[0] = root_size
    first = 0 if allow_single_cluster else 1

    if not leaf_selection:
        for c in range(first, n_clusters):
            is_cluster[c] = True
        # children lists in row order (hdbscan sums subtree stabilities in
        # that order, accumulating in float32)
        indptr, kids = _children_csr(node_parent, n_clusters)
        for c in range(n_clusters - 1, first - 1, -1):
            subtree = np.float32(0.0)
            for k in range(indptr[c], indptr[c + 1]):
                subtree = np.float32(np.float64(subtree) + stability[kids[k]])
            if np.float64(subtree) > stability[c] or node_size[c] > size_limit:
                is_cluster[c] = False
                stability[c] = np.float64(subtree)
        # a selected cluster deselects its whole subtree (top-down sweep)
        covered = np.zeros(n_clusters, dtype=np.bool_)
        for c in range(1, n_clusters):
            p = node_parent[c]
            if covered[p] or is_cluster[p]:
                covered[c] = True
                is_cluster[c] = False
        if epsilon != 0.0 and n_clusters > 1:
            n_sel = 0
            for c in range(n_clusters):
                if is_cluster[c]:
                    n_sel += 1
            if not (n_sel == 1 and is_cluster[0]):
                is_cluster = _epsilon_search(
                    is_cluster, node_parent, node_birth, epsilon, allow_single_cluster
                )
    else:
        leaves = np.zeros(n_clusters, dtype=np.bool_)
        if n_clusters > 1:
            for c in range(1, n_clusters):
                if n_children[c] == 0:
                    leaves[c] = True
        if epsilon != 0.0:
            is_cluster = _epsilon_search(
                leaves, node_parent, node_birth, epsilon, allow_single_cluster
            )
        else:
            is_cluster = leaves
    return is_cluster


@njit(cache=NUMBA_CACHE, nogil=True)
def _children_csr(node_parent, n_clusters):
    """Children of every cluster as CSR arrays, in increasing id order."""
    indptr = np.zeros(n_clusters + 1, dtype=np.intp)
    for c in range(1, n_clusters):
        indptr[node_parent[c] + 1] += 1
    for c in range(n_clusters):
        indptr[c + 1] += indptr[c]
    fill = indptr[:-1].copy()
    kids = np.empty(max(n_clusters - 1, 0), dtype=np.intp)
    for c in range(1, n_clusters):
        p = node_parent[c]
        kids[fill[p]] = c
        fill[p] += 1
    return indptr, kids


@njit(cache=NUMBA_CACHE, nogil=True)
def _epsilon_search(candidates, node_parent, node_birth, epsilon, allow_single_cluster):
    """hdbscan's epsilon search: climb from clusters born below epsilon."""
    n_clusters = candidates.shape[0]
    selected = np.zeros(n_clusters, dtype=np.bool_)
    for c in range(n_clusters):
        if not candidates[c]:
            continue
        if 1.0 / node_birth[c] >= epsilon:
            selected[c] = True
            continue
        node = c
        while True:
            p = node_parent[node]
            if p == 0:
                selected[0 if allow_single_cluster else node] = True
                break
            if 1.0 / node_birth[p] > epsilon:
                selected[p] = True
                break
            node = p
    return selected


@njit(cache=NUMBA_CACHE, nogil=True)
def label_points(
    parent, child, lambda_val, child_size, is_cluster, root,
    allow_single_cluster, epsilon,
):
    """Point labels (-1 noise), membership probabilities and cluster ids of
    the labels.

    A point takes the label of its nearest selected ancestor cluster,
    numbered in order of cluster id. Points whose nearest selected ancestor
    is the root are noise, except when the root is the single selected
    cluster (then hdbscan's density rule for the root applies). A labelled
    point's probability is its exit density over its cluster's largest
    (1 if that is 0 or the exit density is not finite), 0 for noise;
    formed in the labelling pass, since a second pass over the points in
    the condensed tree's order reads and writes them at random.
    Returns ``(labels intp (n_points,), probabilities float64 (n_points,),
    selected_ids intp (n_selected,))``.
    """
    n_points = root
    n_clusters = is_cluster.shape[0]
    label_of = np.full(n_clusters, -1, dtype=np.intp)
    n_sel = 0
    for c in range(n_clusters):
        if is_cluster[c]:
            label_of[c] = n_sel
            n_sel += 1
    selected_ids = np.empty(n_sel, dtype=np.intp)
    for c in range(n_clusters):
        if is_cluster[c]:
            selected_ids[label_of[c]] = c + root
    # nearest selected ancestor of every cluster (parents come first), and
    # every cluster's largest exit density
    owner = np.full(n_clusters, -1, dtype=np.intp)
    owner[0] = 0 if is_cluster[0] else -1
    node_parent = np.full(n_clusters, -1, dtype=np.intp)
    max_lambda = np.zeros(n_clusters)
    for r in range(parent.shape[0]):
        p = parent[r] - root
        if child[r] >= root:
            node_parent[child[r] - root] = p
        if lambda_val[r] > max_lambda[p]:
            max_lambda[p] = lambda_val[r]
    for c in range(1, n_clusters):
        if is_cluster[c]:
            owner[c] = c
        else:
            owner[c] = owner[node_parent[c]]
    single_root = n_sel == 1 and is_cluster[0] and allow_single_cluster
    root_max_lambda = 0.0
    if single_root:
        for r in range(parent.shape[0]):
            if parent[r] == root and lambda_val[r] > root_max_lambda:
                root_max_lambda = lambda_val[r]
    labels = np.full(n_points, -1, dtype=np.intp)
    probabilities = np.zeros(n_points)
    for r in range(parent.shape[0]):
        pt = child[r]
        if pt >= root:
            continue
        o = owner[parent[r] - root]
        if o < 0:
            continue
        lam = lambda_val[r]
        if o == 0:
            if not single_root:
                continue
            if epsilon != 0.0:
                if lam < 1.0 / epsilon:
                    continue
            elif lam < root_max_lambda:
                continue
        labels[pt] = label_of[o]
        m = max_lambda[o]
        if m == 0.0 or not np.isfinite(lam):
            probabilities[pt] = 1.0
        else:
            probabilities[pt] = min(lam, m) / m
    return labels, probabilities, selected_ids


@njit(cache=NUMBA_CACHE, nogil=True)
def persistence_scores(labels, selected_ids, stability, root, tree_max_lambda, point_size):
    """hdbscan's cluster persistence: stability / (size * max lambda).

    ``point_size`` float64 (n,): ones, or the sample weights (size is then
    the cluster's weight sum, matching the weighted stability).
    """
    n_sel = selected_ids.shape[0]
    sizes = np.zeros(n_sel)
    for i in range(labels.shape[0]):
        if labels[i] >= 0:
            sizes[labels[i]] += point_size[i]
    out = np.empty(n_sel)
    for k in range(n_sel):
        if np.isinf(tree_max_lambda) or tree_max_lambda == 0.0 or sizes[k] == 0:
            out[k] = 1.0
        else:
            out[k] = stability[selected_ids[k] - root] / (sizes[k] * tree_max_lambda)
    return out


@njit(cache=NUMBA_CACHE, nogil=True)
def flat_selection(
    linkage, point_size, min_cluster_size, leaf_selection, allow_single_cluster,
    epsilon, persistence_threshold, max_cluster_size,
):
    """Condense ``linkage`` (float64 (n-1, 4), ``n >= 2``) and select flat
    clusters: the work of :func:`~flasc_cluster._hdbscan.flat.extract_flat_clustering`
    in one kernel.

    Returns ``(labels, probabilities, persistence, parent, child,
    lambda_val, child_size, selected_ids)``, the last five being the
    condensed tree and the condensed-tree id of each label.
    """
    parent, child, lambda_val, child_size = condense_tree_sized(
        linkage, min_cluster_size, point_size
    )
    return _select_condensed(
        parent, child, lambda_val, child_size, linkage.shape[0] + 1, point_size,
        leaf_selection, allow_single_cluster, epsilon, persistence_threshold, max_cluster_size,
    )


@njit(cache=NUMBA_CACHE, nogil=True)
def condensed_selection(
    linkage, point_size, condensed, min_cluster_size, leaf_selection, allow_single_cluster,
    epsilon, persistence_threshold, max_cluster_size,
):
    """:func:`flat_selection` that starts from ``condensed``, the tuple
    ``(parent, child, lambda_val, child_size)`` of the condensed tree of
    ``linkage`` by ``min_cluster_size`` and ``point_size``, when it has rows,
    and condenses ``linkage`` otherwise (a re-selection that keeps the
    minimum size skips the condensing). Returns :func:`flat_selection`'s
    tuple followed by the four arrays of the condensed tree before any
    persistence simplification.
    """
    if condensed[0].shape[0] > 0:
        parent, child, lambda_val, child_size = condensed
    else:
        parent, child, lambda_val, child_size = condense_tree_sized(
            linkage, min_cluster_size, point_size
        )
    (labels, probabilities, persistence, s_parent, s_child, s_lambda, s_size,
     selected_ids) = _select_condensed(
        parent, child, lambda_val, child_size, linkage.shape[0] + 1, point_size,
        leaf_selection, allow_single_cluster, epsilon, persistence_threshold, max_cluster_size,
    )
    return (
        labels, probabilities, persistence, s_parent, s_child, s_lambda, s_size, selected_ids,
        parent, child, lambda_val, child_size,
    )


@njit(cache=NUMBA_CACHE, inline="always")
def _select_condensed(
    parent, child, lambda_val, child_size, n_points, point_size, leaf_selection,
    allow_single_cluster, epsilon, persistence_threshold, max_cluster_size,
):
    """The selection of :func:`flat_selection` from the condensed tree of
    ``n_points`` points (not modified; simplified into new arrays)."""
    if persistence_threshold > 0.0 and parent.shape[0] > 0:
        parent, child, lambda_val, child_size = simplify_hierarchy(
            parent, child, lambda_val, child_size, persistence_threshold
        )
    root = n_points
    n_clusters = parent.max() - root + 1
    stability = compute_stability(parent, child, lambda_val, child_size, root, n_clusters)
    is_cluster = select_clusters(
        parent, child, lambda_val, child_size, stability, root,
        leaf_selection, allow_single_cluster, epsilon, max_cluster_size,
    )
    labels, probabilities, selected_ids = label_points(
        parent, child, lambda_val, child_size, is_cluster, root, allow_single_cluster, epsilon
    )
    persistence = persistence_scores(
        labels, selected_ids, stability, root, lambda_val.max(), point_size
    )
    if allow_single_cluster and selected_ids.shape[0] == 1 and selected_ids[0] == root:
        labels[:] = 0
        probabilities[:] = 1.0
        if epsilon > 0.0:
            any_left = False
            for r in range(parent.shape[0]):
                if child[r] < root and lambda_val[r] < 1.0 / epsilon:
                    labels[child[r]] = -1
                    probabilities[child[r]] = 0.0
            for i in range(n_points):
                if labels[i] == 0:
                    any_left = True
                    break
            if not any_left:  # epsilon left the cluster empty
                selected_ids = selected_ids[:0]
                persistence = persistence[:0]
    return (
        labels, probabilities, persistence, parent, child, lambda_val, child_size,
        selected_ids,
    )
