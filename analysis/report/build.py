"""The leaderboard report: one call from a results frame to HTML + Markdown.

:func:`build_report` only calls the pure functions of this package and
collects tables and figures into a :class:`~analysis.report.render.Report`;
:func:`write_report` (from :mod:`analysis.report.render`, which renders it) writes
``report.html`` (self-contained: figures embedded as base64 PNG) and ``report.md``
(figures as PNG files under ``figures/``).

Optimizers are compared within one task type at a time (``bb``, ``mf``,
``mo``, ``mfmo``): an optimizer that only runs multi-fidelity tasks is never
ranked on black-box tasks. Each type present gets its own section (leaderboard,
tests, critical-difference diagram, curves) and its tables and figures carry the
type as a suffix (``leaderboard_bb``, ``cd_nemenyi_mf``, ...).

Example:
    >>> from analysis.synthetic import synthetic_results
    >>> rep = build_report(synthetic_results(n_tasks=4, n_optimizers=3, n_seeds=2), n_boot=50, figures=False)
    >>> rep.tables["leaderboard_bb"].index[0]
    'opt2'
"""

from __future__ import annotations

import datetime as dt
import io
import json
import platform
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.leaderboard import (
    aggregates,
    anytime,
    attainment,
    bayesian,
    fixed_target,
    hypervolume,
    plots,
    profiles,
    stats,
)
from analysis.load import MixedResultsError, SettingGroups, comparability_groups
from analysis.normalize import (
    SINGLE_OBJECTIVE_TYPES,
    UNTYPED,
    Completeness,
    Prepared,
    check_axis_recorded,
    completeness,
    prepare,
    score_table,
)
from analysis.report import interactive
from analysis.report.render import Report, Section, write_report
from analysis.report.subset_chapter import Taskset, check_held_out, subset_section
from tasks.vocabulary import MULTI_FIDELITY_TYPES, TASK_TYPES, TYPE_NAMES

__all__ = ["Report", "Section", "build_report", "write_report"]

#: Complete tasks a type needs before its statistical tests are shown: below it the Wilcoxon
#: signed-rank test cannot reach p < 0.05 at all (its smallest two-sided p on 5 pairs is 0.0625)
#: and Friedman's chi-square approximation is meaningless; the leaderboard is shown regardless.
MIN_TEST_TASKS = 6
#: Order of the per-type sections (the catalog's); other types follow alphabetically.
TYPE_ORDER: tuple[str, ...] = TASK_TYPES
#: Each type's name as a section title starts: the catalog's, capitalised ("Black-box").
TYPE_TITLES: Mapping[str, str] = {
    **{t: name[:1].upper() + name[1:] for t, name in TYPE_NAMES.items()},
    UNTYPED: "Untyped",
}


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _fmt_ci(mean: pd.Series, lo: pd.Series, hi: pd.Series, spec: str = ".2f") -> pd.Series:
    def one(m: float, a: float, b: float) -> str:
        if not np.isfinite(m):
            return ""
        if not (np.isfinite(a) and np.isfinite(b)):
            return f"{m:{spec}}"
        return f"{m:{spec}} [{a:{spec}}, {b:{spec}}]"

    return pd.Series([one(*v) for v in zip(mean, lo, hi, strict=True)], index=mean.index)


def _meta_field(runs_meta: pd.DataFrame, key: str) -> list[Any]:
    """A metadata key from its own column or from the nested ``meta`` dicts of ``load_runs``."""
    if key in runs_meta.columns:
        return list(runs_meta[key])
    if "meta" in runs_meta.columns:
        return [m.get(key) if isinstance(m, dict) else None for m in runs_meta["meta"]]
    return []


def _run_environment(envs: Sequence[Mapping[str, Any]]) -> str:
    """One line for the packages the runs recorded: the versions every run shares, then each
    package whose version differs between runs (or that some runs lack), with run counts.

    Example:
        >>> _run_environment([{"numpy": "2.4", "optuna": "4.5"}, {"numpy": "2.4", "optuna": "4.6"}])
        'Run environment (2 runs): numpy 2.4; differs between runs: optuna 4.5 (1 run), 4.6 (1 run)'
    """
    counts: dict[str, Counter[str]] = {}
    for env in envs:
        for k, v in env.items():
            counts.setdefault(str(k), Counter())[str(v)] += 1
    n = len(envs)
    same = [f"{k} {next(iter(c))}" for k, c in sorted(counts.items()) if len(c) == 1 and c.total() == n]
    differ = []
    for k, c in sorted(counts.items()):
        if len(c) == 1 and c.total() == n:
            continue
        shown = [f"{v} ({_n(m, 'run')})" for v, m in sorted(c.items())]
        if c.total() < n:
            shown.append(f"not recorded ({_n(n - c.total(), 'run')})")
        differ.append(f"{k} {', '.join(shown)}")
    line = f"Run environment ({_n(n, 'run')}): " + (", ".join(same) or "nothing common")
    return line + ("; differs between runs: " + "; ".join(differ) if differ else "")


def _versions(runs_meta: pd.DataFrame | None) -> list[str]:
    lines = []
    if runs_meta is not None:
        envs = [v for v in _meta_field(runs_meta, "versions") if isinstance(v, Mapping) and v]
        if envs:
            lines.append(_run_environment(envs))
        hosts = {json.dumps(h, sort_keys=True, default=str) for h in _meta_field(runs_meta, "host") if h}
        if hosts:
            lines.append("Hosts: " + "; ".join(sorted(hosts)[:10]) + (" ..." if len(hosts) > 10 else ""))
    pkgs = []
    for p in ("nxm-bench", "numpy", "pandas", "scipy", "moocore"):
        try:
            pkgs.append(f"{p} {metadata.version(p)}")
        except metadata.PackageNotFoundError:
            continue
    lines.append(
        f"Analysis environment: python {platform.python_version()}, "
        + ", ".join(pkgs)
        + f"; machine {platform.machine()} ({platform.system()})"
    )
    if runs_meta is None:
        lines.append("Run metadata not available: provenance of the runs themselves is not shown.")
    return lines


