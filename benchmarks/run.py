"""Cross-library benchmark: flasc_cluster against pyflasc, hdbscan and fast_hdbscan.

Every (library, cell) runs in a fresh subprocess that loads a shared ``.npy``,
does a warm-up fit on small data of the same family and dimension (so
numba compilation and cache loading are excluded), then times one fit and
reports its wall time, the clustering/branch split where the library allows
it, and the peak resident set size. A cold-start measurement (import plus
first fit, with a warm and with an empty numba cache) runs separately.

Usage::

    python benchmarks/run.py --quick          # n in {10k, 100k}, d in {2, 8}
    python benchmarks/run.py                  # full grid (n up to 1M, d up to 16)
    python benchmarks/run.py --help

Run it with ``PYTHONPATH=src`` (or with flasc_cluster installed). Results go
to ``benchmarks/results/latest.{md,json}`` and ``time_vs_n.png``.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import _fmt_run, write_markdown, write_plot  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_COLD_DATA = REPO.parent / "shared" / "data" / "flared.npy"

LIBRARIES = ("flasc_cluster", "pyflasc", "hdbscan", "fast_hdbscan")
METHODS = ("full", "core")
FAMILIES = ("flared", "walks")
#: Branch detection methods each peer offers; the rest are recorded as "n/a".
SUPPORTED = {
    "flasc_cluster": ("full", "core"),
    "pyflasc": ("full", "core"),
    "hdbscan": ("full", "core"),
    # fast_hdbscan's BranchDetector always uses the core graph (k-NN + MST).
    "fast_hdbscan": ("core",),
}
FULL_GRID = dict(n=(10_000, 100_000, 1_000_000), d=(2, 8, 16))
QUICK_GRID = dict(n=(10_000, 100_000), d=(2, 8))
# above flasc_cluster's BRUTE_MAX_POINTS (3000): smaller data takes its
# all-pairs kernels, so a smaller warm-up would leave the kd-tree kernels of
# every timed cell to compile inside the timed fit
WARMUP_SAMPLES = 6000
READY = "@@READY"


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
def generator_params(family, n, d, seed):
    """Keyword arguments of the generator for one cell (recorded in the JSON)."""
    if family == "flared":
        # Ten flared blobs whatever n is, so clusters grow with n (a stress
        # test for the "full" graph, whose size grows with cluster density).
        return dict(n_samples=n, n_features=d, n_clusters=10, random_state=seed)
    if family == "walks":
        # The FLASC paper's computational-cost setting: 250 points per
        # cluster (5 walks of 50 steps), so the number of clusters grows with n.
        return dict(n_samples=n, n_features=d, n_clusters=max(n // 250, 1), random_state=seed)
    raise ValueError(f"unknown family {family!r}")


def warmup_params(family, d, seed):
    """Two small data sets of the same family and dimension for the warm-up
    fit, which fits them side by side (:func:`warmup_data`).

    A row slice of a large cell would be mostly noise (e.g. 6000 rows of
    100k random-walk points spread over 400 clusters), leaving the branch
    kernels uncompiled until the timed fit; small generated sets with well
    populated clusters exercise every stage. One has a few large clusters,
    which flasc_cluster's branch pass runs each on its own (in two stages,
    for ``core``), the other many small ones, which it runs in groups: a
    warm-up with only the former left the grouped kernel to compile inside
    the timed fit of the 10k x 2 walks ``core`` cell (3.2 s).
    """
    n_few = 3 if family == "flared" else 4
    return [
        dict(n_samples=WARMUP_SAMPLES, n_features=d, n_clusters=n_few, random_state=seed + 1),
        dict(n_samples=WARMUP_SAMPLES, n_features=d, n_clusters=WARMUP_SAMPLES // 250,
             random_state=seed + 2),
    ]


def warmup_data(family, params):
    """The data sets of :func:`warmup_params` stacked, the second shifted
    past the first along every axis so that no cluster of one touches the
    other's."""
    import numpy as np

    parts = [generate(family, p) for p in params]
    for t in range(1, len(parts)):
        prev, part = parts[t - 1], parts[t]
        parts[t] = part + (prev.max(axis=0) - part.min(axis=0) + np.ptp(prev, axis=0))
    return np.vstack(parts)


