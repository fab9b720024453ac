"""Command line: ``python -m analysis report RESULTS_DIR [--out DIR]``.

Example:
    >>> main([])  # doctest: +ELLIPSIS
    usage: python -m analysis [-h] {report} ...
    ...
    0
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Analyse NxM-Bench results: normalized regret, ranks, tests, profiles, report.",
    )
    sub = p.add_subparsers(dest="command")
    r = sub.add_parser("report", help="write report.html and report.md for a results folder or file")
    r.add_argument("results", help="a study folder, its runs/ folder, or one run file")
    r.add_argument("--out", default=None, help="output folder (default: RESULTS/report)")
    r.add_argument(
        "--x",
        default="trials",
        choices=["trials", "budget_used", "sim_time", "wall_time"],
        help="budget axis of the anytime curves",
    )
    r.add_argument("--baseline", default="random_search", help="optimizer for wins/ties/losses")
    r.add_argument("--alpha", type=float, default=0.05, help="significance level")
    r.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
    r.add_argument("--no-figures", action="store_true", help="tables only (fast)")
    return p


def _load(path: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    load = importlib.import_module("analysis.load").load
    df = load(path)
    try:
        runs_meta = importlib.import_module("bench.results").load_runs(path)
    except (ImportError, AttributeError, OSError, ValueError):
        # Metadata only enriches provenance; the report stands without it.
        runs_meta = None
    return df, runs_meta


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    if args.command is None:
        parser.print_help(sys.stdout)
        return 0
    from analysis.report import build_report, write_report

    start = time.perf_counter()
    df, runs_meta = _load(args.results)
    rep = build_report(
        df,
        runs_meta,
        x=args.x,
        baseline=args.baseline,
        alpha=args.alpha,
        n_boot=args.n_boot,
        figures=not args.no_figures,
    )
    src = Path(args.results)
    out = Path(args.out) if args.out else (src if src.is_dir() else src.parent) / "report"
    html_path, md_path = write_report(rep, out)
    print(f"wrote {html_path} and {md_path} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
