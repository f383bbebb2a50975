"""Orchestration of a FLASC fit: validated arrays in, named results out.

Python module between the estimator and the kernels. Every function takes
keyword-only arguments and returns a NamedTuple.
"""

import contextlib
import logging
import time
from typing import NamedTuple

import numba
import numpy as np

from ._branches.detect import detect_branches
from ._hdbscan.flat import FlatClustering, extract_flat_clustering, point_sizes
from ._hdbscan.linkage import core_partners, mst_to_linkage_sized
from ._hdbscan.space import MINKOWSKI_METRICS, BallSpace, KDSpace, PrecomputedSpace


class ClusterPass(NamedTuple):
    """Outputs of the HDBSCAN* pass over the finite rows."""

    core_distances: np.ndarray  # float64 (n,)
    neighbors: np.ndarray  # intp (n, k)
    min_spanning_tree: object  # float64 (n-1, 3) or None (overridden labels)
    linkage: object  # float64 (n-1, 4) or None
    flat: object  # FlatClustering or None
    selection: object = None  # the selection arguments that gave ``flat``


class FitResult(NamedTuple):
    space: object
    cluster: ClusterPass
    cluster_labels: np.ndarray
    cluster_probabilities: np.ndarray
    n_clusters: int
    branches: object  # BranchResult


LOGGER = logging.getLogger("flasc_cluster")


class StageLog:
    """Times the stages of a fit and reports them through ``logging``."""

    def __init__(self, enabled):
        self.enabled = bool(enabled)
        self.times = {}
        if self.enabled and not LOGGER.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("[flasc_cluster] %(message)s"))
            LOGGER.addHandler(handler)
            LOGGER.setLevel(logging.INFO)

    @contextlib.contextmanager
    def stage(self, name):
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.times[name] = self.times.get(name, 0.0) + elapsed
            if self.enabled:
                LOGGER.info("%s: %.3f s", name, elapsed)

    def note(self, message, *args):
        if self.enabled:
            LOGGER.info(message, *args)


@contextlib.contextmanager
def numba_threads(n_threads):
    """Temporarily set numba's thread count, restoring it in ``finally``."""
    old = numba.get_num_threads()
    numba.set_num_threads(n_threads)
    try:
        yield
    finally:
        numba.set_num_threads(old)


def make_space(X, *, metric, p, metric_params, algorithm, leaf_size):
    """Pick the backend for a metric (kd-tree, ball tree or dense matrix)."""
    if metric == "precomputed":
        return PrecomputedSpace(X)
    params = dict(metric_params or {})
    if isinstance(metric, str) and metric in MINKOWSKI_METRICS and algorithm not in (
        "generic", "prims_balltree", "boruvka_balltree"
    ):
        mp = MINKOWSKI_METRICS[metric]
        if mp is None:
            mp = params.pop("p", p)
        if not params:
            return KDSpace(X, mp, leaf_size)
    if metric == "minkowski":
        params.setdefault("p", p)
    return BallSpace(X, metric, params, leaf_size)


def _selection(min_size, method, allow_single, epsilon, persistence, max_size):
    """The selection keywords of
    :func:`~flasc_cluster._hdbscan.flat.extract_flat_clustering` (compared
    between fits to tell whether a selection can be kept)."""
    return dict(
        min_cluster_size=min_size, selection_method=method, allow_single_cluster=allow_single,
        selection_epsilon=epsilon, selection_persistence=persistence, max_cluster_size=max_size,
    )


def _kept_condensed_tree(previous, min_cluster_size):
    """The condensed tree (before persistence simplification) of a previous
    fit of the same data and weights (the caller's ``previous``) when it
    has the same ``min_cluster_size``, else None."""
    if previous is None or previous.cluster.flat is None or previous.cluster.selection is None:
        return None
    if previous.cluster.selection["min_cluster_size"] != min_cluster_size:
        return None
    return previous.cluster.flat.unsimplified


