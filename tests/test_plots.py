"""Plots: every view renders to a PNG, colours agree, matplotlib stays optional."""

import importlib
import sys
from typing import NamedTuple

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from flasc_cluster import FLASC, CondensedTree, SingleLinkageTree  # noqa: E402
from flasc_cluster._trees import CONDENSED_DTYPE, DENDROGRAM_MAX_LEAVES  # noqa: E402
from flasc_cluster.datasets import make_branching_stars, make_chain  # noqa: E402
from flasc_cluster.plots import label_palette, plot_labels  # noqa: E402

MODELS = ["single", "many", "noise", "big"]
MISSING_MPL = "requires matplotlib: pip install matplotlib"


class Fitted(NamedTuple):
    X: np.ndarray
    model: FLASC
    graphs: list  # cluster_approximation_graphs_, computed once


def _fit(X, **params):
    model = FLASC(**params).fit(X)
    return Fitted(X, model, model.cluster_approximation_graphs_)


@pytest.fixture(scope="module")
def single():
    """One cluster (the root) without branches."""
    X = np.random.default_rng(0).normal(size=(200, 2))
    return _fit(X, min_cluster_size=10, allow_single_cluster=True)


@pytest.fixture(scope="module")
def many():
    """Three star clusters, split into twelve branch labels."""
    X, _ = make_branching_stars(n_samples=600, random_state=0)
    return _fit(X, min_cluster_size=20)


@pytest.fixture(scope="module")
def noise():
    """20 spread points: no cluster at all."""
    X = np.random.default_rng(1).uniform(0, 100, size=(20, 2))
    return _fit(X, min_cluster_size=5)


@pytest.fixture(scope="module")
def big():
    X, _ = make_branching_stars(n_samples=100_000, random_state=0)
    return _fit(X, min_cluster_size=100, min_samples=10, branch_detection_method="core")


@pytest.fixture(params=MODELS)
def fitted(request):
    return request.getfixturevalue(request.param)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def render(tmp_path, draw, name="plot"):
    """Draw on a fresh axis, save a PNG and check the file is not empty."""
    fig, ax = plt.subplots(figsize=(4, 3))
    returned = draw(ax)
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=40)
    plt.close(fig)
    assert path.stat().st_size > 0
    return returned


def test_fixtures_cover_the_cases(single, many, noise):
    assert set(single.model.labels_) == {0}
    assert single.model.branch_condensed_trees_[0].selected_ids.size == 0
    assert np.unique(many.model.cluster_labels_).size == 3
    assert np.unique(many.model.labels_).size > 3
    assert set(noise.model.labels_) == {-1} and noise.graphs == []


# ---------------------------------------------------------------- rendering
def test_condensed_tree_renders(fitted, tmp_path):
    tree = fitted.model.condensed_tree_
    ax = render(tmp_path, lambda ax: tree.plot(
        select_clusters=True, label_clusters=True, axis=ax
    ))
    assert ax.get_ylabel() == "$\\lambda$ value"
    ellipses = [p for p in ax.patches if (p.get_gid() or "").startswith("selected")]
    assert len(ellipses) == tree.selected_ids.shape[0]
    render(tmp_path, lambda ax: tree.plot(cmap="none", log_size=True, axis=ax), "log")


def test_single_linkage_tree_renders(fitted, tmp_path):
    render(tmp_path, lambda ax: fitted.model.single_linkage_tree_.plot(axis=ax))


def test_minimum_spanning_tree_renders(fitted, tmp_path):
    mst = fitted.model.minimum_spanning_tree_
    data = fitted.X[fitted.model.finite_index_]
    render(tmp_path, lambda ax: mst.plot(data, axis=ax))
    render(tmp_path, lambda ax: mst.plot(axis=ax), "profile")


@pytest.mark.parametrize("color", ["centrality", "branch", "array"])
def test_approximation_graph_renders(fitted, color, tmp_path):
    model = fitted.model
    if not fitted.graphs:
        return  # the all-noise model has no cluster graphs (checked above)
    graph = fitted.graphs[0]
    if color == "branch":
        kwargs = dict(color="branch", labels=model.branch_labels_)
    elif color == "array":
        kwargs = dict(color=model.cluster_centralities_)
    else:
        kwargs = {}
    ax = render(tmp_path, lambda ax: graph.plot(fitted.X, axis=ax, **kwargs))
    assert len(ax.lines) > 0  # the edges


def test_branch_trees_render(fitted, tmp_path):
    model = fitted.model
    if not model.branch_condensed_trees_:
        return
    condensed = model.branch_condensed_trees_[0]
    linkage = model.branch_linkage_trees_[0]
    assert condensed is not None and linkage is not None
    render(tmp_path, lambda ax: condensed.plot(select_clusters=True, axis=ax), "condensed")
    render(tmp_path, lambda ax: linkage.plot(axis=ax), "linkage")


def test_plot_labels_renders(fitted, tmp_path):
    model = fitted.model
    ax = render(tmp_path, lambda ax: plot_labels(
        fitted.X, model.labels_, model.probabilities_, ax=ax
    ))
    assert ax.collections[0].get_offsets().shape[0] == fitted.X.shape[0]


