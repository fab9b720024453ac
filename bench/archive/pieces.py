"""What the baseline archive holds: its pieces (study × taskset), and which optimizers and seeds.

A *piece* is one shipped study run on one taskset: the dev and test subsets of each task type
(``dev_bb``, ``test_bb``, ... ``test_mfmo``) and the default study. Each piece holds every shipped
optimizer that the planner accepts on every task of the piece (:func:`piece_optimizers`), at the
study's budget, with :data:`SEEDS` seeds for cheap optimizers and :data:`EXPENSIVE_SEEDS` for the
expensive ones (:func:`expensive`, more than about 0.3 s of their own time per trial), which are
archived on the dev subsets and the default study only.

Example:
    >>> piece("test_bb").study, piece("test_bb").taskset
    ('dev_bb', 'subset_bb_test')
    >>> seeds_for("skopt_gp"), seeds_for("random_search")
    ((0, 1, 2), (0, 1, 2, 3, 4, 5, 6, 7, 8, 9))
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "EXPENSIVE_SEEDS",
    "PIECES",
    "SEEDS",
    "Piece",
    "expensive",
    "piece",
    "piece_names",
    "seeds_for",
]

#: Seeds of a cheap optimizer's runs (the studies' 10 seeds a paper asks for).
SEEDS = 10
#: Seeds of an expensive optimizer's runs (at least 3, as the archive's policy allows).
EXPENSIVE_SEEDS = 3


@functools.cache
def expensive() -> dict[str, str]:
    """The optimizers costing more than about 0.3 s of their own time per trial: id → why.

    Read from each optimizer's YAML (its ``expensive`` key, with the cost measured when it was
    added: docs/PERFORMANCE.md), so that adding an optimizer touches no file here. These get
    :data:`EXPENSIVE_SEEDS` seeds, on the dev subsets and the default study only.

    Example:
        >>> expensive()["skopt_gp"]
        '0.73 s/trial (GP, gp_hedge)'
        >>> "random_search" in expensive()
        False
    """
    from bench.config_files import optimizer_config, optimizer_ids

    out: dict[str, str] = {}
    for oid in optimizer_ids():
        why = str(optimizer_config(oid).get("expensive") or "")
        if why:
            out[oid] = why
    return out


@dataclass(frozen=True)
class Piece:
    """One study on one taskset, archived as its own study folder and files.

    Attributes:
        name: the piece's name, its folder in the archive (``dev_bb``, ``test_bb``, ``default``).
        study: the shipped study (``conf/study/<study>.yaml``) giving the budget.
        taskset: the taskset replacing the study's own (``None``: the study's tasks as they are).
        dev: whether expensive optimizers are archived on it (dev subsets and the default study).
    """

    name: str
    study: str
    taskset: str | None = None
    dev: bool = True

    def overrides(self) -> list[str]:
        """The command-line overrides selecting this piece's study and tasks.

        Example:
            >>> Piece("test_mo", "dev_mo", "subset_mo_test", dev=False).overrides()
            ['study=dev_mo', 'study.taskset=subset_mo_test', 'name=test_mo']
        """
        out = [f"study={self.study}"]
        if self.taskset is not None:
            out.append(f"study.taskset={self.taskset}")
        return [*out, f"name={self.name}"]


def _subset_pieces() -> list[Piece]:
    out = []
    for kind in ("bb", "mo", "mf", "mfmo"):
        out.append(Piece(f"dev_{kind}", f"dev_{kind}"))
        out.append(Piece(f"test_{kind}", f"dev_{kind}", f"subset_{kind}_test", dev=False))
    return out


#: Every piece, in build order (dev subsets first: they are what a new optimizer is screened on).
PIECES: tuple[Piece, ...] = (
    *sorted(_subset_pieces(), key=lambda p: (not p.dev, p.name)),
    Piece("default", "default"),
)


def piece_names() -> list[str]:
    """Names of every piece, in build order."""
    return [p.name for p in PIECES]


def piece(name: str) -> Piece:
    """The piece called ``name``; ``ValueError`` (one line, the valid names) for another.

    Example:
        >>> piece("dev_xx")
        Traceback (most recent call last):
        ...
        ValueError: unknown archive piece 'dev_xx': use one of dev_bb, dev_mf, dev_mfmo, dev_mo, \
test_bb, test_mf, test_mfmo, test_mo, default
    """
    for p in PIECES:
        if p.name == name:
            return p
    raise ValueError(f"unknown archive piece {name!r}: use one of {', '.join(piece_names())}")


def seeds_for(optimizer: str) -> tuple[int, ...]:
    """The seeds the archive holds of ``optimizer`` (on a piece that archives it)."""
    return tuple(range(EXPENSIVE_SEEDS if optimizer in expensive() else SEEDS))


def archived_on(optimizer: str, p: Piece) -> bool:
    """Whether the archive's policy runs ``optimizer`` on piece ``p`` (expensive ones: dev only)."""
    return p.dev or optimizer not in expensive()


def seed_groups(optimizers: Sequence[str]) -> dict[tuple[int, ...], list[str]]:
    """The optimizers grouped by their seeds: one sweep per group.

    Example:
        >>> seed_groups(["random_search", "skopt_gp", "optuna_tpe"])
        {(0, 1, 2, 3, 4, 5, 6, 7, 8, 9): ['random_search', 'optuna_tpe'], (0, 1, 2): ['skopt_gp']}
    """
    groups: dict[tuple[int, ...], list[str]] = {}
    for o in optimizers:
        groups.setdefault(seeds_for(o), []).append(o)
    return groups
