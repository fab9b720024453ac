"""Command line: ``python -m analysis report DIR``, ``... subset SOURCE...``, ``... scores SOURCE...``.

``subset`` and ``scores`` accept several sources: study folders (or run files) and score tables
written by ``scores --out``, so pieces of one study run on different machines can be combined.

Example:
    >>> main([])  # doctest: +ELLIPSIS
    usage: python -m analysis [-h]...
    ...
    0
"""

from __future__ import annotations

import argparse
import math
import re
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.cli_parser import OneLineParser
from analysis.out_folder import check_out_folder

#: Commands whose module has its own command line (``main_*(argv)``), with their help line.
_DELEGATED_HELP: dict[str, str] = {
    "export-coco": "write the runs of bbob tasks in COCO's data format, for cocopp",
    "export-ioh": "write single-objective runs in the IOHprofiler format (IOHanalyzer, iohinspector)",
    "import-carps": "turn carps run logs into a results file the report reads",
}


def _delegated(command: str, argv: Sequence[str]) -> int:
    if command == "export-coco":
        from analysis.export.coco import main_export

        return main_export(list(argv))
    if command == "export-ioh":
        from analysis.export.ioh import main_export_ioh

        return main_export_ioh(list(argv))
    if command == "import-carps":
        from analysis.imports.carps import main_import_carps

        return main_import_carps(list(argv))
    raise AssertionError(command)  # every name of _DELEGATED_HELP has its branch


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="python -m analysis",
        description="Analyse NxM-Bench results: normalized regret, ranks, tests, profiles, report.",
    )
    sub = p.add_subparsers(dest="command")
    r = sub.add_parser("report", help="write report.html and report.md for a results folder or file")
    r.add_argument("results", help="a study folder, its runs/ folder, or one run file")
    r.add_argument("--out", default=None, help="output folder (default: RESULTS/report)")
    r.add_argument(
        "--x",
        default=None,
        choices=["trials", "budget_used", "sim_time", "wall_time"],
        help="budget axis of the anytime curves and profiles "
        "(default: budget_used on multi-fidelity task types, trials on the others)",
    )
    r.add_argument(
        "--baseline",
        default=None,
        help="optimizer for wins/ties/losses (default: random_search, where the results have it)",
    )
    r.add_argument("--alpha", type=float, default=0.05, help="significance level")
    r.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
    r.add_argument("--no-figures", action="store_true", help="tables only (fast)")
    r.add_argument(
        "--taskset",
        action="append",
        default=[],
        metavar="NAME_OR_YAML",
        help="validate this taskset (subset) against all tasks of the results in a "
        "'Representative subsets' section; repeatable",
    )
    r.add_argument(
        "--held-out",
        default=None,
        help="comma-separated optimizers to rank for --taskset (default: those not in the "
        "taskset's 'embedding' list)",
    )
    r.add_argument(
        "--allow-mixed",
        action="store_true",
        help="report results that mix studies or incomparable settings (budget, time limits, "
        "n_workers, optimizer parameters, task revisions) anyway, under a warning "
        "section naming the groups (default: refuse them)",
    )
    r.add_argument(
        "--baselines",
        default=None,
        metavar="archive|DIR",
        help="rank these runs together with the archived baselines (the archive installed with "
        "nxm-bench, or an archive folder): every archived optimizer not among these runs, at the "
        "same budget, seeds, task revisions and objectives (docs/baselines.md)",
    )
    b = sub.add_parser("baselines", help="write the archived baselines' leaderboard (docs/baselines/)")
    b.add_argument("--out", default="docs/baselines", help="output folder (default: docs/baselines)")
    b.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
    s = sub.add_parser("subset", help="select representative dev (and test) task subsets; write tasksets")
    s.add_argument(
        "results",
        nargs="+",
        metavar="SOURCE",
        help="study folders, run files, score tables written by 'scores --out', or the baseline archive "
        "(archive:dev_bb, or archive:bb for the dev and test pieces)",
    )
    s.add_argument("--k", type=int, default=10, help="tasks per subset")
    s.add_argument(
        "--embed-optimizers",
        default=None,
        help="comma-separated optimizers to embed tasks with (default: up to 3 dissimilar ones)",
    )
    s.add_argument(
        "--reference",
        default="empirical",
        help="discrepancy reference: empirical (default: the best selector of docs/subsets.md's comparison) "
        "or uniform",
    )
    s.add_argument("--method", default="shift", help="selection method: shift, greedy or random")
    s.add_argument("--log", action="store_true", help="embed log10 of the regrets")
    s.add_argument("--time-budget", type=float, default=10.0, help="seconds per selected subset")
    s.add_argument("--seed", type=int, default=0, help="seed of the selection and the random subsets")
    s.add_argument(
        "--max-evaluations",
        type=int,
        default=None,
        help="stop the shift search after this many evaluations (reproducible; --time-budget still caps it)",
    )
    s.add_argument("--task-type", default=None, help="only this task type (default: each type present)")
    s.add_argument("--name", default=None, help="taskset name prefix (default: the study folder name)")
    s.add_argument("--out", default="conf/taskset", help="folder for <name>_dev.yaml / <name>_test.yaml")
    s.add_argument("--test", action="store_true", help="also select a disjoint test subset")
    s.add_argument("--n-random", type=int, default=1000, help="random subsets for the tau percentile")
    s.add_argument(
        "--selector",
        default="discrepancy",
        help="how to choose the tasks: discrepancy (star discrepancy, with --reference, --method, "
        "--time-budget and --max-evaluations; discrepancy_empirical and discrepancy_uniform, the names "
        "a taskset records, are it with that reference) or a selector of analysis.subsets.selectors (random, "
        "farthest_first, kmedoids, d_optimal, a_optimal, predictive, discriminative, stratified, ...), "
        "which sees the embedding optimizers' scores (docs/subsets.md, 'Selectors compared')",
    )
    s.add_argument(
        "--no-protocol",
        action="store_true",
        help="skip judging the selector by the leave-optimizers-out protocol (run by default: "
        "analysis.subsets.protocol, held-out percentiles with intervals)",
    )
    # --protocol: the protocol is the default now; the flag still parses
    s.add_argument("--protocol", action="store_true", help=argparse.SUPPRESS)
    s.add_argument(
        "--drop-ties",
        action="store_true",
        help="do not select tasks on which all embedding optimizers tie (selected by default: "
        "the held-out optimizers can still differ there, and the full set includes them)",
    )
    s.add_argument(
        "--allow-mixed",
        action="store_true",
        help="use a source that mixes studies or incomparable settings anyway (default: refuse)",
    )
    # Commands with their own parser in their module: everything after the name goes there.
    for name, help_ in _DELEGATED_HELP.items():
        d = sub.add_parser(name, help=help_, add_help=False)
        d.add_argument("args", nargs=argparse.REMAINDER)
    c = sub.add_parser("scores", help="write the tasks x optimizers score table (mean final regret)")
    c.add_argument(
        "results",
        nargs="+",
        metavar="SOURCE",
        help="study folders, run files, score tables written by this command, or the baseline archive "
        "(archive:<piece> such as archive:dev_bb, or archive:<type>: its dev and test pieces)",
    )
    c.add_argument("--out", required=True, help="output file, .parquet or .csv")
    c.add_argument(
        "--allow-mixed",
        action="store_true",
        help="score a source that mixes studies or incomparable settings anyway (default: refuse)",
    )
    return p


