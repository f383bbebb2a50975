"""Every FLASC parameter changes the output in its documented direction.

Each test compares fits against a baseline fit on small generated data and
asserts a direction (fewer, more, non-increasing, identical), so that a
parameter that is ignored, inverted or applied to the wrong pass fails.
Every fit made through the ``fit`` fixture is also checked for the cheap
invariants of the fitted attributes and for leaving its input unmodified.
"""

import threading

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.metrics import adjusted_rand_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from flasc_cluster import FLASC
from flasc_cluster.datasets import make_branching_stars, make_random_walk_clusters

# ---------------------------------------------------------------- data sets


def _blobs(centers, sizes, std, seed):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(c, std, size=(s, 2)) for c, s in zip(centers, sizes)])
    y = np.repeat(np.arange(len(sizes)), sizes)
    return X, y


def _make(name):
    """Small deterministic data sets, by name; returns ``(X, y)`` (y may be None)."""
    if name == "sizes":
        # four well separated blobs of 30, 60, 120 and 200 points
        return _blobs([(0, 0), (10, 0), (0, 10), (10, 10)], [30, 60, 120, 200], 0.5, 0)
    if name == "pairs":
        # two pairs of blobs: 2.5 apart within a pair, 20 apart between pairs
        return _blobs([(0, 0), (2.5, 0), (20, 0), (22.5, 0)], [100] * 4, 0.4, 0)
    if name == "nested":
        # two groups of 200 points, each two overlapping sub-blobs of 100:
        # excess of mass keeps the groups, leaf selection the sub-blobs
        return _blobs([(0, 0), (2, 0), (30, 0), (32, 0)], [100] * 4, 0.5, 0)
    if name == "noisy":
        X, y = _blobs([(0, 0), (8, 0), (4, 7)], [150] * 3, 0.6, 1)
        rng = np.random.default_rng(2)
        noise = rng.uniform(-6, 14, size=(150, 2))
        return np.vstack([X, noise]), np.concatenate([y, np.full(150, -1)])
    if name == "blob":
        return _blobs([(0, 0)], [300], 1.0, 0)
    if name == "line":
        # one elongated cluster: 400 points along a 4-long segment
        rng = np.random.default_rng(0)
        X = np.column_stack([rng.uniform(0, 4, 400), rng.normal(0, 0.1, 400)])
        return X, None
    if name == "stars":
        # two stars of a dense centre and four arms of ~80 points
        return make_branching_stars(800, 2, n_clusters=2, n_branches=4, random_state=0)
    if name == "walks":
        # random-walk clusters whose branch hierarchy is nested
        return make_random_walk_clusters(1000, 2, n_clusters=2, random_state=0)
    if name == "walks_big":
        return make_random_walk_clusters(2000, 2, n_clusters=4, random_state=5)
    if name == "tiny":
        rng = np.random.default_rng(1)
        X = rng.normal(size=(40, 3))
        X[5] = X[17]  # duplicates: a duplicate counts as a neighbour at distance 0
        X[30] = X[17]
        return X, None
    raise ValueError(name)


@pytest.fixture(scope="module")
def data():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = _make(name)
        return cache[name]

    return get


# --------------------------------------------------------------- invariants


def check_invariants(model, X_before, X_after):
    """Cheap invariants of a fitted FLASC (all rows finite)."""
    np.testing.assert_array_equal(X_after, X_before, err_msg="fit modified its input")
    labels = model.labels_
    clusters = model.cluster_labels_
    n = labels.shape[0]
    for name in ("labels_", "cluster_labels_", "branch_labels_"):
        lab = getattr(model, name)
        assert lab.shape == (n,)
        assert np.issubdtype(lab.dtype, np.integer), name
        assert lab.min(initial=-1) >= -1, f"{name}: finite rows must not get labels below -1"
    for name in ("labels_", "cluster_labels_"):
        lab = getattr(model, name)
        present = np.unique(lab[lab >= 0])
        np.testing.assert_array_equal(
            present, np.arange(present.shape[0]), err_msg=f"{name} not consecutive from 0"
        )
    noise = clusters < 0
    np.testing.assert_array_equal(labels < 0, noise, err_msg="labels_ noise != cluster noise")
    assert np.all(model.branch_labels_[noise] == -1)
    for name in ("probabilities_", "cluster_probabilities_", "branch_probabilities_"):
        prob = getattr(model, name)
        assert prob.shape == (n,)
        assert np.all((prob >= 0.0) & (prob <= 1.0)), f"{name} outside [0, 1]"
        assert np.all(prob[noise] == 0.0), f"{name} not 0 for noise"
    assert np.all(model.cluster_centralities_[noise] == 0.0)
    # every combined label lies within exactly one cluster
    for lab in np.unique(labels[labels >= 0]):
        owners = np.unique(clusters[labels == lab])
        assert owners.shape == (1,) and owners[0] >= 0, f"label {lab} spans clusters {owners}"
    n_clusters = int(clusters.max(initial=-1)) + 1
    assert len(model.cluster_points_) == n_clusters
    assert len(model.branch_persistences_) == n_clusters
    for c, pts in enumerate(model.cluster_points_):
        np.testing.assert_array_equal(np.sort(pts), np.flatnonzero(clusters == c))


