"""The batched branch pass gives every cluster exactly the per-cluster result.

On kd-tree spaces the clusters below ``1 / n_threads`` of the clustered
points run whole, a list of clusters per thread and kernel call
(:mod:`flasc_cluster._branches.batch`); the per-cluster path
(``detect_cluster_branches``) is the reference. Every stored field of every
cluster must be identical, including on data with tied distances and
centralities.
"""

import numpy as np
import pytest

from flasc_cluster import FLASC
from flasc_cluster._branches import detect
from flasc_cluster.datasets import make_branching_stars, make_random_walk_clusters


@pytest.fixture(autouse=True, params=["tree sweeps", "all-pairs sweeps"])
def _kd_tree_fits(request, monkeypatch):
    """Batches run on kd-tree spaces only: a space of at most
    ``BRUTE_MAX_POINTS`` points runs its clusters one by one
    (``tests/test_brute.py``), so these fits always take the tree. A
    batched ``full`` cluster sweeps its kd-tree, or all pairs when small
    (``_BRUTE_CLUSTER_MAX``): every test runs both ways."""
    from flasc_cluster._hdbscan import space

    monkeypatch.setattr(space, "BRUTE_MAX_POINTS", 0)
    monkeypatch.setattr(
        detect, "_BRUTE_CLUSTER_MAX", 0 if request.param == "tree sweeps" else 10**9
    )


def _data(name):
    if name == "walks":
        X, _ = make_random_walk_clusters(
            n_samples=6000, n_features=3, n_clusters=24, random_state=4
        )
        return X
    # branching stars on a lattice of step 0.1: tied distances, centralities
    # and duplicate points
    X, _ = make_branching_stars(4000, 2, n_clusters=10, n_branches=4, random_state=0)
    return np.round(X * 10) / 10


OPTIONS = [
    {},
    {"branch_selection_method": "leaf"},
    {"allow_single_branch": True, "branch_selection_epsilon": 0.3},
    {"branch_selection_persistence": 0.05, "max_branch_size": 60},
]


def _assert_same_cluster(a, b):
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.centrality, b.centrality)
    # the forest is kept for disconnected graphs only (the linkage sums up a tree)
    assert (a.spanning_tree is None) == (b.spanning_tree is None) == (a.component_labels is None)
    if a.spanning_tree is not None:
        np.testing.assert_array_equal(a.spanning_tree, b.spanning_tree)
    np.testing.assert_array_equal(a.cluster_mst, b.cluster_mst)
    assert a.max_dist == b.max_dist
    assert (a.linkage is None) == (b.linkage is None)
    if a.linkage is not None:
        np.testing.assert_array_equal(a.linkage, b.linkage)
    assert (a.component_labels is None) == (b.component_labels is None)
    if a.component_labels is not None:
        np.testing.assert_array_equal(a.component_labels, b.component_labels)
    assert (a.flat is None) == (b.flat is None)
    if a.flat is not None:
        for x, y in zip(a.flat[:3], b.flat[:3]):
            np.testing.assert_array_equal(x, y)
        for x, y in zip(a.condensed_tree, b.condensed_tree):
            np.testing.assert_array_equal(x, y)
            assert x.dtype == y.dtype
        np.testing.assert_array_equal(a.flat.selected_ids, b.flat.selected_ids)


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("method", ["full", "core"])
@pytest.mark.parametrize("name", ["walks", "lattice"])
def test_batched_clusters_equal_the_per_cluster_path(monkeypatch, name, method, options):
    X = _data(name)
    params = dict(min_cluster_size=20, branch_detection_method=method, **options)
    batched_clusters = []
    for kernel in ("full_clusters", "full_open", "core_clusters", "core_open"):
        original = getattr(detect, kernel)

        def spy(*args, _original=original, **kwargs):
            # the list of clusters of one call, or the one cluster opened
            batched_clusters.extend(np.atleast_1d(args[3]).tolist())
            return _original(*args, **kwargs)

        monkeypatch.setattr(detect, kernel, spy)
    batched = FLASC(**params).fit(X)
    assert len(batched_clusters) >= 5, "the clusters did not run batched"
    assert len(set(batched_clusters)) == len(batched_clusters)  # each once
    monkeypatch.setattr(detect, "_batchable", lambda *args: False)
    reference = FLASC(**params).fit(X)
    clusters = batched._result.branches.clusters
    assert len(clusters) == len(reference._result.branches.clusters)
    for a, b in zip(clusters, reference._result.branches.clusters):
        _assert_same_cluster(a, b)
    np.testing.assert_array_equal(batched.labels_, reference.labels_)
    np.testing.assert_array_equal(batched.probabilities_, reference.probabilities_)
    np.testing.assert_array_equal(batched.branch_labels_, reference.branch_labels_)
    if options == {}:
        # the data must exercise branching, not only one-branch clusters
        assert any(c.flat is not None and c.flat.selected_ids.shape[0] > 2 for c in clusters)


