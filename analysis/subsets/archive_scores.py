"""Score tables from the baseline archive: many optimizers, 10 seeds, no run needed.

The subset protocol (:mod:`analysis.subsets.protocol`) can only separate selectors when it holds out
many optimizers, and the catalog reference studies hold 6-9. The archive holds every cheap
optimizer on the dev and test subsets of each task type at 10 seeds, so the union of a type's two
pieces is a small but complete universe (tasks x all archived optimizers) to judge selectors on.

A source ``archive:<piece>`` (``archive:dev_bb``) is one piece with every optimizer archived on it;
``archive:<type>`` (``archive:bb``) is the dev and the test piece of that type together, with the
optimizers archived on both at the same seeds (the expensive ones, archived on the dev subsets
only, are left out so that every task has every optimizer). ``python -m analysis scores`` and
``subset`` accept both forms wherever they accept a study folder.

Example:
    >>> long = archive_scores("archive:dev_bb")  # doctest: +SKIP
    >>> sorted(long.columns)  # doctest: +SKIP
    ['n_runs', 'optimizer', 'score', 'task', 'task_type']
"""

from __future__ import annotations

import pandas as pd

__all__ = ["ARCHIVE_PREFIX", "archive_run_scores", "archive_scores", "is_archive_source"]

#: Prefix of an archive source on the command line.
ARCHIVE_PREFIX = "archive:"
_TYPES = ("bb", "mo", "mf", "mfmo")


def is_archive_source(source: str) -> bool:
    """Whether ``source`` names the archive (``archive:dev_bb``, ``archive:bb``)."""
    return source.startswith(ARCHIVE_PREFIX)


def _pieces(name: str) -> list[str]:
    from bench.archive.pieces import piece, piece_names

    if name in _TYPES:
        return [f"dev_{name}", f"test_{name}"]
    try:
        return [piece(name).name]
    except ValueError:
        raise ValueError(
            f"unknown archive source {ARCHIVE_PREFIX}{name!r}: use {ARCHIVE_PREFIX}<piece> "
            f"({', '.join(piece_names())}) or {ARCHIVE_PREFIX}<task type> ({', '.join(_TYPES)})"
        ) from None


def _common_optimizers(files: dict[str, dict[str, object]], pieces: list[str]) -> set[str]:
    """The optimizers archived on every piece of ``pieces``, at the same seeds on each."""
    seeds: dict[str, dict[str, tuple[int, ...]]] = {}
    for info in files.values():
        opt, p = str(info.get("optimizer")), str(info.get("piece"))
        if p in pieces:
            seeds.setdefault(opt, {})[p] = tuple(info.get("seeds") or ())  # type: ignore[arg-type]
    return {o for o, by in seeds.items() if set(by) == set(pieces) and len(set(by.values())) == 1}


def archive_run_scores(source: str) -> pd.DataFrame:
    """One row per archived run of an archive source: ``task, task_type, optimizer, seed, score``.

    Scores are what the leaderboards rank (:func:`analysis.leaderboard.stats.run_scores`, final
    normalized regret or hypervolume regret); each piece is normalized over all its archived runs,
    as its study folder is, whichever optimizers the source keeps. Per-seed rows are what
    :func:`analysis.subsets.protocol.split_half_ceiling` needs.
    """
    from analysis.leaderboard.stats import run_scores
    from bench.archive.read import read_archive
    from bench.archive.store import read_manifest

    if not is_archive_source(source):
        raise ValueError(f"{source!r} is not an archive source ({ARCHIVE_PREFIX}<piece or task type>)")
    pieces = _pieces(source.removeprefix(ARCHIVE_PREFIX))
    files = read_manifest().get("files", {})
    if len(pieces) > 1:
        keep = _common_optimizers(files, pieces)
    else:
        keep = {str(info["optimizer"]) for info in files.values()}
    frames = []
    for p in pieces:
        mine = [rel for rel, info in files.items() if info.get("piece") == p]
        if not mine:
            raise ValueError(f"the installed archive holds no runs of piece {p!r} ({source})")
        # Normalized over ALL the piece's runs (as its study folder would be), then narrowed to the
        # optimizers kept: a score does not depend on which other optimizers a source lists.
        trials, _ = read_archive(files=mine)
        runs = run_scores(trials)
        runs = runs[runs["optimizer"].astype(str).isin(keep)]
        frames.append(
            pd.DataFrame(
                {
                    "task": runs["task"].astype(str),
                    "task_type": runs["task_type"].astype(str),
                    "optimizer": runs["optimizer"].astype(str),
                    "seed": runs["seed"].astype(int),
                    "score": runs["score"].astype(float),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def archive_scores(source: str) -> pd.DataFrame:
    """The long score table (``task, task_type, optimizer, score, n_runs``) of an archive source:
    :func:`archive_run_scores` averaged over each pair's archived seeds."""
    from analysis.leaderboard.stats import seed_means

    return seed_means(archive_run_scores(source))
