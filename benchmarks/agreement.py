"""Agreement with the reference at sizes the test suite does not reach.

Fits flasc_cluster and pyflasc 0.1.4 (the reference) on the same generated
data and prints the adjusted Rand index of their combined labels and of
their cluster labels (noise counted as one class). pyflasc runs twice: with
``approx_min_span_tree=False`` (the reference proper, an exact spanning
tree like flasc_cluster's) and with its default approximate tree, which is
what ``run.py`` times; ``--exact-only`` skips the second fit (at 10^6
points it takes minutes). ``--explain`` also checks point by point, with
the tests' helpers (``tests/_ties.py``), that every point labelled
differently from the exact reference was placed by a tie, or lies in a
cluster whose members differ from the reference's only by tie-placed
points (another centroid, hence other centralities and branches).
``--permuted`` also fits both libraries on the rows in another order
(the exact reference once more) and prints how far each moves from its
own labels: ties make the reference's labels depend on the row order,
flasc_cluster's do not.

Usage: ``PYTHONPATH=src python benchmarks/agreement.py [--n 100000] [--d 2]
[--family walks|flared] [--method full|core] [--exact-only] [--explain] [--permuted]``. Prints its
results with the fit times; writes nothing.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from sklearn.metrics import adjusted_rand_score

from flasc_cluster import FLASC
from flasc_cluster.datasets import make_flared_blobs, make_random_walk_clusters


def timed_fit(model, X):
    start = time.perf_counter()
    model.fit(X)
    return model, time.perf_counter() - start


def explain(ours, ref, min_cluster_size):
    """Print how many points differ from ``ref`` and how many no tie explains."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from _ties import mismatched_points, tie_points

    cluster_ties = np.zeros(ours.labels_.shape[0], dtype=bool)
    cluster_ties[ours.finite_index_] = tie_points(
        ours.single_linkage_tree_.to_numpy(), min_cluster_size
    )
    ties = cluster_ties.copy()
    for points, tree in zip(ours.cluster_points_, ours.branch_linkage_trees_):
        if tree is not None:
            ties[points[tie_points(tree.to_numpy(), min_cluster_size)]] = True
    for key, placed in (("cluster_labels_", cluster_ties), ("labels_", ties)):
        differ = mismatched_points(getattr(ref, key), getattr(ours, key))
        unexplained = differ & ~placed
        moved = 0
        for c in np.unique(ours.cluster_labels_[unexplained]):
            points = np.flatnonzero(ours.cluster_labels_ == c)
            theirs = ref.cluster_labels_[points]
            if c < 0 or not (theirs >= 0).any():
                continue
            main = np.bincount(theirs[theirs >= 0]).argmax()
            changed = np.setxor1d(np.flatnonzero(ref.cluster_labels_ == main), points)
            if changed.shape[0] and cluster_ties[changed].all():
                moved += int(unexplained[points].sum())
        print(
            f"  {key}: {int(differ.sum())} "
            f"points differ from the exact reference; {int(unexplained.sum())} not tie-placed, "
            f"of which {moved} lie in clusters whose members differ only by tie-placed points"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=2)
    parser.add_argument("--family", choices=("walks", "flared"), default="walks")
    parser.add_argument("--method", choices=("full", "core"), default="full")
    parser.add_argument("--min-cluster-size", type=int, default=25)
    parser.add_argument("--exact-only", action="store_true")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--permuted", action="store_true")
    args = parser.parse_args()

    import flasc  # pyflasc

    if args.family == "walks":
        X = make_random_walk_clusters(
            args.n, args.d, n_clusters=max(args.n // 250, 1), random_state=0
        )[0]
    else:
        X = make_flared_blobs(args.n, args.d, n_clusters=10, random_state=0)[0]
    params = dict(min_cluster_size=args.min_cluster_size, branch_detection_method=args.method)
    ours, t_ours = timed_fit(FLASC(**params), X)
    reference = flasc.FLASC(**params, approx_min_span_tree=False)
    fits = [("pyflasc, exact tree", *timed_fit(reference, X))]
    if not args.exact_only:
        fits.append(("pyflasc, approximate tree (default)", *timed_fit(flasc.FLASC(**params), X)))
    print(f"{args.family}, n={args.n}, d={args.d}, {args.method}; flasc_cluster {t_ours:.1f} s")
    for name, ref, seconds in fits:
        print(
            f"  vs {name} ({seconds:.1f} s): ARI labels "
            f"{adjusted_rand_score(ref.labels_, ours.labels_):.4f}, cluster labels "
            f"{adjusted_rand_score(ref.cluster_labels_, ours.cluster_labels_):.4f}"
        )
    if args.explain:
        explain(ours, fits[0][1], args.min_cluster_size)
    if args.permuted:
        perm = np.random.default_rng(1).permutation(X.shape[0])
        inverse = np.argsort(perm)
        exact = fits[0][1]
        for name, model, own in (
            ("flasc_cluster", FLASC(**params), ours),
            ("pyflasc, exact tree", flasc.FLASC(**params, approx_min_span_tree=False), exact),
        ):
            moved, seconds = timed_fit(model, X[perm])
            print(
                f"  {name} on permuted rows ({seconds:.1f} s) vs on the original order: "
                f"ARI labels {adjusted_rand_score(own.labels_, moved.labels_[inverse]):.4f}, "
                "cluster labels "
                f"{adjusted_rand_score(own.cluster_labels_, moved.cluster_labels_[inverse]):.4f}"
            )
    if len(fits) == 2:
        exact, approx = fits[0][1], fits[1][1]
        print(
            "  pyflasc approximate vs exact: ARI labels "
            f"{adjusted_rand_score(exact.labels_, approx.labels_):.4f}, cluster labels "
            f"{adjusted_rand_score(exact.cluster_labels_, approx.cluster_labels_):.4f}"
        )


if __name__ == "__main__":
    main()
