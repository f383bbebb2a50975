"""The FLASC estimator."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.utils._param_validation import validate_parameter_constraints
from sklearn.utils.validation import check_is_fitted, validate_data

from ._branches.detect import approximation_graph
from ._fit import StageLog, fit_flasc, numba_threads
from ._validity import relative_validity
from ._hdbscan.exemplars import glosh_scores, leaf_exemplars
from ._trees import (
    ApproximationGraph,
    CondensedTree,
    MinimumSpanningTree,
    SingleLinkageTree,
    condensed_to_records,
)
from ._validation import (
    Interval,
    StrOptions,
    check_override_labels,
    check_override_probabilities,
    check_sample_weight,
    resolve_n_jobs,
)

#: labels of rows that cannot be clustered (scikit-learn's HDBSCAN encoding)
OUTLIER_ENCODING = {"infinite": -2, "missing": -3}

_ALGORITHMS = {
    "best", "generic", "prims_kdtree", "prims_balltree", "boruvka_kdtree", "boruvka_balltree",
}
#: metric names: ``"precomputed"`` and those of scikit-learn's ``BallTree``
#: (``BallTree.valid_metrics``, listed here so that importing the package
#: does not import ``sklearn.neighbors``; a test keeps the two in step)
_METRICS = {
    "precomputed", "braycurtis", "canberra", "chebyshev", "cityblock", "dice",
    "euclidean", "hamming", "haversine", "infinity", "jaccard", "l1", "l2",
    "mahalanobis", "manhattan", "minkowski", "p", "pyfunc", "rogerstanimoto",
    "russellrao", "seuclidean", "sokalmichener", "sokalsneath",
}


def _check_float_range(data):
    """Refuse data whose squared distances would overflow or underflow."""
    largest = float(np.max(np.abs(data)))
    if largest > 1e150:
        raise ValueError(
            f"X holds values up to {largest:.3g}: squared distances overflow float64. "
            f"Rescale X (e.g. with sklearn.preprocessing.StandardScaler) before fitting."
        )
    spread = float(np.max(np.ptp(data, axis=0)))
    if 0.0 < spread < 1e-150:
        raise ValueError(
            f"X spans at most {spread:.3g} per feature: squared distances underflow "
            f"float64. Rescale X (e.g. with sklearn.preprocessing.StandardScaler)."
        )


def _exemplar_lists(flat, rows, n_points, tree=None):
    if tree is None:
        tree = flat.condensed_tree
    if tree.parent.shape[0] == 0 or flat.selected_ids.shape[0] == 0:
        return [np.empty(0, dtype=np.intp) for _ in flat.selected_ids]
    indptr, points = leaf_exemplars(tree.parent, tree.child, tree.lambda_val, flat.selected_ids, n_points)
    return [rows[points[indptr[k]:indptr[k + 1]]] for k in range(flat.selected_ids.shape[0])]


class FLASC(ClusterMixin, BaseEstimator):
    """Flare-sensitive clustering: HDBSCAN* plus branch detection.

    FLASC [2]_ first finds density-based clusters with HDBSCAN* [1]_ and then
    looks for branches (flares) inside each cluster: points get a centrality
    (one over their distance to the cluster's probability-weighted
    centroid), a graph over the cluster's points is weighted by the larger
    centrality of each edge's ends, and a second condensed-tree pass over
    that graph finds the branches. Clusters with at least three branches
    (two with ``label_sides_as_branches``) get one label per branch.

    Parameters
    ----------
    min_cluster_size : int, default=5
        The minimum number of samples in a cluster.
    min_branch_size : int, default=None
        The minimum number of samples in a branch; ``None`` uses
        ``min_cluster_size``.
    min_samples : int, default=None
        The number of neighbours that defines a point's core distance: the
        distance to its ``min_samples``-th nearest *other* point (the point
        itself does not count, as in the ``hdbscan`` package; scikit-learn's
        ``HDBSCAN`` counts it, so its ``min_samples`` is one larger for the
        same result). ``None`` uses ``min_cluster_size``. Values above
        ``n_samples - 1`` are reduced to ``n_samples - 1``.
    metric : str or callable, default="minkowski"
        The distance metric. Minkowski metrics (``"euclidean"``,
        ``"manhattan"``, ``"chebyshev"``, ``"minkowski"``) use the fast
        kd-tree path; any other metric of scikit-learn's ``BallTree`` uses a
        general (quadratic-time) spanning tree; ``"precomputed"`` takes a
        dense square distance matrix.
    p : float, default=2
        The power of the Minkowski metric.
    metric_params : dict, default=None
        Extra keyword arguments of the metric.
    alpha : float, default=1.0
        Distance scaling of the mutual reachability, as in ``hdbscan``.
    algorithm : {"best", "generic", "prims_kdtree", "prims_balltree", \
            "boruvka_kdtree", "boruvka_balltree"}, default="best"
        Backend choice, named as in pyflasc. ``"best"`` and ``"*_kdtree"``
        use the kd-tree for Minkowski metrics; ``"generic"`` and
        ``"*_balltree"`` force the general path. The spanning tree is always
        exact.
    leaf_size : int, default=40
        Leaf size of the space trees (scikit-learn's rule). On the kd-tree
        the spanning tree's searches use leaves of ``leaf_size // 4``, on
        which they prune better. It changes speed only, never the result.
    approx_min_span_tree : bool, default=True
        Accepted for compatibility with pyflasc and hdbscan; it has no
        effect because the spanning tree is always exact.
    cluster_selection_method : {"eom", "leaf"}, default="eom"
        Excess of mass or leaf selection of clusters.
    allow_single_cluster : bool, default=False
        Allow the root to be selected as the only cluster. FLASC then puts
        every point in that cluster (except those below
        ``cluster_selection_epsilon``), unlike ``HDBSCAN.labels_``.
    cluster_selection_epsilon : float, default=0.0
        Clusters born below this distance are merged into their parents.
    cluster_selection_persistence : float, default=0.0
        Leaf clusters whose persistence (in density, 1 / distance) is below
        this value are merged into their parents.
    max_cluster_size : int, default=0
        Excess of mass does not select clusters larger than this (0: no
        limit); leaf selection ignores it.
    branch_detection_method : {"full", "core"}, default="full"
        The graph inside each cluster: ``"full"`` connects every pair whose
        mutual reachability is at most the cluster's largest spanning-tree
        edge; ``"core"`` connects each point to those of its ``min_samples``
        nearest other points in the same cluster, plus the cluster's
        spanning-tree edges.
    branch_selection_method : {"eom", "leaf"}, default="eom"
    allow_single_branch : bool, default=False
    branch_selection_epsilon : float, default=0.0
        In centrality units (1 / distance to the centroid).
    branch_selection_persistence : float, default=0.0
        In eccentricity units (distance to the centroid).
    max_branch_size : int, default=0
        The branch-pass counterparts of the cluster selection parameters.
    label_sides_as_branches : bool, default=False
        Label the two sides of an elongated cluster as separate branches
        (a cluster then needs two branches, not three, to be split).
    n_jobs : int, default=None
        Threads for the parallel kernels; ``None`` uses all threads numba
        may use, negative values count back from that number. In the branch
        pass, clusters run side by side, one cluster per thread at a time:
        with a Minkowski metric and no ``sample_weight``, every cluster runs
        whole in one kernel call and the clusters are split over ``n_jobs``
        threads by size. Otherwise clusters smaller than ``1 / n_jobs`` of
        the clustered points run in a pool of ``n_jobs`` threads (one numba
        thread each; only with numba's ``omp`` or ``tbb`` threading layer,
        as ``workqueue`` does not allow concurrent kernel launches) and
        larger ones one at a time with every thread. Results do not depend
        on ``n_jobs``.
    verbose : bool, default=False
        Report the backend and each stage's time (space tree, neighbours,
        spanning tree, single linkage, clusters, branches) through the
        ``logging`` logger ``"flasc_cluster"`` (a stderr handler is added if
        it has none).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Combined cluster and branch labels; -1 is noise, -2 rows with
        infinite values, -3 rows with missing values.
    probabilities_ : ndarray of shape (n_samples,)
        Combined membership: the cluster probability, averaged with the
        branch probability in clusters that were split into branches.
    cluster_labels_ : ndarray of shape (n_samples,)
        HDBSCAN* cluster labels (same encoding as ``labels_``).
    cluster_probabilities_ : ndarray of shape (n_samples,)
    cluster_persistence_ : ndarray of shape (n_clusters,)
        hdbscan's cluster persistence score (stability over size times the
        largest density); ``None`` with user-given labels.
    branch_labels_ : ndarray of shape (n_samples,)
        Branch label within each cluster (-1 between branches and for
        points outside clusters; 0 in clusters that were not split).
    branch_probabilities_ : ndarray of shape (n_samples,)
    branch_persistences_ : list of ndarray
        Per cluster, the persistence score of each branch.
    cluster_centralities_ : ndarray of shape (n_samples,)
        Each clustered point's centrality within its cluster (0 outside).
    cluster_points_ : list of ndarray
        Per cluster, the row indices of its points.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    sklearn.cluster.HDBSCAN : HDBSCAN* without branch detection.

    Notes
    -----
    With ``metric="precomputed"`` there is no centroid: a point's centrality
    is one over its largest mutual reachability to the other points of its
    cluster, as in pyflasc.

    Minkowski metrics cost about O(n log n) time for the neighbour search
    and spanning tree; other metrics and ``"precomputed"`` cost O(n^2) time
    with O(n) extra memory. The ``"full"`` graph holds every in-cluster pair
    within the cluster's largest spanning-tree edge and can be large; the
    ``"core"`` graph holds at most ``min_samples`` edges per point.

    ``sample_weight`` follows fast_hdbscan (``HDBSCAN.fit(X,
    sample_weight=w)``): a point of weight ``w`` stands for ``w`` copies.
    Its core distance is the smallest distance at which ``w - 1`` plus the
    weight of the other points within it reaches ``min_samples`` (0 when
    ``w >= min_samples + 1``); fast_hdbscan counts the full ``w`` against
    its ``min_samples``, so its weighted fits match ours with
    ``min_samples`` one larger. Linkage and condensed-tree sizes are weight
    sums (``child_size`` becomes float64; a point row carries the point's
    weight, so tell points from clusters by ``child < n_samples``), and
    ``min_cluster_size``, ``max_cluster_size`` and the excess-of-mass
    stability use them; a single point never forms a cluster on its own.
    Probabilities (exit density over the cluster's largest) do not depend
    on weights. The branch pass, like fast_hdbscan's ``BranchDetector``,
    compares ``min_branch_size``/``max_branch_size`` with weight sums and
    uses weighted branch stabilities; the centroid for the centrality
    weighs points by probability times weight (fast_hdbscan's uses the
    probability only, which would break the equivalence with repeated
    points). Positive integer weights therefore give the labels of the data
    with repeated rows (up to ties); a zero weight does not remove a point:
    it adds no weight but still links its neighbours and gets a label.

    Labels agree with pyflasc 0.1.4 run with ``approx_min_span_tree=False``
    (and for ``"full"`` with ``hdbscan.branches.BranchDetector``), with
    these documented differences: with ``allow_single_cluster=True`` a
    single selected cluster other than the root does not absorb every
    point; ``branch_labels_`` is -1 (not 0) for noise; the ``"full"`` graph
    uses the mutual reachability including ``alpha`` (the reference compares
    unscaled distances); merges at equal centrality follow a fixed rule.

    References
    ----------
    .. [1] Campello, R. J. G. B., Moulavi, D., & Sander, J. (2013).
       Density-based clustering based on hierarchical density estimates.
       PAKDD 2013, 160-172.
    .. [2] Bot, D. M., Peeters, J., Liesenborgs, J., & Aerts, J. (2025).
       FLASC: a flare-sensitive clustering algorithm. PeerJ Computer
       Science 11:e2792.

    Examples
    --------
    >>> from flasc_cluster import FLASC
    >>> from flasc_cluster.datasets import make_branching_stars
    >>> X, _ = make_branching_stars(n_samples=600, random_state=0)
    >>> model = FLASC(min_cluster_size=20).fit(X)
    >>> model.labels_.shape
    (600,)
    """

    _parameter_constraints = {
        "min_cluster_size": [Interval(Integral, 2, None, closed="left")],
        "min_branch_size": [Interval(Integral, 2, None, closed="left"), None],
        "min_samples": [Interval(Integral, 1, None, closed="left"), None],
        "metric": [StrOptions(_METRICS), callable],
        "p": [Interval(Real, 1, None, closed="left")],
        "metric_params": [dict, None],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "algorithm": [StrOptions(_ALGORITHMS)],
        "leaf_size": [Interval(Integral, 1, None, closed="left")],
        "approx_min_span_tree": ["boolean"],
        "cluster_selection_method": [StrOptions({"eom", "leaf"})],
        "allow_single_cluster": ["boolean"],
        "cluster_selection_epsilon": [Interval(Real, 0, None, closed="left")],
        "cluster_selection_persistence": [Interval(Real, 0, None, closed="left")],
        "max_cluster_size": [Interval(Integral, 0, None, closed="left")],
        "branch_detection_method": [StrOptions({"full", "core"})],
        "branch_selection_method": [StrOptions({"eom", "leaf"})],
        "allow_single_branch": ["boolean"],
        "branch_selection_epsilon": [Interval(Real, 0, None, closed="left")],
        "branch_selection_persistence": [Interval(Real, 0, None, closed="left")],
        "max_branch_size": [Interval(Integral, 0, None, closed="left")],
        "label_sides_as_branches": ["boolean"],
        "n_jobs": [Interval(Integral, None, -1, closed="right"), Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        min_cluster_size=5,
        *,
        min_branch_size=None,
        min_samples=None,
        metric="minkowski",
        p=2,
        metric_params=None,
        alpha=1.0,
        algorithm="best",
        leaf_size=40,
        approx_min_span_tree=True,
        cluster_selection_method="eom",
        allow_single_cluster=False,
        cluster_selection_epsilon=0.0,
        cluster_selection_persistence=0.0,
        max_cluster_size=0,
        branch_detection_method="full",
        branch_selection_method="eom",
        allow_single_branch=False,
        branch_selection_epsilon=0.0,
        branch_selection_persistence=0.0,
        max_branch_size=0,
        label_sides_as_branches=False,
        n_jobs=None,
        verbose=False,
    ):
        self.min_cluster_size = min_cluster_size
        self.min_branch_size = min_branch_size
        self.min_samples = min_samples
        self.metric = metric
        self.p = p
        self.metric_params = metric_params
        self.alpha = alpha
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.approx_min_span_tree = approx_min_span_tree
        self.cluster_selection_method = cluster_selection_method
        self.allow_single_cluster = allow_single_cluster
        self.cluster_selection_epsilon = cluster_selection_epsilon
        self.cluster_selection_persistence = cluster_selection_persistence
        self.max_cluster_size = max_cluster_size
        self.branch_detection_method = branch_detection_method
        self.branch_selection_method = branch_selection_method
        self.allow_single_branch = allow_single_branch
        self.branch_selection_epsilon = branch_selection_epsilon
        self.branch_selection_persistence = branch_selection_persistence
        self.max_branch_size = max_branch_size
        self.label_sides_as_branches = label_sides_as_branches
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, labels=None, probabilities=None, sample_weight=None):
        """Find clusters and the branches within them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or (n_samples, \
                n_samples) with ``metric="precomputed"``
            The data. Rows with NaN or infinite values are not clustered
            (labels -3 and -2) and the rest is clustered as if they were
            absent.
        y : None
            Ignored.
        labels : array-like of shape (n_samples,), default=None
            Cluster labels to use instead of the HDBSCAN* pass (negative for
            noise); only the branch pass runs. Labels are renumbered
            ``0..k-1`` in sorted order.
        probabilities : array-like of shape (n_samples,), default=None
            Membership weights for the centroids of user-given clusters
            (default 1); only with ``labels``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a point of weight ``w`` counts as ``w``
            copies of itself, with fast_hdbscan's meaning (see Notes).
            ``None`` weighs every point 1. Weights of rows with NaN or
            infinite values are ignored; the array is not modified.

        Returns
        -------
        self : FLASC
            The fitted estimator.
        """
        precomputed = self.metric == "precomputed"
        X = validate_data(
            self, X, ensure_all_finite=False, dtype=np.float64, order="C",
            ensure_min_samples=1, copy=False,
        )
        if precomputed:
            if X.shape[0] != X.shape[1]:
                raise ValueError(
                    f"metric='precomputed' needs a square distance matrix; got shape {X.shape}."
                )
            if np.isnan(X).any() or (X < 0).any():
                raise ValueError(
                    "The precomputed distance matrix must hold non-negative "
                    "distances without NaN (use np.inf for missing distances)."
                )
            finite = np.ones(X.shape[0], dtype=bool)
            data = X
        else:
            row_nan = np.isnan(X).any(axis=1)
            row_inf = np.isinf(X).any(axis=1) & ~row_nan
            finite = ~(row_nan | row_inf)
            data = X if finite.all() else np.ascontiguousarray(X[finite])
        n_all = X.shape[0]
        if not precomputed and data.shape[0] > 0:
            _check_float_range(data)

        if labels is None and probabilities is not None:
            raise ValueError("probabilities can only be given together with labels.")
        override = probabilities_in = None
        n_override = 0
        if labels is not None:
            override, n_override = check_override_labels(labels, n_all)
            probabilities_in = check_override_probabilities(probabilities, override)
            override = override[finite]
            probabilities_in = probabilities_in[finite]
        self._sample_weight = check_sample_weight(sample_weight, X, finite)

        min_samples = self.min_cluster_size if self.min_samples is None else self.min_samples
        min_branch_size = (
            self.min_cluster_size if self.min_branch_size is None else self.min_branch_size
        )
        self._min_samples = int(min_samples)
        self._min_branch_size = int(min_branch_size)

        result = self._run(
            data, override=override, probabilities=probabilities_in, n_override=n_override
        )
        self._store(result, finite, X if not precomputed else None, n_all, labels is not None)
        return self

    def _run(self, data, *, override=None, probabilities=None, n_override=0, previous=None):
        with numba_threads(resolve_n_jobs(self.n_jobs)):
            return fit_flasc(
                data,
                metric=self.metric,
                p=float(self.p),
                metric_params=self.metric_params,
                algorithm=self.algorithm,
                leaf_size=self.leaf_size,
                alpha=float(self.alpha),
                min_samples=self._min_samples,
                min_cluster_size=int(self.min_cluster_size),
                cluster_selection_method=self.cluster_selection_method,
                allow_single_cluster=bool(self.allow_single_cluster),
                cluster_selection_epsilon=float(self.cluster_selection_epsilon),
                cluster_selection_persistence=float(self.cluster_selection_persistence),
                max_cluster_size=int(self.max_cluster_size),
                min_branch_size=self._min_branch_size,
                branch_detection_method=self.branch_detection_method,
                branch_selection_method=self.branch_selection_method,
                allow_single_branch=bool(self.allow_single_branch),
                branch_selection_epsilon=float(self.branch_selection_epsilon),
                branch_selection_persistence=float(self.branch_selection_persistence),
                max_branch_size=int(self.max_branch_size),
                label_sides_as_branches=bool(self.label_sides_as_branches),
                override_labels=override,
                override_probabilities=probabilities,
                n_override_clusters=n_override,
                previous=previous,
                log=StageLog(self.verbose),
                sample_weight=self._sample_weight,
            )

    _RESELECTABLE = frozenset({
        "min_cluster_size", "cluster_selection_method", "allow_single_cluster",
        "cluster_selection_epsilon", "cluster_selection_persistence", "max_cluster_size",
        "min_branch_size", "branch_selection_method", "allow_single_branch",
        "branch_selection_epsilon", "branch_selection_persistence", "max_branch_size",
        "label_sides_as_branches",
    })

    def reselect(self, **params):
        """Change selection parameters of a fitted model without refitting.

        The labels equal those of a fresh fit with the new parameters. The
        neighbour search, spanning tree and hierarchy are reused, and so is
        the condensed tree while ``min_cluster_size`` stays. A cluster that
        keeps its points and membership probabilities keeps its branch
        hierarchy; one whose probabilities change (its centroid moves) keeps
        its branch spanning tree when its centralities keep their order,
        ties included, and only its branch weights change. Only the
        selections and the other clusters' branch passes run again. With
        ``min_samples=None``, changing ``min_cluster_size`` changes the core
        distances, so that case recomputes everything.

        Parameters
        ----------
        **params
            Any of ``min_cluster_size``, ``cluster_selection_method``,
            ``allow_single_cluster``, ``cluster_selection_epsilon``,
            ``cluster_selection_persistence``, ``max_cluster_size``,
            ``min_branch_size``, ``branch_selection_method``,
            ``allow_single_branch``, ``branch_selection_epsilon``,
            ``branch_selection_persistence``, ``max_branch_size``,
            ``label_sides_as_branches``.

        Returns
        -------
        self : FLASC
            The estimator, with the new parameters and fitted attributes.

        Examples
        --------
        >>> from flasc_cluster import FLASC
        >>> from flasc_cluster.datasets import make_branching_stars
        >>> X, _ = make_branching_stars(n_samples=600, random_state=0)
        >>> model = FLASC(min_cluster_size=20, min_samples=5).fit(X)
        >>> fresh = FLASC(min_cluster_size=40, min_samples=5).fit(X)
        >>> bool((model.reselect(min_cluster_size=40).labels_ == fresh.labels_).all())
        True
        """
        check_is_fitted(self, "labels_")
        if self._overridden:
            raise ValueError("reselect needs the cluster hierarchy; refit instead (labels were given).")
        unknown = set(params) - self._RESELECTABLE
        if unknown:
            raise ValueError(
                f"reselect cannot change {sorted(unknown)}; allowed: {sorted(self._RESELECTABLE)}."
            )
        # only the changed parameters are checked, and set as plain
        # attributes (all of them top-level): ``_validate_params``,
        # ``get_params`` and ``set_params`` inspect the signature and check
        # every parameter each time, 0.2-0.3 ms a call
        validate_parameter_constraints(
            {name: self._parameter_constraints[name] for name in params}, params,
            caller_name=type(self).__name__,
        )
        for name, value in params.items():
            setattr(self, name, value)
        min_samples = self.min_cluster_size if self.min_samples is None else self.min_samples
        previous = self._result if min_samples == self._min_samples else None
        self._min_samples = int(min_samples)
        self._min_branch_size = int(
            self.min_cluster_size if self.min_branch_size is None else self.min_branch_size
        )
        space = self._result.space
        data = space.D if space.kind == "precomputed" else space.X
        result = self._run(data, previous=previous)
        self._store(result, self._finite, None, self._n_all, False, special=self._special)
        return self

    def _store(self, result, finite, X, n_all, overridden, special=None):
        index = np.flatnonzero(finite)
        self._finite_index = index
        self._result = result
        self._overridden = overridden
        if special is None:
            special = np.full(n_all, -1, dtype=np.intp)
            if X is not None and not finite.all():
                nan_rows = np.isnan(X).any(axis=1)
                special[nan_rows] = OUTLIER_ENCODING["missing"]
                special[~finite & ~nan_rows] = OUTLIER_ENCODING["infinite"]
        self._special = special
        self._finite = finite
        self._n_all = n_all

        every = index.shape[0] == n_all  # no special rows

        def labels_full(values):
            if every:
                return np.array(values, dtype=np.intp)
            out = special.copy()
            out[index] = values
            return out

        def values_full(values, copy=True):
            # copy=False for arrays nothing but these attributes reads (the
            # copies of 10^6 values cost 10-15 ms each in fresh memory)
            if every:
                return (np.array if copy else np.asarray)(values, dtype=np.float64)
            out = np.zeros(n_all)
            out[index] = values
            return out

        b = result.branches
        self.labels_ = labels_full(b.labels)
        self.probabilities_ = values_full(b.probabilities, copy=False)
        self.cluster_labels_ = labels_full(result.cluster_labels)
        self.cluster_probabilities_ = values_full(
            np.where(result.cluster_labels >= 0, result.cluster_probabilities, 0.0), copy=False
        )
        self.branch_labels_ = labels_full(b.branch_labels)
        self.branch_probabilities_ = values_full(b.branch_probabilities)
        self.cluster_centralities_ = values_full(b.centralities, copy=False)
        self.cluster_persistence_ = (
            None if result.cluster.flat is None else result.cluster.flat.persistence.copy()
        )
        # per-cluster lists, built on first access (a Python loop over the
        # clusters that most fits and re-selections never need)
        self._cluster_points = None
        self._branch_persistences = None

    def fit_predict(self, X, y=None, labels=None, probabilities=None, sample_weight=None):
        """Fit and return ``labels_``.

        Parameters
        ----------
        X, y, labels, probabilities, sample_weight
            As in :meth:`fit`.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self.fit(
            X, y, labels=labels, probabilities=probabilities, sample_weight=sample_weight
        ).labels_

    # ----------------------------------------------------------- hierarchies
    def _check_cluster_pass(self, name):
        check_is_fitted(self, "labels_")
        if self._overridden:
            raise AttributeError(
                f"{name} is not available when the clusters were given with `labels`."
            )

    @property
    def condensed_tree_(self):
        """:class:`~flasc_cluster.CondensedTree` of the cluster pass.

        Point ids are positions among the finite rows (see
        ``finite_index_``).
        """
        self._check_cluster_pass("condensed_tree_")
        flat = self._result.cluster.flat
        return CondensedTree(condensed_to_records(flat.condensed_tree), flat.selected_ids)

    @property
    def single_linkage_tree_(self):
        """:class:`~flasc_cluster.SingleLinkageTree` of the cluster pass."""
        self._check_cluster_pass("single_linkage_tree_")
        return SingleLinkageTree(self._result.cluster.linkage)

    @property
    def minimum_spanning_tree_(self):
        """:class:`~flasc_cluster.MinimumSpanningTree` of the mutual reachability."""
        self._check_cluster_pass("minimum_spanning_tree_")
        return MinimumSpanningTree(self._result.cluster.min_spanning_tree)

    @property
    def branch_persistences_(self):
        """Per cluster, the persistence score of each branch (list of ndarray)."""
        check_is_fitted(self, "labels_")
        if self._branch_persistences is None:
            self._branch_persistences = [
                c.flat.persistence.copy() if c.flat is not None else np.empty(0)
                for c in self._result.branches.clusters
            ]
        return self._branch_persistences

    @property
    def cluster_points_(self):
        """Per cluster, the row indices of its points (list of ndarray)."""
        check_is_fitted(self, "labels_")
        if self._cluster_points is None:
            index = self._finite_index
            self._cluster_points = [index[c.points] for c in self._result.branches.clusters]
        return self._cluster_points

    @property
    def finite_index_(self):
        """Row indices of the finite rows that were clustered."""
        check_is_fitted(self, "labels_")
        return self._finite_index.copy()

    @property
    def core_distances_(self):
        """Core distance of each finite row (distance to its ``min_samples``-th neighbour)."""
        check_is_fitted(self, "labels_")
        return self._result.cluster.core_distances.copy()

    @property
    def branch_condensed_trees_(self):
        """Per cluster, the branch pass's :class:`CondensedTree` (None if not run).

        Point ids are positions within ``cluster_points_[c]``. The fit keeps
        each cluster's spanning tree in compact form (8 bytes per point)
        and derives the tree on each access, in a few milliseconds per
        10^5 points.
        """
        check_is_fitted(self, "labels_")
        return [
            None if c.flat is None
            else CondensedTree(condensed_to_records(c.condensed_tree), c.flat.selected_ids)
            for c in self._result.branches.clusters
        ]

    @property
    def branch_linkage_trees_(self):
        """Per cluster, the branch pass's :class:`SingleLinkageTree` (or None).

        Derived on each access from the spanning tree the fit keeps, like
        :attr:`branch_condensed_trees_`.
        """
        check_is_fitted(self, "labels_")
        return [
            None if c.linkage is None else SingleLinkageTree(c.linkage)
            for c in self._result.branches.clusters
        ]

    @property
    def cluster_approximation_graphs_(self):
        """Per cluster, its :class:`ApproximationGraph` (row ids of the data)."""
        check_is_fitted(self, "labels_")
        index = self._finite_index
        result = self._result
        out = []
        for c in result.branches.clusters:
            g = approximation_graph(
                result.space, c, result.cluster.core_distances, float(self.alpha)
            )
            g[:, 0] = index[g[:, 0].astype(np.intp)]
            g[:, 1] = index[g[:, 1].astype(np.intp)]
            out.append(ApproximationGraph(g))
        return out

    # ---------------------------------------------------- points of interest
    @property
    def outlier_scores_(self):
        """GLOSH outlier scores of the cluster pass, ndarray of shape (n_samples,).

        In [0, 1], larger is more outlying; never NaN (duplicates score 0,
        rows with NaN or infinite values score 1).
        """
        self._check_cluster_pass("outlier_scores_")
        tree = self._result.cluster.flat.condensed_tree
        n = self._finite_index.shape[0]
        out = np.ones(self.labels_.shape[0])
        if tree.parent.shape[0]:
            out[self._finite_index] = glosh_scores(tree.parent, tree.child, tree.lambda_val, n, n)
        else:
            out[self._finite_index] = 0.0
        return out

    @property
    def cluster_exemplars_(self):
        """Per cluster, row indices of its exemplars: the points that stay
        longest in the leaf clusters of its condensed subtree."""
        self._check_cluster_pass("cluster_exemplars_")
        flat = self._result.cluster.flat
        return _exemplar_lists(flat, self._finite_index, self._finite_index.shape[0])

    @property
    def branch_exemplars_(self):
        """Per cluster, a list with the exemplar row indices of each branch
        (an empty list where no branch pass ran)."""
        check_is_fitted(self, "labels_")
        out = []
        for c in self._result.branches.clusters:
            if c.flat is None:
                out.append([])
            else:
                rows = self._finite_index[c.points]
                out.append(_exemplar_lists(c.flat, rows, c.points.shape[0], c.condensed_tree))
        return out

    @property
    def relative_validity_(self):
        """hdbscan's fast DBCV approximation for ``labels_`` (branches count as
        clusters), computed on the mutual-reachability spanning tree; higher is
        better. Use :func:`flasc_cluster.relative_validity_score` in
        ``GridSearchCV``."""
        self._check_cluster_pass("relative_validity_")
        return relative_validity(
            self.labels_[self._finite_index], self._result.cluster.min_spanning_tree
        )

    def weighted_centroid(self, label_id, data=None):
        """Centroid of the points with ``labels_ == label_id``, weighted by
        ``probabilities_``.

        Parameters
        ----------
        label_id : int
            A label of ``labels_`` (not noise).
        data : ndarray of shape (n_samples, n_features), default=None
            The data to average; default the fitted data (required with
            ``metric="precomputed"``).

        Returns
        -------
        centroid : ndarray of shape (n_features,)
        """
        rows, weights = self._label_rows(label_id)
        X = self._data_for(data, "weighted_centroid")
        return np.average(X[rows], weights=weights, axis=0)

    def weighted_medoid(self, label_id, data=None):
        """The point of ``label_id`` with the smallest probability-weighted
        sum of distances to the label's other points.

        Parameters
        ----------
        label_id : int
        data : ndarray, default=None
            As in :meth:`weighted_centroid`; with ``metric="precomputed"``
            the fitted distance matrix is used.

        Returns
        -------
        medoid : ndarray of shape (n_features,), or int
            The medoid's coordinates; its row index with ``metric="precomputed"``.
        """
        rows, weights = self._label_rows(label_id)
        space = self._result.space
        if self.metric == "precomputed" and data is None:
            D = space.D[np.ix_(self._local_rows(rows), self._local_rows(rows))]
            return int(rows[np.argmin(D @ weights)])
        X = self._data_for(data, "weighted_medoid")
        from sklearn.metrics import pairwise_distances_chunked

        metric = "minkowski" if space is None or space.kind == "kd_tree" else self.metric
        kwargs = {"p": space.p} if space is not None and space.kind == "kd_tree" else dict(self.metric_params or {})
        sums = np.concatenate([
            chunk @ weights
            for chunk in pairwise_distances_chunked(X[rows], metric=metric, **kwargs)
        ])
        return X[rows[np.argmin(sums)]]

    def _label_rows(self, label_id):
        check_is_fitted(self, "labels_")
        if label_id < 0 or label_id not in set(np.unique(self.labels_).tolist()):
            raise ValueError(f"label_id must be one of the labels in labels_ (>= 0); got {label_id}.")
        rows = np.flatnonzero(self.labels_ == label_id)
        return rows, self.probabilities_[rows]

    def _local_rows(self, rows):
        return np.searchsorted(self._finite_index, rows)

    def _data_for(self, data, name):
        if data is not None:
            data = np.asarray(data, dtype=np.float64)
            if data.shape[0] != self.labels_.shape[0]:
                raise ValueError(f"data must have one row per fitted sample ({self.labels_.shape[0]}).")
            return data
        space = self._result.space
        if space is None or space.kind == "precomputed":
            raise ValueError(f"{name} needs data= when the model was fitted on distances.")
        out = np.full((self.labels_.shape[0], space.X.shape[1]), np.nan)
        out[self._finite_index] = space.X
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.pairwise = self.metric == "precomputed"
        return tags
