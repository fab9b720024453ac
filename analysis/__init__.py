"""Analysis of NxM-Bench results: pure functions over the long trials DataFrame.

The folders show the two pipelines, each importing only what is listed before it:

* this package's modules, shared by both: :mod:`analysis.load` (results in),
  :mod:`analysis.normalize` (normalized regret, score tables), :mod:`analysis.synthetic` (frames
  for tests and examples)
* :mod:`analysis.leaderboard`: ranks, tests, curves, profiles, hypervolume, figures
* :mod:`analysis.subsets`: representative task subsets by star discrepancy, and their validation
* :mod:`analysis.report`: the report, the leaderboard's chapters and the subsets chapter
* :mod:`analysis.export`: results in other tools' data formats (COCO)

Example:
    >>> import analysis
    >>> callable(analysis.load), analysis.comparability_groups(None)
    (True, [])
"""

from analysis.load import MixedResultsError, comparability_groups, load, load_runs

__all__ = ["MixedResultsError", "comparability_groups", "load", "load_runs"]
