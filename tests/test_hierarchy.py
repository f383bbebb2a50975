"""A branch hierarchy is kept in compact form and derived when asked for.

A fit keeps each cluster's spanning tree as ``[a, b]`` rows (each weighs
the centrality of ``a``) and the partners of its tied joiners; the linkage
matrix and the condensed tree are derived from them
(``ClusterBranches.linkage`` and ``.condensed_tree``) and must be the ones
the fit selected its branches from.
"""

import numpy as np
import pytest

from flasc_cluster import FLASC
from flasc_cluster._branches import detect
from flasc_cluster._branches.graphs import symmetric_csr
from flasc_cluster._branches.linkage import (
    centrality_order,
    centrality_spanning_tree,
    hierarchy_linkage,
    tied_joiners,
)
from flasc_cluster._hdbscan.linkage import mst_to_linkage_sized
from flasc_cluster.datasets import make_branching_stars


@pytest.mark.parametrize("dtype", [np.int32, np.intp])
def test_hierarchy_linkage_equals_the_linkage_of_the_full_rows(dtype):
    rng = np.random.default_rng(0)
    partners_mattered = 0
    for _ in range(30):
        m = 50
        # few distinct centralities: many merges at one height
        centrality = rng.integers(1, 5, m).astype(np.float64)
        src = np.concatenate([np.arange(1, m), rng.integers(0, m, 2 * m)])
        dst = np.concatenate([np.arange(m - 1), rng.integers(0, m, 2 * m)])
        indptr, indices = symmetric_csr(src, dst, m)
        order, rank = centrality_order(centrality)
        edges, n_components = centrality_spanning_tree(indptr, indices, order, rank, centrality)
        assert n_components == 1
        np.testing.assert_array_equal(edges[:, 2], centrality[edges[:, 0].astype(np.intp)])
        joiners = tied_joiners(edges, m)
        partner = np.full(m, -1, dtype=np.intp)
        partner[joiners] = rng.integers(0, m, joiners.shape[0])
        sizes = np.ones(m, dtype=np.intp)
        expected = mst_to_linkage_sized(edges, m, partner, sizes)
        tied = np.column_stack((joiners, partner[joiners])).astype(np.intp)
        joins = edges[:, :2].astype(dtype)
        np.testing.assert_array_equal(hierarchy_linkage(joins, tied, centrality, sizes), expected)
        no_partner = mst_to_linkage_sized(edges, m, np.full(m, -1, dtype=np.intp), sizes)
        partners_mattered += not np.array_equal(no_partner, expected)
    # the partners decide some merges here, so dropping them would be seen
    assert partners_mattered > 0


def _stars():
    X, _ = make_branching_stars(3000, 2, n_clusters=6, n_branches=4, random_state=3)
    return np.round(X * 10) / 10  # tied distances and centralities


@pytest.mark.parametrize("method", ["full", "core"])
def test_derived_hierarchies_are_the_ones_selected_from(method, monkeypatch):
    """With sample weights each cluster runs alone and selects its branches
    from an explicit linkage matrix; the derived one must equal it, weights
    and all, and so must the condensed tree."""
    X = _stars()
    weight = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0])
    seen = {}
    original = detect.extract_flat_clustering

    def spy(linkage, **selection):
        flat = original(linkage, **selection)
        seen[linkage.shape[0] + 1, float(linkage[:, 2].sum())] = (linkage.copy(), flat)
        return flat

    monkeypatch.setattr(detect, "extract_flat_clustering", spy)
    model = FLASC(min_cluster_size=20, branch_detection_method=method).fit(
        X, sample_weight=weight
    )
    clusters = [c for c in model._result.branches.clusters if c.hierarchy is not None]
    assert len(clusters) >= 3
    for c in clusters:
        assert c.hierarchy.point_weight is not None
        linkage = c.linkage
        expected, flat = seen[linkage.shape[0] + 1, float(linkage[:, 2].sum())]
        np.testing.assert_array_equal(linkage, expected)
        for x, y in zip(c.condensed_tree, flat.condensed_tree, strict=True):
            np.testing.assert_array_equal(x, y)
            assert x.dtype == y.dtype


@pytest.mark.parametrize("method", ["full", "core"])
def test_a_fit_keeps_no_linkage_or_condensed_tree(method, monkeypatch):
    """The batched branch pass (kd-tree spaces) writes the compact tree
    only: 8 bytes per point, where the linkage takes 32 and the condensed
    tree as much (``tests/test_batch.py`` compares what it derives with the
    per-cluster path)."""
    from flasc_cluster._hdbscan import space

    monkeypatch.setattr(space, "BRUTE_MAX_POINTS", 0)
    X = _stars()
    model = FLASC(min_cluster_size=20, branch_detection_method=method).fit(X)
    kept = [c for c in model._result.branches.clusters if c.hierarchy is not None]
    assert kept
    for c in kept:
        assert c.flat.condensed_tree is None
        assert c.hierarchy.joins.dtype == np.int32
        assert c.hierarchy.joins.shape == (c.points.shape[0] - 1, 2)
        assert c.linkage.shape == (c.points.shape[0] - 1, 4)
        tree = c.condensed_tree
        # the derived tree selects what the fit selected
        assert tree.parent.shape[0] > 0
        assert np.isin(c.flat.selected_ids, tree.child).all()
