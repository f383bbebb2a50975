"""Plots of FLASC results; matplotlib is an optional dependency.

Python module. Nothing here imports matplotlib at import time: each plotting
function imports it when called and raises an :class:`ImportError` that
names the fix (``pip install matplotlib``) when it is missing.

Colours are keyed by label: label ``i`` gets ``label_palette(n)[i]``
whatever ``n`` is, so :func:`plot_labels` and the selected clusters of
:meth:`CondensedTree.plot <flasc_cluster.CondensedTree.plot>` show the same
colour for the same label.
"""

import colorsys

import numpy as np

__all__ = ["label_palette", "plot_labels"]

#: Colours of labels 0..8: matplotlib's "tab10" without its grey, which
#: would read as noise.
BASE_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#bcbd22", "#17becf",
)
#: Hue step of the generated colours beyond the base palette.
_GOLDEN_RATIO = 0.618033988749895
#: Colours taken from a continuous colormap given as a palette.
N_CMAP_COLORS = 12
#: Alpha of the faintest clustered point when probabilities are shown.
MIN_ALPHA = 0.15


def _require_matplotlib(what):
    """Import pyplot or raise an ImportError naming the fix."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError(f"{what} requires matplotlib: pip install matplotlib") from err
    return plt


def _require_networkx(what):
    """Import networkx or raise an ImportError naming the fix."""
    try:
        import networkx
    except ImportError as err:
        raise ImportError(f"{what} requires networkx: pip install networkx") from err
    return networkx


def _colormap(cmap):
    """A Colormap from a name or a Colormap (``colormaps.get_cmap`` is 3.6+)."""
    import matplotlib as mpl
    from matplotlib.colors import Colormap

    return cmap if isinstance(cmap, Colormap) else mpl.colormaps[cmap]


def _hex_to_rgba(code):
    code = code.lstrip("#")
    return tuple(int(code[k:k + 2], 16) / 255.0 for k in (0, 2, 4)) + (1.0,)


def _generated_color(i):
    """Colour of label ``i`` beyond the base palette (golden-ratio hues)."""
    k = i - len(BASE_PALETTE)
    hue = (0.07 + k * _GOLDEN_RATIO) % 1.0
    saturation = (0.85, 0.6, 0.95)[k % 3]
    value = (0.8, 0.95, 0.6)[(k // 3) % 3]
    return colorsys.hsv_to_rgb(hue, saturation, value) + (1.0,)


def label_palette(n_labels, palette=None):
    """RGBA colours of the labels 0 to ``n_labels - 1``.

    Parameters
    ----------
    n_labels : int
        Number of colours.
    palette : sequence of colors or str, default=None
        ``None`` uses :data:`BASE_PALETTE` then generated hues, so label
        ``i`` has the same colour for every ``n_labels``. A sequence of
        matplotlib colours is cycled; a string names a matplotlib colormap
        (a listed one such as ``"tab20"`` is cycled; a continuous one gives
        :data:`N_CMAP_COLORS` evenly spaced colours, cycled). Both need
        matplotlib. Label ``i`` always gets the same colour, whatever
        ``n_labels`` is.

    Returns
    -------
    colors : ndarray of shape (n_labels, 4)
        RGBA values in [0, 1].
    """
    n_labels = int(n_labels)
    if n_labels <= 0:
        return np.empty((0, 4))
    if palette is None:
        return np.array([
            _hex_to_rgba(BASE_PALETTE[i]) if i < len(BASE_PALETTE) else _generated_color(i)
            for i in range(n_labels)
        ])
    _require_matplotlib("label_palette with a palette")
    from matplotlib.colors import ListedColormap, to_rgba_array

    if isinstance(palette, str):
        cmap = _colormap(palette)
        # qualitative maps ("tab20", "Set1") are short lists; viridis & co.
        # are 256-colour lists that would give near-identical neighbours
        if isinstance(cmap, ListedColormap) and len(cmap.colors) <= 64:
            base = to_rgba_array(cmap.colors)
        else:
            base = cmap(np.linspace(0.0, 1.0, N_CMAP_COLORS))
    else:
        base = to_rgba_array(list(palette))
    if base.shape[0] == 0:
        raise ValueError("palette must hold at least one colour.")
    return base[np.arange(n_labels) % base.shape[0]]


def _plane(X):
    """The first two columns of ``X`` as float64 (a 1-column X gets y = 0)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] == 0:
        raise ValueError(f"X must be a 2-D array with at least one column; got shape {X.shape}.")
    if X.shape[1] == 1:
        return np.column_stack([X[:, 0], np.zeros(X.shape[0])])
    return X[:, :2]


