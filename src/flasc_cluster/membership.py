"""Soft membership of a fitted FLASC model: clusters, branches, noise.

Soft cluster membership as in hdbscan (:func:`all_points_membership_vectors`,
:func:`membership_vector`), soft branch membership within clusters (pyflasc's
centrality vectors) and label propagation to noise (:func:`propagate_labels`).
"""

from numbers import Integral
from typing import NamedTuple

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.utils.validation import check_array, check_is_fitted

from ._branches.detect import local_graph_csr
from ._branches.membership import hop_depths
from ._branches.propagate import propagate_by_vote
from ._hdbscan.exemplars import leaf_exemplars
from ._hdbscan.soft import (
    all_points_memberships,
    membership_tree_arrays,
    merge_heights,
    min_exemplar_distances,
    new_point_memberships,
)

__all__ = [
    "all_points_membership_vectors",
    "membership_vector",
    "branch_centrality_vectors",
    "branch_membership_from_centrality",
    "update_labels_with_branch_centrality",
    "PropagatedLabels",
    "propagate_labels",
]

#: float64 entries per block of rows (distances to exemplars, memberships)
_CHUNK_ELEMENTS = 1 << 21


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


def branch_membership_from_centrality(vectors, temperature=1.0, *, top_k=None):
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
    top_k : int, default=None
        Keep only each row's ``top_k`` largest memberships (ties to the
        smaller branch), as ``scipy.sparse.csr_matrix``; not renormalised,
        so rows then sum to at most 1.

    Returns
    -------
    memberships : list of (ndarray or csr_matrix or None)
        Same shapes as ``vectors``; rows sum to 1 (at most 1 with
        ``top_k``), never NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from flasc_cluster.membership import branch_membership_from_centrality
    >>> m = branch_membership_from_centrality([np.array([[1.0, 0.5], [0.2, 0.2]]), None])
    >>> np.round(m[0].sum(axis=1), 6).tolist(), m[1] is None
    ([1.0, 1.0], True)
    >>> sparse = branch_membership_from_centrality([np.array([[1.0, 0.5, 0.1]])], top_k=2)
    >>> sparse[0].nnz, sparse[0].indices.tolist()
    (2, [0, 1])
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be positive; got {temperature}.")
    _check_top_k(top_k)
    out = []
    for v in vectors:
        if v is None:
            out.append(None)
            continue
        z = v / temperature
        z = np.exp(z - z.max(axis=1, keepdims=True))  # stable softmax
        z /= z.sum(axis=1, keepdims=True)
        if top_k is not None:
            z = _assemble(z.shape[0], z.shape[1], np.arange(z.shape[0]), [(0, z.shape[0], z)], top_k)
        out.append(z)
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


# ------------------------------------------------------- soft cluster membership
class _SoftTree(NamedTuple):
    """What membership vectors need from a model's cluster pass."""

    point_node: np.ndarray  # intp (n,) local cluster id each point leaves
    point_lambda: np.ndarray  # float64 (n,)
    node_parent: np.ndarray  # intp (n_nodes,)
    node_birth: np.ndarray  # float64 (n_nodes,)
    node_max_lambda: np.ndarray  # float64 (n_nodes,)
    tin: np.ndarray  # intp (n_nodes,)
    tout: np.ndarray  # intp (n_nodes,)
    depth: np.ndarray  # intp (n_nodes,)
    selected: np.ndarray  # intp (k,) local ids, column order (= cluster label)
    exemplar_indptr: np.ndarray  # intp (k + 1,)
    exemplars: np.ndarray  # intp, finite-row ids grouped by cluster


def _check_top_k(top_k):
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, Integral) or top_k < 1):
        raise ValueError(f"top_k must be None or an int >= 1; got {top_k!r}.")


def _soft_tree(model, name):
    check_is_fitted(model, "labels_")
    if model._overridden:
        raise ValueError(
            f"{name} needs the cluster hierarchy; this model was fitted with "
            f"user-given labels."
        )
    flat = model._result.cluster.flat
    tree = flat.condensed_tree
    if tree.parent.shape[0] == 0 or flat.selected_ids.shape[0] == 0:
        return None
    root = model._finite_index.shape[0]
    arrays = membership_tree_arrays(tree.parent, tree.child, tree.lambda_val, root, root)
    indptr, exemplars = leaf_exemplars(
        tree.parent, tree.child, tree.lambda_val, flat.selected_ids, root
    )
    return _SoftTree(*arrays, flat.selected_ids - root, indptr, exemplars)


