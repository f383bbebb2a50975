"""Read-only views of fitted hierarchies, in hdbscan-compatible formats.

Python module. The views copy their arrays out (``to_numpy``,
``to_pandas``), convert to networkx graphs (``to_networkx``) and draw
themselves (``plot``); matplotlib and networkx are imported only when a
method needs them. Layouts are computed with array operations and explicit
stacks, never recursion, so trees of any depth and 10^5+ points plot in
about a second.
"""

from typing import NamedTuple

import numpy as np

CONDENSED_DTYPE = np.dtype(
    [("parent", np.intp), ("child", np.intp), ("lambda_val", np.float64), ("child_size", np.intp)]
)


#: the record dtype of a tree fitted with sample weights (sizes are weight sums)
WEIGHTED_CONDENSED_DTYPE = np.dtype(
    [("parent", np.intp), ("child", np.intp), ("lambda_val", np.float64), ("child_size", np.float64)]
)


def condensed_to_records(tree):
    """A :class:`CondensedTree` of arrays as hdbscan's record array
    (``child_size`` float64 when the tree holds weight sums)."""
    weighted = tree.child_size.dtype.kind == "f"
    out = np.empty(
        tree.parent.shape[0], dtype=WEIGHTED_CONDENSED_DTYPE if weighted else CONDENSED_DTYPE
    )
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


#: Dendrograms with more leaves or levels than this are drawn truncated
#: (scipy's "lastp"): scipy's dendrogram recurses once per tree level.
DENDROGRAM_MAX_LEAVES = 256
#: Shown leaves above which dendrogram leaf labels are left out.
_DENDROGRAM_MAX_LABELS = 50


def _cap_infinite(values):
    """``values`` as float64 with +inf replaced by the largest finite value.

    Duplicated points leave their clusters at infinite density (lambda) or
    merge at infinite distance (disconnected precomputed data); capping keeps
    them on the plot, at the edge. With no finite value the cap is 1.
    """
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    if finite.all():
        return values
    cap = values[finite].max() if finite.any() else 1.0
    return np.where(finite, values, cap)


class IcicleLayout(NamedTuple):
    """Geometry of a condensed-tree icicle plot (see ``CondensedTree.plot``).

    Bars are rectangles centred on ``bar_x`` of width ``bar_width`` (the
    number of points ``bar_size``, or its log) from ``bar_bottom`` to
    ``bar_top`` (lambda). Lines are the horizontal links from
    a parent to its children. ``cluster_bounds[c - root]`` holds
    ``(left, right, bottom, top)`` of cluster id ``c``.
    """

    bar_x: np.ndarray
    bar_width: np.ndarray
    bar_bottom: np.ndarray
    bar_top: np.ndarray
    bar_size: np.ndarray
    line_x: np.ndarray  # (n_lines, 2)
    line_y: np.ndarray  # (n_lines, 2)
    cluster_bounds: np.ndarray  # (n_clusters, 4)
    root: int


def _leaf_positions(n_clusters, cl_parent, cl_child, leaf_separation):
    """x of every cluster: leaves in depth-first order, parents at the mean
    of their children. Cluster ids are relative to the root (0); parents
    come before children. Explicit stack, no recursion."""
    order = np.lexsort((cl_child, cl_parent))
    kids = cl_child[order].tolist()
    indptr = np.zeros(n_clusters + 1, dtype=np.intp)
    np.cumsum(np.bincount(cl_parent, minlength=n_clusters), out=indptr[1:])
    indptr = indptr.tolist()
    x = np.zeros(n_clusters)
    rank = 0
    stack = [0]
    while stack:
        c = stack.pop()
        a, b = indptr[c], indptr[c + 1]
        if a == b:
            x[c] = rank * leaf_separation
            rank += 1
        else:
            stack.extend(reversed(kids[a:b]))
    kid_array = np.asarray(kids, dtype=np.intp)
    for c in range(n_clusters - 1, -1, -1):  # children have larger ids
        a, b = indptr[c], indptr[c + 1]
        if a < b:
            x[c] = x[kid_array[a:b]].mean()
    return x


