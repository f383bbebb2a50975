"""The stable float argsort behind the centrality order."""

import numpy as np
import pytest

from flasc_cluster._branches.linkage import centrality_order
from flasc_cluster._kernels.sorting import RADIX_MIN_LENGTH, radix_argsort, stable_argsort


def _cases():
    rng = np.random.default_rng(7)
    yield np.empty(0)
    yield np.array([3.0])
    yield np.ones(1000)  # all tied: index order
    yield np.round(rng.uniform(0, 5, 3000), 1)  # many ties
    yield np.r_[rng.normal(size=2000), [np.inf, -np.inf, 0.0, np.inf]]  # signs, infinities
    yield 1.0 / rng.uniform(1e-300, 1e300, 4000)  # exponents over the whole range
    yield np.sort(rng.uniform(size=1500))[::-1].copy()  # reversed
    yield rng.uniform(size=RADIX_MIN_LENGTH - 1)  # the merge sort side
    yield rng.uniform(size=RADIX_MIN_LENGTH)  # the radix side


@pytest.mark.parametrize("values", list(_cases()), ids=lambda v: f"n{v.shape[0]}")
def test_stable_argsort_equals_numpys(values):
    expected = np.argsort(values, kind="stable")
    np.testing.assert_array_equal(radix_argsort(values), expected)
    np.testing.assert_array_equal(stable_argsort(values), expected)


def test_centrality_order_ranks_are_the_inverse_order():
    c = np.round(np.random.default_rng(3).uniform(0, 2, 5000), 2)
    order, rank = centrality_order(c)
    np.testing.assert_array_equal(order, np.argsort(c, kind="stable"))
    np.testing.assert_array_equal(rank[order], np.arange(c.shape[0]))
