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

#: Options for kernels that only index arrays their caller allocated:
#: compiled without numba's reference-counting runtime (``_nrt=False``),
#: so that passing an array to an inlined helper or taking a row view costs
#: no atomic increment and decrement. In the ``full`` sweep those took about
#: 40 % of the time (5.96 against 3.39 ms for a cluster of 33,427 points).
#: Such a kernel cannot allocate, and neither can any function it calls:
#: numba compiles the callees with the caller's flags (the allocating,
#: parallel ``_group_search`` is therefore called from an ordinary kernel).
#: Empty (the ordinary runtime) on a numba without the option.
NO_REFCOUNT = {"_nrt": False}
try:  # pragma: no cover - depends on the numba version
    from numba.core.options import DefaultOptions as _DefaultOptions

    if not hasattr(_DefaultOptions, "_nrt"):
        NO_REFCOUNT = {}
except ImportError:  # pragma: no cover
    NO_REFCOUNT = {}
