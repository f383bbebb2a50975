"""Sample weights in the cluster pass: weighted core distances.

Python module driving :mod:`~flasc_cluster._hdbscan.core_distance`: the
neighbour lists grow until every point's neighbours carry enough weight, so
the result is exact (fast_hdbscan queries a fixed ``2 * min_samples /
mean(weight)`` neighbours and stops there).
"""

from typing import NamedTuple

import numpy as np

from .core_distance import used_neighbors, weighted_core_distances


class WeightedCore(NamedTuple):
    """core_distances float64 (n,); neighbors intp (n, k): each point's
    neighbours up to the one that realises its core distance, padded with
    the point's own id."""

    core_distances: np.ndarray
    neighbors: np.ndarray


def _initial_k(sample_weight, min_samples, n):
    mean = float(np.mean(sample_weight))
    guess = int(np.ceil(2.0 * min_samples / mean)) if mean > 0.0 else n - 1
    return int(min(max(guess, min_samples, 1), n - 1))


def weighted_core(space, sample_weight, min_samples):
    """Weighted core distances of all ``n >= 2`` points of ``space``."""
    n = sample_weight.shape[0]
    k = _initial_k(sample_weight, min_samples, n)
    while True:
        knn_dist, neighbors = space.knn(k)
        core, n_used, reached = weighted_core_distances(
            knn_dist, neighbors, sample_weight, sample_weight, int(min_samples)
        )
        if reached.all() or k >= n - 1:
            break
        k = min(2 * k, n - 1)
    return WeightedCore(core, used_neighbors(neighbors, n_used))


def query_core(knn_query, sample_weight, min_samples, k, n_train):
    """Weighted core distances of new points (weight 1 each).

    ``knn_query(k)`` returns their sorted ``(dist, idx)`` to the training
    points; ``k`` grows until the neighbours' weight reaches
    ``min_samples``. Returns ``(core, dist, idx)``.
    """
    k = min(k, n_train)
    while True:
        dist, idx = knn_query(k)
        idx = np.ascontiguousarray(idx, dtype=np.intp)
        core, _, reached = weighted_core_distances(
            np.ascontiguousarray(dist, dtype=np.float64), idx, sample_weight,
            np.ones(dist.shape[0]), int(min_samples),
        )
        if reached.all() or k >= n_train:
            return core, dist, idx
        k = min(2 * k, n_train)
