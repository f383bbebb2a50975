"""The stable float argsort behind the centrality order."""

import numpy as np
import pytest

from flasc_cluster._branches.linkage import centrality_order
from flasc_cluster._kernels.sorting import (
    INSERTION_MAX_LENGTH,
    RADIX_MIN_LENGTH,
    insertion_argsort,
    radix_argsort,
    small_radix_argsort,
    stable_argsort,
)


def _cases():
    rng = np.random.default_rng(7)
    yield np.empty(0)
    yield np.array([3.0])
    yield np.ones(1000)  # all tied: index order
    yield np.round(rng.uniform(0, 5, 3000), 1)  # many ties
    yield np.r_[rng.normal(size=2000), [np.inf, -np.inf, 0.0, np.inf]]  # signs, infinities
    yield 1.0 / rng.uniform(1e-300, 1e300, 4000)  # exponents over the whole range
    yield np.sort(rng.uniform(size=1500))[::-1].copy()  # reversed
    yield rng.uniform(size=RADIX_MIN_LENGTH - 1)  # the 8-bit radix side
    yield rng.uniform(size=RADIX_MIN_LENGTH)  # the 11-bit radix side
    yield rng.uniform(size=INSERTION_MAX_LENGTH - 1)  # the insertion side
    yield rng.uniform(size=INSERTION_MAX_LENGTH)  # the 8-bit radix side
    yield np.round(rng.uniform(0, 3, 90), 0)  # ties among few values
    yield np.r_[[np.inf, 2.0, -np.inf], rng.normal(size=40), [np.inf, 2.0]]
    yield 1.0 / (0.5 + 0.01 * rng.uniform(size=300))  # as a cluster's centralities
    yield np.array([2.0, 1.0])


@pytest.mark.parametrize("values", list(_cases()), ids=lambda v: f"n{v.shape[0]}")
def test_stable_argsort_equals_numpys(values):
    expected = np.argsort(values, kind="stable")
    np.testing.assert_array_equal(radix_argsort(values), expected)
    np.testing.assert_array_equal(small_radix_argsort(values), expected)
    np.testing.assert_array_equal(insertion_argsort(values), expected)
    np.testing.assert_array_equal(stable_argsort(values), expected)


def test_centrality_order_ranks_are_the_inverse_order():
    c = np.round(np.random.default_rng(3).uniform(0, 2, 5000), 2)
    order, rank = centrality_order(c)
    np.testing.assert_array_equal(order, np.argsort(c, kind="stable"))
    np.testing.assert_array_equal(rank[order], np.arange(c.shape[0]))


@pytest.mark.parametrize("n", [0, 1, 2, 15, 16, 17, 40, 333])
def test_sort_pairs_sorts_distinct_keys_with_their_values(n):
    from flasc_cluster._kernels.sorting import sort_pairs

    rng = np.random.default_rng(n)
    keys = rng.permutation(4 * n + 3)[: n + 3].astype(np.float64) - 2.0 * n  # signs
    values = np.arange(n + 3, dtype=np.intp) * 7
    expected = np.argsort(keys[:n], kind="stable")
    tail_keys, tail_values = keys[n:].copy(), values[n:].copy()
    original = keys[:n].copy()
    sort_pairs(keys, values, n)
    np.testing.assert_array_equal(keys[:n], original[expected])
    np.testing.assert_array_equal(values[:n], expected * 7)
    # entries from n on are left alone
    np.testing.assert_array_equal(keys[n:], tail_keys)
    np.testing.assert_array_equal(values[n:], tail_values)
