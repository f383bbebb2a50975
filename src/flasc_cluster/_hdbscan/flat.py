"""From a single-linkage tree to flat labels: the selection engine's driver.

Both FLASC passes call :func:`extract_flat_clustering`; the cluster pass on
the mutual-reachability hierarchy, the branch pass on each cluster's
centrality hierarchy.
"""

from typing import NamedTuple

import numpy as np

from .condense import CondensedTree
from .select import condensed_selection


class FlatClustering(NamedTuple):
    """Result of selecting flat clusters from a hierarchy.

    labels : intp (n,), -1 for noise; probabilities : float64 (n,);
    persistence : float64 (n_selected,); condensed_tree : CondensedTree;
    selected_ids : intp (n_selected,), the condensed-tree id of each label;
    unsimplified : the CondensedTree before the persistence simplification
    (its arrays are ``condensed_tree``'s without one), or None where not
    kept.
    """

    labels: np.ndarray
    probabilities: np.ndarray
    persistence: np.ndarray
    condensed_tree: CondensedTree
    selected_ids: np.ndarray
    unsimplified: object = None


def empty_condensed_tree():
    return CondensedTree(
        np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0), np.empty(0, np.intp)
    )


def point_sizes(point_weight, n_points):
    """Per-point sizes for the linkage and the condensed tree: intp ones
    (plain counts, hdbscan's integer ``child_size``) without sample weights,
    else the float64 weights."""
    if point_weight is None:
        return np.ones(n_points, dtype=np.intp)
    return np.ascontiguousarray(point_weight, dtype=np.float64)


def selection_options(
    *,
    min_cluster_size,
    selection_method="eom",
    allow_single_cluster=False,
    selection_epsilon=0.0,
    selection_persistence=0.0,
    max_cluster_size=0,
):
    """The selection arguments of :func:`~flasc_cluster._hdbscan.select.flat_selection`
    after ``linkage`` and ``point_size``, as a tuple of kernel types."""
    return (
        min_cluster_size, selection_method == "leaf", bool(allow_single_cluster),
        float(selection_epsilon), float(selection_persistence), int(max_cluster_size or 0),
    )


def extract_flat_clustering(
    linkage,
    *,
    min_cluster_size,
    selection_method="eom",
    allow_single_cluster=False,
    selection_epsilon=0.0,
    selection_persistence=0.0,
    max_cluster_size=0,
    point_weight=None,
    condensed=None,
):
    """Condense ``linkage`` (float64 (n-1, 4)) and select flat clusters.

    ``condensed``: None, or the ``unsimplified`` CondensedTree of an earlier
    selection from the same ``linkage`` with the same ``min_cluster_size``
    and ``point_weight``, which is then not condensed again.

    ``point_weight``: None, or float64 (n,) non-negative sample weights;
    cluster sizes are then weight sums (compared with ``min_cluster_size``
    and ``max_cluster_size``) and the stability is the weighted excess of
    mass. Probabilities do not depend on the weights.

    With ``allow_single_cluster`` and the root selected as the only
    cluster, every point joins it with probability 1 (FLASC's convention,
    hdbscan's ``update_single_cluster_labels``), except points that leave
    the root below density ``1 / selection_epsilon``.
    """
    n_points = linkage.shape[0] + 1
    if n_points < 2:
        labels = np.full(n_points, -1, dtype=np.intp)
        if allow_single_cluster and n_points == 1:
            labels[:] = 0
            return FlatClustering(
                labels, np.ones(1), np.ones(1), empty_condensed_tree(),
                np.array([n_points], dtype=np.intp),
            )
        return FlatClustering(
            labels, np.zeros(n_points), np.empty(0), empty_condensed_tree(),
            np.empty(0, np.intp),
        )
    sizes = point_sizes(point_weight, n_points)
    given = condensed
    if given is None:
        condensed = CondensedTree(
            np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0), sizes[:0]
        )
    (labels, probabilities, persistence, parent, child, lambda_val, child_size,
     selected_ids, *unsimplified) = condensed_selection(
        linkage, sizes, tuple(condensed), *selection_options(
            min_cluster_size=min_cluster_size, selection_method=selection_method,
            allow_single_cluster=allow_single_cluster, selection_epsilon=selection_epsilon,
            selection_persistence=selection_persistence, max_cluster_size=max_cluster_size,
        ),
    )
    tree = CondensedTree(parent, child, lambda_val, child_size)
    if given is not None:
        unsimplified = given
    elif selection_persistence <= 0.0:
        unsimplified = tree  # the same arrays: nothing was simplified
    else:
        unsimplified = CondensedTree(*unsimplified)
    return FlatClustering(labels, probabilities, persistence, tree, selected_ids, unsimplified)
