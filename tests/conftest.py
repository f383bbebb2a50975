"""Test configuration: make the helpers in this folder importable.

``tests/`` is not a package, so ``from _reference import ...`` needs this
folder on ``sys.path`` (pytest's default rootdir-based import mode only adds
it for test modules, not reliably for helpers under ``--import-mode=importlib``).
"""

import sys
from pathlib import Path

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)


import pytest  # noqa: E402


@pytest.fixture(params=["brute", "tree"])
def space_backend(request, monkeypatch):
    """Run a test once with every Minkowski fit on the brute-force kernels
    and once on the kd-tree kernels, whatever the data's size (the package
    picks by size: ``flasc_cluster._hdbscan.space.BRUTE_MAX_POINTS``)."""
    from flasc_cluster._hdbscan import space

    monkeypatch.setattr(space, "BRUTE_MAX_POINTS", 10**9 if request.param == "brute" else 0)
    return request.param