def check_report_options(args: argparse.Namespace) -> None:
    """Refuse ``report`` option values that no results could make valid, before anything is loaded.

    Each check used to depend on the data (``--alpha`` was read only by the statistical tests, which
    need 6 complete tasks; an empty ``--baselines`` read as none), so a bad value passed unseen.

    Example:
        >>> args = _parser().parse_args(["report", "results/x", "--alpha", "2"])
        >>> check_report_options(args)
        Traceback (most recent call last):
        ...
        ValueError: --alpha 2.0 must lie strictly between 0 and 1 (a significance level such as 0.05)
    """
    if not 0.0 < args.alpha < 1.0:  # NaN fails it too
        raise ValueError(
            f"--alpha {args.alpha} must lie strictly between 0 and 1 (a significance level such as 0.05)"
        )
    if args.n_boot < 0:
        raise ValueError(f"--n-boot {args.n_boot} must be >= 0 (bootstrap resamples; 0: no intervals)")
    if args.baselines is not None and not args.baselines.strip():
        raise ValueError(
            f"--baselines {args.baselines!r} names no archive: use 'archive' (the archive installed with "
            "nxm-bench) or a folder holding an archive's manifest.json"
        )
    if args.baseline is not None and not args.baseline.strip():
        raise ValueError(
            f"--baseline {args.baseline!r} names no optimizer: give one optimizer id of the results "
            "(default: random_search)"
        )
    if args.held_out is not None and not [o for o in args.held_out.split(",") if o.strip()]:
        raise ValueError(
            f"--held-out {args.held_out!r} names no optimizer: give comma-separated optimizer ids, or "
            "leave it out to rank those not in each taskset's 'embedding' list"
        )