def generate(family, params):
    from flasc_cluster.datasets import make_flared_blobs, make_random_walk_clusters

    make = make_flared_blobs if family == "flared" else make_random_walk_clusters
    X, _ = make(**params)
    import numpy as np

    return np.ascontiguousarray(X, dtype=np.float64)


def worker_generate(spec):
    import numpy as np

    np.save(spec["data"], generate(spec["family"], spec["params"]))
    np.save(spec["warmup"], warmup_data(spec["family"], spec["warmup_params"]))


# --------------------------------------------------------------------------
# child: one library on one cell
# --------------------------------------------------------------------------
def _status_kb(field):
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss():
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _jsonable_params(params):
    out = {}
    for key, value in params.items():
        if isinstance(value, (bool, int, float, str)) or value is None:
            out[key] = value
        else:
            out[key] = repr(value)
    return out


def _make_flasc_cluster(method, mcs, ms):
    import flasc_cluster
    import flasc_cluster._fit as fit_module

    timer = {"branch": 0.0}
    original = getattr(fit_module, "detect_branches", None)
    if original is not None:
        # Instrument the private orchestration: time the branch pass; the
        # clustering pass (space, k-NN, MST, linkage, selection) is the rest.
        def timed_detect_branches(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timer["branch"] += time.perf_counter() - t0

        fit_module.detect_branches = timed_detect_branches

    def build():
        return flasc_cluster.FLASC(
            min_cluster_size=mcs, min_samples=ms, branch_detection_method=method
        )

    def fit(X):
        timer["branch"] = 0.0
        model = build()
        t0 = time.perf_counter()
        model.fit(X)
        total = time.perf_counter() - t0
        split = None
        if original is not None:
            split = (total - timer["branch"], timer["branch"])
        return model, total, split, model.labels_, model.cluster_labels_

    return build, fit, flasc_cluster.__version__


def _make_pyflasc(method, mcs, ms):
    import flasc

    def build():
        return flasc.FLASC(min_cluster_size=mcs, min_samples=ms, branch_detection_method=method)

    def fit(X):
        model = build()
        t0 = time.perf_counter()
        model.fit(X)
        total = time.perf_counter() - t0
        return model, total, None, model.labels_, model.cluster_labels_

    from importlib.metadata import version

    return build, fit, version("pyflasc")


def _make_hdbscan(method, mcs, ms):
    import hdbscan

    def build():
        return hdbscan.HDBSCAN(min_cluster_size=mcs, min_samples=ms, branch_detection_data=True)

    def fit(X):
        clusterer = build()
        t0 = time.perf_counter()
        clusterer.fit(X)
        t1 = time.perf_counter()
        detector = hdbscan.BranchDetector(branch_detection_method=method).fit(clusterer)
        t2 = time.perf_counter()
        return detector, t2 - t0, (t1 - t0, t2 - t1), detector.labels_, clusterer.labels_

    build.detector_params = lambda: hdbscan.BranchDetector(branch_detection_method=method).get_params()
    return build, fit, hdbscan.__version__ if hasattr(hdbscan, "__version__") else _dist_version("hdbscan")


def _make_fast_hdbscan(method, mcs, ms):
    import fast_hdbscan

    def build():
        return fast_hdbscan.HDBSCAN(min_cluster_size=mcs, min_samples=ms)

    def fit(X):
        clusterer = build()
        t0 = time.perf_counter()
        clusterer.fit(X)
        t1 = time.perf_counter()
        detector = fast_hdbscan.BranchDetector().fit(clusterer)
        t2 = time.perf_counter()
        return detector, t2 - t0, (t1 - t0, t2 - t1), detector.labels_, clusterer.labels_

    build.detector_params = lambda: fast_hdbscan.BranchDetector().get_params()
    return build, fit, _dist_version("fast_hdbscan")


def _dist_version(name):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


MAKERS = {
    "flasc_cluster": _make_flasc_cluster,
    "pyflasc": _make_pyflasc,
    "hdbscan": _make_hdbscan,
    "fast_hdbscan": _make_fast_hdbscan,
}


def worker_fit(spec):
    import warnings

    import numpy as np

    warnings.simplefilter("ignore")  # peers warn about deprecated sklearn APIs
    t_start = time.perf_counter()
    build, fit, lib_version = MAKERS[spec["library"]](
        spec["method"], spec["min_cluster_size"], spec["min_samples"]
    )
    t_import = time.perf_counter() - t_start
    X = np.load(spec["data"])
    warm = np.load(spec["warmup"])
    t0 = time.perf_counter()
    fit(warm)
    t_warmup = time.perf_counter() - t0
    del warm
    rss_before = _status_kb("VmRSS")
    hwm_reset = _reset_peak_rss()
    print(READY, flush=True)

    model, total, split, labels, cluster_labels = fit(X)
    # Short fits are repeated (fresh estimator each time) and the fastest
    # kept, to damp scheduler noise; long fits run once.
    times = [total]
    while len(times) < spec["max_repeats"] and sum(times) + times[-1] < spec["repeat_window_s"]:
        del model
        model, t_again, split_again, _, _ = fit(X)
        times.append(t_again)
        if t_again < total:
            total, split = t_again, split_again

    hwm = _status_kb("VmHWM")
    import resource

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    np.save(spec["labels"], np.asarray(labels, dtype=np.intp))
    np.save(spec["cluster_labels"], np.asarray(cluster_labels, dtype=np.intp))
    params = build().get_params()
    if hasattr(build, "detector_params"):
        params = {"clusterer": _jsonable_params(params),
                  "branch_detector": _jsonable_params(build.detector_params())}
    else:
        params = _jsonable_params(params)
    labels = np.asarray(labels)
    cluster_labels = np.asarray(cluster_labels)
    result = dict(
        status="ok",
        version=lib_version,
        time_s=total,
        times_s=times,
        cluster_time_s=None if split is None else split[0],
        branch_time_s=None if split is None else split[1],
        import_s=t_import,
        warmup_s=t_warmup,
        # VmHWM was reset after the warm-up when possible, so this is the
        # peak during the timed fit (data, libraries and warm-up leftovers
        # included); ru_maxrss is the whole process's (it may include the
        # parent's pages inherited at fork/exec and is only a cross-check).
        peak_rss_mb=None if hwm is None else hwm / 1024,
        peak_rss_is_fit_only=hwm_reset,
        rss_before_fit_mb=None if rss_before is None else rss_before / 1024,
        ru_maxrss_mb=maxrss / 1024,
        n_clusters=int(cluster_labels.max() + 1) if cluster_labels.size else 0,
        n_labels=int(labels.max() + 1) if labels.size else 0,
        noise_fraction=float(np.mean(labels < 0)) if labels.size else 0.0,
        params=params,
    )
    with open(spec["result"], "w") as fh:
        json.dump(result, fh)


# --------------------------------------------------------------------------
# parent: run children under a budget
# --------------------------------------------------------------------------
def source_digest():
    """Digest of the package's sources (file names and contents).

    numba's cache checks only the timestamp of a kernel's own file, not of
    the files of the kernels it calls, so a cache kept across source changes
    can serve stale machine code; a cache per digest cannot.
    """
    digest = hashlib.sha256()
    for path in sorted((REPO / "src" / "flasc_cluster").rglob("*.py")):
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def default_numba_cache_dir():
    return Path(tempfile.gettempdir()) / "flasc_bench_numba_cache" / source_digest()


def child_env(numba_cache_dir):
    env = dict(os.environ)
    src = str(REPO / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if numba_cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(numba_cache_dir)
    return env


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the child's own session only
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def run_child(spec, spec_path, *, budget, setup_budget, env):
    """Run one worker; the budget applies to the timed fit, a second one to setup."""
    with open(spec_path, "w") as fh:
        json.dump(spec, fh)
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--worker", str(spec_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,
    )
    lines = queue.Queue()
    err_chunks = []

    def pump_out():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def pump_err():
        err_chunks.append(proc.stderr.read())

    threads = [threading.Thread(target=pump_out, daemon=True),
               threading.Thread(target=pump_err, daemon=True)]
    for t in threads:
        t.start()

    t0 = time.perf_counter()
    ready = False
    while not ready:
        remaining = setup_budget - (time.perf_counter() - t0)
        if remaining <= 0:
            _kill(proc)
            return dict(status="setup timeout", detail=f"import + warm-up > {setup_budget:.0f} s")
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        if line is None:
            break
        ready = line.startswith(READY)
    fit_start = time.perf_counter()
    try:
        proc.wait(timeout=budget if ready else max(setup_budget - (fit_start - t0), 1))
    except subprocess.TimeoutExpired:
        _kill(proc)
        for t in threads:
            t.join(timeout=5)
        if ready:
            return dict(status="timeout", detail=f"timeout (>{budget:.0f} s)")
        return dict(status="setup timeout", detail=f"import + warm-up > {setup_budget:.0f} s")
    for t in threads:
        t.join(timeout=5)
    if proc.returncode != 0 or not os.path.exists(spec["result"]):
        err = "".join(err_chunks).strip().splitlines()
        tail = err[-1] if err else ""
        if proc.returncode is not None and proc.returncode < 0:
            tail = f"killed by signal {-proc.returncode} (out of memory?) {tail}".strip()
        return dict(status="error", detail=tail[:300], returncode=proc.returncode)
    with open(spec["result"]) as fh:
        return json.load(fh)


def run_generate(spec, spec_path, env, timeout):
    with open(spec_path, "w") as fh:
        json.dump(spec, fh)
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--generate", str(spec_path)],
        env=env, check=True, timeout=timeout,
    )


