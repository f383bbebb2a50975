"""The ``demo`` and ``fit`` subcommands of ``flasc-cluster``."""

import sys
import time
import warnings
from pathlib import Path

from ._args import estimator_params
from ._common import EXIT_OK, EXIT_USAGE_ERROR, PROG, CLIError, _one_line
from ._io import (
    _check_writable,
    _dump_json,
    _plot_canvas,
    plot_labels,
    read_table,
    standardize,
    summary,
    summary_lines,
    write_labels,
)


def _make_estimator(params):
    """A ``FLASC`` with ``params``, its parameters validated (exit 2 if rejected)."""
    from .._estimator import FLASC

    model = FLASC(**params)
    try:
        model._validate_params()
    except (ValueError, TypeError) as exc:
        raise CLIError(str(exc), EXIT_USAGE_ERROR) from None
    return model


def _fit(model, X):
    """Fit ``model``; estimator errors exit 2, warnings become one-line messages."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X)
        except (ValueError, TypeError) as exc:
            raise CLIError(f"FLASC could not fit: {exc}", EXIT_USAGE_ERROR) from None
    for w in caught:
        print(f"{PROG}: warning: {_one_line(w.message)}", file=sys.stderr)
    return time.perf_counter() - start


class _Progress:
    """Stage lines with timings on stderr (only with ``--verbose``)."""

    def __init__(self, enabled):
        self.enabled = enabled
        self.start = self.mark = time.perf_counter()

    def __call__(self, message, *, timed=False):
        now = time.perf_counter()
        if self.enabled:
            took = f" ({now - self.mark:.2f} s)" if timed else ""
            print(f"{PROG}: [{now - self.start:7.2f} s] {message}{took}", file=sys.stderr,
                  flush=True)
        self.mark = now


# ---------------------------------------------------------------------------
# Subcommands
# ---------------------------------------------------------------------------
_DEMO_DEFAULTS = {"min_cluster_size": 25}


def _demo(args):
    from ..datasets import make_branching_stars

    model = _make_estimator(estimator_params(args, _DEMO_DEFAULTS))
    X, _ = make_branching_stars(
        n_samples=args.n_samples, n_features=2, n_clusters=3, n_branches=4,
        random_state=args.seed,
    )
    elapsed = _fit(model, X)
    info = summary(model, elapsed)
    if args.json:
        info["data"] = {"generator": "make_branching_stars", "seed": args.seed}
        _dump_json(info, sys.stdout)
        return EXIT_OK
    print(f"flasc_cluster demo: {X.shape[0]} points in {X.shape[1]} dimensions "
          f"(branching stars, seed {args.seed})")
    for line in summary_lines(info):
        print(line)
    print(f"fit time: {elapsed:.2f} s (includes compilation on the first run)")
    return EXIT_OK


def _fit_command(args):
    progress = _Progress(args.verbose)
    model = _make_estimator(estimator_params(args))
    precomputed = model.metric == "precomputed"
    if args.standardize and precomputed:
        raise CLIError("--standardize cannot be used with --metric precomputed",
                       EXIT_USAGE_ERROR)
    if args.plot is not None:
        if precomputed:
            raise CLIError("--plot cannot be used with --metric precomputed", EXIT_USAGE_ERROR)
        Figure, FigureCanvasAgg = _plot_canvas()
        suffix = Path(args.plot).suffix.lower().lstrip(".")
        formats = FigureCanvasAgg(Figure()).get_supported_filetypes()
        if suffix not in formats:
            raise CLIError(f"--plot {args.plot}: unknown image format {suffix!r} "
                           f"(use one of {', '.join(sorted(formats))})", EXIT_USAGE_ERROR)
        _check_writable(args.plot, "plot")
    to_stdout = args.output in (None, "-")
    if not to_stdout:
        _check_writable(args.output, "output")

    progress(f"reading {args.path}")
    table = read_table(args.path, delimiter=args.delimiter, header=args.header,
                       columns=args.columns)
    n_rows, n_columns = table.data.shape
    shown = ", ".join(table.names[:8]) + (", ..." if n_columns > 8 else "")
    progress(f"read {n_rows} rows x {n_columns} columns ({shown})", timed=True)
    if args.plot is not None and n_columns < 2:
        raise CLIError("--plot needs at least two columns", EXIT_USAGE_ERROR)
    X = table.data
    if args.standardize:
        X = standardize(X)
        progress(f"standardised {n_columns} columns", timed=True)

    progress(f"fitting {_one_line(repr(model))} on {n_rows} rows")
    elapsed = _fit(model, X)
    info = summary(model, elapsed)
    info["input"] = {"path": table.source, "columns": table.names,
                     "standardize": bool(args.standardize)}
    progress(f"fitted: {info['n_clusters']} clusters, {info['n_labels']} labels", timed=True)

    destination = "stdout" if to_stdout else args.output
    progress(f"writing labels to {destination}")
    if to_stdout:
        write_labels(model, sys.stdout)
        sys.stdout.flush()
    else:
        try:
            with open(args.output, "w", newline="", encoding="utf-8") as handle:
                write_labels(model, handle)
        except OSError as exc:
            raise CLIError(f"cannot write output {args.output}: {exc.strerror or exc}") from None
    progress(f"wrote {n_rows} rows", timed=True)

    if args.plot is not None:
        progress(f"plotting to {args.plot}")
        plot_labels(args.plot, table.data, model.labels_, table.names)
        progress("plotted", timed=True)

    # stdout carries one thing: the labels if they go there, else the summary
    out = sys.stderr if to_stdout else sys.stdout
    if args.json:
        _dump_json(info, out)
    else:
        print(f"{PROG} fit: {n_rows} rows, {n_columns} columns ({shown}) from {table.source}",
              file=out)
        for line in summary_lines(info):
            print(line, file=out)
        print(f"fit time: {elapsed:.2f} s", file=out)
    progress("done")
    return EXIT_OK
