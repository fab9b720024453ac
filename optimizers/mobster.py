"""MOBSTER: asynchronous successive halving with a Gaussian-process searcher.

Klein, Tiao, Lienart, Archambeau & Seeger (2020), "Model-based Asynchronous
Hyperparameter and Neural Architecture Search" (arXiv:2003.10865). The scheduling is
exactly :class:`~optimizers.asha.ASHA`'s (promotion variant: the same rungs, the same
top-``1/eta`` promotions, never waiting for a rung to fill); only where a *new*
configuration comes from changes:

* the first ``num_init_random`` configurations (6, Syne Tune's default for MOBSTER) are
  drawn at random, as ASHA draws them;
* after that, one joint Gaussian process models the loss over ``(x, r)``, the
  configuration and the fidelity, fitted to every result on every rung so far (the
  paper's "joint" model: a Matérn-5/2 ARD kernel over the configuration encoded in the
  unit cube with the fidelity, log-scaled to [0, 1], as one more input; hyperparameters
  by maximum marginal likelihood, :mod:`optimizers.gp_model`, fitted again each time the
  results have grown by ``refit_growth`` (10%) and reused, conditioned on every result, in
  between);
* the new configuration maximizes the expected improvement *at the acquisition fidelity*
  ``r_acq`` over ``n_candidates`` random candidates (duplicates of configurations already
  started are left out). ``r_acq`` is the BOHB rule the paper and Syne Tune use: the
  highest rung with at least ``resource_acq_threshold`` (3) results, else the lowest rung;
  the incumbent is the best result at ``r_acq``.

Pending evaluations (other workers still running, :doc:`simulated workers
<simulated-workers>`) enter the model as fantasies at the posterior mean (kriging
believer), so concurrent proposals do not pile onto one point.

Differences from Syne Tune's MOBSTER, on purpose and documented: its default resource
kernel is the exponential-decay ("exp-decay-sum", Swersky et al. freeze-thaw) kernel,
here it is the joint Matérn kernel (Syne Tune's ``gp_resource_kernel="matern52"``
option); hyperparameters are point estimates without its gamma priors; fantasies are
the posterior mean rather than 20 posterior samples; the acquisition is maximized over
random candidates without its local search. Categorical parameters are one-hot, ordinals
their normalized index; a parameter that a condition makes inactive is encoded as the
middle of its range (all zeros when categorical). At most ``max_model_points`` results
feed the model: the highest rungs first, then the newest. Only the first objective is
optimized (negated when maximized); failed trials rank last and enter the model at the
worst loss seen so far (as SMAC imputes crashes), on their rung and every rung above, so
the model learns to avoid them.

Example:
    >>> from ConfigSpace import ConfigurationSpace
    >>> from optimizers.base import Budget, Problem
    >>> from tasks.base import Fidelity, Objective, Result
    >>> space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    >>> opt = MOBSTER(Problem(space, (Objective("y"),), Fidelity("epochs", 1, 9), Budget(12)), seed=0)
    >>> new = []  # x of each new configuration
    >>> for _ in range(12):
    ...     trial = opt.ask()
    ...     if trial.meta["rung"] == 0:
    ...         new.append(trial.config["x"])
    ...     opt.tell(trial, Result(((trial.config["x"] - 0.3) ** 2 + 1 / trial.fidelity,)))
    >>> opt.acquisition_rung()  # rung 1 (fidelity 3) holds 3 results, rung 2 (fidelity 9) fewer
    1
    >>> round(new[6], 2)  # the model's first proposal, after 6 random configurations
    0.31
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from optimizers.asha import ASHA
from optimizers.base import Problem, Trial
from optimizers.gp_model import GaussianProcess, expected_improvement
from optimizers.params import fits
from optimizers.sampling import SpaceSampler
from optimizers.space_conversion import Param, searchable
from tasks.base import Result


class CubeEncoder:
    """Configurations as points of the unit cube for a GP: numbers (log-scaled where ``log``)
    to [0, 1], ordinals to their index over ``n - 1``, categoricals one-hot; an inactive
    parameter is the middle of its range (all zeros when categorical).

    Example:
        >>> from ConfigSpace import ConfigurationSpace, Float
        >>> space = ConfigurationSpace({"k": ["a", "b", "c"], "n": (1, 5)})
        >>> _ = space.add(Float("lr", (1e-3, 1e-1), log=True))
        >>> CubeEncoder(space).encode({"k": "b", "n": 2, "lr": 1e-2}).round(3).tolist()
        [0.0, 1.0, 0.0, 0.5, 0.25]
    """

    def __init__(self, space: Any) -> None:
        self.params: list[Param] = searchable(space)
        self.dim = sum(p.n_choices if p.kind == "categorical" else 1 for p in self.params)

    def encode(self, config: dict[str, Any]) -> np.ndarray:
        out: list[float] = []
        for p in self.params:
            value = config.get(p.name)
            if p.kind == "categorical":
                out.extend(1.0 if value is not None and value == c else 0.0 for c in p.choices)
            elif value is None:
                out.append(0.5)
            elif p.kind == "ordinal":
                out.append(p.choices.index(value) / (p.n_choices - 1) if p.n_choices > 1 else 0.5)
            elif p.upper <= p.lower:
                out.append(0.5)
            elif p.log:
                out.append((math.log(value) - math.log(p.lower)) / (math.log(p.upper) - math.log(p.lower)))
            else:
                out.append((float(value) - p.lower) / (p.upper - p.lower))
        return np.asarray(out, dtype=float)


class MOBSTER(ASHA):
    """ASHA whose new configurations maximize a joint GP's expected improvement (MOBSTER).

    Args:
        problem: The task's problem; must have a fidelity axis.
        seed: Seed of the random configurations, the candidates and the model fits.
        eta: Reduction factor (> 1) of the ASHA rungs.
        min_fidelity: Fidelity of the lowest rung; defaults to the task's lowest.
        max_fidelity: Fidelity of the highest rung; defaults to the task's highest.
        num_init_random: Configurations drawn at random before the model is used (Syne Tune: 6).
        n_candidates: Random candidates scored by expected improvement per proposal.
        resource_acq_threshold: Results a rung needs to be the acquisition fidelity (Syne Tune: 3).
        max_model_points: Most results the GP is fitted to (Syne Tune: 500).
        refit_growth: The GP's hyperparameters are fitted again once the results have grown by
            this fraction since the last fit (0.1: about 60 fits up to 500 results); in between
            the last fit's hyperparameters are conditioned on all results. 0: every proposal.
    """

    # The GP (optimizers/gp_model.py) is fitted and solved with scipy: runs record its version,
    # so a scipy upgrade marks archived MOBSTER runs stale like a library adapter's.
    requires: ClassVar[tuple[str, ...]] = ("scipy",)

    def __init__(
        self,
        problem: Problem,
        seed: int,
        eta: float = 3,
        min_fidelity: float | None = None,
        max_fidelity: float | None = None,
        num_init_random: int = 6,
        n_candidates: int = 500,
        resource_acq_threshold: int = 3,
        max_model_points: int = 500,
        refit_growth: float = 0.1,
    ) -> None:
        super().__init__(problem, seed, eta=eta, min_fidelity=min_fidelity, max_fidelity=max_fidelity)
        model = {
            "num_init_random": num_init_random,
            "n_candidates": n_candidates,
            "resource_acq_threshold": resource_acq_threshold,
            "max_model_points": max_model_points,
            "refit_growth": refit_growth,
        }
        self.params = {**self.params, **model}
        for name, value, least in (
            ("num_init_random", num_init_random, 1),
            ("n_candidates", n_candidates, 1),
            ("resource_acq_threshold", resource_acq_threshold, 1),
            ("max_model_points", max_model_points, 2),
        ):
            if not (fits(value, int) and value >= least):
                raise ValueError(f"{name}={value!r} is invalid: use an integer >= {least}")
        if not (fits(refit_growth, float) and refit_growth >= 0):
            raise ValueError(
                f"refit_growth={refit_growth!r} is invalid: use a number >= 0 (0: refit every time)"
            )
        self.refit_growth = float(refit_growth)
        self.num_init_random = num_init_random
        self.n_candidates = n_candidates
        self.resource_acq_threshold = resource_acq_threshold
        self.max_model_points = max_model_points
        self._encoder = CubeEncoder(problem.space)
        # Their own streams, so ASHA's random configurations stay the sampler's alone.
        self._rng = np.random.default_rng([self.seed, 1])
        self._candidates = SpaceSampler(problem.space, np.random.default_rng([self.seed, 2]))
        self._vectors: list[np.ndarray] = []  # encoded config, by config id
        self._started: set[bytes] = set()
        self._pending: dict[tuple[int, int], int] = {}  # (config id, rung) -> trials running
        self._theta: np.ndarray | None = None  # last fit's log parameters: the next fit's warm start
        self._fitted_n = 0  # results the hyperparameters were last fitted to
        low, high = math.log(self.rungs[0]), math.log(self.rungs[-1])
        self._rung_coordinate = [
            (math.log(f) - low) / (high - low) if high > low else 1.0 for f in self.rungs
        ]

    # ------------------------------------------------------------------ scheduling hooks

    def ask(self) -> Trial:
        trial = super().ask()
        key = (trial.meta["config_id"], trial.meta["rung"])
        self._pending[key] = self._pending.get(key, 0) + 1
        return trial

    def tell(self, trial: Trial, result: Result) -> None:
        super().tell(trial, result)  # validates the trial first
        key = (trial.meta["config_id"], trial.meta["rung"])
        left = self._pending.get(key, 0) - 1
        if left > 0:
            self._pending[key] = left
        else:
            self._pending.pop(key, None)

    def _new_config(self) -> dict[str, Any]:
        config = self._model_config() if len(self._configs) >= self.num_init_random else None
        if config is None:
            config = super()._new_config()
        vector = self._encoder.encode(config)
        self._vectors.append(vector)
        self._started.add(vector.tobytes())
        return config

    # ------------------------------------------------------------------ model

    def acquisition_rung(self) -> int:
        """``r_acq``: the highest rung with ``resource_acq_threshold`` results, else the lowest."""
        for k in range(len(self.rungs) - 1, -1, -1):
            if sum(math.isfinite(loss) for loss, _ in self._results[k]) >= self.resource_acq_threshold:
                return k
        return 0

    def _observations(self) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, losses) the model is fitted to: highest rungs first, then the newest."""
        finite = [loss for results in self._results for loss, _ in results if math.isfinite(loss)]
        worst = max(finite, default=math.nan)
        # A failed trial counts as the worst loss seen so far, on its rung and on every rung
        # above (a configuration that fails is never promoted, and it would fail there too).
        # Left out, it would leave the model's uncertainty, and so its EI, highest exactly
        # where trials fail.
        failed: list[int] = []
        by_rung: list[list[tuple[int, float]]] = []
        for k in range(len(self.rungs)):
            failed.extend(cid for loss, cid in self._results[k] if not math.isfinite(loss))
            finite_here = [(cid, loss) for loss, cid in self._results[k] if math.isfinite(loss)]
            by_rung.append(finite_here + [(cid, worst) for cid in failed])
        rows: list[tuple[int, int, float]] = []
        for k in range(len(self.rungs) - 1, -1, -1):
            rows.extend((k, cid, loss) for cid, loss in reversed(by_rung[k]) if math.isfinite(loss))
        rows = rows[: self.max_model_points]
        x = np.array([self._input(cid, k) for k, cid, _ in rows]).reshape(len(rows), -1)
        return x, np.array([loss for _, _, loss in rows])

    def _input(self, cid: int, rung: int) -> np.ndarray:
        return np.append(self._vectors[cid], self._rung_coordinate[rung])

    def _model_config(self) -> dict[str, Any] | None:
        x, y = self._observations()
        if len(y) < 2 or float(np.ptp(y)) == 0.0:
            return None  # nothing a model could learn from yet
        if self._theta is None or len(y) >= self._fitted_n * (1.0 + self.refit_growth):
            gp = GaussianProcess.fit(x, y, self._rng, restarts=1, start=self._theta)
            self._theta, self._fitted_n = gp.log_params(), len(y)
        else:  # the hyperparameters of the last fit, conditioned on today's data
            gp = GaussianProcess.with_params(x, y, self._theta)
        if self._pending:  # kriging believer: pending evaluations count at their predicted loss
            fx = np.array([self._input(cid, k) for cid, k in self._pending])
            gp = gp.with_data(np.vstack([x, fx]), np.concatenate([y, gp.predict(fx)[0]]))
        r_acq = self.acquisition_rung()
        at_acq = [loss for loss, _ in self._results[r_acq] if math.isfinite(loss)]
        best = min(at_acq) if at_acq else float(y.min())
        configs, vectors = [], []
        for c in self._candidates.sample(self.n_candidates):
            v = self._encoder.encode(c)
            if v.tobytes() not in self._started:
                configs.append(c)
                vectors.append(v)
        if not configs:
            return None
        points = np.hstack([np.array(vectors), np.full((len(configs), 1), self._rung_coordinate[r_acq])])
        mean, std = gp.predict(points)
        return configs[int(np.argmax(expected_improvement(mean, std, best)))]