def _exemplar_distances(space, soft, *, rows=None, points=None):
    """Distances (q, k) from fitted rows ``rows`` or new ``points`` to the
    nearest exemplar of each cluster."""
    ex = soft.exemplars
    if space.kind == "kd_tree":
        Q = space.X[rows] if points is None else points
        return min_exemplar_distances(np.ascontiguousarray(Q), space.X[ex], soft.exemplar_indptr, space.p)
    if space.kind == "precomputed":
        D = space.D[rows][:, ex] if points is None else points[:, ex]
    else:
        D = space.dist.pairwise(space.X[rows] if points is None else points, space.X[ex])
    k = soft.selected.shape[0]
    out = np.full((D.shape[0], k), np.inf)
    for s in range(k):
        a, b = soft.exemplar_indptr[s], soft.exemplar_indptr[s + 1]
        if b > a:
            out[:, s] = D[:, a:b].min(axis=1)
    return out


def _chunks(n, width):
    step = max(1, _CHUNK_ELEMENTS // max(width, 1))
    for start in range(0, n, step):
        yield start, min(start + step, n)


def _assemble(n_rows, n_cols, row_index, blocks, top_k):
    """Dense (n_rows, n_cols) or top-k CSR from row blocks ``(start, stop,
    values)`` of the rows ``row_index`` (increasing); other rows are 0."""
    if top_k is None:
        out = np.zeros((n_rows, n_cols))
        for start, stop, values in blocks:
            out[row_index[start:stop]] = values
        return out
    counts = np.zeros(n_rows + 1, dtype=np.intp)
    indices, data = [], []
    for start, stop, values in blocks:
        cols, vals = _top_k_entries(values, top_k)
        counts[row_index[start:stop] + 1] = (vals > 0).sum(axis=1)
        keep = vals > 0
        indices.append(cols[keep])
        data.append(vals[keep])
    indptr = np.cumsum(counts)
    indices = np.concatenate(indices) if indices else np.empty(0, np.intp)
    data = np.concatenate(data) if data else np.empty(0)
    return csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))


def _top_k_entries(values, top_k):
    """Per row, the columns of the ``top_k`` largest values (ties to the
    smaller column), in increasing column order, and their values."""
    top_k = min(top_k, values.shape[1])
    cols = np.argsort(-values, axis=1, kind="stable")[:, :top_k]
    cols.sort(axis=1)
    return cols, np.take_along_axis(values, cols, axis=1)