def test_big_tree_layout_is_small(big):
    layout = big.model.condensed_tree_.icicle_layout()
    n_clusters = layout.cluster_bounds.shape[0]
    assert layout.bar_x.shape[0] <= 20 * n_clusters
    assert np.isfinite(layout.cluster_bounds).all()


# ------------------------------------------------------------------ colours
def _scatter_colors(ax):
    """Map plotted (x, y) -> RGB of the first scatter on ``ax``."""
    points = ax.collections[0]
    return {
        tuple(xy): tuple(c[:3]) for xy, c in zip(points.get_offsets(), points.get_facecolors())
    }


def _ellipse_colors(ax):
    return {
        int(p.get_gid().rsplit(" ", 1)[1]): tuple(p.get_edgecolor()[:3])
        for p in ax.patches if (p.get_gid() or "").startswith("selected cluster")
    }


@pytest.mark.parametrize("palette", [None, "tab20", ["#ff0000", "#0000ff"]])
def test_selected_cluster_colors_match_plot_labels(many, palette):
    X, model = many.X, many.model
    cases = [(model.condensed_tree_, X, model.cluster_labels_)]
    for c, points in enumerate(model.cluster_points_):
        cases.append((model.branch_condensed_trees_[c], X[points], model.branch_labels_[points]))
    for tree, data, labels in cases:
        fig, (left, right) = plt.subplots(1, 2)
        tree.plot(select_clusters=True, selection_palette=palette, axis=left)
        plot_labels(data, labels, ax=right, palette=palette)
        ellipse = _ellipse_colors(left)
        scatter = _scatter_colors(right)
        assert sorted(ellipse) == list(range(tree.selected_ids.shape[0]))
        for label, rgb in ellipse.items():
            first = np.flatnonzero(labels == label)[0]
            assert scatter[tuple(data[first, :2])] == pytest.approx(rgb)
        plt.close(fig)


def test_label_palette_is_stable_and_distinct():
    assert np.array_equal(label_palette(3), label_palette(40)[:3])
    colors = label_palette(40)
    assert np.unique(np.round(colors, 6), axis=0).shape[0] == 40
    assert not np.any(np.all(np.isclose(colors, to_rgba("lightgrey")), axis=1))
    assert label_palette(0).shape == (0, 4)
    cycled = label_palette(5, ["red", "blue"])
    assert np.array_equal(cycled[0], cycled[2]) and np.array_equal(cycled[1], cycled[3])


def test_plot_labels_noise_special_and_probabilities():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [np.nan, 1.0], [4.0, 4.0]])
    labels = np.array([0, 0, -1, 1, -3, -2])
    fig, ax = plt.subplots()
    plot_labels(X, labels, np.array([1.0, 0.5, 0.0, 0.0, 0.0, 0.0]), ax=ax)
    points = ax.collections[0]
    assert points.get_offsets().shape[0] == 4  # -2 and -3 are not drawn
    colors = {tuple(xy): tuple(c) for xy, c in zip(points.get_offsets(), points.get_facecolors())}
    assert colors[(2.0, 0.0)] == pytest.approx(to_rgba("lightgrey"))
    assert colors[(0.0, 0.0)][3] == pytest.approx(1.0)
    assert colors[(1.0, 0.0)][3] == pytest.approx(0.5)
    assert colors[(3.0, 0.0)][3] == pytest.approx(0.15)
    ax2 = plot_labels(X, labels, special_color="black", ax=plt.figure().gca())
    assert ax2.collections[0].get_offsets().shape[0] == 5  # the NaN row still is not
    with pytest.raises(ValueError, match="labels must have shape"):
        plot_labels(X, labels[:3])


# ------------------------------------------------------------- edge cases
def _caterpillar(depth):
    """A condensed tree of ``depth`` nested splits (a leaf of 2 at each)."""
    n = 2 * depth + 2
    rows = []
    current, next_id, point = n, n + 1, 0
    for d in range(depth):
        leaf, rest = next_id, next_id + 1
        next_id += 2
        rows += [(current, leaf, d + 1.0, 2), (current, rest, d + 1.0, n - 2 * (d + 1))]
        rows += [(leaf, point, d + 2.0, 1), (leaf, point + 1, d + 2.0, 1)]
        point += 2
        current = rest
    rows += [(current, point, depth + 1.0, 1), (current, point + 1, depth + 1.0, 1)]
    return CondensedTree(np.array(rows, dtype=CONDENSED_DTYPE), [n + 1, n + 3])


def test_deep_trees_plot_without_recursion(tmp_path):
    tree = _caterpillar(5000)  # far beyond Python's recursion limit
    layout = tree.icicle_layout()
    assert np.isfinite(layout.cluster_bounds).all()
    assert layout.cluster_bounds.shape[0] == 2 * 5000 + 1
    render(tmp_path, lambda ax: tree.plot(select_clusters=True, axis=ax))
    chain = FLASC(min_cluster_size=5).fit(make_chain(2000))
    linkage = chain.single_linkage_tree_
    ax = render(tmp_path, lambda ax: linkage.plot(axis=ax), "chain")  # auto truncation
    assert len(ax.collections) + len(ax.lines) > 0
    assert DENDROGRAM_MAX_LEAVES < 2000