@pytest.fixture(scope="module")
def fit(data):
    """``fit(name, **params)``: a memoised, invariant-checked FLASC fit."""
    cache = {}

    def run(name, **params):
        key = (name, tuple(sorted(params.items())))
        if key not in cache:
            X, _ = data(name)
            before = X.copy()
            model = FLASC(**params).fit(X)
            check_invariants(model, before, X)
            cache[key] = model
        return cache[key]

    return run


# ------------------------------------------------------------------ helpers


def n_clusters(model):
    return int(model.cluster_labels_.max(initial=-1)) + 1


def n_branches(model):
    """Per cluster, the number of branches the branch pass selected."""
    return [len(p) for p in model.branch_persistences_]


def selected_nodes(tree):
    """Per selected node of a CondensedTree: (size, birth lambda, parent is root)."""
    rec = tree.to_numpy()
    root = int(rec["parent"].min())
    out = []
    for sid in tree.selected_ids:
        rows = np.flatnonzero(rec["child"] == sid)
        if rows.shape[0] == 0:  # the root itself
            size = int(rec["child_size"][rec["parent"] == root].sum())
            out.append((size, 0.0, True))
            continue
        r = rows[0]
        size, birth = int(rec["child_size"][r]), float(rec["lambda_val"][r])
        out.append((size, birth, bool(rec["parent"][r] == root)))
    return out


def leaf_split_persistences(tree):
    """Persistence of every split whose children are both leaf clusters.

    A split's persistence is ``min(largest lambda below each child) - split
    lambda``, the quantity ``*_selection_persistence`` thresholds.
    """
    rec = tree.to_numpy()
    if rec.shape[0] == 0:
        return []
    root = int(rec["parent"].min())
    nodes = np.unique(rec["parent"])
    max_below = {}
    for node in nodes[::-1]:  # children have larger ids than their parents
        rows = rec[rec["parent"] == node]
        value = rows["lambda_val"].max()
        for child in rows["child"][rows["child"] >= root]:
            value = max(value, max_below.get(child, 0.0))
        max_below[node] = value
    has_cluster_children = np.unique(rec["parent"][rec["child"] >= root])
    out = []
    for node in nodes:
        rows = rec[(rec["parent"] == node) & (rec["child"] >= root)]
        kids = rows["child"]
        if kids.shape[0] == 2 and not np.isin(kids, has_cluster_children).any():
            out.append(min(max_below.get(k, 0.0) for k in kids) - rows["lambda_val"][0])
    return out


def assert_non_increasing(values, what):
    assert all(a >= b for a, b in zip(values, values[1:])), f"{what} increased: {values}"


# ---------------------------------------------------------- min_cluster_size


MCS_GRID = [5, 25, 40, 70, 150]


def test_min_cluster_size_fewer_clusters(fit):
    counts = [n_clusters(fit("sizes", min_cluster_size=m, min_samples=5)) for m in MCS_GRID]
    assert_non_increasing(counts, "number of clusters")
    # the 30-point blob is a cluster at 25 and not at 40
    assert counts[1] == 4 and counts[2] == 3, counts


@pytest.mark.parametrize("mcs", MCS_GRID)
def test_min_cluster_size_is_a_lower_bound(fit, mcs):
    model = fit("sizes", min_cluster_size=mcs, min_samples=5)
    sizes = np.bincount(model.cluster_labels_[model.cluster_labels_ >= 0])
    assert np.all(sizes >= mcs), sizes
    for size, _, _ in selected_nodes(model.condensed_tree_):
        assert size >= mcs


# --------------------------------------------------------------- min_samples


@pytest.mark.parametrize(
    "metric,kwargs,ref_metric",
    [
        ("euclidean", {}, "euclidean"),
        ("manhattan", {}, "cityblock"),
        ("chebyshev", {}, "chebyshev"),
        ("minkowski", {"p": 3}, "minkowski"),
        ("minkowski", {"p": 1.5}, "minkowski"),
        ("canberra", {}, "canberra"),
        ("precomputed", {}, "euclidean"),
    ],
)
@pytest.mark.parametrize("min_samples", [1, 2, 3, 7, 39, 60])
def test_core_distances_brute_force(data, metric, kwargs, ref_metric, min_samples):
    """Core distance = distance to the min_samples-th nearest *other* row."""
    X, _ = data("tiny")
    ref_kw = {"p": kwargs["p"]} if ref_metric == "minkowski" else {}
    D = cdist(X, X, ref_metric, **ref_kw)
    Xin = cdist(X, X) if metric == "precomputed" else X
    model = FLASC(min_cluster_size=5, min_samples=min_samples, metric=metric, **kwargs).fit(Xin)
    np.fill_diagonal(D, np.inf)  # the point itself does not count...
    k = min(min_samples, X.shape[0] - 1)  # ...and values above n - 1 are clipped
    expected = np.sort(D, axis=1)[:, k - 1]
    np.testing.assert_allclose(model.core_distances_, expected, rtol=1e-12, atol=0)
    # ...but an identical row does: rows 5, 17, 30 coincide
    if min_samples <= 2:
        assert np.all(model.core_distances_[[5, 17, 30]] == 0.0)


