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
