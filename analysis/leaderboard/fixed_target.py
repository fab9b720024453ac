"""Fixed-target views: COCO's expected running time (ERT, also aRT) and runtime ECDFs over targets.

The fixed-target view asks how much budget an optimizer needs to reach a target value, instead
of how good a value it reaches within a budget (COCO: N. Hansen, A. Auger, D. Brockhoff,
D. Tušar, T. Tušar, "COCO: Performance Assessment", arXiv:1605.03560, 2016; and Hansen, Auger,
Brockhoff, Tušar, "Anytime Performance Assessment in Blackbox Optimization Benchmarking", IEEE
TEVC 26(6), 2022). Conventions:

* **Targets.** On a task with a known optimum (``optimum`` column, e.g. every ``bbob`` task) the
  targets are ``f_t = f_opt + Δf`` for ``Δf`` in :data:`COCO_DELTAS` (COCO's 51 values
  ``10^[2, 1.8, ..., -8]``; ``target_kind`` ``"delta_f"``). On a task without one they are
  values of normalized regret ``r`` in :data:`REGRET_TARGETS` (``target_kind`` ``"regret"``),
  against :func:`analysis.normalize.prepare`'s study-wide reference: ``f_t = lower + r (upper -
  lower)`` with ``lower`` the best cost any run of the study reached on the task and ``upper``
  the worst. Such targets move with the study (another optimizer can lower ``lower``), so these
  ERTs compare the optimizers of one study, not studies.
* **Direction.** Costs are minimized; a maximized objective and its optimum are negated first,
  as :mod:`analysis.normalize` does, so "reached" means ``value >= optimum - Δf`` for a maximized
  objective.
* **Runtime.** The budget on axis ``x`` (default ``"trials"``: the number of evaluations, COCO's
  count) at the first evaluation whose best-so-far cost reaches the target. On multi-fidelity
  tasks only evaluations at the highest fidelity can reach a target (as in normalize), while
  every evaluation's budget counts (``x="budget_used"`` counts it in full-fidelity equivalents).
* **ERT** of a (task, optimizer, target): the sum over its runs of the runtime of each
  successful run plus the whole budget of each unsuccessful one, divided by the number of
  successful runs; ``inf`` when none succeeds. Every run with trials counts, whatever its status:
  a run that crashed is an unsuccessful run with the budget it used, like a COCO run that stopped
  early. Multi-objective task types are left out by default: their first objective alone is not
  what the task asks for.

Example:
    >>> from analysis.synthetic import results_from_values as runs
    >>> df = runs([{"optimizer": "a", "seed": s, "values": v, "optimum": 0.0}
    ...            for s, v in enumerate([[5.0, 0.5], [3.0, 2.0, 2.0]])])
    >>> e = expected_running_time(df, deltas=[1.0])
    >>> e[["target", "ert", "n_success", "n_runs"]].to_numpy().tolist()  # (2 + 3) / 1
    [[1.0, 5.0, 1.0, 2.0]]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.leaderboard.plots import Color, add_legend, line_styles, palette
from analysis.leaderboard.profiles import COCO_TARGETS, task_dimension
from analysis.normalize import SINGLE_OBJECTIVE_TYPES, Prepared, as_prepared, check_axis

#: COCO's 51 standard Δf: 10^2 down to 10^-8 in steps of 10^0.2 (the same array as profiles').
COCO_DELTAS: np.ndarray = COCO_TARGETS
#: Normalized-regret targets for tasks without a known optimum: 10^-0.2 down to 10^-4 (20 values).
#: Regret 1 is the worst value seen, reached by every run at once, so it is no target.
REGRET_TARGETS: np.ndarray = 10.0 ** np.round(np.arange(-0.2, -4.0001, -0.2), 1)
#: Values of the ``target_kind`` column.
TARGET_KINDS: tuple[str, ...] = ("delta_f", "regret")
#: Columns of :func:`expected_running_time`'s frame.
ERT_COLUMNS: tuple[str, ...] = (
    "task",
    "task_type",
    "optimizer",
    "target_kind",
    "target",
    "f_target",
    "ert",
    "n_success",
    "n_runs",
    "runtime_sum",
)
_INSTANCE = re.compile(r"^(?P<problem>bbob[^/]*/f\d+/d\d+)/i\d+$")


@dataclass(frozen=True)
class _Block:
    """First-hitting times of the runs of one target kind.

    ``runs`` (one row per run, in :func:`~analysis.normalize.prepare`'s order, so the runs of a
    (task, optimizer) pair are contiguous): ``task``, ``task_type``, ``optimizer``, ``seed``,
    ``dim`` (from the task id, 1 when it has none), ``budget`` and ``first`` (the run's final
    budget on the axis and that of its first trial), ``lower`` and ``span`` (the cost scale of
    the targets). ``hit[i, j]``: budget at which run ``i`` first reached ``targets[j]``, ``inf`` if
    it never did.
    """

    kind: str
    targets: np.ndarray
    runs: pd.DataFrame
    hit: np.ndarray

    def pair_starts(self) -> np.ndarray:
        """Index of the first run of each (task, optimizer) pair in ``runs``, and ``len(runs)``."""
        t = self.runs["task"].to_numpy()
        o = self.runs["optimizer"].to_numpy()
        new = np.r_[True, (t[1:] != t[:-1]) | (o[1:] != o[:-1])] if len(t) else np.zeros(0, bool)
        return np.r_[np.flatnonzero(new), len(t)]


def _check_targets(targets: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(targets, dtype=np.float64)
    if arr.ndim != 1 or len(arr) == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be a non-empty 1-D sequence of finite values >= 0, got {targets!r}")
    return arr


def _hits(
    data: pd.DataFrame | Prepared,
    deltas: Sequence[float] | np.ndarray,
    regret_targets: Sequence[float] | np.ndarray,
    x: str,
    task_types: Sequence[str] | None,
) -> list[_Block]:
    """First-hitting times of every selected run, one block per target kind."""
    check_axis(x)
    targets = {
        "delta_f": _check_targets(deltas, "deltas"),
        "regret": _check_targets(regret_targets, "regret_targets"),
    }
    prep = as_prepared(data)
    tr, runs = prep.trials, prep.runs
    xv = tr[x].to_numpy(dtype=np.float64)
    if not np.isfinite(xv).any():
        raise ValueError(f"budget axis {x!r} is not recorded in these results; valid choices: 'trials'")
    if not np.isfinite(xv).all():
        # A runtime that is not a number would read as "never reached" and bias every ERT.
        missing = int((~np.isfinite(xv)).sum())
        raise ValueError(f"budget axis {x!r} is missing for {missing} trials; valid choices: 'trials'")
    run = tr["run"].to_numpy()
    starts = prep.starts
    # A run's best-so-far is defined from its first evaluation that can be an incumbent on: before
    # it (low fidelity only) the run has reached no target, whatever the placeholder values say.
    valid = np.isfinite(tr["regret"].to_numpy())
    seen_count = np.cumsum(valid)
    before_run = np.r_[0, seen_count][starts[:-1]]
    seen = (seen_count - before_run[run]) > 0
    task_names = runs["task"].astype(str).to_numpy()
    bounds = prep.bounds.reindex(task_names)
    has_opt = bounds["has_optimum"].to_numpy(dtype=bool)
    lower = bounds["lower"].to_numpy(dtype=np.float64)
    span = (bounds["upper"] - bounds["lower"]).to_numpy(dtype=np.float64)
    span = np.where(np.isfinite(span) & (span > 0), span, 1.0)  # as normalize does
    types = tuple(SINGLE_OBJECTIVE_TYPES) if task_types is None else tuple(task_types)
    keep = runs["task_type"].astype(str).isin(types).to_numpy()
    dims = {t: task_dimension(t) or 1 for t in np.unique(task_names)}
    budget = runs[f"final_{x}"].to_numpy(dtype=np.float64)
    first_budget = xv[starts[:-1]]
    blocks = []
    for kind in TARGET_KINDS:
        in_block = keep & (has_opt if kind == "delta_f" else ~has_opt)
        if not in_block.any():
            continue
        # Distance to the target scale, non-increasing within a run: the gap to f_opt (best cost
        # minus optimum), or the running best normalized regret.
        dist = tr["gap"].to_numpy() if kind == "delta_f" else tr["incumbent"].to_numpy()
        dist = np.where(seen, dist, np.nan)
        rows = np.flatnonzero(in_block[run])
        local = np.cumsum(in_block) - 1
        hit = _first_hits(
            dist[rows], run[rows], local[run[rows]], xv[rows], targets[kind], int(in_block.sum())
        )
        sel = np.flatnonzero(in_block)
        block_runs = pd.DataFrame(
            {
                "task": task_names[sel],
                "task_type": runs["task_type"].astype(str).to_numpy()[sel],
                "optimizer": runs["optimizer"].astype(str).to_numpy()[sel],
                "seed": runs["seed"].to_numpy()[sel],
                "dim": np.array([dims[t] for t in task_names[sel]], dtype=np.float64),
                "budget": budget[sel],
                "first": first_budget[sel],
                "lower": lower[sel],
                "span": span[sel],
            }
        )
        blocks.append(_Block(kind, targets[kind], block_runs, hit))
    return blocks


def _first_hits(
    dist: np.ndarray, run: np.ndarray, local: np.ndarray, xv: np.ndarray, targets: np.ndarray, n_runs: int
) -> np.ndarray:
    """``(n_runs, len(targets))`` budget at which each run's ``dist`` first was ``<= target``.

    ``dist`` is non-increasing within a run (NaN before it is defined), so the number of targets
    reached, ``level``, only grows: each row where it grows reaches the targets between the old
    and the new level, and the work is one pass over the rows plus one entry per (run, target).
    """
    order = np.argsort(targets, kind="stable")
    asc = targets[order]
    n_t = len(asc)
    level = np.where(np.isfinite(dist), n_t - np.searchsorted(asc, dist, side="left"), 0)
    first_row = np.r_[True, run[1:] != run[:-1]] if len(run) else np.zeros(0, bool)
    prev = np.where(first_row, 0, np.r_[0, level[:-1]])
    gain = np.maximum(level - prev, 0)
    ev = np.flatnonzero(gain > 0)
    g = gain[ev]
    offset = np.arange(int(g.sum())) - np.repeat(np.cumsum(g) - g, g)
    # Targets newly reached at a row, by ascending index: n_t - prev - 1 down to n_t - level.
    asc_idx = np.repeat(n_t - prev[ev] - 1, g) - offset
    hit_asc = np.full((n_runs, n_t), np.inf)
    hit_asc[np.repeat(local[ev], g), asc_idx] = np.repeat(xv[ev], g)
    hit = np.empty_like(hit_asc)
    hit[:, order] = hit_asc
    return hit


def _directions(data: pd.DataFrame | Prepared) -> dict[str, float] | None:
    """Task -> +1 (minimized) or -1 (maximized), from a frame's ``minimize`` column; None for a bundle."""
    if isinstance(data, Prepared) or "minimize" not in data.columns:
        return None
    first = data.drop_duplicates("task")
    minimize = first["minimize"].fillna(True).astype(bool).to_numpy()
    return dict(zip(first["task"].astype(str), np.where(minimize, 1.0, -1.0), strict=True))