def check_subset_options(args: argparse.Namespace) -> None:
    """Refuse ``subset`` option values that no results could make valid, before anything is loaded.

    Example:
        >>> args = _parser().parse_args(["subset", "results/x", "--n-random", "0"])
        >>> check_subset_options(args)
        Traceback (most recent call last):
        ...
        ValueError: --n-random 0 must be >= 1 (random subsets to rank the chosen one among)
    """
    if args.k < 1:
        raise ValueError(f"--k {args.k} must be >= 1")
    # Not `<= 0`: NaN compares false with everything and used to start a search that never stopped.
    if not (math.isfinite(args.time_budget) and args.time_budget > 0):
        raise ValueError(f"--time-budget {args.time_budget} must be > 0 seconds")
    if args.max_evaluations is not None and args.max_evaluations < 1:
        raise ValueError(f"--max-evaluations {args.max_evaluations} must be >= 1")
    if args.n_random < 1:  # 0 random subsets left every percentile NaN
        raise ValueError(
            f"--n-random {args.n_random} must be >= 1 (random subsets to rank the chosen one among)"
        )
    if args.seed < 0:
        raise ValueError(f"--seed {args.seed} must be >= 0")


def _one_line(exc: BaseException) -> str:
    """An exception as one line: library messages (pyarrow's) may span several."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _load(
    path: str, allow_mixed: bool = False, for_report: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame | None, dict[str, Any] | None]:
    """Trials, run metadata and manifest of one source; bad or mixed results raise a one-line ValueError."""
    from analysis.load import MixedResultsError, comparability_groups, load, load_runs
    from bench.results import read_manifest

    try:
        df = load(path)
    except (OSError, ValueError) as exc:
        # A damaged or unreadable file: name where it was found when the message does not.
        msg = _one_line(exc)
        raise ValueError(msg if str(path) in msg else f"cannot load results from {path!r}: {msg}") from exc
    if len(df) == 0:
        raise ValueError(f"no trial rows under {path!r}; point at a study folder with runs/*.parquet")
    runs_meta: pd.DataFrame | None
    manifest: dict[str, Any] | None = None
    try:
        runs_meta = load_runs(path)
    except (OSError, ValueError):
        # Metadata enriches provenance and knows zero-trial runs; the report stands without it.
        runs_meta = None
    else:
        # A study.json that cannot be read is refused (one line naming it): without it the expected
        # grid would silently become the cross product seen in the data.
        manifest = read_manifest(path)
    groups = comparability_groups(runs_meta, df)
    if groups and not allow_mixed:
        raise MixedResultsError(f"{path} mixes", groups, _way_out(path, groups, for_report))
    return df, runs_meta, manifest


def _way_out(path: str, groups: Sequence[Any], for_report: bool) -> str:
    """What to do about a mixed source, for the refusal message."""
    verb = (
        "report them together under a warning that names these groups"
        if for_report
        else ("use them together")
    )
    studies = [g for g in groups if g.setting == "study"]
    if studies and for_report:
        folders = [Path(path) / v.strip("'") for v, _ in studies[0].counts]
        example = next((f for f in folders if f.is_dir()), None)
        hint = f" (e.g. python -m analysis report {example})" if example is not None else ""
        return f"report one study folder at a time{hint}, or pass --allow-mixed to {verb}"
    if studies:
        return f"give one study folder per source, or pass --allow-mixed to {verb}"
    return (
        f"move the runs of all but one group out of {path} (or re-run them with one setting), "
        f"or pass --allow-mixed to {verb}"
    )


_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


#: Columns of a score table file written by ``scores --out``.
SCORE_COLUMNS = ("task", "task_type", "optimizer", "score", "n_runs")


def _read_score_file(path: Path) -> pd.DataFrame | None:
    """A score table file as a long frame, or None when ``path`` is something else (a run file)."""
    if path.suffix == ".csv":
        frame = pd.read_csv(path)
    elif path.suffix == ".parquet":
        import pyarrow.parquet as pq

        if not set(SCORE_COLUMNS) <= set(pq.read_schema(path).names):
            return None
        frame = pd.read_parquet(path)
    else:
        return None
    missing = [c for c in SCORE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{str(path)!r} is not a score table: columns {missing} missing; "
            "write one with 'python -m analysis scores SOURCE --out FILE'"
        )
    return frame[list(SCORE_COLUMNS)]


def study_run_scores(path: str, allow_mixed: bool = False) -> pd.DataFrame:
    """One row per run of a study folder (or run file) with the score the leaderboards rank.

    ``analysis.leaderboard.stats.run_scores`` (each objective in the direction its run recorded); ``task`` and
    ``optimizer`` as plain strings. A folder mixing studies or incomparable settings raises
    ``analysis.load.MixedResultsError`` unless ``allow_mixed``.
    """
    from analysis.leaderboard.stats import run_scores

    df, _, _ = _load(path, allow_mixed=allow_mixed, for_report=False)
    runs = run_scores(df)
    return runs.assign(task=runs["task"].astype(str), optimizer=runs["optimizer"].astype(str))


def score_matrix(long: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Tasks x optimizers (sorted) of a long score table, and the tasks dropped as incomplete."""
    from analysis.leaderboard.stats import complete_blocks

    wide = long.pivot_table(index="task", columns="optimizer", values="score", aggfunc="mean")
    wide.columns.name = "optimizer"
    return complete_blocks(wide.sort_index(axis=0).sort_index(axis=1))


