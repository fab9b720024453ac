"""The short end-of-sweep summary: runs done/failed, mean rank per optimizer, where results are."""

from __future__ import annotations

from pathlib import Path

from bench.parallel import SweepResult
from bench.plan import Plan
from bench.results import load

TYPE_NAMES = {"bb": "black-box", "mf": "multi-fidelity", "mo": "multi-objective",
              "mfmo": "multi-fidelity multi-objective"}


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


def summarize(study_dir: Path, sweep: SweepResult, plan: Plan) -> str:
    """Human-readable summary of a finished sweep (the whole study, resumed runs included)."""
    from analysis.stats import final_ranks

    lines = [
        f"runs: {len(plan.specs)} planned, {len(sweep.outcomes)} ran this time "
        f"({len(sweep.failed)} failed), {sweep.skipped} already done; {sweep.elapsed:.1f} s",
    ]
    if plan.refused:
        lines.append(f"refused pairs (incompatible, not run): {len(plan.refused)}")
    for o in sweep.failed[:10]:
        lines.append(f"  FAILED {o.run_id}: {o.error}")
    if len(sweep.failed) > 10:
        lines.append(f"  … and {len(sweep.failed) - 10} more failed runs")
    df = load(study_dir / "runs")
    if len(df):
        wanted = {s.run_id for s in plan.specs}
        df = df[df["run_id"].isin(wanted)]
    # One leaderboard per task type: optimizers that cannot run a type must not be ranked on it.
    for ttype, part in df.groupby("task_type", observed=True, sort=True) if len(df) else ():
        lines.append("")
        kind = TYPE_NAMES.get(str(ttype), ttype)
        try:
            # the plan knows each task's objective directions: a maximized objective (YAHPO's
            # accuracies) would otherwise be treated as minimized in the hypervolume
            ranks = final_ranks(part, directions=plan.directions or None)
        except ImportError as exc:  # an optional analysis package (moocore for hypervolume) is missing
            lines.append(f"leaderboard, {kind} tasks: not computed, {exc.name or exc} is not installed "
                         "(pip install 'nxm-bench[analysis]'); the results are written")
            continue
        lines.append(f"leaderboard, {kind} tasks ({part['task'].nunique()} tasks, "
                     "mean rank over tasks, lower is better):")
        lines.append(ranks.to_string(float_format=lambda v: f"{v:.2f}"))
    lines.append("")
    lines.append(f"results: {study_dir}  (load with: analysis.load({str(study_dir)!r}))")
    lines.append(f"report:  python -m analysis report {study_dir}")
    return "\n".join(lines)
