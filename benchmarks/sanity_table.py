"""Sanity benchmark table for docs/PERFORMANCE.md: do the adapters beat random search on bbob 5-D?

Reads one or more study folders (e.g. results of ``study=bbob5d_sanity`` and
``study=bbob5d_sanity_model``), ranks every optimizer on the tasks they share
with random search, and reports per optimizer: mean rank among all optimizers,
mean final normalized regret, the share of tasks where it beats random search
(mean over seeds of the final normalized regret), and the optimizer's own time
per trial (wall time minus time spent in the task, per trial).

    python benchmarks/sanity_table.py results/bbob5d_sanity results/bbob5d_sanity_model
"""

from __future__ import annotations

import argparse

import pandas as pd

from analysis.leaderboard.stats import ranks
from analysis.normalize import prepare, score_table
from bench.results import load


def optimizer_time_per_trial(df: pd.DataFrame) -> pd.Series:
    """Seconds per trial spent outside ``Task.evaluate`` (ask + tell + harness), per optimizer."""
    per_run = df.groupby(["optimizer", "run_id"], observed=True).agg(
        wall=("wall_time", "max"), evals=("eval_time", "sum"), n=("trial", "size")
    )
    per_run["per_trial"] = (per_run["wall"] - per_run["evals"]) / per_run["n"]
    return per_run.groupby(level="optimizer", observed=True)["per_trial"].median()


def sanity_table(df: pd.DataFrame, baseline: str = "random_search") -> pd.DataFrame:
    scores = score_table(prepare(df).runs)  # tasks × optimizers, mean over seeds
    scores = scores.dropna(axis=0, how="any")  # only tasks every optimizer ran
    r = ranks(scores)
    base = scores[baseline]
    out = pd.DataFrame(
        {
            "mean_rank": r.mean(),
            "mean_regret": scores.mean(),
            "beats_random_share": scores.lt(base, axis=0).mean(),
            "n_tasks": scores.notna().sum(),
            "s_per_trial": optimizer_time_per_trial(df),
        }
    )
    out.index.name = "optimizer"
    return out.sort_values("mean_rank")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("studies", nargs="+")
    ap.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="use only seeds < N, so studies with different seed counts compare fairly",
    )
    args = ap.parse_args()
    df = pd.concat([load(s) for s in args.studies], ignore_index=True)
    for col in ("task", "optimizer", "run_id", "study"):
        df[col] = df[col].astype(str)
    if args.seeds is not None:
        df = df[df["seed"] < args.seeds]
    # random search appears in both studies: keep one copy per (task, seed)
    df = df.drop_duplicates(["optimizer", "task", "seed", "trial"])
    table = sanity_table(df)
    cols = list(table.columns)
    print("| optimizer | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for name, row in table.iterrows():
        print(f"| {name} | " + " | ".join(f"{row[c]:.3g}" for c in cols) + " |")


if __name__ == "__main__":
    main()
