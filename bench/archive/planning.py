"""The archive's plan as the installed code sees it: which runs each piece should hold today.

:func:`expected_entries` plans every piece with the normal planner (``bench.plan.make_plan``):
every shipped optimizer (a YAML under the package's ``conf/optimizer/``) is tried on every task of
the piece; an optimizer the planner refuses on any task of it is not archived on that piece (the
reason is kept, for ``archive status``). Each entry lists its planned runs with their fingerprints,
which cover the task revision, the optimizer's target and parameters and the budget: a stored run
whose fingerprint differs from today's plan is stale.

Example:
    >>> entries = expected_entries(["default"], ["random_search"])  # doctest: +SKIP
    >>> entries[("default", "random_search")].seeds  # doctest: +SKIP
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.archive.pieces import PIECES, Piece, archived_on, piece, seeds_for
from bench.config import ConfigError, StudyConfig
from bench.spec import RunSpec

__all__ = ["Entry", "expected_entries", "piece_budget", "shipped_optimizers"]


@dataclass
class Entry:
    """The runs of one optimizer on one piece, as today's code plans them."""

    piece: Piece
    optimizer: str
    specs: list[RunSpec] = field(default_factory=list)

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(sorted({s.seed for s in self.specs}))

    @property
    def tasks(self) -> list[str]:
        return sorted({s.task for s in self.specs})

    @property
    def target(self) -> str:
        return self.specs[0].optimizer_target

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.specs[0].optimizer_params)


def shipped_optimizers() -> list[str]:
    """Ids of the optimizers that ship with the package (user and plugin ones are not archived)."""
    from bench.config_files import conf_dir

    return sorted(p.stem for p in (conf_dir() / "optimizer").glob("*.yaml"))


def _study_node(name: str) -> Any:
    from bench.config_files import _load_yaml

    return _load_yaml("study", name, "study")


def piece_budget(p: Piece) -> dict[str, Any]:
    """The study-wide settings of a piece, as its study's YAML sets them."""
    node = _study_node(p.study)
    return {
        "n_trials": float(node.get("n_trials", 50)),
        "time_budget": node.get("time_budget"),
        "n_workers": int(node.get("n_workers", 1)),
        "trial_timeout": node.get("trial_timeout"),
        "run_timeout": node.get("run_timeout"),
    }


def _piece_study(p: Piece, optimizers: Sequence[str]) -> StudyConfig:
    from bench.config_files import taskset_patterns
    from bench.registry import expand_tasks
    from bench.settings import _optimizer
    from optimizers.base import Budget

    node = _study_node(p.study)
    patterns = list(node.get("tasks") or [])
    taskset = p.taskset if p.taskset is not None else node.get("taskset")
    if p.taskset is not None:
        patterns = []
    if taskset:
        patterns += taskset_patterns(str(taskset))
    budget = piece_budget(p)
    return StudyConfig(
        name=p.name,
        optimizers=tuple(_optimizer(o) for o in optimizers),
        tasks=tuple(expand_tasks(patterns)),
        seeds=tuple(range(max(len(seeds_for(o)) for o in optimizers))),
        budget=Budget(budget["n_trials"], budget["time_budget"]),
        incompatible="skip",
        trial_timeout=budget["trial_timeout"],
        run_timeout=budget["run_timeout"],
        n_workers=budget["n_workers"],
    )


def expected_entries(
    pieces: Iterable[str] | None = None, optimizers: Iterable[str] | None = None
) -> tuple[dict[tuple[str, str], Entry], dict[tuple[str, str], str]]:
    """Today's plan of the archive: ``{(piece, optimizer): Entry}`` and, for shipped optimizers
    left out of a piece, ``{(piece, optimizer): why}``.

    On the default study (which skips incompatible pairs by design) an optimizer is archived on the
    tasks it runs; on a subset it must run every task, or it is left out of that subset.
    """
    from bench.plan import make_plan

    chosen = list(optimizers) if optimizers is not None else shipped_optimizers()
    names = list(pieces) if pieces is not None else [p.name for p in PIECES]
    entries: dict[tuple[str, str], Entry] = {}
    left_out: dict[tuple[str, str], str] = {}
    for name in names:
        p = piece(name)
        opts = [o for o in chosen if archived_on(o, p)]
        for o in chosen:
            if o not in opts:
                left_out[(p.name, o)] = "expensive: archived on the dev subsets and the default study only"
        if not opts:
            continue
        try:
            plan = make_plan(_piece_study(p, opts))
        except (ConfigError, LookupError, ValueError, OSError) as exc:  # e.g. no YAHPO data folder here
            for o in opts:
                left_out[(p.name, o)] = f"cannot plan the piece here: {exc}"
            continue
        refused: dict[str, str] = {}
        for r in plan.refused:
            refused.setdefault(r.optimizer, r.reason)
        for spec in plan.specs:
            if spec.seed not in seeds_for(spec.optimizer):
                continue
            if p.name != "default" and spec.optimizer in refused:
                continue
            entries.setdefault((p.name, spec.optimizer), Entry(p, spec.optimizer)).specs.append(spec)
        for o in opts:
            if (p.name, o) not in entries:
                left_out[(p.name, o)] = refused.get(o, "no task of the piece")
    return entries, left_out
