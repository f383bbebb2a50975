"""Soft cluster membership vectors (hdbscan's) and their top-k form."""

import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csr_matrix

import flasc_cluster.membership as membership
from flasc_cluster import FLASC
from flasc_cluster.datasets import make_branching_stars, make_flared_blobs
from flasc_cluster.membership import (
    all_points_membership_vectors,
    branch_centrality_vectors,
    branch_membership_from_centrality,
    membership_vector,
)

FLARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "flared.npy"


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_flared_blobs(800, random_state=1)
    return X, FLASC(min_cluster_size=30).fit(X)


def _reference_vectors(model, X):
    """hdbscan's all-points formula in plain Python over the condensed-tree
    records (ties in the merge height: the largest probability counts)."""
    tree = model.condensed_tree_.to_numpy()
    n = X.shape[0]
    selected = model.condensed_tree_.selected_ids.tolist()
    parent_of = {int(c): int(p) for p, c in zip(tree["parent"], tree["child"])}
    birth = {int(c): float(lv) for c, lv in zip(tree["child"], tree["lambda_val"]) if c >= n}
    max_lambda = {}
    for p, lv in zip(tree["parent"], tree["lambda_val"]):
        max_lambda[int(p)] = max(max_lambda.get(int(p), 0.0), float(lv))

    def path(x):
        out = [x]
        while x in parent_of:
            x = parent_of[x]
            out.append(x)
        return out

    exemplars = model.cluster_exemplars_
    out = np.zeros((n, len(selected)))
    for p, pt, lam in zip(tree["parent"], tree["child"], tree["lambda_val"]):
        if pt >= n:
            continue
        a = path(int(p))
        heights = []
        for c in selected:
            b = path(c)
            if c in a or int(p) in b:
                heights.append(lam)
            else:
                below = [x for x in a if x not in b]  # a's side, below the common ancestor
                heights.append(birth[below[-1]])
        heights = np.array(heights)
        dist = np.array([np.sqrt(((X[e] - X[pt]) ** 2).sum(axis=1)).min() for e in exemplars])
        dvec = np.where(dist > 0, 1 / np.where(dist > 0, dist, 1), np.finfo(float).max / len(selected))
        dvec /= dvec.sum()
        score = np.exp(-(max_lambda[int(p)] + 1e-8) / heights)
        ovec = np.exp(score - score.max())
        ovec /= ovec.sum()
        tied = np.flatnonzero(heights == heights.max())
        prob = heights.max() / max(min(max_lambda[selected[t]] for t in tied), lam)
        row = dvec * ovec
        out[pt] = row / row.sum() * prob
    return out


@pytest.mark.parametrize("allow_single_cluster", [False, True])
def test_matches_reference_formula(allow_single_cluster):
    X, _ = make_branching_stars(300, n_clusters=2 - allow_single_cluster, random_state=4)
    model = FLASC(min_cluster_size=15, allow_single_cluster=allow_single_cluster).fit(X)
    got = all_points_membership_vectors(model)
    assert got.shape[1] >= 1
    np.testing.assert_allclose(got, _reference_vectors(model, X), rtol=1e-10, atol=1e-12)


def test_rows_sum_to_probability_in_some_cluster(blobs):
    X, model = blobs
    vectors = all_points_membership_vectors(model)
    assert vectors.shape == (X.shape[0], model.cluster_labels_.max() + 1)
    assert np.isfinite(vectors).all() and (vectors >= 0).all()
    sums = vectors.sum(axis=1)
    assert (sums > 0).all() and (sums <= 1 + 1e-12).all()
    assert sums.min() < 0.9  # not normalised to 1, as in hdbscan
    # points that leave the tree at their cluster's highest density: sum 1
    clustered = model.cluster_labels_ >= 0
    top = clustered & (model.cluster_probabilities_ == 1.0)
    np.testing.assert_allclose(sums[top], 1.0, rtol=1e-12)
    agree = vectors[clustered].argmax(axis=1) == model.cluster_labels_[clustered]
    assert agree.mean() > 0.95


def test_top_k_is_dense_restricted(blobs, monkeypatch):
    _, model = blobs
    dense = all_points_membership_vectors(model)
    monkeypatch.setattr(membership, "_CHUNK_ELEMENTS", 64)  # many row blocks
    np.testing.assert_array_equal(all_points_membership_vectors(model), dense)
    for k in (1, 2, 5):
        sparse = all_points_membership_vectors(model, top_k=k)
        assert isinstance(sparse, csr_matrix) and sparse.shape == dense.shape
        counts = np.diff(sparse.indptr)
        assert (counts <= min(k, dense.shape[1])).all()
        got = sparse.toarray()
        kept = got > 0
        np.testing.assert_array_equal(got[kept], dense[kept])
        # every kept entry is at least as large as every dropped one
        dropped = np.where(kept, -np.inf, dense).max(axis=1)
        smallest = np.where(kept, got, np.inf).min(axis=1)
        assert (smallest >= dropped).all()
    np.testing.assert_array_equal(all_points_membership_vectors(model, top_k=99).toarray(), dense)