def icicle_layout(records, *, leaf_separation=1.0, log_size=False, max_rectangles_per_icicle=20):
    """Compute an :class:`IcicleLayout` from condensed-tree records.

    Vectorised over the rows (one sort); only the per-cluster layout loops
    in Python. Infinite lambdas are capped (see ``_cap_infinite``).
    """
    parent = records["parent"].astype(np.intp)
    child = records["child"].astype(np.intp)
    lam = _cap_infinite(records["lambda_val"])
    size = records["child_size"].astype(np.float64)
    root = int(parent.min())
    is_cluster = child >= root
    last = int(max(parent.max(), child[is_cluster].max() if is_cluster.any() else root))
    n_clusters = last - root + 1
    cl_parent = parent[is_cluster] - root
    cl_child = child[is_cluster] - root

    birth_lambda = np.zeros(n_clusters)
    birth_lambda[cl_child] = lam[is_cluster]
    birth_size = np.zeros(n_clusters)
    birth_size[0] = size[parent == root].sum()
    birth_size[cl_child] = size[is_cluster]
    width_of = (lambda v: np.log(np.maximum(v, 1.0))) if log_size else (lambda v: v)
    scaling = max(float(width_of(birth_size[0])), 1.0)
    x = _leaf_positions(n_clusters, cl_parent, cl_child, float(leaf_separation)) * scaling

    # rows grouped by cluster, by increasing lambda: the icicle of a cluster
    # narrows by child_size at each row's lambda
    order = np.lexsort((lam, parent))
    p = parent[order] - root
    lam_s = lam[order]
    size_s = size[order]
    first = np.ones(p.shape[0], dtype=bool)
    first[1:] = p[1:] != p[:-1]
    starts = np.flatnonzero(first)
    before = np.cumsum(size_s) - size_s
    removed = before - np.repeat(before[starts], np.diff(np.append(starts, p.shape[0])))
    remaining = birth_size[p] - removed
    bottom = np.empty_like(lam_s)
    bottom[0:1] = 0.0
    bottom[1:] = lam_s[:-1]
    bottom[first] = birth_lambda[p[first]]
    # at most max_rectangles_per_icicle bars per cluster: merge rows until
    # another 1/max_rectangles of the cluster's points has left
    bucket = np.floor(max_rectangles_per_icicle * removed / np.maximum(birth_size[p], 1.0))
    new_bar = first.copy()
    new_bar[1:] |= bucket[1:] != bucket[:-1]
    bar_start = np.flatnonzero(new_bar)
    bar_end = np.append(bar_start[1:], p.shape[0]) - 1
    bar_cluster = p[bar_start]
    bar_bottom = bottom[bar_start]
    bar_top = lam_s[bar_end]
    bar_size = remaining[bar_start]
    keep = bar_top > bar_bottom
    bar_cluster, bar_bottom, bar_top, bar_size = (
        bar_cluster[keep], bar_bottom[keep], bar_top[keep], bar_size[keep]
    )

    top = birth_lambda.copy()
    group_end = np.append(starts[1:], p.shape[0]) - 1
    top[p[group_end]] = lam_s[group_end]  # rows sorted by lambda: last is largest
    half = width_of(birth_size) / 2.0
    bounds = np.column_stack([x - half, x + half, birth_lambda, top])

    sign = np.sign(x[cl_child] - x[cl_parent])
    line_x = np.column_stack([x[cl_parent], x[cl_child] + sign * half[cl_child]])
    line_y = np.column_stack([birth_lambda[cl_child], birth_lambda[cl_child]])
    return IcicleLayout(
        x[bar_cluster], width_of(bar_size), bar_bottom, bar_top, bar_size, line_x, line_y,
        bounds, root,
    )


