"""The command-line tool: ``flasc-cluster`` / ``python -m flasc_cluster``."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _reference import (
    DIABETES_FEATURES,
    SHARED_DATA,
    load_diabetes,
    load_flared,
    load_horse,
)
from sklearn.preprocessing import StandardScaler

import flasc_cluster
from flasc_cluster import FLASC
from flasc_cluster.cli import OUTPUT_COLUMNS, build_parser, estimator_params, main, parameter_flags
from flasc_cluster.datasets import make_branching_stars

ATTRIBUTES = {
    "label": "labels_",
    "probability": "probabilities_",
    "cluster_label": "cluster_labels_",
    "cluster_probability": "cluster_probabilities_",
    "branch_label": "branch_labels_",
    "branch_probability": "branch_probabilities_",
}
MCS = ["--min-cluster-size", "15"]


# ---------------------------------------------------------------------------
# Helpers and fixtures
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stars():
    X, _ = make_branching_stars(n_samples=600, n_features=2, random_state=0)
    return X


@pytest.fixture(scope="module")
def reference(stars):
    return FLASC(min_cluster_size=15).fit(stars)


def run(capsys, *argv):
    """``main(argv)`` -> (exit status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def write_text(path, X, *, delimiter=",", names=None, extra=None):
    """Write X as delimited text; ``extra`` maps position -> (name, cell values)."""
    columns = [[repr(float(v)) for v in X[:, j]] for j in range(X.shape[1])]
    names = list(names) if names is not None else None
    for position, (name, cells) in sorted((extra or {}).items()):
        columns.insert(position, list(cells))
        if names is not None:
            names.insert(position, name)
    lines = [delimiter.join(names)] if names is not None else []
    lines += [delimiter.join(row) for row in zip(*columns)]
    path.write_text("\n".join(lines) + "\n")
    return path


def read_labels(path_or_text):
    """The labels CSV as a dict column -> array."""
    text = path_or_text.read_text() if isinstance(path_or_text, Path) else path_or_text
    lines = text.strip().splitlines()
    assert tuple(lines[0].split(",")) == OUTPUT_COLUMNS
    table = np.array([line.split(",") for line in lines[1:]])
    return {
        name: table[:, j].astype(np.intp if name.endswith("label") else np.float64)
        for j, name in enumerate(OUTPUT_COLUMNS)
    }


def assert_same_as(output, model, rtol=0.0):
    """Labels equal; probabilities equal (written with repr) or within ``rtol``."""
    for column, attribute in ATTRIBUTES.items():
        expected = getattr(model, attribute)
        if rtol and column.endswith("probability"):
            np.testing.assert_allclose(output[column], expected, rtol=rtol, err_msg=column)
        else:
            np.testing.assert_array_equal(output[column], expected, err_msg=column)


def assert_one_line_error(err):
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("flasc-cluster: error: ")


# ---------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "tsv", "npy", "txt-semicolon"])
def test_round_trip_formats(tmp_path, capsys, stars, reference, fmt):
    if fmt == "csv":
        data = write_text(tmp_path / "d.csv", stars, names=["x", "y"])
    elif fmt == "tsv":
        data = write_text(tmp_path / "d.tsv", stars, delimiter="\t")
    elif fmt == "npy":
        data = tmp_path / "d.npy"
        np.save(data, stars)
    else:  # delimiter sniffed for other extensions
        data = write_text(tmp_path / "d.txt", stars, delimiter=";", names=["x", "y"])
    out = tmp_path / "labels.csv"
    status, stdout, err = run(capsys, "fit", data, *MCS, "-o", out)
    assert status == 0, err
    assert_same_as(read_labels(out), reference)
    assert "clusters: 3" in stdout and "fit time:" in stdout


def test_labels_to_stdout_summary_to_stderr(tmp_path, capsys, stars, reference):
    np.save(tmp_path / "d.npy", stars)
    status, stdout, err = run(capsys, "fit", tmp_path / "d.npy", *MCS)
    assert status == 0
    assert_same_as(read_labels(stdout), reference)
    assert "clusters: 3" in err


def test_stdin(monkeypatch, capsys, stars, reference):
    text = "\n".join(f"{a!r},{b!r}" for a, b in stars.tolist())
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    status, stdout, _ = run(capsys, "fit", "-", *MCS)
    assert status == 0
    assert_same_as(read_labels(stdout), reference)


def test_parameters_pass_through(tmp_path, capsys, stars):
    np.save(tmp_path / "d.npy", stars)
    argv = [
        "--min-cluster-size", "12", "--min-samples", "7", "--min-branch-size", "10",
        "--metric", "minkowski", "--p", "3", "--alpha", "1.5", "--leaf-size", "8",
        "--cluster-selection-method", "leaf", "--branch-detection-method", "core",
        "--branch-selection-method", "leaf", "--label-sides-as-branches",
        "--no-approx-min-span-tree", "--allow-single-branch", "--n-jobs", "1",
        "--max-cluster-size", "400", "--branch-selection-persistence", "0.01",
    ]
    params = dict(
        min_cluster_size=12, min_samples=7, min_branch_size=10, metric="minkowski", p=3.0,
        alpha=1.5, leaf_size=8, cluster_selection_method="leaf",
        branch_detection_method="core", branch_selection_method="leaf",
        label_sides_as_branches=True, approx_min_span_tree=False, allow_single_branch=True,
        n_jobs=1, max_cluster_size=400, branch_selection_persistence=0.01,
    )
    out = tmp_path / "labels.csv"
    status, stdout, err = run(capsys, "fit", tmp_path / "d.npy", *argv, "-o", out, "--json")
    assert status == 0, err
    model = FLASC(**params).fit(stars)
    assert_same_as(read_labels(out), model)
    assert json.loads(stdout)["parameters"] == model.get_params()


def test_flag_values_follow_constraints():
    parser = build_parser()
    args = parser.parse_args([
        "fit", "x.csv", "--min-samples", "none", "--n-jobs", "-1",
        "--metric-params", '{"p": 3}', "--allow-single-cluster", "--cluster-selection-epsilon",
        "0.5",
    ])
    assert estimator_params(args) == {
        "min_samples": None, "n_jobs": -1, "metric_params": {"p": 3},
        "allow_single_cluster": True, "cluster_selection_epsilon": 0.5,
    }
    # flags not given are not passed: the estimator's own defaults apply
    assert estimator_params(parser.parse_args(["fit", "x.csv"])) == {}


# ---------------------------------------------------------------------------
# Columns, header, standardisation, missing values
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "columns, order",
    [("x,y", [0, 1]), ("1,3", [0, 1]), ("y,1", [1, 0]), ("3,x", [1, 0])],
)
def test_column_selection(tmp_path, capsys, stars, columns, order):
    ids = [str(i) for i in range(len(stars))]
    tags = [f"p{i}" for i in range(len(stars))]
    data = write_text(tmp_path / "d.csv", stars, names=["x", "y"],
                      extra={0: ("id", ids), 2: ("name", tags)})
    out = tmp_path / "labels.csv"
    status, _, err = run(capsys, "fit", data, "--columns", columns, *MCS, "-o", out)
    assert status == 0, err
    assert_same_as(read_labels(out), FLASC(min_cluster_size=15).fit(stars[:, order]))


