"""The examples in the public docstrings run and print what they show."""

import doctest
import inspect
import re
from pathlib import Path

import pytest

import flasc_cluster._estimator
import flasc_cluster.datasets
import flasc_cluster._interop
import flasc_cluster.membership
import flasc_cluster.prediction


@pytest.mark.parametrize("module", [flasc_cluster._estimator, flasc_cluster.datasets, flasc_cluster.prediction, flasc_cluster.membership, flasc_cluster._interop])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_demo_command(capsys):
    from flasc_cluster.cli import main

    assert main(["demo", "--n-samples", "900", "--min-cluster-size", "15"]) == 0
    out = capsys.readouterr().out
    assert "clusters: 3" in out
    assert "noise:" in out and "fit time:" in out


# ---------------------------------------------------------------------------
# The documentation in docs/ (the Sphinx build itself runs in CI, .ci/run)
# ---------------------------------------------------------------------------
DOCS = Path(__file__).resolve().parent.parent / "docs"


def _doc_text(name):
    return (DOCS / name).read_text(encoding="utf-8")


def _pages():
    skip = {"_build", "_templates", "generated"}
    return sorted(
        p.relative_to(DOCS).with_suffix("").as_posix()
        for p in DOCS.rglob("*.rst")
        if not skip & set(p.relative_to(DOCS).parts)
    )


def _toctree_entries(name):
    entries, inside = [], False
    for line in _doc_text(name + ".rst").splitlines():
        if line.strip().startswith(".. toctree::"):
            inside = True
        elif inside and line and not line[0].isspace():
            inside = False
        elif inside and line.strip() and not line.strip().startswith(":"):
            entries.append(line.strip())
    return entries


def test_docs_pages_are_all_in_the_toctree():
    pages = _pages()
    assert "index" in pages
    reached, todo = {"index"}, ["index"]
    while todo:
        for entry in _toctree_entries(todo.pop()):
            assert entry in pages, f"toctree entry {entry!r} has no page"
            if entry not in reached:
                reached.add(entry)
                todo.append(entry)
    assert reached == set(pages), f"pages not in any toctree: {set(pages) - reached}"


def test_api_reference_lists_every_public_name():
    import flasc_cluster.plots

    api = _doc_text("api.rst")
    listed = set(re.findall(r"^   (\w+)$", api, flags=re.M))
    public = (
        set(flasc_cluster.__all__) - {"__version__"}
        | set(flasc_cluster.membership.__all__)
        | set(flasc_cluster.datasets.__all__)
    )
    assert public <= listed, f"missing from docs/api.rst: {sorted(public - listed)}"
    assert set(flasc_cluster.plots.__all__) <= listed


def test_parameter_guide_mentions_every_parameter():
    from flasc_cluster import FLASC

    guide = _doc_text("parameters.rst")
    missing = [name for name in FLASC().get_params() if f"``{name}``" not in guide]
    assert not missing, f"docs/parameters.rst does not mention {missing}"


def test_migration_page_maps_every_fitted_attribute():
    from flasc_cluster import FLASC

    doc = inspect.getdoc(FLASC)
    section = doc.split("Attributes\n----------", 1)[1].split("\n\n", 1)[0]
    attributes = set(re.findall(r"^(\w+_) :", section, flags=re.M))
    attributes |= {
        name for name, value in vars(FLASC).items()
        if isinstance(value, property) and name.endswith("_") and not name.startswith("_")
    }
    assert "labels_" in attributes and "condensed_tree_" in attributes
    migration = _doc_text("migration.rst")
    missing = sorted(name for name in attributes if f"``{name}``" not in migration)
    assert not missing, f"docs/migration.rst does not map {missing}"


def _python_blocks(name):
    """The ``.. code-block:: python`` bodies of a docs page, dedented."""
    blocks, current = [], None
    for line in _doc_text(name).splitlines() + [""]:
        if line.strip() == ".. code-block:: python":
            current = []
        elif current is not None:
            if line and not line[0].isspace():
                blocks.append("\n".join(current))
                current = None
            else:
                current.append(line[3:] if line.startswith("   ") else line.strip())
    if current is not None:
        blocks.append("\n".join(current))
    return [b for b in blocks if b.strip()]


def test_quickstart_code_blocks_run(tmp_path):
    # every Python block of the quick start runs, in order, in one namespace;
    # the names the page leaves to the reader are filled in here
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.cluster import HDBSCAN

    blocks = _python_blocks("quickstart.rst")
    assert len(blocks) >= 5
    ns = {}
    exec(compile(blocks[0], "quickstart-0", "exec"), ns)
    X, model = ns["X"], ns["model"]
    # what the page says of the first fit
    assert model.cluster_labels_.max() == 2
    assert model.labels_.max() == 11
    ns["X_new"] = X[::7] + 0.01
    ns["my_labels"] = model.cluster_labels_.copy()
    ns["fitted_hdbscan_or_sklearn_clusterer"] = HDBSCAN(min_cluster_size=20, copy=True).fit(X)
    for k, block in enumerate(blocks[1:], start=1):
        exec(compile(block, f"quickstart-{k}", "exec"), ns)
    plt.close("all")
    # "approximate_predict of the training rows reproduces labels_ and probabilities_"
    from flasc_cluster import approximate_predict

    fresh = ns["FLASC"](min_cluster_size=20).fit(X)
    pred = approximate_predict(fresh, X)
    np = pytest.importorskip("numpy")
    np.testing.assert_array_equal(pred.labels, fresh.labels_)
    np.testing.assert_allclose(pred.probabilities, fresh.probabilities_)
