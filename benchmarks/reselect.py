"""Re-selection and prediction cost against a fresh fit.

Targets: re-selection <= 10 % of a fresh fit at 100k points; predicting
10^5 new points on a 10^5-point model faster than the fit.

Usage: ``PYTHONPATH=src python benchmarks/reselect.py [--n 100000] [--d 2]
[--family flared|walks] [--repeats 5]``. Every time is the median of
``--repeats`` runs (a re-selection each time on a freshly fitted model).
Writes ``benchmarks/results/reselect.md`` (flared blobs: three large
clusters) or ``reselect_walks.md`` (random-walk clusters
of 250 points, the FLASC paper's setting) with the machine, each parameter
change, the fresh-fit time, the re-selection time and whether the labels are
identical, then the prediction time of ``n`` new points: drawn from the same
distribution as the training points (the other half of one ``2 n`` sample),
and, as a harder case, from another seed of the generator, whose blobs lie
elsewhere, so most queries are far from every training point.
"""

import argparse
import datetime
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from flasc_cluster import FLASC, approximate_predict
from flasc_cluster.datasets import make_flared_blobs, make_random_walk_clusters

CHANGES = [
    {"min_cluster_size": 50},
    {"min_branch_size": 50},
    {"cluster_selection_epsilon": 0.1},
    {"cluster_selection_persistence": 0.5},
    {"branch_selection_method": "leaf"},
    {"label_sides_as_branches": True},
]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=2)
    parser.add_argument("--family", choices=("flared", "walks"), default="flared")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    results = Path(__file__).parent / "results"
    if args.family == "flared":
        out = args.out or str(results / "reselect.md")
        title = "flared blobs"

        def make(n, seed):
            return make_flared_blobs(n, args.d, random_state=seed)[0]
    else:
        out = args.out or str(results / "reselect_walks.md")
        title = "random-walk clusters, 250 training points each"

        def make(n, seed):
            return make_random_walk_clusters(
                n, args.d, n_clusters=max(args.n // 250, 1), random_state=seed
            )[0]
    X_all = make(2 * args.n, 0)
    X, X_same = X_all[:args.n], X_all[args.n:]
    base = dict(min_cluster_size=25, min_samples=10)
    warm = FLASC(**base).fit(X)  # compile every kernel before timing
    warm.reselect(min_branch_size=30)
    approximate_predict(warm, X_same[:100])
    rows = []
    for method in ("full", "core"):
        for change in CHANGES:
            params = dict(base, branch_detection_method=method)
            fit_times, reselect_times = [], []
            same = True
            for _ in range(args.repeats):
                model = FLASC(**params).fit(X)
                start = time.perf_counter()
                fresh = FLASC(**{**params, **change}).fit(X)
                fit_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                model.reselect(**change)
                reselect_times.append(time.perf_counter() - start)
                same = same and bool(np.array_equal(model.labels_, fresh.labels_))
            fit_s = statistics.median(fit_times)
            reselect_s = statistics.median(reselect_times)
            rows.append((method, change, fit_s, reselect_s, same))
            print(method, change, f"fit {fit_s:.2f} s, reselect {reselect_s:.3f} s, identical {same}")
    lines = [
        f"# Re-selection vs fresh fit ({args.n} x {args.d}, {title})",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {datetime.datetime.now().isoformat(timespec='seconds')}",
        "",
        f"Times are medians of {args.repeats} runs; \"labels identical\" holds in every run.",
        "",
        "| method | change | fresh fit | reselect | share | labels identical |",
        "|---|---|---|---|---|---|",
    ]
    for method, change, fit_s, reselect_s, same in rows:
        lines.append(
            f"| {method} | `{change}` | {fit_s:.2f} s | {reselect_s:.3f} s | "
            f"{100 * reselect_s / fit_s:.1f} % | {same} |"
        )
    X_far = make(args.n, 1)
    lines += [
        "",
        f"## Prediction of {args.n} new points",
        "",
        "| method | queries | fit | approximate_predict | share |",
        "|---|---|---|---|---|",
    ]
    query_sets = (("same distribution", X_same), ("another seed (far)", X_far))
    for method in ("full", "core"):
        # fits and predictions alternate, so that a slow spell of the machine
        # falls on both rather than on one of them
        fit_times = []
        predict_times = {name: [] for name, _ in query_sets}
        for _ in range(args.repeats):
            start = time.perf_counter()
            model = FLASC(**base, branch_detection_method=method).fit(X)
            fit_times.append(time.perf_counter() - start)
            for name, queries in query_sets:
                start = time.perf_counter()
                approximate_predict(model, queries)
                predict_times[name].append(time.perf_counter() - start)
        fit_s = statistics.median(fit_times)
        for name, _ in query_sets:
            predict_s = statistics.median(predict_times[name])
            print(method, name, f"fit {fit_s:.2f} s, predict {predict_s:.3f} s")
            lines.append(
                f"| {method} | {name} | {fit_s:.2f} s | {predict_s:.3f} s | "
                f"{100 * predict_s / fit_s:.1f} % |"
            )
    Path(out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