def test_header_override(tmp_path, capsys, stars):
    # a numeric-looking first row is data unless --header says otherwise
    data = write_text(tmp_path / "d.csv", stars, names=["1", "2"])
    out = tmp_path / "labels.csv"
    assert run(capsys, "fit", data, *MCS, "--header", "-o", out)[0] == 0
    assert_same_as(read_labels(out), FLASC(min_cluster_size=15).fit(stars))
    assert run(capsys, "fit", data, *MCS, "-o", out)[0] == 0  # guessed: no header
    assert read_labels(out)["label"].size == len(stars) + 1


def test_delimiter_override(tmp_path, capsys, stars, reference):
    data = write_text(tmp_path / "d.csv", stars, delimiter="|", names=["x", "y"])
    out = tmp_path / "labels.csv"
    status, _, err = run(capsys, "fit", data, "--delimiter", "|", *MCS, "-o", out)
    assert status == 0, err
    assert_same_as(read_labels(out), reference)


def test_standardize_equals_standard_scaler(tmp_path, capsys, stars):
    X = stars * np.array([1.0, 250.0]) + np.array([3.0, -40.0])
    data = write_text(tmp_path / "d.csv", X, names=["a", "b"])
    out = tmp_path / "labels.csv"
    status, _, err = run(capsys, "fit", data, "--standardize", *MCS, "-o", out)
    assert status == 0, err
    expected = FLASC(min_cluster_size=15).fit(StandardScaler().fit_transform(X))
    assert_same_as(read_labels(out), expected)