def test_min_samples_core_distances_non_decreasing(fit):
    grid = [1, 3, 10, 30]
    cores = [fit("noisy", min_cluster_size=20, min_samples=k).core_distances_ for k in grid]
    for k0, k1, a, b in zip(grid, grid[1:], cores, cores[1:]):
        assert np.all(b >= a), f"core distance decreased from min_samples={k0} to {k1}"
        assert np.any(b > a)


def test_min_samples_more_noise(fit):
    grid = [1, 5, 15, 40]
    noise = [int((fit("noisy", min_cluster_size=20, min_samples=k).labels_ < 0).sum())
             for k in grid]
    # not a theorem, but true on this data set of blobs in uniform noise
    assert all(a <= b for a, b in zip(noise, noise[1:])), noise
    assert noise[-1] > noise[0], noise
    # and min_samples=None means min_samples=min_cluster_size
    a = fit("noisy", min_cluster_size=15)
    b = fit("noisy", min_cluster_size=15, min_samples=15)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.core_distances_, b.core_distances_)


# ----------------------------------------------------------- min_branch_size

STARS = dict(min_cluster_size=30, min_samples=5)
WALKS = dict(min_cluster_size=40, min_samples=5)
MBS_GRID = [5, 20, 60, 80, 100, 150]


def test_min_branch_size_fewer_branches(fit):
    per_cluster = np.array(
        [n_branches(fit("stars", **STARS, min_branch_size=m)) for m in MBS_GRID]
    )
    assert n_clusters(fit("stars", **STARS)) == 2
    for c in range(per_cluster.shape[1]):
        assert_non_increasing(list(per_cluster[:, c]), f"branches of cluster {c}")
    assert per_cluster[0].tolist() == [4, 4], per_cluster  # every arm is a branch
    assert per_cluster[-1].sum() < per_cluster[0].sum()
    # the combined labels follow: 1 centre + 4 arms per star, then fewer
    n_labels = [int(fit("stars", **STARS, min_branch_size=m).labels_.max()) + 1 for m in MBS_GRID]
    assert_non_increasing(n_labels, "number of labels")
    assert n_labels[0] == 10 and n_labels[-1] == 2, n_labels


def test_min_branch_size_defaults_to_min_cluster_size(fit):
    a = fit("stars", **STARS)
    b = fit("stars", **STARS, min_branch_size=STARS["min_cluster_size"])
    np.testing.assert_array_equal(a.labels_, b.labels_)


@pytest.mark.parametrize("mbs", MBS_GRID)
def test_min_branch_size_is_a_lower_bound(fit, mbs):
    model = fit("stars", **STARS, min_branch_size=mbs)
    for c, tree in enumerate(model.branch_condensed_trees_):
        assert tree is not None
        for size, _, _ in selected_nodes(tree):
            assert size >= mbs, f"cluster {c}: branch of {size} < min_branch_size={mbs}"
        pts = model.cluster_points_[c]
        b = model.branch_labels_[pts]
        if np.unique(b[b >= 0]).shape[0] > 1:  # the cluster was split
            assert np.all(np.bincount(b[b >= 0]) >= mbs)


# --------------------------------------------------- selection method (leaf)


def test_leaf_selects_at_least_as_many_clusters(fit):
    eom = fit("nested", min_cluster_size=20)
    leaf = fit("nested", min_cluster_size=20, cluster_selection_method="leaf")
    assert n_clusters(eom) == 2
    assert n_clusters(leaf) == 4
    # leaf clusters are nested in the eom clusters
    both = (eom.cluster_labels_ >= 0) & (leaf.cluster_labels_ >= 0)
    for lab in np.unique(leaf.cluster_labels_[both]):
        assert np.unique(eom.cluster_labels_[both & (leaf.cluster_labels_ == lab)]).shape == (1,)


