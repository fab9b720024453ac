"""What the baseline archive holds: its pieces (study × taskset), and which optimizers and seeds.

A *piece* is one shipped study run on one taskset: the dev and test subsets of each task type
(``dev_bb``, ``test_bb``, ... ``test_mfmo``) and the default study. Each piece holds every shipped
optimizer that the planner accepts on every task of the piece (:func:`piece_optimizers`), at the
study's budget, with :data:`SEEDS` seeds for cheap optimizers and :data:`EXPENSIVE_SEEDS` for the
expensive ones (:data:`EXPENSIVE`, more than about 0.3 s of their own time per trial), which are
archived on the dev subsets and the default study only.

Example:
    >>> piece("test_bb").study, piece("test_bb").taskset
    ('dev_bb', 'subset_bb_test')
    >>> seeds_for("skopt_gp"), seeds_for("random_search")
    ((0, 1, 2), (0, 1, 2, 3, 4, 5, 6, 7, 8, 9))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "EXPENSIVE",
    "EXPENSIVE_SEEDS",
    "PIECES",
    "SEEDS",
    "Piece",
    "piece",
    "piece_names",
    "seeds_for",
]

#: Seeds of a cheap optimizer's runs (the studies' 10 seeds a paper asks for).
SEEDS = 10
#: Seeds of an expensive optimizer's runs (at least 3, as the archive's policy allows).
EXPENSIVE_SEEDS = 3
#: Optimizers costing more than about 0.3 s of their own time per trial (measured on the bbob
#: sanity study, docs/PERFORMANCE.md): fewer seeds, dev subsets and the default study only.
EXPENSIVE: Mapping[str, str] = {
    "skopt_gp": "0.73 s/trial (GP, gp_hedge)",
    "skopt_rf": "0.43 s/trial (random forest)",
    "smac_bb": "about 2.5 s/trial (GP)",
    "smac_hpo": "0.84 s/trial (random forest)",
    "smac_mf": "random forest per trial, as smac_hpo",
    "smac_hb": "SMAC3 intensifier per trial",
    "smac_parego": "random forest per trial, as smac_hpo",
    # measured when they were added (docs/PERFORMANCE.md, per-trial cost of every optimizer)
    "smac_mo_gp": "1.9 s/trial (GP + ParEGO, 5-D, 50 trials)",
    "smac_momf_gp": "0.73 s/trial (GP + ParEGO in Hyperband brackets)",
    "smac_momf_rf": "random forest per trial, as smac_mf",
    "skopt_gp_ei": "GP refit per trial, as skopt_gp",
    "skopt_gp_lcb": "GP refit per trial, as skopt_gp",
    "skopt_gp_pi": "GP refit per trial, as skopt_gp",
    "ng_bayesopt": "GP refit per trial (bayesian-optimization)",
    "bayesopt_ucb": "1.06 s/trial (GP, 5-D, 100 trials)",
    "bayesopt_ei": "0.66 s/trial (GP, 5-D, 100 trials)",
    "hebo": "5.9 s/trial (GP + MACE, NSGA-II 100 x 100 per suggest)",
    "botorch_ei": "0.29 s/trial (GP, 5-D, 50 trials)",
    "botorch_qnehvi": "1.14 s/trial (GP per objective, 5-D, 50 trials)",
    "botorch_parego": "0.96 s/trial (GP per objective, 5-D, 50 trials)",
    "optuna_gp": "0.46 s/trial (GP, 5-D, 60 trials)",
    "optuna_auto": "0.68 s/trial (GPSampler on numeric spaces)",
    "synetune_bore": "0.29 s/trial (XGBoost classifier + DE per trial)",
    "synetune_cqr": "0.67 s/trial (gradient-boosted quantile regression)",
    "synetune_botorch": "5.4 s/trial (GP, 20 restarts)",
}


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
    return tuple(range(EXPENSIVE_SEEDS if optimizer in EXPENSIVE else SEEDS))


def archived_on(optimizer: str, p: Piece) -> bool:
    """Whether the archive's policy runs ``optimizer`` on piece ``p`` (expensive ones: dev only)."""
    return p.dev or optimizer not in EXPENSIVE


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
