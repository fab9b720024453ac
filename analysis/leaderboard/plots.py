"""Figures for the report: regret curves, ranks over budget, CD diagram, heatmaps, profiles.

Every function takes already aggregated data (a few hundred numbers), so figure
cost does not grow with the study; the per-task heatmap shows a sample of at
most ``max_tasks`` tasks. Figures are built with the object-oriented
``matplotlib.figure.Figure`` API (no pyplot state, no GUI backend needed).
Colors come from :func:`palette`, keyed by sorted optimizer id, so an optimizer
has the same color in every figure of a report.

Example:
    >>> fig = cd_diagram(pd.Series({"a": 1.2, "b": 2.1, "c": 2.7}), cd=0.9)
    >>> len(fig.axes)
    1
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure

Color = tuple[float, float, float]

#: Up to this many optimizers :func:`palette` uses a categorical palette (tab10) and
#: :func:`line_styles` solid lines; above it the colors come closer together and dashes help.
CATEGORICAL_MAX = 10

#: Up to this many entries a legend sits inside the axes. More (a report with the baseline archive
#: has 30-odd optimizers) would cover the curves, or squeeze the axes to nothing under the
#: constrained layout, so they go beside the plot, which widens the figure.
LEGEND_INSIDE_MAX = 12
_LEGEND_ROW_INCHES = 0.19  # one entry at font size 8, with matplotlib's default spacing
_LEGEND_CHAR_INCHES = 0.07  # one character of a label at font size 8
_LEGEND_HANDLE_INCHES = 0.75  # the line sample, its padding and the gap between columns


def palette(optimizers: Iterable[str]) -> dict[str, Color]:
    """Stable colors: the i-th optimizer in sorted order gets the i-th palette color.

    Example:
        >>> p = palette(["b", "a"])
        >>> p["a"] == palette(["a", "z", "b"])["a"]
        True
    """
    names = sorted(set(map(str, optimizers)))
    base = "tab10" if len(names) <= CATEGORICAL_MAX else "tab20" if len(names) <= 20 else "husl"
    colors = sns.color_palette(base, max(len(names), 1))
    return {n: tuple(colors[i]) for i, n in enumerate(names)}


def _colors(names: Sequence[str], pal: Mapping[str, Color] | None) -> Mapping[str, Color]:
    return pal if pal is not None else palette(names)


#: Dash patterns cycled over optimizers in :func:`palette`'s order when there are more than ten:
#: the continuous palette it then uses gives neighbours nearly the same hue, and the dashes tell
#: them apart.
DASHES = ("-", "--", ":", "-.")


def line_styles(names: Iterable[str], pal: Mapping[str, Color] | None = None) -> dict[str, str]:
    """A line style per optimizer, consistent across a report's figures (keyed like ``pal``).

    Up to ten optimizers (the categorical palettes): solid lines. More: :data:`DASHES` in turn, in
    the sorted order :func:`palette` colors them by.

    Example:
        >>> line_styles(["a", "b"])
        {'a': '-', 'b': '-'}
        >>> [line_styles([f"o{i:02d}" for i in range(12)])[n] for n in ("o00", "o01", "o02", "o05")]
        ['-', '--', ':', '--']
    """
    order = sorted(set(map(str, pal if pal is not None else names)) | set(map(str, names)))
    if len(order) <= CATEGORICAL_MAX:
        return dict.fromkeys(order, "-")
    return {n: DASHES[i % len(DASHES)] for i, n in enumerate(order)}


#: Where a legend inside the axes may go.
InsideLoc = Literal["best", "upper left", "upper right", "lower left", "lower right"]


def add_legend(
    fig: Figure, axes: Axes | Sequence[Axes], loc: InsideLoc = "best", inside_columns: int | None = None
) -> None:
    """The legend of the labelled lines of ``axes`` (a figure built with ``layout="constrained"``).

    Up to :data:`LEGEND_INSIDE_MAX` distinct labels: one legend inside each of ``axes`` at
    ``loc`` (``inside_columns`` columns; by default two above 6 entries). More: one legend for the
    whole figure, beside the plot on the right, in as many columns as the figure's height needs,
    and the figure is widened by the legend's width, so the plot keeps its size.

    Example:
        >>> fig = Figure(figsize=(7, 4.2), layout="constrained")
        >>> ax = fig.subplots()
        >>> for i in range(30):
        ...     _ = ax.plot([0, 1], [i, i], label=f"optimizer_{i}")
        >>> add_legend(fig, ax)
        >>> ax.get_legend() is None, len(fig.legends), bool(fig.get_size_inches()[0] > 7)
        (True, 1, True)
    """
    axs = [axes] if isinstance(axes, Axes) else list(axes)
    handles: list[Artist] = []
    labels: list[str] = []
    per_axes: list[int] = []  # labelled lines of each of axs
    for ax in axs:
        ax_handles, ax_labels = ax.get_legend_handles_labels()
        per_axes.append(len(ax_labels))
        for handle, label in zip(ax_handles, ax_labels, strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    if not labels:
        return
    if len(labels) <= LEGEND_INSIDE_MAX:
        for ax, n in zip(axs, per_axes, strict=True):
            if n:
                ncol = inside_columns if inside_columns is not None else 2 if n > 6 else 1
                ax.legend(fontsize=8, ncol=ncol, frameon=False, loc=loc)
        return
    width, height = fig.get_size_inches()
    rows = max(1, int((height - 0.4) / _LEGEND_ROW_INCHES))
    ncol = math.ceil(len(labels) / rows)
    column = _LEGEND_HANDLE_INCHES + _LEGEND_CHAR_INCHES * max(map(len, labels))
    fig.set_size_inches(width + ncol * column, height)
    fig.legend(handles, labels, loc="outside right upper", ncol=ncol, fontsize=8, frameon=False)


def curves_plot(
    agg: pd.DataFrame,
    ylabel: str,
    title: str = "",
    log_x: bool = True,
    log_y: bool = False,
    pal: Mapping[str, Color] | None = None,
    by: str = "optimizer",
) -> Figure:
    """Mean curve per optimizer with its CI band (output of :func:`analysis.leaderboard.anytime.aggregate`).

    Example:
        >>> agg = pd.DataFrame({"optimizer": ["a", "a"], "budget": [0.5, 1.0], "mean": [0.4, 0.2],
        ...                     "ci_low": [0.3, 0.1], "ci_high": [0.5, 0.3]})
        >>> curves_plot(agg, "normalized regret").axes[0].get_ylabel()
        'normalized regret'
    """
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    names = sorted(agg[by].astype(str).unique())
    colors = _colors(names, pal)
    dashes = line_styles(names, pal)
    for name in names:
        g = agg[agg[by].astype(str) == name]
        c = colors.get(name)
        ax.plot(g["budget"], g["mean"], label=name, color=c, ls=dashes[name], lw=1.8)
        if g["ci_low"].notna().any():
            ax.fill_between(g["budget"], g["ci_low"], g["ci_high"], color=c, alpha=0.18, lw=0)
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("budget (fraction of the task's largest budget)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    add_legend(fig, ax)
    return fig


def rank_plot(
    ranks: pd.DataFrame, title: str = "Mean rank over budget", pal: Mapping[str, Color] | None = None
) -> Figure:
    """Mean rank (1 = best) per optimizer over the budget grid.

    Example:
        >>> r = pd.DataFrame({"a": [1.5, 1.0], "b": [1.5, 2.0]}, index=[0.5, 1.0])
        >>> bool(rank_plot(r).axes[0].yaxis_inverted())
        True
    """
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    colors = _colors(list(ranks.columns), pal)
    dashes = line_styles(list(ranks.columns), pal)
    for name in ranks.columns:
        ax.plot(
            ranks.index,
            ranks[name],
            label=str(name),
            color=colors.get(str(name)),
            ls=dashes[str(name)],
            lw=1.8,
        )
    ax.set_xscale("log")
    ax.set_ylim(len(ranks.columns) + 0.3, 0.7)  # best (rank 1) at the top
    ax.set_xlabel("budget (fraction of the task's largest budget)")
    ax.set_ylabel("mean rank (1 = best)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    add_legend(fig, ax)
    return fig


def cd_diagram(
    mean_ranks: pd.Series,
    cd: float | None = None,
    cliques: Sequence[Sequence[str]] = (),
    title: str = "",
    pal: Mapping[str, Color] | None = None,
) -> Figure:
    """Critical-difference diagram (Demšar 2006): rank 1 (best) on the left.

    Optimizers joined by a thick bar are not significantly different; the
    ``CD`` bar shows the Nemenyi critical difference when given.

    Example:
        >>> fig = cd_diagram(pd.Series({"good": 1.0, "bad": 2.0}))
        >>> [t.get_text() for t in fig.axes[0].texts if "good" in t.get_text()]
        ['good (1.00)']
    """
    r = mean_ranks.sort_values()
    names = [str(n) for n in r.index]
    k = len(names)
    hi = max(k, 2)
    colors = _colors(names, pal)
    n_left = (k + 1) // 2
    rows = max(n_left, k - n_left)
    top = 0.9 if cd is not None and np.isfinite(cd) else 0.4
    bar_h = 0.22 * len(cliques)
    bottom = -(0.5 + bar_h + 0.35 * rows)
    fig = Figure(figsize=(8, 0.8 + 0.5 * (top - bottom)), layout="constrained")
    ax = fig.subplots()
    pad = 0.45 * (hi - 1) + 0.6
    ax.set_xlim(1 - pad, hi + pad)
    ax.set_ylim(bottom - 0.1, top + 0.1)
    ax.axis("off")
    ax.plot([1, hi], [0, 0], color="k", lw=1.2)
    for t in range(1, hi + 1):
        ax.plot([t, t], [0, 0.1], color="k", lw=1)
        ax.text(t, 0.15, str(t), ha="center", va="bottom", fontsize=9)
    if cd is not None and np.isfinite(cd):
        ax.plot([1, 1 + cd], [0.7, 0.7], color="k", lw=2)
        ax.text(1 + cd / 2, 0.75, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=9)
    for j, group in enumerate(cliques):
        lo_r = float(r[list(group)].min())
        hi_r = float(r[list(group)].max())
        y = -0.22 - 0.22 * j
        ax.plot([lo_r - 0.04, hi_r + 0.04], [y, y], color="0.25", lw=4, solid_capstyle="round")
    y0 = -(0.45 + bar_h)
    for i, (name, rank) in enumerate(zip(names, r.to_numpy(), strict=True)):
        left = i < n_left
        row = i if left else k - 1 - i
        y = y0 - 0.35 * row
        x_end = 1 - 0.25 if left else hi + 0.25
        c = colors.get(name, (0, 0, 0))
        ax.plot([rank, rank, x_end], [0, y, y], color=c, lw=1.3)
        ax.text(
            x_end - 0.05 if left else x_end + 0.05,
            y,
            f"{name} ({rank:.2f})",
            ha="right" if left else "left",
            va="center",
            fontsize=9,
            color="k",
        )
    ax.set_title(title or "Mean rank (1 = best)", fontsize=10)
    return fig


def heatmap(
    table: pd.DataFrame,
    title: str,
    cbar_label: str,
    max_rows: int = 40,
    fmt: str = ".2f",
    cmap: str = "viridis",
    annotate: bool | None = None,
) -> Figure:
    """Rows x optimizers heatmap; more than ``max_rows`` rows are subsampled evenly after sorting.

    Rows are sorted by their mean, so the sample spans easy to hard tasks.

    Example:
        >>> heatmap(pd.DataFrame({"a": [0.1, 0.5]}, index=["t1", "t2"]), "t", "regret").axes[0].get_title()
        't'
    """
    t = table.loc[table.mean(axis=1).sort_values().index]
    shown = len(t)
    if shown > max_rows:
        t = t.iloc[np.unique(np.linspace(0, shown - 1, max_rows).round().astype(int))]
        title = f"{title} ({len(t)} of {shown} rows, evenly sampled)"
    annotate = annotate if annotate is not None else t.size <= 200
    fig = Figure(figsize=(2.6 + 0.75 * t.shape[1], max(3.0, 1.6 + 0.26 * len(t))), layout="constrained")
    ax = fig.subplots()
    sns.heatmap(
        t,
        ax=ax,
        cmap=cmap,
        annot=annotate,
        fmt=fmt,
        annot_kws={"fontsize": 7},
        cbar_kws={"label": cbar_label},
    )
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(labelsize=8)
    ax.tick_params(axis="y", rotation=0)
    return fig


def profile_plot(
    profile: pd.DataFrame, xlabel: str, ylabel: str, title: str, pal: Mapping[str, Color] | None = None
) -> Figure:
    """Step plot of a performance/data profile or runtime ECDF (log x when it spans a decade or more).

    Example:
        >>> p = pd.DataFrame({"a": [0.2, 1.0]}, index=[1.0, 20.0])
        >>> profile_plot(p, "ratio", "fraction", "perf").axes[0].get_xscale()
        'log'
    """
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    colors = _colors([str(c) for c in profile.columns], pal)
    dashes = line_styles([str(c) for c in profile.columns], pal)
    for name in profile.columns:
        ax.step(
            profile.index,
            profile[name],
            where="post",
            label=str(name),
            color=colors.get(str(name)),
            ls=dashes[str(name)],
            lw=1.8,
        )
    x = np.asarray(profile.index, dtype=np.float64)
    x = x[np.isfinite(x) & (x > 0)]
    # A log axis over less than a decade shows crowded labels and no information gain.
    if len(x) and x.max() / x.min() >= 10:
        ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    add_legend(fig, ax)
    return fig
