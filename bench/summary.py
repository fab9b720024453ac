"""What ``python -m bench`` prints around a sweep: the plan's header line, and what one run found.

:func:`plan_header` and :func:`refusal_lines` come before the sweep. The summary of one run
(``python -m bench optimizer=X task=Y``) is :func:`run_lines`: status, best value found, the
configuration that found it, and where its trials are. The end-of-sweep summary, whose
leaderboards need the analysis, is :func:`analysis.leaderboard.sweep_summary.summarize`; it uses
:func:`run_lines` for single runs and seeds.

Example:
    >>> from bench.spec import RunSpec
    >>> from optimizers.base import Budget

if TYPE_CHECKING:
    from bench.parallel import SweepResult
    >>> spec = RunSpec(study="demo", task="synthetic/branin", optimizer="random_search",
    ...                optimizer_target="optimizers.random_search.RandomSearch",
    ...                optimizer_params={}, seed=0, budget=Budget(20))
    >>> plan_header("demo", Plan([spec], tasks=["synthetic/branin"]), n_optimizers=1, n_seeds=1,
    ...             budget=spec.budget)
    "study 'demo': 1 optimizer × 1 task × 1 seed = 1 pair, 1 run, budget 20 full-fidelity trials"
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from bench.integrity import CorruptResultError
from bench.loop import RunOutcome
from bench.plan import Plan
from bench.results import UnknownObjectivesError, decode_objectives, read_run_meta, read_run_table
from optimizers.base import Budget

if TYPE_CHECKING:
    from bench.parallel import SweepResult

#: A trial counts as full fidelity within this relative tolerance of the top (as analysis.normalize).
_FIDELITY_RTOL = 1e-9


def plural(n: float, word: str) -> str:
    """``n`` and ``word``, with an ``s`` unless ``n`` is 1.

    Example:
        >>> plural(1, "seed"), plural(3, "seed"), plural(0.5, "full-fidelity trial")
        ('1 seed', '3 seeds', '0.5 full-fidelity trials')
    """
    # not :g for whole numbers: it writes 1234567 as 1.23457e+06
    count = f"{n:g}" if isinstance(n, float) and not n.is_integer() else str(int(n))
    return f"{count} {word}" + ("" if n == 1 else "s")


def plan_header(name: str, plan: Plan, n_optimizers: int, n_seeds: int, budget: Budget) -> str:
    """The line printed before a sweep: what the grid is, what was refused, what will run.

    Pairs are optimizers × tasks × seeds (tasks: ``plan.tasks``, the expanded task list);
    ``refused`` counts the refused (task, optimizer) pairs once per seed; runs are
    ``len(plan.specs)``. When pairs − refused is not the number of runs (a plan built by hand
    with repeated specs, say), the line says so instead of printing arithmetic that does not add up.

    Example:
        >>> from bench.plan import Refusal
        >>> from bench.spec import RunSpec
        >>> specs = [RunSpec(study="s", task="synthetic/zdt1", optimizer="random_search",
        ...                  optimizer_target="optimizers.random_search.RandomSearch",
        ...                  optimizer_params={}, seed=seed, budget=Budget(50)) for seed in (0, 1)]
        >>> plan = Plan(specs, [Refusal("synthetic/zdt1", "optuna_tpe", "single-objective")],
        ...             tasks=["synthetic/zdt1"])
        >>> header = plan_header("s", plan, n_optimizers=2, n_seeds=2, budget=Budget(50, time=600))
        >>> print(header.replace(", budget", "\\nbudget"))
        study 's': 2 optimizers × 1 task × 2 seeds = 4 pairs, 2 refused, 2 runs
        budget 50 full-fidelity trials, 600 s simulated
    """
    n_tasks = len(plan.tasks)
    pairs = n_optimizers * n_tasks * n_seeds
    refused = len(plan.refused) * n_seeds
    runs = len(plan.specs)
    parts = [plural(pairs, "pair")]
    if refused:
        parts.append(f"{refused} refused")
    parts.append(plural(runs, "run"))
    if pairs - refused != runs:
        distinct = len({s.run_id for s in plan.specs})
        parts[-1] += (
            f" (not {pairs - refused} as pairs − refused would give; {plural(distinct, 'distinct run')})"
        )
    grid = f"{plural(n_optimizers, 'optimizer')} × {plural(n_tasks, 'task')} × {plural(n_seeds, 'seed')}"
    line = (
        f"study {name!r}: {grid} = {', '.join(parts)}, "
        f"budget {plural(budget.n_trials, 'full-fidelity trial')}"
    )
    if budget.time:
        line += f", {budget.time:g} s simulated"
    return line


def refusal_lines(plan: Plan) -> list[str]:
    """Refused pairs grouped by optimizer and reason, so a big study prints a few lines."""
    groups: dict[tuple[str, str], list[str]] = {}
    for r in plan.refused:
        groups.setdefault((r.optimizer, r.reason), []).append(r.task)
    out = []
    for (opt, reason), tasks in groups.items():
        shown = ", ".join(tasks[:3]) + (f", … ({len(tasks)} tasks)" if len(tasks) > 3 else "")
        out.append(f"  refused: {opt} on {shown}: {reason}")
    return out


def run_lines(path: Path, outcome: RunOutcome | None = None) -> list[str]:
    """One run, read from its file: status, best value found, its configuration, where the trials are.

    Which trials count: on a task with a fidelity, only trials at the task's full fidelity (its
    ``high``; when the run never reached it, its highest fidelity evaluated, and the line says
    so), as the analysis does (analysis.normalize: a low-fidelity score is not a score of the
    final model). Single objective: the best value (in the objective's own direction) and the
    first trial that reached it. Multi-objective: the number of Pareto-optimal trials, each
    objective's best value, and the configuration of the *balanced* trial: the Pareto-optimal
    trial nearest the ideal point once each objective is scaled to [0, 1] over the front.
    A run that failed shows its error first; its trials so far are summarized as well.

    Example:
        >>> import tempfile
        >>> from bench.loop import run_one, run_path
        >>> from bench.spec import RunSpec
        >>> spec = RunSpec(study="doc", task="synthetic/branin", optimizer="random_search",
        ...                optimizer_target="optimizers.random_search.RandomSearch",
        ...                optimizer_params={}, seed=0, budget=Budget(5))
        >>> out = Path(tempfile.mkdtemp())
        >>> print("\\n".join(run_lines(Path(run_one(spec, out).path))[:3]))  # doctest: +ELLIPSIS
        run synthetic/branin × random_search, seed 0: ok, 5 trials in ... s
        best f = 18.829624125032723 (minimized), at trial 0 of 5
        configuration of trial ...:
    """
    what = f"run {outcome.task} × {outcome.optimizer}, seed {outcome.seed}" if outcome else f"run {path.stem}"
    try:
        meta = read_run_meta(path)
        table = read_run_table(path, _SUMMARY_COLUMNS)
    except (OSError, CorruptResultError, UnknownObjectivesError) as exc:
        return [
            f"{what}: {outcome.status if outcome else 'unknown status'}",
            f"its run file {path} cannot be read: {exc}",
        ]
    spec = meta.get("spec") or {}
    if not outcome:
        what = f"run {spec.get('task')} × {spec.get('optimizer')}, seed {spec.get('seed')}"
    status, n = str(meta.get("status")), int(meta.get("n_trials") or 0)
    seconds = float(meta.get("duration") or 0.0)
    took = f"in {seconds:.2f} s" if seconds < 1 else f"in {seconds:.1f} s"
    lines = [
        f"{what}: {status}, {plural(n, 'trial')} {took}"
        if status == "ok"
        else f"{what}: {status} after {plural(n, 'trial')} {took}"
    ]
    if meta.get("error"):
        lines.append(f"error: {str(meta['error']).splitlines()[0]}")
        lines.append(f"  (traceback: bench.results.read_run_meta({str(path)!r})['error'])")
    if meta.get("stopped_early"):
        lines.append(f"stopped before its budget: {meta['stopped_early']}")
    if table.num_rows:
        first = str(table.column("objectives")[0].as_py())
        objectives = [{"name": o.name, "minimize": o.minimize} for o in decode_objectives(first)]
        lines += _best_lines(_Trials.of(table), objectives, meta.get("fidelity"), so_far=status != "ok")
    lines.append(f"trials: {path}")
    lines.append(f"  load with: analysis.load({str(path)!r})")
    return lines


#: What a run's summary reads of its trials.
_SUMMARY_COLUMNS = ("trial", "fidelity", "values", "config", "objectives")


@dataclass(frozen=True)
class _Trials:
    """The columns of one run's trials that the summary needs, sorted by trial (no pandas: a
    single run's start-up would double with its import)."""

    trial: np.ndarray
    fidelity: np.ndarray
    values: list[list[float]]
    config: list[str]

    @classmethod
    def of(cls, table: pa.Table) -> _Trials:
        # to_pylist, not to_numpy: pyarrow's to_numpy imports pandas on its first call
        trial = np.array(table.column("trial").to_pylist(), dtype=np.int64)
        order = np.argsort(trial, kind="stable")
        fidelity = np.array(table.column("fidelity").to_pylist(), dtype=np.float64)  # null: nan
        values, config = table.column("values").to_pylist(), table.column("config").to_pylist()
        return cls(trial[order], fidelity[order], [values[i] for i in order], [config[i] for i in order])

    def __len__(self) -> int:
        return len(self.trial)

    def where(self, keep: np.ndarray) -> _Trials:
        rows = np.flatnonzero(keep)
        return _Trials(
            self.trial[rows],
            self.fidelity[rows],
            [self.values[i] for i in rows],
            [self.config[i] for i in rows],
        )


def _counted(df: _Trials, fidelity: Mapping[str, Any] | None) -> tuple[_Trials, str]:
    """The trials that may be the best (full fidelity only), and a note saying which they are."""
    fid = df.fidelity
    if fidelity is None or not np.isfinite(fid).any():
        return df, ""
    name, high = fidelity.get("name", "fidelity"), float(fidelity["high"])
    top = high if (fid >= high * (1 - _FIDELITY_RTOL)).any() else float(np.nanmax(fid))
    at_top = df.where(fid >= top * (1 - _FIDELITY_RTOL))
    if top == high:
        return at_top, f"among its {plural(len(at_top), 'trial')} at full fidelity ({name} = {high:g})"
    return at_top, (
        f"among its {plural(len(at_top), 'trial')} at its highest fidelity "
        f"({name} = {top:g}; no trial reached full fidelity {high:g})"
    )


def _best_lines(
    df: _Trials,
    objectives: Sequence[Mapping[str, Any]],
    fidelity: Mapping[str, Any] | None,
    so_far: bool,
) -> list[str]:
    counted, note = _counted(df, fidelity)
    values = np.array(counted.values, dtype=np.float64).reshape(len(counted), -1)
    minimize = np.array([bool(o.get("minimize", True)) for o in objectives])[: values.shape[1]]
    names = [str(o.get("name", f"objective {i}")) for i, o in enumerate(objectives)]
    costs = np.where(minimize, values, -values)  # minimized, so one comparison serves both directions
    trials = counted.trial
    best = "best so far" if so_far else "best"
    lines = []
    if values.shape[1] == 1:
        i = int(np.argmin(costs[:, 0]))  # the first trial to reach the best value
        lines.append(
            f"{best} {names[0]} = {float(values[i, 0])!r} ({_direction(minimize[0])}), "
            f"at trial {trials[i]} of {len(df)}" + (f", {note}" if note else "")
        )
    else:
        front = pareto_front(costs)
        lines.append(f"Pareto-optimal trials: {len(front)} of {len(counted)}" + (f", {note}" if note else ""))
        for j, name in enumerate(names[: values.shape[1]]):
            k = int(np.argmin(costs[:, j]))
            lines.append(
                f"  {best} {name} = {float(values[k, j])!r} ({_direction(minimize[j])}), at trial {trials[k]}"
            )
        i = int(front[np.argmin(_distance_to_ideal(costs[front]))])
        shown = ", ".join(f"{n} = {float(v)!r}" for n, v in zip(names, values[i], strict=False))
        lines.append(
            f"balanced trial {trials[i]} (the Pareto-optimal trial nearest the ideal point, "
            f"each objective scaled to [0, 1] over the front): {shown}"
        )
    lines.append(f"configuration of trial {trials[i]}:")
    lines += [f"  {key} = {value!r}" for key, value in json.loads(counted.config[i]).items()]
    return lines


def _direction(minimize: bool) -> str:
    return "minimized" if minimize else "maximized"


def pareto_front(costs: np.ndarray) -> np.ndarray:
    """Row indices of the non-dominated rows of ``costs`` (every column minimized), ascending.

    A row is dominated by one that is no worse in every column and better in one; of identical
    rows the first is kept. One pass in lexicographic order: O(rows × front size).

    Example:
        >>> pareto_front(np.array([[1.0, 4.0], [2.0, 2.0], [3.0, 3.0], [1.0, 4.0], [4.0, 1.0]]))
        array([0, 1, 4])
    """
    order = np.lexsort(costs.T[::-1])  # by the first column, ties by the next ...
    front: list[int] = []
    for i in order:
        row = costs[i]
        # sorted lexicographically, a row can only be dominated (or repeated) by one before it
        if front and np.all(costs[front] <= row, axis=1).any():
            continue
        front.append(int(i))
    return np.array(sorted(front), dtype=np.int64)


def _distance_to_ideal(front: np.ndarray) -> np.ndarray:
    lo, hi = front.min(axis=0), front.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.sqrt((((front - lo) / span) ** 2).sum(axis=1))


def pair_summary(study_dir: Path, sweep: SweepResult, plan: Plan) -> str | None:
    """The summary of a sweep of one optimizer on one task, or ``None`` when there is more to rank.

    One run gets :func:`run_lines` (marked when it was done before); one pair with several seeds
    gets each seed's best. Neither needs the analysis (nor pandas), so a single ``python -m bench``
    run never imports them; a sweep to rank gets
    :func:`analysis.leaderboard.sweep_summary.summarize`'s leaderboards.

    Example:
        >>> from bench.parallel import SweepResult
        >>> pair_summary(Path("x"), SweepResult(outcomes=[], skipped=0, elapsed=0.0), Plan([], tasks=[]))
        >>> # None: an empty plan has nothing of one pair to summarize
    """
    if not plan.specs or len({(s.optimizer, s.task) for s in plan.specs}) > 1:
        return None
    if len(plan.specs) == 1:
        spec = plan.specs[0]
        path = study_dir / "runs" / f"{spec.run_id}.parquet"
        outcome = next((o for o in sweep.outcomes if o.run_id == spec.run_id), None)
        lines = run_lines(path, outcome)
        if sweep.skipped:
            lines[0] += " (done before: resumed, not run again)"
        return "\n".join(lines)
    return _seeds_summary(study_dir, sweep, plan)  # nothing to rank: one pair, several seeds


def _seeds_summary(study_dir: Path, sweep: SweepResult, plan: Plan) -> str:
    """One optimizer on one task with several seeds: each run's best value, one line per seed."""
    spec = plan.specs[0]
    lines = [
        f"runs: {len(plan.specs)} planned, {len(sweep.outcomes)} ran this time "
        f"({len(sweep.failed)} failed), {sweep.skipped} already done; {sweep.elapsed:.1f} s",
        f"{spec.optimizer} on {spec.task}, best per seed:",
    ]
    for s in plan.specs[:20]:
        run = run_lines(study_dir / "runs" / f"{s.run_id}.parquet")
        best = next((ln for ln in run[1:] if ln.startswith(("best", "Pareto", "error"))), run[0])
        lines.append(f"  seed {s.seed}: {best}")
    if len(plan.specs) > 20:
        lines.append(f"  … and {len(plan.specs) - 20} more seeds")
    lines.append("")
    lines.append(f"results: {study_dir}  (load with: analysis.load({str(study_dir)!r}))")
    lines.append(f"report:  python -m analysis report {study_dir}")
    return "\n".join(lines)