@pytest.mark.parametrize("name,params", [("stars", STARS), ("walks", WALKS)])
def test_leaf_selects_at_least_as_many_branches(fit, name, params):
    eom = fit(name, **params)
    leaf = fit(name, **params, branch_selection_method="leaf")
    np.testing.assert_array_equal(eom.cluster_labels_, leaf.cluster_labels_)
    assert all(b_leaf >= b_eom for b_eom, b_leaf in zip(n_branches(eom), n_branches(leaf)))
    if name == "walks":
        # the first walk cluster has a nested branch hierarchy
        assert sum(n_branches(leaf)) > sum(n_branches(eom)), (n_branches(eom), n_branches(leaf))


# ------------------------------------------------------- allow_single_cluster


def test_allow_single_cluster(fit):
    off = fit("blob", min_cluster_size=20)
    assert n_clusters(off) != 1
    on = fit("blob", min_cluster_size=20, allow_single_cluster=True)
    assert np.all(on.cluster_labels_ == 0)
    assert np.all(on.cluster_probabilities_ == 1.0)
    assert np.all(on.labels_ >= 0)


def test_allow_single_cluster_with_epsilon_has_no_empty_cluster(data):
    """A root cluster whose points all fall below epsilon must not survive empty.

    Bug: when the root is the single selected cluster, ``label_points`` and
    then ``extract_flat_clustering`` turn every point whose own exit lambda
    (anywhere in the tree) is below ``1 / epsilon`` into noise, after the
    selection. On a 300-point blob with epsilon 0.1 that is every point, yet
    the root stays selected: ``cluster_persistence_`` has one entry and
    ``cluster_points_`` one empty array while no row has cluster label 0.
    """
    X, _ = data("blob")
    model = FLASC(min_cluster_size=20, allow_single_cluster=True,
                  cluster_selection_epsilon=0.1).fit(X)
    n = n_clusters(model)
    assert len(model.cluster_persistence_) == n, (model.cluster_persistence_, n)
    assert len(model.cluster_points_) == n
    assert all(len(p) > 0 for p in model.cluster_points_)


def test_allow_single_cluster_keeps_several_clusters(fit):
    # with real structure, allowing a single cluster does not collapse it
    a = fit("pairs", min_cluster_size=20)
    b = fit("pairs", min_cluster_size=20, allow_single_cluster=True)
    assert n_clusters(b) == n_clusters(a) == 4


# ---------------------------------------------------------------- epsilons

EPS_GRID = [0.0, 0.5, 1.0, 3.0, 30.0]


def test_cluster_selection_epsilon_merges_close_clusters(fit, data):
    _, y = data("pairs")
    counts = [n_clusters(fit("pairs", min_cluster_size=20, cluster_selection_epsilon=e))
              for e in EPS_GRID]
    assert_non_increasing(counts, "number of clusters")
    assert counts[0] == 4 and counts[3] == 2, counts
    merged = fit("pairs", min_cluster_size=20, cluster_selection_epsilon=3.0)
    lab = merged.cluster_labels_
    # the blobs of a pair (2.5 apart) share a label, the pairs do not
    assert np.unique(lab[(y == 0) | (y == 1)]).shape == (1,)
    assert np.unique(lab[(y == 2) | (y == 3)]).shape == (1,)
    assert lab[y == 0][0] != lab[y == 2][0]


@pytest.mark.parametrize("eps", EPS_GRID[1:])
def test_cluster_selection_epsilon_births(fit, eps):
    """Selected clusters are born at distance >= epsilon (or hang off the root)."""
    model = fit("pairs", min_cluster_size=20, cluster_selection_epsilon=eps)
    for _, birth, root_child in selected_nodes(model.condensed_tree_):
        assert root_child or 1.0 / birth >= eps * (1 - 1e-12)


BEPS_GRID = [0.0, 2.0, 4.0, 5.0, 8.0, 20.0]


def test_branch_selection_epsilon_merges_branches(fit):
    per_cluster = np.array(
        [n_branches(fit("stars", **STARS, branch_selection_epsilon=e)) for e in BEPS_GRID]
    )
    for c in range(per_cluster.shape[1]):
        assert_non_increasing(list(per_cluster[:, c]), f"branches of cluster {c}")
    assert per_cluster[0].tolist() == [4, 4]
    assert per_cluster[-1].sum() < per_cluster[0].sum(), per_cluster
    # the clusters themselves do not depend on a branch parameter
    base = fit("stars", **STARS)
    for e in BEPS_GRID:
        np.testing.assert_array_equal(
            fit("stars", **STARS, branch_selection_epsilon=e).cluster_labels_, base.cluster_labels_
        )


@pytest.mark.parametrize("eps", BEPS_GRID[1:])
def test_branch_selection_epsilon_births(fit, eps):
    """Selected branches are born at centrality >= epsilon (or hang off the root).

    Branch hierarchies have lambda = 1 / centrality (eccentricity).
    """
    model = fit("stars", **STARS, branch_selection_epsilon=eps)
    for tree in model.branch_condensed_trees_:
        for _, birth, root_child in selected_nodes(tree):
            assert root_child or 1.0 / birth >= eps * (1 - 1e-12)


