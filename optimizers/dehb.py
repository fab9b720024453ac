"""DEHB (differential evolution inside Hyperband brackets) through its ask/tell API (``dehb`` extra).

DEHB 0.1.2 works on a unit-hypercube encoding of the ``ConfigurationSpace``
and decodes each candidate itself; the adapter hands it a copy of the task's
space (DEHB reseeds the space it is given), converts the decoded configuration
to plain Python values clipped into the bounds, and returns DEHB's fidelity,
snapped to the nearest admissible value when the task's fidelity is discrete.
DEHB is told the loss (maximized objectives negated) under its own fidelity.

Conditional spaces are handled the way DEHB does it: every hyperparameter keeps
a vector coordinate, and the ones whose condition fails are deactivated on
decoding, so configurations are always valid. Forbidden clauses are not: DE's
mutation and crossover ignore them, so such spaces are refused.

DEHB is silenced and kept off the disk: its ``loguru`` setup (which replaces the
process-wide loguru handlers and opens a log file) is replaced by the standard
``logging`` logger ``"dehb"``, and its checkpointing (``save``) is disabled,
because the runner records every trial.

Installation: ``dehb==0.1.2`` declares ``numpy<2`` but runs on numpy 2; install
it with ``pip install --no-deps dehb==0.1.2 loguru`` (its other requirements,
dask/distributed/pandas/pyarrow/ConfigSpace, are already core or ``dask`` dependencies).

Example:
    >>> from ConfigSpace import ConfigurationSpace
    >>> from optimizers.base import Budget, Problem
    >>> from tasks.base import Fidelity, Objective, Result
    >>> space = ConfigurationSpace({"x": (-2.0, 2.0), "k": ["a", "b"]}, seed=0)
    >>> problem = Problem(space, (Objective("y"),), Fidelity("epochs", 1, 27), Budget(5))
    >>> opt = DEHB(problem, seed=1)
    >>> trial = opt.ask()
    >>> trial.fidelity
    1.0
    >>> opt.tell(trial, Result((trial.config["x"] ** 2,)))
"""

from __future__ import annotations

import copy
import logging
import tempfile
import warnings
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal

from ConfigSpace import ConfigurationSpace

from optimizers.base import Optimizer, Problem, Trial
from optimizers.smac import check_eta, fidelity_range, single_fidelity_reason, snap_fidelity
from optimizers.space_conversion import (
    decode,
    library_seed,
    minimization_losses,
    params_of,
    plain,
    unsupported_features,
)
from tasks.base import Result


@cache
def _quiet_dehb_class() -> type:
    """DEHB's optimizer class without its global loguru setup and checkpoint files."""
    from dehb import DEHB as LibraryDEHB

    class QuietDEHB(LibraryDEHB):
        def _setup_logger(self, resume: bool, kwargs: dict[str, Any]) -> None:
            self.output_path = Path(kwargs["output_path"])
            self.logger = logging.getLogger("dehb")
            if self.logger.level == logging.NOTSET:  # keep DEHB's INFO chatter out of run logs
                self.logger.setLevel(logging.WARNING)
            self.log_filename = str(self.output_path / "dehb.log")

        def save(self) -> None:
            """Checkpoints are not needed: the runner records every trial."""

    return QuietDEHB


