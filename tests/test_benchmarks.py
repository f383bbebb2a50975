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


def test_branch_steps_times_every_step_of_both_methods():
    """``benchmarks/branch_steps.py`` reaches into the batch kernels; it must
    keep up with their arguments."""
    import re
    import subprocess

    script = HARNESS.parent / "branch_steps.py"
    if not script.exists():
        pytest.skip("benchmarks/branch_steps.py not found")
    done = subprocess.run(
        [sys.executable, str(script), "--n", "6000", "--repeats", "1", "--sorts"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    for method in ("core", "full"):
        assert re.search(rf"^{method}: the largest cluster, \d+ points", done.stdout, re.M)
    times = [float(t) for t in re.findall(r"\s([0-9.]+) ms$", done.stdout, re.M)]
    # per method: its steps, then the whole kernel on one and on all clusters
    assert len(times) == 18 and all(t > 0 for t in times)
    sorts = re.findall(r"^\s+\d+ values: (.*)$", done.stdout, re.M)
    assert len(sorts) == 4
    for line in sorts:
        per_value = re.findall(r" ([0-9.]+)(?:,|$)", line)
        assert len(per_value) >= 3 and all(float(t) > 0 for t in per_value)