def test_missing_and_infinite_values_pass_through(tmp_path, capsys, stars):
    rows = [[repr(a), repr(b)] for a, b in stars.tolist()]
    rows[3][0] = ""
    rows[10][1] = "NA"
    rows[20][0] = "nan"
    rows[30][1] = "inf"
    (tmp_path / "d.csv").write_text("x,y\n" + "\n".join(",".join(r) for r in rows) + "\n")
    out = tmp_path / "labels.csv"
    assert run(capsys, "fit", tmp_path / "d.csv", *MCS, "-o", out)[0] == 0
    X = stars.copy()
    X[[3, 20], 0] = np.nan
    X[10, 1] = np.nan
    X[30, 1] = np.inf
    model = FLASC(min_cluster_size=15).fit(X)
    labels = read_labels(out)
    assert_same_as(labels, model)
    assert labels["label"][[3, 10, 20, 30]].tolist() == [-3, -3, -3, -2]


# ---------------------------------------------------------------------------
# Summaries, progress, plot, help
# ---------------------------------------------------------------------------
def test_json_summary(tmp_path, capsys, stars, reference):
    np.save(tmp_path / "d.npy", stars)
    status, stdout, _ = run(capsys, "fit", tmp_path / "d.npy", *MCS, "--json",
                            "-o", tmp_path / "labels.csv")
    assert status == 0
    info = json.loads(stdout)
    n_clusters = int(reference.cluster_labels_.max()) + 1
    assert info["n_samples"] == 600 and info["n_features"] == 2
    assert info["n_clusters"] == n_clusters == len(info["clusters"])
    assert info["branches_per_cluster"] == [len(p) for p in reference.branch_persistences_]
    assert info["noise_fraction"] == pytest.approx(np.mean(reference.labels_ == -1))
    assert info["n_labels"] == np.unique(reference.labels_[reference.labels_ >= 0]).size
    assert info["fit_seconds"] > 0
    assert info["parameters"] == reference.get_params()
    assert info["input"]["columns"] == ["0", "1"]


def test_demo_json(capsys):
    status, stdout, _ = run(capsys, "demo", "--n-samples", "900", "--min-cluster-size", "15",
                            "--json")
    assert status == 0
    info = json.loads(stdout)
    assert info["n_samples"] == 900 and info["n_clusters"] == 3
    assert info["parameters"]["min_cluster_size"] == 15


def test_demo_accepts_estimator_flags(capsys):
    status, stdout, _ = run(capsys, "demo", "--n-samples", "900", "--min-cluster-size", "15",
                            "--branch-detection-method", "core")
    assert status == 0
    assert "clusters: 3" in stdout and "noise:" in stdout and "fit time:" in stdout


def test_verbose_stages(tmp_path, capsys, stars):
    np.save(tmp_path / "d.npy", stars)
    status, _, err = run(capsys, "fit", tmp_path / "d.npy", *MCS, "-v", "-o",
                         tmp_path / "labels.csv")
    assert status == 0
    for stage in ("reading", "read 600 rows x 2 columns", "fitting", "fitted", "writing", "done"):
        assert stage in err