def _empty_plot(axis, message):
    axis.text(0.5, 0.5, message, ha="center", va="center", transform=axis.transAxes)
    axis.set_xticks([])
    axis.set_yticks([])
    return axis


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

    def icicle_layout(self, leaf_separation=1.0, log_size=False, max_rectangles_per_icicle=20):
        """The geometry :meth:`plot` draws, as an :class:`IcicleLayout`.

        Returns ``None`` for an empty tree.
        """
        if self._array.shape[0] == 0:
            return None
        return icicle_layout(
            self._array, leaf_separation=leaf_separation, log_size=log_size,
            max_rectangles_per_icicle=max_rectangles_per_icicle,
        )

    def plot(self, select_clusters=False, label_clusters=False, selection_palette=None,
             cmap="viridis", colorbar=True, log_size=False, axis=None, *,
             leaf_separation=1.0, max_rectangles_per_icicle=20):
        """Draw the condensed tree as an icicle plot (requires matplotlib).

        Each cluster is a bar whose width is the number of points still in
        it (``log_size``: its log) as lambda (density, downwards) grows;
        bars narrow as points leave and end where the cluster splits or
        empties. As in ``hdbscan.plots.CondensedTree.plot``.

        Parameters
        ----------
        select_clusters : bool, default=False
            Circle the selected clusters; the ellipse of label ``i`` has the
            colour :func:`~flasc_cluster.plots.plot_labels` gives label ``i``.
        label_clusters : bool, default=False
            Write each selected cluster's label next to its ellipse.
        selection_palette : sequence of colors or str, default=None
            Colours of the labels, see
            :func:`~flasc_cluster.plots.label_palette` (cycled when short).
        cmap : str or Colormap, default="viridis"
            Colormap of the bars by size; ``"none"`` draws black bars.
        colorbar : bool, default=True
            Draw a colorbar of the bar sizes (not with ``cmap="none"``).
        log_size : bool, default=False
            Bar widths (and colours) by the log of the number of points.
        axis : matplotlib Axes, default=None
            The axis to draw on; ``None`` uses the current axis.
        leaf_separation : float, default=1.0
            Distance between leaves, in units of the root's width.
        max_rectangles_per_icicle : int, default=20
            At most this many bars per cluster (a bar merges the steps until
            another 1/20 of the cluster's points has left).

        Returns
        -------
        axis : matplotlib Axes

        Notes
        -----
        Infinite lambdas (clusters of duplicated points) are drawn at the
        largest finite lambda. Layout and drawing are vectorised: a tree of
        10^5 points draws in well under a second.
        """
        from .plots import (
            _colormap,
            _draw_rectangles,
            _draw_segments,
            _require_matplotlib,
            label_palette,
        )

        plt = _require_matplotlib("CondensedTree.plot")
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize, to_rgba
        from matplotlib.patches import Ellipse

        if axis is None:
            axis = plt.gca()
        layout = self.icicle_layout(leaf_separation, log_size, max_rectangles_per_icicle)
        if layout is None:
            return _empty_plot(axis, "empty condensed tree")

        left = layout.bar_x - layout.bar_width / 2.0
        right = layout.bar_x + layout.bar_width / 2.0
        use_cmap = not (isinstance(cmap, str) and cmap == "none")
        if use_cmap:
            colormap = _colormap(cmap)
            norm = Normalize(0.0, max(float(layout.bar_width.max(initial=0.0)), 1.0))
            bar_colors = colormap(norm(layout.bar_width))
        else:
            bar_colors = np.asarray(to_rgba("black"))
        _draw_rectangles(axis, left, right, layout.bar_bottom, layout.bar_top, bar_colors)
        lines = np.stack([layout.line_x, layout.line_y], axis=2)
        _draw_segments(axis, lines, np.asarray(to_rgba("black")), 1.0, zorder=2)

        bounds = layout.cluster_bounds
        x_low = float(min(bounds[:, 0].min(), left.min(initial=np.inf)))
        x_high = float(max(bounds[:, 1].max(), right.max(initial=-np.inf)))
        y_low = float(bounds[:, 2].min())
        y_high = float(bounds[:, 3].max())
        y_span = y_high - y_low if y_high > y_low else 1.0
        if select_clusters and self.selected_ids.size:
            colors = label_palette(self.selected_ids.shape[0], selection_palette)
            for i, cluster in enumerate(self.selected_ids):
                c_left, c_right, c_bottom, c_top = bounds[int(cluster) - layout.root]
                width = c_right - c_left
                height = max(c_top - c_bottom, 0.05 * y_span)
                center = ((c_left + c_right) / 2.0, (c_bottom + c_top) / 2.0)
                ellipse = Ellipse(
                    center, 2.0 * width, 1.2 * height, facecolor="none",
                    edgecolor=colors[i], linewidth=2,
                )
                ellipse.set_gid(f"selected cluster {i}")
                axis.add_patch(ellipse)
                x_low, x_high = min(x_low, center[0] - width), max(x_high, center[0] + width)
                y_low = min(y_low, center[1] - 0.6 * height)
                y_high = max(y_high, center[1] + 0.6 * height)
                if label_clusters:
                    axis.annotate(
                        str(i), xy=center, xytext=(center[0] - width, center[1] - 0.65 * height),
                        horizontalalignment="right", verticalalignment="bottom",
                        color=colors[i],
                    )

        if colorbar and use_cmap:
            cb = axis.figure.colorbar(ScalarMappable(norm, colormap), ax=axis)
            cb.ax.set_ylabel("log(Number of points)" if log_size else "Number of points")

        x_pad = 0.05 * (x_high - x_low if x_high > x_low else 1.0)
        axis.set_xlim(x_low - x_pad, x_high + x_pad)
        y_pad = 0.05 * (y_high - y_low if y_high > y_low else 1.0)
        axis.set_ylim(y_high + y_pad, y_low - y_pad)  # lambda grows downwards
        axis.set_xticks([])
        for side in ("right", "top", "bottom"):
            axis.spines[side].set_visible(False)
        axis.set_ylabel("$\\lambda$ value")
        return axis

    def to_networkx(self):
        """A networkx ``DiGraph`` of the tree (requires networkx).

        Edges point from parent to child with ``weight`` = ``lambda_val``;
        nodes carry ``size`` (``child_size``; the root: all its points).
        """
        from .plots import _require_networkx

        nx = _require_networkx("CondensedTree.to_networkx")
        arr = self._array
        graph = nx.DiGraph()
        if arr.shape[0] == 0:
            return graph
        parent = arr["parent"].tolist()
        child = arr["child"].tolist()
        graph.add_weighted_edges_from(zip(parent, child, arr["lambda_val"].tolist()))
        sizes = dict(zip(child, arr["child_size"].tolist()))
        root = int(arr["parent"].min())
        sizes[root] = arr["child_size"][arr["parent"] == root].sum().item()
        nx.set_node_attributes(graph, sizes, "size")
        return graph


