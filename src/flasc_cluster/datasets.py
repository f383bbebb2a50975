"""Synthetic data sets with branching structure, for demos, tests and benchmarks.

Every generator is vectorised (the only Python loops run over candidate
cluster centres and fixed-size row chunks, never over points), deterministic for a
given ``random_state`` and validates its arguments with a ``ValueError`` that
names the offending parameter. Coordinates are returned as C-contiguous
``float64`` arrays of shape ``(n_samples, n_features)`` and labels as
``np.intp`` arrays.

Label conventions
-----------------
The generators with branches label *components*: a cluster's core and each of
its arms (flares, walks) get their own consecutive id, cluster by cluster. The
ids are generation labels, not a claim about what a clusterer must recover:
arm points that start inside a dense core keep their arm's id. Pass
``return_clusters=True`` to also get the id of the cluster each point belongs
to.
"""

import numbers

import numpy as np

__all__ = [
    "make_branching_stars",
    "make_chain",
    "make_flared_blobs",
    "make_random_walk_clusters",
]

#: Rows processed per vectorised step; bounds temporaries at ~1 MB per feature.
_CHUNK_ROWS = 1 << 16
#: Random direction sets tried per cluster (n_features >= 3) to spread arms.
_N_DIRECTION_TRIALS = 64
#: Batches of candidate centres tried before giving up on a ``center_box``.
_MAX_PLACEMENT_ROUNDS = 64
#: Angular jitter of 2-D arms, as a fraction of the even spacing 2*pi/n.
_ANGLE_JITTER = 0.2
#: Star arms start this many ``center_std`` away from the centre, at the
#: edge of the dense core, so few arm points are lost inside it.
_STAR_ARM_START = 2.0
#: Separation between cluster centres, in multiples of a cluster's reach.
_SEPARATION = 3.0
#: ~95th percentile distance of walk points to their origin, in units of
#: ``step_std * sqrt(walk_length)`` (pyflasc's cost notebook measured
#: 0.95, 0.82 and 0.80 for 2, 8 and 16 dimensions at 50 steps of std 0.1).
_WALK_SPREAD = 1.3
#: Volume factor of the paper's benchmark: origins are drawn in a cube that
#: would hold this many times ``n_clusters`` clusters.
_WALK_SPACING = 5.0
#: Largest chain for which all positions (triangular numbers) are exact.
_CHAIN_MAX_SAMPLES = 100_000_000


def _range_text(low, high, low_closed, high_closed):
    left = "[" if low_closed else "("
    right = "]" if (high is not None and high_closed) else ")"
    return f"{left}{low}, {'inf' if high is None else high}{right}"


def _check_int(value, name, caller, low, high=None):
    """Return ``value`` as int if it is an integer in ``[low, high]``."""
    if (
        isinstance(value, numbers.Integral)
        and not isinstance(value, (bool, np.bool_))
        and value >= low
        and (high is None or value <= high)
    ):
        return int(value)
    raise ValueError(
        f"The '{name}' parameter of {caller} must be an int in the range "
        f"{_range_text(low, high, True, True)}. Got {value!r} instead."
    )


