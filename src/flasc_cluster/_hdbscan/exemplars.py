"""Outlier scores and exemplar points from a condensed tree (kernel module)."""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE


@njit(cache=NUMBA_CACHE, nogil=True)
def glosh_scores(parent, child, lambda_val, root, n_points):
    """GLOSH outlier score of every point, float64 (n_points,), in [0, 1].

    ``1 - lambda_point / lambda_max``, with ``lambda_max`` the largest exit
    density anywhere below the point's parent. Points that leave at
    infinite density (duplicates) score 0; a finite point below an infinite
    maximum scores 1 (the limit), never NaN.
    """
    n_clusters = parent.max() - root + 1 if parent.shape[0] else 1
    deaths = np.zeros(n_clusters)
    for r in range(parent.shape[0]):
        p = parent[r] - root
        if lambda_val[r] > deaths[p]:
            deaths[p] = lambda_val[r]
    for r in range(parent.shape[0] - 1, -1, -1):  # children after parents
        c = child[r] - root
        if c >= 0:
            p = parent[r] - root
            if deaths[c] > deaths[p]:
                deaths[p] = deaths[c]
    scores = np.zeros(n_points)
    for r in range(parent.shape[0]):
        pt = child[r]
        if pt >= root:
            continue
        lam_max = deaths[parent[r] - root]
        lam = lambda_val[r]
        if lam_max == 0.0 or not np.isfinite(lam):
            scores[pt] = 0.0
        elif not np.isfinite(lam_max):
            scores[pt] = 1.0
        else:
            scores[pt] = (lam_max - lam) / lam_max
    return scores


@njit(cache=NUMBA_CACHE, nogil=True)
def leaf_exemplars(parent, child, lambda_val, selected_ids, root):
    """Exemplars of each selected cluster: the points that stay longest in
    the leaf clusters below it (hdbscan's definition).

    Returns ``(indptr intp (n_selected + 1,), points intp)``: the exemplars of
    selected cluster ``k`` are ``points[indptr[k]:indptr[k + 1]]``.
    """
    n_clusters = parent.max() - root + 1 if parent.shape[0] else 1
    node_parent = np.full(n_clusters, -1, dtype=np.intp)
    has_child_cluster = np.zeros(n_clusters, dtype=np.bool_)
    own_max = np.zeros(n_clusters)
    for r in range(parent.shape[0]):
        p = parent[r] - root
        if lambda_val[r] > own_max[p]:
            own_max[p] = lambda_val[r]
        if child[r] >= root:
            node_parent[child[r] - root] = p
            has_child_cluster[p] = True
    owner = np.full(n_clusters, -1, dtype=np.intp)
    for k in range(selected_ids.shape[0]):
        owner[selected_ids[k] - root] = k
    for c in range(1, n_clusters):  # parents have smaller ids
        if owner[c] < 0 and node_parent[c] >= 0:
            owner[c] = owner[node_parent[c]]
    counts = np.zeros(selected_ids.shape[0] + 1, dtype=np.intp)
    for r in range(parent.shape[0]):
        p = parent[r] - root
        if child[r] < root and not has_child_cluster[p] and owner[p] >= 0:
            if lambda_val[r] == own_max[p]:
                counts[owner[p] + 1] += 1
    indptr = np.cumsum(counts)
    fill = indptr[:-1].copy()
    points = np.empty(indptr[-1], dtype=np.intp)
    for r in range(parent.shape[0]):
        p = parent[r] - root
        if child[r] < root and not has_child_cluster[p] and owner[p] >= 0:
            if lambda_val[r] == own_max[p]:
                points[fill[owner[p]]] = child[r]
                fill[owner[p]] += 1
    return indptr, points