def all_points_membership_vectors(model, *, top_k=None):
    """Soft cluster membership of every fitted point, as hdbscan computes it.

    hdbscan's ``all_points_membership_vectors`` for the cluster pass of a
    FLASC model: a distance part (one over the distance to the nearest
    exemplar of each cluster, see ``cluster_exemplars_``), normalised, times
    an outlier part (a softmax over clusters of ``exp(-lambda_max /
    merge_height)``, where the merge height is the density at which the
    point's branch of the condensed tree meets the cluster, or the point's
    own exit density if the cluster holds or contains that branch),
    normalised again and scaled by the probability of being in some
    cluster, ``max merge height / max(lambda_max of that cluster, point
    density)``.

    Parameters
    ----------
    model : FLASC
        A fitted estimator, not fitted with user-given ``labels`` (there is
        no condensed tree then; a ``ValueError`` is raised).
    top_k : int, default=None
        Return only each row's ``top_k`` largest entries (ties to the
        smaller cluster label) as a ``scipy.sparse.csr_matrix``; zeros are
        not stored. Computed in blocks of rows, so memory stays
        O(n_samples * top_k) beyond one block.

    Returns
    -------
    vectors : ndarray or csr_matrix of shape (n_samples, n_clusters)
        Column ``j`` is cluster label ``j`` of ``cluster_labels_`` (the
        order of hdbscan's columns). Entries are in [0, 1] and never NaN.
        Each row sums to the point's probability of being in some cluster,
        in [0, 1] -- not to 1 (hdbscan's rows do not sum to 1 either); it
        is positive except for points at finite density whose nearest
        cluster reaches infinite density (exact duplicates), where the
        limit 0 applies. With ``allow_single_cluster`` and the root as the
        only cluster there is one column holding that probability. A model
        without clusters gives shape ``(n_samples, 0)``. Rows with NaN or
        infinite values are 0.

    Notes
    -----
    Time O(n_samples * (n_exemplars * n_features + n_clusters * log
    depth)). Where the condensed tree equals hdbscan's (same labels on
    tie-free data), the vectors equal hdbscan's to rounding, except where
    a point's largest merge height is shared by several clusters: hdbscan
    then takes the smallest cluster id for the probability (which depends
    on the order of siblings), here the cluster giving the largest
    probability; the normalised vector is the same. Exits at
    infinite density (duplicate points) use limits (``inf / inf = 1``)
    where hdbscan returns NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from flasc_cluster import FLASC
    >>> from flasc_cluster.datasets import make_branching_stars
    >>> from flasc_cluster.membership import all_points_membership_vectors
    >>> X, _ = make_branching_stars(n_samples=600, random_state=0)
    >>> model = FLASC(min_cluster_size=20).fit(X)
    >>> vectors = all_points_membership_vectors(model)
    >>> vectors.shape == (600, model.cluster_labels_.max() + 1)
    True
    >>> clustered = model.cluster_labels_ >= 0
    >>> agree = vectors[clustered].argmax(axis=1) == model.cluster_labels_[clustered]
    >>> bool(agree.mean() > 0.9), bool((vectors.sum(axis=1) <= 1 + 1e-12).all())
    (True, True)
    >>> all_points_membership_vectors(model, top_k=1).nnz
    600
    """
    _check_top_k(top_k)
    soft = _soft_tree(model, "all_points_membership_vectors")
    n_all = model.labels_.shape[0]
    index = model._finite_index
    if soft is None:
        k = model._result.cluster.flat.selected_ids.shape[0]
        # a single point in a single cluster: no tree, full membership
        blocks = [(0, index.shape[0], (model.cluster_labels_[index, None] == np.arange(k)) * 1.0)]
        return _assemble(n_all, k, index, blocks, top_k)
    space = model._result.space
    k = soft.selected.shape[0]
    selected_max = soft.node_max_lambda[soft.selected]
    width = max(k, soft.exemplars.shape[0])

    def blocks():
        for start, stop in _chunks(index.shape[0], width):
            rows = np.arange(start, stop)
            nodes = soft.point_node[rows]
            lam = soft.point_lambda[rows]
            heights = merge_heights(nodes, lam, soft.selected, soft.node_parent,
                                    soft.node_birth, soft.tin, soft.tout, soft.depth)
            dist = _exemplar_distances(space, soft, rows=rows)
            yield start, stop, all_points_memberships(
                dist, heights, lam, soft.node_max_lambda[nodes], selected_max
            )

    return _assemble(n_all, k, index, blocks(), top_k)


