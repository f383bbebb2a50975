"""Soft cluster membership from a condensed tree and exemplars (kernel module).

hdbscan's membership vectors: a distance part (one over the distance to the
nearest exemplar of each selected cluster), an outlier part (how late the
point's branch of the condensed tree merges with each selected cluster) and
the probability of being in some cluster. Cluster ids are local
(``id - root``); parents have smaller ids than their children.
"""

import numpy as np
from numba import njit, prange

from .._config import NUMBA_CACHE
from .predict import decode_tree
from .space_tree import rdist_to_dist, rdist_to_row

#: largest float64, hdbscan's stand-in for an infinite inverse distance
DBL_MAX = np.finfo(np.float64).max
#: hdbscan's guard against dividing by a zero density
LAMBDA_EPS = 1e-8


@njit(cache=NUMBA_CACHE, nogil=True)
def membership_tree_arrays(parent, child, lambda_val, root, n_points):
    """Lookup arrays of a condensed tree for membership vectors.

    Returns ``point_node`` intp (n_points,) (the cluster a point leaves,
    local id; -1 if absent), ``point_lambda`` float64 (n_points,) and, per
    local cluster id, ``node_parent`` intp (-1 for the root),
    ``node_birth`` float64, ``node_max_lambda`` float64 (largest lambda of
    the cluster's own rows, hdbscan's ``leaf_max_lambdas``), preorder
    interval ``tin``/``tout`` intp and ``depth`` intp. Relies on every id
    between ``root`` and ``parent.max()`` being a cluster and on parents
    having smaller ids than their children.
    """
    n_nodes = parent.max() - root + 1 if parent.shape[0] else 1
    point_node, point_lambda, node_parent, node_birth, node_max_lambda = decode_tree(
        parent, child, lambda_val, root, n_points, n_nodes
    )
    size = np.ones(n_nodes, dtype=np.intp)
    for c in range(n_nodes - 1, 0, -1):
        size[node_parent[c]] += size[c]
    tin = np.zeros(n_nodes, dtype=np.intp)
    depth = np.zeros(n_nodes, dtype=np.intp)
    next_free = np.ones(n_nodes, dtype=np.intp)
    for c in range(1, n_nodes):
        p = node_parent[c]
        tin[c] = next_free[p]
        next_free[p] += size[c]
        next_free[c] = tin[c] + 1
        depth[c] = depth[p] + 1
    tout = tin + size - 1
    return point_node, point_lambda, node_parent, node_birth, node_max_lambda, tin, tout, depth


@njit(cache=NUMBA_CACHE, nogil=True, parallel=True)
def merge_heights(query_node, query_lambda, selected, node_parent, node_birth, tin, tout, depth):
    """hdbscan's ``merge_height`` of each query with each selected cluster.

    A query leaves cluster ``query_node[i]`` (local id, >= 0) at density
    ``query_lambda[i]``. Where that cluster and ``selected[s]`` (local ids)
    are on one root path the height is ``query_lambda[i]``; otherwise it
    is the density at which their branches split (the birth of the child
    of their lowest common ancestor). Returns float64 (q, k).
    """
    q = query_node.shape[0]
    k = selected.shape[0]
    out = np.empty((q, k))
    for i in prange(q):
        a = query_node[i]
        chain = np.empty(depth[a] + 1, dtype=np.intp)
        x = a
        for j in range(depth[a] + 1):
            chain[j] = x
            x = node_parent[x]
        for s in range(k):
            c = selected[s]
            if (tin[a] <= tin[c] and tin[c] <= tout[a]) or (tin[c] <= tin[a] and tin[a] <= tout[c]):
                out[i, s] = query_lambda[i]
                continue
            lo = 1
            hi = depth[a]  # chain[depth[a]] is the root, which holds c
            while lo < hi:
                mid = (lo + hi) // 2
                m = chain[mid]
                if tin[m] <= tin[c] and tin[c] <= tout[m]:
                    hi = mid
                else:
                    lo = mid + 1
            out[i, s] = node_birth[chain[lo - 1]]
    return out


@njit(cache=NUMBA_CACHE, nogil=True, parallel=True)
def min_exemplar_distances(Q, exemplars, indptr, p):
    """Minkowski distance from each row of ``Q`` (float64 (q, d)) to the
    nearest row of ``exemplars[indptr[s]:indptr[s + 1]]`` per cluster ``s``.

    Returns float64 (q, k); ``inf`` for a cluster without exemplars.
    """
    q = Q.shape[0]
    k = indptr.shape[0] - 1
    out = np.full((q, k), np.inf)
    for i in prange(q):
        x = Q[i]
        for s in range(k):
            best = np.inf
            for e in range(indptr[s], indptr[s + 1]):
                dist = rdist_to_dist(rdist_to_row(x, exemplars, e, p), p)
                if dist < best:
                    best = dist
            out[i, s] = best
    return out


