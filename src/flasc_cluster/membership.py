"""Soft branch membership within the clusters of a fitted FLASC model."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._branches.detect import local_graph_csr
from ._branches.membership import hop_depths

__all__ = [
    "branch_centrality_vectors",
    "branch_membership_from_centrality",
    "update_labels_with_branch_centrality",
]


def _split_clusters(model):
    check_is_fitted(model, "labels_")
    result = model._result
    for c, cluster in enumerate(result.branches.clusters):
        if cluster.flat is None:
            yield c, cluster, None
            continue
        n_branches = cluster.flat.selected_ids.shape[0]
        split = n_branches > (1 if model.label_sides_as_branches else 2)
        yield c, cluster, (n_branches if split else None)


def branch_centrality_vectors(model):
    """Geodesic centrality of every clustered point from each branch's root.

    For clusters that were split into branches: the root of a branch is its
    member closest to the branch's probability-weighted centroid; a point's
    centrality from that root is one over its hop depth in the cluster's
    approximation graph (the root has depth 1), as in pyflasc.

    Parameters
    ----------
    model : FLASC
        A fitted estimator (vector data).

    Returns
    -------
    vectors : list of (ndarray of shape (n_cluster_points, n_branches) or None)
        Per cluster, rows in the order of ``model.cluster_points_[c]``;
        ``None`` for clusters that were not split. Values in (0, 1]; 0 for
        points the graph does not reach.

    Examples
    --------
    >>> from flasc_cluster import FLASC
    >>> from flasc_cluster.datasets import make_branching_stars
    >>> from flasc_cluster.membership import branch_centrality_vectors
    >>> X, _ = make_branching_stars(n_samples=600, n_clusters=1, random_state=0)
    >>> model = FLASC(min_cluster_size=20).fit(X)
    >>> vectors = branch_centrality_vectors(model)
    >>> len(vectors) == len(model.cluster_points_)
    True
    """
    result = model._result
    space = result.space
    if space is None or space.kind == "precomputed":
        raise ValueError("branch_centrality_vectors needs a model fitted on vector data.")
    alpha = float(model.alpha)
    out = []
    for c, cluster, n_branches in _split_clusters(model):
        if n_branches is None:
            out.append(None)
            continue
        labels = cluster.flat.labels
        probs = cluster.flat.probabilities
        indptr, indices = local_graph_csr(space, cluster, alpha)
        vectors = np.zeros((cluster.points.shape[0], n_branches))
        for b in range(n_branches):
            members = np.flatnonzero(labels == b)
            centroid = np.average(space.X[cluster.points[members]], weights=probs[members], axis=0)
            d = space.point_distances(centroid, cluster.points[members])
            root = members[np.argmin(d)]
            with np.errstate(divide="ignore"):
                vectors[:, b] = 1.0 / hop_depths(indptr, indices, root)
        out.append(vectors)
    return out


def branch_membership_from_centrality(vectors, temperature=1.0):
    """Softmax of centrality vectors: per-point branch membership.

    ``m = exp(c / t) / sum(exp(c / t))`` row by row. Each row sums to 1 over
    the cluster's branches (membership is *within* the cluster; multiply by
    ``cluster_probabilities_`` for a share of the whole data set).

    Parameters
    ----------
    vectors : list of ndarray or None
        Output of :func:`branch_centrality_vectors`.
    temperature : float, default=1.0
        Larger is more uniform, smaller more peaked; must be positive.

    Returns
    -------
    memberships : list of (ndarray or None)
        Same shapes as ``vectors``; rows sum to 1, never NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from flasc_cluster.membership import branch_membership_from_centrality
    >>> m = branch_membership_from_centrality([np.array([[1.0, 0.5], [0.2, 0.2]]), None])
    >>> np.round(m[0].sum(axis=1), 6).tolist(), m[1] is None
    ([1.0, 1.0], True)
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be positive; got {temperature}.")
    out = []
    for v in vectors:
        if v is None:
            out.append(None)
            continue
        z = v / temperature
        z = np.exp(z - z.max(axis=1, keepdims=True))  # stable softmax
        out.append(z / z.sum(axis=1, keepdims=True))
    return out


def update_labels_with_branch_centrality(model, vectors):
    """Give points between branches (branch label -1) their most central branch.

    Only points without a branch move, so no point changes to a sibling
    branch. Labels of later clusters shift down where a cluster's
    between-branch label disappears.

    Parameters
    ----------
    model : FLASC
    vectors : list of ndarray or None
        Output of :func:`branch_centrality_vectors`.

    Returns
    -------
    labels : ndarray of shape (n_samples,)
        Updated ``labels_``.
    branch_labels : ndarray of shape (n_samples,)
        Updated ``branch_labels_``.

    Examples
    --------
    >>> from flasc_cluster import FLASC
    >>> from flasc_cluster.datasets import make_branching_stars
    >>> from flasc_cluster.membership import (
    ...     branch_centrality_vectors, update_labels_with_branch_centrality)
    >>> X, _ = make_branching_stars(n_samples=600, n_clusters=1, random_state=0)
    >>> model = FLASC(min_cluster_size=20).fit(X)
    >>> labels, branch_labels = update_labels_with_branch_centrality(
    ...     model, branch_centrality_vectors(model))
    >>> int((branch_labels[model.cluster_labels_ >= 0] == -1).sum())
    0
    """
    check_is_fitted(model, "labels_")
    labels = model.labels_.copy()
    branch_labels = model.branch_labels_.copy()
    shift = 0
    for c, points in enumerate(model.cluster_points_):
        v = vectors[c]
        labels[points] -= shift
        if v is None:
            continue
        between = model.branch_labels_[points] == -1
        if not between.any():
            continue
        base = labels[points][~between].min() - model.branch_labels_[points][~between].min()
        new = np.argmax(v[between], axis=1)
        branch_labels[points[between]] = new
        # the between-branch label was base - 1 + ...: branches keep base + b
        labels[points[between]] = base + new
        # this cluster's labels were base-1 (between) .. base+n-1; now base .. :
        # shift them down by one, and all later clusters too
        labels[points] -= 1
        shift += 1
    return labels, branch_labels