@pytest.mark.parametrize("nodes_per_point, leaf_size", [(0, 40), (1e9, 40), (1e9, 10), (1e9, 200)])
@pytest.mark.parametrize("name", ["walks", "lattice"])
def test_batched_full_clusters_cut_or_built_trees_agree(monkeypatch, name, nodes_per_point,
                                                         leaf_size):
    """Each cluster's kd-tree is cut from the fit's (here always, unless the
    fit's leaves are larger than the cluster trees', ``leaf_size=200``) or
    built (never cut); the results must equal the per-cluster path."""
    X = _data(name)
    params = dict(min_cluster_size=20, branch_detection_method="full", leaf_size=leaf_size)
    monkeypatch.setattr(detect, "_SUBSET_NODES_PER_POINT", nodes_per_point)
    batched = FLASC(**params).fit(X)
    monkeypatch.setattr(detect, "_batchable", lambda *args: False)
    reference = FLASC(**params).fit(X)
    for a, b in zip(batched._result.branches.clusters, reference._result.branches.clusters):
        _assert_same_cluster(a, b)
    np.testing.assert_array_equal(batched.labels_, reference.labels_)


@pytest.mark.parametrize("method", ["full", "core"])
def test_batched_clusters_do_not_depend_on_the_thread_count(monkeypatch, method):
    """One kernel call over every cluster on one thread, or chunks of
    clusters pulled by two threads."""
    X = _data("walks")
    chunks = []
    original = detect._work_chunks

    def spy(sizes, n_threads):
        result = original(sizes, n_threads)
        chunks.append(len(result))
        return result

    monkeypatch.setattr(detect, "_work_chunks", spy)
    params = dict(min_cluster_size=20, branch_detection_method=method)
    one = FLASC(**params, n_jobs=1).fit(X)
    two = FLASC(**params, n_jobs=2).fit(X)
    assert chunks[0] == 1
    import numba

    if numba.config.NUMBA_NUM_THREADS >= 2:
        assert chunks[1] > 2
    np.testing.assert_array_equal(one.labels_, two.labels_)
    np.testing.assert_array_equal(one.probabilities_, two.probabilities_)
    for a, b in zip(one._result.branches.clusters, two._result.branches.clusters):
        _assert_same_cluster(a, b)


def _gather_case():
    """Labels of 3,000 points in 40 clusters (some empty, noise between),
    a random spanning tree over them, a kd-tree order and a batch of every
    other non-empty cluster."""
    rng = np.random.default_rng(11)
    n, n_clusters = 3000, 40
    labels = rng.integers(-1, n_clusters - 3, n)  # the last three are empty
    tree_idx = rng.permutation(n)
    a = rng.permutation(n)[:n - 1]
    b = rng.integers(0, n, n - 1)
    # most edges inside a cluster (a random other point of a's cluster)
    for e in range(0, n - 1, 4):
        if labels[a[e]] >= 0:
            b[e] = rng.choice(np.flatnonzero(labels == labels[a[e]]))
    global_mst = np.column_stack([a, b, rng.uniform(0.1, 2.0, n - 1)]).astype(np.float64)
    counts = np.bincount(labels[labels >= 0], minlength=n_clusters)
    bounds = np.zeros(n_clusters + 1, dtype=np.intp)
    np.cumsum(counts, out=bounds[1:])
    clusters = np.flatnonzero(counts >= 2)[::2].astype(np.intp)
    return labels, bounds, clusters, global_mst, tree_idx


