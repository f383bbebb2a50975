"""Command-line tool ``flasc-cluster`` (also ``python -m flasc_cluster``).

Two subcommands:

``demo``
    Fit a generated data set of branching stars and print a summary.
``fit PATH``
    Cluster the rows of a CSV, TSV or NPY file and write one row of labels
    per input row (CSV), plus a text or JSON summary.

Every ``FLASC`` parameter is a flag of both subcommands. The flags are
generated from ``FLASC().get_params()`` and ``FLASC._parameter_constraints``
(types, choices, ``none``) and their help from the estimator's numpydoc
Parameters section, so a new estimator parameter gets a flag without
touching this package.

Modules: ``_args`` (estimator flags), ``_parser`` (argparse parser),
``_io`` (reading data, writing labels, summaries and plots), ``_commands``
(the subcommands), ``_common`` (exit statuses, ``CLIError``).

Errors are reported as one line ``flasc-cluster: error: ...`` on stderr,
with exit status 2 for usage and parameter errors (including values the
estimator rejects) and 1 for data and file errors.
"""

import os
import sys

from ._args import ParameterFlag, add_parameter_flags, estimator_params, parameter_flags
from ._common import EXIT_DATA_ERROR, EXIT_OK, EXIT_USAGE_ERROR, PROG, CLIError, _print_error
from ._io import (
    OUTPUT_COLUMNS,
    Table,
    plot_labels,
    read_table,
    standardize,
    summary,
    summary_lines,
    write_labels,
)
from ._parser import build_parser

__all__ = [
    "main",
    "build_parser",
    "parameter_flags",
    "add_parameter_flags",
    "estimator_params",
    "ParameterFlag",
    "read_table",
    "Table",
    "standardize",
    "write_labels",
    "summary",
    "summary_lines",
    "plot_labels",
    "CLIError",
    "OUTPUT_COLUMNS",
    "PROG",
    "EXIT_OK",
    "EXIT_DATA_ERROR",
    "EXIT_USAGE_ERROR",
]


def main(argv=None):
    """Run ``flasc-cluster`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv and not argv[0].startswith("-") and argv[0] not in ("demo", "fit"):
            raise CLIError(
                f"unknown command {argv[0]!r} (choose from 'demo', 'fit'); to cluster a "
                f"file run: {PROG} fit {argv[0]}", EXIT_USAGE_ERROR,
            )
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help and --version
            return exc.code if isinstance(exc.code, int) else EXIT_OK
        return args.func(args)
    except CLIError as exc:
        _print_error(exc.message)
        return exc.exit_status
    except KeyboardInterrupt:
        _print_error("interrupted")
        return 130
    except BrokenPipeError:
        # the reader of stdout went away (e.g. `| head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_DATA_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
