"""Interactive figures of the HTML report: plotly.js figure specs built from the report's own data.

The report stays one self-contained file that works offline: the plotly.js bundle of the
``plotly`` package (in the ``analysis`` extra) is embedded once, and each interactive figure is a
JSON spec (traces + layout, plotly's documented figure format) drawn by ``Plotly.newPlot``. No
Python plotly objects are built: the specs are plain dicts, so they are cheap and testable. When
``plotly`` is not installed, :func:`plotly_js` returns ``None`` and the report shows the same
figures as static PNGs.

Two kinds of figure:

* :func:`curves_spec`: mean curve per optimizer with its confidence band, hover showing the
  optimizer, the budget and the value with its interval (the anytime curves);
* :func:`drilldown_spec`: per-task curves (seed-mean per optimizer) for every task of a type, one
  task at a time, picked from a list: the per-task drill-down.

Example:
    >>> import pandas as pd
    >>> agg = pd.DataFrame({"optimizer": ["a", "a"], "budget": [0.5, 1.0], "mean": [0.4, 0.2],
    ...                     "ci_low": [0.3, 0.1], "ci_high": [0.5, 0.3]})
    >>> spec = curves_spec(agg, "normalized regret ↓", "Regret")
    >>> [t["name"] for t in spec["data"]], spec["layout"]["xaxis"]["type"]
    (['a', 'a'], 'log')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis.leaderboard.anytime import Curves
from analysis.leaderboard.plots import Color, palette

#: The legend of the arrows in score column names.
DIRECTION_LEGEND = "↓ lower is better, ↑ higher is better"
#: Significant digits kept in the embedded data: enough for hover text, and a 100-task
#: drill-down stays a few hundred kB.
DIGITS = 5


def plotly_js() -> str | None:
    """The plotly.js bundle shipped with the ``plotly`` package, or ``None`` without it.

    Example:
        >>> js = plotly_js()
        >>> js is None or "Plotly" in js[:5000]
        True
    """
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        return None
    return str(get_plotlyjs())


def _css(color: Color | None) -> str:
    if color is None:
        return "rgb(80,80,80)"
    r, g, b = (round(255 * float(c)) for c in color)
    return f"rgb({r},{g},{b})"


def _rgba(color: Color | None, alpha: float) -> str:
    return _css(color).replace("rgb(", "rgba(").replace(")", f",{alpha})")


def _round(values: Any) -> list[float | None]:
    # JSON has no NaN: missing points become null, which plotly draws as gaps.
    out: list[float | None] = []
    for v in np.asarray(values, dtype=float).tolist():
        out.append(float(f"{v:.{DIGITS}g}") if np.isfinite(v) else None)
    return out


def _layout(title: str, xlabel: str, ylabel: str, log_x: bool, log_y: bool) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 14}},
        "xaxis": {"title": {"text": xlabel}, "type": "log" if log_x else "linear", "gridcolor": "#e5e5e5"},
        "yaxis": {"title": {"text": ylabel}, "type": "log" if log_y else "linear", "gridcolor": "#e5e5e5"},
        "hovermode": "closest",
        "legend": {"font": {"size": 11}},
        "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
        "plot_bgcolor": "white",
        "height": 420,
    }


def curves_spec(
    agg: pd.DataFrame,
    ylabel: str,
    title: str,
    pal: Mapping[str, Color] | None = None,
    log_x: bool = True,
    log_y: bool = False,
    xlabel: str = "budget (fraction of the task's largest budget)",
) -> dict[str, Any]:
    """A plotly figure of mean curves with confidence bands (:func:`anytime.aggregate` output).

    Each optimizer is one legend entry: its band (a filled polygon, no hover) and its mean line
    (hover: optimizer, budget, mean and interval, number of tasks), grouped so a click on the
    legend hides both.

    Example:
        >>> agg = pd.DataFrame({"optimizer": ["a"], "budget": [1.0], "mean": [0.2],
        ...                     "ci_low": [0.1], "ci_high": [0.3], "n_tasks": [4]})
        >>> line = curves_spec(agg, "regret", "t")["data"][-1]
        >>> line["y"], "4 tasks" in line["hovertemplate"]
        ([0.2], True)
    """
    names = sorted(agg["optimizer"].astype(str).unique())
    colors = pal if pal is not None else palette(names)
    data: list[dict[str, Any]] = []
    for name in names:
        g = agg[agg["optimizer"].astype(str) == name].sort_values("budget")
        color = colors.get(name)
        x = _round(g["budget"])
        if g["ci_low"].notna().any():
            data.append(
                {
                    "type": "scatter",
                    "x": x + x[::-1],
                    "y": _round(g["ci_high"]) + _round(g["ci_low"])[::-1],
                    "fill": "toself",
                    "fillcolor": _rgba(color, 0.15),
                    "line": {"width": 0},
                    "hoverinfo": "skip",
                    "showlegend": False,
                    "legendgroup": name,
                    "name": name,
                }
            )
        n_tasks = int(g["n_tasks"].iloc[0]) if "n_tasks" in g.columns and len(g) else None
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": _round(g["mean"]),
                "customdata": [list(p) for p in zip(_round(g["ci_low"]), _round(g["ci_high"]), strict=True)],
                "line": {"color": _css(color), "width": 2},
                "name": name,
                "legendgroup": name,
                "hovertemplate": (
                    f"<b>{name}</b><br>budget %{{x:.3g}}<br>mean %{{y:.4g}} "
                    "[%{customdata[0]:.3g}, %{customdata[1]:.3g}]"
                    + (f"<br>{n_tasks} tasks" if n_tasks is not None else "")
                    + "<extra></extra>"
                ),
            }
        )
    return {"data": data, "layout": _layout(title, xlabel, ylabel, log_x, log_y)}


def drilldown_spec(
    curves: Curves,
    ylabel: str,
    title: str,
    pal: Mapping[str, Color] | None = None,
    xlabel: str = "budget (fraction of the task's largest budget)",
) -> dict[str, Any]:
    """Per-task curves for every task: ``{"tasks": [...], "traces": {task: [...]}, "layout": ...}``.

    The report shows one task at a time, chosen from a list; each trace is an optimizer's mean
    over seeds on that task (hover: optimizer, seeds, budget, value).

    Example:
        >>> c = Curves(np.array([0.5, 1.0]), np.array([[0.4, 0.2], [0.6, 0.1]]),
        ...            pd.DataFrame({"task": ["t1", "t1"], "optimizer": ["a", "a"], "seed": [0, 1]}),
        ...            "trials", "regret")
        >>> spec = drilldown_spec(c, "regret", "Per task")
        >>> spec["tasks"], spec["traces"]["t1"][0]["y"]
        (['t1'], [0.5, 0.15])
    """
    runs = curves.runs
    tasks = runs["task"].astype(str).to_numpy()
    opts = runs["optimizer"].astype(str).to_numpy()
    names = sorted(set(opts.tolist()))
    colors = pal if pal is not None else palette(names)
    x = _round(curves.grid)
    traces: dict[str, list[dict[str, Any]]] = {}
    frame = pd.DataFrame(curves.values)
    grouped = frame.groupby([tasks, opts], sort=True)
    means, counts = grouped.mean(), grouped.size()
    for (task, opt), row in means.iterrows():
        n = int(counts[(task, opt)])
        traces.setdefault(str(task), []).append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": _round(row.to_numpy()),
                "name": str(opt),
                "line": {"color": _css(colors.get(str(opt))), "width": 2},
                "hovertemplate": (
                    f"<b>{opt}</b> (mean of {n} seed{'s' if n != 1 else ''})<br>"
                    "budget %{x:.3g}<br>value %{y:.4g}<extra></extra>"
                ),
            }
        )
    return {
        "tasks": sorted(traces),
        "traces": traces,
        "layout": _layout(title, xlabel, ylabel, curves.log_grid, False),
    }


def to_json(spec: Mapping[str, Any]) -> str:
    """The spec as JSON safe to put inside a ``<script>`` element (no ``</`` sequence).

    Example:
        >>> print(to_json({"a": "</script>"}))
        {"a":"<\\/script>"}
    """
    return json.dumps(spec, allow_nan=False, separators=(",", ":")).replace("</", "<\\/")
