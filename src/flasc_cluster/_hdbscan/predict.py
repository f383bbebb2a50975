"""Cluster assignment of new points in a fitted condensed tree (kernel module)."""

import numpy as np
from numba import njit, prange

from .._config import NUMBA_CACHE


@njit(cache=NUMBA_CACHE, nogil=True)
def decode_tree(parent, child, lambda_val, root, n_points, n_nodes):
    """Per point and per cluster arrays of a condensed tree's records.

    Returns ``point_node`` intp (n_points,) (the local id ``parent - root``
    of the cluster a point leaves, -1 if absent), ``point_lambda`` float64
    (n_points,), and per local cluster id ``node_parent`` intp (-1: root),
    ``node_birth`` float64 and ``own_max`` float64 (largest lambda of the
    cluster's own rows).
    """
    point_node = np.full(n_points, -1, dtype=np.intp)
    point_lambda = np.zeros(n_points)
    node_parent = np.full(n_nodes, -1, dtype=np.intp)
    node_birth = np.zeros(n_nodes)
    own_max = np.zeros(n_nodes)
    for r in range(parent.shape[0]):
        p = parent[r] - root
        if lambda_val[r] > own_max[p]:
            own_max[p] = lambda_val[r]
        if child[r] < root:
            point_node[child[r]] = p
            point_lambda[child[r]] = lambda_val[r]
        else:
            node_parent[child[r] - root] = p
            node_birth[child[r] - root] = lambda_val[r]
    return point_node, point_lambda, node_parent, node_birth, own_max


@njit(cache=NUMBA_CACHE, nogil=True)
def tree_lookup(parent, child, lambda_val, child_size, is_selected, root, n_points):
    """Arrays the prediction needs, from a condensed tree.

    Returns ``(row_parent, row_lambda)`` per point (-1/0 if absent) and, per
    cluster id ``root + c``: ``node_parent``, ``node_birth``, ``node_label``
    (label of the nearest selected ancestor-or-self, -1 none) and
    ``node_max_lambda`` (the largest exit density of that selected cluster).
    """
    n_clusters = is_selected.shape[0]
    row_parent, row_lambda, node_parent, node_birth, own_max = decode_tree(
        parent, child, lambda_val, root, n_points, n_clusters
    )
    node_label = np.full(n_clusters, -1, dtype=np.intp)
    node_max_lambda = np.zeros(n_clusters)
    label = 0
    for c in range(n_clusters):
        if is_selected[c]:
            node_label[c] = label
            node_max_lambda[c] = own_max[c]
            label += 1
    for c in range(1, n_clusters):  # parents before children
        if node_label[c] < 0 and node_label[node_parent[c]] >= 0:
            node_label[c] = node_label[node_parent[c]]
            node_max_lambda[c] = node_max_lambda[node_parent[c]]
    return row_parent, row_lambda, node_parent, node_birth, node_label, node_max_lambda


@njit(cache=NUMBA_CACHE, nogil=True, parallel=True)
def assign_clusters(nearest, lam, row_parent, row_lambda, node_parent, node_birth,
                    node_label, node_max_lambda):
    """hdbscan's approximate prediction: join the nearest neighbour's cluster
    if the new point arrives before it leaves, else climb to the cluster
    that exists at the new point's density. Returns (labels, probabilities)."""
    q = nearest.shape[0]
    labels = np.full(q, -1, dtype=np.intp)
    probs = np.zeros(q)
    for i in prange(q):
        j = nearest[i]
        c = row_parent[j]
        lam_i = lam[i]
        if row_lambda[j] <= lam_i:
            lam_i = row_lambda[j]
        else:
            while c > 0 and node_birth[c] >= lam_i:
                c = node_parent[c]
        label = node_label[c]
        labels[i] = label
        if label >= 0:
            m = node_max_lambda[c]
            if m > 0.0 and np.isfinite(m):
                probs[i] = min(m, lam_i) / m
            else:
                probs[i] = 1.0
    return labels, probs


