"""The subset pipeline: choose a few representative tasks, and check they rank optimizers as all tasks do.

* :mod:`~analysis.subsets.selection`: embed tasks by their scores, select k of them by star discrepancy
* :mod:`~analysis.subsets.discrepancy`, :mod:`~analysis.subsets.discrepancy_exact`: the star discrepancy
* :mod:`~analysis.subsets.validation`: does a subset rank held-out optimizers like the full task set?

Validation ranks with the statistics of :mod:`analysis.leaderboard`; nothing there imports this package.
"""
