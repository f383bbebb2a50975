"""Tests for flasc_cluster.datasets: shapes, determinism, labels, geometry, validation."""

import numpy as np
import pytest
from scipy.spatial import cKDTree

from flasc_cluster.datasets import (
    make_branching_stars,
    make_chain,
    make_flared_blobs,
    make_random_walk_clusters,
)

LABELLED = [make_branching_stars, make_flared_blobs, make_random_walk_clusters]


def _principal_ratios(points):
    """Explained-variance ratios of the principal components, largest first."""
    centred = points - points.mean(axis=0)
    singular = np.linalg.svd(centred, compute_uv=False)
    variance = singular**2
    return variance / variance.sum()


def _first_axis(points):
    centred = points - points.mean(axis=0)
    return np.linalg.svd(centred, full_matrices=False)[2][0]


# ---------------------------------------------------------------------------
# Shapes, dtypes, determinism
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("make", LABELLED)
@pytest.mark.parametrize("n_features", [2, 3, 7])
def test_shapes_and_dtypes(make, n_features):
    X, y, clusters = make(503, n_features, random_state=0, return_clusters=True)
    assert X.shape == (503, n_features)
    assert X.dtype == np.float64 and X.flags.c_contiguous
    assert np.isfinite(X).all()
    assert y.shape == clusters.shape == (503,)
    assert y.dtype == np.intp and clusters.dtype == np.intp
    # Ids are consecutive from 0 and every component got points.
    assert np.array_equal(np.unique(y), np.arange(y.max() + 1))
    assert np.array_equal(np.unique(clusters), np.arange(clusters.max() + 1))


@pytest.mark.parametrize("make", LABELLED)
def test_default_returns_pair(make):
    result = make(random_state=0)
    assert isinstance(result, tuple) and len(result) == 2


@pytest.mark.parametrize("make", LABELLED)
def test_deterministic_by_seed(make):
    X1, y1 = make(300, 3, random_state=42)
    X2, y2 = make(300, 3, random_state=42)
    X3, _ = make(300, 3, random_state=43)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("make", LABELLED)
def test_generator_and_random_state_inputs(make):
    X_int, _ = make(200, random_state=7)
    X_gen, _ = make(200, random_state=np.random.default_rng(7))
    assert np.array_equal(X_int, X_gen)
    X_rs1, _ = make(200, random_state=np.random.RandomState(3))
    X_rs2, _ = make(200, random_state=np.random.RandomState(3))
    assert np.array_equal(X_rs1, X_rs2)


@pytest.mark.parametrize("make", LABELLED)
def test_shuffle_only_permutes_rows(make):
    X_s, y_s = make(400, random_state=1, shuffle=True)
    X_o, y_o = make(400, random_state=1, shuffle=False)
    assert np.all(np.diff(y_o) >= 0)  # unshuffled rows are grouped by component
    assert not np.all(np.diff(y_s) >= 0)
    assert np.array_equal(np.bincount(y_s), np.bincount(y_o))


@pytest.mark.parametrize("make", LABELLED)
def test_output_spanning_several_row_chunks(make):
    """Outputs larger than one internal row chunk (65536 rows) are complete."""
    X, y = make(200_000, 2, random_state=0)
    assert X.shape == (200_000, 2) and np.isfinite(X).all()
    assert y.min() == 0


