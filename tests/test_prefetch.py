"""The software prefetch intrinsic: compiles for the arrays the kernels pass
it and changes nothing."""

import numba
import numpy as np
import pytest
from numba import njit

from flasc_cluster._kernels.prefetch import LINE_ITEMS, prefetch_at, prefetch_row


@njit
def _touch_all(a, ahead):
    total = 0.0
    for i in range(a.shape[0]):
        if i + ahead < a.shape[0]:
            prefetch_row(a, i + ahead)
        total += a[i].sum() if a.ndim == 2 else a[i]
    return total


@pytest.mark.parametrize("shape", [(50,), (50, 7)])
@pytest.mark.parametrize("dtype", [np.int64, np.float64, np.int32])
def test_prefetch_leaves_arrays_and_results_unchanged(shape, dtype):
    a = np.arange(np.prod(shape), dtype=dtype).reshape(shape)
    before = a.copy()
    assert _touch_all(a, 3) == pytest.approx(float(before.sum()))
    np.testing.assert_array_equal(a, before)


def test_prefetch_rejects_other_arguments():
    @njit
    def three_d(a):
        prefetch_row(a, 0)

    with pytest.raises(numba.core.errors.TypingError):
        three_d(np.zeros((2, 2, 2)))


@njit
def _touch_lines(a, ahead):
    total = 0.0
    for i in range(a.shape[0]):
        if i + ahead < a.shape[0]:
            for q in range(0, a.shape[1], LINE_ITEMS):
                prefetch_at(a, i + ahead, q)
        for q in range(a.shape[1]):
            total += a[i, q]
    return total


@pytest.mark.parametrize("dtype", [np.int64, np.float64, np.int32])
@pytest.mark.parametrize("columns", [1, 8, 25])
def test_prefetch_at_leaves_arrays_and_results_unchanged(dtype, columns):
    a = np.arange(40 * columns, dtype=dtype).reshape(40, columns)
    before = a.copy()
    assert _touch_lines(a, 4) == pytest.approx(float(before.sum()))
    np.testing.assert_array_equal(a, before)
    # a non-contiguous view: the strides come from the array, not its shape
    view = a[::3, ::-1]
    assert _touch_lines(view, 2) == pytest.approx(float(np.asarray(view).sum()))


def test_prefetch_at_rejects_other_arguments():
    @njit
    def one_d(a):
        prefetch_at(a, 0, 0)

    @njit
    def float_index(a):
        prefetch_at(a, 0, 1.5)

    with pytest.raises(numba.core.errors.TypingError):
        one_d(np.zeros(3))
    with pytest.raises(numba.core.errors.TypingError):
        float_index(np.zeros((2, 2)))