class DEHB(Optimizer):
    """DEHB (Awad et al. 2021), multi-fidelity, single objective.

    Args:
        problem: The problem to optimize; needs a fidelity axis with a range.
        seed: Run seed (reduced to 31 bits) for DEHB's generators and the space copy.
        eta: Hyperband's halving rate (DEHB default 3).
        min_fidelity: Lowest fidelity; ``None`` = the task's lowest.
        mutation_factor: DE mutation factor (DEHB default 0.5).
        crossover_prob: DE crossover probability (DEHB default 0.5).
        strategy: DE strategy, e.g. ``"rand1_bin"`` (DEHB default).
        boundary_fix_type: ``"random"`` (default) or ``"clip"`` for mutants leaving [0, 1].
    """

    supports: ClassVar[frozenset[str]] = frozenset({"multi_fidelity"})
    requires_fidelity: ClassVar[bool] = True
    requires: ClassVar[tuple[str, ...]] = ("dehb", "loguru")
    extra: ClassVar[str | None] = "dehb"
    library: ClassVar[str | None] = "dehb"
    # DEHB 0.1.2 declares numpy<2 (it runs on numpy 2): pip would downgrade numpy without --no-deps.
    install_hint: ClassVar[str | None] = "pip install 'nxm-bench[dehb]' && pip install --no-deps dehb==0.1.2"
    param_types: ClassVar[Mapping[str, Any] | None] = {
        "eta": int,
        "min_fidelity": float | None,
        "mutation_factor": float,
        "crossover_prob": float,
        "strategy": str,
        "boundary_fix_type": Literal["random", "clip"],
    }

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        super().__init__(problem, seed, **params)
        valid = sorted(self.param_types or {})
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ValueError(f"unknown DEHB parameter(s) {unknown}: valid are {valid}")
        fix = params.get("boundary_fix_type", "random")
        if fix not in ("random", "clip"):
            raise ValueError(f"boundary_fix_type={fix!r} is not valid: valid are 'random', 'clip'")
        low, high = fidelity_range(problem, params.get("min_fidelity"))
        self._params = {p.name: p for p in params_of(problem.space)}
        cls = _quiet_dehb_class()
        # DEHB insists on an output folder; nothing is written to it once save() is disabled.
        with tempfile.TemporaryDirectory(prefix="nxm-dehb-") as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # DEHB uses ConfigSpace 0.x names
            self._dehb = cls(
                cs=copy.deepcopy(problem.space),
                min_fidelity=low,
                max_fidelity=high,
                eta=check_eta(params.get("eta", 3)),
                mutation_factor=float(params.get("mutation_factor", 0.5)),
                crossover_prob=float(params.get("crossover_prob", 0.5)),
                strategy=str(params.get("strategy", "rand1_bin")),
                boundary_fix_type=fix,
                seed=library_seed(self.seed),
                n_workers=1,
                output_path=tmp,
                save_freq="end",
            )
        self._pending: dict[int, dict[str, Any]] = {}
        self._n_asked = 0
        self._worst: list[float] = []

    @classmethod
    def check_space(cls, space: ConfigurationSpace) -> str | None:
        return unsupported_features(space, "DEHB", conditions=True, forbiddens=False)

    @classmethod
    def incompatibility(cls, problem: Problem) -> str | None:
        return single_fidelity_reason("DEHB", problem) or super().incompatibility(problem)

    def _plain_config(self, config: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in config.items():
            param = self._params[name]
            # Decoding the log scale can overshoot a bound by one ulp; decode() clips and casts.
            out[name] = decode(param, value) if param.kind in ("float", "int") else plain(value)
        return out

    def ask(self) -> Trial:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            job = self._dehb.ask()
        key = self._n_asked
        self._n_asked += 1
        self._pending[key] = job
        assert self.problem.fidelity is not None
        fidelity = snap_fidelity(self.problem.fidelity, float(job["fidelity"]))
        meta = {
            "dehb_trial": key,
            "dehb_fidelity": float(job["fidelity"]),
            "dehb_bracket": int(job["bracket_id"]),
        }
        return Trial(self._plain_config(job["config"]), fidelity, meta)

    def tell(self, trial: Trial, result: Result) -> None:
        key = trial.meta.get("dehb_trial")
        if key not in self._pending:
            raise ValueError(f"trial meta dehb_trial={key!r} was not asked or was told already")
        job = self._pending.pop(key)
        loss = minimization_losses(self.problem, result, self._worst)[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self._dehb.tell(job, {"fitness": loss, "cost": float(result.cost)})