def _long_scores(path: str, allow_mixed: bool = False) -> pd.DataFrame:
    """Mean final score per (task, optimizer) of one source, in long form.

    The score is what the leaderboards rank: final normalized regret of the first objective on
    single-objective types, final hypervolume regret on multi-objective ones.
    """
    from analysis.subsets.archive_scores import archive_scores, is_archive_source

    if is_archive_source(path):
        return archive_scores(path)
    file = _read_score_file(Path(path)) if Path(path).is_file() else None
    if file is not None:
        return file
    from analysis.leaderboard.stats import seed_means

    return seed_means(study_run_scores(path, allow_mixed=allow_mixed))[list(SCORE_COLUMNS)]


def _check_sources(sources: Sequence[str]) -> None:
    """Refuse a source path that does not exist, before anything derived from it (a taskset name)."""
    for src in sources:
        if not src.startswith("archive:") and not Path(src).exists():
            raise ValueError(f"no results at {src!r}: give a study folder, a run file or a score table")


def combined_scores(sources: Sequence[str], allow_mixed: bool = False) -> pd.DataFrame:
    """Long score table of several sources; a (task, optimizer) pair may come from one source only.

    Normalization is per task (regret against the task's optimum or its own min-max over the
    runs), so scores of disjoint task sets computed in different places can be stacked. A source
    folder mixing studies or incomparable settings is refused unless ``allow_mixed``.
    """
    frames = [_long_scores(src, allow_mixed).assign(_source=src) for src in sources]
    long = pd.concat(frames, ignore_index=True)
    dup = long[long.duplicated(["task", "optimizer"], keep=False)]
    if len(dup):
        pairs = dup.drop_duplicates(["task", "optimizer"]).head(3)
        shown = ", ".join(f"{t} x {o}" for t, o in zip(pairs["task"], pairs["optimizer"], strict=True))
        raise ValueError(
            f"{dup[['task', 'optimizer']].drop_duplicates().shape[0]} (task, optimizer) "
            f"pairs appear in more than one source (e.g. {shown}); "
            "give each run of a pair in one source only"
        )
    return long.drop(columns="_source")