def membership_vector(model, points, *, top_k=None):
    """Soft cluster membership of new points, as hdbscan's ``membership_vector``.

    A new point joins the condensed tree where :func:`approximate_predict`
    puts it (below the cluster of its nearest training point in mutual
    reachability, at that density, capped by the neighbour's own exit
    density). hdbscan combines the parts differently from
    :func:`all_points_membership_vectors`: ``sqrt(distance part) *
    outlier part ** 2``, with the outlier part a softmax of ``lambda_max /
    (lambda_max - merge_height)``; so a training point passed here does
    not get its all-points vector (as in hdbscan).

    Parameters
    ----------
    model : FLASC
        A fitted estimator, not fitted with user-given ``labels``.
    points : array-like of shape (n_points, n_features)
        New points; with ``metric="precomputed"`` their distances to the
        training rows, shape (n_points, n_training_rows).
    top_k : int, default=None
        As in :func:`all_points_membership_vectors`.

    Returns
    -------
    vectors : ndarray or csr_matrix of shape (n_points, n_clusters)
        Columns as in :func:`all_points_membership_vectors`; entries in
        [0, 1], never NaN; each row sums to the point's probability of
        being in some cluster (at most 1). Rows with NaN or infinite values
        are 0; a model without clusters gives shape ``(n_points, 0)``.

    Notes
    -----
    hdbscan takes a query's core distance from its ``min_samples + 1``-th
    neighbour and training core distances from ``min_samples - 1`` other
    points, and rounds the density to float32 in the outlier part; here
    both are those of :func:`approximate_predict` (the fit's own core
    distances) and the density is kept in float64, so the vectors equal
    hdbscan's only where the joining point and density coincide.

    Examples
    --------
    >>> import numpy as np
    >>> from flasc_cluster import FLASC
    >>> from flasc_cluster.datasets import make_branching_stars
    >>> from flasc_cluster.membership import membership_vector
    >>> X, _ = make_branching_stars(n_samples=600, random_state=0)
    >>> model = FLASC(min_cluster_size=20).fit(X)
    >>> vectors = membership_vector(model, X[:5] + 0.01)
    >>> vectors.shape == (5, model.cluster_labels_.max() + 1)
    True
    >>> bool(((vectors >= 0) & (vectors <= 1)).all())
    True
    """
    from .prediction import _Neighbourhoods

    _check_top_k(top_k)
    check_is_fitted(model, "labels_")
    soft = _soft_tree(model, "membership_vector")
    result = model._result
    Q = check_array(points, ensure_all_finite=False, dtype=np.float64, ensure_2d=False)
    if Q.ndim == 1:
        Q = Q.reshape(1, -1)
    n_cols = result.cluster.core_distances.shape[0] if model.metric == "precomputed" else model.n_features_in_
    if Q.shape[1] != n_cols:
        raise ValueError(f"points must have {n_cols} columns (as the fitted data); got {Q.shape[1]}.")
    k = result.cluster.flat.selected_ids.shape[0]
    good = np.flatnonzero(np.isfinite(Q).all(axis=1))
    if soft is None:
        blocks = [(0, good.shape[0], np.ones((good.shape[0], k)))]
        return _assemble(Q.shape[0], k, good, blocks, top_k)
    width = max(k, soft.exemplars.shape[0], 2 * model._min_samples)

    def blocks():
        for start, stop in _chunks(good.shape[0], width):
            Qb = np.ascontiguousarray(Q[good[start:stop]])
            hoods = _Neighbourhoods(model, result, Qb)
            nearest, reach = hoods.nearest, hoods.reach
            with np.errstate(divide="ignore"):
                lam = np.where(reach > 0.0, 1.0 / reach, np.finfo(np.float64).max)
            yield start, stop, _new_point_vectors(result.space, soft, Qb, nearest, lam)

    return _assemble(Q.shape[0], k, good, blocks(), top_k)


def _new_point_vectors(space, soft, Q, nearest, lam, outlier_dtype=np.float64):
    """Membership vectors (q, k) of new points ``Q`` joining the tree next
    to fitted row ``nearest`` at density ``lam``; ``outlier_dtype=float32``
    reproduces hdbscan's rounding of the density in the outlier part."""
    lam = np.minimum(lam, soft.point_lambda[nearest])
    nodes = soft.point_node[nearest]
    tree = (soft.selected, soft.node_parent, soft.node_birth, soft.tin, soft.tout, soft.depth)
    heights = merge_heights(nodes, lam, *tree)
    heights_outlier = heights
    if outlier_dtype != np.float64:
        heights_outlier = merge_heights(nodes, lam.astype(outlier_dtype).astype(np.float64), *tree)
    return new_point_memberships(
        _exemplar_distances(space, soft, points=Q), heights, lam, heights_outlier,
        soft.node_max_lambda[nodes], soft.node_max_lambda[soft.selected],
    )


# ------------------------------------------------------------ label propagation
class PropagatedLabels(NamedTuple):
    """Labels after propagation to noise, each of shape (n_samples,)."""

    labels: np.ndarray
    cluster_labels: np.ndarray
    branch_labels: np.ndarray


def _graph_csr(src, dst, votes, n):
    """Symmetric CSR (indptr, indices, votes) from undirected edges."""
    a = np.concatenate([src, dst])
    b = np.concatenate([dst, src])
    v = np.concatenate([votes, votes])
    order = np.lexsort((b, a))
    indptr = np.zeros(n + 1, dtype=np.intp)
    np.cumsum(np.bincount(a, minlength=n), out=indptr[1:])
    return indptr, b[order].astype(np.intp), v[order]


