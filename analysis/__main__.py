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
from typing import Any

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
        default=None,
        choices=["trials", "budget_used", "sim_time", "wall_time"],
        help="budget axis of the anytime curves and profiles "
        "(default: budget_used on multi-fidelity task types, trials on the others)",
    )
    r.add_argument("--baseline", default="random_search", help="optimizer for wins/ties/losses")
    r.add_argument("--alpha", type=float, default=0.05, help="significance level")
    r.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
    r.add_argument("--no-figures", action="store_true", help="tables only (fast)")
    return p


def _load(path: str) -> tuple[pd.DataFrame, pd.DataFrame | None, dict[str, Any] | None]:
    load = importlib.import_module("analysis.load").load
    df = load(path)
    if len(df) == 0:
        raise ValueError(f"no trial rows under {path!r}; point at a study folder with runs/*.parquet")
    try:
        results = importlib.import_module("bench.results")
        runs_meta = results.load_runs(path)
    except (ImportError, AttributeError, OSError, ValueError):
        # Metadata only enriches provenance; the report stands without it.
        return df, None, None
    try:
        manifest = results.read_manifest(path)
    except (AttributeError, OSError, ValueError):
        # Without the manifest the expected grid is the cross product seen in the data.
        manifest = None
    return df, runs_meta, manifest


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    if args.command is None:
        parser.print_help(sys.stdout)
        return 0
    from analysis.report import build_report, write_report

    start = time.perf_counter()
    try:
        df, runs_meta, manifest = _load(args.results)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rep = build_report(
        df,
        runs_meta,
        manifest=manifest,
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