def _scores(args: argparse.Namespace) -> None:
    """``scores``: write the combined long score table."""
    out = Path(args.out)
    if out.suffix not in (".parquet", ".csv"):
        raise ValueError(f"--out {args.out!r} must end in .parquet or .csv")
    _check_sources(args.results)
    check_out_folder(out.parent, "--out", args.out)
    long = combined_scores(args.results, args.allow_mixed)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        long.to_csv(out, index=False)
    else:
        long.to_parquet(out, index=False)
    counts = long.groupby("task_type")["task"].nunique().to_dict()
    print(f"wrote {out}: {len(long)} scores; tasks per type {counts}")


def _subset(args: argparse.Namespace, argv: Sequence[str]) -> None:
    """``subset``: embed, select dev (and test), validate on held-out optimizers, write tasksets."""
    from analysis.subsets.selection import (
        METHODS,
        REFERENCES,
        dev_test_split,
        embed_scores,
        select_subset,
        tied_tasks,
    )
    from analysis.subsets.validation import default_embed_optimizers, embedding_signal, taskset_yaml, validate

    if args.reference not in REFERENCES:
        raise ValueError(f"unknown --reference {args.reference!r}; valid choices: {list(REFERENCES)}")
    if args.method not in METHODS:
        raise ValueError(f"unknown --method {args.method!r}; valid choices: {list(METHODS)}")
    check_subset_options(args)
    from analysis.subsets.selectors import SELECTORS

    named = sorted(SELECTORS, key=lambda n: not n.startswith("discrepancy_"))  # discrepancy_* first
    valid_selectors = ["discrepancy", *named]
    if args.selector not in valid_selectors:
        raise ValueError(f"unknown --selector {args.selector!r}; valid choices: {valid_selectors}")
    if args.selector.startswith("discrepancy_"):  # the name a taskset records: discrepancy + its reference
        reference = args.selector.removeprefix("discrepancy_")
        given = any(a == "--reference" or a.startswith("--reference=") for a in argv)
        if given and args.reference != reference:
            raise ValueError(
                f"--selector {args.selector} selects with reference {reference!r} but --reference "
                f"{args.reference!r} was given; drop one of them"
            )
        args.selector, args.reference = "discrepancy", reference
    _check_sources(args.results)
    src = Path(args.results[0])
    name = args.name or (src if src.is_dir() else src.parent).resolve().name
    if args.name is None and args.results[0].startswith("archive:"):
        name = args.results[0].replace(":", "_")  # archive:bb -> archive_bb
    if name == "runs":
        name = src.resolve().parent.name
    if not _NAME_RE.match(name):
        raise ValueError(f"--name {name!r} is not a valid taskset name; use letters, digits, '_', '.', '-'")
    check_out_folder(Path(args.out), "--out", args.out)
    long = combined_scores(args.results, args.allow_mixed)
    types = sorted(long["task_type"].astype(str).unique())
    if args.task_type is not None:
        if args.task_type not in types:
            raise ValueError(f"unknown --task-type {args.task_type!r}; valid choices: {types}")
        types = [args.task_type]
    for ttype in types:
        prefix = name if len(types) == 1 else f"{name}_{ttype}"
        sel_type = long[long["task_type"] == ttype]
        scores, dropped = score_matrix(sel_type)
        opts = [str(c) for c in scores.columns]
        if args.embed_optimizers:
            embed = [o.strip() for o in args.embed_optimizers.split(",") if o.strip()]
            bad = [o for o in embed if o not in opts]
            if bad:
                raise ValueError(f"unknown --embed-optimizers {bad} ({ttype} tasks); valid choices: {opts}")
        else:
            embed = default_embed_optimizers(scores)
        held = [o for o in opts if o not in embed]
        # Candidates: every complete task, so that a subset samples the population the full-set ranking
        # is computed on. Tasks where the embedding ties are not uninformative for other optimizers
        # (on the MF catalog they order the held-out methods differently), so leaving them out biases
        # the subset; --drop-ties does it anyway. Validation always ranks on every complete task.
        ties = list(tied_tasks(scores[embed])) if args.drop_ties else []
        candidates = scores.drop(index=ties)
        n = len(candidates)
        need = 2 * args.k if args.test else args.k
        if need > n:
            top = n // 2 if args.test else n
            tie_note = f" that do not tie ({len(ties)} do)" if ties else ""
            raise ValueError(
                f"--k {args.k} needs {need} tasks{' (dev + test)' if args.test else ''} but "
                f"task type {ttype} has {n} complete tasks{tie_note}; "
                f"valid choices: --k 1..{top}"
            )
        points = embed_scores(candidates[embed], log=args.log).to_numpy()
        kw = dict(
            method=args.method,
            reference=args.reference,
            seed=args.seed,
            time_budget=args.time_budget,
            max_evaluations=args.max_evaluations,
        )
        if args.selector != "discrepancy":
            sels = _select_with(
                args.selector, candidates[embed], args.k, args.seed, args.test, points, args.reference
            )
        elif args.test:
            sels = dict(zip(("dev", "test"), dev_test_split(points, args.k, args.k, **kw), strict=True))
        else:
            sels = {"dev": select_subset(points, args.k, **kw)}
        rnd = [
            select_subset(points, args.k, "random", args.reference, seed=args.seed + 1 + i).discrepancy
            for i in range(50)
        ]
        print(
            f"== task type {ttype}: {len(scores)} tasks x {len(opts)} optimizers"
            + (f" ({len(dropped)} incomplete tasks dropped)" if dropped else "")
        )
        if ties:
            print(f"{len(ties)} tasks where the embedding optimizers tie are not selected (--drop-ties)")
        how = (
            f"reference {args.reference}; method {args.method}"
            if args.selector == "discrepancy"
            else f"selector {args.selector}"
        )
        print(f"embedding optimizers: {', '.join(embed)}; {how}")
        print(f"random {args.k}-task subsets: median discrepancy {np.median(rnd):.4f}")
        signal = (
            embedding_signal(points, candidates, held, neighbours=min(15, n - 1))
            if len(held) >= 2 and n >= 3
            else float("nan")
        )
        print(
            f"embedding signal: {signal:.3f} of the held-out per-task ranks explained by the embedding "
            "(leave-one-out 15-NN R^2; near 0: no subset can beat random ones at ranking them)"
        )
        method_lines = [] if args.no_protocol else _protocol_lines(args, scores, candidates.index)
        for line in method_lines:
            print(line)
        out = Path(args.out)
        for part, sel in sels.items():
            tasks = [str(t) for t in candidates.index[sel.indices]]
            val = validate(scores, tasks, held, n_random=args.n_random, seed=args.seed)
            print(f"-- {prefix}_{part}: k={args.k}, discrepancy {sel.discrepancy:.4f}")
            print("tasks: " + ", ".join(tasks))
            print(val.summary())
            header = [
                f"{part} subset of {args.k} {ttype} tasks "
                + (
                    "with low star discrepancy"
                    if args.selector == "discrepancy"
                    else f"by selector {args.selector}"
                ),
                f"source: {', '.join(str(Path(a).resolve().name) for a in args.results)} "
                f"({len(scores)} tasks x {len(opts)} optimizers"
                f"{f'; {len(ties)} where the embedding optimizers tie not selectable' if ties else ''})",
                f"embedding optimizers: {', '.join(embed)}; "
                + (
                    f"reference: {args.reference}; method: {args.method}; log: {args.log}; "
                    if args.selector == "discrepancy"
                    else f"selector: {args.selector}; "
                )
                + f"seed: {args.seed}; evaluations: {sel.evaluations}",
                f"discrepancy: {sel.discrepancy:.4f} (random subsets: median {np.median(rnd):.4f})",
                f"held-out optimizers: {', '.join(held)}",
                f"Kendall tau of held-out mean ranks vs all tasks: {val.tau:.3f} "
                f"(percentile {val.percentile:.1f} among {val.n_random} random subsets); "
                f"top-1 {'agrees' if val.top1_agree else 'differs'}",
                f"mean-rank error: {val.rank_error:.3f} (percentile {val.rank_error_percentile:.1f}, "
                f"higher is better); pairs separated on all tasks kept in order: "
                f"{val.pairs_kept}/{len(val.separated_pairs)}; embedding signal: {signal:.3f}",
                f"pairs the subset's own Nemenyi test separates (CD {val.subset_cd:.2f}): "
                f"{len(val.subset_separated)}, contradicting the full ranking: {len(val.contradictions)} "
                f"(random subsets: {val.random_separated_mean:.1f}, "
                f"{val.random_contradiction_share:.1f}% with a contradiction)",
                *([f"note: {val.note}"] if val.note else []),
                *method_lines[1:2],
                "command: python -m analysis " + " ".join(shlex.quote(a) for a in argv),
            ]
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"{prefix}_{part}.yaml"
            path.write_text(taskset_yaml(tasks, header, embed, _selector_name(args)))
            print(f"wrote {path} (use as study.taskset={prefix}_{part})")