def test_gather_batch_matches_a_plain_construction():
    """Per batch cluster: its points (increasing) and their local ids, its
    kd-tree rows (increasing), the spanning-tree edges with both ends in it
    (in edge order, local ids) and their largest weight; the same with the
    edge count and the tree rows on another thread."""
    from concurrent.futures import ThreadPoolExecutor

    from flasc_cluster._branches.batch import gather_batch

    labels, bounds, clusters, global_mst, tree_idx = _gather_case()
    serial = gather_batch(labels, bounds, clusters, global_mst, tree_idx)
    with ThreadPoolExecutor(1) as pool:
        beside = gather_batch(
            labels, bounds, clusters, global_mst, tree_idx,
            run_beside=lambda run: pool.submit(run).result,
        )
    a = global_mst[:, 0].astype(np.intp)
    b = global_mst[:, 1].astype(np.intp)
    for got in (serial, beside):
        assert got.bounds[-1] == sum(int(bounds[c + 1] - bounds[c]) for c in clusters)
        expected_local = np.full(labels.shape[0], -1)
        for t, c in enumerate(clusters.tolist()):
            pts = np.flatnonzero(labels == c)
            rows = np.flatnonzero(labels[tree_idx] == c)
            inside = np.flatnonzero((labels[a] == c) & (labels[b] == c))
            lo, hi = got.bounds[t], got.bounds[t + 1]
            np.testing.assert_array_equal(got.points[lo:hi], pts)
            np.testing.assert_array_equal(got.rows[lo:hi], rows)
            expected_local[pts] = np.arange(pts.shape[0])
            local_of = np.full(labels.shape[0], -1)
            local_of[pts] = np.arange(pts.shape[0])
            e_lo, e_hi = got.mst_bounds[t], got.mst_bounds[t + 1]
            np.testing.assert_array_equal(
                got.mst_pairs[e_lo:e_hi], np.column_stack([local_of[a[inside]], local_of[b[inside]]])
            )
            assert got.max_dists[t] == (global_mst[inside, 2].max() if inside.shape[0] else 0.0)
        np.testing.assert_array_equal(got.local, expected_local)


@pytest.mark.parametrize("method", ["full", "core"])
def test_gather_beside_the_calling_thread_gives_the_same_fit(monkeypatch, method):
    """With two threads the edge count and the tree rows run on a pool
    thread (``_run_beside``), with one in the calling thread; the fits are
    the same."""
    X = _data("walks")
    params = dict(min_cluster_size=20, branch_detection_method=method)
    calls = []
    original = detect._run_beside

    def spy(run):
        calls.append(run)
        return original(run)

    monkeypatch.setattr(detect, "_run_beside", spy)
    one = FLASC(**params, n_jobs=1).fit(X)
    assert calls == []
    two = FLASC(**params, n_jobs=2).fit(X)
    import numba

    if numba.config.NUMBA_NUM_THREADS >= 2:
        assert len(calls) == 2
    np.testing.assert_array_equal(one.labels_, two.labels_)
    np.testing.assert_array_equal(one.probabilities_, two.probabilities_)
    for a, b in zip(one._result.branches.clusters, two._result.branches.clusters):
        _assert_same_cluster(a, b)


