"""Input and parameter validation; the one place using sklearn's private validator."""

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions  # noqa: F401

__all__ = ["Interval", "StrOptions", "check_override_labels", "check_override_probabilities"]


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
