"""Relative validity (hdbscan's fast DBCV approximation) of a labelling."""

import numpy as np


def relative_validity(labels, mst):
    """hdbscan's ``relative_validity_`` for ``labels`` over the spanning tree.

    Parameters
    ----------
    labels : ndarray of shape (n,)
        Labels of the points the tree spans (-1 noise).
    mst : ndarray of shape (n - 1, 3)
        Mutual-reachability spanning tree rows ``[i, j, w]``.

    Returns
    -------
    score : float
        In [-1, 1]; higher is better. 0.0 without clusters.
    """
    n_clusters = int(labels.max(initial=-1)) + 1
    if n_clusters == 0 or mst.shape[0] == 0:
        return 0.0
    sizes = np.bincount(labels[labels >= 0], minlength=n_clusters)
    total = labels.shape[0]
    a = labels[mst[:, 0].astype(np.intp)]
    b = labels[mst[:, 1].astype(np.intp)]
    w = mst[:, 2]
    max_distance = w.max()
    one_noise = (a < 0) ^ (b < 0)
    min_outlier_sep = w[one_noise].min() if one_noise.any() else max_distance
    inside = (a >= 0) & (a == b)
    dsc = np.zeros(n_clusters)
    np.maximum.at(dsc, a[inside], w[inside])
    between = (a >= 0) & (b >= 0) & (a != b)
    dspc = np.full(n_clusters, np.inf)
    np.minimum.at(dspc, a[between], w[between])
    np.minimum.at(dspc, b[between], w[between])
    correction = 2.0 * (max_distance if n_clusters > 1 else min_outlier_sep)
    dspc[np.isinf(dspc)] = correction
    denom = np.maximum(dspc, dsc)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(denom > 0, (dspc - dsc) / denom, 0.0)
    return float(np.sum(sizes * v) / total)


def relative_validity_score(estimator, X=None, y=None):
    """Scorer for model selection: the fitted estimator's ``relative_validity_``.

    Use it as ``scoring=relative_validity_score`` in ``GridSearchCV`` with a
    single split that trains and scores on all the data, e.g.
    ``cv=[(np.arange(n), np.arange(n))]``: the score describes the fitted
    clustering, ``X`` is not re-clustered.
    """
    return estimator.relative_validity_
