"""Figures with one line per optimizer stay readable with the 30-odd optimizers of a report with
``--baselines archive``: their legend moves beside the plot instead of covering it (or, in the
runtime ECDF, collapsing the axes to nothing), and stays inside the axes for a handful of lines.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from analysis.leaderboard import aggregates, attainment, fixed_target, plots
from tasks.base import Objective

MANY, FEW = 32, 5


def _names(n: int) -> list[str]:
    return [f"optimizer_{i:02d}" for i in range(n)]


def _curves(n: int) -> Figure:
    budget = np.linspace(0.1, 1.0, 5)
    agg = pd.DataFrame(
        [
            {"optimizer": o, "budget": b, "mean": 1.0 / (i + 1) + b, "ci_low": 0.0, "ci_high": 2.0}
            for i, o in enumerate(_names(n))
            for b in budget
        ]
    )
    return plots.curves_plot(agg, "normalized regret", "curves")


def _ranks(n: int) -> Figure:
    ranks = pd.DataFrame(
        {o: np.full(4, i + 1.0) for i, o in enumerate(_names(n))}, index=[0.1, 0.2, 0.5, 1.0]
    )
    return plots.rank_plot(ranks)


def _profile(n: int) -> Figure:
    profile = pd.DataFrame({o: np.linspace(0.1, 1.0, 4) for o in _names(n)}, index=[1.0, 2.0, 10.0, 100.0])
    return plots.profile_plot(profile, "ratio", "fraction", "performance profile")


def _score_distribution(n: int) -> Figure:
    tau = np.linspace(0.0, 1.0, 5)
    prof = pd.DataFrame(
        [
            {"optimizer": o, "tau": t, "fraction": t, "lower": np.nan, "upper": np.nan}
            for o in _names(n)
            for t in tau
        ]
    )
    return aggregates.score_distribution_plot(prof)


def _runtime_ecdf(n: int) -> Figure:
    ecdf = pd.DataFrame(
        [
            {"task_type": tt, "optimizer": o, "budget": b, "fraction": f}
            for tt in ("bb", "mf")
            for o in _names(n)
            for b, f in ((0.1, 0.1), (10.0, 0.6))
        ]
    )
    return fixed_target.plot_runtime_ecdf(ecdf)


def _fronts(n: int) -> pd.DataFrame:
    rows = []
    for i, o in enumerate(_names(n)):
        for seed in range(2):
            run = 2 * i + seed
            for a in (0.0, 0.5, 1.0):
                rows.append(
                    {"task": "t", "optimizer": o, "seed": seed, "run": run, "obj0": a, "obj1": 1.0 - a}
                )
    return pd.DataFrame(rows)


def _attainment(n: int) -> Figure:
    return attainment.attainment_plot(_fronts(n), "t", objectives=[Objective("f1"), Objective("f2")])


def _pareto(n: int) -> Figure:
    return attainment.pareto_front_plot(_fronts(n), "t", objectives=[Objective("f1"), Objective("f2")])


BUILDERS: dict[str, Callable[[int], Figure]] = {
    "curves": _curves,
    "ranks": _ranks,
    "profile": _profile,
    "score_distribution": _score_distribution,
    "runtime_ecdf": _runtime_ecdf,
    "attainment": _attainment,
    "pareto_front": _pareto,
}


def _draw(fig: Figure) -> list[str]:
    """Render as the report does; the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png", dpi=60)
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_many_optimizers_get_one_legend_beside_the_plot(name: str) -> None:
    fig = BUILDERS[name](MANY)
    assert _draw(fig) == []  # e.g. "constrained_layout not applied because axes sizes collapsed"
    assert all(ax.get_legend() is None for ax in fig.axes)
    assert len(fig.legends) == 1
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert sum(any(o in label for label in labels) for o in _names(MANY)) == MANY
    # the continuous palette gives neighbours nearly one hue: their dash patterns differ
    styles = [h.get_linestyle() for h in fig.legends[0].legend_handles if h is not None]  # type: ignore[attr-defined]
    assert len(set(styles)) == 4 and all(a != b for a, b in pairwise(styles[-MANY:]))
    box = fig.legends[0].get_window_extent()  # where the draw above put it
    for ax in fig.axes:
        plot = ax.get_window_extent()
        assert box.x0 >= plot.x1 - 1, "the legend covers the plot"
        assert plot.width > 100 and plot.height > 100, "the plot was squeezed"


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_a_few_optimizers_keep_their_legend_inside_the_axes(name: str) -> None:
    fig = BUILDERS[name](FEW)
    assert _draw(fig) == []
    assert fig.legends == []
    legends = [legend for ax in fig.axes if (legend := ax.get_legend()) is not None]
    assert legends
    for legend in legends:
        assert sum(any(o in t.get_text() for t in legend.get_texts()) for o in _names(FEW)) == FEW
        assert {h.get_linestyle() for h in legend.legend_handles if h is not None} <= {"-", "--"}  # type: ignore[attr-defined]
