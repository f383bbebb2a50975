"""Which points a hierarchy places by an arbitrary order of equal-height merges."""

import numpy as np


def tie_points(linkage, min_size):
    """Mask of points whose side is decided by the order of tied merges.

    Wherever three or more components join at one height, a binary
    hierarchy must pick an order; components smaller than ``min_size`` (and
    single points) that take part can end up on either side of a split,
    depending on that order. Returns a bool mask over the linkage's points.
    """
    n = linkage.shape[0] + 1
    left = linkage[:, 0].astype(np.intp)
    right = linkage[:, 1].astype(np.intp)
    size = np.concatenate([np.ones(n, dtype=np.intp), linkage[:, 3].astype(np.intp)])
    # members of every node, lazily by walking down
    def members(node):
        out, stack = [], [node]
        while stack:
            x = stack.pop()
            if x < n:
                out.append(x)
            else:
                stack.extend((left[x - n], right[x - n]))
        return out

    mask = np.zeros(n, dtype=bool)
    heights = linkage[:, 2]
    start = 0
    while start < n - 1:
        end = start + 1
        while end < n - 1 and heights[end] == heights[start]:
            end += 1
        if end - start >= 2:
            created = set(range(n + start, n + end))
            inputs = [c for r in range(start, end) for c in (left[r], right[r]) if c not in created]
            if len(inputs) >= 3:
                for c in inputs:
                    if size[c] < min_size:
                        mask[members(c)] = True
        start = end
    return mask


def mismatched_points(reference, ours):
    """Points whose label differs after matching each reference label to ours."""
    ref_ids, ref_inv = np.unique(reference, return_inverse=True)
    our_ids, our_inv = np.unique(ours, return_inverse=True)
    table = np.zeros((ref_ids.shape[0], our_ids.shape[0]), dtype=np.intp)
    np.add.at(table, (ref_inv, our_inv), 1)
    best = table.argmax(axis=1)
    return best[ref_inv] != our_inv
