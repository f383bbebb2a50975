"""Read-only views of fitted hierarchies, in hdbscan-compatible formats."""

import numpy as np

CONDENSED_DTYPE = np.dtype(
    [("parent", np.intp), ("child", np.intp), ("lambda_val", np.float64), ("child_size", np.intp)]
)


def condensed_to_records(tree):
    """A :class:`CondensedTree` of arrays as hdbscan's record array."""
    out = np.empty(tree.parent.shape[0], dtype=CONDENSED_DTYPE)
    out["parent"] = tree.parent
    out["child"] = tree.child
    out["lambda_val"] = tree.lambda_val
    out["child_size"] = tree.child_size
    return out


class _ArrayView:
    """Base: wraps one array; ``to_numpy()`` copies it out."""

    _columns = ()

    def __init__(self, array):
        self._array = array

    def to_numpy(self):
        """The data as a numpy array (a copy)."""
        return self._array.copy()

    def to_pandas(self):
        """The data as a pandas DataFrame (requires pandas)."""
        import pandas as pd

        arr = self._array
        if arr.dtype.names:
            return pd.DataFrame({name: arr[name] for name in arr.dtype.names})
        return pd.DataFrame(arr, columns=list(self._columns))

    def __len__(self):
        return self._array.shape[0]

    def __repr__(self):
        return f"{type(self).__name__}({self._array.shape[0]} rows)"


class CondensedTree(_ArrayView):
    """A condensed tree: records ``(parent, child, lambda_val, child_size)``.

    Points are ids ``0..n-1``, clusters ids ``n`` (the root) and up, parents
    before children. ``lambda_val`` is the density (1 / distance) at which
    the child leaves the parent. ``selected_ids`` holds the cluster ids that
    became the labels ``0, 1, ...`` of this pass.
    """

    def __init__(self, records, selected_ids):
        super().__init__(records)
        self.selected_ids = np.asarray(selected_ids).copy()


class SingleLinkageTree(_ArrayView):
    """A scipy linkage matrix ``(left, right, distance, size)``."""

    _columns = ("left_child", "right_child", "distance", "size")


class MinimumSpanningTree(_ArrayView):
    """Spanning-tree edges ``(i, j, weight)``, sorted by weight."""

    _columns = ("from", "to", "distance")


class ApproximationGraph(_ArrayView):
    """A cluster's graph edges ``(i, j, centrality, mutual_reachability)``.

    Point ids are row indices into the fitted data; ``centrality`` is the
    edge weight of the branch pass (the larger centrality of both ends).
    """

    _columns = ("from", "to", "centrality", "mutual_reachability")
