"""The argparse parser of ``flasc-cluster``."""

import argparse

from ._args import _ArgumentParser, _HelpFormatter, add_parameter_flags
from ._commands import _DEMO_DEFAULTS, _demo, _fit_command
from ._common import PROG
from ._io import OUTPUT_COLUMNS

_FIT_EPILOG = f"""\
input:
  .csv (comma), .tsv/.tab (tab) and other text files (delimiter sniffed), or
  .npy arrays (1-D or 2-D, or structured with named numeric fields); '-'
  reads CSV from stdin. Blank lines are skipped. Empty cells and NA, NaN,
  N/A, null, none are missing values: rows with missing values get label -3,
  rows with infinite values label -2, and are otherwise ignored.

output:
  one CSV row per input data row, in input order, with the columns
  {", ".join(OUTPUT_COLUMNS)}.
  The summary (text, or JSON with --json) goes to stdout when the labels go
  to a file (--output), and to stderr when the labels go to stdout.

exit status:
  0 success; 1 data or file errors (missing or unreadable file, unknown or
  non-numeric column, unwritable output); 2 usage errors and parameter values
  rejected by FLASC (including errors FLASC raises while fitting).

examples:
  {PROG} fit data.csv --min-cluster-size 20 -o labels.csv
  {PROG} fit table.tsv --columns x,y --standardize --json -o labels.csv
  {PROG} fit embedding.npy --columns 0,1 --branch-detection-method core --plot out.png
"""


def build_parser():
    """The argparse parser of ``flasc-cluster``."""
    from .. import __version__

    parser = _ArgumentParser(
        prog=PROG,
        description="FLASC: flare-sensitive clustering (HDBSCAN* with branch detection).",
        epilog=f"Run '{PROG} demo' for a quick look, '{PROG} fit --help' for the options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{demo,fit}")

    demo = sub.add_parser(
        "demo", help="fit a generated branching data set and summarise",
        description="Fit FLASC to generated branching stars and print a summary.",
        formatter_class=_HelpFormatter,
    )
    demo.add_argument("--n-samples", type=int, default=3000, help="number of points (default 3000)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_parameter_flags(demo, _DEMO_DEFAULTS)
    demo.set_defaults(func=_demo)

    fit = sub.add_parser(
        "fit", help="cluster the rows of a CSV, TSV or NPY file",
        description="Cluster the rows of a data file with FLASC and write one row of "
                    "labels per input row.",
        epilog=_FIT_EPILOG, formatter_class=_HelpFormatter,
    )
    fit.add_argument("path", help="data file: .csv, .tsv, .npy or other text; '-' for stdin")
    io = fit.add_argument_group("input and output")
    io.add_argument("-c", "--columns", metavar="COLS",
                    help="comma-separated column names or 0-based indices (default: all "
                         "columns, which must then all be numeric)")
    io.add_argument("-d", "--delimiter", metavar="CHAR",
                    help="field delimiter: one character, 'tab' or 'whitespace' (default: "
                         "from the extension, .csv comma, .tsv tab, else sniffed)")
    io.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                    help="whether the first row holds column names (default: yes if it "
                         "has a non-numeric cell)")
    io.add_argument("--standardize", action="store_true",
                    help="scale each column to zero mean and unit variance before fitting "
                         "(sklearn's StandardScaler, statistics from the rows without "
                         "NaN/inf)")
    io.add_argument("-o", "--output", metavar="FILE",
                    help="write the labels CSV here (default: stdout)")
    io.add_argument("--json", action="store_true",
                    help="print the summary as JSON (n_samples, n_clusters, branches per "
                         "cluster, noise share, fit seconds, parameters)")
    io.add_argument("--plot", metavar="IMAGE",
                    help="save a scatter plot of the first two columns coloured by label "
                         "(noise grey; needs matplotlib)")
    io.add_argument("-v", "--verbose", action="store_true",
                    help="print stages (reading, fitting, writing) with timings on stderr")
    add_parameter_flags(fit)
    fit.set_defaults(func=_fit_command)
    return parser