def expected_running_time(
    data: pd.DataFrame | Prepared,
    deltas: Sequence[float] | np.ndarray = COCO_DELTAS,
    regret_targets: Sequence[float] | np.ndarray = REGRET_TARGETS,
    x: str = "trials",
    task_types: Sequence[str] | None = None,
) -> pd.DataFrame:
    """COCO's expected running time per (task, optimizer, target); see the module docstring.

    Args:
        data: results frame or :class:`~analysis.normalize.Prepared` bundle.
        deltas: Δf targets of tasks with a known optimum (default COCO's 51).
        regret_targets: normalized-regret targets of tasks without one.
        x: budget axis the runtimes are counted on (``trials``: evaluations).
        task_types: task types to include (default: the single-objective ones).

    Returns:
        One row per (task, optimizer, target), columns :data:`ERT_COLUMNS`: ``target_kind``
        (``delta_f`` or ``regret``), ``target`` (the Δf or the regret), ``f_target`` (the target
        value of the objective in its own direction: reach ``<=`` it when minimized, ``>=`` when
        maximized; NaN when given a ``Prepared`` bundle, which does not keep directions), ``ert``
        (``inf`` when no run succeeded), ``n_success``, ``n_runs`` and ``runtime_sum`` (the
        numerator of the ERT, so pooled ERTs can be summed: :func:`pool_instances`).

    Example:
        >>> from analysis.synthetic import results_from_values as runs
        >>> df = runs([{"optimizer": "a", "values": [2.0, 9.5], "optimum": 10.0, "minimize": False}])
        >>> expected_running_time(df, deltas=[5.0, 1.0, 0.1])[["f_target", "ert"]].to_numpy().tolist()
        [[5.0, 2.0], [9.0, 2.0], [9.9, inf]]
    """
    blocks = _hits(data, deltas, regret_targets, x, task_types)
    signs = _directions(data)
    frames = []
    for b in blocks:
        starts = b.pair_starts()
        first = starts[:-1]
        success = np.isfinite(b.hit)
        spent = np.where(success, b.hit, b.runs["budget"].to_numpy()[:, None])
        total = np.add.reduceat(spent, first, axis=0)
        n_success = np.add.reduceat(success.astype(np.float64), first, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ert = np.where(n_success > 0, total / np.maximum(n_success, 1), np.inf)
        n_pairs, n_t = ert.shape
        pairs = b.runs.iloc[first]
        lower = pairs["lower"].to_numpy()[:, None]
        scale = 1.0 if b.kind == "delta_f" else pairs["span"].to_numpy()[:, None]
        cost_target = lower + b.targets[None, :] * scale
        sign = (
            np.array([signs.get(t, np.nan) for t in pairs["task"]])[:, None]
            if signs is not None
            else np.full((n_pairs, 1), np.nan)
        )

        def rep(col: str, pairs: pd.DataFrame = pairs, n_t: int = n_t) -> np.ndarray:
            return np.repeat(pairs[col].to_numpy(), n_t)

        frames.append(
            pd.DataFrame(
                {
                    "task": rep("task"),
                    "task_type": rep("task_type"),
                    "optimizer": rep("optimizer"),
                    "target_kind": b.kind,
                    "target": np.tile(b.targets, n_pairs),
                    "f_target": (sign * cost_target).ravel(),
                    "ert": ert.ravel(),
                    "n_success": n_success.ravel().astype(np.int64),
                    "n_runs": np.repeat(np.diff(starts), n_t).astype(np.int64),
                    "runtime_sum": total.ravel(),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=list(ERT_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(ERT_COLUMNS)]


def pool_instances(ert: pd.DataFrame) -> pd.DataFrame:
    """Pool the ERTs of the instances of a COCO problem, as COCO does: the runs on ``bbob/f01/d05/i01``,
    ``.../i02``, ... are runs on one problem ``bbob/f01/d05``.

    Pooled ``ert = Σ runtime_sum / Σ n_success`` (over the instances). Only Δf targets can be
    pooled (the same Δf means the same difficulty on every instance); other rows pass unchanged.
    ``f_target`` differs between instances and is dropped.

    Example:
        >>> e = pd.DataFrame({"task": ["bbob/f01/d02/i01", "bbob/f01/d02/i02"], "task_type": "bb",
        ...                   "optimizer": "a", "target_kind": "delta_f", "target": 1.0,
        ...                   "f_target": [80.0, 395.0], "ert": [3.0, np.inf], "n_success": [1.0, 0.0],
        ...                   "n_runs": [1.0, 1.0], "runtime_sum": [3.0, 10.0]})
        >>> pool_instances(e)[["task", "ert", "n_success", "n_runs"]].to_numpy().tolist()
        [['bbob/f01/d02', 13.0, 1.0, 2.0]]
    """
    problem = ert["task"].astype(str).str.replace(_INSTANCE, r"\g<problem>", regex=True)
    pooled = (ert["target_kind"] == "delta_f").to_numpy() & (problem != ert["task"].astype(str)).to_numpy()
    rest = ert.loc[~pooled].drop(columns="f_target")
    grouped = (
        ert.loc[pooled]
        .assign(task=problem[pooled])
        .groupby(["task", "task_type", "optimizer", "target_kind", "target"], sort=True, observed=True)[
            ["n_success", "n_runs", "runtime_sum"]
        ]
        .sum()
        .reset_index()
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        grouped["ert"] = np.where(
            grouped["n_success"] > 0, grouped["runtime_sum"] / grouped["n_success"], np.inf
        )
    cols = [c for c in ERT_COLUMNS if c != "f_target"]
    return pd.concat([grouped[cols], rest[cols]], ignore_index=True)


def _simulated_runtimes(
    hit: np.ndarray, budget: np.ndarray, starts: np.ndarray, n_samples: int, rng: np.random.Generator
) -> np.ndarray:
    """``(n_pairs, n_targets, n_samples)`` runtimes with simulated restarts (COCO, cocopp).

    One sample of a (task, optimizer) pair and a target: draw a run of the pair uniformly; while
    the drawn run did not reach the target, add its whole budget and draw again (with
    replacement); then add the drawn successful run's runtime. ``inf`` where no run succeeds.
    """
    sizes = np.diff(starts)
    n_pairs, n_t = len(sizes), hit.shape[1]
    out = np.full((n_pairs, n_t, n_samples), np.inf)
    any_success = np.logical_or.reduceat(np.isfinite(hit), starts[:-1], axis=0)
    pi, tj = np.nonzero(any_success)
    pair = np.repeat(pi, n_samples)
    target = np.repeat(tj, n_samples)
    sample = np.tile(np.arange(n_samples), len(pi))
    total = np.zeros(len(pair))
    active = np.arange(len(pair))
    # Each pass resolves every sample whose draw succeeds; a pair with success rate p keeps a
    # (1 - p) share active, so the passes end quickly (the slowest pair sets their number).
    while len(active):
        p = pair[active]
        r = starts[p] + np.minimum((rng.random(len(active)) * sizes[p]).astype(np.int64), sizes[p] - 1)
        h = hit[r, target[active]]
        ok = np.isfinite(h)
        total[active] += np.where(ok, h, budget[r])
        active = active[~ok]
    out[pair, target, sample] = total
    return out


def runtime_ecdf(
    data: pd.DataFrame | Prepared,
    deltas: Sequence[float] | np.ndarray = COCO_DELTAS,
    regret_targets: Sequence[float] | np.ndarray = REGRET_TARGETS,
    x: str = "trials",
    per_dimension: bool = True,
    budgets: Sequence[float] | np.ndarray | None = None,
    n_points: int = 80,
    task_types: Sequence[str] | None = None,
    n_samples: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """COCO-style runtime ECDF per task type: the fraction of (task, target) pairs reached within a budget.

    For each task type and optimizer, the value at budget ``b`` (evaluations divided by the
    task's dimension when ``per_dimension`` and the task id carries one, as in COCO) is the mean
    over the type's tasks of the mean over the task's targets of the share of runtimes ``<= b``.
    Each task weighs the same whatever its number of targets (Δf or regret targets); a task of
    the type that the optimizer has no run on counts as never reached, and an optimizer with no
    run on any task of a type is left out of that type (not drawn at 0).

    Runtimes are, by default (``n_samples=0``), the plain first-hitting times of the runs: exact,
    free of resampling noise, and what a study of one budget for every optimizer asks about.
    With ``n_samples > 0``, each (task, optimizer, target) gets that many runtimes with COCO's
    simulated restarts (cocopp's bootstrap: an unsuccessful run's budget is added to the runtime
    of another run drawn at random until a successful one is drawn; seeded by ``seed``). Below
    the shortest run's budget both have the same expectation; beyond it the restarts credit
    budgets no run used, which COCO needs to compare algorithms run with different budgets but
    which hides noise in the usual case here, so they are opt-in.

    Returns:
        Long frame with columns ``task_type``, ``optimizer``, ``budget``, ``fraction``
        (non-decreasing in ``budget``, in ``[0, 1]``); a shared budget grid per task type,
        log-spaced from the first evaluation to the largest run budget unless ``budgets`` is given.

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> e = runtime_ecdf(synthetic_results(n_tasks=4, n_optimizers=2, n_seeds=2, n_trials=30))
        >>> g = e[e["optimizer"] == "opt1"]
        >>> bool(g["fraction"].is_monotonic_increasing), float(g["fraction"].max()) <= 1.0
        (True, True)
    """
    if n_samples < 0:
        raise ValueError(f"n_samples must be >= 0, got {n_samples}")
    blocks = _hits(data, deltas, regret_targets, x, task_types)
    rng = np.random.default_rng(seed)
    if not blocks:
        return pd.DataFrame(
            {
                "task_type": pd.Series(dtype=object),
                "optimizer": pd.Series(dtype=object),
                "budget": pd.Series(dtype=float),
                "fraction": pd.Series(dtype=float),
            }
        )
    all_runs = pd.concat([b.runs for b in blocks], ignore_index=True)
    # One integer code per (task type, optimizer): the events of all curves are sorted once.
    curve, curves = pd.MultiIndex.from_frame(all_runs[["task_type", "optimizer"]]).factorize(sort=True)
    n_tasks = all_runs.groupby("task_type")["task"].nunique()
    per_dim = all_runs["dim"].to_numpy() if per_dimension else np.ones(len(all_runs))
    # Events: (curve, runtime, weight); the weights of one task add up to 1 over its targets and runs.
    codes, times, weights = [], [], []
    offset = 0
    for b in blocks:
        n_runs, n_t = b.hit.shape
        starts = b.pair_starts()
        first, sizes = starts[:-1], np.diff(starts)
        run_curve = curve[offset : offset + n_runs]
        dim = per_dim[offset : offset + n_runs]
        tasks_of_type = n_tasks.reindex(b.runs["task_type"]).to_numpy()
        offset += n_runs
        if n_samples == 0:
            t = b.hit / dim[:, None]
            w = 1.0 / (tasks_of_type * n_t * np.repeat(sizes, sizes))
            c = run_curve
        else:
            t = _simulated_runtimes(b.hit, b.runs["budget"].to_numpy(), starts, n_samples, rng)
            t = t.reshape(len(first), -1) / dim[first][:, None]
            w = 1.0 / (tasks_of_type[first] * n_t * n_samples)
            c = run_curve[first]
        ok = np.isfinite(t)
        codes.append(np.broadcast_to(c[:, None], t.shape)[ok])
        times.append(t[ok])
        weights.append(np.broadcast_to(w[:, None], t.shape)[ok])
    code, time, weight = np.concatenate(codes), np.concatenate(times), np.concatenate(weights)
    order = np.lexsort((time, code))
    code, time, weight = code[order], time[order], weight[order]
    bounds = np.searchsorted(code, np.arange(len(curves) + 1))
    last = all_runs["budget"].to_numpy() / per_dim
    first_x = all_runs["first"].to_numpy() / per_dim
    types = all_runs["task_type"].to_numpy()
    out = []
    grids: dict[str, np.ndarray] = {}
    for i, (ttype, optimizer) in enumerate(curves):
        if ttype not in grids:
            grids[ttype] = _budget_grid(last[types == ttype], first_x[types == ttype], budgets, n_points, x)
        grid = grids[ttype]
        sl = slice(bounds[i], bounds[i + 1])
        cum = np.r_[0.0, np.cumsum(weight[sl])]
        reached = cum[np.searchsorted(time[sl], grid, side="right")]
        # The weights of a task add up to 1 only up to round-off: a complete ECDF must read 1
        # exactly (not 0.9999999999999987, nor more than 1).
        frac = np.minimum(np.round(reached, 12), 1.0)
        out.append(
            pd.DataFrame({"task_type": ttype, "optimizer": optimizer, "budget": grid, "fraction": frac})
        )
    return pd.concat(out, ignore_index=True)


def _budget_grid(
    last: np.ndarray, first: np.ndarray, budgets: Sequence[float] | np.ndarray | None, n_points: int, x: str
) -> np.ndarray:
    """The given budgets, checked, or a log grid from the smallest first budget to the largest run budget."""
    if budgets is not None:
        grid = np.asarray(budgets, dtype=np.float64)
        if grid.ndim != 1 or len(grid) == 0 or np.any(np.diff(grid) <= 0):
            raise ValueError(f"budgets must be a non-empty increasing 1-D array, got {budgets!r}")
        return grid
    hi = float(np.nanmax(last))
    if not (np.isfinite(hi) and hi > 0):
        raise ValueError(f"budget axis {x!r} has no positive budget; valid choices: 'trials'")
    # A budget axis can start at 0 (the simulated time of free evaluations): the log grid then
    # starts at the smallest positive first budget, or three decades below the largest budget.
    pos = first[np.isfinite(first) & (first > 0)]
    lo = float(pos.min()) if len(pos) else hi * 1e-3
    return np.geomspace(lo, max(hi, lo * 1.01), max(n_points, 2))


def plot_runtime_ecdf(
    ecdf: pd.DataFrame,
    title: str = "Runtime ECDF over targets",
    xlabel: str = "evaluations / dimension",
    pal: Mapping[str, Color] | None = None,
) -> Figure:
    """Step plot of :func:`runtime_ecdf`: one panel per task type, one line per optimizer that has runs there.

    Built on ``matplotlib.figure.Figure`` (no pyplot state), so it works under any backend.

    Example:
        >>> e = pd.DataFrame({"task_type": "bb", "optimizer": ["a", "a"], "budget": [1.0, 100.0],
        ...                   "fraction": [0.2, 0.9]})
        >>> fig = plot_runtime_ecdf(e)
        >>> fig.axes[0].get_xscale(), fig.axes[0].get_title()
        ('log', 'bb')
    """
    types = sorted(ecdf["task_type"].astype(str).unique()) or ["(no runs)"]
    fig = Figure(figsize=(6.2 * len(types), 4.2), layout="constrained")
    axes = fig.subplots(1, len(types), squeeze=False)[0]
    colors = pal if pal is not None else palette(ecdf["optimizer"].astype(str).unique())
    dashes = line_styles(ecdf["optimizer"].astype(str).unique(), pal)
    for ax, ttype in zip(axes, types, strict=True):
        sub = ecdf[ecdf["task_type"].astype(str) == ttype]
        for name, g in sub.groupby(sub["optimizer"].astype(str), sort=True):
            ax.step(
                g["budget"],
                g["fraction"],
                where="post",
                label=str(name),
                color=colors.get(str(name)),
                ls=dashes[str(name)],
                lw=1.8,
            )
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("fraction of (task, target) pairs reached")
        ax.set_title(ttype)
        ax.grid(alpha=0.3)
    add_legend(fig, axes, loc="upper left", inside_columns=1)
    fig.suptitle(title)
    return fig
