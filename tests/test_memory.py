"""Memory the fit no longer needs is released before the branch pass."""

import gc
import weakref

import numpy as np
import pytest

from flasc_cluster import FLASC, _fit
from flasc_cluster.datasets import make_flared_blobs


@pytest.mark.parametrize("given_labels", [False, True])
@pytest.mark.parametrize("method", ["full", "core"])
@pytest.mark.parametrize("n", [600, 5000])  # all-pairs and kd-tree spaces
def test_neighbour_distances_are_freed_before_the_branch_pass(
    monkeypatch, method, n, given_labels
):
    X, y = make_flared_blobs(n, 2, random_state=0)
    # clusters found elsewhere: the spanning tree is skipped, not the neighbours
    fit_args = {"labels": y} if given_labels else {}
    distances = []
    make_space = _fit.make_space

    def spied_space(*args, **kwargs):
        space = make_space(*args, **kwargs)
        knn = space.knn

        def spied_knn(k):
            dist, ind = knn(k)
            distances.append(weakref.ref(dist))
            return dist, ind

        space.knn = spied_knn
        return space

    alive = []
    detect_branches = _fit.detect_branches

    def spied_detect(*args, **kwargs):
        gc.collect()
        alive.extend(ref() is not None for ref in distances)
        return detect_branches(*args, **kwargs)

    monkeypatch.setattr(_fit, "make_space", spied_space)
    monkeypatch.setattr(_fit, "detect_branches", spied_detect)
    model = FLASC(min_cluster_size=25, branch_detection_method=method).fit(X, **fit_args)
    assert alive == [False]
    # and the fit is the one without the spies
    monkeypatch.undo()
    np.testing.assert_array_equal(
        model.labels_,
        FLASC(min_cluster_size=25, branch_detection_method=method).fit(X, **fit_args).labels_,
    )
