"""BOHB: Hyperband with a TPE-style kernel density model (Falkner, Klein & Hutter, ICML 2018).

"BOHB: Robust and Efficient Hyperparameter Optimization at Scale", Algorithm 2, with
the defaults of the paper and of its reference implementation (hpbandster). Brackets,
rungs and promotions are exactly those of :class:`~optimizers.hyperband.Hyperband`;
only where a bracket's new configurations come from changes. Each one is drawn when
it is handed out, so it sees every result told so far:

* with probability ``random_fraction`` (1/3), or while there is no model, uniformly at random;
* otherwise from the model of the *largest* fidelity with enough results. There the
  results are ranked; the best ``max(n_min, floor(15% n))`` are "good", the next
  ``max(n_min, floor(85% n))`` "bad" (``n_min = d + 1``, ``d`` searchable parameters), and
  the fidelity qualifies when both sets have more than ``d`` points. Each set gets a
  product-kernel density on the unit cube: Gaussian kernels for numbers (log-scaled
  ones on the log scale), Aitchison–Aitken kernels for categoricals and Wang–Ryzin
  kernels for ordinals, bandwidths by the normal reference rule (statsmodels'
  ``KDEMultivariate(bw="normal_reference")``, as hpbandster) floored at ``min_bandwidth``.
  ``n_candidates`` (64) points are drawn around random good points (numbers: a normal
  truncated to [0, 1] with ``bandwidth_factor`` (3) times the bandwidth; discrete: keep
  the value with probability ``1 - bandwidth``, else a uniform choice), and the one
  maximizing ``l(x) / g(x)`` is proposed.

Conditional spaces work as in hpbandster: an inactive value is imputed from another
result where it is active (uniformly at random when none is), and a sampled vector is
decoded with the conditions applied; a proposal that hits a forbidden clause is
replaced by a random configuration. Integers are modelled as numbers and rounded.

Differences from hpbandster, on purpose: the discrete bandwidth is also capped at
``(c - 1) / c`` (the uniform kernel), where statsmodels' normal reference rule can exceed
1 and make the kernel negative; and brackets run one at a time (synchronous, like our
Hyperband: ``ask`` raises :class:`~optimizers.base.WaitForPending` mid-rung) where
hpbandster may open the next bracket for idle workers. Only the first objective is
optimized (negated when maximized); failed trials rank last and are left out of the model.

Example:
    >>> from ConfigSpace import ConfigurationSpace
    >>> from optimizers.base import Budget, Problem
    >>> from tasks.base import Fidelity, Objective, Result
    >>> space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    >>> bohb = BOHB(Problem(space, (Objective("y"),), Fidelity("epochs", 1, 9), Budget(20)), seed=0)
    >>> for _ in range(12):  # bracket s=2 starts with 9 configurations at fidelity 1
    ...     trial = bohb.ask()
    ...     bohb.tell(trial, Result(((trial.config["x"] - 0.3) ** 2,)))
    >>> bohb.model_fidelity()  # 9 results at fidelity 1: good 2, bad 7, both more than d = 1
    1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import stats

from optimizers.base import Problem, Trial
from optimizers.hyperband import Hyperband, first_loss
from optimizers.space_conversion import Param, decode_config, is_forbidden, searchable
from tasks.base import Result

_TINY = 1e-32  # hpbandster's floor on densities, so l/g never divides by zero


@dataclass(frozen=True)
class ProductKDE:
    """A product-kernel density on encoded configurations (numbers in [0, 1], discrete as indices).

    ``levels[j]`` is 0 for a continuous dimension, else its number of values; ``ordinal[j]``
    selects Wang–Ryzin over Aitchison–Aitken for a discrete one.

    Example:
        >>> kde = ProductKDE.fit(np.array([[0.0], [1.0], [1.0]]), (3,), (False,), 1e-3)
        >>> round(float(kde.pdf(np.array([[0.0], [1.0], [2.0]])).sum()), 9)  # over all 3 categories
        1.0
        >>> kde.pdf(np.array([[1.0]])) > kde.pdf(np.array([[2.0]]))  # seen twice beats never seen
        array([ True])
    """

    data: np.ndarray  # (n, d)
    bandwidth: np.ndarray  # (d,)
    levels: tuple[int, ...]
    ordinal: tuple[bool, ...]

    @classmethod
    def fit(
        cls, data: np.ndarray, levels: tuple[int, ...], ordinal: tuple[bool, ...], min_bandwidth: float
    ) -> ProductKDE:
        """Normal reference bandwidths, ``1.06 * std * n**(-1 / (4 + d))``, floored at ``min_bandwidth``."""
        n, d = data.shape
        bandwidth = np.maximum(1.06 * data.std(axis=0) * n ** (-1.0 / (4 + d)), min_bandwidth)
        for j, c in enumerate(levels):
            if c:  # a discrete kernel's bandwidth is a probability; (c - 1) / c is the uniform one
                bandwidth[j] = min(bandwidth[j], (c - 1) / c) if c > 1 else min_bandwidth
        return cls(data, bandwidth, levels, ordinal)

    def pdf(self, points: np.ndarray) -> np.ndarray:
        """Density at each row of ``points`` (m, d): the mean over data of the kernels' product."""
        diff = points[:, None, :] - self.data[None, :, :]  # (m, n, d)
        kernel = np.empty_like(diff)
        for j, (c, h) in enumerate(zip(self.levels, self.bandwidth, strict=True)):
            dj = diff[:, :, j]
            if not c:
                kernel[:, :, j] = np.exp(-0.5 * (dj / h) ** 2) / (h * math.sqrt(2 * math.pi))
            elif self.ordinal[j]:  # Wang-Ryzin
                kernel[:, :, j] = np.where(dj == 0, 1 - h, 0.5 * (1 - h) * h ** np.abs(dj))
            else:  # Aitchison-Aitken
                kernel[:, :, j] = np.where(dj == 0, 1 - h, h / max(c - 1, 1))
        return np.asarray(kernel.prod(axis=2).mean(axis=1))


