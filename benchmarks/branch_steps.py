"""The branch pass of one large cluster, step by step.

Fits flared blobs (``--n`` points in ``--d`` dimensions, three clusters by
default) or random walks (``--family walks``, 250 points per cluster),
takes the largest cluster's inputs as the batch kernels get them
(``flasc_cluster._branches.batch.core_clusters`` / ``full_clusters``) and
times each step of its ``core`` and ``full`` pass on its own, then the
whole kernel on that one cluster and on all clusters: the figures quoted
in the kernels' comments (e.g. the ``core`` edges of a 33,427-point
cluster with k = 10). ``--sorts`` adds the centrality sorts per value at
a few lengths (the thresholds of ``flasc_cluster._kernels.sorting``).

Usage: ``PYTHONPATH=src python benchmarks/branch_steps.py [--n 100000]
[--d 2] [--family flared|walks] [--clusters 3] [--min-samples 10]
[--repeats 20] [--sorts]``. Prints the median over ``--repeats`` calls of
each step, after one warm call; one thread. Writes nothing.
"""

import argparse
import statistics
import time

import numba
import numpy as np

from flasc_cluster import FLASC
from flasc_cluster._branches import batch, detect, graphs, linkage, sweep
from flasc_cluster._hdbscan.linkage import mst_to_linkage_sized
from flasc_cluster._hdbscan.select import flat_selection
from flasc_cluster._kernels.sorting import radix_argsort
from flasc_cluster._kernels.sums import weighted_mean_of
from flasc_cluster.datasets import make_flared_blobs, make_random_walk_clusters


