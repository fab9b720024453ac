"""Load study results for analysis (thin re-export of the runner's loader).

Example:
    >>> from analysis import load
    >>> df = load("results/default")  # doctest: +SKIP
    >>> df.groupby(["task", "optimizer"], observed=True).value.min()  # doctest: +SKIP
"""

from __future__ import annotations

from bench.results import load, load_runs

__all__ = ["load", "load_runs"]
