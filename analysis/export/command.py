"""What every export command shares: load one study, refuse mixed results, pick the output folder.

Each exporter (:mod:`analysis.export.coco`, :mod:`analysis.export.ioh`) parses its own options
and writes its own format; loading, the refusal of results that mix studies, the default output
folder and the one-line error are the same for all of them, so they live here.

Example:
    >>> import sys, io
    >>> err, sys.stderr = sys.stderr, io.StringIO()
    >>> run_export("no/such/folder", allow_mixed=False, out=None, default_folder="coco",
    ...            write=lambda df, out: None)
    2
    >>> sys.stderr = err
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pandas as pd

from analysis.load import MixedResultsError, comparability_groups, load, load_runs
from analysis.out_folder import check_out_folder


class ExportResult(Protocol):
    """What an exporter returns: something that sums itself up in a few lines."""

    def summary(self) -> str:
        """The lines printed after a successful export."""
        ...


def add_common_arguments(parser: argparse.ArgumentParser, default_folder: str) -> None:
    """Add ``results``, ``--out`` and ``--allow-mixed`` to an exporter's argparse parser.

    Example:
        >>> import argparse
        >>> p = argparse.ArgumentParser()
        >>> add_common_arguments(p, "coco")
        >>> p.parse_args(["results/x"]).allow_mixed
        False
    """
    parser.add_argument("results", help="a study folder, its runs/ folder, or one run file")
    parser.add_argument("--out", default=None, help=f"output folder (default: RESULTS/{default_folder})")
    parser.add_argument(
        "--allow-mixed",
        action="store_true",
        help="export results that mix studies or incomparable settings anyway (default: refuse)",
    )


def load_one_study(results: str, *, allow_mixed: bool) -> pd.DataFrame:
    """The trials under ``results``; refuses an empty folder and, unless allowed, mixed studies.

    Raises ``ValueError`` (or :class:`analysis.load.MixedResultsError`, a ``ValueError``) with a
    message that names the folder and what would be valid.

    Example:
        >>> try:
        ...     load_one_study("no/such/folder", allow_mixed=False)
        ... except (OSError, ValueError) as exc:
        ...     print("refused")
        refused
    """
    df = load(results)
    if len(df) == 0:
        raise ValueError(f"no trial rows under {results!r}; point at a study folder with runs/*.parquet")
    try:
        runs_meta = load_runs(results)
    except (OSError, ValueError):
        runs_meta = None  # the trials alone still say which studies they come from
    groups = comparability_groups(runs_meta, df)
    if groups and not allow_mixed:
        raise MixedResultsError(
            f"{results} mixes",
            groups,
            "export one study folder at a time, or pass --allow-mixed to export them together",
        )
    return df


def run_export(
    results: str,
    *,
    allow_mixed: bool,
    out: str | None,
    default_folder: str,
    write: Callable[[pd.DataFrame, Path], ExportResult | None],
) -> int:
    """Load, refuse, write with ``write(df, out_folder)``, print its summary; the command's exit status.

    Bad input (a missing folder, no runs, mixed studies, an exporter's ``ValueError``) is one
    ``error:`` line on stderr and status 2; nothing already written is removed.
    """
    src = Path(results)
    try:
        folder = Path(out) if out else (src if src.is_dir() else src.parent) / default_folder
        if out or src.exists():  # a missing RESULTS is the loader's one line, not a folder's
            check_out_folder(folder, "--out", str(out or folder))
        df = load_one_study(results, allow_mixed=allow_mixed)
        result = write(df, folder)
    except (OSError, ValueError) as exc:
        print(f"error: {' '.join(str(exc).split()) or type(exc).__name__}", file=sys.stderr)
        return 2
    if result is not None:
        print(result.summary())
    return 0
