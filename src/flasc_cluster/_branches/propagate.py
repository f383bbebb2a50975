"""Label propagation over a graph by neighbour votes (kernel module)."""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE


@njit(cache=NUMBA_CACHE, nogil=True)
def propagate_by_vote(indptr, indices, votes, labels, n_labels):
    """Give unlabelled points the label their labelled neighbours vote for.

    ``indptr``, ``indices`` intp: a symmetric CSR graph over ``n`` points;
    ``votes`` float64 (>= 0) per CSR entry; ``labels`` intp (n,) in
    ``[-1, n_labels)``, -1 unlabelled. Works in synchronous rounds outward
    from the labelled points (breadth first): in each round, every
    unlabelled point next to a labelled one takes the label with the
    largest summed vote among the neighbours labelled in earlier rounds,
    ties to the smaller label. The result does not depend on the point
    order. Returns intp (n,); points without a path to a labelled point
    stay -1.
    """
    n = labels.shape[0]
    out = labels.copy()
    score = np.zeros(max(n_labels, 1))
    queued = np.zeros(n, dtype=np.bool_)
    frontier = np.empty(n, dtype=np.intp)
    following = np.empty(n, dtype=np.intp)
    chosen = np.empty(n, dtype=np.intp)
    n_front = 0
    for i in range(n):
        if out[i] < 0:
            for e in range(indptr[i], indptr[i + 1]):
                if out[indices[e]] >= 0:
                    frontier[n_front] = i
                    n_front += 1
                    queued[i] = True
                    break
    while n_front > 0:
        for t in range(n_front):
            i = frontier[t]
            for e in range(indptr[i], indptr[i + 1]):
                lab = out[indices[e]]
                if lab >= 0:
                    score[lab] += votes[e]
            best = -1
            best_score = -1.0
            for e in range(indptr[i], indptr[i + 1]):
                lab = out[indices[e]]
                if lab >= 0 and (score[lab] > best_score or (score[lab] == best_score and lab < best)):
                    best = lab
                    best_score = score[lab]
            for e in range(indptr[i], indptr[i + 1]):
                lab = out[indices[e]]
                if lab >= 0:
                    score[lab] = 0.0
            chosen[t] = best
        for t in range(n_front):
            out[frontier[t]] = chosen[t]
        n_next = 0
        for t in range(n_front):
            i = frontier[t]
            for e in range(indptr[i], indptr[i + 1]):
                j = indices[e]
                if out[j] < 0 and not queued[j]:
                    queued[j] = True
                    following[n_next] = j
                    n_next += 1
        frontier, following = following, frontier
        n_front = n_next
    return out
