"""Shared test helpers: real data sets, oracle implementations, partition checks.

Import from tests as ``from _reference import ...`` (``conftest.py`` puts this
folder on ``sys.path``).

Data
    The real data sets live outside the repository, in ``shared/data`` next
    to the clone (``/work/shared/data`` for a clone at ``/work/main``). Set
    ``FLASC_SHARED_DATA`` to point elsewhere. Every loader calls
    ``pytest.skip`` when its file is missing, so a clone without the data
    still passes.

Oracles
    :func:`run_pyflasc` (pyflasc's ``flasc.FLASC``) and
    :func:`run_hdbscan_branches` (``hdbscan.HDBSCAN`` followed by
    ``hdbscan.BranchDetector``) take the same FLASC-named keyword arguments
    and return dicts with the same keys, so a differential test can call
    either. Both ``pytest.importorskip`` their package and silence the
    deprecation chatter of those packages locally (the suite runs with
    ``filterwarnings = ["error"]``).

    Measured on ``flared.npy`` (pyflasc 0.1.4, hdbscan 0.8.44): with
    ``branch_detection_method="full"`` every returned array is identical
    (labels, probabilities, centralities, persistences) for
    min_cluster_size 5, 15 and 20, with and without
    ``label_sides_as_branches``. With ``"core"`` only the cluster part and
    the centralities agree; branch labels differ (ARI of ``labels`` 0.74 at
    min_cluster_size=5, 0.99 at 15). The two build different core graphs:
    hdbscan's ``BranchDetectionData`` queries ``k=min_samples`` neighbours
    including the point itself, and its graph has self-loops and repeated
    rows for the same pair, which scipy's COO->CSR conversion sums before
    the MST. Use "full" for exact differential tests.
"""

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.cluster import contingency_matrix

__all__ = [
    "SHARED_DATA",
    "ORACLE_KEYS",
    "assert_same_partition",
    "describe_partition_mismatch",
    "load_diabetes",
    "load_elegans_2d",
    "load_elegans_3d",
    "load_flared",
    "load_horse",
    "run_hdbscan_branches",
    "run_pyflasc",
]


def _shared_data_dir():
    override = os.environ.get("FLASC_SHARED_DATA")
    if override:
        return Path(override).expanduser().resolve()
    # tests/_reference.py -> parents[0] = tests, [1] = the clone, [2] = its parent,
    # which holds shared/ beside the clone (locally /work/shared/data).
    return Path(__file__).resolve().parents[2] / "shared" / "data"


#: Folder with the real data sets (override with ``FLASC_SHARED_DATA``).
SHARED_DATA = _shared_data_dir()

#: Keys of the dicts returned by the oracle runners.
ORACLE_KEYS = (
    "labels",
    "probabilities",
    "cluster_labels",
    "cluster_probabilities",
    "branch_labels",
    "branch_probabilities",
    "cluster_persistence",
    "branch_persistences",
    "centralities",
)

#: Columns of diabetes.csv used as features (Reaven & Miller 1979), in order:
#: relative weight, fasting plasma glucose, glucose area (glutest), insulin
#: area (instest), steady-state plasma glucose (sspg).
DIABETES_FEATURES = (
    "relative weight",
    "fasting plasma glucose",
    "glucose area",
    "insulin area",
    "sspg",
)
DIABETES_CLASS = "clinical classification"


# ---------------------------------------------------------------------------
# Data loaders
# ---------------------------------------------------------------------------
def _data_file(name):
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"data file {name} not found in {SHARED_DATA} (set FLASC_SHARED_DATA)")
    return path


def load_flared():
    """The 2-D ``flared`` toy set of the FLASC paper.

    Returns
    -------
    X : ndarray of shape (2529, 2), dtype float64
    """
    return np.ascontiguousarray(np.load(_data_file("flared.npy")), dtype=np.float64)


def load_horse():
    """Points of a 3-D horse mesh (columns ``x, y, z``).

    Returns
    -------
    X : ndarray of shape (8431, 3), dtype float64
    """
    path = _data_file("horse.csv")
    with path.open() as handle:
        header = [name.strip() for name in handle.readline().split(",")]
    if header != ["x", "y", "z"]:
        raise ValueError(f"unexpected header in {path}: {header}")
    return np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)