def test_work_chunks_cover_every_cluster_once_largest_first():
    sizes = np.array([5, 400, 30, 30, 2, 900, 17] * 5)
    chunks = detect._work_chunks(sizes, 2)
    flat = np.concatenate(chunks)
    assert sorted(flat.tolist()) == list(range(sizes.shape[0]))
    assert sizes[chunks[0]].tolist() == [900]  # the largest alone, first
    assert len(chunks) < sizes.shape[0]  # small clusters share chunks
    one = detect._work_chunks(sizes, 1)
    assert len(one) == 1 and sorted(one[0].tolist()) == list(range(sizes.shape[0]))


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_run_chunks_runs_each_chunk_once_the_caller_too(n_threads):
    import threading
    import time

    chunks = [np.array([c]) for c in range(9)]
    ran = []

    def run(chunk):
        time.sleep(0.002)  # long enough for every worker to take a chunk
        ran.append((int(chunk[0]), threading.get_ident()))

    detect._run_chunks(run, chunks, n_threads)
    assert sorted(c for c, _ in ran) == list(range(9))
    threads = {t for _, t in ran}
    assert threading.get_ident() in threads  # the caller works, not waits
    assert len(threads) == n_threads


def test_run_chunks_keeps_its_pool_and_raises_what_a_chunk_raises():
    def fail(chunk):
        if chunk[0] == 3:
            raise RuntimeError("chunk 3")

    chunks = [np.array([c]) for c in range(6)]
    detect._run_chunks(lambda chunk: None, chunks, 2)
    pool = detect._POOL
    assert pool is not None
    with pytest.raises(RuntimeError, match="chunk 3"):
        detect._run_chunks(fail, chunks, 2)
    detect._run_chunks(lambda chunk: None, chunks, 2)
    assert detect._POOL is pool  # kept between calls, also after an error
    detect._run_chunks(lambda chunk: None, chunks, 3)  # more threads: a larger pool
    assert detect._POOL._max_workers >= 2


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork")
def test_a_forked_child_gets_its_own_pool():
    import os

    detect._run_chunks(lambda chunk: None, [np.array([0]), np.array([1])], 2)
    assert detect._POOL is not None
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's threads are gone, so is the pool
        try:
            ok = detect._POOL is None
            done = []
            detect._run_chunks(done.append, [np.array([c]) for c in range(4)], 2)
            ok = ok and len(done) == 4
        finally:
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
    os.close(write)
    result = os.read(read, 1)
    os.waitpid(pid, 0)
    assert result == b"1"


@pytest.mark.parametrize("gathered", [False, True])
@pytest.mark.parametrize("n_labels", [1, 7, 40000])
def test_label_order_is_the_stable_argsort_with_its_bounds(n_labels, gathered):
    from flasc_cluster._branches.detect import label_order

    rng = np.random.default_rng(n_labels)
    labels = rng.integers(-1, n_labels, 200_000).astype(np.intp)
    before = labels.copy()
    index = rng.permutation(labels.shape[0]) if gathered else np.empty(0, dtype=np.intp)
    key = labels[index] if gathered else labels
    order, bounds = label_order(labels, index, n_labels)
    np.testing.assert_array_equal(order, np.argsort(key, kind="stable"))
    np.testing.assert_array_equal(
        bounds, np.searchsorted(key[order], np.arange(n_labels + 1))
    )
    np.testing.assert_array_equal(labels, before)  # the caller's array untouched


def test_label_order_groups_labels_out_of_range_outside_the_bounds():
    from flasc_cluster._branches.detect import label_order

    labels = np.array([3, -1, 0, 5, 1, -2, 0, 9], dtype=np.intp)
    order, bounds = label_order(labels, np.empty(0, dtype=np.intp), 2)
    # -2 counts as -1 (first, in position order); 3, 5 and 9 come last
    np.testing.assert_array_equal(order, [1, 5, 2, 6, 4, 0, 3, 7])
    np.testing.assert_array_equal(bounds, [2, 4, 5])