# ------------------------------------------------------------- persistences


def test_cluster_selection_persistence(fit):
    grid = [0.0, 0.5, 1.0, 2.0, 5.0]
    counts = [n_clusters(fit("pairs", min_cluster_size=20, cluster_selection_persistence=p))
              for p in grid]
    assert_non_increasing(counts, "number of clusters")
    assert counts[0] == 4 and counts[-1] < 4, counts


@pytest.mark.parametrize("persistence", [0.5, 1.0, 2.0])
def test_cluster_selection_persistence_threshold(fit, persistence):
    """No two sibling leaves below the threshold survive (lambda = 1 / distance)."""
    model = fit("pairs", min_cluster_size=20, cluster_selection_persistence=persistence)
    tree = model.condensed_tree_
    values = leaf_split_persistences(tree)
    assert values  # the check is not vacuous on this data set
    for value in values:
        assert value >= persistence * (1 - 1e-6), value


def test_branch_selection_persistence(fit):
    grid = [0.0, 0.2, 0.6, 1.0, 2.0]
    per_cluster = np.array(
        [n_branches(fit("stars", **STARS, branch_selection_persistence=p)) for p in grid]
    )
    for c in range(per_cluster.shape[1]):
        assert_non_increasing(list(per_cluster[:, c]), f"branches of cluster {c}")
    assert per_cluster[0].sum() == 8 and per_cluster[-1].sum() < 8, per_cluster


@pytest.mark.parametrize("persistence", [0.2, 0.6])
def test_branch_selection_persistence_threshold(fit, persistence):
    """Same rule in eccentricity units (branch lambda = 1 / centrality)."""
    model = fit("stars", **STARS, branch_selection_persistence=persistence)
    values = [v for tree in model.branch_condensed_trees_ for v in leaf_split_persistences(tree)]
    assert values  # the check is not vacuous on this data set
    for value in values:
        assert value >= persistence * (1 - 1e-6), value


# ---------------------------------------------------------------- max sizes


def test_max_cluster_size(fit):
    unlimited = fit("nested", min_cluster_size=20)
    limited = fit("nested", min_cluster_size=20, max_cluster_size=150)
    assert n_clusters(unlimited) == 2  # the 200-point groups
    sizes = np.bincount(limited.cluster_labels_[limited.cluster_labels_ >= 0])
    assert np.all(sizes <= 150), sizes
    assert n_clusters(limited) > n_clusters(unlimited)
    for size, _, _ in selected_nodes(limited.condensed_tree_):
        assert size <= 150


def test_max_cluster_size_bounds_single_cluster(fit):
    model = fit("blob", min_cluster_size=20, allow_single_cluster=True, max_cluster_size=100)
    sizes = np.bincount(model.cluster_labels_[model.cluster_labels_ >= 0])
    assert np.all(sizes <= 100), sizes


def test_max_cluster_size_ignored_by_leaf(fit):
    a = fit("nested", min_cluster_size=20, cluster_selection_method="leaf")
    b = fit("nested", min_cluster_size=20, cluster_selection_method="leaf", max_cluster_size=150)
    np.testing.assert_array_equal(a.cluster_labels_, b.cluster_labels_)



def test_max_branch_size(fit):
    unlimited = fit("walks", **WALKS)
    limited = fit("walks", **WALKS, max_branch_size=150)
    np.testing.assert_array_equal(unlimited.cluster_labels_, limited.cluster_labels_)
    sizes_before = [[s for s, _, _ in selected_nodes(t)] if t is not None else []
                    for t in unlimited.branch_condensed_trees_]
    # the chosen data set has a branch above 150 points that can split
    assert max(max(s, default=0) for s in sizes_before) > 150, sizes_before
    for c, tree in enumerate(limited.branch_condensed_trees_):
        if tree is None:
            continue
        for size, _, _ in selected_nodes(tree):
            assert size <= 150, f"cluster {c}: selected branch of {size} > 150"
    more = [b >= a for a, b in zip(n_branches(unlimited), n_branches(limited))]
    assert all(more), (n_branches(unlimited), n_branches(limited))
    assert sum(n_branches(limited)) > sum(n_branches(unlimited))


# --------------------------------------------------- branch_detection_method


def _edge_set(graph):
    g = graph.to_numpy()
    a = g[:, 0].astype(np.intp)
    b = g[:, 1].astype(np.intp)
    return set(zip(np.minimum(a, b).tolist(), np.maximum(a, b).tolist()))


