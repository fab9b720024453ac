"""The report's "Representative subsets" chapter: does a taskset rank the optimizers as all tasks do?

``python -m analysis report RESULTS --taskset subset_bb_dev --taskset subset_bb_test`` adds one
sub-section per taskset to the leaderboard report of a (full) study. For every task type the
taskset's tasks share with the results, the optimizers that did not choose the subset (those not
listed under the taskset's ``embedding`` key, which ``python -m analysis subset`` writes) are ranked
on all tasks and on the subset, and :func:`analysis.subsets.validation.validate` says how well the
subset reproduces the full ranking: Kendall τ and its percentile among random subsets of the same
size, top-1 agreement, the largest change of position, the mean-rank error and the pairs that the
full set's Nemenyi test separates.

A taskset is named as for ``python -m bench study.taskset=...`` (a YAML under ``conf/taskset/`` or
a folder of ``$NXMBENCH_CONFIG_PATH``) or given as a path to its YAML file. Its ``tasks`` entries may
be ids or glob patterns (``!pattern`` removes), matched against the tasks in the results.

Example:
    >>> from analysis.synthetic import synthetic_results
    >>> from analysis.leaderboard.stats import run_scores
    >>> runs = run_scores(synthetic_results(n_tasks=12, n_optimizers=4, n_seeds=2))
    >>> ts = Taskset("demo", ("bbob/f0[1-5]/*", "synthetic/bb0005"), embedding=("opt0",))
    >>> section = subset_section(ts, runs, n_random=50)
    >>> section.title, [caption.split(":")[0] for caption, _ in section.tables]
    ('Taskset demo', ['Mean ranks of the held-out optimizers (bb)'])
    >>> section.text[0]
    "The taskset's 2 entries match 4 tasks of these results. Held-out optimizers: opt1, opt2, opt3 \
(not used to choose the subset; opt0 were)."
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.report.render import Section
from analysis.subsets.validation import Validation, validate


@dataclass(frozen=True)
class Taskset:
    """A named list of task ids/patterns and the optimizers its subset was chosen with."""

    name: str
    tasks: tuple[str, ...]
    embedding: tuple[str, ...] = ()
    #: The selector that chose it (an ``analysis.subsets.selectors.SELECTORS`` name), if the file says.
    selector: str | None = None


def load_taskset(ref: str) -> Taskset:
    """A taskset by registered name or by path to its YAML file.

    Raises:
        FileNotFoundError: a path that does not exist.
        ValueError: an unknown name (with the valid ones), a file that is not UTF-8 YAML holding a
            mapping (``bench.config.ConfigError``), or one without a ``tasks`` list.

    Example:
        >>> ts = load_taskset("subset_bb_dev")
        >>> len(ts.tasks), ts.embedding, ts.selector
        (30, ('random_search', 'optuna_tpe', 'ng_cmaes'), 'discrepancy_empirical')
    """
    from omegaconf import DictConfig, ListConfig

    from bench.config_files import read_config

    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.parent != Path("."):
        if not path.is_file():
            raise FileNotFoundError(f"taskset file {ref!r} does not exist")
        # Read as python -m bench reads a taskset: a YAML syntax error, text that is not UTF-8 or a
        # top level that is not a mapping is one line naming the file, never the parser's traceback.
        name, cfg = path.stem, read_config(path, "taskset")
    else:
        from bench.registry import UnknownNameError, taskset_config

        try:
            name, cfg = ref, taskset_config(ref)
        except UnknownNameError as exc:
            raise ValueError(str(exc)) from exc
    if not isinstance(cfg, DictConfig):
        raise ValueError(f"taskset {ref!r} is a list, not a mapping (a taskset is 'tasks: [id, ...]')")
    tasks = cfg.get("tasks")
    if not isinstance(tasks, ListConfig) or not tasks:
        raise ValueError(f"taskset {ref!r} has no 'tasks' list (a taskset is 'tasks: [id, ...]')")
    embedding = cfg.get("embedding") or ListConfig([])
    if not isinstance(embedding, ListConfig):
        raise ValueError(f"taskset {ref!r}: 'embedding' must be a list of optimizer ids, got {embedding!r}")
    selector = cfg.get("selector")
    if selector is not None:
        from analysis.subsets.selectors import SELECTORS

        if str(selector) not in SELECTORS:
            raise ValueError(
                f"taskset {ref!r}: unknown selector {selector!r}; valid choices: {list(SELECTORS)}"
            )
    return Taskset(
        name, tuple(map(str, tasks)), tuple(map(str, embedding)), None if selector is None else str(selector)
    )


def match_tasks(patterns: Iterable[str], ids: Iterable[str]) -> list[str]:
    """The ``ids`` selected by taskset entries, in entry order: ids and globs add, ``!glob`` removes.

    Unlike ``bench.registry.expand_tasks`` this matches against the tasks of a results table, so
    entries that match nothing there are skipped (a subset may name tasks a study did not run).

    Example:
        >>> match_tasks(["a/*", "!*/2", "c/1"], ["a/1", "a/2", "b/1"])
        ['a/1']
    """
    pool = list(dict.fromkeys(map(str, ids)))
    out: dict[str, None] = {}
    for pat in patterns:
        if pat.startswith("!"):
            drop = set(fnmatch.filter(list(out), pat[1:]))
            out = {t: None for t in out if t not in drop}
        else:
            out.update(dict.fromkeys(fnmatch.filter(pool, pat)))
    return list(out)


def check_held_out(held_out: Sequence[str], present: Iterable[str]) -> None:
    """Refuse held-out optimizers that the results do not have, naming the valid ones.

    Example:
        >>> check_held_out(["a"], ["a", "b"])
    """
    valid = sorted(map(str, present))
    unknown = [o for o in held_out if o not in valid]
    if unknown:
        raise ValueError(f"held-out optimizer(s) {unknown} not in the results; valid choices: {valid}")


def subset_section(
    taskset: Taskset,
    runs: pd.DataFrame,
    held_out: Sequence[str] | None = None,
    n_random: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    protocol: bool = True,
) -> Section:
    """One report sub-section validating ``taskset`` on the per-run scores ``runs``.

    Two judgements per task type: the subset itself (:func:`analysis.subsets.validation.validate` on
    the held-out optimizers), and, when the taskset names its ``selector`` and ``protocol`` is on,
    the selector that chose it, by the leave-optimizers-out protocol on these results
    (:func:`analysis.subsets.protocol.evaluate_selector`: it re-selects subsets of the same size
    among these tasks, blind to each held-out group, with percentiles and their intervals). One subset
    is one draw; the protocol says whether its selector beats random subsets here.

    Args:
        taskset: the subset (see :func:`load_taskset`).
        runs: one row per run with ``task``, ``task_type``, ``optimizer`` and ``score``
            (``analysis.leaderboard.stats.run_scores``); scores are averaged over seeds per task.
        held_out: optimizers to rank; default every optimizer in ``runs`` that is not in
            ``taskset.embedding``.
        n_random: random same-size subsets for the percentiles.
        seed: seed of the random subsets.
        alpha: level of the Nemenyi test that decides which pairs the full set separates.
        protocol: also judge the taskset's selector (see above).
    """
    section = Section(f"Taskset {taskset.name}", level=3)
    present = sorted(map(str, pd.unique(runs["optimizer"])))
    if held_out is None:
        held = [o for o in present if o not in set(taskset.embedding)]
        why = (
            f"not used to choose the subset; {', '.join(taskset.embedding)} were"
            if taskset.embedding
            else "the taskset does not name its embedding optimizers, so all are ranked"
        )
    else:
        check_held_out(held_out, present)
        held, why = list(held_out), "as requested"
    runs = runs.assign(task=runs["task"].astype(str), task_type=runs["task_type"].astype(str))
    subset = match_tasks(taskset.tasks, runs["task"])
    if not subset:
        section.text.append(
            f"None of the taskset's {len(taskset.tasks)} entries matches a task in these "
            "results: nothing to validate."
        )
        return section
    section.text.append(
        f"The taskset's {len(taskset.tasks)} entries match {len(subset)} tasks of these "
        f"results. Held-out optimizers: {', '.join(held)} ({why})."
    )
    if len(held) < 2:
        section.text.append("Fewer than two held-out optimizers: there is no ranking to compare.")
        return section
    in_subset = runs["task"].isin(subset)
    for task_type in sorted(pd.unique(runs.loc[in_subset, "task_type"])):
        part = runs[runs["task_type"] == task_type]
        scores = part.pivot_table(index="task", columns="optimizer", values="score", aggfunc="mean")
        tasks = [t for t in subset if t in scores.index]
        try:
            v = validate(scores, tasks, held, n_random=n_random, seed=seed, alpha=alpha)
        except ValueError as exc:  # e.g. no subset task has a score for every held-out optimizer
            section.text.append(f"{task_type}: not validated: {exc}.")
            continue
        table = pd.DataFrame(
            {
                "mean rank, all tasks": v.full_mean_ranks.round(3),
                "mean rank, subset": v.subset_mean_ranks.round(3),
                "position, all tasks": v.full_mean_ranks.rank(method="average"),
                "position, subset": v.subset_mean_ranks.rank(method="average"),
            }
        ).sort_values("mean rank, all tasks")
        table.index.name = "optimizer"
        section.tables.append(
            (
                f"Mean ranks of the held-out optimizers ({task_type}): {v.n_subset} subset "
                f"tasks vs all {v.n_tasks}",
                table,
            )
        )
        section.text.append(_verdict(task_type, v))
        if protocol:
            verdict = _protocol_verdict(task_type, taskset, scores, len(tasks), n_random, seed, alpha)
            section.text.append(verdict)
    return section


def _protocol_verdict(
    task_type: str, taskset: Taskset, scores: pd.DataFrame, k: int, n_random: int, seed: int, alpha: float
) -> str:
    """The taskset's selector under the leave-optimizers-out protocol on these results, in one paragraph."""
    from analysis.subsets.protocol import drop_twins, evaluate_selector
    from analysis.subsets.selectors import SELECTORS, task_families

    if taskset.selector is None:
        return (
            f"{task_type}: the taskset does not name the selector that chose it (no 'selector:' key), so "
            "only this one subset is judged above, not its selector (docs/subsets.md, the protocol)."
        )
    complete = scores.dropna(axis=0, how="any")
    table, twins = drop_twins(complete)
    if table.shape[1] < 4 or not 1 <= k < len(table):
        return (
            f"{task_type}: selector {taskset.selector} not judged by the leave-optimizers-out protocol: it "
            f"needs at least 4 distinct optimizers and more complete tasks than the subset has "
            f"({table.shape[1]} optimizers, {len(table)} complete tasks, subset {k})."
        )
    families = task_families(table.index)
    res = evaluate_selector(
        table,
        SELECTORS[taskset.selector],
        k,
        repeats=1,
        seeds=2,
        n_random=min(n_random, 500),
        families=families,
        seed=seed,
        alpha=alpha,
        n_boot=min(max(n_random, 100), 1000),
        name=taskset.selector,
    )
    parts = [
        f"{label} {m.percentile:.0f} [{m.lo:.0f}, {m.hi:.0f}]"
        for label, m in (
            ("τ", res.measures["tau"]),
            ("mean-rank error", res.measures["rank_error"]),
            ("score correlation", res.measures["score_corr"]),
        )
    ]
    twin_note = (
        " Left out as twins (identical scores on every task): "
        + ", ".join(f"{d} (= {kept})" for d, kept in twins.items())
        + "."
        if twins
        else ""
    )
    return (
        f"{task_type}: its selector, {taskset.selector}, under the leave-optimizers-out protocol on these "
        f"results ({res.n_cells} selections of {k} of {len(table)} tasks, each blind to a group of "
        f"{min(len(g) for g in res.folds[0])}-{max(len(g) for g in res.folds[0])} of the "
        f"{table.shape[1]} optimizers and judged on it): percentiles among random subsets of the same "
        f"size (50 = chance, {res.ci:.0%} intervals) {', '.join(parts)}.{twin_note}"
    )