@njit(cache=NUMBA_CACHE, nogil=True)
def _ratio(num, den):
    """``num / den`` for non-negative values with limits instead of NaN:
    inf/inf = 1, x/inf = 0, 0/0 = 0, x/0 = inf."""
    if np.isinf(den):
        return 1.0 if np.isinf(num) else 0.0
    if den == 0.0:
        return 0.0 if num == 0.0 else np.inf
    return num / den


@njit(cache=NUMBA_CACHE, nogil=True)
def _distance_vector(dist, out):
    """hdbscan's ``dist_membership_vector``: normalised inverse distances
    (a zero distance counts ``DBL_MAX / k``; inverses are capped there so
    the sum cannot overflow). Uniform if no cluster is reachable."""
    k = dist.shape[0]
    big = DBL_MAX / k
    total = 0.0
    for s in range(k):
        if dist[s] == 0.0:
            out[s] = big
        else:
            out[s] = min(1.0 / dist[s], big)
        total += out[s]
    for s in range(k):
        out[s] = out[s] / total if total > 0.0 else 1.0 / k


@njit(cache=NUMBA_CACHE, nogil=True)
def _prob_in_some_cluster(heights, lam, selected_max_lambda, eps):
    """hdbscan's probability of being in some cluster: ``max(heights) /
    (max(lam, max_lambda[c]) + eps)`` for the cluster ``c`` of the largest
    merge height. Among clusters tied at that height the one giving the
    largest value counts (hdbscan takes the smallest cluster id, which
    depends on the order of siblings in the tree)."""
    top = heights[0]
    for s in range(1, heights.shape[0]):
        top = max(top, heights[s])
    low = np.inf
    for s in range(heights.shape[0]):
        if heights[s] == top:
            low = min(low, selected_max_lambda[s])
    return min(_ratio(top, max(low, lam) + eps), 1.0)


@njit(cache=NUMBA_CACHE, nogil=True, parallel=True)
def all_points_memberships(min_dist, heights, point_lambda, point_max_lambda, selected_max_lambda):
    """hdbscan's ``all_points_membership_vectors`` from its parts.

    ``min_dist``, ``heights`` float64 (q, k): distance to each cluster's
    nearest exemplar and merge heights; per point its exit density and its
    cluster's ``node_max_lambda``; ``selected_max_lambda`` (k,). The
    product of the distance and outlier parts is normalised and scaled by
    the probability of being in some cluster. Returns float64 (q, k),
    finite, rows summing to that probability.
    """
    q, k = heights.shape
    out = np.empty((q, k))
    for i in prange(q):
        dvec = np.empty(k)
        _distance_vector(min_dist[i], dvec)
        m = point_max_lambda[i] + LAMBDA_EPS
        score = np.empty(k)
        top = -np.inf
        for s in range(k):
            score[s] = np.exp(-_ratio(m, heights[i, s]))
            top = max(top, score[s])
        total = 0.0
        for s in range(k):
            out[i, s] = dvec[s] * np.exp(score[s] - top)
            total += out[i, s]
        prob = _prob_in_some_cluster(heights[i], point_lambda[i], selected_max_lambda, 0.0)
        for s in range(k):
            out[i, s] = out[i, s] / total * prob if total > 0.0 else 0.0
    return out


@njit(cache=NUMBA_CACHE, nogil=True, parallel=True)
def new_point_memberships(min_dist, heights, lam, heights_outlier, node_max_lambda, selected_max_lambda):
    """hdbscan's ``membership_vector`` from its parts.

    As :func:`all_points_memberships`, for new points that join the tree
    at density ``lam`` (q,) below a cluster whose ``node_max_lambda`` is
    given per point. ``heights_outlier`` are the merge heights the outlier
    part uses (hdbscan rounds ``lam`` to float32 there). Combines
    ``sqrt(distance part) * outlier part ** 2``; if that vanishes
    everywhere, the outlier part alone. Returns float64 (q, k), finite.
    """
    q, k = heights.shape
    out = np.empty((q, k))
    for i in prange(q):
        dvec = np.empty(k)
        _distance_vector(min_dist[i], dvec)
        m = node_max_lambda[i]
        score = np.empty(k)
        top = -np.inf
        for s in range(k):
            den = m - heights_outlier[i, s]
            if np.isinf(m) and np.isfinite(heights_outlier[i, s]):
                score[s] = 1.0  # the limit of m / (m - h)
            else:
                if not den > 0.0:  # hdbscan's safe_always_positive_division
                    den = LAMBDA_EPS
                score[s] = min(m / den, DBL_MAX)
            top = max(top, score[s])
        ovec = np.empty(k)
        o_total = 0.0
        for s in range(k):
            ovec[s] = np.exp(score[s] - top)
            o_total += ovec[s]
        total = 0.0
        for s in range(k):
            ovec[s] /= o_total
            out[i, s] = np.sqrt(dvec[s]) * ovec[s] ** 2
            total += out[i, s]
        prob = _prob_in_some_cluster(heights[i], lam[i], selected_max_lambda, LAMBDA_EPS)
        for s in range(k):
            if total > 0.0:
                out[i, s] = out[i, s] / total * prob
            else:
                out[i, s] = ovec[s] * prob
    return out