def median_ms(repeats, run):
    """Median wall time (ms) of ``run()`` over ``repeats`` calls, after a warm one."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def captured_inputs(X, method, min_samples):
    """The arguments of the batch kernel of ``method`` in a fit of ``X``."""
    name = "core_clusters" if method == "core" else "full_clusters"
    kernel = getattr(detect, name)
    calls = []

    def spy(*args):
        calls.append(args)
        return kernel(*args)

    setattr(detect, name, spy)
    try:
        FLASC(min_cluster_size=25, min_samples=min_samples,
              branch_detection_method=method, n_jobs=1).fit(X)
    finally:
        setattr(detect, name, kernel)
    return calls[0]


def opened(X, points, starts, group, weights, p, local):
    """The largest cluster (first in ``group``) as the kernels open it:
    ``(b, start, end, points, centroid, centralities, own copy of local)``."""
    b = int(group[0])
    start, end = int(starts[b]), int(starts[b + 1])
    pts = points[start:end]
    centroid = np.empty(X.shape[1])
    weighted_mean_of(X, pts, weights, centroid)
    return b, start, end, pts, centroid, batch.centroid_centrality(X, pts, centroid, p), local.copy()


def core_steps(args, repeats):
    (X, points, starts, group, weights, p, local, neighbors, mst_pairs, mst_bounds,
     tree_idx, rows, buffers, indices, selection, known, out) = args
    b, start, end, pts, centroid, centrality, own_local = opened(
        X, points, starts, group, weights, p, local
    )
    m = end - start
    kd, kd_pts, kd_order, kd_rank, kd_centrality, new_id = batch._renumber(
        pts, tree_idx, rows[start:end], centrality, own_local
    )
    tree = mst_pairs[mst_bounds[b]:mst_bounds[b + 1]]
    mst_src = new_id[tree[:, 0]]
    mst_dst = new_id[tree[:, 1]]
    src, dst = buffers[0], buffers[1]
    visit = np.arange(m)
    n_edges = graphs.core_graph_edges_into(
        kd_pts, own_local, neighbors, mst_src, mst_dst, kd_rank, visit, src, dst
    )
    indptr = graphs.grouped_csr_into(src[:n_edges], dst[:n_edges], m, indices)
    edges = linkage.renumbered_spanning_tree(
        indptr, indices, kd_order, kd_rank, kd_centrality, kd
    )[0]
    joiners = linkage.tied_joiners(edges, m)
    partner = batch.csr_partners(X, kd_pts, indptr, indices, kd_rank, joiners, kd, p)
    original, original_partner = batch._original_numbering(edges.copy(), partner, kd)
    ones = np.ones(m, dtype=np.intp)
    tree_linkage = mst_to_linkage_sized(original, m, original_partner, ones)
    steps = [
        ("centroid", lambda: weighted_mean_of(X, pts, weights, centroid)),
        ("centralities", lambda: batch.centroid_centrality(X, pts, centroid, p)),
        ("radix sort of the centralities", lambda: radix_argsort(centrality)),
        ("renumbering (sort included)", lambda: batch._renumber(
            pts, tree_idx, rows[start:end], centrality, own_local)),
        (f"core edges ({n_edges} rows)", lambda: graphs.core_graph_edges_into(
            kd_pts, own_local, neighbors, mst_src, mst_dst, kd_rank, visit, src, dst)),
        ("grouped CSR", lambda: graphs.grouped_csr_into(
            src[:n_edges], dst[:n_edges], m, indices)),
        ("centrality sweep", lambda: linkage.renumbered_spanning_tree(
            indptr, indices, kd_order, kd_rank, kd_centrality, kd)),
        ("tied joiners and partners", lambda: batch.csr_partners(
            X, kd_pts, indptr, indices, kd_rank, linkage.tied_joiners(edges, m), kd, p)),
        ("linkage matrix", lambda: mst_to_linkage_sized(original, m, original_partner, ones)),
        ("condensed tree and selection", lambda: flat_selection(tree_linkage, ones, *selection)),
        ("whole kernel, this cluster", lambda: batch.core_clusters(
            X, points, starts, group[:1], weights, p, local.copy(), neighbors, mst_pairs,
            mst_bounds, tree_idx, rows, buffers, indices, selection, known, out)),
        (f"whole kernel, all {group.shape[0]} clusters", lambda: batch.core_clusters(
            X, points, starts, group, weights, p, local.copy(), neighbors, mst_pairs,
            mst_bounds, tree_idx, rows, buffers, indices, selection, known, out)),
    ]
    return m, [(name, median_ms(repeats, run)) for name, run in steps]


def full_steps(args, repeats):
    (X, points, starts, group, weights, max_dists, alpha, p, tree, rows, local, leaf_size,
     nodes_per_point, brute_max, selection, known, out) = args
    b, start, end, pts, _, centrality, own_local = opened(
        X, points, starts, group, weights, p, local
    )
    m = end - start
    cluster_rows = rows[start:end]
    kd, kd_pts, kd_order, kd_rank, kd_centrality, _ = batch._renumber(
        pts, tree.idx_array, cluster_rows, centrality, own_local
    )
    cut = batch._cluster_tree(X, kd_pts, tree, cluster_rows, own_local, leaf_size,
                              nodes_per_point)
    edges, _, joiner_rows = sweep.renumbered_full_sweep(
        cut, kd_centrality, kd_order, kd_rank, kd, max_dists[b], alpha, p
    )
    steps = [
        ("renumbering (sort included)", lambda: batch._renumber(
            pts, tree.idx_array, cluster_rows, centrality, own_local)),
        ("cluster tree (cut)", lambda: batch._cluster_tree(
            X, kd_pts, tree, cluster_rows, own_local, leaf_size, nodes_per_point)),
        ("full sweep", lambda: sweep.renumbered_full_sweep(
            cut, kd_centrality, kd_order, kd_rank, kd, max_dists[b], alpha, p)),
        ("partners", lambda: sweep.renumbered_partners(
            cut, kd_rank, max_dists[b], alpha, p, joiner_rows, kd)),
        ("whole kernel, this cluster", lambda: batch.full_clusters(
            X, points, starts, group[:1], weights, max_dists, alpha, p, tree, rows,
            local.copy(), leaf_size, nodes_per_point, brute_max, selection, known, out)),
        (f"whole kernel, all {group.shape[0]} clusters", lambda: batch.full_clusters(
            X, points, starts, group, weights, max_dists, alpha, p, tree, rows,
            local.copy(), leaf_size, nodes_per_point, brute_max, selection, known, out)),
    ]
    return m, [(name, median_ms(repeats, run)) for name, run in steps]


@numba.njit
def _numba_merge_sort(values):
    return np.argsort(values, kind="mergesort")


@numba.njit
def _sort_all(sort, values, size):
    """``sort`` of each consecutive ``size`` values, in one kernel call."""
    total = 0
    for start in range(0, values.shape[0] - size + 1, size):
        total += sort(values[start:start + size])[0]
    return total


def sort_steps(repeats):
    """Nanoseconds per value of each centrality sort (and numba's merge
    sort) at a few lengths, on values spread as a cluster's centralities
    (``1 / (0.5 + 0.01 u)``, u uniform), many arrays per kernel call; None
    where this version of the package lacks a sort, and for the insertion
    sort above 1,024 values (quadratic: seconds per call)."""
    from flasc_cluster._kernels import sorting

    sorts = {"numba merge sort": _numba_merge_sort}
    for name in ("insertion_argsort", "small_radix_argsort", "radix_argsort"):
        sorts[name] = getattr(sorting, name, None)
    values = 1.0 / (0.5 + 0.01 * np.random.default_rng(0).uniform(size=400_000))
    rows = []
    for size in (64, 128, 1024, 33_000):
        used = (values.shape[0] // size) * size
        rows.append((size, {
            name: (None if sort is None or (name == "insertion_argsort" and size > 1024) else
                   1e6 * median_ms(repeats, lambda sort=sort: _sort_all(sort, values, size)) / used)
            for name, sort in sorts.items()
        }))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=2)
    parser.add_argument("--family", choices=("flared", "walks"), default="flared")
    parser.add_argument("--clusters", type=int, default=3,
                        help="flared blobs only (random walks: 250 points per cluster)")
    parser.add_argument("--min-samples", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--sorts", action="store_true",
                        help="also time the centrality sorts per value")
    args = parser.parse_args()
    numba.set_num_threads(1)
    if args.family == "flared":
        X = make_flared_blobs(2 * args.n, args.d, n_clusters=args.clusters,
                              random_state=0)[0][:args.n]
        title = "flared blobs"
    else:
        X = make_random_walk_clusters(2 * args.n, args.d, n_clusters=2 * args.n // 250,
                                      random_state=0)[0][:args.n]
        title = "random walks"
    for method, steps in (("core", core_steps), ("full", full_steps)):
        m, rows = steps(captured_inputs(X, method, args.min_samples), args.repeats)
        print(f"{method}: the largest cluster, {m} points "
              f"({title} {args.n} x {args.d}, min_samples={args.min_samples})")
        for name, ms in rows:
            print(f"  {name:34s} {ms:8.3f} ms")
    if args.sorts:
        print("centrality sorts, ns per value")
        for size, times in sort_steps(args.repeats):
            cells = ", ".join(f"{name} {'-' if t is None else f'{t:.1f}'}"
                              for name, t in times.items())
            print(f"  {size:6d} values: {cells}")


if __name__ == "__main__":
    main()