def build_report(
    df: pd.DataFrame,
    runs_meta: pd.DataFrame | None = None,
    x: str | None = None,
    baseline: str = "random_search",
    alpha: float = 0.05,
    n_boot: int = 1000,
    seed: int = 0,
    title: str | None = None,
    max_heatmap_tasks: int = 40,
    figures: bool = True,
    manifest: Mapping[str, Any] | None = None,
    tasksets: Sequence[Taskset] = (),
    held_out: Sequence[str] | None = None,
    allow_mixed: bool = False,
    archived: Mapping[str, str] | None = None,
    baseline_notes: Sequence[str] = (),
) -> Report:
    """Compute every table and figure of the leaderboard report.

    Results that mix studies, or runs whose settings make them incomparable (budget, time
    limits, simulated workers, one optimizer id with two targets or parameter sets, one task
    id with two revisions or two lists of objectives; ``analysis.load.comparability_groups``),
    are refused with a
    :class:`~analysis.load.MixedResultsError` naming the groups, unless ``allow_mixed``.

    Args:
        df: the long results frame; on multi-objective tasks its ``objectives`` column says in
            which direction each objective goes (``bench.results.load`` gives it to every run).
        runs_meta: per-run metadata (``bench.results.load_runs``), optional.
        x: budget axis of the anytime curves and profiles; default ``budget_used``
            (full-fidelity equivalents) on multi-fidelity task types and
            ``trials`` on the others.
        baseline: optimizer for wins/ties/losses (skipped if absent).
        alpha: significance level of the tests.
        n_boot: bootstrap resamples for confidence intervals.
        seed: seed of the bootstrap.
        title: report title (default from the study name).
        max_heatmap_tasks: rows shown in the per-task heatmaps.
        figures: render figures (False gives a text-and-tables report, much faster).
        manifest: the study manifest (``bench.results.read_manifest``): its planned
            runs are the expected grid and its refused pairs are listed apart.
        tasksets: task subsets to validate against all tasks of the results, in a
            "Representative subsets" chapter (``analysis.report.subset_chapter``).
        held_out: optimizers the subsets must rank; default per taskset, every
            optimizer not in its ``embedding`` list.
        allow_mixed: report mixed results anyway, under a first section, "Warning: mixed
            results", that names the groups.
        archived: optimizers whose runs come from the baseline archive, each with a label (archive
            version, piece, seeds; ``analysis.baselines.add_baselines``): the leaderboards mark
            them and a section lists them.
        baseline_notes: lines about the archived baselines (refused entries, library versions).

    Example:
        >>> from analysis.synthetic import synthetic_results
        >>> df = synthetic_results(n_tasks=4, n_optimizers=2, n_seeds=1, task_types=("bb", "mo"))
        >>> [s.title for s in build_report(df, n_boot=10, figures=False).sections if s.level == 2]
        ['Leaderboard', 'Missing, failed and refused runs', 'Black-box tasks (bb)', \
'Multi-objective tasks (mo)', 'Per-family breakdown', 'Provenance']
    """
    if x is not None:
        check_axis_recorded(df, x)  # before any work: an axis that is 0 throughout has no curves
    mixture = comparability_groups(runs_meta, df)
    if mixture and not allow_mixed:
        raise MixedResultsError("the results mix", mixture)
    prep = prepare(df)
    opts = prep.optimizers
    if tasksets and held_out is not None:
        check_held_out(held_out, opts)  # before the report's work, not after it
    pal = plots.palette(opts)
    if "study" in df.columns:
        studies = sorted(map(str, pd.unique(df["study"])))
    else:
        studies = [str(manifest["study"])] if manifest and manifest.get("study") else ["(unnamed)"]
    title = title or f"NxM-Bench leaderboard: {', '.join(studies)}"
    pngs: dict[str, bytes] = {}
    tables: dict[str, pd.DataFrame] = {}
    sections: list[Section] = []

    def fig(name: str, make: Callable[[], Figure]) -> str:
        if figures:
            pngs[name] = _png(make())
        return name

    comp = completeness(prep, runs_meta, manifest)
    specs: dict[str, dict[str, Any]] = {}
    # Leaderboard first: the type sections below fill it, one table per task type.
    leaderboard = Section(
        "Leaderboard",
        [
            "One leaderboard per task type (optimizers are ranked within one type at a time), sorted "
            f"by mean rank. {interactive.DIRECTION_LEGEND}; in the HTML report a click on a column "
            "header sorts the table. Tests, curves and profiles of each type follow below."
        ],
    )
    if mixture:
        sections.append(_mixed_section(mixture, tables))
    sections.append(leaderboard)
    if archived:
        sections.append(_baselines_section(archived, baseline_notes, opts, tables))
    sections.append(_completeness_section(comp, runs_meta, tables))

    ctx = _Ctx(
        baseline,
        alpha,
        n_boot,
        seed,
        pal,
        max_heatmap_tasks,
        fig,
        sections,
        tables,
        comp,
        dict(archived or {}),
        leaderboard,
        specs if figures else None,
    )
    present = set(prep.runs["task_type"].astype(str))
    types = [t for t in TYPE_ORDER if t in present] + sorted(present - set(TYPE_ORDER))
    families: list[pd.DataFrame] = []
    heatmaps: list[tuple[str, pd.DataFrame, bool]] = []
    for t in types:
        df_t, prep_t = (df, prep) if len(types) == 1 else _type_subset(df, prep, t)
        axis = x or _default_axis(t, prep_t)
        out = _type_sections(t, df_t, prep_t, axis, ctx)
        if out is not None:
            families.append(out[0])
            heatmaps.append((t, out[1], t not in SINGLE_OBJECTIVE_TYPES))
    if len(leaderboard.tables) == 0:
        leaderboard.text = ["No task type has a complete block of tasks x optimizers: nothing to rank."]
    sections.append(_family_section(families, heatmaps, ctx))
    if tasksets:
        sections += _subsets_chapter(df, prep, tasksets, held_out, ctx, tables)
    provenance = _provenance(df, prep, runs_meta, manifest, studies)
    provenance.folded = True  # who ran what, where, with which versions: there when needed
    sections.append(provenance)
    return Report(title, sections, tables, pngs, specs)


