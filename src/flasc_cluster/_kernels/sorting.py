"""Sorting kernels on plain arrays."""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE

#: From this length on the radix sort takes digits of 11 bits (six
#: passes, each clearing and summing 2,049 counters); below it, of 8 bits
#: (eight passes over 257 counters). Per value, on values spread as a
#: cluster's centralities (``benchmarks/branch_steps.py --sorts``), at
#: 1,024: 22.3 ns with 8 bits, 24.4 with 11; at 33,000: 23.0 and 22.4.
RADIX_MIN_LENGTH = 1024

#: Below this length an insertion sort: on the same values, at 64, 24 ns
#: per value against 37 (8-bit radix sort) and 34 (numba's merge sort);
#: at 128, 36 against 30 and 42.
INSERTION_MAX_LENGTH = 96


@njit(cache=NUMBA_CACHE, nogil=True, inline="always")
def _radix_argsort(values, digit_bits, n_digits):
    """:func:`radix_argsort` with ``n_digits`` digits of ``digit_bits``
    bits (``digit_bits * n_digits >= 64``; constants at each call site,
    which numba inlines)."""
    m = values.shape[0]
    sign = np.uint64(1) << np.uint64(63)
    keys = np.empty(m, dtype=np.uint64)
    raw = np.empty(m, dtype=np.float64)
    for i in range(m):
        raw[i] = values[i]
    bits = raw.view(np.uint64)
    for i in range(m):
        b = bits[i]
        keys[i] = ~b if b & sign else b | sign
    width = 1 << digit_bits
    mask = np.uint64(width - 1)
    one = np.uintp(1)
    # unsigned positions: numba then skips its negative-index fix-up
    counts = np.zeros((n_digits, width + 1), dtype=np.intp)
    for i in range(m):
        k = keys[i]
        for d in range(n_digits):
            counts[d, np.uintp((k >> np.uint64(digit_bits * d)) & mask) + one] += 1
    order = np.arange(m)
    spare = np.empty(m, dtype=np.intp)
    spare_keys = np.empty(m, dtype=np.uint64)
    for d in range(n_digits):
        c = counts[d]
        if c.max() == m:
            continue  # one digit for every key: the order stands
        for t in range(width):
            c[t + 1] += c[t]
        shift = np.uint64(digit_bits * d)
        for t in range(m):
            k = keys[t]
            digit = np.uintp((k >> shift) & mask)
            pos = np.uintp(c[digit])
            spare[pos] = order[t]
            spare_keys[pos] = k
            c[digit] = pos + one
        order, spare = spare, order
        keys, spare_keys = spare_keys, keys
    return order


@njit(cache=NUMBA_CACHE, nogil=True)
def radix_argsort(values):
    """``np.argsort(values, kind="stable")`` of float64 ``values`` (no NaN).

    An LSD radix sort over the bit patterns, 11 bits per pass: with the
    sign bit flipped (all bits for negative values) the patterns order as
    the values do, and each pass is stable, so equal values keep index
    order. The six histograms are counted in one read of the keys, passes
    in which every key has the same digit are skipped, and each pass moves
    the keys with the indices, so that it reads them in sequence. About 4x
    faster than numba's merge sort at 10^4 values; against eight passes of
    8 bits, 0.73 -> 0.56-0.58 ms for the 33,427 centralities of a cluster
    (``benchmarks/branch_steps.py`` before and after, one thread).
    ``-0.0`` sorts before ``0.0`` (numpy treats them as equal).
    """
    return _radix_argsort(values, 11, 6)


@njit(cache=NUMBA_CACHE, nogil=True)
def small_radix_argsort(values):
    """:func:`radix_argsort` with 8-bit digits, for fewer values (fewer
    counters to clear and sum per pass)."""
    return _radix_argsort(values, 8, 8)


@njit(cache=NUMBA_CACHE, nogil=True, inline="always")
def _insertion_sort_pairs(keys, values, n):
    """Sort ``keys[:n]`` ascending in place by insertion (stable), moving
    ``values[:n]`` along."""
    for i in range(1, n):
        k = keys[i]
        v = values[i]
        j = i - 1
        while j >= 0 and keys[j] > k:
            keys[j + 1] = keys[j]
            values[j + 1] = values[j]
            j -= 1
        keys[j + 1] = k
        values[j + 1] = v


