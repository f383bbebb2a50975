"""Union-find (disjoint set) kernels on plain arrays.

The structure is two ``intp`` arrays: ``parent`` (each element's parent, a
root points to itself) and ``rank`` or ``size``. All functions are iterative.
"""

from numba import njit

from .._config import NUMBA_CACHE


@njit(cache=NUMBA_CACHE, nogil=True)
def ds_find(parent, x):
    """Root of ``x`` with full path compression (two passes, no recursion)."""
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:
        nxt = parent[x]
        parent[x] = root
        x = nxt
    return root


@njit(cache=NUMBA_CACHE, nogil=True)
def ds_union_by_rank(parent, rank, x, y):
    """Unite the sets of roots ``x`` and ``y``; returns the new root."""
    if rank[x] < rank[y]:
        parent[x] = y
        return y
    if rank[x] > rank[y]:
        parent[y] = x
        return x
    parent[y] = x
    rank[x] += 1
    return x