def test_branch_detection_method_core_graph_is_smaller(fit):
    full = fit("stars", **STARS, branch_detection_method="full")
    core = fit("stars", **STARS, branch_detection_method="core")
    np.testing.assert_array_equal(full.cluster_labels_, core.cluster_labels_)
    for c, (gf, gc) in enumerate(
        zip(full.cluster_approximation_graphs_, core.cluster_approximation_graphs_)
    ):
        assert len(gc) <= len(gf), f"cluster {c}: core {len(gc)} > full {len(gf)} edges"
        # every core edge (k nearest neighbours, spanning tree) has mutual
        # reachability within the cluster's largest spanning-tree edge
        assert _edge_set(gc) <= _edge_set(gf), f"cluster {c}: core edge missing from full graph"
    assert n_branches(core) == n_branches(full) == [4, 4]
    assert adjusted_rand_score(full.labels_, core.labels_) > 0.9


def test_core_graph_is_in_cluster_neighbours_plus_spanning_tree(fit, data):
    """The ``core`` graph (rebuilt on demand from the neighbour lists) has
    exactly the edges from each point to those of its ``min_samples`` nearest
    other points in its cluster, plus the in-cluster spanning-tree edges."""
    from sklearn.neighbors import NearestNeighbors

    X, _ = data("stars")
    model = fit("stars", **STARS, branch_detection_method="core")
    k = model.min_samples or model.min_cluster_size
    knn = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X, return_distance=False)
    mst = model.minimum_spanning_tree_.to_numpy()
    a_all = mst[:, 0].astype(np.intp)
    b_all = mst[:, 1].astype(np.intp)
    for points, graph in zip(model.cluster_points_, model.cluster_approximation_graphs_):
        inside = np.zeros(X.shape[0], dtype=bool)
        inside[points] = True
        expected = set()
        for i in points:
            for j in knn[i]:
                if j != i and inside[j]:
                    expected.add((min(i, j), max(i, j)))
        keep = inside[a_all] & inside[b_all]
        for i, j in zip(a_all[keep].tolist(), b_all[keep].tolist()):
            expected.add((min(i, j), max(i, j)))
        assert _edge_set(graph) == expected


# --------------------------------------------------- label_sides_as_branches


def test_label_sides_as_branches(fit, data):
    X, _ = data("line")
    params = dict(min_cluster_size=20, allow_single_cluster=True)
    off = fit("line", **params)
    on = fit("line", **params, label_sides_as_branches=True)
    assert np.all(off.cluster_labels_ == 0) and np.all(on.cluster_labels_ == 0)
    assert n_branches(off) == n_branches(on) == [2]
    assert np.all(off.labels_ == 0)  # two sides alone do not split a cluster
    sides = on.branch_labels_
    assert np.unique(sides[sides >= 0]).tolist() == [0, 1]
    side_labels = np.unique(on.labels_[sides >= 0])
    assert side_labels.shape == (2,)
    # the sides are the two halves of the segment; only central points are between
    x = X[:, 0]
    left, right = (x[sides == s].mean() for s in (0, 1))
    assert min(left, right) < 1.5 and max(left, right) > 2.5
    assert np.all(np.abs(x[sides < 0] - 2.0) < 1.0)
    assert (sides >= 0).mean() > 0.8


# -------------------------------------------------------------------- alpha


def test_alpha_shrinks_mutual_reachability(fit, data):
    X, _ = data("stars")
    grid = [0.5, 1.0, 2.0, 4.0]
    weights = []
    for a in grid:
        model = fit("stars", **STARS, alpha=a)
        mst = model.minimum_spanning_tree_.to_numpy()
        i, j = mst[:, 0].astype(np.intp), mst[:, 1].astype(np.intp)
        core = model.core_distances_
        d = np.sqrt(((X[i] - X[j]) ** 2).sum(axis=1))
        np.testing.assert_allclose(
            mst[:, 2], np.maximum(np.maximum(core[i], core[j]), d / a), rtol=1e-10
        )
        weights.append(np.sort(mst[:, 2]))
    for a0, a1, w0, w1 in zip(grid, grid[1:], weights, weights[1:]):
        assert np.all(w1 <= w0 * (1 + 1e-12)), f"weights grew from alpha={a0} to {a1}"
        assert w1.sum() < w0.sum()


# ------------------------------------------------------------- metric and p


def test_manhattan_equals_minkowski_p1(fit):
    a = fit("stars", **STARS, metric="manhattan")
    b = fit("stars", **STARS, metric="minkowski", p=1)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_labels_, b.cluster_labels_)
    np.testing.assert_array_equal(a.core_distances_, b.core_distances_)


def test_p_changes_the_metric(data):
    X, _ = data("tiny")
    a = FLASC(min_cluster_size=5, min_samples=3, p=1).fit(X)
    b = FLASC(min_cluster_size=5, min_samples=3, p=2).fit(X)
    c = FLASC(min_cluster_size=5, min_samples=3, metric="chebyshev").fit(X)
    # L1 >= L2 >= Linf pointwise, hence for the k-th neighbour distances
    assert np.all(a.core_distances_ >= b.core_distances_ - 1e-12)
    assert np.all(b.core_distances_ >= c.core_distances_ - 1e-12)
    assert np.any(a.core_distances_ > b.core_distances_)