def test_plot(tmp_path, capsys, stars):
    pytest.importorskip("matplotlib")
    np.save(tmp_path / "d.npy", stars)
    image = tmp_path / "plot.png"
    status, _, err = run(capsys, "fit", tmp_path / "d.npy", *MCS, "--plot", image,
                         "-o", tmp_path / "labels.csv")
    assert status == 0, err
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib(tmp_path, capsys, monkeypatch, stars):
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)
    np.save(tmp_path / "d.npy", stars)
    status, stdout, err = run(capsys, "fit", tmp_path / "d.npy", "--plot", tmp_path / "p.png")
    assert status == 2 and stdout == ""
    assert_one_line_error(err)
    assert "matplotlib" in err


def test_help_documents_every_parameter(capsys):
    status, stdout, _ = run(capsys, "fit", "--help")
    assert status == 0
    params = FLASC().get_params()
    # --verbose is the tool's own flag and also switches on the estimator's
    params.pop("verbose")
    assert {flag.name for flag in parameter_flags()} == set(params)
    for name, default in params.items():
        flag = "--" + name.replace("_", "-")
        assert f"  {flag}" in stdout or f" {flag}," in stdout, flag
        if isinstance(default, bool):
            assert "--no-" + flag[2:] in stdout
    # help texts come from the numpydoc Parameters section
    assert "The minimum number of samples in a cluster." in stdout
    assert "{core,full}" in stdout
    for option in ("--columns", "--delimiter", "--header", "--standardize", "--output",
                   "--json", "--plot", "--verbose"):
        assert option in stdout
    status, stdout, _ = run(capsys, "demo", "--help")
    assert status == 0 and "--branch-detection-method" in stdout
    assert "(default: 25)" in " ".join(stdout.split())


# ---------------------------------------------------------------------------
# Errors: one line on stderr, exit 1 (data/file) or 2 (usage/parameters)
# ---------------------------------------------------------------------------
@pytest.fixture
def files(tmp_path, stars):
    np.save(tmp_path / "d.npy", stars)
    tags = [f"p{i}" for i in range(len(stars))]
    write_text(tmp_path / "d.csv", stars, names=["x", "y"], extra={1: ("name", tags)})
    (tmp_path / "ragged.csv").write_text("x,y\n1,2\n3\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header_only.csv").write_text("x,y\n")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "broken.npy").write_bytes(b"not a numpy file")
    (tmp_path / "folder.csv").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    "argv, status, fragment",
    [
        (["fit", "missing.csv"], 1, "no such file"),
        (["fit", "folder.csv"], 1, "is a directory"),
        (["fit", "binary.csv"], 1, "cannot read"),
        (["fit", "broken.npy"], 1, "cannot read broken.npy"),
        (["fit", "empty.csv"], 1, "holds no data"),
        (["fit", "header_only.csv"], 1, "no data rows"),
        (["fit", "ragged.csv"], 1, "line 3: expected 2 fields, found 1"),
        (["fit", "d.csv"], 1, "column 'name' of d.csv is not numeric"),
        (["fit", "d.csv", "--columns", "x,name"], 1, "column 'name' of d.csv is not numeric"),
        (["fit", "d.csv", "--columns", "x,z"], 1, "unknown column 'z'"),
        (["fit", "d.csv", "--columns", "0,7"], 1, "column index 7 is out of range"),
        (["fit", "d.npy", "--columns", "x"], 1, "unknown column 'x'"),
        (["fit", "d.npy", "-o", "nowhere/labels.csv"], 1, "does not exist"),
        (["fit", "d.npy", "--min-cluster-size", "1"], 2,
         "'min_cluster_size' parameter of FLASC must be an int in the range [2, inf)"),
        (["fit", "d.npy", "--alpha", "0"], 2, "'alpha' parameter of FLASC"),
        (["fit", "d.npy", "--min-cluster-size", "ten"], 2, "invalid int value: 'ten'"),
        (["fit", "d.npy", "--branch-detection-method", "fast"], 2, "invalid choice: 'fast'"),
        (["fit", "d.npy", "--metric", "wminkowski"], 2, "invalid choice"),
        (["fit", "d.npy", "--metric-params", "{oops"], 2, "invalid JSON"),
        (["fit", "d.npy", "--metric-params", "[1]"], 2, "expected a JSON object"),
        (["fit", "d.npy", "--metric-params", '{"foo": 1}'], 2, "FLASC could not fit"),
        (["fit", "d.npy", "--metric", "mahalanobis"], 2, "FLASC could not fit"),
        (["fit", "d.npy", "--columns", ","], 2, "empty entry"),
        (["fit", "d.npy", "--header"], 2, "do not apply to .npy"),
        (["fit", "d.npy", "--delimiter", "ab"], 2, "--delimiter must be one character"),
        (["fit", "d.npy", "--standardize", "--metric", "precomputed"], 2, "--standardize"),
        (["fit", "d.npy", "--plot", "p.unknown"], 2, "unknown image format"),
        (["fit", "d.npy", "--no-such-flag"], 2, "unrecognized arguments: --no-such-flag"),
        (["fit"], 2, "required: path"),
        ([], 2, "required"),
        (["d.csv"], 2, "to cluster a file run: flasc-cluster fit d.csv"),
    ],
)
def test_errors(files, capsys, monkeypatch, argv, status, fragment):
    if "--plot" in argv:
        pytest.importorskip("matplotlib")
    monkeypatch.chdir(files)
    code, stdout, err = run(capsys, *argv)
    assert code == status, err
    assert stdout == ""
    assert_one_line_error(err)
    assert fragment in err
    assert not (files / "nowhere").exists()


