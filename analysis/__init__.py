"""Analysis of NxM-Bench results: pure functions over the long trials DataFrame.

Example:
    >>> import analysis
    >>> callable(analysis.load), analysis.comparability_groups(None)
    (True, [])
"""

from analysis.load import MixedResultsError, comparability_groups, load, load_runs

__all__ = ["MixedResultsError", "comparability_groups", "load", "load_runs"]