def test_precomputed_equals_euclidean(data):
    X, _ = data("stars")
    D = cdist(X, X)
    before = D.copy()
    a = FLASC(**STARS, metric="euclidean").fit(X)
    b = FLASC(**STARS, metric="precomputed").fit(D)
    check_invariants(b, before, D)
    assert adjusted_rand_score(a.cluster_labels_, b.cluster_labels_) == 1.0
    np.testing.assert_allclose(b.core_distances_, a.core_distances_, rtol=1e-12)


def test_ball_tree_metric_runs(data):
    X, _ = data("pairs")
    before = X.copy()
    model = FLASC(min_cluster_size=20, metric="canberra").fit(X)
    check_invariants(model, before, X)
    assert n_clusters(model) >= 1
    D = cdist(X, X, "canberra")
    np.fill_diagonal(D, np.inf)
    np.testing.assert_allclose(model.core_distances_, np.sort(D, axis=1)[:, 19], rtol=1e-12)


# ------------------------------- n_jobs, approx_min_span_tree, algorithm, leaf_size


def test_n_jobs_does_not_change_results(fit):
    a = fit("walks_big", min_cluster_size=30, n_jobs=1)
    b = fit("walks_big", min_cluster_size=30, n_jobs=2)
    c = fit("walks_big", min_cluster_size=30, n_jobs=-1)
    for other in (b, c):
        np.testing.assert_array_equal(a.labels_, other.labels_)
        np.testing.assert_array_equal(a.probabilities_, other.probabilities_)
        np.testing.assert_array_equal(a.core_distances_, other.core_distances_)
        np.testing.assert_array_equal(
            a.minimum_spanning_tree_.to_numpy(), other.minimum_spanning_tree_.to_numpy()
        )


@pytest.mark.parametrize("method", ["full", "core"])
def test_clusters_in_threads_give_the_sequential_result(data, monkeypatch, method):
    """With n_jobs > 1 small clusters that do not run batched (here: a
    weighted fit) run their branch pass in a thread pool; every per-cluster
    hierarchy equals the one-thread fit's."""
    import numba

    from flasc_cluster._branches import detect

    X, _ = data("walks_big")
    seen = []
    original = detect.detect_cluster_branches

    def spy(*args, **kwargs):
        seen.append(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(detect, "detect_cluster_branches", spy)
    params = dict(min_cluster_size=30, branch_detection_method=method)
    weight = np.ones(X.shape[0])
    single = FLASC(**params, n_jobs=1).fit(X, sample_weight=weight)
    assert set(seen) == {threading.get_ident()}
    seen.clear()
    threaded = FLASC(**params, n_jobs=2).fit(X, sample_weight=weight)
    if numba.config.NUMBA_NUM_THREADS >= 2 and detect._threads_safe():
        assert set(seen) - {threading.get_ident()}, "no cluster ran in the pool"
    assert n_clusters(single) > 2
    np.testing.assert_array_equal(single.labels_, threaded.labels_)
    np.testing.assert_array_equal(single.probabilities_, threaded.probabilities_)
    np.testing.assert_array_equal(single.branch_labels_, threaded.branch_labels_)
    for a, b in zip(single.branch_linkage_trees_, threaded.branch_linkage_trees_):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


@pytest.mark.parametrize("name,params", [("stars", STARS), ("walks", WALKS)])
def test_approx_min_span_tree_has_no_effect(fit, name, params):
    a = fit(name, **params, approx_min_span_tree=True)
    b = fit(name, **params, approx_min_span_tree=False)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.probabilities_, b.probabilities_)
    np.testing.assert_array_equal(
        a.minimum_spanning_tree_.to_numpy(), b.minimum_spanning_tree_.to_numpy()
    )


@pytest.mark.parametrize(
    "params",
    [
        dict(algorithm="generic"),
        dict(algorithm="prims_kdtree"),
        dict(algorithm="boruvka_balltree"),
        dict(leaf_size=1),
        dict(leaf_size=1000),
    ],
    ids=lambda d: "-".join(f"{k}={v}" for k, v in d.items()),
)
def test_backend_parameters_have_no_effect(fit, params):
    """The spanning tree is always exact: backends and leaf sizes agree."""
    a = fit("nested", min_cluster_size=20, min_samples=5)
    b = fit("nested", min_cluster_size=20, min_samples=5, **params)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(b.core_distances_, a.core_distances_, rtol=1e-12)
    np.testing.assert_allclose(
        np.sort(b.minimum_spanning_tree_.to_numpy()[:, 2]),
        np.sort(a.minimum_spanning_tree_.to_numpy()[:, 2]),
        rtol=1e-12,
    )


