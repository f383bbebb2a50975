"""Command-line entry point: ``flasc-cluster`` / ``python -m flasc_cluster``."""

import argparse
import sys
import time

import numpy as np


def _demo(args):
    from . import FLASC
    from .datasets import make_branching_stars

    X, _ = make_branching_stars(
        n_samples=args.n_samples, n_features=2, n_clusters=3, n_branches=4,
        random_state=args.seed,
    )
    start = time.perf_counter()
    model = FLASC(min_cluster_size=args.min_cluster_size).fit(X)
    elapsed = time.perf_counter() - start
    n_clusters = int(model.cluster_labels_.max()) + 1
    print(f"flasc_cluster demo: {X.shape[0]} points in {X.shape[1]} dimensions "
          f"(branching stars, seed {args.seed})")
    print(f"clusters: {n_clusters}")
    for c in range(n_clusters):
        in_c = model.cluster_labels_ == c
        labels = np.unique(model.labels_[in_c])
        n_branches = len(model.branch_persistences_[c])
        split = "split into" if len(labels) > 1 else "one label,"
        print(f"  cluster {c}: {int(in_c.sum())} points, {n_branches} branches "
              f"({split} {len(labels)} label{'s' if len(labels) != 1 else ''})")
    print(f"labels: {len(np.unique(model.labels_[model.labels_ >= 0]))}")
    print(f"noise: {100.0 * np.mean(model.labels_ < 0):.1f} %")
    print(f"fit time: {elapsed:.2f} s (includes compilation on the first run)")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="flasc-cluster",
        description="FLASC: flare-sensitive clustering (HDBSCAN* with branch detection).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit a generated branching data set and summarise")
    demo.add_argument("--n-samples", type=int, default=3000, help="number of points (default 3000)")
    demo.add_argument("--min-cluster-size", type=int, default=25, help="default 25")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(func=_demo)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
