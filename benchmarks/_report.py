"""Markdown table and time-vs-n plot for ``run.py``'s JSON report."""

import sys
from pathlib import Path

LIBRARIES = ("flasc_cluster", "pyflasc", "hdbscan", "fast_hdbscan")
BARE_SNIPPET = "import sklearn.base, numba"


# --------------------------------------------------------------------------
def _fmt_s(x):
    if x is None:
        return "–"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _fmt_run(run):
    status = run["status"]
    if status == "n/a":
        return "n/a"
    if status != "ok":
        return run.get("detail", status)
    text = f"{_fmt_s(run['time_s'])} s"
    if run.get("cluster_time_s") is not None:
        text += f" ({_fmt_s(run['cluster_time_s'])} + {_fmt_s(run['branch_time_s'])})"
    if run.get("peak_rss_mb") is not None:
        text += f", {run['peak_rss_mb']:.0f} MB"
    return text


def _fmt_ari(x):
    return "–" if x is None else f"{x:.3f}"


def write_markdown(report, path):
    m = report["machine"]
    cfg = report["config"]
    v = m["versions"]
    lines = []
    title = "Quick run" if cfg["quick"] else "Full run"
    lines.append(f"# flasc_cluster benchmark — {title.lower()}")
    lines.append("")
    if cfg["quick"]:
        lines.append(
            "**This is a `--quick` run** (n ∈ {10k, 100k}, d ∈ {2, 8}); see "
            "`benchmarks/README.md` for the full grid."
        )
        lines.append("")
    lines.append("## Machine")
    lines.append("")
    lines.append(f"- CPU: {m['cpu']}; {m['cores']} logical cores "
                 f"({m['affinity']} usable); RAM {m['ram_gb']:.1f} GB")
    lines.append(f"- {m['platform']}")
    if m.get("loadavg_start") is not None:
        lines.append(f"- 1-min load average at start {m['loadavg_start']:.2f}"
                     + (f", at end {m['loadavg_end']:.2f}" if m.get("loadavg_end") is not None else "")
                     + " (other processes compete for the cores above 0)")
    lines.append(f"- Python {m['python']}, numpy {v['numpy']}, numba {v['numba']}, "
                 f"scipy {v['scipy']}, scikit-learn {v['scikit-learn']}")
    lines.append(f"- flasc_cluster {v['flasc_cluster']}, pyflasc {v['pyflasc']}, "
                 f"hdbscan {v['hdbscan']}, fast_hdbscan {v['fast_hdbscan']}")
    lines.append(f"- Date: {m['date']}; whole run took {report['elapsed_s'] / 60:.1f} min")
    lines.append("")
    lines.append("## Settings")
    lines.append("")
    lines.append(
        f"- `min_cluster_size={cfg['min_cluster_size']}`, `min_samples="
        f"{cfg['min_samples']}` (None: each library's default, which is min_cluster_size); "
        "every other parameter at each library's default (recorded in `latest.json`)."
    )
    warmup = cfg.get('warmup_samples', 6000)
    mixed = " (a few large and many small clusters, side by side)" if warmup >= 12000 else ""
    lines.append(f"- Budget per timed fit: {cfg['budget_s']:.0f} s; seed {cfg['seed']}; "
                 f"warm-up fit on {warmup} points of the same family and d{mixed}; fits "
                 f"are repeated up to {cfg.get('max_repeats', 1)} times while the repeats fit in "
                 f"{cfg.get('repeat_window_s', 0):.0f} s, and the fastest is reported.")
    lines.append("- `flared`: `make_flared_blobs(n, d, n_clusters=10)`; `walks`: "
                 "`make_random_walk_clusters(n, d, n_clusters=n // 250)` (the paper's 250 "
                 "points per cluster).")
    lines.append("- hdbscan: `HDBSCAN(branch_detection_data=True)` then "
                 "`BranchDetector(branch_detection_method=...)`; fast_hdbscan: `HDBSCAN()` then "
                 "`BranchDetector()` (core graph only); pyflasc and flasc_cluster: "
                 "`FLASC(branch_detection_method=...)`.")
    lines.append("")
    lines.append("## Results")
    lines.append("")
    lines.append(
        "Each entry: wall time of the fit (clustering pass + branch pass, where the "
        "library allows the split; pyflasc gives the total only), peak RSS of the "
        "process during the timed fit (data and imported libraries included). "
        "ARI: flasc_cluster against pyflasc on `labels_` (combined cluster and branch "
        "labels) / on the cluster labels alone, noise counted as one class."
    )
    lines.append("")
    head = ["family", "d", "n", "method", *LIBRARIES, "ARI vs pyflasc", "ratio pyflasc/ours"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(["---"] * 4 + ["---"] * len(LIBRARIES) + ["---", "---"]) + "|")
    for cell in report["cells"]:
        runs = cell["runs"]
        ari_text = "–"
        if cell.get("ari_labels", {}).get("flasc_cluster") is not None:
            ari_text = (f"{_fmt_ari(cell['ari_labels']['flasc_cluster'])} / "
                        f"{_fmt_ari(cell['ari_clusters']['flasc_cluster'])}")
        ratio = "–"
        ours, ref = runs.get("flasc_cluster", {}), runs.get("pyflasc", {})
        if ours.get("status") == "ok" and ref.get("status") == "ok":
            ratio = f"{ref['time_s'] / ours['time_s']:.2f}×"
        row = [cell["family"], str(cell["d"]), f"{cell['n']:,}", cell["method"],
               *[_fmt_run(runs.get(lib, {"status": "n/a"})) for lib in LIBRARIES],
               ari_text, ratio]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append("### Quality of every library against pyflasc")
    lines.append("")
    lines.append("ARI of `labels_` against pyflasc's `labels_` (cluster labels in parentheses).")
    lines.append("")
    others = [lib for lib in LIBRARIES if lib != "pyflasc"]
    lines.append("| family | d | n | method | " + " | ".join(others) + " |")
    lines.append("|---|---|---|---|" + "|".join(["---"] * len(others)) + "|")
    for cell in report["cells"]:
        vals = []
        for lib in others:
            a = cell.get("ari_labels", {}).get(lib)
            c = cell.get("ari_clusters", {}).get(lib)
            vals.append("–" if a is None else f"{a:.3f} ({c:.3f})")
        lines.append(f"| {cell['family']} | {cell['d']} | {cell['n']:,} | {cell['method']} | "
                     + " | ".join(vals) + " |")
    lines.append("")
    lines.append("## Cold start")
    lines.append("")
    cs = report.get("cold_start")
    if not cs:
        lines.append("Not measured (`--no-cold-start`).")
    elif cs["status"] != "ok":
        lines.append(f"Skipped: {cs.get('detail', cs['status'])}.")
    else:
        measured = cs.get("measured")
        if measured:
            lines.append(
                f"Measured apart from the grid (`--cold-only`), {measured.get('date', '?')}, "
                f"on {measured.get('cpu', '?')} ({measured.get('cores', '?')} cores)."
            )
            lines.append("")
        lines.append(
            f"A fresh process running `import flasc_cluster` and a first "
            f"`FLASC(min_cluster_size={cfg['min_cluster_size']}).fit(X)` on `{cs['data']}` "
            f"(median of {cs['repeats']} for the warm-cache and the two bare rows). The last "
            "row is the floor of any numba-based estimator with a warm cache: numba's "
            "start-up on its first call and the process exit."
        )
        lines.append("")
        lines.append("| numba cache | process wall | import flasc_cluster | first fit |")
        lines.append("|---|---|---|---|")
        for key, label in (("warm", "warm"), ("cold", "cold (empty NUMBA_CACHE_DIR)")):
            r = cs[key]
            lines.append(f"| {label} | {_fmt_s(r['wall_s'])} s | {_fmt_s(r['import_s'])} s | "
                         f"{_fmt_s(r['fit_s'])} s |")
        lines.append(f"| bare `python -c \"{BARE_SNIPPET}\"` | {_fmt_s(cs['bare_import_s'])} s "
                     "| – | – |")
        if "trivial_kernel_s" in cs:
            lines.append(f"| bare import + first call of one trivial cached numba kernel | "
                         f"{_fmt_s(cs['trivial_kernel_s'])} s | – | – |")
        if "warm_minus_bare_s" in cs:
            lines.append("")
            lines.append(
                "The warm-cache, bare and trivial-kernel processes ran in turn, "
                f"{cs['repeats']} rounds; median of each round's difference: warm cache "
                f"minus bare import {_fmt_s(cs['warm_minus_bare_s'])} s, trivial kernel "
                f"minus bare import {_fmt_s(cs['trivial_minus_bare_s'])} s."
            )
    lines.append("")
    lines.append("Only ratios between libraries within one run are comparable; absolute "
                 "times depend on the machine and its load.")
    lines.append("")
    Path(path).write_text("\n".join(lines))