def load_diabetes(*, return_classes=False):
    """Reaven & Miller's (1979) chemical and overt diabetes data, standardised.

    The five measurements of :data:`DIABETES_FEATURES`, each scaled to zero
    mean and unit variance with ``sklearn.preprocessing.StandardScaler``.

    Parameters
    ----------
    return_classes : bool, default=False
        Also return the clinical classification (1 overt diabetic,
        2 chemical diabetic, 3 normal).

    Returns
    -------
    X : ndarray of shape (145, 5), dtype float64
    classes : ndarray of shape (145,), dtype intp
        Only if ``return_classes=True``.
    """
    from sklearn.preprocessing import StandardScaler

    path = _data_file("diabetes.csv")
    with path.open() as handle:
        header = [name.strip() for name in handle.readline().split(",")]
    missing = [c for c in (*DIABETES_FEATURES, DIABETES_CLASS) if c not in header]
    if missing:
        raise ValueError(f"columns {missing} not in {path} (header: {header})")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    columns = [header.index(c) for c in DIABETES_FEATURES]
    X = StandardScaler().fit_transform(table[:, columns])
    if return_classes:
        return X, table[:, header.index(DIABETES_CLASS)].astype(np.intp)
    return X


def _load_elegans(name, dropna):
    X = np.load(_data_file(name)).astype(np.float64)
    if dropna:
        X = X[np.isfinite(X).all(axis=1)]
    return np.ascontiguousarray(X)


def load_elegans_3d(*, dropna=True):
    """3-D embedding of the C. elegans embryo single-cell data (Packer et al. 2019).

    The file holds 6188 rows stored as float32, of which 566 are entirely NaN.

    Parameters
    ----------
    dropna : bool, default=True
        Drop the all-NaN rows.

    Returns
    -------
    X : ndarray of shape (5622, 3) or (6188, 3), dtype float64
    """
    return _load_elegans("elegans_3d.npy", dropna)


def load_elegans_2d(*, dropna=True):
    """2-D embedding of the C. elegans data; same rows as :func:`load_elegans_3d`.

    Returns
    -------
    X : ndarray of shape (5622, 2) or (6188, 2), dtype float64
    """
    return _load_elegans("elegans_2d.npy", dropna)


# ---------------------------------------------------------------------------
# Oracles
# ---------------------------------------------------------------------------
def _as_result(labels, probabilities, cluster_labels, cluster_probabilities,
               branch_labels, branch_probabilities, cluster_persistence,
               branch_persistences, centralities):
    return {
        "labels": np.asarray(labels, dtype=np.intp),
        "probabilities": np.asarray(probabilities, dtype=np.float64),
        "cluster_labels": np.asarray(cluster_labels, dtype=np.intp),
        "cluster_probabilities": np.asarray(cluster_probabilities, dtype=np.float64),
        "branch_labels": np.asarray(branch_labels, dtype=np.intp),
        "branch_probabilities": np.asarray(branch_probabilities, dtype=np.float64),
        "cluster_persistence": np.asarray(cluster_persistence, dtype=np.float64),
        "branch_persistences": [np.asarray(p, dtype=np.float64) for p in branch_persistences],
        "centralities": np.asarray(centralities, dtype=np.float64),
    }


