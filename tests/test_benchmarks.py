"""The benchmark harness's numba cache is keyed by the package sources."""

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


@pytest.fixture
def harness(monkeypatch):
    if not HARNESS.exists():
        pytest.skip("benchmarks/run.py not found")
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    spec = importlib.util.spec_from_file_location("flasc_bench_run", HARNESS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # puts benchmarks/ on sys.path
    yield module
    sys.path[:] = saved_path
    for name in set(sys.modules) - saved_modules:
        if name in ("flasc_bench_run", "_report"):
            del sys.modules[name]


def test_cache_directory_follows_every_source_change(harness, tmp_path, monkeypatch):
    # numba checks only a kernel's own file, so the harness keys its cache
    # by the digest of all sources: editing a callee must give a new cache
    repo = tmp_path / "repo"
    shutil.copytree(harness.REPO / "src" / "flasc_cluster", repo / "src" / "flasc_cluster",
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(harness, "REPO", repo)
    first = harness.default_numba_cache_dir()
    assert harness.default_numba_cache_dir() == first  # stable
    callee = repo / "src" / "flasc_cluster" / "_branches" / "sweep.py"
    callee.write_text(callee.read_text() + "\n# edited\n")
    edited = harness.default_numba_cache_dir()
    assert edited != first
    assert edited.parent == first.parent
