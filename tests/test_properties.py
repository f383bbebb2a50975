"""Property-based tests over random small data and parameters."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from flasc_cluster import FLASC

# grid values (heavy distance ties) and ordinary floats; values tiny enough
# for squared distances to underflow are refused by design (tested elsewhere)
coords = st.one_of(
    st.integers(-40, 40).map(lambda v: v / 4.0),
    st.floats(min_value=-100, max_value=100, allow_nan=False).filter(
        lambda v: v == 0.0 or abs(v) > 1e-6
    ),
)
data = st.integers(min_value=1, max_value=60).flatmap(
    lambda n: st.integers(min_value=1, max_value=4).flatmap(
        lambda d: arrays(np.float64, (n, d), elements=coords)
    )
)
params = st.fixed_dictionaries(
    {
        "min_cluster_size": st.integers(2, 12),
        "min_samples": st.one_of(st.none(), st.integers(1, 8)),
        "min_branch_size": st.one_of(st.none(), st.integers(2, 10)),
        "cluster_selection_method": st.sampled_from(["eom", "leaf"]),
        "branch_selection_method": st.sampled_from(["eom", "leaf"]),
        "allow_single_cluster": st.booleans(),
        "allow_single_branch": st.booleans(),
        "branch_detection_method": st.sampled_from(["full", "core"]),
        "label_sides_as_branches": st.booleans(),
        "cluster_selection_epsilon": st.sampled_from([0.0, 0.5, 5.0]),
        "cluster_selection_persistence": st.sampled_from([0.0, 0.01, 1.0]),
        "branch_selection_persistence": st.sampled_from([0.0, 0.05]),
        "max_cluster_size": st.sampled_from([0, 10]),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(X=data, p=params)
def test_fit_invariants(X, p):
    before = X.copy()
    model = FLASC(**p).fit(X)
    np.testing.assert_array_equal(X, before)
    n = X.shape[0]
    labels, clusters = model.labels_, model.cluster_labels_
    for lab in (labels, clusters):
        assert lab.shape == (n,)
        assert lab.min(initial=-1) >= -1
        used = np.unique(lab[lab >= 0])
        np.testing.assert_array_equal(used, np.arange(used.shape[0]))
    for prob in (model.probabilities_, model.cluster_probabilities_, model.branch_probabilities_):
        assert np.all((prob >= 0) & (prob <= 1))
        assert not np.isnan(prob).any()
        assert np.all(prob[clusters < 0] == 0)
    # noise is the same in both labellings; labels nest in clusters
    np.testing.assert_array_equal(labels < 0, clusters < 0)
    for lab in np.unique(labels[labels >= 0]):
        assert np.unique(clusters[labels == lab]).shape[0] == 1
    assert len(model.cluster_points_) == (clusters.max(initial=-1) + 1)
    # identical rows share labels
    _, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    np.testing.assert_array_equal(clusters, clusters[first][inverse])
