"""Inputs of every shape and kind, degenerate data, bad parameters."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from flasc_cluster import FLASC
from flasc_cluster.datasets import make_branching_stars


@pytest.fixture(scope="module")
def stars():
    X, _ = make_branching_stars(n_samples=600, n_features=2, random_state=0)
    return X


@pytest.fixture(scope="module")
def reference_fit(stars):
    return FLASC(min_cluster_size=15).fit(stars)


def _same(model, ref):
    np.testing.assert_array_equal(model.labels_, ref.labels_)
    np.testing.assert_allclose(model.probabilities_, ref.probabilities_)


def test_array_likes(stars, reference_fit):
    pd = pytest.importorskip("pandas")
    variants = [
        stars.tolist(),
        pd.DataFrame(stars, columns=["a", "b"]),
        np.asfortranarray(stars),
    ]
    for X in variants:
        _same(FLASC(min_cluster_size=15).fit(X), reference_fit)


def test_float32_and_int_inputs(stars):
    FLASC(min_cluster_size=15).fit(stars.astype(np.float32))
    grid = np.round(stars * 10).astype(np.int64)
    labels = FLASC(min_cluster_size=15).fit_predict(grid)
    assert labels.shape == (stars.shape[0],)


def test_non_contiguous_read_only_and_memmap(stars, reference_fit, tmp_path):
    wide = np.zeros((stars.shape[0], 4))
    wide[:, ::2] = stars
    _same(FLASC(min_cluster_size=15).fit(wide[:, ::2]), reference_fit)
    ro = stars.copy()
    ro.flags.writeable = False
    _same(FLASC(min_cluster_size=15).fit(ro), reference_fit)
    path = tmp_path / "x.npy"
    np.save(path, stars)
    mm = np.load(path, mmap_mode="r")
    _same(FLASC(min_cluster_size=15).fit(mm), reference_fit)


def test_input_not_modified(stars):
    X = stars.copy()
    X[3] = np.nan
    before = X.copy()
    FLASC(min_cluster_size=15).fit(X)
    np.testing.assert_array_equal(X, before)


def test_non_finite_rows_are_labelled_and_ignored(stars, reference_fit):
    X = np.vstack([stars, [[np.nan, 0.0], [np.inf, 1.0], [0.0, -np.inf]]])
    model = FLASC(min_cluster_size=15).fit(X)
    np.testing.assert_array_equal(model.labels_[-3:], [-3, -2, -2])
    np.testing.assert_array_equal(model.cluster_labels_[-3:], [-3, -2, -2])
    np.testing.assert_array_equal(model.probabilities_[-3:], 0.0)
    np.testing.assert_array_equal(model.labels_[:-3], reference_fit.labels_)


def test_pickle_and_clone(reference_fit, stars):
    again = pickle.loads(pickle.dumps(reference_fit))
    _same(again, reference_fit)
    np.testing.assert_array_equal(
        again.condensed_tree_.to_numpy(), reference_fit.condensed_tree_.to_numpy()
    )
    _same(clone(reference_fit).fit(stars), reference_fit)
    from flasc_cluster import approximate_predict

    probe = stars[::7] + 0.01
    for a, b in zip(approximate_predict(again, probe), approximate_predict(reference_fit, probe)):
        np.testing.assert_array_equal(a, b)
    # re-selection reuses the pickled space (its kd-tree serves the branch pass)
    again.reselect(cluster_selection_method="leaf")
    fresh = FLASC(min_cluster_size=15, cluster_selection_method="leaf").fit(stars)
    assert not np.array_equal(fresh.cluster_labels_, reference_fit.cluster_labels_)
    _same(again, fresh)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("single", [False, True])
def test_tiny_inputs(n, single):
    X = np.arange(2 * n, dtype=float).reshape(n, 2)
    model = FLASC(allow_single_cluster=single).fit(X)
    assert model.labels_.shape == (n,)
    if single:
        np.testing.assert_array_equal(model.labels_, 0)
    else:
        np.testing.assert_array_equal(model.labels_, -1)


def test_empty_input_raises():
    with pytest.raises(ValueError, match="0 sample"):
        FLASC().fit(np.empty((0, 2)))


def test_identical_points():
    X = np.ones((40, 3))
    np.testing.assert_array_equal(FLASC().fit(X).labels_, -1)
    np.testing.assert_array_equal(FLASC(allow_single_cluster=True).fit(X).labels_, 0)


def test_duplicates_share_labels():
    rng = np.random.default_rng(1)
    base = np.vstack([rng.normal(size=(60, 2)), rng.normal(size=(60, 2)) + 8])
    X = np.repeat(base, 3, axis=0)
    for method in ("full", "core"):
        model = FLASC(min_cluster_size=10, branch_detection_method=method).fit(X)
        groups = model.labels_.reshape(-1, 3)
        assert np.all(groups == groups[:, :1])
        groups = model.cluster_labels_.reshape(-1, 3)
        assert np.all(groups == groups[:, :1])


def test_collinear_data():
    X = np.column_stack([np.linspace(0, 10, 200), np.zeros(200)])
    X = np.vstack([X, X + [30, 0]])
    model = FLASC(min_cluster_size=20).fit(X)
    assert model.cluster_labels_.max() == 1


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_values_near_float_limits_raise_clearly(scale, stars):
    with pytest.raises(ValueError, match="Rescale X"):
        FLASC().fit(stars * scale)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(min_cluster_size=1), "min_cluster_size"),
        (dict(min_cluster_size=2.5), "min_cluster_size"),
        (dict(min_samples=0), "min_samples"),
        (dict(min_branch_size=1), "min_branch_size"),
        (dict(metric="not-a-metric"), "metric"),
        (dict(p=0.5), "'p'"),
        (dict(alpha=0.0), "alpha"),
        (dict(cluster_selection_method="top"), "cluster_selection_method"),
        (dict(branch_detection_method="fast"), "branch_detection_method"),
        (dict(cluster_selection_epsilon=-1.0), "cluster_selection_epsilon"),
        (dict(branch_selection_persistence=-0.1), "branch_selection_persistence"),
        (dict(max_cluster_size=-1), "max_cluster_size"),
        (dict(allow_single_cluster="yes"), "allow_single_cluster"),
        (dict(n_jobs=0), "n_jobs"),
        (dict(algorithm="fastest"), "algorithm"),
    ],
)
def test_invalid_parameters(params, match, stars):
    with pytest.raises((ValueError, TypeError), match=match):
        FLASC(**params).fit(stars)


def test_precomputed_must_be_square():
    with pytest.raises(ValueError, match="square"):
        FLASC(metric="precomputed").fit(np.zeros((5, 4)))


def test_bad_override_labels(stars):
    with pytest.raises(ValueError, match="one cluster label per sample"):
        FLASC().fit(stars, labels=np.zeros(3, dtype=int))
    with pytest.raises(TypeError, match="integer"):
        FLASC().fit(stars, labels=np.full(stars.shape[0], 0.5))
    with pytest.raises(ValueError, match="only be given together"):
        FLASC().fit(stars, probabilities=np.ones(stars.shape[0]))


def test_million_point_chain_has_no_recursion_limit():
    """A 10^6-deep hierarchy (strictly growing gaps) fits without recursion."""
    from flasc_cluster.datasets import make_chain

    X = make_chain(1_000_000)
    model = FLASC(
        min_cluster_size=5, allow_single_cluster=True, branch_detection_method="core"
    ).fit(X)
    assert model.single_linkage_tree_.to_numpy().shape == (999_999, 4)
    np.testing.assert_array_equal(model.cluster_labels_, 0)


def test_grid_search(stars):
    from sklearn.model_selection import GridSearchCV

    def n_labels(estimator, X, y=None):
        labels = estimator.fit_predict(X)
        return float(np.unique(labels[labels >= 0]).shape[0])

    search = GridSearchCV(
        FLASC(), {"min_cluster_size": [10, 40]}, scoring=n_labels, cv=[(np.arange(600), np.arange(600))]
    ).fit(stars)
    assert search.best_params_["min_cluster_size"] in (10, 40)
    assert search.best_score_ >= 1


def test_repeated_fits_are_identical(stars):
    a = FLASC(min_cluster_size=15).fit(stars)
    b = FLASC(min_cluster_size=15).fit(stars)
    _same(a, b)
    np.testing.assert_array_equal(
        a.minimum_spanning_tree_.to_numpy(), b.minimum_spanning_tree_.to_numpy()
    )


def test_cluster_without_branches_keeps_one_label():
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(size=(300, 2)), rng.normal(size=(300, 2)) + [12, 0]])
    model = FLASC(min_cluster_size=30).fit(X)
    assert model.cluster_labels_.max() == 1
    # round blobs: no cluster is split, combined labels equal cluster labels
    np.testing.assert_array_equal(model.labels_, model.cluster_labels_)
    assert all(len(p) <= 2 for p in model.branch_persistences_)
    assert set(np.unique(model.branch_labels_[model.cluster_labels_ >= 0])) == {0}


def test_all_noise():
    X = np.arange(40, dtype=float).reshape(20, 2) ** 2  # spreading points
    model = FLASC(min_cluster_size=5).fit(X)
    np.testing.assert_array_equal(model.labels_, -1)
    assert model.cluster_points_ == []
    assert model.branch_persistences_ == []


def test_verbose_reports_stages_through_logging(stars, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="flasc_cluster"):
        FLASC(min_cluster_size=15, verbose=True).fit(stars)
    text = caplog.text
    for stage in ("backend: kd_tree", "neighbours", "spanning tree", "clusters", "branches"):
        assert stage in text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="flasc_cluster"):
        FLASC(min_cluster_size=15).fit(stars)
    assert caplog.text == ""