def fit_flasc(
    X, *, metric, p, metric_params, algorithm, leaf_size, alpha, min_samples,
    min_cluster_size, cluster_selection_method, allow_single_cluster,
    cluster_selection_epsilon, cluster_selection_persistence, max_cluster_size,
    min_branch_size, branch_detection_method, branch_selection_method,
    allow_single_branch, branch_selection_epsilon, branch_selection_persistence,
    max_branch_size, label_sides_as_branches, override_labels=None,
    override_probabilities=None, n_override_clusters=0, previous=None, log=None,
    sample_weight=None,
):
    """Both FLASC passes over finite, validated data ``X`` (float64, C).

    ``sample_weight``: None or float64 (n,) non-negative weights (a point
    of weight w counts as w duplicates: weighted core distances, cluster
    and branch sizes as weight sums, weighted stabilities and centroids).

    ``previous``: a FitResult of the same data, metric, ``min_samples``,
    ``alpha`` and graph method; its neighbours, spanning tree, hierarchy and
    per-cluster branch hierarchies are reused (re-selection).
    """
    n = X.shape[0]
    if log is None:
        log = StageLog(False)
    if n == 0:
        return _empty_result(X, override_labels)
    if previous is not None:
        space = previous.space
        core = previous.cluster.core_distances
        neighbors = previous.cluster.neighbors
    else:
        with log.stage("space tree"):
            space = make_space(
                X, metric=metric, p=p, metric_params=metric_params, algorithm=algorithm,
                leaf_size=leaf_size,
            )
        log.note("backend: %s (%d points, %d dimensions)", space.kind, n, X.shape[1])
        k = max(min(min_samples, n - 1), 1)
        if n > 1 and sample_weight is not None:
            from ._hdbscan.weighting import weighted_core

            with log.stage("neighbours"):
                core, neighbors = weighted_core(space, sample_weight, min_samples)
        elif n > 1:
            with log.stage("neighbours"):
                knn_dist, neighbors = space.knn(k)
            core = np.ascontiguousarray(knn_dist[:, k - 1])
        else:
            neighbors = np.empty((n, 0), dtype=np.intp)
            core = np.zeros(n)

    if override_labels is None:
        if previous is not None:
            mst = previous.cluster.min_spanning_tree
            linkage = previous.cluster.linkage
        else:
            with log.stage("spanning tree"):
                mst = (
                    space.mst(
                        core, alpha,
                        # weighted core distances are not the kNN lists' k-th column
                        knn=None if sample_weight is not None else (knn_dist, neighbors),
                    ) if n > 1
                    else np.empty((0, 3))
                )
            with log.stage("single linkage"):
                partners = core_partners(core, neighbors) if n > 1 else np.empty(0, np.intp)
                linkage = (
                    mst_to_linkage_sized(mst, n, partners, point_sizes(sample_weight, n))
                    if n > 0 else np.empty((0, 4))
                )
        cluster_selection = _selection(
            min_cluster_size, cluster_selection_method, allow_single_cluster,
            cluster_selection_epsilon, cluster_selection_persistence, max_cluster_size,
        )
        with log.stage("clusters"):
            if previous is not None and previous.cluster.selection == cluster_selection:
                flat = previous.cluster.flat  # only branch options changed
            else:
                flat = extract_flat_clustering(
                    linkage, point_weight=sample_weight, **cluster_selection,
                    condensed=_kept_condensed_tree(previous, min_cluster_size),
                )
        cluster_labels = flat.labels
        cluster_probabilities = flat.probabilities
        n_clusters = int(flat.selected_ids.shape[0])
    else:
        mst = linkage = flat = cluster_selection = None
        cluster_labels = override_labels
        cluster_probabilities = override_probabilities
        n_clusters = n_override_clusters

    # the neighbour distances (n * min_samples floats, if computed here) are
    # not needed after the spanning tree: freed before the branch pass, on
    # every path, not when the fit returns
    knn_dist = None
    log.note("clusters found: %d", n_clusters)
    with log.stage("branches"):
        branches = detect_branches(
            space,
            cluster_labels=cluster_labels,
            cluster_probabilities=cluster_probabilities,
            n_clusters=n_clusters,
            core_distances=core,
            neighbors=neighbors,
            global_mst=mst,
            alpha=alpha,
            method=branch_detection_method,
            selection=_selection(
                min_branch_size, branch_selection_method, allow_single_branch,
                branch_selection_epsilon, branch_selection_persistence, max_branch_size,
            ),
            label_sides_as_branches=label_sides_as_branches,
            previous=previous,
            sample_weight=sample_weight,
        )
    return FitResult(
        space,
        ClusterPass(core, neighbors, mst, linkage, flat, cluster_selection),
        cluster_labels,
        cluster_probabilities,
        n_clusters,
        branches,
    )


def _empty_result(X, override_labels):
    from ._branches.detect import BranchResult
    from ._hdbscan.flat import empty_condensed_tree

    empty_i = np.empty(0, dtype=np.intp)
    empty_f = np.empty(0)
    flat = None
    mst = linkage = None
    if override_labels is None:
        flat = FlatClustering(empty_i, empty_f, empty_f, empty_condensed_tree(), empty_i)
        mst = np.empty((0, 3))
        linkage = np.empty((0, 4))
    return FitResult(
        None,
        ClusterPass(empty_f, np.empty((0, 0), np.intp), mst, linkage, flat),
        empty_i,
        empty_f,
        0,
        BranchResult(empty_i, empty_f, empty_i, empty_f, empty_f, []),
    )


__all__ = ["FitResult", "ClusterPass", "FlatClustering", "fit_flasc", "numba_threads"]
