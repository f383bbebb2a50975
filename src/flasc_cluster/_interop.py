"""Branches for clusters found by other libraries."""

import numpy as np

from ._estimator import FLASC


def branches_from_clusterer(clusterer, X=None, **params):
    """Detect branches in the clusters of a fitted clusterer or a labelling.

    Parameters
    ----------
    clusterer : fitted estimator or array-like of shape (n_samples,)
        A fitted ``hdbscan.HDBSCAN``, ``sklearn.cluster.HDBSCAN``,
        ``fast_hdbscan.HDBSCAN`` (anything with ``labels_`` and, optionally,
        ``probabilities_``), or plain cluster labels (negative for noise).
    X : array-like of shape (n_samples, n_features), default=None
        The data the clusters were found on; taken from the clusterer when
        it keeps it (hdbscan's and fast_hdbscan's ``_raw_data``).
    **params
        :class:`FLASC` parameters for the branch pass. ``min_samples``
        defaults to the clusterer's (scikit-learn's counts the point itself,
        so one less is used) and ``metric`` likewise.

    Returns
    -------
    model : FLASC
        Fitted with ``labels=`` (only the branch pass ran).

    Examples
    --------
    >>> from sklearn.cluster import HDBSCAN
    >>> from flasc_cluster import branches_from_clusterer
    >>> from flasc_cluster.datasets import make_branching_stars
    >>> X, _ = make_branching_stars(n_samples=600, random_state=0)
    >>> clusters = HDBSCAN(min_cluster_size=20, copy=True).fit(X)
    >>> model = branches_from_clusterer(clusters, X, min_branch_size=20)
    >>> bool((model.cluster_labels_ == clusters.labels_).all())
    True
    """
    if hasattr(clusterer, "labels_"):
        labels = np.asarray(clusterer.labels_)
        probabilities = getattr(clusterer, "probabilities_", None)
        if X is None:
            X = getattr(clusterer, "_raw_data", None)
        module = type(clusterer).__module__
        defaults = {}
        mcs = getattr(clusterer, "min_cluster_size", None)
        ms = getattr(clusterer, "min_samples", None)
        if ms is None:
            ms = mcs
        if ms is not None and module.startswith("sklearn"):
            ms = max(int(ms) - 1, 1)  # scikit-learn counts the point itself
        if ms is not None:
            defaults["min_samples"] = int(ms)
        if mcs is not None:
            defaults["min_cluster_size"] = int(mcs)
        metric = getattr(clusterer, "metric", None)
        if isinstance(metric, str) and metric != "precomputed":
            defaults["metric"] = metric
        params = {**defaults, **params}
    else:
        labels = np.asarray(clusterer)
        probabilities = None
    if X is None:
        raise ValueError(
            "X is required: the clusterer does not keep its data; pass the data it was fitted on."
        )
    if probabilities is not None:
        probabilities = np.where(labels >= 0, np.asarray(probabilities, dtype=np.float64), 0.0)
        # clusters whose probabilities are all zero fall back to equal weights
        for c in np.unique(labels[labels >= 0]):
            members = labels == c
            if not np.any(probabilities[members] > 0):
                probabilities[members] = 1.0
    return FLASC(**params).fit(X, labels=np.where(labels >= 0, labels, -1), probabilities=probabilities)