def _linkage_depth(linkage):
    """Number of levels of a linkage tree (iterative, children before parents)."""
    n = linkage.shape[0] + 1
    depth = [0] * (2 * n - 1)
    for i, (a, b) in enumerate(zip(linkage[:, 0].astype(np.intp).tolist(),
                                   linkage[:, 1].astype(np.intp).tolist())):
        depth[n + i] = 1 + max(depth[a], depth[b])
    return depth[-1]


class SingleLinkageTree(_ArrayView):
    """A scipy linkage matrix ``(left, right, distance, size)``."""

    _columns = ("left_child", "right_child", "distance", "size")

    def plot(self, axis=None, truncate_mode=None, p=0, *, color_threshold=None,
             above_threshold_color="k", no_labels=None):
        """Draw the dendrogram with :func:`scipy.cluster.hierarchy.dendrogram`.

        Requires matplotlib.

        Parameters
        ----------
        axis : matplotlib Axes, default=None
            The axis to draw on; ``None`` uses the current axis.
        truncate_mode : {None, "none", "lastp", "level"}, default=None
            scipy's truncation. ``None`` draws the whole tree when it has at
            most :data:`DENDROGRAM_MAX_LEAVES` leaves and levels, and the
            last ``DENDROGRAM_MAX_LEAVES`` merges (``"lastp"``) otherwise;
            ``"none"`` never truncates (scipy then recurses once per level
            and deep trees fail).
        p : int, default=0
            scipy's ``p`` for ``"lastp"`` and ``"level"``.
        color_threshold : float, default=None
            scipy's link colouring threshold (``None``: 0.7 of the largest
            distance).
        above_threshold_color : color, default="k"
        no_labels : bool, default=None
            Hide leaf labels; ``None`` hides them above 50 shown leaves.

        Returns
        -------
        axis : matplotlib Axes
        """
        from scipy.cluster.hierarchy import dendrogram

        from .plots import _require_matplotlib

        plt = _require_matplotlib("SingleLinkageTree.plot")
        if axis is None:
            axis = plt.gca()
        linkage = np.array(self._array, dtype=np.float64)
        if linkage.shape[0] == 0:
            return _empty_plot(axis, "empty single linkage tree")
        linkage[:, 2] = _cap_infinite(linkage[:, 2])
        n_leaves = linkage.shape[0] + 1
        if truncate_mode is None:
            too_big = (
                n_leaves > DENDROGRAM_MAX_LEAVES
                or _linkage_depth(linkage) > DENDROGRAM_MAX_LEAVES
            )
            truncate_mode, p = ("lastp", DENDROGRAM_MAX_LEAVES) if too_big else ("none", 0)
        if truncate_mode == "lastp":
            shown = n_leaves if p <= 0 else min(p, n_leaves)
        elif truncate_mode in ("level", "mtica"):
            shown = min(2 ** min(max(p, 0), 30), n_leaves)
        else:
            shown = n_leaves
        if no_labels is None:
            no_labels = shown > _DENDROGRAM_MAX_LABELS
        try:
            dendrogram(
                linkage, p=p, truncate_mode=truncate_mode, ax=axis,
                color_threshold=color_threshold, above_threshold_color=above_threshold_color,
                no_labels=no_labels,
            )
        except RecursionError:
            raise ValueError(
                "The tree is too deep for scipy's dendrogram; use truncate_mode='lastp' "
                f"with p <= {DENDROGRAM_MAX_LEAVES} (or truncate_mode=None)."
            ) from None
        for side in ("right", "top", "bottom"):
            axis.spines[side].set_visible(False)
        axis.set_ylabel("distance")
        return axis

    def to_networkx(self):
        """A networkx ``DiGraph`` of the tree (requires networkx).

        Points are nodes ``0..n-1``, merge ``i`` is node ``n + i`` with
        edges to its two children weighted by the merge distance; every
        node carries ``size``.
        """
        from .plots import _require_networkx

        nx = _require_networkx("SingleLinkageTree.to_networkx")
        linkage = self._array
        graph = nx.DiGraph()
        if linkage.shape[0] == 0:
            return graph
        n = linkage.shape[0] + 1
        graph.add_nodes_from(range(n), size=1)
        parents = range(n, 2 * n - 1)
        left = linkage[:, 0].astype(np.intp).tolist()
        right = linkage[:, 1].astype(np.intp).tolist()
        dist = linkage[:, 2].tolist()
        graph.add_nodes_from(
            (node, {"size": int(s)}) for node, s in zip(parents, linkage[:, 3].tolist())
        )
        graph.add_edges_from((u, v, {"weight": w}) for u, v, w in zip(parents, left, dist))
        graph.add_edges_from((u, v, {"weight": w}) for u, v, w in zip(parents, right, dist))
        return graph