def _default_marker_size(n_points):
    """Scatter marker area that keeps 10 to 10^6 points readable."""
    return float(np.clip(4000.0 / max(n_points, 1), 1.0, 30.0))


def point_colors(labels, probabilities=None, *, palette=None, noise_color="lightgrey",
                 special_color=None, min_alpha=MIN_ALPHA):
    """RGBA colour of each point, and a mask of the points to draw.

    Labels ``>= 0`` get :func:`label_palette` colours, -1 ``noise_color``;
    labels below -1 (rows with infinite or missing values) get
    ``special_color``, or are not drawn when it is ``None``. Probabilities
    of labelled points become alpha, at least ``min_alpha``.
    """
    labels = np.asarray(labels)
    n_labels = int(labels.max()) + 1 if labels.size else 0
    colors = np.zeros((labels.shape[0], 4))
    clustered = labels >= 0
    colors[clustered] = label_palette(n_labels, palette)[labels[clustered]]
    drawn = labels >= -1
    if labels.size:
        from matplotlib.colors import to_rgba

        colors[labels == -1] = to_rgba(noise_color)
        if special_color is not None:
            colors[labels < -1] = to_rgba(special_color)
            drawn[:] = True
    if probabilities is not None:
        probabilities = np.asarray(probabilities, dtype=np.float64)
        if probabilities.shape != labels.shape:
            raise ValueError(
                f"probabilities has shape {probabilities.shape}; labels has {labels.shape}."
            )
        alpha = np.clip(np.nan_to_num(probabilities, nan=0.0), min_alpha, 1.0)
        colors[clustered, 3] = alpha[clustered]
    return colors, drawn


def _group_rows(keys):
    """Row groups of equal ``keys`` rows: (unique keys, index arrays)."""
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    splits = np.cumsum(np.bincount(inverse, minlength=unique.shape[0]))[:-1]
    return unique, np.split(order, splits)


def _draw_segments(axis, segments, colors, linewidths, alpha=None, zorder=1):
    """Draw line segments, one ``Line2D`` per (colour, width) group.

    ``segments`` has shape (m, 2, 2); ``colors`` is (m, 4) RGBA or (4,);
    ``linewidths`` is (m,) or a scalar. matplotlib's ``LineCollection``
    makes a ``Path`` per segment (tens of microseconds each); one path per
    group, segments separated by NaN, draws 10^5+ edges in a fraction of a
    second with the same colours.
    """
    m = segments.shape[0]
    if m == 0:
        return
    keys = np.empty((m, 5))
    keys[:, :4] = colors
    keys[:, 4] = linewidths
    unique, groups = _group_rows(keys)
    for key, rows in zip(unique, groups):
        seg = segments[rows]
        gap = np.full(rows.shape[0], np.nan)
        xs = np.column_stack([seg[:, 0, 0], seg[:, 1, 0], gap]).ravel()
        ys = np.column_stack([seg[:, 0, 1], seg[:, 1, 1], gap]).ravel()
        axis.plot(xs, ys, color=tuple(key[:4]), linewidth=key[4], alpha=alpha,
                  solid_capstyle="butt", zorder=zorder)