@pytest.mark.parametrize("top_k", [0, -1, 1.5, True])
def test_top_k_validated(blobs, top_k):
    with pytest.raises(ValueError, match="top_k must be None or an int >= 1"):
        all_points_membership_vectors(blobs[1], top_k=top_k)


def test_float32_input_same_vectors(blobs):
    X, model = blobs
    X32 = X.astype(np.float32)
    again = FLASC(min_cluster_size=30).fit(X32)
    vectors = all_points_membership_vectors(again)
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(vectors, all_points_membership_vectors(FLASC(min_cluster_size=30).fit(X32.astype(np.float64))))


def test_single_cluster_one_column():
    X, _ = make_branching_stars(300, n_clusters=1, random_state=2)
    model = FLASC(min_cluster_size=200, allow_single_cluster=True).fit(X)
    assert model.cluster_labels_.max() == 0
    vectors = all_points_membership_vectors(model)
    assert vectors.shape == (300, 1)
    assert np.isfinite(vectors).all() and (vectors > 0).all() and (vectors <= 1).all()
    new = membership_vector(model, X[:10] + 0.01)
    assert new.shape == (10, 1) and np.isfinite(new).all()


def test_all_noise_gives_zero_width():
    X = np.random.default_rng(0).uniform(size=(40, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = FLASC(min_cluster_size=30).fit(X)
    assert (model.cluster_labels_ == -1).all()
    assert all_points_membership_vectors(model).shape == (40, 0)
    assert all_points_membership_vectors(model, top_k=2).shape == (40, 0)
    assert membership_vector(model, X[:3]).shape == (3, 0)


def test_override_labels_refused(blobs):
    X, model = blobs
    given = FLASC(min_cluster_size=30).fit(X, labels=model.cluster_labels_)
    with pytest.raises(ValueError, match="user-given labels"):
        all_points_membership_vectors(given)
    with pytest.raises(ValueError, match="user-given labels"):
        membership_vector(given, X[:2])


def test_duplicates_and_bad_rows_never_nan(blobs):
    X, _ = blobs
    Xd = np.vstack([X, np.repeat(X[:1], 40, axis=0), [[np.nan, 0.0], [np.inf, 1.0]]])  # infinite densities
    model = FLASC(min_cluster_size=30).fit(Xd)
    assert np.isinf(model.condensed_tree_.to_numpy()["lambda_val"]).any()
    vectors = all_points_membership_vectors(model)
    assert np.isfinite(vectors).all()
    assert (vectors[-2:] == 0).all()
    assert (vectors.sum(axis=1)[:-2] <= 1 + 1e-12).all()
    new = membership_vector(model, np.vstack([X[:20], [[np.nan, 1.0]]]))
    assert np.isfinite(new).all() and (new[-1] == 0).all()
    assert (new[:-1].sum(axis=1) <= 1 + 1e-12).all() and (new[:-1].sum(axis=1) > 0).any()
    # a cluster reaching infinite density (the duplicates) holds finite
    # points with probability 0 (the limit), other clusters' points do not
    dup_label = model.cluster_labels_[X.shape[0]]
    others = (model.cluster_labels_[:-2] >= 0) & (model.cluster_labels_[:-2] != dup_label)
    assert (vectors[:-2][others].sum(axis=1) > 0).all()


def test_membership_vector_rows(blobs):
    X, model = blobs
    rng = np.random.default_rng(1)
    Q = X[rng.choice(X.shape[0], 100)] + rng.normal(scale=0.02 * X.std(), size=(100, 2))
    vectors = membership_vector(model, Q)
    assert np.isfinite(vectors).all() and (vectors >= 0).all()
    assert (vectors.sum(axis=1) <= 1 + 1e-12).all()
    from flasc_cluster import approximate_predict

    labels = approximate_predict(model, Q).cluster_labels
    hit = labels >= 0
    assert (vectors[hit].argmax(axis=1) == labels[hit]).mean() > 0.9
    sparse = membership_vector(model, Q, top_k=1)
    np.testing.assert_array_equal(sparse.toarray().max(axis=1), vectors.max(axis=1))


def test_branch_membership_top_k():
    X, _ = make_branching_stars(1200, 2, n_clusters=2, random_state=7)
    model = FLASC(min_cluster_size=20).fit(X)
    dense = branch_membership_from_centrality(branch_centrality_vectors(model), 0.5)
    sparse = branch_membership_from_centrality(branch_centrality_vectors(model), 0.5, top_k=2)
    compared = 0
    for d, s in zip(dense, sparse):
        assert (d is None) == (s is None)
        if d is None:
            continue
        assert isinstance(s, csr_matrix) and (np.diff(s.indptr) <= 2).all()
        got = s.toarray()
        np.testing.assert_array_equal(got[got > 0], d[got > 0])
        np.testing.assert_array_equal(got.max(axis=1), d.max(axis=1))
        compared += 1
    assert compared >= 1


# ------------------------------------------------------------------ hdbscan
def _same_tree(ref, model, n):
    """Condensed trees equal up to cluster ids: same point sets and births."""

    def canon(records):
        parent_of = {int(c): int(p) for p, c in zip(records["parent"], records["child"])}
        births = {int(c): float(lv) for c, lv in zip(records["child"], records["lambda_val"])}
        members = {}
        for pt in range(n):
            x = parent_of[pt]
            while True:
                members.setdefault(x, []).append(pt)
                if x not in parent_of:
                    break
                x = parent_of[x]
        return {frozenset(v): births.get(k, 0.0) for k, v in members.items()}, [births[pt] for pt in range(n)]

    return canon(ref.condensed_tree_.to_numpy()) == canon(model.condensed_tree_.to_numpy())


def _column_map(ref_labels, labels):
    k = labels.max() + 1
    perm = np.array([np.bincount(ref_labels[labels == j], minlength=k).argmax() for j in range(k)])
    assert np.array_equal(np.sort(perm), np.arange(k))
    return perm


def _datasets():
    out = [("stars", make_branching_stars(800, random_state=1)[0], 30, None)]
    out += [(f"blobs{s}", make_flared_blobs(800, random_state=s)[0], 30, None) for s in range(4)]
    out += [("blobs2-ms3", make_flared_blobs(800, random_state=2)[0], 15, 3)]
    if FLARED.exists():
        out += [("flared", np.load(FLARED), 40, 2)]
    return out


@pytest.mark.parametrize("name, X, mcs, ms", _datasets(), ids=[d[0] for d in _datasets()])
def test_all_points_match_hdbscan(name, X, mcs, ms):
    hdbscan = pytest.importorskip("hdbscan")
    from hdbscan._prediction_utils import all_points_outlier_membership_vector
    from hdbscan.prediction import all_points_membership_vectors as reference

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = hdbscan.HDBSCAN(
            min_cluster_size=mcs, min_samples=ms, prediction_data=True, approx_min_span_tree=False
        ).fit(X)
        expected = reference(ref)
        clusters = np.array(sorted(ref.condensed_tree_._select_clusters()), dtype=np.intp)
        pd = ref.prediction_data_
        outlier = all_points_outlier_membership_vector(
            clusters, ref.condensed_tree_._raw_tree, pd.leaf_max_lambdas, pd.cluster_tree
        )
    model = FLASC(min_cluster_size=mcs, min_samples=ms).fit(X)
    assert _same_tree(ref, model, X.shape[0])
    perm = _column_map(ref.labels_, model.cluster_labels_)
    np.testing.assert_array_equal(perm[model.cluster_labels_[model.cluster_labels_ >= 0]],
                                  ref.labels_[ref.labels_ >= 0])
    got = all_points_membership_vectors(model)
    expected = expected[:, perm]
    # hdbscan breaks ties of the merge height by cluster id (sibling order);
    # compare those rows up to their sum
    tied = (np.isclose(outlier, outlier.max(axis=1, keepdims=True), rtol=0, atol=0)).sum(axis=1) > 1
    assert tied.mean() < 0.5  # most rows are compared exactly
    np.testing.assert_allclose(got[~tied], expected[~tied], atol=1e-6)
    np.testing.assert_allclose(
        got[tied] / got[tied].sum(axis=1, keepdims=True),
        expected[tied] / expected[tied].sum(axis=1, keepdims=True), atol=1e-6,
    )
    assert (got[tied].sum(axis=1) >= expected[tied].sum(axis=1) - 1e-12).all()


def test_new_points_match_hdbscan():
    hdbscan = pytest.importorskip("hdbscan")
    from hdbscan.prediction import _find_neighbor_and_lambda
    from hdbscan.prediction import membership_vector as reference

    X, _ = make_flared_blobs(800, random_state=1)
    rng = np.random.default_rng(0)
    Q = X[rng.choice(800, 200)] + rng.normal(scale=0.05 * X.std(), size=(200, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = hdbscan.HDBSCAN(min_cluster_size=30, prediction_data=True, approx_min_span_tree=False).fit(X)
        expected = reference(ref, Q)
    model = FLASC(min_cluster_size=30).fit(X)
    assert _same_tree(ref, model, X.shape[0])
    perm = _column_map(ref.labels_, model.cluster_labels_)
    expected = expected[:, perm]
    # hdbscan's own neighbour and density (its core-distance conventions)
    dist, idx = ref.prediction_data_.tree.query(Q, k=60)
    found = [_find_neighbor_and_lambda(i, d, ref.prediction_data_.core_distances, 30) for i, d in zip(idx, dist)]
    nearest = np.array([f[0] for f in found], dtype=np.intp)
    lam = np.array([f[1] for f in found])
    soft = membership._soft_tree(model, "test")
    space = model._result.space
    exact = membership._new_point_vectors(space, soft, Q, nearest, lam, outlier_dtype=np.float32)
    np.testing.assert_allclose(exact, expected, atol=1e-12)
    plain = membership._new_point_vectors(space, soft, Q, nearest, lam)
    np.testing.assert_allclose(plain, expected, atol=1e-6)
    # the public function joins points as approximate_predict does
    public = membership_vector(model, Q)
    assert (public.argmax(axis=1) == expected.argmax(axis=1)).mean() > 0.95
    assert np.median(np.abs(public - expected).max(axis=1)) < 0.05