def _subsets_chapter(
    df: pd.DataFrame,
    prep: Prepared,
    tasksets: Sequence[Taskset],
    held_out: Sequence[str] | None,
    ctx: _Ctx,
    tables: dict[str, pd.DataFrame],
) -> list[Section]:
    runs = stats.run_scores(df, prep=prep)
    head = Section(
        "Representative subsets",
        [
            "Does each task subset rank the optimizers that did not choose it as all tasks of this study "
            "do? Percentiles are among random subsets of the same size: 50 is chance, higher is better "
            "(docs/subsets.md)."
        ],
    )
    out = [head]
    for ts in tasksets:
        sec = subset_section(ts, runs, held_out=held_out, n_random=ctx.n_boot, seed=ctx.seed, alpha=ctx.alpha)
        for i, (_, table) in enumerate(sec.tables):
            tables[f"subset_{ts.name}" + (f"_{i}" if i else "")] = table
        out.append(sec)
    return out


@dataclass
class _Ctx:
    """Settings and collectors shared by the per-type sections."""

    baseline: str
    alpha: float
    n_boot: int
    seed: int
    pal: dict[str, plots.Color]
    max_heatmap_tasks: int
    fig: Callable[[str, Callable[[], Figure]], str]
    sections: list[Section]
    tables: dict[str, pd.DataFrame]
    comp: Completeness
    #: Optimizers whose runs come from the baseline archive (marked in the leaderboards).
    archived: dict[str, str]
    #: The report's first chapter: each type adds its leaderboard table.
    leaderboard: Section
    #: Interactive figure specs by figure name (``None``: a report without figures).
    specs: dict[str, dict[str, Any]] | None


def _default_axis(task_type: str, prep: Prepared) -> str:
    # Hyperband spends most trials at low fidelity: count full-fidelity equivalents instead.
    if task_type in MULTI_FIDELITY_TYPES and np.isfinite(prep.trials["budget_used"].to_numpy()).any():
        return "budget_used"
    return "trials"


def _type_subset(df: pd.DataFrame, prep: Prepared, task_type: str) -> tuple[pd.DataFrame, Prepared]:
    """Rows of one task type, prepared on their own (normalization is per task, so it is unchanged)."""
    tt = prep.trials["task_type"].cat
    code = list(tt.categories.astype(str)).index(task_type)
    rows = np.sort(prep.source_rows[tt.codes.to_numpy() == code])
    sub = df.iloc[rows]
    return sub, prepare(sub)


def _provenance(
    df: pd.DataFrame,
    prep: Prepared,
    runs_meta: pd.DataFrame | None,
    manifest: Mapping[str, Any] | None,
    studies: list[str],
) -> Section:
    runs = prep.runs
    opts = prep.optimizers
    fams = runs.groupby(runs["family"].astype(str))["task"].nunique()
    ttypes = runs.groupby(runs["task_type"].astype(str))["task"].nunique()
    budget = runs.groupby(runs["task_type"].astype(str)).agg(
        trials=("n_trials", "max"), budget_used=("final_budget_used", "max")
    )
    seeds = sorted(runs["seed"].unique())
    prov = Section("Provenance")
    prov.text.append(
        f"Study: {', '.join(studies)}. Generated {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}."
    )
    if manifest and manifest.get("description"):
        prov.text.append(f"Description: {manifest['description']}")
    if manifest and isinstance(manifest.get("budget"), Mapping):
        b = manifest["budget"]
        prov.text.append(
            f"Planned budget per run: {b.get('n_trials')} full-fidelity trials"
            + (f", {b['time']} simulated seconds" if b.get("time") else "")
            + (f"; planned at {manifest['planned_at']}" if manifest.get("planned_at") else "")
            + "."
        )
    prov.text += [
        f"Tasks: {runs['task'].nunique()} by type ({', '.join(f'{t} {n}' for t, n in ttypes.items())}), "
        f"by family ({', '.join(f'{f} {n}' for f, n in fams.items())}); "
        f"optimizers: {len(opts)} ({', '.join(opts)}); seeds: {len(seeds)} "
        f"({', '.join(map(str, seeds[:20]))}{', ...' if len(seeds) > 20 else ''}); "
        f"trial rows: {len(prep.trials):,}.",
        "Largest budget per task type: "
        + "; ".join(
            f"{t}: {int(r.trials)} trials, {r.budget_used:.4g} full-fidelity equivalents"
            for t, r in budget.iterrows()
        ),
        *_versions(runs_meta),
        "Normalized regret: (best cost - lower) / (upper - lower) per task, lower = known optimum "
        "if any else best of the study, upper = worst of the study; lower ranks are better. "
        "Optimizers are ranked within one task type at a time.",
    ]
    return prov


def _baselines_section(
    archived: Mapping[str, str], notes: Sequence[str], opts: Sequence[str], tables: dict[str, pd.DataFrame]
) -> Section:
    """Which optimizers come from the baseline archive, and what was refused or differs."""
    sec = Section("Baselines from the archive")
    own = [o for o in opts if o not in archived]
    sec.text.append(
        f"{_n(len(archived), 'optimizer')} of this report come from the baseline archive installed with "
        f"nxm-bench, not from these runs (marked 'archive' in the leaderboards); "
        f"{_n(len(own), 'optimizer')} from these runs: {', '.join(own) or 'none'}. Archived entries "
        "are used only at the same budget, seeds, task revisions and objectives as these runs "
        "(docs/baselines.md)."
    )
    table = pd.DataFrame(
        {"from": [archived[o] for o in sorted(archived)]}, index=pd.Index(sorted(archived), name="optimizer")
    )
    tables["baselines"] = table
    sec.tables.append(("Archived optimizers", table))
    sec.text.extend(notes)
    return sec


def _mixed_section(groups: Sequence[SettingGroups], tables: dict[str, pd.DataFrame]) -> Section:
    """The warning that opens a report of results that are not one comparable study."""
    table = pd.DataFrame(
        [(g.setting, g.subject or "", value, n) for g in groups for value, n in g.counts],
        columns=["setting", "of", "value", "runs"],
    )
    tables["mixed"] = table
    return Section(
        "Warning: mixed results",
        [
            "These results are not one comparable study: " + "; ".join(g.describe() for g in groups) + ".",
            "They are reported together because mixing was allowed (--allow-mixed, or allow_mixed=True "
            "in build_report). Every table below "
            "pools them: runs of different budgets, time limits or settings are ranked as if they were "
            "alike, and normalized regrets are relative to all of them. Report one study folder, with "
            "one setting, at a time for a leaderboard you can trust.",
        ],
        tables=[("Groups of runs by differing setting", table)],
    )