@njit(cache=NUMBA_CACHE, nogil=True)
def first_in_cluster(idx, rows, train_cluster, target):
    """For each ``rows[t]``, the first column of ``idx`` (intp (q, K)
    neighbour lists; -1 entries skipped) whose training row has cluster
    label ``target[t]`` in ``train_cluster``; the row's entry of the result
    (intp, len(rows)) is ``idx`` of that column, or -1 if none matches."""
    out = np.full(rows.shape[0], -1, dtype=np.intp)
    for t in range(rows.shape[0]):
        r = rows[t]
        for q in range(idx.shape[1]):
            j = idx[r, q]
            if j >= 0 and train_cluster[j] == target[t]:
                out[t] = j
                break
    return out


@njit(cache=NUMBA_CACHE, nogil=True)
def nearest_by_reachability(dist, idx, core, min_samples, alpha):
    """Per query row: the neighbour of smallest mutual reachability.

    ``dist``/``idx`` (q, K) sorted neighbour lists; the query's core
    distance is its ``min_samples``-th neighbour distance. Ties go to the
    smaller distance, then index. Returns ``(nearest, reachability, order)``
    where ``order`` (q, K) lists the neighbours by that key.
    """
    q, K = dist.shape
    query_core = np.empty(q)
    for i in range(q):
        query_core[i] = dist[i, min(min_samples, K) - 1]
    return nearest_by_reachability_core(dist, idx, core, query_core, alpha)


@njit(cache=NUMBA_CACHE, nogil=True)
def nearest_by_reachability_first(dist, idx, core, min_samples, alpha, complete):
    """:func:`nearest_by_reachability` from the first ``K`` of the lists.

    ``dist``/``idx`` (q, K) sorted by (distance, index) hold a query's
    ``K = min(min_samples, n_train)`` nearest training rows, the head of
    the longer list the full rule reads. Every unread row is at least
    ``dist[i, K - 1]`` away, so its reachability is at least ``lb =
    max(query core, dist[i, K - 1] / alpha)`` and it comes after the read
    ones in the list order. Where the best read reachability is ``<= lb``
    the full rule picks the same row (``settled``); so it does everywhere
    when ``complete`` (the lists already hold every row the rule reads).
    Returns ``(nearest, reachability, settled)``.
    """
    q, K = dist.shape
    nearest = np.empty(q, dtype=np.intp)
    reach = np.empty(q)
    settled = np.empty(q, dtype=np.bool_)
    for i in range(q):
        core_q = dist[i, min(min_samples, K) - 1]
        best = np.inf
        best_t = 0
        for t in range(K):
            m = max(core_q, core[idx[i, t]], dist[i, t] / alpha)
            if m < best:  # the first minimum, as the stable sort's
                best = m
                best_t = t
        nearest[i] = idx[i, best_t]
        reach[i] = best
        settled[i] = complete or not best > max(core_q, dist[i, K - 1] / alpha)
    return nearest, reach, settled


@njit(cache=NUMBA_CACHE, nogil=True)
def nearest_by_reachability_core(dist, idx, core, query_core, alpha):
    """:func:`nearest_by_reachability` with given query core distances
    (float64 (q,), e.g. weighted ones)."""
    q, K = dist.shape
    nearest = np.empty(q, dtype=np.intp)
    reach = np.empty(q)
    order = np.empty((q, K), dtype=np.intp)
    mr = np.empty(K)
    for i in range(q):
        core_q = query_core[i]
        for t in range(K):
            mr[t] = max(core_q, core[idx[i, t]], dist[i, t] / alpha)
        # neighbours are sorted by (dist, idx): a stable sort on mr keeps that
        o = np.argsort(mr, kind="mergesort")
        order[i] = o
        nearest[i] = idx[i, o[0]]
        reach[i] = mr[o[0]]
    return nearest, reach, order