def write_plot(report, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot", file=sys.stderr)
        return False
    cfg = report["config"]
    panels = [(d, fam) for fam in cfg["families"] for d in cfg["d"]]
    ncols = len(cfg["d"])
    nrows = len(cfg["families"])
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols + 2.0, 3.6 * nrows + 0.4),
                             squeeze=False, sharex=True)
    colors = dict(zip(LIBRARIES, ("C3", "C0", "C2", "C1")))
    styles = {"full": "-", "core": "--"}
    budget = cfg["budget_s"]
    for i, (d, fam) in enumerate(panels):
        ax = axes[i // ncols][i % ncols]
        for lib in LIBRARIES:
            for method in cfg["methods"]:
                cells = sorted((c for c in report["cells"]
                                if c["d"] == d and c["family"] == fam and c["method"] == method),
                               key=lambda c: c["n"])
                ok = [(c["n"], c["runs"][lib]["time_s"]) for c in cells
                      if c["runs"].get(lib, {}).get("status") == "ok"]
                timed_out = [c["n"] for c in cells
                             if c["runs"].get(lib, {}).get("status") in ("timeout", "skipped")]
                if ok:
                    ax.plot(*zip(*ok), styles[method], marker="o", color=colors[lib],
                            label=f"{lib} ({method})", ms=4)
                if timed_out:
                    # staggered so that several libraries' timeouts stay visible
                    y = budget * 1.12 ** LIBRARIES.index(lib)
                    ax.plot(timed_out, [y] * len(timed_out), "x", color=colors[lib], ms=7)
        ax.axhline(budget, color="0.7", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{fam}, d={d}")
        ax.set_xlabel("n")
        ax.set_ylabel("fit time (s)")
        ax.grid(True, which="both", lw=0.3, alpha=0.5)
    handles, labels = axes[0][0].get_legend_handles_labels()
    seen = {}
    for row in axes:
        for ax in row:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                seen.setdefault(lab, h)
    fig.legend(list(seen.values()), list(seen.keys()), loc="center right",
               fontsize=8, frameon=False)
    kind = "quick run" if cfg["quick"] else "full run"
    fig.suptitle(f"Fit time vs n ({kind}; × = timeout at {budget:.0f} s; "
                 f"{report['machine']['cores']} cores)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1 - 2.6 / (4.2 * ncols + 2.0), 0.95))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
