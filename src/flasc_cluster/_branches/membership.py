"""Hop depths over a cluster's approximation graph (kernel module)."""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE


@njit(cache=NUMBA_CACHE, nogil=True)
def hop_depths(indptr, indices, root):
    """Breadth-first hop count from ``root`` (the root has depth 1).

    Returns float64 (m,); unreachable points get ``inf``.
    """
    m = indptr.shape[0] - 1
    depth = np.full(m, np.inf)
    queue = np.empty(m, dtype=np.intp)
    depth[root] = 1.0
    queue[0] = root
    head = 0
    tail = 1
    while head < tail:
        i = queue[head]
        head += 1
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if depth[j] == np.inf:
                depth[j] = depth[i] + 1.0
                queue[tail] = j
                tail += 1
    return depth
