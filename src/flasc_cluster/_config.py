"""Package-wide switches: numba caching and the dtypes used by kernels."""

import os

import numpy as np

#: Whether numba kernels are cached on disk. Set ``FLASC_CLUSTER_NUMBA_CACHE=0``
#: to turn caching off (e.g. on a read-only install without a writable
#: ``NUMBA_CACHE_DIR``).
NUMBA_CACHE = os.environ.get("FLASC_CLUSTER_NUMBA_CACHE", "1").lower() not in (
    "0",
    "false",
    "no",
    "off",
)

INDEX_DTYPE = np.intp
FLOAT_DTYPE = np.float64
