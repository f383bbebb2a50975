"""scikit-learn's common estimator checks."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from flasc_cluster import FLASC


@parametrize_with_checks([FLASC()])
def test_sklearn_compatible(estimator, check):
    check(estimator)