class BOHB(Hyperband):
    """Hyperband whose new configurations come from a TPE-style KDE model (BOHB).

    Args:
        problem: The task's problem; must have a fidelity axis.
        seed: Seed of the sampler and the model's draws.
        eta: Reduction factor (> 1) of the Hyperband brackets.
        min_fidelity: Fidelity of the lowest rung; defaults to the task's lowest.
        max_fidelity: Fidelity of the highest rung; defaults to the task's highest.
        top_fraction: Share of a fidelity's results modelled as good (paper: 0.15).
        n_candidates: Points drawn from the good density per proposal (paper: 64).
        random_fraction: Share of configurations drawn at random (paper: 1/3).
        bandwidth_factor: Widening of the good density's bandwidth when drawing (paper: 3).
        min_bandwidth: Floor on every bandwidth (hpbandster: 1e-3).
        min_points_in_model: ``n_min``; ``None`` = number of searchable parameters + 1.
    """

    # The KDEs use scipy's truncated normals: runs record its version, so a scipy upgrade marks
    # archived BOHB runs stale like a library adapter's.
    requires: ClassVar[tuple[str, ...]] = ("scipy",)

    def __init__(
        self,
        problem: Problem,
        seed: int,
        eta: float = 3,
        min_fidelity: float | None = None,
        max_fidelity: float | None = None,
        top_fraction: float = 0.15,
        n_candidates: int = 64,
        random_fraction: float = 1 / 3,
        bandwidth_factor: float = 3.0,
        min_bandwidth: float = 1e-3,
        min_points_in_model: int | None = None,
    ) -> None:
        super().__init__(problem, seed, eta=eta, min_fidelity=min_fidelity, max_fidelity=max_fidelity)
        model = {
            "top_fraction": top_fraction,
            "n_candidates": n_candidates,
            "random_fraction": random_fraction,
            "bandwidth_factor": bandwidth_factor,
            "min_bandwidth": min_bandwidth,
            "min_points_in_model": min_points_in_model,
        }
        self.params = {**self.params, **model}
        self._params: list[Param] = searchable(problem.space)
        d = len(self._params)
        checks = [
            ("top_fraction", 0 < top_fraction < 1, "a number in (0, 1)"),
            ("n_candidates", _is_int(n_candidates) and n_candidates >= 1, "an integer >= 1"),
            ("random_fraction", 0 <= random_fraction <= 1, "a number in [0, 1]"),
            ("bandwidth_factor", bandwidth_factor > 0, "a number > 0"),
            ("min_bandwidth", 0 < min_bandwidth < 1, "a number in (0, 1)"),
            (
                "min_points_in_model",
                min_points_in_model is None or (_is_int(min_points_in_model) and min_points_in_model > d),
                f"null or an integer > {d} (the number of searchable parameters)",
            ),
        ]
        for name, ok, valid in checks:
            if not ok:
                raise ValueError(f"{name}={model[name]!r} is invalid: use {valid}")
        self.top_fraction = float(top_fraction)
        self.n_candidates = int(n_candidates)
        self.random_fraction = float(random_fraction)
        self.bandwidth_factor = float(bandwidth_factor)
        self.min_bandwidth = float(min_bandwidth)
        self.n_min = d + 1 if min_points_in_model is None else int(min_points_in_model)
        self._levels = tuple(p.n_choices if p.kind in ("categorical", "ordinal") else 0 for p in self._params)
        self._ordinal = tuple(p.kind == "ordinal" for p in self._params)
        # Its own stream, so the random configurations are the sampler's alone.
        self._rng = np.random.default_rng([self.seed, 1])
        self._vectors: dict[float, list[np.ndarray]] = {}  # by fidelity: encoded configs told
        self._losses: dict[float, list[float]] = {}

    # ------------------------------------------------------------------ encoding

    def _encode(self, config: dict[str, Any]) -> np.ndarray:
        """Numbers to [0, 1] (log scale where ``log``), discrete values to their index; inactive: nan."""
        out = np.full(len(self._params), np.nan)
        for j, p in enumerate(self._params):
            if p.name not in config:
                continue
            value = config[p.name]
            if p.kind in ("categorical", "ordinal"):
                out[j] = p.choices.index(value)
            elif p.log:
                out[j] = (math.log(value) - math.log(p.lower)) / (math.log(p.upper) - math.log(p.lower))
            else:
                out[j] = (float(value) - p.lower) / (p.upper - p.lower) if p.upper > p.lower else 0.5
        return out

    def _decode(self, vector: np.ndarray) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        for p, u in zip(self._params, vector.tolist(), strict=True):
            if p.kind in ("categorical", "ordinal"):
                raw[p.name] = int(u)
            elif p.log:
                raw[p.name] = math.exp(math.log(p.lower) + u * (math.log(p.upper) - math.log(p.lower)))
            else:
                raw[p.name] = p.lower + u * (p.upper - p.lower)
        return decode_config(self.problem.space, raw)  # rounds ints, drops inactive, adds constants

    # ------------------------------------------------------------------ model

    def model_fidelity(self) -> float | None:
        """The largest fidelity whose results are enough for a model, or ``None``."""
        for fidelity in sorted(self._losses, reverse=True):
            if self._split(len(self._losses[fidelity])) is not None:
                return fidelity
        return None

    def _split(self, n: int) -> tuple[int, int] | None:
        """(good, bad) set sizes for ``n`` results, or ``None`` when either is too small (hpbandster)."""
        d = len(self._params)
        n_good = max(self.n_min, math.floor(self.top_fraction * n + 1e-9))
        n_bad = min(max(self.n_min, math.floor((1 - self.top_fraction) * n + 1e-9)), n - n_good)
        if n_good <= d or n_bad <= d:
            return None
        return n_good, n_bad

    def _impute(self, data: np.ndarray) -> np.ndarray:
        """Inactive entries (nan) from another row where active, else uniformly at random."""
        data = data.copy()
        for j in np.flatnonzero(np.isnan(data).any(axis=0)).tolist():
            missing = np.isnan(data[:, j])
            active = data[~missing, j]
            if active.size:
                data[missing, j] = self._rng.choice(active, int(missing.sum()))
            elif self._levels[j]:
                data[missing, j] = self._rng.integers(0, self._levels[j], int(missing.sum()))
            else:
                data[missing, j] = self._rng.random(int(missing.sum()))
        return data

    def _models(self) -> tuple[ProductKDE, ProductKDE] | None:
        fidelity = self.model_fidelity()
        if fidelity is None:
            return None
        losses = np.asarray(self._losses[fidelity])
        split = self._split(len(losses))
        assert split is not None
        order = np.argsort(losses, kind="stable")
        vectors = np.asarray(self._vectors[fidelity])
        good = self._impute(vectors[order[: split[0]]])
        bad = self._impute(vectors[order[split[0] : split[0] + split[1]]])
        fit = ProductKDE.fit
        return (
            fit(good, self._levels, self._ordinal, self.min_bandwidth),
            fit(bad, self._levels, self._ordinal, self.min_bandwidth),
        )

    def _candidates(self, good: ProductKDE) -> np.ndarray:
        """``n_candidates`` points around random good points (hpbandster's ``get_config``)."""
        m = self.n_candidates
        centers = good.data[self._rng.integers(0, len(good.data), m)]
        out = np.empty_like(centers)
        for j, (c, h) in enumerate(zip(self._levels, good.bandwidth.tolist(), strict=True)):
            if not c:
                scale = self.bandwidth_factor * h
                lo, hi = -centers[:, j] / scale, (1 - centers[:, j]) / scale
                out[:, j] = stats.truncnorm.rvs(
                    lo, hi, loc=centers[:, j], scale=scale, random_state=self._rng
                )
            else:
                keep = self._rng.random(m) < 1 - h
                out[:, j] = np.where(keep, centers[:, j], self._rng.integers(0, c, m))
        return np.clip(out, 0.0, 1.0)

    def _propose(self) -> dict[str, Any]:
        models = None if self._rng.random() < self.random_fraction else self._models()
        if models is None:
            return self._sampler.sample(1)[0]
        good, bad = models
        candidates = self._candidates(good)
        ratio = np.maximum(good.pdf(candidates), _TINY) / np.maximum(bad.pdf(candidates), _TINY)
        config = self._decode(candidates[int(np.argmax(ratio))])
        if is_forbidden(self.problem.space, config):
            return self._sampler.sample(1)[0]
        return config

    def _first_rung(self, n: int) -> Callable[[], dict[str, Any]]:
        return self._propose  # one at a time, when handed out: each sees every result so far

    def tell(self, trial: Trial, result: Result) -> None:
        super().tell(trial, result)  # validates the trial first
        loss = first_loss(result, self.minimize)
        if math.isfinite(loss) and trial.fidelity is not None:
            self._vectors.setdefault(trial.fidelity, []).append(self._encode(trial.config))
            self._losses.setdefault(trial.fidelity, []).append(loss)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
