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
touching this module.

Errors are reported as one line ``flasc-cluster: error: ...`` on stderr,
with exit status 2 for usage and parameter errors (including values the
estimator rejects) and 1 for data and file errors.
"""

import argparse
import csv
import inspect
import json
import os
import re
import sys
import time
import warnings
from numbers import Integral, Real
from pathlib import Path
from typing import NamedTuple

import numpy as np

PROG = "flasc-cluster"

#: Exit statuses.
EXIT_OK = 0
EXIT_DATA_ERROR = 1
EXIT_USAGE_ERROR = 2

#: Columns of the labels file -> the fitted attributes they hold.
_OUTPUT = {
    "label": "labels_", "probability": "probabilities_",
    "cluster_label": "cluster_labels_", "cluster_probability": "cluster_probabilities_",
    "branch_label": "branch_labels_", "branch_probability": "branch_probabilities_",
}
OUTPUT_COLUMNS = tuple(_OUTPUT)

#: Field delimiters by file extension; other extensions are sniffed.
_DELIMITERS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
#: ``--delimiter`` values meaning "runs of whitespace".
_WHITESPACE = {"space", "whitespace", " "}
#: Cell texts read as missing values (NaN), compared case-insensitively.
_MISSING_MARKERS = frozenset({"", "na", "nan", "n/a", "null", "none"})
#: Choice lists longer than this are named in the help text, not the metavar.
_MAX_INLINE_CHOICES = 8
#: Prefix of the argparse destinations of estimator flags.
_PARAM_DEST = "flasc_param__"


class CLIError(Exception):
    """An error reported as one line on stderr with the given exit status."""

    def __init__(self, message, exit_status=EXIT_DATA_ERROR):
        super().__init__(message)
        self.message = message
        self.exit_status = exit_status


def _one_line(text):
    return " ".join(str(text).split())


def _print_error(message):
    print(f"{PROG}: error: {_one_line(message)}", file=sys.stderr)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps descriptions and epilogs as written; never breaks a flag at a hyphen."""

    def _split_lines(self, text, width):
        import textwrap

        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


