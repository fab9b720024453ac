"""Hyperopt's TPE through an ask/tell bridge without threads.

Hyperopt only offers ``fmin`` (it owns the loop), but its suggestion step is a
plain function: ``tpe.suggest(new_ids, domain, trials, seed)`` reads a
``Trials`` object and returns new trial documents. The adapter keeps its own
``Trials``, calls ``tpe.suggest`` for one document on :meth:`ask`, and inserts
the finished document on :meth:`tell`; no thread, no generator, deterministic
given the run seed (each suggestion draws its seed from a ``numpy`` generator
seeded by the run seed).

Maximized objectives are negated; non-finite results are told as failed trials
(``STATUS_FAIL``), which TPE ignores. Forbidden clauses are handled the same
way: a forbidden suggestion is recorded as failed and TPE suggests again.
Conditional parameters are refused (they would need nested ``hp.choice``).

Tasks with a fidelity axis are optimized at the highest fidelity.

Example:
    >>> from ConfigSpace import ConfigurationSpace
    >>> from optimizers.base import Budget, Problem
    >>> from tasks.base import Objective, Result
    >>> space = ConfigurationSpace({"x": (-2.0, 2.0), "o": [1, 2, 4]}, seed=0)
    >>> opt = HyperoptTPE(Problem(space, (Objective("y"),), None, Budget(5)), seed=1)
    >>> trial = opt.ask()
    >>> trial.config["o"] in (1, 2, 4)
    True
    >>> opt.tell(trial, Result((trial.config["x"] ** 2,)))
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from ConfigSpace import ConfigurationSpace

from optimizers.base import Optimizer, Problem, Trial
from optimizers.space_conversion import (
    decode_config,
    is_forbidden,
    library_seed,
    minimization_losses,
    searchable,
    unsupported_features,
)
from tasks.base import Result

#: Consecutive forbidden suggestions after which ``ask`` gives up.
MAX_RESAMPLES = 1000


def hyperopt_space(space: ConfigurationSpace) -> dict[str, Any]:
    """A hyperopt search space (dict of ``hp`` expressions) for every searched parameter.

    Integers and ordinal indices use ``quniform``/``qloguniform`` with ``q=1`` over
    a range widened by half a step, so TPE keeps their order and both bounds are
    reachable; categoricals use ``hp.choice`` over the index.

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> sorted(hyperopt_space(ConfigurationSpace({"x": (0.0, 1.0), "c": ["a", "b"]})))
        ['c', 'x']
    """
    from hyperopt import hp

    out: dict[str, Any] = {}
    for p in searchable(space):
        if p.kind == "float":
            out[p.name] = (
                hp.loguniform(p.name, math.log(p.lower), math.log(p.upper))
                if p.log
                else hp.uniform(p.name, p.lower, p.upper)
            )
        elif p.kind in ("int", "ordinal"):
            lo, hi = (p.lower, p.upper) if p.kind == "int" else (0.0, p.n_choices - 1.0)
            lo, hi = lo - 0.4999, hi + 0.4999
            out[p.name] = (
                hp.qloguniform(p.name, math.log(lo), math.log(hi), 1)
                if p.log
                else hp.quniform(p.name, lo, hi, 1)
            )
        else:
            out[p.name] = hp.choice(p.name, list(range(p.n_choices)))
    return out


class HyperoptTPE(Optimizer):
    """Tree-structured Parzen estimator from hyperopt (``hyperopt.tpe.suggest``).

    Args:
        problem: The problem to optimize (single objective).
        seed: Run seed.
        **params: Keyword arguments of ``tpe.suggest`` (``n_startup_jobs``,
            ``n_EI_candidates``, ``gamma``, ``prior_weight``).
    """

    supports: ClassVar[frozenset[str]] = frozenset()
    requires: ClassVar[tuple[str, ...]] = ("hyperopt", "scipy")  # TPE's densities use scipy
    extra: ClassVar[str | None] = "hyperopt"
    library: ClassVar[str | None] = "hyperopt"
    #: The keyword arguments of ``tpe.suggest`` (which has no annotations to read them from).
    param_types: ClassVar[Mapping[str, Any] | None] = {
        "n_startup_jobs": int,
        "n_EI_candidates": int,
        "gamma": float,
        "prior_weight": float,
    }

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        super().__init__(problem, seed, **params)
        from hyperopt import Trials
        from hyperopt.base import Domain

        valid = set(self.param_types or {})
        if set(params) - valid:
            unknown = sorted(set(params) - valid)
            raise ValueError(f"unknown hyperopt TPE params {unknown}: valid are {sorted(valid)}")
        # The objective function is never called: the runner evaluates, the bridge only suggests.
        self._domain = Domain(lambda config: None, hyperopt_space(problem.space))
        self._trials = Trials()
        self._rng = np.random.default_rng(library_seed(self.seed))
        self._suggest_kwargs = dict(params)
        self._pending: dict[int, dict[str, Any]] = {}
        self._worst: list[float] = []

    @classmethod
    def check_space(cls, space: ConfigurationSpace) -> str | None:
        return unsupported_features(space, "hyperopt", conditions=False, forbiddens=True)

    def _suggest(self) -> dict[str, Any]:
        from hyperopt import tpe

        ids = self._trials.new_trial_ids(1)
        self._trials.refresh()
        seed = int(self._rng.integers(2**31 - 1))
        docs = tpe.suggest(ids, self._domain, self._trials, seed, verbose=False, **self._suggest_kwargs)
        doc: dict[str, Any] = docs[0]
        return doc

    def _finish(self, doc: dict[str, Any], loss: float | None) -> None:
        from hyperopt import JOB_STATE_DONE, STATUS_FAIL, STATUS_OK

        doc["state"] = JOB_STATE_DONE
        doc["result"] = {"status": STATUS_FAIL} if loss is None else {"status": STATUS_OK, "loss": loss}
        self._trials.insert_trial_docs([doc])
        self._trials.refresh()

    def ask(self) -> Trial:
        for _ in range(MAX_RESAMPLES):
            doc = self._suggest()
            raw = {name: values[0] for name, values in doc["misc"]["vals"].items() if values}
            config = decode_config(self.problem.space, raw)
            if not is_forbidden(self.problem.space, config):
                self._pending[doc["tid"]] = doc
                return Trial(config, meta={"hyperopt_tid": doc["tid"]})
            self._finish(doc, None)
        raise RuntimeError(
            f"HyperoptTPE: {MAX_RESAMPLES} consecutive suggestions were forbidden; "
            "the forbidden clauses exclude almost the whole space"
        )

    def tell(self, trial: Trial, result: Result) -> None:
        doc = self._pending.pop(trial.meta["hyperopt_tid"])
        loss = minimization_losses(self.problem, result)[0]
        self._finish(doc, loss if math.isfinite(loss) else None)
