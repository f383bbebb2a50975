"""numpy's summation orders in numba (kernel module).

A cluster's centroid decides near-ties between centralities, so a kernel
that forms it must give numpy's bits, not just a close value.
``np.multiply(rows, column).sum(axis=0) / column.sum(axis=0)``
(:func:`~flasc_cluster._hdbscan.space.weighted_mean`, ``np.average``'s
operations) sums a contiguous run of values pairwise (numpy's
``pairwise_sum``: blocks of at most 128 values in eight interleaved
accumulators, halved above that) and the columns of a C-ordered 2-D array
row after row. ``tests/test_kernels.py`` checks these kernels against numpy
bit for bit on many shapes, so a numpy release that changed its order
would be caught there.
"""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE

#: numpy's ``PW_BLOCKSIZE``: runs up to this length are summed in one block.
_PAIRWISE_BLOCK = 128


@njit(cache=NUMBA_CACHE, nogil=True)
def _block_sum(values, start, count):
    """numpy's sum of a run of at most ``_PAIRWISE_BLOCK`` values."""
    if count < 8:
        total = 0.0
        for i in range(count):
            total += values[start + i]
        return total
    r0 = values[start]
    r1 = values[start + 1]
    r2 = values[start + 2]
    r3 = values[start + 3]
    r4 = values[start + 4]
    r5 = values[start + 5]
    r6 = values[start + 6]
    r7 = values[start + 7]
    i = 8
    while i < count - count % 8:
        r0 += values[start + i]
        r1 += values[start + i + 1]
        r2 += values[start + i + 2]
        r3 += values[start + i + 3]
        r4 += values[start + i + 4]
        r5 += values[start + i + 5]
        r6 += values[start + i + 6]
        r7 += values[start + i + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < count:
        total += values[start + i]
        i += 1
    return total


@njit(cache=NUMBA_CACHE, nogil=True)
def pairwise_sum(values, start, count):
    """``values[start:start + count].sum()`` as numpy forms it (float64).

    numpy splits a run longer than a block at ``count // 2`` rounded down
    to a multiple of 8 and adds the two halves' sums; the same tree here,
    walked with a stack (a recursive kernel could not be loaded from
    numba's cache safely).
    """
    if count <= _PAIRWISE_BLOCK:
        return _block_sum(values, start, count)
    # halving from count < 2**63 takes fewer than 64 levels
    seg_start = np.empty(64, dtype=np.intp)
    seg_count = np.empty(64, dtype=np.intp)
    stage = np.empty(64, dtype=np.intp)
    sums = np.empty(64)
    top = 0
    n_sums = 0
    seg_start[0] = start
    seg_count[0] = count
    stage[0] = 0
    while top >= 0:
        c = seg_count[top]
        if c <= _PAIRWISE_BLOCK:
            sums[n_sums] = _block_sum(values, seg_start[top], c)
            n_sums += 1
            top -= 1
            continue
        half = c // 2
        half -= half % 8
        if stage[top] == 0:
            stage[top] = 1
            top += 1
            seg_start[top] = seg_start[top - 1]
            seg_count[top] = half
            stage[top] = 0
        elif stage[top] == 1:
            stage[top] = 2
            top += 1
            seg_start[top] = seg_start[top - 1] + half
            seg_count[top] = c - half
            stage[top] = 0
        else:
            n_sums -= 1
            sums[n_sums - 1] = sums[n_sums - 1] + sums[n_sums]
            top -= 1
    return sums[0]


@njit(cache=NUMBA_CACHE, nogil=True)
def weighted_mean_of(X, points, weights, out):
    """Into ``out`` (float64 (d,)): ``weighted_mean(X[points], weights[points])``
    bit for bit, without gathering the rows (``X`` float64 (n, d),
    ``points`` intp, ``weights`` float64 (n,))."""
    m = points.shape[0]
    d = X.shape[1]
    if m == 0:
        out[:] = np.nan
        return
    w = np.empty(m)
    for t in range(m):
        w[t] = weights[points[t]]
    if d == 1:
        # one contiguous column: numpy sums the products pairwise too
        products = np.empty(m)
        for t in range(m):
            products[t] = X[points[t], 0] * w[t]
        out[0] = pairwise_sum(products, 0, m)
    else:
        for j in range(d):
            out[j] = X[points[0], j] * w[0]
        for t in range(1, m):
            g = points[t]
            for j in range(d):
                out[j] += X[g, j] * w[t]
    total = pairwise_sum(w, 0, m)
    for j in range(d):
        out[j] = out[j] / total