# ---------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("n_clusters, n_branches", [(1, 3), (3, 3), (4, 5), (2, 0)])
def test_star_label_counts(n_clusters, n_branches):
    n = 1001
    X, y, clusters = make_branching_stars(
        n, n_clusters=n_clusters, n_branches=n_branches, random_state=0,
        return_clusters=True,
    )
    counts = np.bincount(y)
    assert counts.size == n_clusters * (n_branches + 1)
    assert counts.max() - counts.min() <= 1 and counts.sum() == n
    assert np.array_equal(clusters, y // (n_branches + 1))


def test_flared_blob_label_counts():
    n = 10_000
    X, y, clusters = make_flared_blobs(
        n, n_clusters=6, n_flares=(1, 3), flare_fraction=0.3, random_state=0,
        return_clusters=True,
    )
    per_blob = np.bincount(clusters)
    assert per_blob.sum() == n and per_blob.max() - per_blob.min() <= 1
    n_components = np.bincount(clusters[np.unique(y, return_index=True)[1]])
    assert np.all((n_components >= 2) & (n_components <= 4))  # core + 1..3 flares
    # The first id of each blob is its core; the rest are its flares.
    first = np.concatenate(([0], np.cumsum(n_components)[:-1]))
    core_mask = np.isin(y, first)
    flare_share = 1.0 - np.bincount(clusters[core_mask]) / per_blob
    assert np.allclose(flare_share, 0.3, atol=1e-3)


def test_flared_blob_fixed_flares():
    _, y, clusters = make_flared_blobs(
        900, n_clusters=3, n_flares=2, random_state=0, return_clusters=True
    )
    assert y.max() + 1 == 9
    assert np.array_equal(clusters, y // 3)


def test_flared_blob_without_flares_is_blobs():
    _, y, clusters = make_flared_blobs(
        300, n_clusters=3, n_flares=0, random_state=0, return_clusters=True
    )
    assert np.array_equal(y, clusters)


def test_random_walk_label_counts():
    X, y, clusters = make_random_walk_clusters(
        1000, n_clusters=4, n_walks=5, random_state=0, return_clusters=True
    )
    assert np.array_equal(np.bincount(y), np.full(20, 50))
    assert np.array_equal(clusters, y // 5)


def test_random_walk_steps_are_axis_aligned():
    X, y = make_random_walk_clusters(
        600, 3, n_clusters=2, n_walks=3, noise=0.0, shuffle=False, random_state=0
    )
    for walk in range(6):
        steps = np.diff(X[y == walk], axis=0)
        assert np.all(np.count_nonzero(steps, axis=1) <= 1)


def test_random_walks_of_one_cluster_share_an_origin():
    X, y = make_random_walk_clusters(
        500, 2, n_clusters=1, n_walks=5, step_std=0.1, noise=0.0, shuffle=False,
        random_state=0,
    )
    firsts = X[np.searchsorted(y, np.arange(5))]
    # First positions are one step (|N(0, 0.1)|) away from the common origin.
    assert np.ptp(firsts, axis=0).max() < 1.0


# ---------------------------------------------------------------------------
# Geometry of the stars: separated linear arms
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_features", [2, 3])
def test_star_arms_are_linear(seed, n_features):
    X, y = make_branching_stars(
        2000, n_features, n_clusters=3, n_branches=4, random_state=seed
    )
    for component in range(y.max() + 1):
        ratios = _principal_ratios(X[y == component])
        if component % 5 == 0:  # a centre: isotropic
            assert ratios[0] < 0.8
        else:  # an arm: one dominant direction
            assert ratios[0] > 0.9


@pytest.mark.parametrize("seed", range(5))
def test_star_arms_point_away_in_distinct_directions(seed):
    n_branches = 5
    X, y = make_branching_stars(
        3000, 2, n_clusters=3, n_branches=n_branches, random_state=seed
    )
    min_angle = 0.6 * 2 * np.pi / n_branches - 1e-2  # jitter bound, minus slack
    for star in range(3):
        ids = star * (n_branches + 1) + np.arange(n_branches + 1)
        centre = X[y == ids[0]].mean(axis=0)
        directions = []
        for arm in ids[1:]:
            points = X[y == arm]
            axis = _first_axis(points)
            outward = points.mean(axis=0) - centre
            # The arm's principal axis points away from its own centre.
            assert abs(axis @ outward) / np.linalg.norm(outward) > 0.99
            directions.append(outward / np.linalg.norm(outward))
        directions = np.array(directions)
        angles = np.arccos(np.clip(directions @ directions.T, -1, 1))
        angles[np.diag_indices(n_branches)] = np.pi
        assert angles.min() > min_angle


@pytest.mark.parametrize("make", [make_branching_stars, make_flared_blobs])
@pytest.mark.parametrize("n_features", [2, 4])
def test_clusters_are_well_separated(make, n_features):
    X, _, clusters = make(3000, n_features, random_state=0, return_clusters=True)
    gaps, spreads = [], []
    for c in range(clusters.max() + 1):
        inside, outside = X[clusters == c], X[clusters != c]
        gaps.append(cKDTree(outside).query(inside)[0].min())
        # Typical within-cluster nearest-neighbour distance.
        spreads.append(np.median(cKDTree(inside).query(inside, k=2)[0][:, 1]))
    assert min(gaps) > 10 * max(spreads)


def test_flares_are_linear_and_attached():
    X, y, clusters = make_flared_blobs(
        20_000, 3, n_clusters=4, random_state=0, return_clusters=True
    )
    first_ids = np.unique(y, return_index=True)[1]
    n_components = np.bincount(clusters[first_ids])
    cores = np.concatenate(([0], np.cumsum(n_components)[:-1]))
    for component in range(y.max() + 1):
        if component in cores:
            continue
        points = X[y == component]
        assert _principal_ratios(points)[0] > 0.95
        blob = clusters[y == component][0]
        centre = X[y == cores[blob]].mean(axis=0)
        # The flare starts at the blob centre.
        assert np.linalg.norm(points - centre, axis=1).min() < 0.5


def test_center_box_is_respected():
    X, y, clusters = make_branching_stars(
        600, n_clusters=2, center_box=(100.0, 200.0), noise=0.0, center_std=0.0,
        random_state=0, return_clusters=True,
    )
    centres = X[y % 4 == 0]  # zero std: all centre points sit on the centre
    assert np.all((centres >= 100.0) & (centres <= 200.0))


# ---------------------------------------------------------------------------
# Chain
# ---------------------------------------------------------------------------
def test_chain_gaps_strictly_increase_and_are_exact():
    X = make_chain(10_000)
    assert X.shape == (10_000, 1) and X.dtype == np.float64
    gaps = np.diff(X[:, 0])
    assert np.array_equal(gaps, np.arange(1, 10_000, dtype=np.float64))
    assert np.all(np.diff(gaps) > 0)


def test_chain_features_and_shuffle():
    X = make_chain(50, 3)
    assert X.shape == (50, 3) and not X[:, 1:].any()
    X_s = make_chain(50, 3, shuffle=True, random_state=0)
    assert not np.array_equal(X_s, X)
    assert np.array_equal(np.sort(X_s[:, 0]), X[:, 0])
    assert np.array_equal(X_s, make_chain(50, 3, shuffle=True, random_state=0))


def test_chain_is_a_chain_hierarchy():
    """Single linkage adds one point per merge, at increasing heights."""
    hierarchy = pytest.importorskip("scipy.cluster.hierarchy")
    X = make_chain(200)
    Z = hierarchy.linkage(X, method="single")
    assert np.all(np.diff(Z[:, 2]) > 0)
    assert np.array_equal(np.sort(Z[:, 3])[:-1] + 1, np.sort(Z[:, 3])[1:])
    assert Z[-1, 3] == 200


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, kwargs, name",
    [
        (make_branching_stars, {"n_samples": 0}, "n_samples"),
        (make_branching_stars, {"n_samples": 10.0}, "n_samples"),
        (make_branching_stars, {"n_samples": True}, "n_samples"),
        (make_branching_stars, {"n_features": 1}, "n_features"),
        (make_branching_stars, {"n_clusters": 0}, "n_clusters"),
        (make_branching_stars, {"n_branches": -1}, "n_branches"),
        (make_branching_stars, {"branch_length": 0.0}, "branch_length"),
        (make_branching_stars, {"noise": -0.1}, "noise"),
        (make_branching_stars, {"noise": float("nan")}, "noise"),
        (make_branching_stars, {"center_std": "0.1"}, "center_std"),
        (make_branching_stars, {"center_box": (1.0, 1.0)}, "center_box"),
        (make_branching_stars, {"center_box": (0.0, 0.1)}, "center_box"),
        (make_branching_stars, {"shuffle": 1}, "shuffle"),
        (make_branching_stars, {"random_state": "seed"}, "random_state"),
        (make_branching_stars, {"random_state": -1}, "random_state"),
        (make_branching_stars, {"n_samples": 5}, "n_samples"),
        (make_flared_blobs, {"n_flares": -1}, "n_flares"),
        (make_flared_blobs, {"n_flares": (3, 1)}, "n_flares"),
        (make_flared_blobs, {"n_flares": (1, 2, 3)}, "n_flares"),
        (make_flared_blobs, {"flare_fraction": 1.0}, "flare_fraction"),
        (make_flared_blobs, {"flare_length": -1.0}, "flare_length"),
        (make_flared_blobs, {"flare_std": -1.0}, "flare_std"),
        (make_flared_blobs, {"cluster_std": float("inf")}, "cluster_std"),
        (make_flared_blobs, {"n_samples": 20}, "n_samples"),
        (make_flared_blobs, {"n_samples": 100, "flare_fraction": 0.001}, "n_samples"),
        (make_flared_blobs, {"return_clusters": None}, "return_clusters"),
        (make_random_walk_clusters, {"n_walks": 0}, "n_walks"),
        (make_random_walk_clusters, {"step_std": 0.0}, "step_std"),
        (make_random_walk_clusters, {"n_features": 0}, "n_features"),
        (make_random_walk_clusters, {"n_samples": 19}, "n_samples"),
        (make_random_walk_clusters, {"center_box": "box"}, "center_box"),
        (make_chain, {"n_samples": 1}, "n_samples"),
        (make_chain, {"n_samples": 10**9}, "n_samples"),
        (make_chain, {"n_features": 0}, "n_features"),
        (make_chain, {"random_state": 1.5}, "random_state"),
    ],
)
def test_invalid_arguments_name_the_parameter(make, kwargs, name):
    with pytest.raises(ValueError, match=name):
        make(**kwargs)


def test_numpy_integer_and_real_arguments_are_accepted():
    X, y = make_branching_stars(
        np.int64(100), np.int32(2), n_clusters=np.int16(2), branch_length=np.float32(1.5),
        random_state=np.int64(0),
    )
    assert X.shape == (100, 2)


# ---------------------------------------------------------------------------
# Oracle: FLASC recovers the stars
# ---------------------------------------------------------------------------
def test_pyflasc_recovers_star_clusters_and_arms():
    from sklearn.metrics import adjusted_rand_score

    from _reference import run_pyflasc

    X, y, clusters = make_branching_stars(1000, random_state=0, return_clusters=True)
    result = run_pyflasc(X, min_cluster_size=30)
    assert adjusted_rand_score(clusters, result["cluster_labels"]) == 1.0
    # 3 stars x (centre + 3 arms); arm points near the centre may take the
    # centre's label, so ARI is high but not 1.
    assert np.unique(result["labels"]).size == 12
    assert adjusted_rand_score(y, result["labels"]) > 0.7
