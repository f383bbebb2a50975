"""Re-selection on a fitted model equals a fresh fit."""

import numpy as np
import pytest

from _reference import load_diabetes, load_flared, load_horse
from flasc_cluster import FLASC
from flasc_cluster._branches import detect
from flasc_cluster.datasets import make_branching_stars, make_flared_blobs, make_random_walk_clusters

CHANGES = [
    dict(min_cluster_size=30),
    dict(cluster_selection_method="leaf"),
    dict(cluster_selection_epsilon=0.05),
    dict(cluster_selection_persistence=2.0),
    dict(max_cluster_size=300),
    dict(min_branch_size=10),
    dict(branch_selection_method="leaf"),
    dict(branch_selection_persistence=0.05),
    dict(label_sides_as_branches=True),
    dict(allow_single_branch=True, max_branch_size=100),
    dict(min_cluster_size=25, min_branch_size=8, branch_selection_epsilon=0.5),
]

SETS = {
    "flared": (load_flared, dict(min_cluster_size=15, min_samples=5)),
    "horse": (load_horse, dict(min_cluster_size=40, min_samples=10)),
    "diabetes": (load_diabetes, dict(min_cluster_size=10, min_samples=5, allow_single_cluster=True)),
    "stars": (lambda: make_branching_stars(1500, 3, random_state=2)[0], dict(min_cluster_size=15, min_samples=8)),
    "walks": (
        lambda: make_random_walk_clusters(3000, 3, n_clusters=12, random_state=4)[0],
        dict(min_cluster_size=15, min_samples=5),
    ),
}