@njit(cache=NUMBA_CACHE, nogil=True)
def insertion_argsort(values):
    """``np.argsort(values, kind="stable")`` of float64 ``values`` (no NaN)
    by insertion, moving the keys with the indices."""
    m = values.shape[0]
    order = np.arange(m)
    keys = np.empty(m)
    for i in range(m):
        keys[i] = values[i]
    _insertion_sort_pairs(keys, order, m)
    return order


@njit(cache=NUMBA_CACHE, inline="always")
def _sift_down(keys, values, start, end):
    """Restore the max-heap of ``keys[:end]`` (``values`` moved along) below ``start``."""
    node = start
    while True:
        child = 2 * node + 1
        if child >= end:
            return
        if child + 1 < end and keys[child + 1] > keys[child]:
            child += 1
        if keys[child] <= keys[node]:
            return
        keys[node], keys[child] = keys[child], keys[node]
        values[node], values[child] = values[child], values[node]
        node = child


@njit(cache=NUMBA_CACHE, nogil=True)
def sort_pairs(keys, values, n):
    """Sort ``keys[:n]`` ascending in place, moving ``values[:n]`` along: by
    insertion up to 16 entries, else a heap sort (not stable: for distinct
    keys). Allocates nothing, so the kernels compiled without reference
    counting (``NO_REFCOUNT``) may call it."""
    if n <= 16:
        _insertion_sort_pairs(keys, values, n)
        return
    for start in range(n // 2 - 1, -1, -1):
        _sift_down(keys, values, start, n)
    for end in range(n - 1, 0, -1):
        keys[0], keys[end] = keys[end], keys[0]
        values[0], values[end] = values[end], values[0]
        _sift_down(keys, values, 0, end)


@njit(cache=NUMBA_CACHE, nogil=True)
def stable_argsort(values):
    """``np.argsort(values, kind="stable")`` of float64 ``values`` (no NaN):
    an insertion sort below :data:`INSERTION_MAX_LENGTH` values, a radix
    sort of 8-bit digits below :data:`RADIX_MIN_LENGTH`, of 11-bit digits
    from there on. numba's merge sort, used below 1,024 before, takes
    three times as long at 1,024 values (66 against 22 ns per value,
    ``benchmarks/branch_steps.py --sorts``)."""
    m = values.shape[0]
    if m >= RADIX_MIN_LENGTH:
        return radix_argsort(values)
    if m >= INSERTION_MAX_LENGTH:
        return small_radix_argsort(values)
    return insertion_argsort(values)


@njit(cache=NUMBA_CACHE, nogil=True)
def label_order(labels, index, n_labels, order, bucket):
    """Positions grouped by label, in one counting sort, and each label's
    bounds.

    Position ``t`` has the label ``labels[index[t]]``, or ``labels[t]`` when
    ``index`` is empty (intp arrays); labels run from -1 to
    ``n_labels - 1`` (a smaller one counts as -1, a larger one is grouped
    last). ``order`` and ``bucket`` are intp arrays with an entry per
    position, the caller's (numpy allocates large arrays on huge pages,
    which cost far fewer page faults than a kernel's own). Fills ``order``
    with ``np.argsort(label, kind="stable")`` (each group in increasing
    position) and returns ``bounds``, intp: label ``c``'s positions are
    ``order[bounds[c]:bounds[c + 1]]`` for ``c`` in ``0..n_labels - 1``, as
    ``np.searchsorted(label[order], np.arange(n_labels + 1))`` gives them.
    """
    gathered = index.shape[0] > 0
    n = order.shape[0]
    # bucket 0: label -1 (and below), bucket c + 1: label c, then the larger
    counts = np.zeros(n_labels + 3, dtype=np.intp)
    for t in range(n):
        c = labels[index[t]] if gathered else labels[t]
        b = 0 if c < 0 else (c + 1 if c < n_labels else n_labels + 1)
        bucket[t] = b
        counts[b + 1] += 1
    for b in range(n_labels + 2):
        counts[b + 1] += counts[b]
    bounds = counts[1:n_labels + 2].copy()
    for t in range(n):
        b = bucket[t]
        order[counts[b]] = t
        counts[b] += 1
    return bounds