class _ArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line (no usage dump)."""

    def error(self, message):
        raise CLIError(f"{message} (see '{self.prog} --help')", EXIT_USAGE_ERROR)


# ---------------------------------------------------------------------------
# Estimator flags, generated from the parameters and their constraints
# ---------------------------------------------------------------------------
class ParameterFlag(NamedTuple):
    """How one estimator parameter appears on the command line."""

    name: str
    flag: str
    kind: str  # "bool", "choice", "int", "float", "json", "literal"
    choices: tuple
    none_ok: bool
    default: object
    help: str


def _numpydoc_parameters(doc):
    """Map parameter name -> description from a numpydoc ``Parameters`` section."""
    lines = inspect.cleandoc(doc or "").splitlines()

    def is_header(i):
        return (
            i + 1 < len(lines)
            and lines[i].strip()
            and not lines[i][0].isspace()
            and set(lines[i + 1].strip()) == {"-"}
        )

    starts = [i for i in range(len(lines)) if is_header(i) and lines[i].strip() == "Parameters"]
    if not starts:
        return {}
    out, current = {}, []
    for i in range(starts[0] + 2, len(lines)):
        line = lines[i]
        if is_header(i):
            break
        if line.strip() and not line[0].isspace():
            names = line.split(":", 1)[0]
            current = [n.strip() for n in names.split(",") if n.strip()]
            for name in current:
                out[name] = []
        elif line.strip():
            for name in current:
                out[name].append(line.strip())
    return {name: " ".join(text) for name, text in out.items()}


def _clean_rst(text, flags):
    """Plain text from a numpydoc description; parameter names become flags."""
    text = re.sub(r"\s*\[\d+\]_", "", text)
    text = re.sub(r":\w+:`~?([^`]+)`", lambda m: m.group(1).rsplit(".", 1)[-1], text)
    text = re.sub(r"``([^`]+)``", lambda m: flags.get(m.group(1), m.group(1)), text)
    text = re.sub(r"(?<![\w`])\*(\w+)\*", r"\1", text)
    return _one_line(text)


def _kind_of(constraints):
    """(kind, choices, none_ok) for a list of sklearn parameter constraints."""
    from ._validation import Interval, StrOptions

    none_ok = any(c is None for c in constraints)
    if any(isinstance(c, str) and c == "boolean" for c in constraints):
        return "bool", (), none_ok
    options = [o for c in constraints if isinstance(c, StrOptions) for o in c.options]
    if options:
        return "choice", tuple(sorted(set(options))), none_ok
    intervals = [c for c in constraints if isinstance(c, Interval)]
    if intervals and all(issubclass(c.type, Integral) for c in intervals):
        return "int", (), none_ok
    if intervals and any(issubclass(c.type, Real) for c in intervals):
        return "float", (), none_ok
    if dict in constraints:
        return "json", (), none_ok
    return "literal", (), none_ok


def _default_text(kind, flag, default):
    if default is None:
        return "none"
    if kind == "bool":
        return flag if default else "--no-" + flag[2:]
    if kind == "json":
        return json.dumps(default)
    return str(default)


def parameter_flags(defaults=None):
    """One :class:`ParameterFlag` per ``FLASC`` parameter, in signature order.

    Parameters
    ----------
    defaults : dict, default=None
        Defaults that replace the estimator's in the help text (the ``demo``
        subcommand uses ``min_cluster_size=25``).
    """
    from ._estimator import FLASC

    params = FLASC().get_params()
    params.update(defaults or {})
    order = [n for n in inspect.signature(FLASC.__init__).parameters if n in params]
    names = [n for n in order + sorted(set(params) - set(order)) if n not in _OWN_FLAGS]
    constraints = getattr(FLASC, "_parameter_constraints", {})
    docs = _numpydoc_parameters(FLASC.__doc__)
    flag_of = {name: "--" + name.replace("_", "-") for name in names}
    out = []
    for name in names:
        flag = flag_of[name]
        kind, choices, none_ok = _kind_of(constraints.get(name, []))
        text = _clean_rst(docs.get(name, ""), flag_of)
        counterpart = name.replace("branch", "cluster")
        if "branch" in name and counterpart in params and (
            len(text) < 60 or "counterpart" in text
        ):
            lead = f"The branch-pass counterpart of {flag_of[counterpart]}."
            text = lead if "counterpart" in text else f"{lead} {text}".strip()
        if not text:
            text = f"The {name} parameter of FLASC."
        if kind == "choice" and len(choices) > _MAX_INLINE_CHOICES:
            text += " One of: " + ", ".join(choices) + "."
        if kind == "json":
            text += " Give a JSON object, e.g. '{\"V\": [[1, 0], [0, 1]]}'."
        if none_ok and kind != "bool":
            text += " 'none' means None."
        text += f" (default: {_default_text(kind, flag, params[name])})"
        out.append(ParameterFlag(name, flag, kind, choices, none_ok, params[name], text))
    return out


def _converter(kind, none_ok):
    """An argparse ``type`` for one kind of parameter value."""

    def convert(text):
        if none_ok and text.strip().lower() == "none":
            return None
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "json":
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise argparse.ArgumentTypeError(f"invalid JSON {text!r}: {exc}") from None
            if not isinstance(value, dict):
                raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
            return value
        if kind == "literal":
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                return text
        return text

    convert.__name__ = {"int": "int", "float": "float"}.get(kind, "value")
    return convert


def add_parameter_flags(parser, defaults=None):
    """Add every ``FLASC`` parameter as a flag to ``parser``; returns the flags."""
    flags = parameter_flags(defaults)
    group = parser.add_argument_group(
        "FLASC parameters",
        "Every parameter of flasc_cluster.FLASC; see help(flasc_cluster.FLASC).",
    )
    for spec in flags:
        dest = _PARAM_DEST + spec.name
        help_text = spec.help.replace("%", "%%")
        if spec.kind == "bool":
            group.add_argument(
                spec.flag, dest=dest, action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS, help=help_text,
            )
            continue
        kwargs = {"type": _converter(spec.kind, spec.none_ok)}
        if spec.kind == "choice":
            kwargs["choices"] = spec.choices + ((None,) if spec.none_ok else ())
            if len(spec.choices) > _MAX_INLINE_CHOICES:
                kwargs["metavar"] = spec.name.upper()
        else:
            base = {"int": "INT", "float": "FLOAT", "json": "JSON"}.get(spec.kind, "VALUE")
            kwargs["metavar"] = base + ("|none" if spec.none_ok else "")
        group.add_argument(spec.flag, dest=dest, default=argparse.SUPPRESS, help=help_text,
                           **kwargs)
    return flags


#: estimator parameters served by the tool's own flags (--verbose shows the
#: estimator's stage timings too)
_OWN_FLAGS = frozenset({"verbose"})


def estimator_params(args, defaults=None):
    """The ``FLASC`` keyword arguments given on the command line (plus ``defaults``)."""
    params = dict(defaults or {})
    for key, value in vars(args).items():
        if key.startswith(_PARAM_DEST):
            params[key[len(_PARAM_DEST):]] = value
    if getattr(args, "verbose", False):
        params["verbose"] = True
    return params


def _make_estimator(params):
    """A ``FLASC`` with ``params``, its parameters validated (exit 2 if rejected)."""
    from ._estimator import FLASC

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


# ---------------------------------------------------------------------------
# Reading data
# ---------------------------------------------------------------------------
class Table(NamedTuple):
    """Selected numeric columns of an input file."""

    data: np.ndarray  # (n_rows, n_columns) float64
    names: list  # column names (indices as text when the file has none)
    source: str


def _parse_delimiter(text):
    if text is None:
        return None
    if text.lower() in _WHITESPACE or text == " ":
        return " "
    text = _DELIMITER_NAMES.get(text.lower(), text)
    if len(text) != 1:
        raise CLIError(
            f"--delimiter must be one character, 'tab' or 'whitespace'; got {text!r}",
            EXIT_USAGE_ERROR,
        )
    return text


def _is_number(cell):
    try:
        float(cell)
    except ValueError:
        return cell.strip().lower() in _MISSING_MARKERS
    return True


def _open_text(path):
    if path == "-":
        return sys.stdin
    return open(path, encoding="utf-8-sig", newline="")


def _read_rows(path, delimiter):
    """Non-blank rows of a delimited text file, with their line numbers."""
    rows, line_numbers = [], []
    try:
        with _open_text(path) as handle:
            if delimiter is None:
                sample = handle.read(64 * 1024)
                try:
                    delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
                except csv.Error:
                    delimiter = ","
                text = sample + handle.read()
            else:
                text = handle.read()
        if delimiter == " ":
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    rows.append(line.split())
                    line_numbers.append(number)
        else:
            reader = csv.reader(text.splitlines(), delimiter=delimiter, skipinitialspace=True)
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append(row)
                    line_numbers.append(reader.line_num)
    except UnicodeDecodeError:
        raise CLIError(f"cannot read {path}: not a UTF-8 text file") from None
    except csv.Error as exc:
        raise CLIError(f"cannot read {path}: {exc}") from None
    return rows, line_numbers, delimiter


def _column_values(values, line_numbers, name, path, delimiter):
    try:  # fast path: every cell a number
        return np.fromiter(map(float, values), dtype=np.float64, count=len(values))
    except ValueError:
        pass
    out = np.empty(len(values), dtype=np.float64)
    for i, cell in enumerate(values):
        try:
            out[i] = float(cell)
        except ValueError:
            if cell.strip().lower() not in _MISSING_MARKERS:
                hint = " (wrong delimiter? set --delimiter)" if any(
                    d in cell for d in ",\t;|" if d != delimiter
                ) else "; choose numeric columns with --columns"
                raise CLIError(
                    f"column {name!r} of {path} is not numeric: line {line_numbers[i]} "
                    f"holds {cell.strip()!r}{hint}"
                ) from None
            out[i] = np.nan
    return out


def _select_columns(spec, names, has_names, path):
    """0-based indices of the columns named or numbered in ``spec``."""
    if spec is None:
        return list(range(len(names)))
    tokens = [token.strip() for token in spec.split(",")]
    if not all(tokens):
        raise CLIError(f"--columns has an empty entry: {spec!r}", EXIT_USAGE_ERROR)
    shown = ", ".join(repr(n) for n in names[:12]) + (", ..." if len(names) > 12 else "")
    indices = []
    for token in tokens:
        if has_names and token in names:
            if names.count(token) > 1:
                raise CLIError(f"column name {token!r} is ambiguous in {path}; use its index")
            indices.append(names.index(token))
        elif re.fullmatch(r"\d+", token):
            index = int(token)
            if index >= len(names):
                raise CLIError(
                    f"column index {index} is out of range: {path} has {len(names)} "
                    f"columns (0-based indices 0..{len(names) - 1})"
                )
            indices.append(index)
        else:
            where = f"columns are {shown}" if has_names else "it has no header; use 0-based indices"
            raise CLIError(f"unknown column {token!r} in {path} ({where})")
    return indices


def _read_npy(path, header, delimiter, columns):
    if header is not None or delimiter is not None:
        raise CLIError("--header/--no-header and --delimiter do not apply to .npy files",
                       EXIT_USAGE_ERROR)
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise CLIError(f"cannot read {path} as a .npy file: {exc}") from None
    if not isinstance(array, np.ndarray):
        raise CLIError(f"{path} is not a single .npy array")
    if array.dtype.names:
        names = list(array.dtype.names)
        fields = [array[name] for name in names]
        if any(f.ndim != 1 or f.dtype.kind not in "biuf" for f in fields):
            raise CLIError(f"{path}: every field of a structured array must be a numeric scalar")
        array = np.column_stack(fields) if fields else np.empty((array.shape[0], 0))
        has_names = True
    else:
        if array.ndim == 1:
            array = array.reshape(-1, 1)
        if array.ndim != 2:
            raise CLIError(f"{path} holds an array of shape {array.shape}; expected 1-D or 2-D")
        if array.dtype.kind not in "biuf":
            raise CLIError(f"{path} holds non-numeric data (dtype {array.dtype})")
        names = [str(i) for i in range(array.shape[1])]
        has_names = False
    indices = _select_columns(columns, names, has_names, path)
    data = np.ascontiguousarray(array[:, indices], dtype=np.float64)
    return Table(data, [names[i] for i in indices], str(path))


def read_table(path, *, delimiter=None, header=None, columns=None):
    """Read the numeric columns of a CSV/TSV/NPY file (``-``: CSV on stdin).

    Parameters
    ----------
    path : str
    delimiter : str, default=None
        One character, ``"tab"`` or ``"whitespace"``; ``None`` picks it from
        the extension (``.csv`` comma, ``.tsv``/``.tab`` tab) or sniffs it.
    header : bool, default=None
        Whether the first row holds column names; ``None`` guesses (a first
        row with a non-numeric cell is a header).
    columns : str, default=None
        Comma-separated column names or 0-based indices; ``None`` takes all.

    Returns
    -------
    Table
    """
    delimiter = _parse_delimiter(delimiter)
    if path != "-":
        file = Path(path)
        if not file.exists():
            raise CLIError(f"{path}: no such file")
        if file.is_dir():
            raise CLIError(f"{path}: is a directory, not a data file")
        if file.suffix.lower() == ".npy":
            return _read_npy(path, header, delimiter, columns)
        if delimiter is None:
            delimiter = _DELIMITERS.get(file.suffix.lower())
    elif delimiter is None:
        delimiter = ","
    try:
        rows, line_numbers, delimiter = _read_rows(path, delimiter)
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not rows:
        raise CLIError(f"{path} holds no data")
    if header is None:
        header = not all(_is_number(cell) for cell in rows[0])
    n_fields = len(rows[0])
    for row, number in zip(rows, line_numbers):
        if len(row) != n_fields:
            raise CLIError(
                f"{path}, line {number}: expected {n_fields} fields, found {len(row)} "
                f"(delimiter {delimiter!r}; set --delimiter if this is wrong)"
            )
    if header:
        names = [cell.strip() for cell in rows[0]]
        rows, line_numbers = rows[1:], line_numbers[1:]
        if not rows:
            raise CLIError(f"{path} holds a header but no data rows")
    else:
        names = [str(i) for i in range(n_fields)]
    indices = _select_columns(columns, names, header, path)
    data = np.empty((len(rows), len(indices)), dtype=np.float64)
    for out, index in enumerate(indices):
        values = [row[index] for row in rows]
        data[:, out] = _column_values(values, line_numbers, names[index], path, delimiter)
    return Table(data, [names[i] for i in indices], str(path))


def standardize(X):
    """Scale columns to zero mean and unit variance (sklearn's ``StandardScaler``).

    The statistics come from the rows without NaN or infinite values (the
    rows FLASC clusters); the other rows are left as they are.
    """
    from sklearn.preprocessing import StandardScaler

    finite = np.isfinite(X).all(axis=1)
    if not finite.any():
        return X
    X = X.copy()
    X[finite] = StandardScaler().fit(X[finite]).transform(X[finite])
    return X


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------
def write_labels(model, handle):
    """Write the per-row labels and probabilities of a fitted model as CSV."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    writer.writerows(zip(*(getattr(model, name).tolist() for name in _OUTPUT.values())))


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return repr(value)


def summary(model, fit_seconds):
    """A JSON-ready summary of a fitted model."""
    labels = model.labels_
    clusters = []
    for c, points in enumerate(model.cluster_points_):
        clusters.append({
            "cluster": c,
            "size": int(points.size),
            "n_branches": int(len(model.branch_persistences_[c])),
            "n_labels": int(np.unique(labels[points]).size),
        })
    n = int(labels.size)
    return {
        "n_samples": n,
        "n_features": int(model.n_features_in_),
        "n_clusters": len(clusters),
        "n_labels": int(np.unique(labels[labels >= 0]).size),
        "branches_per_cluster": [c["n_branches"] for c in clusters],
        "clusters": clusters,
        "n_noise": int(np.sum(labels == -1)),
        "noise_fraction": float(np.mean(labels == -1)) if n else 0.0,
        "n_missing": int(np.sum(labels == -3)),
        "n_infinite": int(np.sum(labels == -2)),
        "fit_seconds": fit_seconds,
        "parameters": model.get_params(),
    }


def summary_lines(info):
    """The text summary of :func:`summary`'s dict (without the fit time)."""
    lines = [f"clusters: {info['n_clusters']}"]
    for c in info["clusters"]:
        split = "split into" if c["n_labels"] > 1 else "one label,"
        lines.append(
            f"  cluster {c['cluster']}: {c['size']} points, {c['n_branches']} branches "
            f"({split} {c['n_labels']} label{'s' if c['n_labels'] != 1 else ''})"
        )
    lines.append(f"labels: {info['n_labels']}")
    lines.append(f"noise: {100.0 * info['noise_fraction']:.1f} %")
    if info["n_missing"] or info["n_infinite"]:
        lines.append(
            f"not clustered: {info['n_missing']} rows with missing values (label -3), "
            f"{info['n_infinite']} with infinite values (label -2)"
        )
    return lines


def _dump_json(info, handle):
    json.dump(info, handle, indent=2, default=_json_default)
    handle.write("\n")


def _plot_canvas():
    """matplotlib's Agg ``Figure`` and canvas classes (no pyplot, no global state)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise CLIError(
            "--plot is not available: it needs matplotlib (pip install matplotlib)",
            EXIT_USAGE_ERROR,
        ) from None
    return Figure, FigureCanvasAgg


def plot_labels(path, X, labels, names):
    """Scatter plot of the first two columns coloured by label, noise in grey."""
    Figure, FigureCanvasAgg = _plot_canvas()
    from matplotlib import colormaps

    figure = Figure(figsize=(6.4, 5.4), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    shown = np.isfinite(X[:, :2]).all(axis=1) & (labels >= -1)
    noise = shown & (labels == -1)
    clustered = shown & (labels >= 0)
    ax.scatter(X[noise, 0], X[noise, 1], s=4, c="0.7", linewidths=0, label="noise")
    colors = colormaps["tab20"](labels[clustered] % 20)
    ax.scatter(X[clustered, 0], X[clustered, 1], s=4, c=colors, linewidths=0)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(f"FLASC: {np.unique(labels[labels >= 0]).size} labels, "
                 f"{int(noise.sum())} noise points")
    try:
        figure.savefig(path, dpi=120)
    except (OSError, ValueError) as exc:
        raise CLIError(f"cannot write plot {path}: {exc}") from None


def _check_writable(path, what):
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise CLIError(f"cannot write {what} {path}: folder {folder} does not exist")
    if Path(path).is_dir():
        raise CLIError(f"cannot write {what} {path}: it is a directory")
    if not os.access(folder, os.W_OK):
        raise CLIError(f"cannot write {what} {path}: folder {folder} is not writable")


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
    from .datasets import make_branching_stars

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


# ---------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------
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
    from . import __version__

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
