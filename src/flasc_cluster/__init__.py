"""FLASC: flare-sensitive clustering (HDBSCAN* with branch detection)."""

from ._estimator import FLASC
from ._interop import branches_from_clusterer
from ._validity import relative_validity_score
from .plots import label_palette, plot_labels
from .prediction import Prediction, approximate_predict
from ._trees import ApproximationGraph, CondensedTree, MinimumSpanningTree, SingleLinkageTree

__version__ = "0.1.0"

__all__ = [
    "FLASC",
    "approximate_predict",
    "Prediction",
    "relative_validity_score",
    "branches_from_clusterer",
    "plot_labels",
    "label_palette",
    "CondensedTree",
    "SingleLinkageTree",
    "MinimumSpanningTree",
    "ApproximationGraph",
    "__version__",
]