#: Display names of :attr:`Completeness.outcomes` columns.
_OUTCOME_NAMES = {
    "failed_partial": "failed part-way (trials used)",
    "failed_no_trial": "failed before any trial",
}


def _completeness_section(
    comp: Completeness, runs_meta: pd.DataFrame | None, tables: dict[str, pd.DataFrame]
) -> Section:
    cs = Section("Missing, failed and refused runs", [comp.summary() + "."])
    if len(comp.failed):
        cs.text.append(
            "A failed run (status crashed, timeout or died, or no trial row) is never counted as "
            "complete. One that failed part-way is analysed up to its failure: its incumbent stays "
            "at the best value it reached, so the budget it did not spend counts against its "
            "optimizer. One that failed before its first trial has no result: like a missing run, "
            "it does not count as a run of its optimizer on that task, and a task where all of an "
            "optimizer's runs failed so is left out of that optimizer's ranks and tests."
        )
    if comp.source == "manifest":
        cs.text.append(
            f"Expected runs are the {comp.expected} runs the study manifest (study.json) planned. "
            "Refused pairs are task/optimizer combinations the runner declined as incompatible "
            "(e.g. a multi-fidelity method on a task without a fidelity): never run, not missing."
        )
        if comp.unplanned:
            cs.text.append(
                f"{comp.unplanned} run(s) in the results are not in the manifest (from an earlier "
                "plan of the study); they are analysed with the rest."
            )
    else:
        cs.text.append(
            "No study manifest: the expected grid is every task x optimizer x seed seen in the results."
        )
    cs.tables.append(("Runs per optimizer", comp.outcomes.rename(columns=_OUTCOME_NAMES)))
    if len(comp.refused):
        groups = comp.refused_groups()
        cs.tables.append((f"Refused pairs ({len(comp.refused)}), grouped by optimizer and reason", groups))
        tables["refused"] = groups
    if len(comp.failed):
        failed = comp.failed.head(20)
        if runs_meta is not None and {"error", "task", "optimizer", "seed"} <= set(runs_meta.columns):
            err = runs_meta[["task", "optimizer", "seed", "error"]].dropna(
                subset=["task", "optimizer", "seed"]
            )
            err = err.astype({"task": str, "optimizer": str, "seed": np.int64})
            # The last line of a traceback names the exception; keep the table narrow.
            err["error"] = [str(e).strip().splitlines()[-1][:120] if e else "" for e in err["error"]]
            failed = failed.merge(err, on=["task", "optimizer", "seed"], how="left")
        failed = failed.rename(columns={"n_trials": "trials"})
        cs.tables.append((f"Failed runs (first {len(failed)} of {len(comp.failed)})", failed))
    if len(comp.missing):
        cs.tables.append((f"Missing runs (first 20 of {len(comp.missing)})", comp.missing.head(20)))
    tables["completeness"] = comp.outcomes
    return cs


def _subset_curves(curves: anytime.Curves, tasks: list[str], opts: list[str]) -> anytime.Curves:
    keep = (
        curves.runs["task"].astype(str).isin(tasks) & curves.runs["optimizer"].astype(str).isin(opts)
    ).to_numpy()
    return anytime.Curves(
        curves.grid,
        curves.values[keep],
        curves.runs[keep].reset_index(drop=True),
        curves.x,
        curves.value,
        curves.log_grid,
    )


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _listing(items: Sequence[str], n: int = 10) -> str:
    return ", ".join(items[:n]) + (f" ... ({len(items)} in all)" if len(items) > n else "")


