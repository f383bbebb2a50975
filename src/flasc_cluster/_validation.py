"""Input and parameter validation; the one place using sklearn's private validator."""

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions  # noqa: F401
from sklearn.utils.validation import _check_sample_weight

__all__ = [
    "Interval", "StrOptions", "check_override_labels", "check_override_probabilities",
    "check_sample_weight",
]


def check_sample_weight(sample_weight, X, finite):
    """Validate ``sample_weight`` for ``X``; returns a float64 copy of the
    weights of the ``finite`` rows, or None.

    Raises ValueError naming ``sample_weight`` for a wrong shape, NaN or
    infinite or negative values, and weights that are zero on every row
    (or on every row without NaN/inf values).
    """
    if sample_weight is None:
        return None
    try:
        weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True, copy=True
        )
    except ValueError as exc:
        raise ValueError(f"Invalid sample_weight: {exc}") from exc
    weight = weight[finite]
    if weight.shape[0] and not np.any(weight > 0.0):
        raise ValueError(
            "sample_weight is zero on every row of X without NaN or infinite values; "
            "at least one weight must be positive."
        )
    return np.ascontiguousarray(weight)


def check_override_labels(labels, n_samples):
    """Validate user cluster labels; returns (consecutive labels, n_clusters)."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise ValueError(
            f"labels must be a 1-D array with one cluster label per sample "
            f"({n_samples}); got shape {arr.shape}."
        )
    if arr.dtype.kind not in "iub":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.intp)
        else:
            raise TypeError(
                f"labels must hold integer cluster labels (negative for noise); "
                f"got dtype {arr.dtype}."
            )
    arr = arr.astype(np.intp)
    out = np.full(n_samples, -1, dtype=np.intp)
    clustered = arr >= 0
    uniq, inverse = np.unique(arr[clustered], return_inverse=True)
    out[clustered] = inverse
    return out, uniq.shape[0]


def check_override_probabilities(probabilities, labels):
    """Validate user membership probabilities (default: 1 in a cluster, 0 noise)."""
    n_samples = labels.shape[0]
    if probabilities is None:
        return np.where(labels >= 0, 1.0, 0.0)
    arr = np.asarray(probabilities, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise ValueError(
            f"probabilities must be a 1-D array with one value per sample "
            f"({n_samples}); got shape {arr.shape}."
        )
    if not np.all(np.isfinite(arr)) or arr.min(initial=0.0) < 0.0 or arr.max(initial=0.0) > 1.0:
        raise ValueError("probabilities must be finite values in [0, 1].")
    for c in np.unique(labels[labels >= 0]):
        if not np.any(arr[labels == c] > 0):
            raise ValueError(
                f"probabilities of cluster {c} are all zero; every cluster needs "
                f"a positive probability to weigh its centroid."
            )
    return arr.copy()


def resolve_n_jobs(n_jobs):
    """Number of numba threads for ``n_jobs`` (None -> all, negative -> cpus+1+n)."""
    import numba

    max_threads = numba.config.NUMBA_NUM_THREADS
    if n_jobs is None:
        return max_threads
    if n_jobs < 0:
        return max(max_threads + 1 + n_jobs, 1)
    return max(min(int(n_jobs), max_threads), 1)