def _same(a, b):
    for name in ("labels_", "probabilities_", "cluster_labels_", "cluster_probabilities_",
                 "branch_labels_", "branch_probabilities_", "cluster_centralities_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_array_equal(a.condensed_tree_.to_numpy(), b.condensed_tree_.to_numpy())
    np.testing.assert_array_equal(a.condensed_tree_.selected_ids, b.condensed_tree_.selected_ids)
    assert len(a.branch_persistences_) == len(b.branch_persistences_)
    for pa, pb in zip(a.branch_persistences_, b.branch_persistences_):
        np.testing.assert_array_equal(pa, pb)
    # the hierarchies a fit keeps in compact form, derived when asked for
    for ta, tb in zip(a.branch_condensed_trees_, b.branch_condensed_trees_, strict=True):
        assert (ta is None) == (tb is None)
        if ta is not None:
            np.testing.assert_array_equal(ta.to_numpy(), tb.to_numpy())
            np.testing.assert_array_equal(ta.selected_ids, tb.selected_ids)
    for la, lb in zip(a.branch_linkage_trees_, b.branch_linkage_trees_, strict=True):
        assert (la is None) == (lb is None)
        if la is not None:
            np.testing.assert_array_equal(la.to_numpy(), lb.to_numpy())


@pytest.mark.parametrize("method", ["full", "core"])
@pytest.mark.parametrize("name", list(SETS))
def test_reselect_equals_fresh_fit(name, method):
    loader, base = SETS[name]
    X = loader()
    model = FLASC(branch_detection_method=method, **base).fit(X)
    defaults = FLASC().get_params()
    for change in CHANGES + [{}]:
        params = dict(base, branch_detection_method=method, **change)
        # every selection parameter: the base value, or this step's change
        model.reselect(**{k: params.get(k, defaults[k]) for k in FLASC._RESELECTABLE})
        _same(model, FLASC(**params).fit(X))


@pytest.mark.parametrize("method", ["full", "core"])
def test_branch_only_changes_reuse_every_branch_hierarchy(method, monkeypatch):
    loader, base = SETS["walks"]
    X = loader()
    model = FLASC(branch_detection_method=method, **base).fit(X)
    assert len(model.cluster_points_) > 5

    def no_sweep(*args, **kwargs):
        raise AssertionError("a kept branch hierarchy was computed again")

    monkeypatch.setattr(detect, "_batch_branches", no_sweep)
    monkeypatch.setattr(detect, "detect_cluster_branches", no_sweep)
    for change in (dict(min_branch_size=30), dict(branch_selection_method="leaf"),
                   dict(label_sides_as_branches=True, branch_selection_persistence=0.1)):
        model.reselect(**change)
        monkeypatch.undo()
        _same(model, FLASC(branch_detection_method=method, **dict(base, **change)).fit(X))
        monkeypatch.setattr(detect, "_batch_branches", no_sweep)
        monkeypatch.setattr(detect, "detect_cluster_branches", no_sweep)
        model.reselect(**{k: FLASC().get_params()[k] for k in change})


def test_cluster_reselection_reuses_the_condensed_tree_of_the_same_minimum_size(monkeypatch):
    from flasc_cluster import _fit

    loader, base = SETS["walks"]
    X = loader()
    model = FLASC(**base).fit(X)
    given = []
    real = _fit.extract_flat_clustering

    def spy(linkage, **kwargs):
        given.append(kwargs["condensed"])
        return real(linkage, **kwargs)

    monkeypatch.setattr(_fit, "extract_flat_clustering", spy)
    tree = model._result.cluster.flat.unsimplified
    model.reselect(cluster_selection_persistence=0.5)
    assert given[-1] is tree
    # the simplified tree is not the one kept for the next re-selection
    assert model._result.cluster.flat.unsimplified is tree
    assert model._result.cluster.flat.condensed_tree.parent.shape[0] < tree.parent.shape[0]
    model.reselect(cluster_selection_persistence=0.0, cluster_selection_method="leaf")
    assert given[-1] is tree
    model.reselect(min_cluster_size=base["min_cluster_size"] + 5)
    assert given[-1] is None
    _same(model, FLASC(**dict(base, min_cluster_size=base["min_cluster_size"] + 5,
                             cluster_selection_method="leaf")).fit(X))


def test_previous_clusters_match_a_loop_over_each_cluster():
    """The earlier label all of a cluster's points had (else -1) and whether
    all kept their probability, against a plain loop per cluster: clusters
    that keep, split off from, merge or drop noise, and one without points."""
    from flasc_cluster._branches.batch import previous_clusters

    rng = np.random.default_rng(5)
    n, n_clusters = 400, 7
    old_labels = rng.integers(-1, 5, n)
    labels = old_labels.copy()
    labels[old_labels == 0] = 0  # kept whole
    labels[old_labels == 1] = 1  # kept, probabilities change below
    labels[(old_labels == 2) & (np.arange(n) % 2 == 0)] = 2  # split
    labels[(old_labels == 2) & (np.arange(n) % 2 == 1)] = 3
    labels[(old_labels == 3) | (old_labels == 4)] = 4  # merged
    labels[old_labels == -1] = -1
    labels[np.flatnonzero(old_labels == -1)[:5]] = 5  # formerly noise
    # cluster 6 has no points
    old_probabilities = rng.uniform(size=n)
    probabilities = old_probabilities.copy()
    probabilities[np.flatnonzero(labels == 1)[3]] += 0.25
    old_label = np.empty(n_clusters, dtype=np.intp)
    same = np.empty(n_clusters, dtype=bool)
    previous_clusters(labels, old_labels, old_probabilities, probabilities, old_label, same)
    for c in range(n_clusters):
        members = np.flatnonzero(labels == c)
        found = set(old_labels[members].tolist())
        expected = found.pop() if len(found) == 1 else -1
        assert old_label[c] == expected, c
        if expected >= 0:
            assert same[c] == bool(
                np.all(old_probabilities[members] == probabilities[members])
            ), c
    assert old_label.tolist()[:5] == [0, 1, 2, 2, -1]
    assert old_label[5] == -1 and old_label[6] == -1
    assert same[0] and not same[1]


def test_recentred_in_same_order_checks_order_and_ties():
    from flasc_cluster._branches.batch import recentred_in_same_order

    # cluster 0 around (0, 0) with two ties; cluster 1 without ties
    X = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 2.0], [0.0, -2.0],
                  [10.0, 0.0], [13.0, 0.0], [11.0, 2.0]])
    points = np.arange(7)
    bounds = np.array([0, 4, 7])

    def check(old, weights=np.ones(7)):
        results = []
        # with joiners that decide nothing (one point repeated: the sort
        # decides), and with the joiners of a tree over the points in the
        # order of ``old`` (each but the first joins; local ids)
        none = np.zeros(5, dtype=np.intp)
        in_order = np.concatenate([
            np.argsort(old[:4], kind="stable")[1:], np.argsort(old[4:], kind="stable")[1:]
        ])
        for joiners in (none, in_order):
            new = np.empty(7)
            same = np.zeros(2, dtype=bool)
            recentred_in_same_order(
                X, points, bounds, np.arange(2), weights, 2.0, old, joiners, new, same
            )
            results.append((new, same.tolist()))
        np.testing.assert_array_equal(results[0][0], results[1][0])
        assert results[0][1] == results[1][1]
        return results[0]

    new, _ = check(np.zeros(7))
    np.testing.assert_array_equal(new[:4], [1.0, 1.0, 0.5, 0.5])
    centroid = X[4:].mean(axis=0)
    np.testing.assert_allclose(new[4:], 1 / np.linalg.norm(X[4:] - centroid, axis=1))
    assert len(set(new[4:].tolist())) == 3
    assert check(new.copy()) [1] == [True, True]
    assert check(new * 0.5)[1] == [True, True]  # scaled: the same order
    old = new.copy()
    old[[4, 5]] = new[[5, 4]]  # two points of cluster 1 swapped
    assert check(old)[1] == [True, False]
    old = new.copy()
    old[1] = np.nextafter(old[0], np.inf)  # a tie the old values lacked
    assert check(old)[1] == [False, True]
    old = new.copy()
    old[0] = old[1] = old[2] = 0.7  # a tie the new values lack
    assert check(old)[1] == [False, True]
    # other weights move the centroid of cluster 0 off its ties
    moved, same = check(new.copy(), np.array([1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0]))
    assert moved[0] != moved[1] and same == [False, True]