def _plot_points(data, ids, name):
    """First two columns of ``data`` for row ids ``ids`` (checks the size)."""
    from .plots import _plane

    xy = _plane(data)
    if ids.size and int(ids.max()) >= xy.shape[0]:
        raise ValueError(
            f"{name} refers to row {int(ids.max())} but data has {xy.shape[0]} rows; "
            f"pass the data the model was fitted on."
        )
    return xy


class MinimumSpanningTree(_ArrayView):
    """Spanning-tree edges ``(i, j, weight)``, sorted by weight."""

    _columns = ("from", "to", "distance")

    def plot(self, data=None, axis=None, *, node_size=None, node_color="k", node_alpha=0.8,
             edge_cmap="viridis_r", edge_alpha=0.5, edge_linewidth=2.0, vary_line_width=True,
             colorbar=True):
        """Draw the tree's edges over the first two columns of ``data``.

        Requires matplotlib.

        Parameters
        ----------
        data : array-like of shape (n_points, n_features), default=None
            The rows the tree was built on: ``X[model.finite_index_]`` (just
            ``X`` when every row is finite). With one column the points lie
            on y = 0. ``None`` draws the sorted edge weights instead (the
            merge heights of single linkage), for data without coordinates.
        axis : matplotlib Axes, default=None
            The axis to draw on; ``None`` uses the current axis.
        node_size : float, default=None
            Marker area of the points; ``None`` picks one from their number.
        node_color : color, default="k"
        node_alpha : float, default=0.8
        edge_cmap : str or Colormap, default="viridis_r"
            Edges are coloured by mutual reachability distance.
        edge_alpha : float, default=0.5
        edge_linewidth : float, default=2.0
        vary_line_width : bool, default=True
            Shorter (denser) edges are drawn thicker: width grows with the
            log of largest weight / weight, up to 4 times
            ``edge_linewidth``.
        colorbar : bool, default=True

        Returns
        -------
        axis : matplotlib Axes
        """
        from .plots import _colormap, _default_marker_size, _draw_segments, _require_matplotlib

        plt = _require_matplotlib("MinimumSpanningTree.plot")
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        if axis is None:
            axis = plt.gca()
        edges = self._array
        weights = _cap_infinite(edges[:, 2])
        if data is None:
            axis.plot(np.arange(weights.shape[0]), np.sort(weights), color=node_color)
            axis.set_xlabel("spanning-tree edge (by weight)")
            axis.set_ylabel("mutual reachability distance")
            return axis
        ids = edges[:, :2].astype(np.intp)
        xy = _plot_points(data, ids, "The spanning tree")
        if vary_line_width and weights.size:
            positive = weights[weights > 0]
            floor = positive.min() if positive.size else 1.0
            ratio = np.maximum(weights.max(), floor) / np.maximum(weights, floor)
            # a few widths keep the number of drawn paths small
            level = np.round(np.clip(np.log(ratio) + 1.0, 1.0, 4.0) * 2.0) / 2.0
            linewidth = edge_linewidth * level
        else:
            linewidth = edge_linewidth
        colormap = _colormap(edge_cmap)
        low, high = (weights.min(), weights.max()) if weights.size else (0.0, 1.0)
        norm = Normalize(float(low), float(high) if high > low else float(low) + 1.0)
        _draw_segments(axis, xy[ids], colormap(norm(weights)), linewidth, alpha=edge_alpha)
        if node_size is None:
            node_size = _default_marker_size(xy.shape[0])
        axis.scatter(xy[:, 0], xy[:, 1], c=node_color, alpha=node_alpha, s=node_size,
                     linewidths=0)
        axis.set_xticks([])
        axis.set_yticks([])
        if colorbar and weights.size:
            cb = axis.figure.colorbar(ScalarMappable(norm, colormap), ax=axis)
            cb.ax.set_ylabel("Mutual reachability distance")
        return axis

    def to_networkx(self):
        """A networkx ``Graph`` of the tree (requires networkx).

        Nodes are point ids ``0..n-1``; edges carry ``weight``.
        """
        from .plots import _require_networkx

        nx = _require_networkx("MinimumSpanningTree.to_networkx")
        edges = self._array
        graph = nx.Graph()
        if edges.shape[0] == 0:
            return graph
        graph.add_nodes_from(range(edges.shape[0] + 1))
        graph.add_edges_from(
            (u, v, {"weight": w})
            for u, v, w in zip(edges[:, 0].astype(np.intp).tolist(),
                               edges[:, 1].astype(np.intp).tolist(), edges[:, 2].tolist())
        )
        return graph