# ---------------------------------------------------------------------------
# A real process, and the shared data sets
# ---------------------------------------------------------------------------
def test_python_m_subprocess(tmp_path, stars, reference):
    data = write_text(tmp_path / "d.csv", stars, names=["x", "y"])
    out = tmp_path / "labels.csv"
    env = dict(os.environ)
    src = str(Path(flasc_cluster.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    command = [sys.executable, "-m", "flasc_cluster", "fit", str(data), *MCS, "--json",
               "-o", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["n_clusters"] == 3
    assert_same_as(read_labels(out), reference)


# load_diabetes standardises a strided column selection; StandardScaler's sums
# then differ in the last bit from those over the CLI's contiguous array, so
# probabilities agree to ~1e-16 rather than exactly (labels are identical).
@pytest.mark.parametrize(
    "name, loader, argv, params, rtol",
    [
        ("flared.npy", load_flared, [], {"min_cluster_size": 15}, 0.0),
        ("horse.csv", load_horse, ["--branch-detection-method", "core"],
         {"min_cluster_size": 15, "branch_detection_method": "core"}, 0.0),
        ("diabetes.csv", load_diabetes, ["--columns", ",".join(DIABETES_FEATURES),
                                         "--standardize"], {"min_cluster_size": 5}, 1e-12),
        ("diabetes.csv", load_diabetes, ["--columns", "1,2,3,4,5", "--standardize"],
         {"min_cluster_size": 5}, 1e-12),
    ],
)
def test_shared_data_round_trip(tmp_path, capsys, name, loader, argv, params, rtol):
    X = loader()  # skips when the file is absent
    flags = [arg for key, value in params.items()
             for arg in ("--" + key.replace("_", "-"), str(value))]
    out = tmp_path / "labels.csv"
    status, _, err = run(capsys, "fit", SHARED_DATA / name, *argv, *flags, "-o", out)
    assert status == 0, err
    model = FLASC(**params).fit(X)
    assert model.labels_.max() >= 0
    assert_same_as(read_labels(out), model, rtol=rtol)