# --------------------------------------------------------------------------
# cold start
# --------------------------------------------------------------------------
COLD_SNIPPET = r"""
import json, sys, time
t0 = time.perf_counter()
import flasc_cluster
t1 = time.perf_counter()
import numpy as np
X = np.load(sys.argv[1])
t2 = time.perf_counter()
flasc_cluster.FLASC(min_cluster_size=int(sys.argv[2])).fit(X)
t3 = time.perf_counter()
print(json.dumps(dict(import_s=t1 - t0, fit_s=t3 - t2)))
"""
BARE_SNIPPET = "import sklearn.base, numba"
# the floor of any numba estimator with a warm cache: the bare import plus the
# first call of one trivial cached kernel (numba's start-up on first use:
# its typing and lowering registries, the cache lookup) and the process exit
TRIVIAL_KERNEL = """
import numba
@numba.njit(cache=True)
def total(a):
    s = 0.0
    for x in a:
        s += x
    return s
"""
TRIVIAL_SNIPPET = (
    "import sklearn.base, numba, sys, numpy; sys.path.insert(0, sys.argv[1]); "
    "import flasc_bench_trivial; flasc_bench_trivial.total(numpy.ones(3))"
)


def _installed_env(numba_cache_dir):
    """:func:`child_env` with Python's bytecode writing on."""
    env = child_env(numba_cache_dir)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _timed_process(args, env):
    t0 = time.perf_counter()
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr else "failed")
    return wall, out.stdout