def run_pyflasc(X, **params):
    """Fit pyflasc's ``flasc.FLASC`` with an exact MST and return its results.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    **params
        ``flasc.FLASC`` parameters (``min_cluster_size``, ``min_branch_size``,
        ``branch_detection_method``, ...). ``approx_min_span_tree`` is always
        False; ``num_jobs`` defaults to 1 (no process pool).

    Returns
    -------
    dict
        Keys :data:`ORACLE_KEYS`; arrays in input row order.
    """
    params.setdefault("num_jobs", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flasc = pytest.importorskip("flasc")
        model = flasc.FLASC(approx_min_span_tree=False, **params).fit(X)
    return _as_result(
        model.labels_,
        model.probabilities_,
        model.cluster_labels_,
        model.cluster_probabilities_,
        model.branch_labels_,
        model.branch_probabilities_,
        model.cluster_persistence_,
        model.branch_persistences_,
        model.cluster_centralities_,
    )


def run_hdbscan_branches(
    X,
    *,
    min_cluster_size=5,
    min_samples=None,
    min_branch_size=None,
    max_cluster_size=0,
    max_branch_size=0,
    allow_single_cluster=False,
    allow_single_branch=False,
    cluster_selection_method="eom",
    branch_selection_method="eom",
    cluster_selection_epsilon=0.0,
    branch_selection_epsilon=0.0,
    cluster_selection_persistence=0.0,
    branch_selection_persistence=0.0,
    branch_detection_method="full",
    label_sides_as_branches=False,
    metric="euclidean",
    alpha=1.0,
    algorithm="best",
    leaf_size=40,
):
    """Fit ``hdbscan.HDBSCAN`` then ``hdbscan.BranchDetector`` (FLASC in hdbscan).

    Takes pyflasc's parameter names and passes every branch option to
    ``BranchDetector`` explicitly (``min_cluster_size=min_branch_size``,
    ``allow_single_cluster=allow_single_branch``,
    ``cluster_selection_method=branch_selection_method``, ...), so no
    value is silently inherited from the clusterer.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    min_cluster_size, min_samples, ... : see ``flasc.FLASC``
        ``min_samples=None`` and ``min_branch_size=None`` default to
        ``min_cluster_size``, as in pyflasc. ``min_samples`` is capped at
        ``n_samples - 1`` as pyflasc does.

    Returns
    -------
    dict
        Keys :data:`ORACLE_KEYS`; arrays in input row order.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hdbscan = pytest.importorskip("hdbscan")
        from hdbscan.branches import BranchDetector

    X = np.asarray(X, dtype=np.float64)
    if min_samples is None:
        min_samples = min_cluster_size
    min_samples = max(1, min(X.shape[0] - 1, min_samples))
    if min_branch_size is None:
        min_branch_size = min_cluster_size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clusterer = hdbscan.HDBSCAN(
            min_cluster_size=min_cluster_size,
            min_samples=min_samples,
            max_cluster_size=max_cluster_size,
            allow_single_cluster=allow_single_cluster,
            cluster_selection_method=cluster_selection_method,
            cluster_selection_epsilon=cluster_selection_epsilon,
            cluster_selection_persistence=cluster_selection_persistence,
            metric=metric,
            alpha=alpha,
            algorithm=algorithm,
            leaf_size=leaf_size,
            approx_min_span_tree=False,
            branch_detection_data=True,
            core_dist_n_jobs=1,
        ).fit(X)
        detector = BranchDetector(
            branch_detection_method=branch_detection_method,
            label_sides_as_branches=label_sides_as_branches,
            min_cluster_size=min_branch_size,
            max_cluster_size=max_branch_size,
            allow_single_cluster=allow_single_branch,
            cluster_selection_method=branch_selection_method,
            cluster_selection_epsilon=branch_selection_epsilon,
            cluster_selection_persistence=branch_selection_persistence,
        ).fit(clusterer)
    return _as_result(
        detector.labels_,
        detector.probabilities_,
        detector.cluster_labels_,
        detector.cluster_probabilities_,
        detector.branch_labels_,
        detector.branch_probabilities_,
        clusterer.cluster_persistence_,
        detector.branch_persistences_,
        detector.centralities_,
    )


# ---------------------------------------------------------------------------
# Partition comparison
# ---------------------------------------------------------------------------
def describe_partition_mismatch(a, b, *, max_groups=8):
    """A compact text diagnosis of how labelling ``b`` differs from ``a``.

    Each label of ``a`` is matched to the label of ``b`` it shares most
    points with, and vice versa; a point is "moved" when it falls outside its
    label's best match (a -> b catches splits, b -> a catches merges). Reports
    both counts, label and noise counts, and the largest moved groups as
    ``a=<label> -> b=<label>: <count> points``.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    a_values, a_index = np.unique(a, return_inverse=True)
    b_values, b_index = np.unique(b, return_inverse=True)
    table = contingency_matrix(a_index, b_index)
    a_sizes = table.sum(axis=1)
    b_sizes = table.sum(axis=0)
    best_b = table.argmax(axis=1)
    best_a = table.argmax(axis=0)
    moved_ab = table.copy()
    moved_ab[np.arange(table.shape[0]), best_b] = 0
    moved_ba = table.copy()
    moved_ba[best_a, np.arange(table.shape[1])] = 0
    # A cell counts as mismatched if it is off the best match in either direction.
    mismatched = np.maximum(moved_ab, moved_ba)
    lines = [
        f"{a.size} points; {a_values.size} labels in a, {b_values.size} in b; "
        f"noise: {int(np.sum(a < 0))} in a, {int(np.sum(b < 0))} in b",
        f"{int(moved_ab.sum())} points outside their a-label's best b match (splits), "
        f"{int(moved_ba.sum())} outside their b-label's best a match (merges)",
    ]
    rows, cols = np.nonzero(mismatched)
    order = np.argsort(-mismatched[rows, cols], kind="stable")[:max_groups]
    for i, j in zip(rows[order], cols[order]):
        lines.append(
            f"  a={a_values[i]} -> b={b_values[j]}: {table[i, j]} points "
            f"(a={a_values[i]} has {a_sizes[i]}, mostly b={b_values[best_b[i]]}; "
            f"b={b_values[j]} has {b_sizes[j]}, mostly a={a_values[best_a[j]]})"
        )
    if rows.size > max_groups:
        lines.append(f"  ... {rows.size - max_groups} more mismatched groups")
    return "\n".join(lines)


def assert_same_partition(a, b, min_ari=1.0):
    """Assert that labellings ``a`` and ``b`` agree up to renaming (ARI >= min_ari).

    On failure the message (and stdout, for ``pytest -s``) carries
    :func:`describe_partition_mismatch`.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    assert a.shape == b.shape, f"label arrays differ in shape: {a.shape} vs {b.shape}"
    ari = adjusted_rand_score(a, b)
    if ari < min_ari:
        diagnosis = describe_partition_mismatch(a, b)
        print(diagnosis)
        raise AssertionError(f"ARI {ari:.6f} < {min_ari}\n{diagnosis}")
    return ari
