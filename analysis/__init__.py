"""Analysis of NxM-Bench results: pure functions over the long trials DataFrame.

Example:
    >>> import analysis
    >>> callable(analysis.load)
    True
"""

from analysis.load import load, load_runs

__all__ = ["load", "load_runs"]