def propagate_labels(model, *, cluster_noise=False):
    """Give noise points the labels of their neighbours.

    First, as fast_hdbscan's ``BranchDetector.propagated_labels``: in every
    cluster split into branches, the points between branches
    (``branch_labels_ == -1``) take a branch by a vote of their neighbours
    in the cluster's approximation graph (``cluster_approximation_graphs_``),
    each edge voting with one over its centrality (the larger centrality of
    its ends), repeated until no such point is left. The
    between-branches label then disappears and later labels shift down, as
    in :func:`update_labels_with_branch_centrality`. With
    ``cluster_noise=True``, points that are noise in the cluster pass then
    take a combined label by the same vote along the mutual-reachability
    spanning tree, each edge voting with one over its length (a density);
    their cluster and branch labels follow from that label.

    The vote runs in rounds outward from the labelled points (breadth
    first): in each round every unlabelled point next to a labelled one
    takes the label with the largest summed vote among neighbours labelled
    in earlier rounds, ties to the smaller label. fast_hdbscan instead
    updates points one by one in row order, so its result depends on the
    order of the rows; here it does not.

    Parameters
    ----------
    model : FLASC
        A fitted estimator. A model fitted with user-given ``labels`` has no
        spanning tree; with ``cluster_noise=True`` one is computed here.
    cluster_noise : bool, default=False
        Also propagate labels to the noise points of the cluster pass.

    Returns
    -------
    propagated : PropagatedLabels
        Named tuple ``(labels, cluster_labels, branch_labels)`` of shape
        (n_samples,), in the encoding of ``labels_``, ``cluster_labels_``
        and ``branch_labels_``. Points labelled in the model keep their
        labels (``labels`` only renumbered where a between-branches label
        disappears). Points without a graph path to a labelled point (and
        all points of a model without clusters) stay -1; rows with NaN or
        infinite values keep -3 / -2. Probabilities are not propagated.

    Examples
    --------
    >>> from flasc_cluster import FLASC
    >>> from flasc_cluster.datasets import make_branching_stars
    >>> from flasc_cluster.membership import propagate_labels
    >>> X, _ = make_branching_stars(n_samples=600, random_state=0)
    >>> model = FLASC(min_cluster_size=20).fit(X)
    >>> out = propagate_labels(model, cluster_noise=True)
    >>> int((out.labels == -1).sum())
    0
    >>> clustered = model.cluster_labels_ >= 0
    >>> bool((out.cluster_labels[clustered] == model.cluster_labels_[clustered]).all())
    True
    """
    if not isinstance(cluster_noise, (bool, np.bool_)):
        raise ValueError(f"cluster_noise must be a bool; got {cluster_noise!r}.")
    check_is_fitted(model, "labels_")
    result = model._result
    index = model._finite_index
    n = index.shape[0]
    cluster_labels = result.cluster_labels.copy()
    branch_labels = result.branches.branch_labels.copy()
    labels = np.full(n, -1, dtype=np.intp)
    label_cluster, label_branch = [], []
    running = 0
    for c, cluster in enumerate(result.branches.clusters):
        points = cluster.points
        b = branch_labels[points]
        if not (b != 0).any():  # not split: one label
            labels[points] = running
            label_cluster.append(c)
            label_branch.append(0)
            running += 1
            continue
        n_branches = int(b.max()) + 1
        if (b < 0).any():
            indptr, indices = local_graph_csr(result.space, cluster, float(model.alpha))
            src = np.repeat(np.arange(points.shape[0]), np.diff(indptr))
            with np.errstate(divide="ignore"):
                votes = 1.0 / np.maximum(cluster.centrality[src], cluster.centrality[indices])
            b = propagate_by_vote(indptr, indices, votes, b, n_branches)
            branch_labels[points] = b
        has_noise = int((b < 0).any())
        labels[points] = b + running + has_noise
        label_cluster.extend([c] * (n_branches + has_noise))
        label_branch.extend(([-1] if has_noise else []) + list(range(n_branches)))
        running += n_branches + has_noise
    if cluster_noise and running > 0 and (labels < 0).any():
        mst = result.cluster.min_spanning_tree
        if mst is None:
            mst = result.space.mst(result.cluster.core_distances, float(model.alpha))
        keep = np.isfinite(mst[:, 2])
        with np.errstate(divide="ignore"):
            votes = 1.0 / mst[keep, 2]
        graph = _graph_csr(
            mst[keep, 0].astype(np.intp), mst[keep, 1].astype(np.intp), votes, n
        )
        labels = propagate_by_vote(*graph, labels, running)
        reached = labels >= 0
        cluster_labels[reached] = np.asarray(label_cluster, dtype=np.intp)[labels[reached]]
        branch_labels[reached] = np.asarray(label_branch, dtype=np.intp)[labels[reached]]

    def full(values):
        out = model._special.copy()
        out[index] = values
        return out

    return PropagatedLabels(full(labels), full(cluster_labels), full(branch_labels))