def test_read_only_input(data):
    X, _ = data("stars")
    frozen = X.copy()
    frozen.setflags(write=False)
    a = FLASC(**STARS).fit(X)
    b = FLASC(**STARS).fit(frozen)
    np.testing.assert_array_equal(a.labels_, b.labels_)


# ------------------------------------------------------- overridden clusters


def _user_labels(y_cluster):
    # arbitrary, non-consecutive ids and assorted negatives for noise
    lab = np.where(y_cluster == 0, 7, 3).astype(np.intp)
    lab[::50] = -5
    lab[1::50] = -1
    return lab


def test_override_labels_runs_only_branch_pass(data):
    X, _ = data("stars")
    _, _, y_cluster = make_branching_stars(
        800, 2, n_clusters=2, n_branches=4, random_state=0, return_clusters=True
    )
    user = _user_labels(y_cluster)
    before = X.copy()
    model = FLASC(**STARS).fit(X, labels=user)
    check_invariants(model, before, X)
    expected = np.where(user == 3, 0, np.where(user == 7, 1, -1))
    np.testing.assert_array_equal(model.cluster_labels_, expected)
    assert model.cluster_persistence_ is None
    for name in ("condensed_tree_", "single_linkage_tree_", "minimum_spanning_tree_"):
        with pytest.raises(AttributeError, match="labels"):
            getattr(model, name)
    # branches are still found within the given clusters
    assert n_branches(model) == [4, 4]
    assert np.all(model.cluster_probabilities_[expected >= 0] == 1.0)


@pytest.mark.parametrize("method", ["full", "core"])
def test_override_with_own_clusters_reproduces_fit(fit, data, method):
    """Feeding a fit's clusters back in gives the same branches."""
    X, _ = data("stars")
    ref = fit("stars", **STARS, branch_detection_method=method)
    again = FLASC(**STARS, branch_detection_method=method).fit(
        X, labels=ref.cluster_labels_, probabilities=ref.cluster_probabilities_
    )
    np.testing.assert_array_equal(again.cluster_labels_, ref.cluster_labels_)
    np.testing.assert_array_equal(again.labels_, ref.labels_)
    np.testing.assert_allclose(again.cluster_centralities_, ref.cluster_centralities_, rtol=1e-12)


def test_override_probabilities_validation(data):
    X, _ = data("pairs")
    n = X.shape[0]
    labels = np.repeat([0, 1, 2, 3], 100)
    ok = np.full(n, 0.5)
    FLASC(min_cluster_size=20).fit(X, labels=labels, probabilities=ok)  # accepted
    with pytest.raises(ValueError, match="only be given together with labels"):
        FLASC(min_cluster_size=20).fit(X, probabilities=ok)
    with pytest.raises(ValueError, match="one value per sample"):
        FLASC(min_cluster_size=20).fit(X, labels=labels, probabilities=ok[:-1])
    for bad in (1.5, -0.1, np.nan, np.inf):
        p = ok.copy()
        p[3] = bad
        with pytest.raises(ValueError, match=r"finite values in \[0, 1\]"):
            FLASC(min_cluster_size=20).fit(X, labels=labels, probabilities=p)
    p = ok.copy()
    p[labels == 2] = 0.0
    with pytest.raises(ValueError, match="cluster 2 are all zero"):
        FLASC(min_cluster_size=20).fit(X, labels=labels, probabilities=p)
    with pytest.raises(ValueError, match="one cluster label per sample"):
        FLASC(min_cluster_size=20).fit(X, labels=labels[:-1])
    with pytest.raises(TypeError, match="integer cluster labels"):
        FLASC(min_cluster_size=20).fit(X, labels=labels + 0.5)


# ------------------------------------------------------------------ pipeline


def test_fit_predict_in_pipeline(data):
    X, _ = data("stars")
    X = X * np.array([3.0, 0.5]) + np.array([10.0, -4.0])  # scaling matters
    pipe = Pipeline([("scale", StandardScaler()), ("flasc", FLASC(**STARS))])
    got = pipe.fit_predict(X)
    direct = FLASC(**STARS).fit_predict(StandardScaler().fit_transform(X))
    np.testing.assert_array_equal(got, direct)
    np.testing.assert_array_equal(got, pipe.named_steps["flasc"].labels_)
    assert pipe.named_steps["flasc"].n_features_in_ == 2


def test_metric_names_follow_balltree():
    # the estimator lists BallTree's metric names itself (no sklearn.neighbors
    # import at package import); they must be exactly the installed ones
    from sklearn.neighbors import BallTree

    from flasc_cluster._estimator import _METRICS

    assert _METRICS == set(BallTree.valid_metrics) | {"precomputed"}


def test_import_does_not_load_sklearn_neighbors():
    import subprocess
    import sys

    code = "import sys, flasc_cluster; print('sklearn.neighbors' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