def _draw_rectangles(axis, left, right, bottom, top, colors):
    """Filled rectangles, one ``PathPatch`` per colour (see ``_draw_segments``).

    ``colors`` is (m, 4) RGBA or (4,). The axis limits are not updated.
    """
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    m = left.shape[0]
    if m == 0:
        return
    unique, groups = _group_rows(np.broadcast_to(colors, (m, 4)))
    codes_one = [Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY]
    for color, rows in zip(unique, groups):
        k = rows.shape[0]
        verts = np.empty((k, 5, 2))
        verts[:, 0] = np.column_stack([left[rows], bottom[rows]])
        verts[:, 1] = np.column_stack([left[rows], top[rows]])
        verts[:, 2] = np.column_stack([right[rows], top[rows]])
        verts[:, 3] = np.column_stack([right[rows], bottom[rows]])
        verts[:, 4] = verts[:, 0]
        codes = np.tile(np.asarray(codes_one, dtype=Path.code_type), k)
        # add_artist, not add_patch: the caller sets the limits, and
        # add_patch's limit update walks every vertex in Python
        axis.add_artist(PathPatch(
            Path(verts.reshape(-1, 2), codes), facecolor=tuple(color), edgecolor="none",
            linewidth=0,
        ))


def plot_labels(X, labels, probabilities=None, ax=None, palette=None, noise_color="lightgrey",
                special_color=None, s=None, min_alpha=MIN_ALPHA, **kwargs):
    """Scatter the first two columns of ``X`` with one colour per label.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data; columns after the second are ignored (one column is
        plotted against zero). Rows with non-finite plotted coordinates are
        not drawn.
    labels : array-like of shape (n_samples,)
        E.g. ``labels_``, ``cluster_labels_`` or ``branch_labels_``.
    probabilities : array-like of shape (n_samples,), default=None
        Membership probabilities shown as alpha (at least ``min_alpha``).
    ax : matplotlib Axes, default=None
        The axis to draw on; ``None`` uses the current axis.
    palette : sequence of colors or str, default=None
        See :func:`label_palette`; pass the same ``selection_palette`` to
        :meth:`CondensedTree.plot` to match its colours.
    noise_color : color, default="lightgrey"
        Colour of noise (label -1).
    special_color : color, default=None
        Colour of rows with infinite (-2) or missing (-3) values; ``None``
        does not draw them.
    s : float, default=None
        Marker area; ``None`` picks one from the number of points.
    min_alpha : float, default=0.15
        Alpha of points with probability 0 that are still labelled.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.scatter`.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> from flasc_cluster import FLASC
    >>> from flasc_cluster.datasets import make_branching_stars
    >>> from flasc_cluster.plots import plot_labels
    >>> X, _ = make_branching_stars(n_samples=300, random_state=0)
    >>> model = FLASC(min_cluster_size=20).fit(X)
    >>> ax = plot_labels(X, model.labels_, model.probabilities_)  # doctest: +SKIP
    """
    plt = _require_matplotlib("plot_labels")
    xy = _plane(X)
    labels = np.asarray(labels)
    if labels.shape != (xy.shape[0],):
        raise ValueError(
            f"labels must have shape ({xy.shape[0]},) to match X; got {labels.shape}."
        )
    labels = labels.astype(np.intp, copy=False)
    colors, drawn = point_colors(
        labels, probabilities, palette=palette, noise_color=noise_color,
        special_color=special_color, min_alpha=min_alpha,
    )
    drawn &= np.isfinite(xy).all(axis=1)
    # noise and special rows first, so clusters are drawn on top
    order = np.flatnonzero(drawn)
    order = order[np.argsort(labels[order] >= 0, kind="stable")]
    if ax is None:
        ax = plt.gca()
    if s is None:
        s = _default_marker_size(order.shape[0])
    kwargs.setdefault("linewidths", 0)
    ax.scatter(xy[order, 0], xy[order, 1], c=colors[order], s=s, **kwargs)
    return ax
