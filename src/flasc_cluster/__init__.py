"""FLASC: flare-sensitive clustering (HDBSCAN* with branch detection)."""

from ._estimator import FLASC
from ._trees import ApproximationGraph, CondensedTree, MinimumSpanningTree, SingleLinkageTree

__version__ = "0.1.0"

__all__ = [
    "FLASC",
    "CondensedTree",
    "SingleLinkageTree",
    "MinimumSpanningTree",
    "ApproximationGraph",
    "__version__",
]
