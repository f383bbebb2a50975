"""Branch-pass kernels of one cluster: the figures behind two thresholds.

1. ``full`` graphs: per cluster, the kd-tree sweep (tree cut from the fit's,
   partners included) against the all-pairs sweep, on random-walk clusters
   of a given size; the crossover is what
   ``flasc_cluster._branches.detect._brute_cluster_max`` encodes.
2. ``core`` graphs: building one cluster's edges with the neighbour lists
   read in the order of the ids against kd-tree order (the ``visit``
   argument of ``flasc_cluster._branches.graphs.core_graph_edges``), on
   flared blobs.

Usage: ``PYTHONPATH=src python benchmarks/branch_kernels.py [--n 60000]
[--d 2 8] [--sizes 250 500 1000 2000] [--repeats 5]``. Prints the minimum
over ``--repeats`` of each total, per cluster for the sweeps. Writes nothing.
"""

import argparse
import time

import numpy as np

from flasc_cluster import FLASC
from flasc_cluster._branches import batch, graphs, sweep
from flasc_cluster._branches.linkage import centrality_order
from flasc_cluster.datasets import make_flared_blobs, make_random_walk_clusters


def best_of(repeats, run):
    """Minimum wall time of ``run()`` over ``repeats`` calls, after one warm call."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def sweeps(n, d, size, repeats):
    """Per-cluster times (s) of the two ``full`` sweeps on clusters near ``size``."""
    X = make_random_walk_clusters(n, d, n_clusters=n // size, random_state=0)[0]
    result = FLASC(min_cluster_size=25, min_samples=10).fit(X)._result
    space, labels = result.space, result.cluster_labels
    tree = space.tree_for_leaf_size(40)
    jobs = []
    for c in range(result.n_clusters):
        points = np.flatnonzero(labels == c)
        if not size // 2 <= points.shape[0] <= 2 * size:
            continue
        local = np.full(n, -1, dtype=np.intp)
        local[points] = np.arange(points.shape[0])
        rows = np.flatnonzero(local[tree.idx_array] >= 0).astype(np.intp)
        jobs.append((points, result.branches.clusters[c], local, rows))

    def tree_sweeps():
        for points, cluster, local, rows in jobs:
            cut = batch._cluster_tree(space.X, points, tree, rows, local, 40, 4.0)
            _, rank, joiners = sweep.full_sweep(
                cut, cluster.centrality, cluster.max_dist, 1.0, 2.0
            )
            sweep.earlier_partners_serial(cut, rank, cluster.max_dist, 1.0, 2.0, joiners)

    def brute_sweeps():
        for points, cluster, _, _ in jobs:
            sweep.brute_full_sweep(
                batch._gather_rows(space.X, points), cluster.centrality, cluster.max_dist,
                1.0, 2.0,
            )

    mean = float(np.mean([job[0].shape[0] for job in jobs]))
    return (len(jobs), mean, best_of(repeats, tree_sweeps) / len(jobs),
            best_of(repeats, brute_sweeps) / len(jobs))


def core_reading_order(n, repeats):
    """Times (s) of building every cluster's ``core`` edges in id and in kd-tree order."""
    X = make_flared_blobs(n, 2, n_clusters=10, random_state=0)[0]
    result = FLASC(min_cluster_size=25, branch_detection_method="core").fit(X)._result
    labels, neighbors = result.cluster_labels, result.cluster.neighbors
    tree_idx = result.space.mst_tree.idx_array
    local = np.full(n, -1, dtype=np.intp)
    jobs = []
    for c in range(result.n_clusters):
        points = np.flatnonzero(labels == c)
        local[points] = np.arange(points.shape[0])
        _, rank = centrality_order(result.branches.clusters[c].centrality)
        jobs.append((points, rank, np.flatnonzero(labels[tree_idx] == c)))
    no_edges = np.empty(0, dtype=np.intp)
    totals = []
    for tree_order in (False, True):
        visits = [
            local[tree_idx[rows]] if tree_order else np.arange(points.shape[0])
            for points, _, rows in jobs
        ]

        def build(visits=visits):
            for (points, rank, _), visit in zip(jobs, visits):
                graphs.core_graph_edges(
                    points, local, neighbors, no_edges, no_edges, rank, visit
                )

        totals.append(best_of(repeats, build))
    return result.n_clusters, totals


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=60_000)
    parser.add_argument("--d", type=int, nargs="+", default=[2, 8])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000, 2000])
    parser.add_argument("--core-n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("full graphs, per cluster: kd-tree sweep (cut tree, partners) vs all pairs")
    for d in args.d:
        for size in args.sizes:
            count, mean, tree_s, brute_s = sweeps(args.n, d, size, args.repeats)
            print(f"  d={d:2d}  {count:4d} clusters of {mean:6.0f} points: "
                  f"tree {tree_s * 1e6:7.0f} us, all pairs {brute_s * 1e6:7.0f} us")
    n_clusters, (ids_s, tree_s) = core_reading_order(args.core_n, args.repeats)
    print(f"core graph edges, {n_clusters} flared clusters of {args.core_n} points in all: "
          f"id order {ids_s * 1e3:.1f} ms, kd-tree order {tree_s * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