def test_map_clusters_lets_every_task_end_before_raising(monkeypatch):
    import time

    monkeypatch.setattr(detect, "_threads_safe", lambda: True)
    monkeypatch.setattr(detect.numba, "get_num_threads", lambda: 2)
    monkeypatch.setattr(detect.numba, "set_num_threads", lambda n: None)
    finished = []

    def one_cluster(c, local):
        if c == 0:
            raise RuntimeError("cluster 0")
        time.sleep(0.05)
        finished.append(c)
        return c

    with pytest.raises(RuntimeError, match="cluster 0"):
        detect._map_clusters(one_cluster, np.ones(6, dtype=np.intp), 10)
    assert sorted(finished) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_run_staged_opens_then_closes_each_single_chunk_with_its_slot(n_threads):
    import threading
    import time

    chunks = [np.array([c]) for c in range(5)] + [np.array([5, 6]), np.array([7, 8, 9])]
    slots = [object() for _ in range(min(n_threads, len(chunks)) + 1)]
    lock = threading.Lock()
    held = set()
    events = []

    def take(slot):
        with lock:
            assert slot not in held  # no two tasks share a slot
            held.add(slot)

    def give(slot):
        with lock:
            held.discard(slot)

    def run(chunk, slot):
        take(slot)
        time.sleep(0.002)
        events.append(("whole", tuple(chunk.tolist()), slot))
        give(slot)

    def open_(c, slot):
        take(slot)
        time.sleep(0.003)
        events.append(("open", c, slot))
        give(slot)
        return ("state", c)

    def close(c, state, slot):
        take(slot)
        assert state == ("state", c)
        time.sleep(0.002)
        events.append(("close", c, slot))
        give(slot)

    detect._run_staged(run, chunks, n_threads, slots, (open_, close))
    if n_threads == 1:  # one thread: every chunk whole
        assert [e[0] for e in events] == ["whole"] * len(chunks)
        return
    assert sorted(e[1] for e in events if e[0] == "whole") == [(5, 6), (7, 8, 9)]
    for c in range(5):
        (o,) = [t for t, e in enumerate(events) if e[:2] == ("open", c)]
        (k,) = [t for t, e in enumerate(events) if e[:2] == ("close", c)]
        assert o < k and events[o][2] is events[k][2]  # same slot, in order


def test_run_staged_raises_what_a_stage_raises_without_hanging():
    chunks = [np.array([c]) for c in range(6)]
    slots = [None] * 3

    def fail_open(c, slot):
        if c == 2:
            raise RuntimeError("open 2")
        return c

    with pytest.raises(RuntimeError, match="open 2"):
        detect._run_staged(lambda chunk, slot: None, chunks, 2, slots,
                           (fail_open, lambda c, state, slot: None))

    def fail_close(c, state, slot):
        if c == 4:
            raise RuntimeError("close 4")

    with pytest.raises(RuntimeError, match="close 4"):
        detect._run_staged(lambda chunk, slot: None, chunks, 2, slots,
                           (lambda c, slot: c, fail_close))


@pytest.mark.parametrize("method", ["full", "core"])
def test_clusters_in_two_stages_equal_whole_ones(monkeypatch, method):
    """Three large clusters on two threads run as open and close stages;
    the fit equals the one-thread fit (whole clusters) and the per-cluster
    path in every field."""
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs two numba threads")
    from flasc_cluster.datasets import make_flared_blobs

    X = make_flared_blobs(6000, 2, random_state=4)[0]
    params = dict(min_cluster_size=25, min_samples=8, branch_detection_method=method)
    opened = []
    name = f"{method}_open"
    original = getattr(detect, name)

    def spy(*args):
        opened.append(int(args[3]))
        return original(*args)

    monkeypatch.setattr(detect, name, spy)
    two = FLASC(**params, n_jobs=2).fit(X)
    assert len(opened) >= 2
    opened.clear()
    one = FLASC(**params, n_jobs=1).fit(X)
    assert opened == []
    monkeypatch.setattr(detect, "_batchable", lambda *args: False)
    reference = FLASC(**params).fit(X)
    for fit in (one, reference):
        np.testing.assert_array_equal(two.labels_, fit.labels_)
        np.testing.assert_array_equal(two.probabilities_, fit.probabilities_)
        for a, b in zip(two._result.branches.clusters, fit._result.branches.clusters):
            _assert_same_cluster(a, b)
