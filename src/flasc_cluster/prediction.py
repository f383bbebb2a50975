"""Prediction for new points with a fitted :class:`~flasc_cluster.FLASC`."""

from typing import NamedTuple

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted

from ._hdbscan.predict import (
    assign_clusters,
    first_in_cluster,
    nearest_by_reachability,
    nearest_by_reachability_core,
    nearest_by_reachability_first,
    tree_lookup,
)

__all__ = ["Prediction", "approximate_predict"]


class Prediction(NamedTuple):
    """Labels and membership strengths of predicted points (as in ``fit``)."""

    labels: np.ndarray
    probabilities: np.ndarray
    cluster_labels: np.ndarray
    cluster_probabilities: np.ndarray
    branch_labels: np.ndarray
    branch_probabilities: np.ndarray


def _neighbours(model, result, Q, k):
    space = result.space
    n_train = result.cluster.core_distances.shape[0]
    k = min(k, n_train)
    if space.kind == "kd_tree":
        from ._hdbscan.space_tree import knn_query_points

        return knn_query_points(space.tree, Q, k, space.p)
    if space.kind == "ball_tree":
        dist, idx = space.tree.query(Q, k=k)
        order = np.lexsort((idx, dist), axis=-1)
        return (np.take_along_axis(dist, order, 1), np.take_along_axis(idx, order, 1))
    # precomputed: Q holds distances to the training rows
    idx = np.argsort(Q, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(Q, idx, 1), idx


class _Neighbourhoods:
    """The training rows hdbscan's prediction rule reads for each query:
    its ``K = 2 * min_samples`` nearest, sorted by distance, then index.
    Lists are read in two steps: the ``min_samples`` nearest of every
    query (``head_dist``, ``head_idx``, shape (q, K1)), which settle the
    nearest row in mutual reachability for most of them, and the whole
    list only where needed (:meth:`lists`).
    """

    head_first = True  # False: read every whole list at once (the tests' reference)

    def __init__(self, model, result, Q):
        core = result.cluster.core_distances
        ms = model._min_samples
        alpha = float(model.alpha)
        n_train = core.shape[0]
        self._model, self._result, self._Q = model, result, Q
        q = Q.shape[0]
        self.K = K = min(2 * ms, n_train)
        # the kd-tree and the stable sort of distances order ties by index,
        # so a shorter list is the head of a longer one; sklearn's ball tree
        # promises no such order at the cut, so it reads the whole list
        K1 = K if result.space.kind == "ball_tree" or not self.head_first else min(ms, n_train)
        self.head_dist, self.head_idx = _neighbours(model, result, Q, K1)
        # whole lists read so far: query row -> row of _full_dist / _full_idx
        self._full_pos = np.full(q, -1, dtype=np.intp)
        self._full_dist = np.empty((0, K))
        self._full_idx = np.empty((0, K), dtype=np.intp)
        self.nearest, self.reach, settled = nearest_by_reachability_first(
            self.head_dist, self.head_idx, core, ms, alpha, K1 == K
        )
        rest = np.flatnonzero(~settled)
        if rest.shape[0]:
            dist, idx = self.lists(rest)
            self.nearest[rest], self.reach[rest], _ = nearest_by_reachability(
                dist, idx, core, ms, alpha
            )

    @property
    def complete(self):
        """Whether each query's whole list has been read (bool (q,))."""
        if self.head_dist.shape[1] == self.K:
            return np.ones(self._full_pos.shape[0], dtype=bool)
        return self._full_pos >= 0

    def lists(self, rows):
        """The whole lists ``(dist, idx)`` (len(rows), K) of query ``rows``
        (intp), read where not yet read."""
        if self.head_dist.shape[1] == self.K:
            return self.head_dist[rows], self.head_idx[rows]
        new = np.unique(rows[self._full_pos[rows] < 0])
        if new.shape[0]:
            d, i = _neighbours(
                self._model, self._result, np.ascontiguousarray(self._Q[new]), self.K
            )
            self._full_pos[new] = self._full_dist.shape[0] + np.arange(new.shape[0])
            self._full_dist = np.vstack([self._full_dist, d])
            self._full_idx = np.vstack([self._full_idx, i])
        pos = self._full_pos[rows]
        return self._full_dist[pos], self._full_idx[pos]


def approximate_predict(model, points):
    """Predict cluster and branch labels of new points.

    A new point joins the cluster of its nearest training point in mutual
    reachability (using its own core distance among the training points),
    unless it would only connect at a density where that cluster does not
    exist yet, as in hdbscan's ``approximate_predict``; within a cluster
    split into branches it takes the branch of its nearest training point
    of that cluster. All selection parameters of the fit are honoured
    because the prediction walks the same, already selected, condensed
    tree. A point identical to a training point takes that point's labels
    and probabilities, so predicting the training data reproduces the fit.

    Parameters
    ----------
    model : FLASC
        A fitted estimator (not fitted with user-given ``labels``).
    points : array-like of shape (n_points, n_features)
        New points; with ``metric="precomputed"`` their distances to the
        training rows, shape (n_points, n_training_rows).

    Returns
    -------
    prediction : Prediction
        Named tuple ``(labels, probabilities, cluster_labels,
        cluster_probabilities, branch_labels, branch_probabilities)``, each
        of shape (n_points,). Rows with NaN or infinite values get labels
        -3 / -2 and probability 0.

    Examples
    --------
    >>> from flasc_cluster import FLASC
    >>> from flasc_cluster.datasets import make_branching_stars
    >>> from flasc_cluster.prediction import approximate_predict
    >>> X, _ = make_branching_stars(n_samples=600, random_state=0)
    >>> model = FLASC(min_cluster_size=20).fit(X)
    >>> pred = approximate_predict(model, X[:5])
    >>> bool((pred.labels == model.labels_[:5]).all())
    True
    """
    check_is_fitted(model, "labels_")
    if model._overridden:
        raise ValueError(
            "approximate_predict needs the cluster hierarchy; this model was fitted "
            "with user-given labels."
        )
    result = model._result
    Q = check_array(points, ensure_all_finite=False, dtype=np.float64, ensure_2d=False)
    if Q.ndim == 1:
        Q = Q.reshape(1, -1)
    n_cols = result.cluster.core_distances.shape[0] if model.metric == "precomputed" else model.n_features_in_
    if Q.shape[1] != n_cols:
        raise ValueError(
            f"points must have {n_cols} columns (as the fitted data); got {Q.shape[1]}."
        )
    nq = Q.shape[0]
    out_labels = np.full(nq, -1, dtype=np.intp)
    nan_rows = np.isnan(Q).any(axis=1)
    bad = nan_rows | np.isinf(Q).any(axis=1)
    out_labels[nan_rows] = -3
    out_labels[bad & ~nan_rows] = -2
    labels = out_labels.copy()
    cluster_labels = out_labels.copy()
    branch_labels = out_labels.copy()
    probabilities = np.zeros(nq)
    cluster_probs = np.zeros(nq)
    branch_probs = np.zeros(nq)
    flat = result.cluster.flat
    good = np.flatnonzero(~bad)
    if good.shape[0] == 0 or flat.selected_ids.shape[0] == 0 or flat.condensed_tree.parent.shape[0] == 0:
        return Prediction(labels, probabilities, cluster_labels, cluster_probs, branch_labels, branch_probs)

    core = result.cluster.core_distances
    min_samples = model._min_samples
    Q_good = np.ascontiguousarray(Q[good])
    weight = getattr(model, "_sample_weight", None)
    if weight is None:
        hoods = _Neighbourhoods(model, result, Q_good)
        nearest, reach = hoods.nearest, hoods.reach
    else:
        # a new point weighs 1: its core distance is where its training
        # neighbours' weight reaches min_samples
        from ._hdbscan.weighting import query_core

        query, dist, idx = query_core(
            lambda k: _neighbours(model, result, Q_good, k), weight, min_samples,
            2 * min_samples, core.shape[0],
        )
        nearest, reach, _ = nearest_by_reachability_core(
            dist, idx, core, query, float(model.alpha)
        )
    with np.errstate(divide="ignore"):
        lam = np.where(reach > 0.0, 1.0 / reach, np.finfo(np.float64).max)

    tree = flat.condensed_tree
    root = core.shape[0]
    n_nodes = int(tree.parent.max()) - root + 1
    is_selected = np.zeros(n_nodes, dtype=bool)
    is_selected[flat.selected_ids - root] = True
    lookup = tree_lookup(*tree, is_selected, root, root)
    c_lab, c_prob = assign_clusters(nearest, lam, *lookup)
    single_root = flat.selected_ids.shape[0] == 1 and flat.selected_ids[0] == root
    if single_root and model.allow_single_cluster:
        # FLASC's single cluster holds every point (up to epsilon)
        c_lab[:] = 0
        c_prob[:] = 1.0
        eps = float(model.cluster_selection_epsilon)
        if eps > 0.0:
            far = lam < 1.0 / eps
            c_lab[far] = -1
            c_prob[far] = 0.0

    # branches: copy from the nearest training point of the predicted cluster
    train_cluster = result.cluster_labels
    fit_labels = result.branches.labels
    fit_blabels = result.branches.branch_labels
    fit_bprobs = result.branches.branch_probabilities
    space = result.space
    n_clusters = len(result.branches.clusters)
    split = np.array(
        [np.unique(fit_labels[c.points]).shape[0] > 1 for c in result.branches.clusters], dtype=bool
    )
    if weight is None:
        dist, idx = hoods.head_dist, hoods.head_idx
    # a point identical to a training point takes that point's cluster
    exact = dist[:, 0] == 0.0
    twin = idx[exact, 0]
    c_lab[exact] = train_cluster[twin]
    c_prob[exact] = result.cluster_probabilities[twin]
    clustered = np.flatnonzero(c_lab >= 0)
    # the nearest listed training point of the predicted cluster
    j = np.full(good.shape[0], -1, dtype=np.intp)
    j[clustered] = first_in_cluster(idx, clustered, train_cluster, c_lab[clustered])
    if weight is None:
        unmatched = clustered[j[clustered] < 0]
        if unmatched.shape[0]:
            _, whole = hoods.lists(unmatched)
            j[unmatched] = first_in_cluster(
                whole, np.arange(unmatched.shape[0]), train_cluster, c_lab[unmatched]
            )
    for t in clustered[j[clustered] < 0]:
        # no neighbour of the predicted cluster nearby: nearest member
        members = result.branches.clusters[c_lab[t]].points
        if space.kind == "precomputed":
            d = Q[good[t], members]
        else:
            d = space.point_distances(Q[good[t]], members)
        j[t] = members[np.argmin(d)]
    g_lab = np.full(good.shape[0], -1, dtype=np.intp)
    g_blab = np.full(good.shape[0], -1, dtype=np.intp)
    g_bprob = np.zeros(good.shape[0])
    g_prob = np.zeros(good.shape[0])
    jc = j[clustered]
    g_lab[clustered] = fit_labels[jc]
    g_blab[clustered] = fit_blabels[jc]
    g_bprob[clustered] = fit_bprobs[jc]
    is_split = split[c_lab[clustered]] if n_clusters else np.zeros(0, bool)
    g_prob[clustered] = np.where(
        is_split, (c_prob[clustered] + fit_bprobs[jc]) / 2.0, c_prob[clustered]
    )
    labels[good] = g_lab
    probabilities[good] = g_prob
    cluster_labels[good] = c_lab
    cluster_probs[good] = c_prob
    branch_labels[good] = g_blab
    branch_probs[good] = g_bprob
    return Prediction(labels, probabilities, cluster_labels, cluster_probs, branch_labels, branch_probs)
