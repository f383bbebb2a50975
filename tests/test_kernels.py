"""numpy's summation orders reproduced in numba (``_kernels/sums.py``)."""

import numpy as np
import pytest

from flasc_cluster._hdbscan.space import weighted_mean
from flasc_cluster._kernels.sums import pairwise_sum, weighted_mean_of


@pytest.mark.parametrize("count", [0, 1, 7, 8, 9, 15, 16, 17, 127, 128, 129, 255, 256, 1000, 4099,
                                   100_003])
def test_pairwise_sum_is_numpy_sum_bit_for_bit(count):
    rng = np.random.default_rng(count)
    # magnitudes spread over many orders, so that another order of the
    # additions would change the last bits
    values = rng.normal(size=count + 5) * 10.0 ** rng.uniform(-8, 8, size=count + 5)
    assert pairwise_sum(values, 3, count) == values[3:3 + count].sum()


def test_weighted_mean_of_is_weighted_mean_bit_for_bit():
    rng = np.random.default_rng(0)
    n = 300_000
    X = rng.normal(size=(n, 16)) * 10.0 ** rng.uniform(-4, 4, size=(n, 1))
    weights = rng.uniform(0.0, 1.0, size=n)
    weights[rng.random(n) < 0.1] = 1.0  # ties and exact values, as probabilities have
    out = np.empty(16)
    n_differ = 0
    for trial in range(400):
        m = int(rng.integers(1, 2000)) if trial % 4 else int(rng.integers(2000, n))
        d = int(rng.integers(1, 17))
        Xd = np.ascontiguousarray(X[:, :d])
        points = np.sort(rng.choice(n, size=m, replace=False))
        expected = weighted_mean(Xd[points], weights[points])
        weighted_mean_of(Xd, points, weights, out[:d])
        n_differ += not np.array_equal(out[:d], expected)
    assert n_differ == 0


def test_weighted_mean_of_leaves_inputs_alone():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 3))
    weights = rng.uniform(size=50)
    points = np.arange(0, 50, 2)
    before = (X.copy(), weights.copy(), points.copy())
    out = np.empty(3)
    weighted_mean_of(X, points, weights, out)
    np.testing.assert_array_equal(X, before[0])
    np.testing.assert_array_equal(weights, before[1])
    np.testing.assert_array_equal(points, before[2])
    np.testing.assert_array_equal(out, np.average(X[points], weights=weights[points], axis=0))


def test_reference_count_free_kernels_are_compiled_without_the_runtime():
    """The hot loops take ``NO_REFCOUNT``; on a numba that knows the option
    it must be in force (their speed depends on it). Their results are
    checked elsewhere: the sweeps against the CSR sweep (``test_sweep.py``),
    the spanning tree and neighbours against brute force
    (``test_boruvka.py``, ``test_space_tree.py``)."""
    from numba.core.options import DefaultOptions

    from flasc_cluster._branches import graphs, linkage, sweep
    from flasc_cluster._config import NO_REFCOUNT
    from flasc_cluster._hdbscan import boruvka, space_tree

    kernels = [
        sweep._sweep_points, sweep._brute_sweep_points, graphs.core_graph_edges_into,
        linkage._spanning_tree_points, boruvka._search_point, boruvka._search_group,
        boruvka.scan_leaf_pairs, boruvka._component_minima, space_tree._knn_group,
    ]
    if hasattr(DefaultOptions, "_nrt"):
        assert NO_REFCOUNT == {"_nrt": False}
        for kernel in kernels:
            assert kernel.targetoptions.get("_nrt") is False, kernel.py_func.__name__
    else:
        assert NO_REFCOUNT == {}
