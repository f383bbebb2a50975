"""The examples in the public docstrings run and print what they show."""

import doctest

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