def test_infinite_lambdas_are_capped(tmp_path):
    rng = np.random.default_rng(0)
    X = np.vstack([np.zeros((30, 2)), np.ones((30, 2)), rng.normal(size=(10, 2)) * 5])
    tree = FLASC(min_cluster_size=5).fit(X).condensed_tree_
    lam = tree.to_numpy()["lambda_val"]
    assert np.isinf(lam).any()
    layout = tree.icicle_layout()
    assert np.isfinite(layout.bar_top).all() and np.isfinite(layout.cluster_bounds).all()
    assert layout.cluster_bounds[:, 3].max() == lam[np.isfinite(lam)].max()
    ax = render(tmp_path, lambda ax: tree.plot(select_clusters=True, axis=ax))
    assert all(np.isfinite(p.center).all() for p in ax.patches if p.get_gid())


def test_empty_trees_render(tmp_path):
    render(tmp_path, lambda ax: CondensedTree(np.empty(0, CONDENSED_DTYPE), []).plot(axis=ax))
    render(tmp_path, lambda ax: SingleLinkageTree(np.empty((0, 4))).plot(axis=ax), "slt")


def test_icicle_layout_matches_hdbscan(many):
    hdbscan_plots = pytest.importorskip("hdbscan.plots")
    model = many.model
    tree = model.condensed_tree_
    reference = hdbscan_plots.CondensedTree(tree.to_numpy(), model.cluster_labels_)
    expected = reference.get_plot_data()
    layout = tree.icicle_layout()
    ids = sorted(expected["cluster_bounds"])
    assert np.allclose(
        [expected["cluster_bounds"][c] for c in ids],
        layout.cluster_bounds[np.array(ids) - layout.root],
    )
    assert np.allclose(np.array(expected["line_xs"]), layout.line_x)
    assert np.allclose(np.array(expected["line_ys"]), layout.line_y)


def test_bad_arguments_are_refused(many):
    graph = many.graphs[0]
    with pytest.raises(ValueError, match="needs labels"):
        graph.plot(many.X, color="branch")
    with pytest.raises(ValueError, match="color must be"):
        graph.plot(many.X, color="size")
    with pytest.raises(ValueError, match="color must be"):
        graph.plot(many.X, color=np.ones(3))
    with pytest.raises(ValueError, match="pass the data the model was fitted on"):
        many.model.minimum_spanning_tree_.plot(many.X[:10])


# ----------------------------------------------------------------- networkx
def test_to_networkx_counts(many, noise):
    pytest.importorskip("networkx")
    for fitted in (many, noise):
        model = fitted.model
        n = fitted.X.shape[0]
        condensed = model.condensed_tree_
        g = condensed.to_networkx()
        assert (g.number_of_nodes(), g.number_of_edges()) == (len(condensed) + 1, len(condensed))
        assert g.nodes[n]["size"] == n
        g = model.single_linkage_tree_.to_networkx()
        assert (g.number_of_nodes(), g.number_of_edges()) == (2 * n - 1, 2 * n - 2)
        g = model.minimum_spanning_tree_.to_networkx()
        assert (g.number_of_nodes(), g.number_of_edges()) == (n, n - 1)
        for graph, points in zip(fitted.graphs, model.cluster_points_):
            g = graph.to_networkx()
            assert g.number_of_edges() == len(graph)
            assert sorted(g.nodes) == sorted(points.tolist())
    tree = many.model.branch_condensed_trees_[0].to_networkx()
    assert tree.number_of_edges() == len(many.model.branch_condensed_trees_[0])


# --------------------------------------------------------- optional imports
def _block(monkeypatch, *modules):
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def test_missing_matplotlib_is_a_clear_error(many, monkeypatch):
    model, X = many.model, many.X
    _block(monkeypatch, "matplotlib", "matplotlib.pyplot")
    import flasc_cluster.plots as plots

    importlib.reload(plots)  # the module itself imports without matplotlib
    calls = [
        lambda: model.condensed_tree_.plot(),
        lambda: model.single_linkage_tree_.plot(),
        lambda: model.minimum_spanning_tree_.plot(X),
        lambda: many.graphs[0].plot(X),
        lambda: plots.plot_labels(X, model.labels_),
    ]
    for call in calls:
        with pytest.raises(ImportError, match=MISSING_MPL):
            call()


def test_missing_networkx_is_a_clear_error(many, monkeypatch):
    _block(monkeypatch, "networkx")
    for view in (many.model.condensed_tree_, many.model.single_linkage_tree_,
                 many.model.minimum_spanning_tree_, many.graphs[0]):
        with pytest.raises(ImportError, match="requires networkx: pip install networkx"):
            view.to_networkx()