def cold_start(data_path, *, min_cluster_size, repeats, workdir):
    """Process wall times of a bare import, of a bare import plus one trivial
    cached kernel, and of importing flasc_cluster and fitting ``data_path``
    with a warm and with an empty numba cache.

    The warm-cache fit, the bare import and the trivial kernel run in turn,
    ``repeats`` rounds, so that a slow spell of the machine falls on all
    three; besides the medians, the median of each round's warm-minus-bare
    difference is reported.
    """
    if not Path(data_path).exists():
        return dict(status="skipped", detail=f"{data_path} not found")
    result = dict(status="ok", data=str(data_path), repeats=repeats)
    env = _installed_env(None)
    py = sys.executable
    # as installed: pip byte-compiles a package, so import it once with
    # bytecode writing on (PYTHONDONTWRITEBYTECODE would otherwise make every
    # run compile the sources, which an installed package never does)
    _timed_process([py, "-c", "import flasc_cluster"], env)
    module_dir = Path(tempfile.mkdtemp(prefix="trivial_kernel_", dir=workdir))
    (module_dir / "flasc_bench_trivial.py").write_text(TRIVIAL_KERNEL)
    trivial_env = _installed_env(module_dir / "cache")
    _timed_process([py, "-c", TRIVIAL_SNIPPET, str(module_dir)], trivial_env)  # fills the cache

    cache = Path(tempfile.mkdtemp(prefix="numba_cold_", dir=workdir))
    fit_args = [py, "-c", COLD_SNIPPET, str(data_path), str(min_cluster_size)]
    # Cold: an empty NUMBA_CACHE_DIR, so every kernel compiles (and is cached).
    wall, out = _timed_process(fit_args, _installed_env(cache))
    result["cold"] = dict(wall_s=wall, **json.loads(out.strip().splitlines()[-1]))
    # Warm: the cache the cold run just filled, in turn with the bare rows.
    bare, trivial, warm = [], [], []
    for _ in range(repeats):
        wall, out = _timed_process(fit_args, _installed_env(cache))
        warm.append(dict(wall_s=wall, **json.loads(out.strip().splitlines()[-1])))
        bare.append(_timed_process([py, "-c", BARE_SNIPPET], env)[0])
        trivial.append(
            _timed_process([py, "-c", TRIVIAL_SNIPPET, str(module_dir)], trivial_env)[0]
        )
    result["bare_import_s"] = statistics.median(bare)
    result["trivial_kernel_s"] = statistics.median(trivial)
    result["warm"] = {k: statistics.median(w[k] for w in warm) for k in warm[0]}
    result["warm_minus_bare_s"] = statistics.median(
        w["wall_s"] - b for w, b in zip(warm, bare)
    )
    result["trivial_minus_bare_s"] = statistics.median(t - b for t, b in zip(trivial, bare))
    shutil.rmtree(module_dir, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    return result


# --------------------------------------------------------------------------
# machine
# --------------------------------------------------------------------------
def machine_description():
    cpu = None
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram_gb = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    ram_gb = int(line.split()[1]) / 1024**2
                    break
    except OSError:
        pass
    versions = {}
    for name in ("numpy", "numba", "scipy", "scikit-learn", "pyflasc", "hdbscan", "fast_hdbscan"):
        versions[name] = _dist_version(name)
    try:
        out = subprocess.run(
            [sys.executable, "-c", "import flasc_cluster; print(flasc_cluster.__version__)"],
            env=child_env(None), capture_output=True, text=True, timeout=120,
        )
        versions["flasc_cluster"] = out.stdout.strip() or None
    except subprocess.SubprocessError:
        versions["flasc_cluster"] = None
    return dict(
        cpu=cpu or platform.processor() or "unknown",
        cores=os.cpu_count(),
        affinity=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        ram_gb=ram_gb,
        platform=platform.platform(),
        python=platform.python_version(),
        versions=versions,
        date=datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        loadavg_start=os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    )


# --------------------------------------------------------------------------
# ARI
# --------------------------------------------------------------------------
def ari(path_a, path_b):
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(np.load(path_a), np.load(path_b)))


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="n in {10k, 100k} and d in {2, 8} (overridden by --n / --d)")
    p.add_argument("--n", type=int, nargs="+", help="sample sizes (default: the grid's)")
    p.add_argument("--d", type=int, nargs="+", help="dimensions (default: the grid's)")
    p.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    p.add_argument("--libraries", nargs="+", choices=LIBRARIES, default=list(LIBRARIES))
    p.add_argument("--min-cluster-size", type=int, default=25)
    p.add_argument("--min-samples", type=int, default=None,
                   help="default: each library's own (min_cluster_size)")
    p.add_argument("--budget", type=float, default=300.0,
                   help="seconds allowed for one timed fit (default 300)")
    p.add_argument("--setup-budget", type=float, default=600.0,
                   help="seconds allowed for a worker's imports and warm-up (default 600)")
    p.add_argument("--max-repeats", type=int, default=3,
                   help="timed fits per worker when they are short; the fastest is kept")
    p.add_argument("--repeat-window", type=float, default=5.0,
                   help="repeat a fit only while the repeats fit in this many seconds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-skip-after-timeout", action="store_true",
                   help="also run larger n for a library after it timed out at a smaller n")
    p.add_argument("--no-cold-start", action="store_true")
    p.add_argument("--cold-data", default=str(DEFAULT_COLD_DATA),
                   help="data for the cold-start measurement (default ../shared/data/flared.npy)")
    p.add_argument("--cold-repeats", type=int, default=3)
    p.add_argument("--out-dir", default=str(HERE / "results"))
    p.add_argument("--tmp-dir", default=None, help="parent of the run's temporary directory")
    p.add_argument("--numba-cache-dir", default=None,
                   help="NUMBA_CACHE_DIR for the workers, kept between runs so that "
                        "compilation is paid once (default: a directory named after "
                        "the digest of the package sources, under the system's "
                        "temporary directory)")
    p.add_argument("--report-only", action="store_true",
                   help="rewrite latest.md and time_vs_n.png from latest.json and exit")
    p.add_argument("--cold-only", action="store_true",
                   help="measure the cold start again into latest.json (the grid kept), "
                        "rewrite latest.md and exit")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--generate", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        with open(args.worker) as fh:
            worker_fit(json.load(fh))
        return 0
    if args.generate:
        with open(args.generate) as fh:
            worker_generate(json.load(fh))
        return 0

    if args.report_only or args.cold_only:
        out_dir = Path(args.out_dir)
        report = json.loads((out_dir / "latest.json").read_text())
        if args.cold_only:
            workdir = Path(tempfile.mkdtemp(prefix="flasc_cold_", dir=args.tmp_dir))
            try:
                report["cold_start"] = cold_start(
                    args.cold_data, min_cluster_size=args.min_cluster_size,
                    repeats=args.cold_repeats, workdir=workdir,
                )
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            report["cold_start"]["measured"] = machine_description()
            print(json.dumps(report["cold_start"]), flush=True)
            (out_dir / "latest.json").write_text(json.dumps(report, indent=1))
        write_markdown(report, out_dir / "latest.md")
        write_plot(report, out_dir / "time_vs_n.png")
        return 0

    grid = QUICK_GRID if args.quick else FULL_GRID
    ns = sorted(args.n or grid["n"])
    ds = args.d or list(grid["d"])
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t_run = time.perf_counter()
    config = dict(
        quick=bool(args.quick), n=ns, d=ds, families=args.families, methods=args.methods,
        libraries=args.libraries, min_cluster_size=args.min_cluster_size,
        min_samples=args.min_samples, budget_s=args.budget, setup_budget_s=args.setup_budget,
        seed=args.seed, warmup_samples=2 * WARMUP_SAMPLES, max_repeats=args.max_repeats,
        repeat_window_s=args.repeat_window,
        skip_after_timeout=not args.no_skip_after_timeout,
        command=" ".join([Path(sys.executable).name, *sys.argv]),
    )
    report = dict(config=config, machine=machine_description(), cells=[], cold_start=None)
    json_path = out_dir / "latest.json"

    workdir = Path(tempfile.mkdtemp(prefix="flasc_bench_", dir=args.tmp_dir))
    try:
        # One numba cache for every worker, outside the source trees and kept
        # between runs; the warm-up fit fills it or loads it, and is not timed.
        env = child_env(args.numba_cache_dir or default_numba_cache_dir())
        timed_out = {}  # (lib, method, d, family) -> smallest n that timed out
        for family in args.families:
            for d in ds:
                for n in ns:
                    cell_dir = workdir / f"{family}_d{d}_n{n}"
                    cell_dir.mkdir()
                    params = generator_params(family, n, d, args.seed)
                    gen = dict(family=family, params=params,
                               warmup_params=warmup_params(family, d, args.seed),
                               data=str(cell_dir / "X.npy"), warmup=str(cell_dir / "warm.npy"))
                    t0 = time.perf_counter()
                    run_generate(gen, cell_dir / "gen.json", env, timeout=1800)
                    print(f"[{family} d={d} n={n}] data in {time.perf_counter() - t0:.1f} s",
                          flush=True)
                    for method in args.methods:
                        cell = dict(family=family, d=d, n=n, method=method, generator=params,
                                    runs={}, ari_labels={}, ari_clusters={})
                        for lib in args.libraries:
                            key = (lib, method, d, family)
                            if method not in SUPPORTED[lib]:
                                run = dict(status="n/a",
                                           detail=f"{lib} has no '{method}' branch detection")
                            elif key in timed_out and config["skip_after_timeout"]:
                                run = dict(status="skipped",
                                           detail=f"skipped (timeout at n={timed_out[key]:,})")
                            else:
                                stem = cell_dir / f"{lib}_{method}"
                                spec = dict(
                                    library=lib, method=method, data=gen["data"],
                                    warmup=gen["warmup"],
                                    min_cluster_size=args.min_cluster_size,
                                    min_samples=args.min_samples,
                                    labels=f"{stem}_labels.npy",
                                    cluster_labels=f"{stem}_clabels.npy",
                                    result=f"{stem}_result.json",
                                    max_repeats=args.max_repeats,
                                    repeat_window_s=args.repeat_window,
                                )
                                run = run_child(spec, Path(f"{stem}_spec.json"),
                                                budget=args.budget,
                                                setup_budget=args.setup_budget, env=env)
                                if run["status"] == "timeout":
                                    timed_out.setdefault(key, n)
                            cell["runs"][lib] = run
                            print(f"  {method:4s} {lib:14s} {_fmt_run(run)}", flush=True)
                        ref = cell["runs"].get("pyflasc", {})
                        if ref.get("status") == "ok":
                            for lib, run in cell["runs"].items():
                                if lib == "pyflasc" or run.get("status") != "ok":
                                    continue
                                stem = cell_dir / f"{lib}_{method}"
                                ref_stem = cell_dir / f"pyflasc_{method}"
                                cell["ari_labels"][lib] = ari(f"{stem}_labels.npy",
                                                              f"{ref_stem}_labels.npy")
                                cell["ari_clusters"][lib] = ari(f"{stem}_clabels.npy",
                                                                f"{ref_stem}_clabels.npy")
                        if "flasc_cluster" in cell["ari_labels"]:
                            print(f"  {method:4s} ARI flasc_cluster vs pyflasc: "
                                  f"{cell['ari_labels']['flasc_cluster']:.3f}", flush=True)
                        report["cells"].append(cell)
                        report["elapsed_s"] = time.perf_counter() - t_run
                        json_path.write_text(json.dumps(report, indent=1))  # partial
                    shutil.rmtree(cell_dir, ignore_errors=True)

        if not args.no_cold_start:
            print("cold start ...", flush=True)
            try:
                report["cold_start"] = cold_start(
                    args.cold_data, min_cluster_size=args.min_cluster_size,
                    repeats=args.cold_repeats, workdir=workdir,
                )
            except (RuntimeError, subprocess.SubprocessError) as exc:
                report["cold_start"] = dict(status="error", detail=str(exc))
            print(json.dumps(report["cold_start"]), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    report["elapsed_s"] = time.perf_counter() - t_run
    if hasattr(os, "getloadavg"):
        report["machine"]["loadavg_end"] = os.getloadavg()[0]
    json_path.write_text(json.dumps(report, indent=1))
    write_markdown(report, out_dir / "latest.md")
    write_plot(report, out_dir / "time_vs_n.png")
    print(f"done in {report['elapsed_s'] / 60:.1f} min; results in {out_dir}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