def _type_sections(
    t: str, df: pd.DataFrame, prep: Prepared, x: str, ctx: _Ctx
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Append the sections of one task type; return its per-family ranks and per-task score table."""
    mo = t not in SINGLE_OBJECTIVE_TYPES
    name = f"{TYPE_TITLES.get(t, t)} tasks ({t})"
    head = Section(name)
    ctx.sections.append(head)
    if mo and "values" not in df.columns:
        head.text.append("The results lack the 'values' column: hypervolume cannot be computed.")
        return None
    if mo:
        per_trial = hypervolume.hv_per_trial(df, prep)
        runs = hypervolume.hv_runs(df, prep, per_trial=per_trial)
        value, label = "final_hv_regret", "HV regret"
        curves = hypervolume.hv_curves(df, prep, x, per_trial=per_trial)
    else:
        runs, value, label = prep.runs, "final_regret", "norm. regret"
        curves = anytime.resample(prep, x=x)
    scores_all = score_table(runs, value=value)
    block = stats.largest_complete_block(scores_all)
    scores = block.scores
    tasks, opts = [str(i) for i in scores.index], [str(c) for c in scores.columns]
    head.text.append(
        f"{_n(len(scores_all), 'task')}, {_n(scores_all.shape[1], 'optimizer')} with runs on them. "
        + (
            "Score: final hypervolume regret (1 - HV of the run / HV of all runs' union, objectives "
            "min-max normalized per task), averaged over seeds"
            if mo
            else "Score: final normalized regret, averaged over seeds"
        )
        + f"; ranks over {len(scores)} complete tasks; CIs are percentile bootstraps over tasks "
        f"({ctx.n_boot} resamples). Budget axis of curves: {x}."
    )
    if block.dropped_optimizers:
        counts = scores_all[block.dropped_optimizers].notna().sum()
        head.text.append(
            "Not ranked (they cover too few of this type's tasks; keeping them would drop more "
            "tasks than it adds): "
            + ", ".join(f"{o} ({counts[o]} of {len(scores_all)} tasks)" for o in block.dropped_optimizers)
            + "."
        )
    if block.dropped_tasks:
        head.text.append(
            f"{len(block.dropped_tasks)} task(s) lack a run of some ranked optimizer and are left out "
            f"of ranks and tests: {_listing(block.dropped_tasks)}."
        )
    no_trial = ctx.comp.failed_no_trial
    no_trial = no_trial[no_trial["task_type"] == t]
    never = no_trial[~no_trial["optimizer"].isin(scores_all.columns)]["optimizer"].value_counts().sort_index()
    if len(never):
        head.text.append(
            "Not ranked (no run produced a trial on this type): "
            + ", ".join(f"{o} ({_n(int(k), 'run')} failed before the first trial)" for o, k in never.items())
            + "."
        )
    refused = ctx.comp.refused
    refused_here = refused[refused["task_type"] == t] if len(refused) else refused
    absent = sorted(set(refused_here["optimizer"]) - set(scores_all.columns)) if len(refused_here) else []
    if absent:
        reasons = refused_here.groupby("optimizer")["reason"].first()
        head.text.append(
            "Not compared on this type (the runner refused every pair): "
            + "; ".join(f"{o}: {reasons[o]}" for o in absent)
            + "."
        )
    if len(scores) == 0 or len(opts) == 0:
        head.text.append("No complete block of tasks x optimizers: nothing to rank.")
        return None

    curves_b = _subset_curves(curves, tasks, opts) if curves is not None else None
    mr = stats.mean_ranks(scores, n_boot=ctx.n_boot, seed=ctx.seed)
    reg = stats.bootstrap_mean(scores, n_boot=ctx.n_boot, seed=ctx.seed)
    tbl = mr.table
    lb = pd.DataFrame(index=tbl.index)
    lb["mean rank ↓ [95% CI]"] = _fmt_ci(tbl["mean_rank"], tbl["ci_low"], tbl["ci_high"])
    lb[f"mean {label} ↓ [95% CI]"] = _fmt_ci(reg["mean"], reg["ci_low"], reg["ci_high"], ".3g").reindex(
        tbl.index
    )
    fronts = None
    if not mo:
        log_scores = score_table(runs, value="final_log_regret").reindex(index=tasks, columns=opts)
        lb["mean log10 regret ↓"] = log_scores.mean().reindex(tbl.index).round(2)
    else:
        # IGD+ beside HV regret: the distance of a run's final front to the study's best front
        fronts = attainment.final_fronts(df, prep)
        igd = attainment.igd_plus_runs(df, prep, fronts=fronts)
        ctx.tables[f"igd_plus_{t}"] = igd
        igd_scores = score_table(igd, value="igd_plus").reindex(index=tasks, columns=opts)
        lb["mean IGD+ ↓"] = igd_scores.mean().reindex(tbl.index).map(lambda v: f"{v:.3g}")
    if curves_b is not None and len(curves_b.runs):
        any_runs = curves_b.runs.assign(anytime=anytime.anytime_score(curves_b).to_numpy())
        lb["anytime AUC ↓"] = score_table(any_runs, value="anytime").mean().reindex(tbl.index).round(3)
    if ctx.baseline in scores_all.columns:
        # Pairwise with the baseline on every task both ran, so it needs no complete block.
        wtl = stats.wins_ties_losses(scores_all, ctx.baseline).reindex(tbl.index)
        lb[f"W/T/L vs {ctx.baseline}"] = [f"{w}/{ti}/{lo}" for w, ti, lo in wtl.to_numpy()]
    bad = pd.concat(
        [
            ctx.comp.failed.loc[ctx.comp.failed["task_type"] == t, "optimizer"],
            ctx.comp.missing.loc[ctx.comp.missing["task_type"] == t, "optimizer"],
        ]
    )
    lb["failed or missing runs"] = bad.value_counts().reindex(tbl.index, fill_value=0).astype(int)
    lb["tasks"] = tbl["n_tasks"]
    if ctx.archived:
        lb.insert(0, "source", ["archive" if o in ctx.archived else "these runs" for o in lb.index])
    ctx.tables[f"leaderboard_{t}"] = lb
    ctx.tables[f"scores_{t}"] = scores_all
    ctx.leaderboard.tables.append((f"{name}: {_n(len(scores), 'complete task')}, sorted by mean rank", lb))
    head.text.append("Its leaderboard is the report's first table.")

    if len(opts) < 2:
        head.text.append("One optimizer only: nothing to compare, no tests.")
    elif len(scores) < MIN_TEST_TASKS:
        head.text.append(
            f"No statistical tests: {_n(len(scores), 'complete task')}, fewer than the {MIN_TEST_TASKS} "
            "they need (with fewer, the Wilcoxon signed-rank test cannot reach p < 0.05 and Friedman's "
            "approximation means nothing); the leaderboard above still ranks them."
        )
    else:
        nem = stats.nemenyi(scores, ctx.alpha)
        if np.isfinite(nem.cd):
            head.figures.append(
                ctx.fig(
                    f"cd_nemenyi_{t}",
                    lambda: plots.cd_diagram(
                        nem.mean_ranks,
                        nem.cd,
                        nem.cliques(),
                        f"{TYPE_TITLES.get(t, t)}: Nemenyi critical difference on {label}",
                        ctx.pal,
                    ),
                )
            )
        _tests_section(t, scores, nem, label, ctx)

    if len(opts) >= 2:
        block_runs = runs[runs["task"].astype(str).isin(tasks) & runs["optimizer"].astype(str).isin(opts)]
        _aggregates_section(t, block_runs, value, label, list(mr.table.index), ctx)
    if curves_b is not None and len(curves_b.runs):
        _curves_section(t, curves_b, mo, x, ctx)
    if not mo:
        _profiles_section(t, prep, x, ctx)
        _fixed_target_section(t, df, x, opts, ctx)
    elif fronts is not None:
        _fronts_section(t, fronts, tasks, opts, ctx)

    full = stats.ranks(scores)
    fam_of = runs.assign(task=runs["task"].astype(str)).groupby("task")["family"].first().astype(str)
    groups = fam_of.reindex(full.index).to_numpy()
    fam = full.groupby(groups).mean()
    fam.insert(0, "task type", t)
    fam["tasks"] = full.groupby(groups).size()
    fam.index.name = "family"
    heat = score_table(runs, value="final_hv_regret" if mo else "final_log_regret")
    return fam, heat


def _tests_section(t: str, scores: pd.DataFrame, nem: stats.PosthocResult, label: str, ctx: _Ctx) -> None:
    sec = Section("Statistical tests", level=3)
    fr = stats.friedman(scores)
    sec.text.append(
        f"Friedman: chi2 = {fr.statistic:.3f}, p = {fr.pvalue:.3g}; "
        f"Iman-Davenport F = {fr.iman_davenport:.3f}, p = {fr.iman_davenport_pvalue:.3g} "
        f"(k = {fr.k}, N = {fr.n}). {fr.note}".strip()
    )
    sec.text.append(
        f"Nemenyi critical difference at alpha = {ctx.alpha}: CD = {nem.cd:.3f} "
        f"(the diagram above: optimizers joined by a bar are not significantly different). {nem.note}".strip()
    )
    con = stats.conover_holm(scores, ctx.alpha)
    wil = stats.wilcoxon_holm(scores, ctx.alpha)
    for res in (con, wil):
        if res.note:
            sec.text.append(f"{res.method}: {res.note}")
    order = list(nem.mean_ranks.index)
    for res in (con, wil):
        pv = res.pvalues.loc[order, order].map(lambda v: f"{v:.3g}" if np.isfinite(v) else "")
        sec.tables.append((f"{res.method} adjusted p-values", pv))
        ctx.tables[f"pvalues_{res.method}_{t}"] = res.pvalues
    if np.isfinite(wil.pvalues.to_numpy()).any():
        sec.figures.append(
            ctx.fig(
                f"cd_wilcoxon_{t}",
                lambda: plots.cd_diagram(
                    wil.mean_ranks,
                    None,
                    wil.cliques(),
                    f"{TYPE_TITLES.get(t, t)}: groups not separated by Wilcoxon-Holm ({label})",
                    ctx.pal,
                ),
            )
        )
    _bayesian_part(t, scores, order, label, sec, ctx)
    ctx.sections.append(sec)


def _bayesian_part(
    t: str, scores: pd.DataFrame, order: Sequence[str], label: str, sec: Section, ctx: _Ctx
) -> None:
    """Bayesian signed-rank tests of every optimizer against the baseline (or the last ranked)."""
    against = ctx.baseline if ctx.baseline in scores.columns else str(order[-1])
    rope = bayesian.DEFAULT_ROPE
    pairs = bayesian.bayesian_pairs(scores, rope=rope, seed=ctx.seed, against=against)
    ctx.tables[f"bayesian_{t}"] = pairs
    turned = bayesian.oriented(pairs, against).set_index("b").reindex([o for o in order if o != against])
    table = pd.DataFrame(
        {
            "P(better) ↑": turned["p_b_better"].round(3),
            "P(equivalent)": turned["p_equivalent"].round(3),
            f"P({against} better) ↓": turned["p_a_better"].round(3),
            "decision": turned["decision"]
            .map({"a better": f"{against} better", "b better": "better", "equivalent": "equivalent"})
            .fillna("undecided"),
            "tasks": turned["n_tasks"],
        },
        index=pd.Index(turned.index, name="optimizer"),
    )
    sec.text.append(
        f"Bayesian signed-rank test against {against} (Benavoli et al. 2017) on per-task {label}: the "
        f"posterior probabilities that an optimizer is better, practically equivalent (differences "
        f"within a region of practical equivalence of {rope:g} in normalized units) or worse; a "
        f"decision needs probability >= {bayesian.DEFAULT_THRESHOLD:g}."
    )
    sec.tables.append((f"Bayesian signed-rank test against {against}", table))
    sec.figures.append(
        ctx.fig(f"bayesian_{t}", lambda: bayesian.pairs_bar_plot(pairs, against=against, title=""))
    )


def _aggregates_section(
    t: str, runs: pd.DataFrame, value: str, label: str, order: Sequence[str], ctx: _Ctx
) -> None:
    """rliable-style aggregates over every run (not only seed means), with stratified bootstrap
    intervals over the runs of each task, and the probability of improvement."""
    sec = Section("Aggregate performance over runs", level=3)
    runs = runs[["task", "optimizer", value]].assign(
        task=runs["task"].astype(str), optimizer=runs["optimizer"].astype(str)
    )
    n_boot = min(ctx.n_boot, 2000)
    est = aggregates.interval_estimates(runs, value=value, n_boot=n_boot, seed=ctx.seed)
    names = {"iqm": "IQM", "mean": "mean", "median": "median", "optimality_gap": "optimality gap"}
    table = pd.DataFrame(index=pd.Index(list(order), name="optimizer"))
    for metric, name in names.items():
        e = est[est["metric"] == metric].set_index("optimizer").reindex(table.index)
        table[f"{name} ↓ [95% CI]"] = _fmt_ci(e["estimate"], e["lower"], e["upper"], ".3g")
    sec.text.append(
        f"Every run counts, not only seed means (Agarwal et al. 2021, rliable's estimators): the "
        f"interquartile mean (IQM) of {label}, its mean and median over tasks, and the optimality "
        "gap (mean shortfall of 1 - regret below 1); 95% stratified bootstrap intervals resample "
        f"the runs within each task ({n_boot} resamples). Lower is better for all four."
    )
    sec.tables.append((f"Aggregates of {label}", table))
    ctx.tables[f"aggregates_{t}"] = est
    sec.figures.append(ctx.fig(f"aggregates_{t}", lambda: aggregates.interval_plot(est, pal=ctx.pal)))
    poi = aggregates.probability_of_improvement(runs, value=value, n_boot=n_boot, seed=ctx.seed)
    ctx.tables[f"improvement_{t}"] = poi
    against = ctx.baseline if ctx.baseline in set(runs["optimizer"]) else str(order[-1])
    vs = poi[poi["b"] == against].set_index("a").reindex([o for o in order if o != against])
    vs_table = pd.DataFrame(
        {f"P(better than {against}) ↑ [95% CI]": _fmt_ci(vs["p"], vs["lower"], vs["upper"], ".2f")},
        index=pd.Index(vs.index, name="optimizer"),
    )
    vs_table["tasks"] = vs["n_tasks"]
    sec.text.append(
        f"Probability of improvement: the chance that a run of an optimizer ends with lower {label} "
        f"than a run of {against} on the same task (ties count one half), averaged over tasks; 0.5 "
        f"means no difference. Every pair: the table improvement_{t} of build_report's tables."
    )
    sec.tables.append((f"Probability of improvement over {against}", vs_table))
    sec.figures.append(
        ctx.fig(f"improvement_{t}", lambda: aggregates.improvement_plot(poi, against=against, pal=ctx.pal))
    )
    dist = aggregates.score_distributions(runs, value=value, n_boot=min(n_boot, 500), seed=ctx.seed)
    sec.figures.append(
        ctx.fig(f"score_distribution_{t}", lambda: aggregates.score_distribution_plot(dist, pal=ctx.pal))
    )
    ctx.sections.append(sec)


#: Tasks whose attainment surfaces and Pareto fronts the report draws, per multi-objective type.
MAX_FRONT_TASKS = 3


def _fronts_section(
    t: str, fronts: pd.DataFrame, tasks: Sequence[str], opts: Sequence[str], ctx: _Ctx
) -> None:
    """Empirical attainment surfaces and Pareto fronts of a few two-objective tasks."""
    ranked = fronts[fronts["optimizer"].astype(str).isin(opts)]
    two = [
        task
        for task in tasks
        if len(ranked[ranked["task"].astype(str) == task]) and attainment.n_objectives(ranked, task) == 2
    ]
    if not two:
        return
    # evenly spread over the sorted tasks, so the figures are not all of one family
    shown = [two[i] for i in np.linspace(0, len(two) - 1, min(MAX_FRONT_TASKS, len(two))).round().astype(int)]
    sec = Section("Attainment surfaces and Pareto fronts", level=3)
    sec.text.append(
        "Per task, objectives min-max normalized as for hypervolume: each optimizer's median empirical "
        "attainment surface (the front attained by at least half of its runs; López-Ibáñez et al. "
        "2010) with the band between its best and worst surfaces, and the reference front (the "
        "nondominated union of all runs) with each optimizer's best run by IGD+. "
        f"{_n(len(shown), 'task')} of the {len(two)} two-objective tasks: {', '.join(shown)}."
    )
    for i, task in enumerate(shown):
        sec.figures.append(
            ctx.fig(f"attainment_{t}_{i}", _front_figure(attainment.attainment_plot, ranked, task, ctx))
        )
        sec.figures.append(
            ctx.fig(f"pareto_front_{t}_{i}", _front_figure(attainment.pareto_front_plot, ranked, task, ctx))
        )
    ctx.sections.append(sec)


def _front_figure(
    plot: Callable[..., Figure], fronts: pd.DataFrame, task: str, ctx: _Ctx
) -> Callable[[], Figure]:
    # one closure per task: a lambda in the loop would see only the last task
    return lambda: plot(fronts, task, pal=ctx.pal)


def _curves_section(t: str, curves: anytime.Curves, mo: bool, x: str, ctx: _Ctx) -> None:
    sec = Section("Anytime performance", level=3)
    sec.text.append(
        f"Budget axis: {x}, as a fraction of the largest budget reached on each task; "
        "mean over tasks of the seed-mean incumbent, with 95% bootstrap bands over tasks."
    )
    n_boot = min(ctx.n_boot, 300)
    agg = anytime.aggregate(curves, n_boot=n_boot, seed=ctx.seed)
    kind = TYPE_TITLES.get(t, t)
    specs = ctx.specs if ctx.specs is not None else {}
    if mo:
        sec.figures.append(
            ctx.fig(
                f"hv_regret_curves_{t}",
                lambda: plots.curves_plot(agg, "HV regret", f"{kind}: hypervolume regret", pal=ctx.pal),
            )
        )
        specs[f"hv_regret_curves_{t}"] = interactive.curves_spec(
            agg, "HV regret ↓", f"{kind}: hypervolume regret", ctx.pal
        )
    else:
        sec.figures.append(
            ctx.fig(
                f"regret_curves_{t}",
                lambda: plots.curves_plot(
                    agg, "normalized regret", f"{kind}: normalized regret of the incumbent", pal=ctx.pal
                ),
            )
        )
        log_curves = anytime.Curves(
            curves.grid,
            np.log10(np.maximum(curves.values, 1e-10)),
            curves.runs,
            curves.x,
            "log_regret",
            curves.log_grid,
        )
        specs[f"regret_curves_{t}"] = interactive.curves_spec(
            agg, "normalized regret ↓", f"{kind}: normalized regret of the incumbent", ctx.pal
        )
        agg_log = anytime.aggregate(log_curves, n_boot=n_boot, seed=ctx.seed)
        specs[f"log_regret_curves_{t}"] = interactive.curves_spec(
            agg_log, "log10 normalized regret ↓", f"{kind}: log-scale normalized regret", ctx.pal
        )
        sec.figures.append(
            ctx.fig(
                f"log_regret_curves_{t}",
                lambda: plots.curves_plot(
                    agg_log, "log10 normalized regret", f"{kind}: log-scale normalized regret", pal=ctx.pal
                ),
            )
        )
    if ctx.specs is not None:
        # Per-task drill-down: HTML only (one plot, a task list); no PNG of every task.
        what = "HV regret ↓" if mo else "normalized regret ↓"
        specs[f"task_curves_{t}"] = interactive.drilldown_spec(
            curves, what, f"{kind}: one task, mean over seeds per optimizer", ctx.pal
        )
        sec.figures.append(f"task_curves_{t}")
        sec.text.append(
            "Per task (HTML report): pick a task from the list to see each optimizer's curve on it."
        )
    if curves.runs["optimizer"].nunique() > 1:
        rob = anytime.ranks_over_budget(curves)
        ctx.tables[f"ranks_over_budget_{t}"] = rob
        sec.figures.append(
            ctx.fig(
                f"ranks_over_budget_{t}",
                lambda: plots.rank_plot(rob, f"{kind}: mean rank over budget", pal=ctx.pal),
            )
        )
    ctx.sections.append(sec)


def _profiles_section(t: str, prep: Prepared, x: str, ctx: _Ctx) -> None:
    sec = Section("Profiles", level=3)
    tau = 1e-2
    kind = TYPE_TITLES.get(t, t)
    sec.text.append(
        f"A (task, seed) problem is solved once the incumbent normalized regret is <= {tau}; "
        "a missing run counts as unsolved."
    )
    pp = profiles.performance_profile(prep, tau=tau, x=x)
    sec.figures.append(
        ctx.fig(
            f"performance_profile_{t}",
            lambda: plots.profile_plot(
                pp,
                "budget ratio to the fastest optimizer",
                "fraction of problems solved",
                f"{kind}: performance profile",
                ctx.pal,
            ),
        )
    )
    dp = profiles.data_profile(prep, tau=tau, x=x)
    sec.figures.append(
        ctx.fig(
            f"data_profile_{t}",
            lambda: plots.profile_plot(
                dp,
                f"budget ({x}) / (dimension + 1) where known",
                "fraction of problems solved",
                f"{kind}: data profile",
                ctx.pal,
            ),
        )
    )
    ecdf = profiles.bbob_ecdf(prep, x=x)
    if len(ecdf):
        sec.figures.append(
            ctx.fig(
                f"bbob_ecdf_{t}",
                lambda: plots.profile_plot(
                    ecdf,
                    f"{x} / dimension",
                    "fraction of (run, target) pairs",
                    f"{kind}: bbob runtime ECDF, targets 1e2..1e-8",
                    ctx.pal,
                ),
            )
        )
    ctx.sections.append(sec)


#: Targets shown in the fixed-target table: Δf on tasks with a known optimum (COCO's usual
#: columns), normalized regret on the others.
TABLE_DELTAS: tuple[float, ...] = (1e1, 1e-1, 1e-3, 1e-5, 1e-7)
TABLE_REGRETS: tuple[float, ...] = (1e-1, 1e-2, 1e-3)


def _fixed_target_section(t: str, df: pd.DataFrame, x: str, opts: Sequence[str], ctx: _Ctx) -> None:
    """COCO's fixed-target view: expected running time to targets, and the runtime ECDF."""
    ert = fixed_target.expected_running_time(df, x=x)
    ert = ert[ert["optimizer"].astype(str).isin(opts)]
    if not len(ert):
        return
    sec = Section("Fixed targets: expected running time", level=3)
    kinds = sorted(set(ert["target_kind"]))
    sec.text.append(
        f"How much budget ({x}) an optimizer needs to reach a target (COCO's expected running time, "
        "aRT: the budget of all runs until they reach the target or end, divided by the number of "
        "runs that reach it; infinite when none does). Targets: "
        + " and ".join(
            "f_opt + Δf on tasks with a known optimum"
            if k == "delta_f"
            else "normalized regret on the others"
            for k in kinds
        )
        + ". Per target: the tasks where some run reached it, and the median over tasks of the aRT "
        "divided by the best optimizer's aRT on the task (1 = fastest; inf where an optimizer never "
        "reached a target another did)."
    )
    rows: dict[str, dict[str, str]] = {str(o): {} for o in opts}
    for kind, shown in (("delta_f", TABLE_DELTAS), ("regret", TABLE_REGRETS)):
        part = ert[ert["target_kind"] == kind]
        if not len(part):
            continue
        n_tasks = part["task"].nunique()
        for target in shown:
            at = part[np.isclose(part["target"], target, rtol=1e-9, atol=0.0)]
            if not len(at):
                continue
            table = at.pivot_table(
                index="task", columns="optimizer", values="ert", aggfunc="first", observed=True
            )
            best = table.min(axis=1)
            reached = table[np.isfinite(best)]
            ratio = reached.div(best[np.isfinite(best)], axis=0)
            name = f"Δf {target:g}" if kind == "delta_f" else f"regret {target:g}"
            for o in rows:
                if o not in table.columns:
                    continue
                hit = int(np.isfinite(table[o]).sum())
                med = float(np.median(ratio[o].to_numpy())) if len(ratio) else float("nan")
                rows[o][f"{name}: tasks reached ↑"] = f"{hit}/{n_tasks}"
                rows[o][f"{name}: aRT / best ↓"] = "" if np.isnan(med) else f"{med:.3g}"
    table_out = pd.DataFrame.from_dict(rows, orient="index")
    table_out.index.name = "optimizer"
    ctx.tables[f"ert_{t}"] = ert
    sec.tables.append(("Expected running time to targets", table_out))
    ecdf = fixed_target.runtime_ecdf(df, x=x)
    ecdf = ecdf[ecdf["optimizer"].astype(str).isin(opts)]
    if len(ecdf):
        sec.figures.append(
            ctx.fig(
                f"runtime_ecdf_{t}",
                lambda: fixed_target.plot_runtime_ecdf(
                    ecdf,
                    f"{TYPE_TITLES.get(t, t)}: runtime ECDF over targets",
                    f"budget ({x}) / dimension",
                    pal=ctx.pal,
                ),
            )
        )
    ctx.sections.append(sec)


def _family_section(
    families: list[pd.DataFrame], heatmaps: list[tuple[str, pd.DataFrame, bool]], ctx: _Ctx
) -> Section:
    fam = Section("Per-family breakdown")
    fam.text.append(
        "Mean rank per task family, within each task type (ranks as in that type's leaderboard; "
        "blank where an optimizer is not ranked on the type)."
    )
    if families:
        table = pd.concat(families).reset_index()
        opt_cols = [c for c in table.columns if c not in ("family", "task type", "tasks")]
        table = table[["task type", "family", *sorted(opt_cols), "tasks"]]
        table.columns.name = None
        ctx.tables["family_ranks"] = table
        fam.tables.append(("Mean rank per family (1 = best)", table.round(2)))
        heat = table.set_index(table["task type"] + ": " + table["family"])[sorted(opt_cols)]
        fam.figures.append(
            ctx.fig(
                "family_ranks",
                lambda: plots.heatmap(heat, "Mean rank per family", "mean rank (1 = best)", cmap="viridis_r"),
            )
        )
    for t, h, mo in heatmaps:
        fam.figures.append(ctx.fig(f"task_heatmap_{t}", _task_heatmap(t, h, mo, ctx.max_heatmap_tasks)))
    return fam


def _task_heatmap(t: str, table: pd.DataFrame, mo: bool, max_rows: int) -> Callable[[], Figure]:
    what = "final HV regret" if mo else "final log10 normalized regret"

    def make() -> Figure:
        return plots.heatmap(
            table,
            f"{TYPE_TITLES.get(t, t)} tasks: {what} per task",
            what,
            fmt=".2f" if mo else ".1f",
            max_rows=max_rows,
            cmap="magma_r",
        )

    return make