@pytest.mark.parametrize("method", ["full", "core"])
def test_clusters_that_keep_their_centrality_order_keep_their_tree(method, monkeypatch):
    X = make_random_walk_clusters(6000, 2, n_clusters=30, random_state=3)[0]
    base = dict(min_cluster_size=15, min_samples=5, branch_detection_method=method)
    model = FLASC(**base).fit(X)
    swept = []
    real = detect._batch_branches

    def spy(space, clusters, *args):
        swept.append(clusters.shape[0])
        return real(space, clusters, *args)

    monkeypatch.setattr(detect, "_batch_branches", spy)
    change = dict(cluster_selection_persistence=0.5)
    model.reselect(**change)
    during = list(swept)  # the re-selection's calls only
    fresh = FLASC(**base, **change).fit(X)
    _same(model, fresh)
    n_clusters = len(model.cluster_points_)
    before = FLASC(**base).fit(X)
    changed = [
        not np.array_equal(before.cluster_probabilities_[p], fresh.cluster_probabilities_[p])
        for p in fresh.cluster_points_
    ]
    assert sum(changed) > n_clusters // 2  # most clusters' probabilities changed ...
    # ... and yet most clusters kept their tree
    assert sum(during) < n_clusters // 2


@pytest.mark.parametrize("method", ["full", "core"])
def test_centralities_of_the_order_check_feed_the_branch_kernels(method, monkeypatch):
    """The clusters that fail the order check are swept with the
    centralities the check formed (``known`` rows), not formed again, and
    the re-selection still equals a fresh fit."""
    X = make_random_walk_clusters(6000, 2, n_clusters=30, random_state=3)[0]
    base = dict(min_cluster_size=15, min_samples=5, branch_detection_method=method)
    model = FLASC(**base).fit(X)
    known = []
    names = (f"{method}_clusters", f"{method}_open")
    for name in names:  # whole, or a cluster in two stages
        kernel = getattr(detect, name)

        def spy(*args, _kernel=kernel):
            known.append(args[-2].copy())
            return _kernel(*args)

        monkeypatch.setattr(detect, name, spy)
    change = dict(cluster_selection_persistence=0.5)
    model.reselect(**change)
    flags = np.concatenate(known)
    assert flags.any()
    _same(model, FLASC(**base, **change).fit(X))


def test_reselect_without_min_samples_recomputes():
    X = load_flared()
    model = FLASC(min_cluster_size=10).fit(X)
    model.reselect(min_cluster_size=25)
    _same(model, FLASC(min_cluster_size=25).fit(X))


def test_reselect_rejects_other_parameters():
    X = load_flared()
    model = FLASC(min_cluster_size=10).fit(X)
    with pytest.raises(ValueError, match="cannot change"):
        model.reselect(min_samples=3)
    with pytest.raises(ValueError, match="min_cluster_size"):
        model.reselect(min_cluster_size=1)
    assert model.min_cluster_size == 10
    # a valid change beside an invalid one is undone too
    labels = model.labels_.copy()
    with pytest.raises(ValueError, match="min_cluster_size"):
        model.reselect(min_branch_size=7, min_cluster_size=1)
    assert model.min_branch_size is None and model.min_cluster_size == 10
    np.testing.assert_array_equal(model.labels_, labels)


def test_put_known_writes_each_known_cluster_at_its_batch_rows():
    from flasc_cluster._branches.batch import put_known

    clusters = np.array([1, 4, 6, 9], dtype=np.intp)
    bounds = np.array([0, 3, 5, 9, 10], dtype=np.intp)
    ids = np.array([4, 5, 9], dtype=np.intp)  # 5 is not in the batch
    first = np.array([0, 2, 3], dtype=np.intp)
    values = np.array([0.5, 0.25, 7.0, 3.0])
    centrality = np.full(10, -1.0)
    known = np.zeros(4, dtype=np.bool_)
    put_known(clusters, bounds, ids, first, values, centrality, known)
    expected = np.full(10, -1.0)
    expected[3:5] = [0.5, 0.25]
    expected[9] = 3.0
    np.testing.assert_array_equal(centrality, expected)
    np.testing.assert_array_equal(known, [False, True, False, True])