def _verdict(task_type: str, v: Validation) -> str:
    top1 = (
        "agrees"
        if v.top1_agree
        else f"differs (all tasks: {'/'.join(v.top1_full)}, subset: {'/'.join(v.top1_subset)})"
    )
    pairs = (
        f"of the {len(v.separated_pairs)} pairs the full set separates (Nemenyi), the subset keeps "
        f"{v.pairs_kept} in order ({v.random_pairs_kept_share:.0f}% of random subsets keep all)"
        if v.separated_pairs
        else "the full set separates no pair (Nemenyi)"
    )
    own = (
        f"the subset's own Nemenyi test (CD {v.subset_cd:.2f}) separates {len(v.subset_separated)} pairs, "
        f"{len(v.contradictions)} of them against the full ranking"
        + (f" ({', '.join(f'{a} ahead of {b}' for a, b in v.contradictions)})" if v.contradictions else "")
        + f"; random subsets separate {v.random_separated_mean:.1f} and "
        f"{v.random_contradiction_share:.1f}% of them contradict it"
    )
    text = (
        f"{task_type}: Kendall τ {v.tau:.3f} (percentile {v.percentile:.0f} among {v.n_random} random "
        f"{v.n_subset}-task subsets; median τ {v.random_tau_median:.3f}); "
        f"mean-rank error {v.rank_error:.3f} "
        f"(percentile {v.rank_error_percentile:.0f}, higher is better); top-1 {top1}; largest change of "
        f"position {v.max_rank_change:g} ({v.max_rank_change_optimizer}); {pairs}; {own}."
    )
    return text + (f" Note: {v.note}." if v.note else "")