def _robust_norm(values, vmin, vmax):
    """A matplotlib Normalize over the 2nd..98th percentile of ``values``."""
    from matplotlib.colors import Normalize

    finite = values[np.isfinite(values)]
    low, high = np.percentile(finite, [2.0, 98.0]) if finite.size else (0.0, 1.0)
    low = float(low) if vmin is None else float(vmin)
    high = float(high) if vmax is None else float(vmax)
    if high <= low:
        high = low + 1.0
    return Normalize(low, high)


class ApproximationGraph(_ArrayView):
    """A cluster's graph edges ``(i, j, centrality, mutual_reachability)``.

    Point ids are row indices into the fitted data; ``centrality`` is the
    edge weight of the branch pass (the larger centrality of both ends).
    """

    _columns = ("from", "to", "centrality", "mutual_reachability")

    def plot(self, data, color="centrality", labels=None, axis=None, *, cmap="viridis",
             vmin=None, vmax=None, palette=None, noise_color="lightgrey", node_size=None,
             node_color="k", edge_linewidth=0.5, edge_alpha=0.5, colorbar=True):
        """Draw the graph's edges over the first two columns of ``data``.

        Requires matplotlib.

        Parameters
        ----------
        data : array-like of shape (n_samples, n_features)
            The data the model was fitted on (ids are its rows).
        color : {"centrality", "branch"} or array-like of shape (n_samples,), \
                default="centrality"
            ``"centrality"`` colours edges by their centrality (``cmap``);
            ``"branch"`` colours points by ``labels`` and edges within one
            label by that label's colour (others ``noise_color``), with the
            colours of :func:`~flasc_cluster.plots.plot_labels`; an array
            gives a value per row: points are coloured by it and edges by
            the larger value of their ends (so ``cluster_centralities_``
            reproduces the edge centralities).
        labels : array-like of shape (n_samples,), default=None
            Per-row labels for ``color="branch"``, e.g. ``labels_`` or
            ``branch_labels_``.
        axis : matplotlib Axes, default=None
            The axis to draw on; ``None`` uses the current axis.
        cmap : str or Colormap, default="viridis"
            For ``"centrality"`` and arrays.
        vmin, vmax : float, default=None
            Colour range for ``"centrality"`` and arrays; ``None`` uses the
            2nd and 98th percentiles (centrality, one over the distance to
            the centroid, has a long tail near the centroid).
        palette : sequence of colors or str, default=None
            Label colours for ``"branch"`` (see ``label_palette``).
        noise_color : color, default="lightgrey"
        node_size : float, default=None
            Marker area; ``None`` picks one from the number of points.
        node_color : color, default="k"
            Point colour for ``"centrality"``.
        edge_linewidth : float, default=0.5
        edge_alpha : float, default=0.5
        colorbar : bool, default=True
            For ``"centrality"`` and arrays.

        Returns
        -------
        axis : matplotlib Axes
        """
        from .plots import (
            _colormap,
            _default_marker_size,
            _draw_segments,
            _require_matplotlib,
            point_colors,
        )

        plt = _require_matplotlib("ApproximationGraph.plot")
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import to_rgba

        if axis is None:
            axis = plt.gca()
        edges = self._array
        ids = edges[:, :2].astype(np.intp)
        xy = _plot_points(data, ids, "The approximation graph")
        nodes = np.unique(ids)
        if node_size is None:
            node_size = _default_marker_size(nodes.shape[0])
        mappable = None
        if isinstance(color, str) and color == "centrality":
            edge_values = _cap_infinite(edges[:, 2])
            colormap = _colormap(cmap)
            norm = _robust_norm(edge_values, vmin, vmax)
            edge_colors = colormap(norm(edge_values))
            node_colors = node_color
            mappable, colorbar_label = ScalarMappable(norm, colormap), "Centrality"
        elif isinstance(color, str) and color == "branch":
            if labels is None:
                raise ValueError("color='branch' needs labels (e.g. model.branch_labels_).")
            labels = np.asarray(labels).astype(np.intp)
            if labels.shape != (xy.shape[0],):
                raise ValueError(
                    f"labels must have shape ({xy.shape[0]},) to match data; got {labels.shape}."
                )
            colors, _ = point_colors(
                labels, palette=palette, noise_color=noise_color, special_color=noise_color
            )
            same = labels[ids[:, 0]] == labels[ids[:, 1]]
            edge_colors = np.tile(to_rgba(noise_color), (ids.shape[0], 1))
            edge_colors[same] = colors[ids[same, 0]]
            node_colors = colors[nodes]
        elif isinstance(color, str):
            raise ValueError(
                f"color must be 'centrality', 'branch' or an array of shape "
                f"({xy.shape[0]},); got {color!r}."
            )
        else:
            values = np.asarray(color, dtype=np.float64)
            if values.shape != (xy.shape[0],):
                raise ValueError(
                    f"color must be 'centrality', 'branch' or an array of shape "
                    f"({xy.shape[0]},); got an array of shape {values.shape}."
                )
            values = _cap_infinite(values)
            colormap = _colormap(cmap)
            norm = _robust_norm(values[nodes], vmin, vmax)
            edge_colors = colormap(norm(np.maximum(values[ids[:, 0]], values[ids[:, 1]])))
            node_colors = colormap(norm(values[nodes]))
            mappable, colorbar_label = ScalarMappable(norm, colormap), "Value"
        _draw_segments(axis, xy[ids], edge_colors, edge_linewidth, alpha=edge_alpha)
        axis.scatter(xy[nodes, 0], xy[nodes, 1], c=node_colors, s=node_size, linewidths=0,
                     zorder=2)
        axis.set_xticks([])
        axis.set_yticks([])
        if colorbar and mappable is not None and edges.shape[0]:
            cb = axis.figure.colorbar(mappable, ax=axis)
            cb.ax.set_ylabel(colorbar_label)
        return axis

    def to_networkx(self):
        """A networkx ``Graph`` of the cluster (requires networkx).

        Nodes are data rows; edges carry ``centrality`` and
        ``mutual_reachability``.
        """
        from .plots import _require_networkx

        nx = _require_networkx("ApproximationGraph.to_networkx")
        edges = self._array
        graph = nx.Graph()
        graph.add_edges_from(
            (u, v, {"centrality": c, "mutual_reachability": r})
            for u, v, c, r in zip(edges[:, 0].astype(np.intp).tolist(),
                                  edges[:, 1].astype(np.intp).tolist(),
                                  edges[:, 2].tolist(), edges[:, 3].tolist())
        )
        return graph