def _check_real(value, name, caller, low, high=None, *, low_closed=True, high_closed=True):
    """Return ``value`` as float if it is a finite real in the given interval."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if ok:
        value_f = float(value)
        ok = np.isfinite(value_f)
        ok = ok and (value_f >= low if low_closed else value_f > low)
        if high is not None:
            ok = ok and (value_f <= high if high_closed else value_f < high)
    if ok:
        return value_f
    raise ValueError(
        f"The '{name}' parameter of {caller} must be a float in the range "
        f"{_range_text(low, high, low_closed, high_closed)}. Got {value!r} instead."
    )


def _check_bool(value, name, caller):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(
        f"The '{name}' parameter of {caller} must be an instance of 'bool'. "
        f"Got {value!r} instead."
    )


def _check_box(box, name, caller):
    """Return ``None`` or a ``(low, high)`` pair of finite floats with low < high."""
    if box is None:
        return None
    try:
        low, high = (float(v) for v in box)
    except (TypeError, ValueError):
        low = high = None
    if low is None or not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(
            f"The '{name}' parameter of {caller} must be None or a pair "
            f"(low, high) of finite floats with low < high. Got {box!r} instead."
        )
    return low, high


def _check_random_state(random_state, caller):
    """Turn ``random_state`` into a ``numpy.random.Generator``.

    ``None`` (fresh entropy), a non-negative int (seed), a ``Generator`` (used
    as is, its state advances) and a legacy ``RandomState`` (one seed is drawn
    from it) are accepted.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(
            random_state.randint(np.iinfo(np.int64).max, dtype=np.int64)
        )
    if random_state is None or (
        isinstance(random_state, numbers.Integral)
        and not isinstance(random_state, (bool, np.bool_))
        and random_state >= 0
    ):
        return np.random.default_rng(random_state)
    raise ValueError(
        f"The 'random_state' parameter of {caller} must be None, a "
        f"non-negative int, a numpy.random.Generator or a "
        f"numpy.random.RandomState. Got {random_state!r} instead."
    )


def _split_evenly(totals, parts):
    """Split each ``totals[i]`` into ``parts[i]`` near-equal integer counts.

    Returns the counts of all parts, group by group; the first
    ``totals[i] % parts[i]`` parts of a group get one extra point.
    """
    totals = np.asarray(totals, dtype=np.intp)
    parts = np.asarray(parts, dtype=np.intp)
    owner = np.repeat(np.arange(parts.size, dtype=np.intp), parts)
    first = np.cumsum(parts) - parts
    rank = np.arange(owner.size, dtype=np.intp) - first[owner]
    base = totals // np.maximum(parts, 1)
    extra = totals % np.maximum(parts, 1)
    return base[owner] + (rank < extra[owner]).astype(np.intp)


def _place_centers(rng, n_clusters, n_features, box, min_separation, caller):
    """Draw centres uniformly in ``box`` at pairwise distances >= min_separation.

    Greedy sequential acceptance of uniform candidates (a loop over candidate
    centres, not points); raises when ``box`` is too small.
    """
    low, high = box
    centers = np.empty((n_clusters, n_features), dtype=np.float64)
    count = 0
    min_sq = min_separation * min_separation
    batch = max(16, 4 * n_clusters)
    for _ in range(_MAX_PLACEMENT_ROUNDS):
        candidates = rng.uniform(low, high, size=(batch, n_features))
        for candidate in candidates:
            if count:
                diff = centers[:count] - candidate
                if np.einsum("ij,ij->i", diff, diff).min() < min_sq:
                    continue
            centers[count] = candidate
            count += 1
            if count == n_clusters:
                return centers
    raise ValueError(
        f"The 'center_box' parameter of {caller} is too small: could not place "
        f"{n_clusters} cluster centres at least {min_separation:.4g} apart in "
        f"[{low:.4g}, {high:.4g}]^{n_features}. Widen center_box, or pass "
        f"center_box=None to size it automatically."
    )


def _auto_box(n_clusters, n_features, min_separation):
    """A box centred on 0 in which greedy placement succeeds easily."""
    side = min_separation * max(2.0, (4.0 * n_clusters) ** (1.0 / n_features))
    return -0.5 * side, 0.5 * side


