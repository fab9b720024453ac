"""The leaderboard pipeline: which optimizer is best, over budget and at the end, with what confidence.

Modules, each a set of pure functions over :func:`analysis.normalize.prepare`'s output:

* :mod:`~analysis.leaderboard.anytime`: incumbent trajectories on a common budget grid, ranks over budget
* :mod:`~analysis.leaderboard.stats`: ranks, Friedman and post-hoc tests, bootstrap confidence intervals
* :mod:`~analysis.leaderboard.profiles`: performance and data profiles, runtime ECDFs
* :mod:`~analysis.leaderboard.aggregates`: rliable-style IQM, optimality gap, probability of improvement,
  score distributions, with stratified bootstrap intervals over runs
* :mod:`~analysis.leaderboard.bayesian`: the Bayesian signed-rank test with a region of practical equivalence
* :mod:`~analysis.leaderboard.fixed_target`: COCO's expected running time to targets and runtime ECDFs
* :mod:`~analysis.leaderboard.hypervolume`: hypervolume regret of multi-objective runs
* :mod:`~analysis.leaderboard.plots`: the figures of the report
* :mod:`~analysis.leaderboard.sweep_summary`: the leaderboards ``python -m bench`` prints after a sweep

It builds on the shared modules of :mod:`analysis` (load, normalize) and never imports
:mod:`analysis.subsets` or :mod:`analysis.report`, which build on it.
"""