@pytest.mark.parametrize("method", ["full", "core"])
def test_batch_results_are_built_when_asked_and_survive_pickling(method):
    import pickle

    X = make_random_walk_clusters(6000, 2, n_clusters=30, random_state=3)[0]
    base = dict(min_cluster_size=15, min_samples=5, branch_detection_method=method)
    model = FLASC(**base).fit(X)
    clusters = model._result.branches.clusters
    assert isinstance(clusters, detect.ClusterResults) and len(clusters) > 20
    # a fit builds no cluster's result of its batch; asking builds them
    assert all(item is None for item in clusters._items)
    again = pickle.loads(pickle.dumps(model))
    assert all(item is None for item in again._result.branches.clusters._items)
    _same(again, model)
    assert all(item is not None for item in again._result.branches.clusters._items)
    # a pickled model re-selects from the arrays, twice over
    params = dict(base)
    for change in (dict(min_cluster_size=25), dict(cluster_selection_persistence=0.5)):
        params.update(change)
        model = pickle.loads(pickle.dumps(model.reselect(**change)))
        _same(model, FLASC(**params).fit(X))


@pytest.mark.parametrize("method", ["full", "core"])
def test_kept_clusters_gather_what_a_fresh_gather_gives(method, monkeypatch):
    from flasc_cluster._branches.batch import gather_batch

    X = make_flared_blobs(9000, 2, n_clusters=3, random_state=1)[0]
    base = dict(min_cluster_size=15, min_samples=5, branch_detection_method=method)
    model = FLASC(**base).fit(X)
    real = detect._gather_kept
    compared = []

    def spy(kept, n):
        gathered = real(kept, n)
        if gathered is not None:
            # copies: the kernels renumber ``local`` afterwards
            compared.append([np.array(a, copy=True) for a in gathered])
        return gathered

    monkeypatch.setattr(detect, "_gather_kept", spy)
    change = dict(min_cluster_size=30)
    model.reselect(**change)
    assert compared, "no cluster kept an earlier batch's points"
    result = model._result
    labels = result.cluster_labels
    _, bounds = detect.label_order(labels, np.empty(0, np.intp), result.n_clusters)
    batched = np.flatnonzero(np.diff(bounds) >= 2)
    fresh = gather_batch(labels, bounds, batched, result.cluster.min_spanning_tree,
                         result.space.mst_tree.idx_array)
    for got, want in zip(compared[0], fresh, strict=True):
        np.testing.assert_array_equal(got, want)
    _same(model, FLASC(**dict(base, **change)).fit(X))


def test_the_same_cluster_labels_keep_their_order(monkeypatch):
    X = make_flared_blobs(9000, 2, n_clusters=3, random_state=1)[0]
    base = dict(min_cluster_size=15, min_samples=5)
    model = FLASC(**base).fit(X)
    calls = []
    real = detect.label_order

    def spy(labels, *args):
        calls.append(labels.shape[0])
        return real(labels, *args)

    monkeypatch.setattr(detect, "label_order", spy)
    # the flared clusters keep their points: the order of the labels is kept
    change = dict(min_cluster_size=30)
    model.reselect(**change)
    before = np.array_equal(model.cluster_labels_, FLASC(**base).fit(X).cluster_labels_)
    assert before and calls.count(X.shape[0]) == 1  # the fresh fit's only
    calls.clear()
    _same(model, FLASC(**dict(base, **change)).fit(X))
    # other labels: sorted again
    calls.clear()
    model.reselect(cluster_selection_method="leaf")
    assert calls.count(X.shape[0]) == 1
    _same(model, FLASC(**dict(base, **change, cluster_selection_method="leaf")).fit(X))


@pytest.mark.parametrize("method", ["full", "core"])
def test_results_held_as_a_plain_list_reselect_too(method):
    """A model whose branch results are a plain list without the label
    order (as an earlier version pickled them) re-selects the same."""
    X = make_random_walk_clusters(6000, 2, n_clusters=30, random_state=3)[0]
    base = dict(min_cluster_size=15, min_samples=5, branch_detection_method=method)
    model = FLASC(**base).fit(X)
    result = model._result
    branches = result.branches._replace(clusters=list(result.branches.clusters),
                                        label_order=None)
    model._result = result._replace(branches=branches)
    change = dict(min_cluster_size=25)
    model.reselect(**change)
    _same(model, FLASC(**dict(base, **change)).fit(X))