def _selector_name(args: argparse.Namespace) -> str | None:
    """The :data:`analysis.subsets.selectors.SELECTORS` name of what ``subset`` selected with (None for
    the greedy discrepancy method and for ``--log``, which have no entry there)."""
    if args.selector != "discrepancy":
        return str(args.selector)
    if args.log:  # the registered discrepancy selectors embed the scores as they are
        return None
    if args.method == "shift":
        return f"discrepancy_{args.reference}"
    return "random" if args.method == "random" else None


def _select_with(
    name: str, seen: pd.DataFrame, k: int, seed: int, test: bool, points: np.ndarray, reference: str
) -> dict[str, Any]:
    """Dev (and test, among the other tasks) subsets by the selector ``name`` of
    :mod:`analysis.subsets.selectors`, as :class:`~analysis.subsets.selection.Selection` objects (their
    star discrepancy w.r.t. ``reference`` reported for comparison with the discrepancy selector)."""
    from analysis.subsets.discrepancy import star_discrepancy
    from analysis.subsets.selection import Selection
    from analysis.subsets.selectors import SelectionInput, select, task_families

    rng = np.random.default_rng(seed)
    families = task_families(seen.index)
    out: dict[str, Any] = {}
    taken: list[str] = []
    for part in ("dev", "test") if test else ("dev",):
        t0 = time.perf_counter()
        pool = seen.drop(index=taken)
        tasks = select(name, SelectionInput(pool, k, rng, families=families.loc[pool.index]))
        idx = np.sort(seen.index.get_indexer(tasks))
        disc = star_discrepancy(points[idx], "uniform" if reference == "uniform" else points)
        out[part] = Selection(idx, float(disc), name, 0, time.perf_counter() - t0)
        taken += tasks
    return out