def _spread_directions(rng, n_groups, n_directions, n_features):
    """Unit vectors of shape (n_groups, n_directions, n_features), spread per group.

    In 2-D the angles are evenly spaced with a random rotation and a jitter of
    ``_ANGLE_JITTER`` times the spacing, so neighbouring directions are at
    least ``(1 - 2 * _ANGLE_JITTER) * 2 * pi / n_directions`` apart. In higher
    dimensions each group keeps the best (smallest maximal cosine) of
    ``_N_DIRECTION_TRIALS`` random sets.
    """
    out = np.empty((n_groups, n_directions, n_features), dtype=np.float64)
    if n_directions == 0 or n_groups == 0:
        return out
    if n_features == 2:
        spacing = 2.0 * np.pi / n_directions
        rotation = rng.uniform(0.0, 2.0 * np.pi, size=(n_groups, 1))
        jitter = rng.uniform(-_ANGLE_JITTER, _ANGLE_JITTER, size=(n_groups, n_directions))
        angles = rotation + (np.arange(n_directions) + jitter) * spacing
        out[..., 0] = np.cos(angles)
        out[..., 1] = np.sin(angles)
        return out
    # Chunk the groups so the trial tensor stays around 8 MB.
    per_group = _N_DIRECTION_TRIALS * n_directions * n_features
    step = max(1, (1 << 20) // per_group)
    off_diagonal = ~np.eye(n_directions, dtype=bool)
    for start in range(0, n_groups, step):
        stop = min(start + step, n_groups)
        trials = rng.standard_normal(
            (stop - start, _N_DIRECTION_TRIALS, n_directions, n_features)
        )
        trials /= np.linalg.norm(trials, axis=-1, keepdims=True)
        if n_directions > 1:
            cosines = np.einsum("gtid,gtjd->gtij", trials, trials)
            worst = np.where(off_diagonal, cosines, -np.inf).max(axis=(2, 3))
            best = worst.argmin(axis=1)
        else:
            best = np.zeros(stop - start, dtype=np.intp)
        out[start:stop] = trials[np.arange(stop - start), best]
    return out


def _make_rays(rng, *, centers, directions, n_rays, counts, core_std, ray_std,
               ray_start, ray_length, shuffle):
    """Gaussian cores with linear rays; the engine of stars and flared blobs.

    Component ``j`` of cluster ``c`` is the core (``j == 0``, isotropic
    Gaussian with ``core_std``) or ray ``j`` (``centers[c] + t *
    directions[c, j - 1]`` with ``t ~ U(ray_start, ray_start + ray_length)``,
    plus isotropic Gaussian jitter with ``ray_std``). ``counts`` holds the number of points
    per component, cluster by cluster. Returns ``X, y, clusters``.
    """
    n_clusters, n_features = centers.shape
    per_cluster = n_rays + 1
    n_components = int(per_cluster.sum())
    comp_cluster = np.repeat(np.arange(n_clusters, dtype=np.intp), per_cluster)
    comp_rank = np.arange(n_components, dtype=np.intp) - np.repeat(
        np.cumsum(per_cluster) - per_cluster, per_cluster
    )
    is_ray = comp_rank > 0
    comp_direction = np.zeros((n_components, n_features), dtype=np.float64)
    comp_direction[is_ray] = directions[comp_cluster[is_ray], comp_rank[is_ray] - 1]
    comp_scale = np.where(is_ray, ray_std, core_std)
    comp_start = np.where(is_ray, ray_start, 0.0)
    comp_length = np.where(is_ray, ray_length, 0.0)
    comp_center = centers[comp_cluster]

    y = np.repeat(np.arange(n_components, dtype=np.intp), counts)
    if shuffle:
        rng.shuffle(y)
    n_samples = y.size
    X = rng.standard_normal((n_samples, n_features))
    t = rng.uniform(0.0, 1.0, size=n_samples)
    for start in range(0, n_samples, _CHUNK_ROWS):
        rows = slice(start, start + _CHUNK_ROWS)
        comp = y[rows]
        block = X[rows]
        block *= comp_scale[comp][:, None]
        block += comp_center[comp]
        along = comp_start[comp] + t[rows] * comp_length[comp]
        block += along[:, None] * comp_direction[comp]
    return X, y, comp_cluster[y]


def _result(X, y, clusters, return_clusters):
    if return_clusters:
        return X, y, clusters
    return X, y


def make_branching_stars(
    n_samples=1000,
    n_features=2,
    *,
    n_clusters=3,
    n_branches=3,
    branch_length=1.0,
    noise=0.05,
    center_std=0.1,
    center_box=None,
    shuffle=True,
    random_state=None,
    return_clusters=False,
):
    """Generate well-separated star-shaped clusters: a dense centre plus arms.

    Each cluster is an isotropic Gaussian centre with ``n_branches`` straight
    arms (flares) radiating from it. An arm starts at the edge of the dense
    centre, two ``center_std`` out: its points lie at a distance ``t ~
    U(2 * center_std, 2 * center_std + branch_length)`` from the centre along
    the arm's direction, plus isotropic Gaussian jitter of standard deviation
    ``noise``. Arm
    directions are well spread within a cluster (see Notes) and cluster
    centres are placed so that no two stars touch.

    Parameters
    ----------
    n_samples : int, default=1000
        Total number of points, split as evenly as possible over the
        ``n_clusters * (n_branches + 1)`` components (centres and arms).

    n_features : int, default=2
        Dimensionality of the points; at least 2.

    n_clusters : int, default=3
        Number of stars.

    n_branches : int, default=3
        Number of arms per star; 0 gives plain Gaussian blobs.

    branch_length : float, default=1.0
        Length of every arm, from its start at ``2 * center_std``.

    noise : float, default=0.05
        Standard deviation of the Gaussian jitter around each arm's axis.

    center_std : float, default=0.1
        Standard deviation of each star's Gaussian centre.

    center_box : tuple of float (low, high), default=None
        Bounding box for each coordinate of the cluster centres. ``None``
        sizes a box around the origin automatically from ``n_clusters`` and
        the stars' extent.

    shuffle : bool, default=True
        Shuffle the rows. When False the rows are grouped by component.

    random_state : int, numpy.random.Generator, numpy.random.RandomState or None, default=None
        Seed or generator; the same int always gives the same data.

    return_clusters : bool, default=False
        Also return the id of each point's star.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float64
        The points.

    y : ndarray of shape (n_samples,), dtype intp
        Component ids: star ``c`` owns ids ``c * (n_branches + 1)`` (its
        centre) to ``c * (n_branches + 1) + n_branches`` (its arms).

    clusters : ndarray of shape (n_samples,), dtype intp
        Star ids, ``y // (n_branches + 1)``. Only returned if
        ``return_clusters=True``.

    See Also
    --------
    make_flared_blobs : Wider blobs with a random number of thin flares.

    Notes
    -----
    In 2-D the arms of a star are evenly spaced in angle with a random
    rotation and a jitter of at most 20% of the spacing, so neighbouring arms
    are at least ``0.6 * 360 / n_branches`` degrees apart. In higher
    dimensions each star keeps the best-spread of 64 random direction sets.
    Centres are at least ``3 * reach`` apart, where ``reach =
    max(2 * center_std + branch_length + 3 * noise, 3 * center_std)``, so
    facing arm tips are separated by at least one reach.

    Examples
    --------
    >>> from flasc_cluster.datasets import make_branching_stars
    >>> X, y = make_branching_stars(n_samples=400, random_state=0)
    >>> X.shape, X.dtype.name, int(y.max()) + 1
    ((400, 2), 'float64', 12)
    """
    caller = "make_branching_stars"
    n_samples = _check_int(n_samples, "n_samples", caller, 1)
    n_features = _check_int(n_features, "n_features", caller, 2)
    n_clusters = _check_int(n_clusters, "n_clusters", caller, 1)
    n_branches = _check_int(n_branches, "n_branches", caller, 0)
    branch_length = _check_real(branch_length, "branch_length", caller, 0.0, low_closed=False)
    noise = _check_real(noise, "noise", caller, 0.0)
    center_std = _check_real(center_std, "center_std", caller, 0.0)
    center_box = _check_box(center_box, "center_box", caller)
    shuffle = _check_bool(shuffle, "shuffle", caller)
    return_clusters = _check_bool(return_clusters, "return_clusters", caller)
    rng = _check_random_state(random_state, caller)
    n_components = n_clusters * (n_branches + 1)
    if n_samples < n_components:
        raise ValueError(
            f"n_samples ({n_samples}) must be at least n_clusters * "
            f"(n_branches + 1) = {n_components}, one point per centre and arm."
        )

    arm_start = _STAR_ARM_START * center_std
    reach = max(arm_start + branch_length + 3.0 * noise, 3.0 * center_std)
    min_separation = _SEPARATION * reach
    if center_box is None:
        center_box = _auto_box(n_clusters, n_features, min_separation)
    centers = _place_centers(rng, n_clusters, n_features, center_box, min_separation, caller)
    directions = _spread_directions(rng, n_clusters, n_branches, n_features)
    counts = _split_evenly([n_samples], [n_components])
    X, y, clusters = _make_rays(
        rng,
        centers=centers,
        directions=directions,
        n_rays=np.full(n_clusters, n_branches, dtype=np.intp),
        counts=counts,
        core_std=center_std,
        ray_std=noise,
        ray_start=arm_start,
        ray_length=branch_length,
        shuffle=shuffle,
    )
    return _result(X, y, clusters, return_clusters)


def make_flared_blobs(
    n_samples=1000,
    n_features=2,
    *,
    n_clusters=3,
    n_flares=(1, 3),
    cluster_std=1.0,
    flare_length=4.0,
    flare_std=0.1,
    flare_fraction=0.3,
    center_box=None,
    shuffle=True,
    random_state=None,
    return_clusters=False,
):
    """Generate isotropic Gaussian blobs with thin linear flares attached.

    The benchmark family of this package. Each blob gets a random number of
    flares (by default 1 to 3): straight, thin segments that start at the
    blob's centre and leave it along well-spread directions. A flare's points
    lie at ``t ~ U(0, flare_length)`` along its direction plus isotropic
    Gaussian jitter of standard deviation ``flare_std``.

    Generation is a handful of vectorised passes over fixed-size row chunks
    with no copy of ``X``: 10^7 points in 2-D take one to two seconds and
    little more memory than ``X`` and ``y`` themselves.

    Parameters
    ----------
    n_samples : int, default=1000
        Total number of points, split as evenly as possible over the blobs.

    n_features : int, default=2
        Dimensionality of the points; at least 2.

    n_clusters : int, default=3
        Number of blobs.

    n_flares : int or tuple of int (low, high), default=(1, 3)
        Number of flares per blob: a fixed number, or drawn uniformly from
        ``low`` to ``high`` inclusive for each blob.

    cluster_std : float, default=1.0
        Standard deviation of each Gaussian blob.

    flare_length : float, default=4.0
        Length of every flare, measured from the blob's centre.

    flare_std : float, default=0.1
        Standard deviation of the jitter around each flare's axis.

    flare_fraction : float, default=0.3
        Fraction of a blob's points that lie on its flares (split evenly
        among them); ignored for blobs without flares. In [0, 1).

    center_box : tuple of float (low, high), default=None
        Bounding box for each coordinate of the blob centres. ``None`` sizes
        a box around the origin automatically.

    shuffle : bool, default=True
        Shuffle the rows. When False the rows are grouped by component.

    random_state : int, numpy.random.Generator, numpy.random.RandomState or None, default=None
        Seed or generator; the same int always gives the same data.

    return_clusters : bool, default=False
        Also return the id of each point's blob.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float64
        The points.

    y : ndarray of shape (n_samples,), dtype intp
        Component ids, blob by blob: a blob's core, then each of its flares.

    clusters : ndarray of shape (n_samples,), dtype intp
        Blob ids. Only returned if ``return_clusters=True``.

    See Also
    --------
    make_branching_stars : Dense centres with a fixed number of long arms.
    make_random_walk_clusters : The paper's computational-cost benchmark.

    Notes
    -----
    Blob centres are at least ``3 * reach`` apart, with ``reach =
    max(3 * cluster_std, flare_length + 3 * flare_std)``. Flares start at the
    blob centre so they stay attached to the blob's density mode rather than
    forming modes of their own.

    Examples
    --------
    >>> from flasc_cluster.datasets import make_flared_blobs
    >>> X, y, clusters = make_flared_blobs(
    ...     n_samples=1000, n_flares=2, random_state=0, return_clusters=True
    ... )
    >>> X.shape, int(y.max()) + 1, int(clusters.max()) + 1
    ((1000, 2), 9, 3)
    """
    caller = "make_flared_blobs"
    n_samples = _check_int(n_samples, "n_samples", caller, 1)
    n_features = _check_int(n_features, "n_features", caller, 2)
    n_clusters = _check_int(n_clusters, "n_clusters", caller, 1)
    if isinstance(n_flares, numbers.Integral) and not isinstance(n_flares, (bool, np.bool_)):
        flares_low = flares_high = _check_int(n_flares, "n_flares", caller, 0)
    else:
        try:
            flares_low, flares_high = n_flares
            flares_low = _check_int(flares_low, "n_flares", caller, 0)
            flares_high = _check_int(flares_high, "n_flares", caller, flares_low)
        except (TypeError, ValueError):
            raise ValueError(
                f"The 'n_flares' parameter of {caller} must be a non-negative int "
                f"or a pair (low, high) of ints with 0 <= low <= high. "
                f"Got {n_flares!r} instead."
            ) from None
    cluster_std = _check_real(cluster_std, "cluster_std", caller, 0.0)
    flare_length = _check_real(flare_length, "flare_length", caller, 0.0, low_closed=False)
    flare_std = _check_real(flare_std, "flare_std", caller, 0.0)
    flare_fraction = _check_real(
        flare_fraction, "flare_fraction", caller, 0.0, 1.0, high_closed=False
    )
    center_box = _check_box(center_box, "center_box", caller)
    shuffle = _check_bool(shuffle, "shuffle", caller)
    return_clusters = _check_bool(return_clusters, "return_clusters", caller)
    rng = _check_random_state(random_state, caller)
    max_components = n_clusters * (flares_high + 1)
    if n_samples < 2 * max_components:
        raise ValueError(
            f"n_samples ({n_samples}) must be at least 2 * n_clusters * "
            f"(max n_flares + 1) = {2 * max_components} so that every blob and "
            f"flare gets points."
        )

    reach = max(3.0 * cluster_std, flare_length + 3.0 * flare_std)
    min_separation = _SEPARATION * reach
    if center_box is None:
        center_box = _auto_box(n_clusters, n_features, min_separation)
    centers = _place_centers(rng, n_clusters, n_features, center_box, min_separation, caller)
    n_rays = rng.integers(flares_low, flares_high + 1, size=n_clusters).astype(np.intp)
    directions = _spread_directions(rng, n_clusters, flares_high, n_features)

    per_blob = _split_evenly([n_samples], [n_clusters])
    on_flares = np.where(n_rays > 0, np.rint(flare_fraction * per_blob), 0).astype(np.intp)
    flare_counts = _split_evenly(on_flares, n_rays)
    # Interleave: [core_0, flares_0..., core_1, flares_1..., ...]
    counts = np.empty(int(n_rays.sum()) + n_clusters, dtype=np.intp)
    core_slots = np.cumsum(n_rays + 1) - (n_rays + 1)
    is_core = np.zeros(counts.size, dtype=bool)
    is_core[core_slots] = True
    counts[is_core] = per_blob - on_flares
    counts[~is_core] = flare_counts
    if counts.min() < 1:
        raise ValueError(
            f"n_samples ({n_samples}) is too small for flare_fraction="
            f"{flare_fraction}: some blob or flare would get no points. Increase "
            f"n_samples or move flare_fraction away from 0."
        )
    X, y, clusters = _make_rays(
        rng,
        centers=centers,
        directions=directions,
        n_rays=n_rays,
        counts=counts,
        core_std=cluster_std,
        ray_std=flare_std,
        ray_start=0.0,
        ray_length=flare_length,
        shuffle=shuffle,
    )
    return _result(X, y, clusters, return_clusters)


def make_random_walk_clusters(
    n_samples=1000,
    n_features=2,
    *,
    n_clusters=4,
    n_walks=5,
    step_std=0.1,
    noise=0.01,
    center_box=None,
    shuffle=True,
    random_state=None,
    return_clusters=False,
):
    """Generate clusters of random walks from a shared origin (branches = walks).

    The computational-cost benchmark family of the FLASC paper (Bot et al.
    2025, following pyflasc's ``Comparison_computational_cost`` notebook):
    each cluster is ``n_walks`` random walks that start at the cluster's
    origin. Every step moves along one coordinate axis, chosen uniformly, by
    a ``N(0, step_std**2)`` distance; each walk position is a point, plus
    isotropic Gaussian noise of standard deviation ``noise``. The origin
    itself is not a point.

    The paper's setting is ``n_samples = 250 * n_clusters`` with
    ``n_walks=5`` (walks of 50 steps), ``step_std=0.1`` and ``noise=0``,
    for ``n_clusters`` from 2 to 800 and 2, 8 and 16 features.

    Parameters
    ----------
    n_samples : int, default=1000
        Total number of points, split as evenly as possible over the
        ``n_clusters * n_walks`` walks (the defaults give 50 steps per walk).

    n_features : int, default=2
        Dimensionality of the points.

    n_clusters : int, default=4
        Number of clusters (walk origins).

    n_walks : int, default=5
        Number of walks per cluster.

    step_std : float, default=0.1
        Standard deviation of the length of each axis-aligned step.

    noise : float, default=0.01
        Standard deviation of the isotropic Gaussian noise added to every
        walk position; 0 reproduces the paper's data exactly in distribution.

    center_box : tuple of float (low, high), default=None
        Bounding box for each coordinate of the origins, drawn uniformly
        without any separation constraint (clusters may overlap, as in the
        paper). ``None`` uses the paper's cube ``[0, side)`` with ``side =
        (5 * n_clusters) ** (1 / n_features) * 2 * spread``, where ``spread =
        1.3 * step_std * sqrt(walk_length)`` approximates the 95th percentile
        distance of walk points to their origin.

    shuffle : bool, default=True
        Shuffle the rows. When False the rows follow the walks in order.

    random_state : int, numpy.random.Generator, numpy.random.RandomState or None, default=None
        Seed or generator; the same int always gives the same data.

    return_clusters : bool, default=False
        Also return the id of each point's cluster.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float64
        The points.

    y : ndarray of shape (n_samples,), dtype intp
        Walk ids: cluster ``c`` owns ids ``c * n_walks`` to
        ``c * n_walks + n_walks - 1``.

    clusters : ndarray of shape (n_samples,), dtype intp
        Cluster ids, ``y // n_walks``. Only returned if
        ``return_clusters=True``.

    See Also
    --------
    make_flared_blobs : Gaussian blobs with linear flares.

    Notes
    -----
    The walks are a single cumulative sum over all steps with per-walk
    offsets removed afterwards, so the cost is O(n_samples * n_features)
    with no loop over walks.

    Examples
    --------
    >>> from flasc_cluster.datasets import make_random_walk_clusters
    >>> X, y = make_random_walk_clusters(n_samples=500, n_clusters=2, random_state=0)
    >>> X.shape, int(y.max()) + 1
    ((500, 2), 10)
    """
    caller = "make_random_walk_clusters"
    n_samples = _check_int(n_samples, "n_samples", caller, 1)
    n_features = _check_int(n_features, "n_features", caller, 1)
    n_clusters = _check_int(n_clusters, "n_clusters", caller, 1)
    n_walks = _check_int(n_walks, "n_walks", caller, 1)
    step_std = _check_real(step_std, "step_std", caller, 0.0, low_closed=False)
    noise = _check_real(noise, "noise", caller, 0.0)
    center_box = _check_box(center_box, "center_box", caller)
    shuffle = _check_bool(shuffle, "shuffle", caller)
    return_clusters = _check_bool(return_clusters, "return_clusters", caller)
    rng = _check_random_state(random_state, caller)
    n_total_walks = n_clusters * n_walks
    if n_samples < n_total_walks:
        raise ValueError(
            f"n_samples ({n_samples}) must be at least n_clusters * n_walks = "
            f"{n_total_walks}, one point per walk."
        )

    counts = _split_evenly([n_samples], [n_total_walks])
    if center_box is None:
        spread = _WALK_SPREAD * step_std * np.sqrt(n_samples / n_total_walks)
        side = (_WALK_SPACING * n_clusters) ** (1.0 / n_features) * 2.0 * spread
        center_box = (0.0, side)
    origins = rng.uniform(center_box[0], center_box[1], size=(n_clusters, n_features))

    # All steps in walk order, then one cumulative sum over every walk.
    axes = rng.integers(0, n_features, size=n_samples)
    lengths = rng.normal(0.0, step_std, size=n_samples)
    X = np.zeros((n_samples, n_features), dtype=np.float64)
    X.reshape(-1)[np.arange(n_samples, dtype=np.intp) * n_features + axes] = lengths
    del axes, lengths
    np.cumsum(X, axis=0, out=X)
    # Shift walk w by (its origin - the running sum before its first step).
    starts = np.cumsum(counts) - counts
    before = np.zeros((n_total_walks, n_features), dtype=np.float64)
    before[1:] = X[starts[1:] - 1]
    walk_cluster = np.repeat(np.arange(n_clusters, dtype=np.intp), n_walks)
    shift = origins[walk_cluster] - before
    y = np.repeat(np.arange(n_total_walks, dtype=np.intp), counts)
    for start in range(0, n_samples, _CHUNK_ROWS):
        rows = slice(start, start + _CHUNK_ROWS)
        block = X[rows]
        block += shift[y[rows]]
        if noise > 0.0:
            block += noise * rng.standard_normal(block.shape)
    if shuffle:
        order = rng.permutation(n_samples)
        X = X[order]
        y = y[order]
    return _result(X, y, walk_cluster[y], return_clusters)


def make_chain(n_samples=1000, n_features=1, *, shuffle=False, random_state=None):
    """Generate points on a line with strictly increasing gaps.

    Point ``i`` sits at the triangular number ``i * (i + 1) / 2`` on the
    first axis (other coordinates are 0), so the gap between points ``i``
    and ``i + 1`` is ``i + 1``. Single linkage, and mutual reachability with
    any ``min_samples``, then merge one point at a time: the hierarchy is a
    chain of depth ``n_samples - 1``, the worst case for recursive tree code.
    All coordinates are integers, exact in float64, so every distance is
    exact and no two gaps tie.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of points, from 2 to 10**8 (beyond that the positions would no
        longer be exact in float64).

    n_features : int, default=1
        Dimensionality; the extra coordinates are zero.

    shuffle : bool, default=False
        Shuffle the rows (the chain is generated in sorted order).

    random_state : int, numpy.random.Generator, numpy.random.RandomState or None, default=None
        Seed or generator for the shuffle; unused when ``shuffle=False``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float64
        The points. There are no ground-truth labels.

    See Also
    --------
    make_branching_stars : Data with real branches.

    Examples
    --------
    >>> from flasc_cluster.datasets import make_chain
    >>> make_chain(5)[:, 0].tolist()
    [0.0, 1.0, 3.0, 6.0, 10.0]
    """
    caller = "make_chain"
    n_samples = _check_int(n_samples, "n_samples", caller, 2, _CHAIN_MAX_SAMPLES)
    n_features = _check_int(n_features, "n_features", caller, 1)
    shuffle = _check_bool(shuffle, "shuffle", caller)
    rng = _check_random_state(random_state, caller)
    index = np.arange(n_samples, dtype=np.int64)
    X = np.zeros((n_samples, n_features), dtype=np.float64)
    X[:, 0] = index * (index + 1) // 2
    if shuffle:
        X = X[rng.permutation(n_samples)]
    return X
