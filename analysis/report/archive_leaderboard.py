"""The published leaderboard of the baseline archive: every archived optimizer on every piece.

``python -m analysis baselines --out docs/baselines`` writes ``leaderboard.md`` and
``leaderboard.html``: what the archive holds (optimizers × pieces, seeds), then one leaderboard per
piece and task type, computed by the report's own pipeline (``build_report``) on the archived runs,
so a user sees where every baseline stands before running anything.

Example:
    >>> rep = archive_leaderboard(n_boot=50)  # doctest: +SKIP
    >>> rep.sections[0].title  # doctest: +SKIP
    'What the archive holds'
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.report.build import build_report
from analysis.report.render import Report, Section
from bench.archive.pieces import expensive, piece_names
from bench.archive.read import read_archive
from bench.archive.store import read_manifest

__all__ = ["archive_leaderboard", "write_leaderboard"]


def _coverage(files: dict[str, dict[str, object]]) -> pd.DataFrame:
    """Optimizers × pieces: archived seeds per entry (blank: not archived)."""
    rows: dict[str, dict[str, str]] = {}
    for info in files.values():
        seeds = info.get("seeds") or []
        rows.setdefault(str(info["optimizer"]), {})[str(info["piece"])] = str(len(seeds))  # type: ignore[arg-type]
    pieces = [p for p in piece_names() if any(p in r for r in rows.values())]
    table = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=pieces).fillna("")
    table.index.name = "optimizer"
    return table.sort_index()


def archive_leaderboard(n_boot: int = 1000, folder: Path | None = None) -> Report:
    """The leaderboard report of the whole archive (tables only: it is read in docs/)."""
    manifest = read_manifest(folder)
    files = manifest.get("files", {})
    head = Section("What the archive holds")
    runs = sum(int(f.get("runs", 0)) for f in files.values())
    head.text.append(
        f"Baseline archive v{manifest.get('archive_version')} (updated {manifest.get('updated')}): "
        f"{len(files)} entries, {runs:,} runs. Cells: seeds archived per optimizer and piece; a blank "
        "cell: not archived (the optimizer cannot run every task of the piece, or it is expensive and "
        "not built yet). Expensive optimizers (more than about 0.3 s per trial): "
        + ", ".join(f"{o} ({why})" for o, why in expensive().items())
        + ". How it was built and how to add an optimizer: docs/baselines.md."
    )
    tables: dict[str, pd.DataFrame] = {"coverage": _coverage(files)}
    head.tables.append(("Seeds archived (optimizer × piece)", tables["coverage"]))
    sections = [head]
    for piece in piece_names():
        mine = {rel for rel, f in files.items() if f.get("piece") == piece}
        if not mine:
            continue
        trials, runs_meta = read_archive(files=mine, folder=folder)
        # The expected grid is what was archived: expensive optimizers have 3 seeds, not 10 missing.
        grid = {"runs": runs_meta[["task", "optimizer", "seed"]].to_dict("records")}
        rep = build_report(trials, runs_meta, n_boot=n_boot, figures=False, manifest=grid)
        info = next(files[rel] for rel in sorted(mine))
        sec = Section(f"{piece}")
        budget = info.get("budget") or {}
        sec.text.append(
            f"Study {info.get('study')}"
            + (f" on taskset {info.get('taskset')}" if info.get("taskset") else "")
            + f": {len(trials['task'].unique())} tasks, {budget.get('n_trials'):g} trials per run."
        )
        seeds = runs_meta.groupby("optimizer")["seed"].nunique()
        for name, table in rep.tables.items():
            if name.startswith("leaderboard_"):
                table = table.copy()
                table.insert(0, "seeds", seeds.reindex(table.index).astype(int))
                t = name.removeprefix("leaderboard_")
                tables[f"{piece}_{t}"] = table
                sec.tables.append((f"{piece}, task type {t} (sorted by mean rank; lower is better)", table))
        sections.append(sec)
    return Report("NxM-Bench baseline archive: leaderboards", sections, tables, {})


def write_leaderboard(out: Path, n_boot: int = 1000) -> tuple[Path, Path]:
    """Write ``leaderboard.html`` and ``leaderboard.md`` under ``out``."""
    rep = archive_leaderboard(n_boot=n_boot)
    out.mkdir(parents=True, exist_ok=True)
    html, md = out / "leaderboard.html", out / "leaderboard.md"
    html.write_text(rep.html(), encoding="utf-8")
    md.write_text(rep.markdown(), encoding="utf-8")
    return html, md