def _protocol_lines(args: argparse.Namespace, scores: pd.DataFrame, candidates: pd.Index) -> list[str]:
    """The leave-optimizers-out judgement of ``subset``'s selector (run unless ``--no-protocol``): a title
    line, one line for the taskset header (held-out percentiles with intervals), then the protocol's
    summary. The selector chooses among ``candidates`` (all tasks unless ``--drop-ties``) and is judged
    on every complete task, as the subset it wrote is."""
    from analysis.subsets.protocol import drop_twins, evaluate_selector
    from analysis.subsets.selectors import SelectionInput, select, select_by_discrepancy, task_families

    table, twins = drop_twins(scores)
    if table.shape[1] < 4:
        raise ValueError(
            f"the protocol needs at least 4 optimizers with complete (and distinct) scores, the table has "
            f"{table.shape[1]}; pass --no-protocol to select without judging the selector"
        )
    allowed = set(map(str, candidates))

    def selector(inp: SelectionInput) -> list[str]:
        # The selector of this command, on what the protocol lets it see, among the selectable tasks.
        keep = inp.scores.index.isin(allowed)
        inp = SelectionInput(
            inp.scores[keep],
            inp.k,
            inp.rng,
            None if inp.families is None else inp.families.reindex(inp.scores.index[keep]),
            None if inp.noise is None else inp.noise[keep],
        )
        if args.selector != "discrepancy":
            return select(args.selector, inp)
        return select_by_discrepancy(
            inp,
            args.reference,
            method=args.method,
            time_budget=args.time_budget,
            max_evaluations=args.max_evaluations,  # None: the selectors' MAX_EVALUATIONS
        )

    families = task_families(table.index)
    res = evaluate_selector(
        table,
        selector,
        args.k,
        repeats=1,
        seeds=2,
        n_random=min(args.n_random, 500),
        families=families,
        seed=args.seed,
        name=args.selector if args.selector != "discrepancy" else f"{args.method}/{args.reference}",
    )
    tau, err, corr = res.measures["tau"], res.measures["rank_error"], res.measures["score_corr"]
    header = (
        f"selector under the leave-optimizers-out protocol ({res.n_cells} cells, {res.n_optimizers} "
        f"optimizers): held-out percentiles among random subsets (50 = chance) tau {tau.percentile:.1f} "
        f"[{tau.lo:.1f}, {tau.hi:.1f}], mean-rank error {err.percentile:.1f} [{err.lo:.1f}, {err.hi:.1f}], "
        f"score r {corr.percentile:.1f} [{corr.lo:.1f}, {corr.hi:.1f}]"
    )
    twin_note = (
        ["twins left out of the protocol: " + ", ".join(f"{d} (= {k})" for d, k in twins.items())]
        if twins
        else []
    )
    title = "-- the selector, not this subset: leave-optimizers-out protocol"
    return [title, header, *twin_note, res.summary()]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in _DELEGATED_HELP:  # its own parser, its own --help
        return _delegated(argv[0], argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stdout)
        return 0
    if args.command == "baselines":
        from analysis.report.archive_leaderboard import write_leaderboard

        start = time.perf_counter()
        try:
            check_out_folder(Path(args.out), "--out", args.out)
            html_path, md_path = write_leaderboard(Path(args.out), n_boot=args.n_boot)
        except (OSError, ValueError) as exc:
            print(f"error: {_one_line(exc)}", file=sys.stderr)
            return 2
        print(f"wrote {html_path} and {md_path} in {time.perf_counter() - start:.1f} s")
        return 0
    if args.command in ("subset", "scores"):
        try:
            if args.command == "scores":
                _scores(args)
            else:
                _subset(args, argv=argv)
        except (OSError, ValueError) as exc:
            print(f"error: {_one_line(exc)}", file=sys.stderr)
            return 2
        return 0
    from analysis.report.build import build_report, write_report
    from analysis.report.subset_chapter import load_taskset

    start = time.perf_counter()
    try:
        check_report_options(args)
        tasksets = [load_taskset(t) for t in args.taskset]
        held_out = [o.strip() for o in args.held_out.split(",") if o.strip()] if args.held_out else None
        src = Path(args.results)
        out = Path(args.out) if args.out else (src if src.is_dir() else src.parent) / "report"
        if args.out or src.exists():  # a missing RESULTS is the loader's one line, not a folder's
            check_out_folder(out, "--out", str(args.out or out))
        df, runs_meta, manifest = _load(args.results, allow_mixed=args.allow_mixed)
        archived: dict[str, str] = {}
        notes: list[str] = []
        if args.baselines is not None:
            from analysis.baselines import add_baselines

            base = add_baselines(df, runs_meta, manifest, source=args.baselines)
            df, runs_meta, manifest, archived = base.trials, base.runs_meta, base.manifest, base.archived
            notes = [*base.refused, *base.notes]
            for line in notes:
                print(f"note: {line}", file=sys.stderr)
        if args.baseline is not None:
            # Asked for by name: a typo must not leave the leaderboards silently without W/T/L.
            present = sorted(map(str, pd.unique(df["optimizer"].astype(str))))
            if args.baseline not in present:
                raise ValueError(
                    f"--baseline {args.baseline!r} is not an optimizer of these results; "
                    f"valid choices: {present}"
                )
        if args.x is not None:
            from analysis.normalize import check_axis_recorded

            check_axis_recorded(df, args.x, "--x")  # named as the user gave it
        rep = build_report(
            df,
            runs_meta,
            manifest=manifest,
            x=args.x,
            baseline=args.baseline or "random_search",
            alpha=args.alpha,
            n_boot=args.n_boot,
            figures=not args.no_figures,
            tasksets=tasksets,
            held_out=held_out,
            allow_mixed=args.allow_mixed,
            archived=archived,
            baseline_notes=notes,
        )
        html_path, md_path = write_report(rep, out)
    except (OSError, ValueError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    print(f"wrote {html_path} and {md_path} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
