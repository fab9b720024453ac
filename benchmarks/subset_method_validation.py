"""Does a subset selector beat random subsets at reproducing held-out rankings? The protocol, by default.

By default it judges every selector by the leave-optimizers-out protocol (below). With
``--single-subset`` it runs the older check of one method: one selected subset's percentile against
random subsets is itself noisy (a different search seed gives a different subset and a different
percentile), so it repeats the selection of ``analysis.subsets.selection.select_subset`` (shift
heuristic, ``--max-evaluations`` per subset, so runs are reproducible) for several seeds on each
score table and reports, per table, the averages of the validation of
``analysis.subsets.validation.validate`` on the held-out optimizers:

* the mean percentile of Kendall's tau and of the mean-rank error among random subsets of the same
  size (50 = no better than random, higher = better);
* the share of selected subsets that keep every pair the full set's Nemenyi test separates, next to
  the same share for random subsets;
* the pairs the subset's own Nemenyi test separates, and the share of subsets where one of them
  contradicts the full set's order (next to both for random subsets);
* the embedding signal (``analysis.subsets.validation.embedding_signal``): how much of the held-out
  per-task ranks the embedding explains at all, the ceiling on any gain over random subsets.

``--reliability STUDY_DIR HELD_OUT`` instead prints ``analysis.subsets.validation.seed_reliability``
for the runs of one study folder: how well the held-out per-task ranking on one half of the seeds
predicts the other half (and the Spearman-Brown estimate for all seeds).

Run with ``--single-subset`` (the score tables of docs/subsets.md; 3 to 5 minutes per table for 10
seeds at 3,000 evaluations, k = 30)::

    python benchmarks/subset_method_validation.py --single-subset docs/data/catalog_bb_scores.parquet \\
        --embed random_search,optuna_tpe,ng_cmaes --k 30 --seeds 0 1 2 3 4 5 6 7 8 9

Output: one markdown row per table, for docs/subsets.md.

By default (``--compare`` says the same) it runs the leave-optimizers-out protocol of
``analysis.subsets.protocol`` for every selector of ``analysis.subsets.selectors`` (or
``--selectors a,b``) at every ``--ks`` on each table, and prints one markdown table per table: each
measure's mean percentile among random subsets of the same size, with its 90% bootstrap interval
over held-out groups and seeds. Optimizers with identical scores on every task are left out as
twins (named in the output). Task families (for the stratified selector) are the first component of
the task ids. A table may be an archive source (``archive:bb``: many optimizers at 10 seeds); for
those the split-half ceiling of the held-out groups is printed too::

    python benchmarks/subset_method_validation.py docs/data/catalog_*_scores.parquet \
        --ks 10 20 30 --repeats 2 --protocol-seeds 2
    python benchmarks/subset_method_validation.py archive:bb archive:mo archive:mf archive:mfmo \
        --ks 10 20 30 --folds 4 --repeats 5 --protocol-seeds 3 --n-random 500

``--single-subset`` runs the older check above instead (the multi-seed average of one method's
single-subset validations).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.__main__ import combined_scores, score_matrix, study_run_scores
from analysis.subsets.archive_scores import archive_run_scores, is_archive_source
from analysis.subsets.selection import embed_scores, select_subset, tied_tasks
from analysis.subsets.validation import default_embed_optimizers, embedding_signal, seed_reliability, validate


def score_table(path: str) -> pd.DataFrame:
    """Tasks x optimizers of one source of ``python -m analysis subset`` (one task type)."""
    long = combined_scores([path])
    if long["task_type"].nunique() != 1:
        raise ValueError(f"{path}: holds several task types {sorted(long['task_type'].unique())}; give one")
    return score_matrix(long)[0]


def check_table(
    scores: pd.DataFrame,
    embed: list[str],
    k: int,
    seeds: list[int],
    max_evaluations: int,
    reference: str,
    n_random: int,
    drop_ties: bool = False,
) -> dict[str, float]:
    """Average validation of subsets selected with each seed; see the module docstring.

    As ``python -m analysis subset``, subsets are chosen among all tasks (with ``drop_ties``: among
    those where the embedding optimizers do not all tie) and validated against all tasks.
    """
    held = [str(c) for c in scores.columns if c not in embed]
    ties = list(tied_tasks(scores[embed])) if drop_ties else []
    candidates = scores.drop(index=ties)
    points = embed_scores(candidates[embed]).to_numpy()
    tau_pct, err_pct, all_kept, rnd_kept, err = [], [], [], [], []
    own_sep, rnd_sep, contra, rnd_contra = [], [], [], []
    for seed in seeds:
        sel = select_subset(
            points, k, "shift", reference, seed=seed, time_budget=3600, max_evaluations=max_evaluations
        )
        tasks = [str(t) for t in candidates.index[sel.indices]]
        v = validate(scores, tasks, held, n_random=n_random, seed=seed)
        tau_pct.append(v.percentile)
        err_pct.append(v.rank_error_percentile)
        err.append(v.rank_error)
        all_kept.append(v.pairs_kept == len(v.separated_pairs))
        rnd_kept.append(v.random_pairs_kept_share)
        own_sep.append(len(v.subset_separated))
        rnd_sep.append(v.random_separated_mean)
        contra.append(bool(v.contradictions))
        rnd_contra.append(v.random_contradiction_share)
    return {
        "tasks": len(scores),
        "ties": len(ties),
        "held_out": len(held),
        "signal": embedding_signal(points, candidates, held) if len(held) >= 2 else float("nan"),
        "tau_percentile": float(np.nanmean(tau_pct)),
        "error_percentile": float(np.mean(err_pct)),
        "error": float(np.mean(err)),
        "random_error": float(v.random_rank_error_median),
        "all_pairs_kept": 100.0 * float(np.mean(all_kept)),
        "random_all_pairs_kept": float(np.mean(rnd_kept)),
        "own_separated": float(np.mean(own_sep)),
        "random_own_separated": float(np.mean(rnd_sep)),
        "contradicting": 100.0 * float(np.mean(contra)),
        "random_contradicting": float(np.mean(rnd_contra)),
    }


def reliability(study: str, held: list[str]) -> None:
    """Print the seed reliability of the held-out per-task ranks of one study folder."""
    runs = study_run_scores(study)
    split, full = seed_reliability(runs, held)
    n_seeds = runs["seed"].nunique()
    print(
        f"{study}: {runs['task'].nunique()} tasks, {n_seeds} seeds, held out {', '.join(held)}: "
        f"split-half correlation {split:.3f}, Spearman-Brown for all {n_seeds} seeds {full:.3f}"
    )


def compare_selectors(args: argparse.Namespace) -> None:
    """The comparison table of docs/subsets.md (see the module docstring)."""
    from analysis.subsets.protocol import compare, drop_twins, fold_plan, markdown_table, split_half_ceiling
    from analysis.subsets.selectors import SELECTORS, task_families

    names = args.selectors.split(",") if args.selectors else list(SELECTORS)
    chosen = {name: SELECTORS[name] for name in names}
    all_rows = []
    for path in args.tables:
        scores, twins = drop_twins(score_table(path))
        families = task_families(scores.index)
        t0 = time.perf_counter()
        df = compare(
            scores,
            chosen,
            args.ks,
            n_folds=args.folds,
            repeats=args.repeats,
            seeds=args.protocol_seeds,
            n_random=args.n_random,
            families=families,
            seed=0,
        )
        took = time.perf_counter() - t0
        print(f"\n### {path}: {len(scores)} tasks x {scores.shape[1]} optimizers ({took:.0f} s)\n")
        if twins:
            named = ", ".join(f"{d} (= {k})" for d, k in twins.items())
            print(f"twins left out (identical scores on every task): {named}")
        groups = [g for rep in fold_plan(list(scores.columns), args.folds, args.repeats, seed=0) for g in rep]
        print(f"held-out groups: {', '.join(str(len(g)) for g in groups)} optimizers")
        if is_archive_source(path):
            runs = archive_run_scores(path)
            ceilings = [split_half_ceiling(runs, list(g)) for g in groups]
            print(
                "split-half ceiling of the held-out groups (per-task ranks, even vs odd seeds): mean "
                f"{np.mean([c[0] for c in ceilings]):.3f}, Spearman-Brown for all seeds "
                f"{np.mean([c[1] for c in ceilings]):.3f}"
            )
        print()
        print(markdown_table(df, raw=True), flush=True)
        all_rows.append(df.assign(table=path))
    print_summary(pd.concat(all_rows, ignore_index=True))


def print_summary(rows: pd.DataFrame) -> None:
    """Every selector over all (table, k) cells: what docs/subsets.md chooses the default by."""
    from analysis.subsets.protocol import summarize

    tables = ", ".join(dict.fromkeys(map(str, rows["table"])))
    print(f"\n### Summary over {tables}; k = {sorted(set(rows['k']))}\n")
    print(
        "mean percentile per measure over the cells; 'above': cells whose 90% interval lies above 50; "
        "'at 90': cells at the 90th percentile or more (counted over the three measures)\n"
    )
    summary = summarize(rows)
    print("| selector | mean-rank error | score r | τ | mean | above 50 | at 90 | cells |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in summary.iterrows():
        print(
            f"| {name} | {r['rank_error']:.1f} | {r['score_corr']:.1f} | {r['tau']:.1f} | {r['mean']:.1f} "
            f"| {int(r['above'])} | {int(r['at_90'])} | {int(r['cells'])} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", nargs="*", help="score tables (python -m analysis scores ... --out)")
    parser.add_argument(
        "--reliability",
        nargs=2,
        metavar=("STUDY_DIR", "HELD_OUT"),
        help="seed reliability of a study's held-out (comma-separated) per-task ranks",
    )
    parser.add_argument(
        "--embed",
        action="append",
        default=[],
        help="embedding optimizers per table, comma-separated, in the tables' order "
        "(default: analysis.subsets.validation.default_embed_optimizers)",
    )
    parser.add_argument("--k", type=int, default=30)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--max-evaluations", type=int, default=3000)
    parser.add_argument("--reference", default="empirical", choices=["empirical", "uniform"])
    parser.add_argument("--n-random", type=int, default=1000)
    parser.add_argument(
        "--drop-ties",
        action="store_true",
        help="do not select tasks where all embedding optimizers tie (as analysis subset --drop-ties)",
    )
    parser.add_argument(
        "--compare", action="store_true", help="the default: the protocol for every selector (docstring)"
    )
    parser.add_argument(
        "--single-subset",
        action="store_true",
        help="instead: the older check of star-discrepancy subsets chosen with several seeds, each "
        "validated as one subset on the optimizers outside its embedding (--k, --seeds, --embed)",
    )
    parser.add_argument("--selectors", default=None, help="protocol: these selectors only (comma-separated)")
    parser.add_argument("--ks", type=int, nargs="+", default=[10, 20, 30])
    parser.add_argument("--repeats", type=int, default=2, help="protocol: optimizer re-partitions")
    parser.add_argument("--folds", type=int, default=3, help="protocol: held-out groups per repetition")
    parser.add_argument("--protocol-seeds", type=int, default=2, help="protocol: selection seeds")
    parser.add_argument(
        "--summarize",
        nargs="+",
        metavar="OUTPUT",
        help="summarize saved outputs of this script's protocol tables instead of running anything",
    )
    args = parser.parse_args()
    if args.summarize:
        from analysis.subsets.protocol import read_markdown_tables

        texts = [Path(f).read_text(encoding="utf-8") for f in args.summarize]
        print_summary(pd.concat([read_markdown_tables(t) for t in texts], ignore_index=True))
        return
    if args.reliability:
        reliability(args.reliability[0], args.reliability[1].split(","))
        return
    if not args.tables:
        parser.error("give score tables (or archive:<type> sources), or --reliability STUDY_DIR HELD_OUT")
    if not args.single_subset:
        compare_selectors(args)
        return
    if args.embed and len(args.embed) != len(args.tables):
        parser.error(f"give --embed once per table ({len(args.tables)}), got {len(args.embed)}")
    print(
        f"k={args.k}, seeds {args.seeds}, {args.max_evaluations} evaluations per subset, "
        f"reference {args.reference}"
    )
    print(
        "| table | tasks (embedding ties) | held out | embedding signal | tau percentile "
        "| mean-rank error (random median) | error percentile "
        "| all separated pairs kept: selected (random) | pairs the subset separates: selected (random) "
        "| subsets contradicting the full set: selected (random) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for i, path in enumerate(args.tables):
        scores = score_table(path)
        embed = args.embed[i].split(",") if args.embed else default_embed_optimizers(scores)
        start = time.perf_counter()
        r = check_table(
            scores,
            embed,
            args.k,
            args.seeds,
            args.max_evaluations,
            args.reference,
            args.n_random,
            args.drop_ties,
        )
        print(
            f"| {path} | {r['tasks']} ({r['ties']}) | {r['held_out']} | {r['signal']:.3f} "
            f"| {r['tau_percentile']:.1f} "
            f"| {r['error']:.3f} ({r['random_error']:.3f}) | {r['error_percentile']:.1f} "
            f"| {r['all_pairs_kept']:.0f}% ({r['random_all_pairs_kept']:.0f}%) "
            f"| {r['own_separated']:.1f} ({r['random_own_separated']:.1f}) "
            f"| {r['contradicting']:.0f}% ({r['random_contradicting']:.1f}%) |",
            flush=True,
        )
        print(f"  ({time.perf_counter() - start:.0f} s; embedding {', '.join(embed)})", flush=True)


if __name__ == "__main__":
    main()
