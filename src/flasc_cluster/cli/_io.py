"""Reading data files and writing labels, summaries and plots for ``flasc-cluster``."""

import csv
import json
import os
import re
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._common import EXIT_USAGE_ERROR, CLIError

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
