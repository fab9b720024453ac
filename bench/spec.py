"""RunSpec: one (task, optimizer, seed) run as plain, picklable data.

Example:
    >>> from optimizers.base import Budget
    >>> spec = RunSpec(study="demo", task="bbob/f01/d02/i01", optimizer="random_search",
    ...                optimizer_target="optimizers.random_search.RandomSearch",
    ...                optimizer_params={}, seed=0, budget=Budget(20))
    >>> spec.run_id
    'bbob__f01__d02__i01--random_search--s0'
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

import numpy as np

from bench.run_context import RunContext
from optimizers.base import Budget

#: Marks a field that says where a run finds its resources, not what the run is: it is left out
#: of :meth:`RunSpec.to_dict`, the fingerprint, equality and :meth:`RunSpec.omitted_defaults`.
_NOT_IDENTITY = {"identity": False}


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs to execute one run, and nothing it must look up.

    ``seed`` is the root of every random choice in the run: it is split with
    :class:`numpy.random.SeedSequence` into the optimizer seed and the task's
    evaluation-noise stream, so the same spec gives bit-identical trials on any
    worker and for any ``n_jobs``.
    """

    study: str
    task: str
    optimizer: str
    optimizer_target: str
    optimizer_params: dict[str, Any]
    seed: int
    budget: Budget
    #: Wall-clock limits in seconds, ``None`` for none (see docs/fault-tolerance.md).
    trial_timeout: float | None = None
    run_timeout: float | None = None
    #: Simulated parallel workers (see docs/simulated-workers.md); 1 is the sequential loop.
    n_workers: int = 1
    #: ``TaskMeta.revision`` of the task: a change to what the task id means re-runs its results.
    task_revision: str = ""
    #: Where the run finds its resources (YAHPO data, user task modules); applied by the worker
    #: before it builds the task, so a remote one needs no environment variables.
    context: RunContext = field(default=RunContext(), compare=False, metadata=_NOT_IDENTITY)

    @property
    def run_id(self) -> str:
        """Readable, filesystem-safe, unique within a study."""
        workers = f"--w{self.n_workers}" if self.n_workers != 1 else ""
        return f"{self.task.replace('/', '__')}--{self.optimizer}--s{self.seed}{workers}"

    @property
    def fingerprint(self) -> str:
        """Hash of everything that changes results; resume re-runs a run whose fingerprint changed."""
        payload = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """The spec as stored in its run file: what the run is (its fingerprint hashes this).

        Example:
            >>> from optimizers.base import Budget
            >>> spec = RunSpec(study="demo", task="synthetic/branin", optimizer="random_search",
            ...                optimizer_target="optimizers.random_search.RandomSearch",
            ...                optimizer_params={}, seed=0, budget=Budget(20),
            ...                context=RunContext(yahpo_data="/data/yahpo"))
            >>> sorted(spec.to_dict())
            ['budget', 'optimizer', 'optimizer_params', 'optimizer_target', 'seed', 'task']
        """
        d = asdict(self)
        d.pop("study")  # renaming a study must not invalidate its finished runs
        for f in fields(self):
            if not f.metadata.get("identity", True):  # moving a data folder changes no result
                del d[f.name]
        for key in ("trial_timeout", "run_timeout"):
            if d[key] is None:  # unset limits leave fingerprints of older results unchanged
                del d[key]
        if d["n_workers"] == 1:  # the sequential loop: ids and fingerprints as before the setting
            del d["n_workers"]
        if not d["task_revision"]:  # tasks never revised hash as before the field existed
            del d["task_revision"]
        return d

    @staticmethod
    def omitted_defaults() -> dict[str, Any]:
        """The fields :meth:`to_dict` leaves out while they hold their defaults, with those defaults:
        a spec dict (or the spec of a run file written before a field existed) lacking one of these
        keys means this value.

        Example:
            >>> RunSpec.omitted_defaults()
            {'trial_timeout': None, 'run_timeout': None, 'n_workers': 1, 'task_revision': ''}
        """
        return {
            f.name: f.default
            for f in fields(RunSpec)
            if f.default is not MISSING and f.metadata.get("identity", True)
        }

    def seeds(self) -> tuple[int, int]:
        """(optimizer seed, task-noise seed), both derived from :attr:`seed`."""
        opt_ss, task_ss = np.random.SeedSequence(self.seed).spawn(2)
        return int(opt_ss.generate_state(1)[0]), int(task_ss.generate_state(1)[0])
