"""The summary ``python -m bench`` prints at the end of a sweep: one leaderboard per task type.

A study of several runs gets one leaderboard per task type (mean rank over tasks of the final
normalized regret, or of the hypervolume regret on multi-objective types; see
:func:`analysis.leaderboard.stats.final_ranks`); one optimizer on one task with several seeds gets each
seed's best; a single run gets :func:`bench.summary.run_lines`. The leaderboards need the
analysis, so this lives here and the runner's entry point (``bench/__main__.py``) calls it: the
runner itself never imports the analysis.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from bench.config import BackendConfig
    >>> from bench.parallel import run_all
    >>> from bench.spec import RunSpec
    >>> from optimizers.base import Budget
    >>> specs = [RunSpec(study="doc", task=task, optimizer="random_search",
    ...                  optimizer_target="optimizers.random_search.RandomSearch",
    ...                  optimizer_params={}, seed=0, budget=Budget(6))
    ...          for task in ("synthetic/branin", "synthetic/hartmann3")]
    >>> out = Path(tempfile.mkdtemp())
    >>> sweep = run_all(specs, out, n_jobs=1, backend=BackendConfig(name="threading"), progress=False)
    >>> print(summarize(out / "doc", sweep, Plan(specs, tasks=[s.task for s in specs])))  # doctest: +ELLIPSIS
    runs: 2 planned, 2 ran this time (0 failed), 0 already done; ... s
    <BLANKLINE>
    leaderboard, black-box tasks (2 tasks, mean rank over tasks, lower is better):
                   mean_rank  n_tasks  mean_regret
    optimizer...
    random_search       1.00        2         0.29
    <BLANKLINE>
    results: .../doc  (load with: analysis.load('.../doc'))
    report:  python -m analysis report .../doc
"""

from __future__ import annotations

from pathlib import Path

from analysis.leaderboard import stats
from bench.parallel import SweepResult
from bench.plan import Plan
from bench.results import load_readable
from bench.summary import pair_summary, plural
from tasks.vocabulary import MULTI_OBJECTIVE_TYPES, TYPE_NAMES


def summarize(study_dir: Path, sweep: SweepResult, plan: Plan) -> str:
    """Human-readable summary of a finished sweep (the whole study, resumed runs included).

    A plan of exactly one run gets that run's summary (:func:`bench.summary.run_lines`) instead of a
    one-row leaderboard.

    Example:
        >>> import tempfile
        >>> from bench.parallel import run_all
        >>> from bench.spec import RunSpec
        >>> from optimizers.base import Budget
        >>> spec = RunSpec(study="doc", task="synthetic/zdt1", optimizer="random_search",
        ...                optimizer_target="optimizers.random_search.RandomSearch",
        ...                optimizer_params={}, seed=0, budget=Budget(10))
        >>> out = Path(tempfile.mkdtemp())
        >>> sweep = run_all([spec], out, progress=False, in_process=True)
        >>> print(summarize(out / "doc", sweep, Plan([spec], tasks=[spec.task])))  # doctest: +ELLIPSIS
        run synthetic/zdt1 × random_search, seed 0: ok, 10 trials in ... s
        Pareto-optimal trials: ... of 10
          best f1 = ... (minimized), at trial ...
          best f2 = ... (minimized), at trial ...
        balanced trial ... (the Pareto-optimal trial nearest the ideal point, ...): f1 = ..., f2 = ...
        configuration of trial ...:
          x0 = ...
        ...
        trials: .../doc/runs/synthetic__zdt1--random_search--s0.parquet
          load with: analysis.load('.../doc/runs/synthetic__zdt1--random_search--s0.parquet')
    """
    return pair_summary(study_dir, sweep, plan) or _leaderboard_summary(study_dir, sweep, plan)


def _leaderboard_summary(study_dir: Path, sweep: SweepResult, plan: Plan) -> str:
    lines = [
        f"runs: {len(plan.specs)} planned, {len(sweep.outcomes)} ran this time "
        f"({len(sweep.failed)} failed), {sweep.skipped} already done; {sweep.elapsed:.1f} s",
    ]
    if plan.refused:
        # in the header's unit too: refused runs are the refused (optimizer, task) pairs × seeds
        n_seeds = len({spec.seed for spec in plan.specs}) or 1
        per_seed = f" × {n_seeds} seeds = {len(plan.refused) * n_seeds} runs" if n_seeds > 1 else ""
        lines.append(
            f"refused (incompatible, not run): {plural(len(plan.refused), 'optimizer-task pair')}{per_seed}"
        )
    for o in sweep.failed[:10]:
        lines.append(f"  FAILED {o.run_id}: {o.error}")
    if len(sweep.failed) > 10:
        lines.append(f"  … and {len(sweep.failed) - 10} more failed runs")
    # Only this plan's files: runs/ may hold other runs of the study (a resumed part of it), and
    # one of them damaged must not cost the summary of a sweep that went well. A planned file that
    # cannot be read (damaged since it was written) is left out and named.
    df, skipped = load_readable([study_dir / "runs" / f"{s.run_id}.parquet" for s in plan.specs])
    if skipped:
        path, why = skipped[0]
        more = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
        lines.append(
            f"left out of the leaderboard, unreadable: {path}{more}: {why}; re-run the same command "
            "to redo it (a damaged file is moved aside to .corrupt, never deleted)"
        )
    # One leaderboard per task type: optimizers that cannot run a type must not be ranked on it.
    for ttype, part in df.groupby("task_type", observed=True, sort=True) if len(df) else ():
        lines.append("")
        kind = TYPE_NAMES.get(str(ttype), ttype)
        try:
            ranks = stats.final_ranks(part)  # each objective in the direction its run recorded
        except ImportError as exc:  # an optional analysis package (moocore for hypervolume) is missing
            lines.append(
                f"leaderboard, {kind} tasks: not computed, {exc.name or exc} is not installed "
                "(pip install 'nxm-bench[analysis]'); the results are written"
            )
            continue
        if str(ttype) in MULTI_OBJECTIVE_TYPES:
            # final_ranks calls both scores mean_regret; here it is the mean final hypervolume regret
            ranks = ranks.rename(columns={"mean_regret": "mean_hv_regret"})
        lines.append(
            f"leaderboard, {kind} tasks ({plural(part['task'].nunique(), 'task')}, "
            "mean rank over tasks, lower is better):"
        )
        lines.append(ranks.to_string(float_format=lambda v: f"{v:.2f}"))
    lines.append("")
    lines.append(f"results: {study_dir}  (load with: analysis.load({str(study_dir)!r}))")
    lines.append(f"report:  python -m analysis report {study_dir}")
    return "\n".join(lines)
