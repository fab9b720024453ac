"""Real scikit-learn training on bundled datasets as tasks: the modern Bayesmark.

Every evaluation trains a real model with 3-fold cross-validation (``n_jobs=1``)
on one of scikit-learn's bundled datasets, so nothing is downloaded:

* classification: ``iris``, ``wine``, ``breast_cancer``, ``digits``; metrics
  ``err`` (1 - accuracy) and ``nll`` (log loss);
* regression: ``diabetes``; metrics ``mse`` and ``mae`` (on the raw target).

Nine model families, with search spaces in the spirit of Bayesmark (Uber, 2019;
log ranges for scales): ``knn``, ``svm`` (SVC/SVR), ``dt`` (decision tree),
``rf`` (random forest), ``et`` (extra trees), ``ada`` (AdaBoost), ``hgb``
(histogram gradient boosting), ``mlp`` (Adam) and ``linear`` (logistic
regression / Lasso). Features are standardized inside each fold (a
``Pipeline``), so no information leaks across folds.

Task ids are ``sklearn-live/<model>/<dataset>/<metric>`` (black-box) and
``sklearn-live/<model>/<dataset>/<metric>/mf`` with the fraction of each training
fold used (``train_fraction`` in ``[0.1, 1]``, a stratified prefix) as fidelity.

Evaluation is deterministic given ``seed``: it fixes the CV split and the
model's ``random_state``. ``Result.cost`` is the measured wall time in seconds
(it varies); ``Result.info`` holds the per-fold scores.

Example:
    >>> task = make("sklearn-live/knn/iris/err")
    >>> r = task.evaluate({"n_neighbors": 5, "p": 2, "weights": "uniform"}, seed=0)
    >>> round(r.values[0], 3), r.cost > 0
    (0.04, True)
"""

from __future__ import annotations

import difflib
import importlib.util
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, Literal

import numpy as np
from ConfigSpace import (
    Categorical,
    ConfigurationSpace,
    Float,
    Integer,
)

from tasks.base import Fidelity, Objective, Result, Task, TaskFamily, TaskMeta

Problem = Literal["classification", "regression"]
FAMILY = "sklearn-live"

#: Bundled scikit-learn datasets: name → (problem type, loader function name).
DATASETS: dict[str, tuple[Problem, str]] = {
    "iris": ("classification", "load_iris"),
    "wine": ("classification", "load_wine"),
    "breast_cancer": ("classification", "load_breast_cancer"),
    "digits": ("classification", "load_digits"),
    "diabetes": ("regression", "load_diabetes"),
}
#: Metrics per problem type (all minimized).
METRICS: dict[Problem, tuple[str, ...]] = {
    "classification": ("err", "nll"),
    "regression": ("mse", "mae"),
}
N_FOLDS = 3
#: Lowest training fraction of the multi-fidelity variant.
MIN_FRACTION = 0.1


@cache
def load_dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Features (float64) and target of a bundled dataset, cached per process.

    Example:
        >>> X, y = load_dataset("iris")
        >>> X.shape, len(set(y))
        ((150, 4), 3)
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid: {list(DATASETS)}")
    import sklearn.datasets

    X, y = getattr(sklearn.datasets, DATASETS[name][1])(return_X_y=True)
    X = np.asarray(X, dtype=np.float64)
    X.setflags(write=False)
    y = np.asarray(y)
    y.setflags(write=False)
    return X, y


def stratified_order(y: np.ndarray, seed: int, classification: bool = True) -> np.ndarray:
    """A seeded permutation of ``range(len(y))`` whose every prefix is class-balanced.

    Training subsets are prefixes of this order, so a smaller subset is always
    contained in a larger one and every class appears as early as possible.

    Example:
        >>> order = stratified_order(np.array([0, 0, 0, 0, 1, 1]), seed=0)
        >>> sorted(np.array([0, 0, 0, 0, 1, 1])[order[:3]].tolist())
        [0, 0, 1]
    """
    rng = np.random.default_rng(seed)
    if not classification:
        return rng.permutation(len(y))
    # Position of each sample within its (shuffled) class, as a fraction: interleaves the classes.
    key = np.empty(len(y))
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        key[rng.permutation(idx)] = (np.arange(len(idx)) + rng.random()) / len(idx)
    return np.argsort(key, kind="stable")


# ----------------------------------------------------------------------------- models


@dataclass(frozen=True)
class Model:
    """One model family: its search space and an estimator factory per problem type.

    ``make(config, problem, seed, probability)`` returns an unfitted estimator;
    ``probability`` asks classifiers for calibrated ``predict_proba`` (SVC).
    """

    name: str
    space: Callable[[Problem], list[Any]]
    make: Callable[[Mapping[str, Any], Problem, int, bool], Any]
    description: str


def _knn_space(problem: Problem) -> list[Any]:
    return [
        Integer("n_neighbors", (1, 25), default=5),
        Integer("p", (1, 2), default=2),
        Categorical("weights", ["uniform", "distance"], default="uniform"),
    ]


def _knn(c: Mapping[str, Any], problem: Problem, seed: int, probability: bool) -> Any:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    cls = KNeighborsClassifier if problem == "classification" else KNeighborsRegressor
    return cls(n_neighbors=int(c["n_neighbors"]), p=int(c["p"]), weights=c["weights"])


def _svm_space(problem: Problem) -> list[Any]:
    hps = [
        Float("C", (1.0, 1e3), log=True, default=1.0),
        Float("gamma", (1e-4, 1e-1), log=True, default=1e-2),
        Float("tol", (1e-5, 1e-1), log=True, default=1e-3),
    ]
    if problem == "regression":
        hps.append(Float("epsilon", (1e-2, 1.0), log=True, default=0.1))
    return hps


def _svm(c: Mapping[str, Any], problem: Problem, seed: int, probability: bool) -> Any:
    from sklearn.svm import SVC, SVR

    common = {"C": float(c["C"]), "gamma": float(c["gamma"]), "tol": float(c["tol"])}
    if problem == "regression":
        # The target is not scaled, so epsilon is relative to the target's standard deviation.
        return SVR(epsilon=float(c["epsilon"]), **common)
    return SVC(probability=probability, random_state=seed, **common)


def _tree_space(problem: Problem, ensemble: bool = False) -> list[Any]:
    hps = [
        Integer("max_depth", (1, 15), default=8),
        Float("max_features", (0.01, 1.0), default=1.0 if not ensemble else 0.5),
        # Narrower than Bayesmark's (0.99, 0.49, 0.49, 0.5): there, most of the space is a one-leaf tree.
        Float("min_samples_split", (0.001, 0.5), log=True, default=0.01),
        Float("min_samples_leaf", (0.001, 0.3), log=True, default=0.01),
        Float("min_weight_fraction_leaf", (0.0, 0.3), default=0.0),
        Float("min_impurity_decrease", (0.0, 0.1), default=0.0),
    ]
    if ensemble:
        hps.append(Integer("n_estimators", (10, 100), log=True, default=30))
    return hps


def _tree_params(c: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "max_depth": int(c["max_depth"]),
        "max_features": float(c["max_features"]),
        "min_samples_split": float(c["min_samples_split"]),
        "min_samples_leaf": float(c["min_samples_leaf"]),
        "min_weight_fraction_leaf": float(c["min_weight_fraction_leaf"]),
        "min_impurity_decrease": float(c["min_impurity_decrease"]),
    }


def _dt(c: Mapping[str, Any], problem: Problem, seed: int, probability: bool) -> Any:
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    cls = DecisionTreeClassifier if problem == "classification" else DecisionTreeRegressor
    return cls(random_state=seed, **_tree_params(c))


def _forest(c: Mapping[str, Any], problem: Problem, seed: int, probability: bool, *, extra: bool) -> Any:
    from sklearn import ensemble

    kind = ("ExtraTrees" if extra else "RandomForest") + (
        "Classifier" if problem == "classification" else "Regressor"
    )
    return getattr(ensemble, kind)(
        n_estimators=int(c["n_estimators"]), random_state=seed, n_jobs=1, **_tree_params(c)
    )


def _ada_space(problem: Problem) -> list[Any]:
    return [
        Integer("n_estimators", (10, 100), log=True, default=50),
        Float("learning_rate", (1e-4, 10.0), log=True, default=1.0),
    ]


def _ada(c: Mapping[str, Any], problem: Problem, seed: int, probability: bool) -> Any:
    from sklearn.ensemble import AdaBoostClassifier, AdaBoostRegressor

    cls = AdaBoostClassifier if problem == "classification" else AdaBoostRegressor
    return cls(
        n_estimators=int(c["n_estimators"]), learning_rate=float(c["learning_rate"]), random_state=seed
    )


def _hgb_space(problem: Problem) -> list[Any]:
    return [
        Float("learning_rate", (1e-2, 1.0), log=True, default=0.1),
        Integer("max_iter", (10, 50), log=True, default=20),
        Integer("max_leaf_nodes", (2, 64), log=True, default=16),
        Integer("min_samples_leaf", (1, 64), log=True, default=20),
        Float("l2_regularization", (1e-6, 10.0), log=True, default=1e-6),
    ]


def _hgb(c: Mapping[str, Any], problem: Problem, seed: int, probability: bool) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingClassifier if problem == "classification" else HistGradientBoostingRegressor
    return cls(
        learning_rate=float(c["learning_rate"]),
        max_iter=int(c["max_iter"]),
        max_leaf_nodes=int(c["max_leaf_nodes"]),
        min_samples_leaf=int(c["min_samples_leaf"]),
        l2_regularization=float(c["l2_regularization"]),
        early_stopping=False,
        random_state=seed,
    )


def _mlp_space(problem: Problem) -> list[Any]:
    return [
        Integer("hidden_layer_sizes", (16, 128), log=True, default=64),
        Float("alpha", (1e-5, 10.0), log=True, default=1e-4),
        Integer("batch_size", (16, 256), log=True, default=64),
        Float("learning_rate_init", (1e-5, 1e-1), log=True, default=1e-3),
        Float("beta_1", (0.5, 0.99), default=0.9),
        Float("beta_2", (0.9, 0.9999), default=0.999),
    ]


def _mlp(c: Mapping[str, Any], problem: Problem, seed: int, probability: bool) -> Any:
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    cls = MLPClassifier if problem == "classification" else MLPRegressor
    # max_iter bounds the epochs so that one evaluation stays around a second on digits.
    return cls(
        hidden_layer_sizes=(int(c["hidden_layer_sizes"]),),
        alpha=float(c["alpha"]),
        batch_size=int(c["batch_size"]),
        learning_rate_init=float(c["learning_rate_init"]),
        beta_1=float(c["beta_1"]),
        beta_2=float(c["beta_2"]),
        max_iter=40,
        random_state=seed,
    )


def _linear_space(problem: Problem) -> list[Any]:
    if problem == "regression":
        return [
            Float("alpha", (1e-2, 1e2), log=True, default=1.0),
            Categorical("fit_intercept", ["true", "false"], default="true"),
        ]
    return [
        Float("C", (1e-2, 1e2), log=True, default=1.0),
        Float("tol", (1e-5, 1e-1), log=True, default=1e-4),
        Categorical("fit_intercept", ["true", "false"], default="true"),
    ]


def _linear(c: Mapping[str, Any], problem: Problem, seed: int, probability: bool) -> Any:
    from sklearn.linear_model import Lasso, LogisticRegression

    if problem == "regression":
        return Lasso(alpha=float(c["alpha"]), fit_intercept=c["fit_intercept"] == "true", random_state=seed)
    return LogisticRegression(
        C=float(c["C"]), tol=float(c["tol"]), fit_intercept=c["fit_intercept"] == "true", max_iter=200
    )


MODELS: dict[str, Model] = {
    m.name: m
    for m in (
        Model("knn", _knn_space, _knn, "k-nearest neighbours"),
        Model("svm", _svm_space, _svm, "RBF support-vector machine (SVC / SVR)"),
        # partials of module-level functions, not lambdas: tasks must pickle
        Model("dt", _tree_space, _dt, "decision tree"),
        Model("rf", partial(_tree_space, ensemble=True), partial(_forest, extra=False), "random forest"),
        Model("et", partial(_tree_space, ensemble=True), partial(_forest, extra=True), "extra trees"),
        Model("ada", _ada_space, _ada, "AdaBoost"),
        Model("hgb", _hgb_space, _hgb, "histogram gradient boosting"),
        Model("mlp", _mlp_space, _mlp, "one-hidden-layer MLP trained with Adam"),
        Model("linear", _linear_space, _linear, "logistic regression (classification) / Lasso (regression)"),
    )
}


# ----------------------------------------------------------------------------- task


def _score(metric: str, model: Any, X: np.ndarray, y: np.ndarray, classes: np.ndarray) -> float:
    from sklearn import metrics

    if metric == "err":
        return float(1.0 - metrics.accuracy_score(y, model.predict(X)))
    if metric == "nll":
        return float(metrics.log_loss(y, model.predict_proba(X), labels=classes))
    pred = model.predict(X)
    if metric == "mse":
        return float(metrics.mean_squared_error(y, pred))
    return float(metrics.mean_absolute_error(y, pred))


class SklearnLiveTask(Task):
    """Cross-validated training of one model family on one bundled dataset.

    Args:
        model: Key of :data:`MODELS`.
        dataset: Key of :data:`DATASETS`.
        metric: One of the dataset's :data:`METRICS`.
        multi_fidelity: Use the training fraction of each fold as fidelity.

    Example:
        >>> task = SklearnLiveTask("dt", "wine", "err", multi_fidelity=True)
        >>> task.id, task.fidelity.name, task.meta.kind
        ('sklearn-live/dt/wine/err/mf', 'train_fraction', 'real')
    """

    def __init__(self, model: str, dataset: str, metric: str, multi_fidelity: bool = False) -> None:
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; valid: {list(MODELS)}")
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}; valid: {list(DATASETS)}")
        self.problem: Problem = DATASETS[dataset][0]
        if metric not in METRICS[self.problem]:
            raise ValueError(
                f"metric {metric!r} is not one for {self.problem} dataset {dataset!r}; "
                f"valid: {list(METRICS[self.problem])}"
            )
        self.model, self.dataset, self.metric = MODELS[model], dataset, metric
        self.id = f"{FAMILY}/{model}/{dataset}/{metric}" + ("/mf" if multi_fidelity else "")
        self.space = ConfigurationSpace(seed=0)
        self.space.add(self.model.space(self.problem))
        self.objectives = (Objective(metric),)
        self.fidelity = Fidelity("train_fraction", MIN_FRACTION, 1.0) if multi_fidelity else None
        self.meta = TaskMeta(
            kind="real",
            optimum=None,
            tags=(FAMILY, model, dataset, self.problem),
            description=f"{self.model.description} on {dataset}: {N_FOLDS}-fold CV {metric}",
            libraries=("scikit-learn", "scipy"),  # every evaluation trains the installed scikit-learn's model
        )

    def _check(self, config: Mapping[str, Any]) -> None:
        names = list(self.space.keys())
        missing = [n for n in names if n not in config]
        if missing:
            raise ValueError(f"{self.id}: missing parameter(s) {missing}; expected {names}")
        for name in names:
            hp = self.space[name]
            if not hp.legal_value(config[name]):
                raise ValueError(f"{self.id}: {name}={config[name]!r} is outside the space: {hp}")

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        from sklearn.model_selection import KFold, StratifiedKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self._check(config)
        if fidelity is not None and (self.fidelity is None or not self.fidelity.contains(fidelity)):
            axis = "none (pass None)" if self.fidelity is None else f"[{MIN_FRACTION}, 1.0]"
            raise ValueError(f"{self.id}: fidelity {fidelity!r} is not admissible; valid: {axis}")
        frac = 1.0 if fidelity is None else float(fidelity)
        X, y = load_dataset(self.dataset)
        classification = self.problem == "classification"
        classes = np.unique(y)
        splitter = (StratifiedKFold if classification else KFold)(N_FOLDS, shuffle=True, random_state=seed)
        from threadpoolctl import threadpool_limits

        start = time.perf_counter()
        scores: list[float] = []
        # One thread (n_jobs=1 in spirit): OpenMP/BLAS threads of tiny fits thrash on shared machines.
        with threadpool_limits(1), warnings.catch_warnings():
            # Non-converged fits (tiny max_iter, tol) are a legitimate outcome of a configuration.
            warnings.simplefilter("ignore")
            for fold, (train, test) in enumerate(splitter.split(X, y)):
                order = stratified_order(y[train], seed + 7919 * fold, classification)
                n = max(len(classes) * 2 if classification else 10, round(frac * len(train)))
                sub = train[order[:n]]
                params = dict(config)
                if "n_neighbors" in params:  # k cannot exceed the (possibly subsampled) training set
                    params["n_neighbors"] = min(int(params["n_neighbors"]), len(sub))
                estimator = self.model.make(params, self.problem, seed, self.metric == "nll")
                pipe = make_pipeline(StandardScaler(), estimator).fit(X[sub], y[sub])
                scores.append(_score(self.metric, pipe, X[test], y[test], classes))
        cost = time.perf_counter() - start
        return Result((float(np.mean(scores)),), cost=cost, info={"folds": tuple(scores), "n_folds": N_FOLDS})


# ----------------------------------------------------------------------------- family


def sklearn_missing() -> str | None:
    """Why scikit-learn cannot be used here (the extra to install), or ``None``.

    Example:
        >>> sklearn_missing() is None  # installed with the test extras
        True
    """
    if importlib.util.find_spec("sklearn") is None:
        return "package 'scikit-learn' is not installed: pip install 'nxm-bench[sklearn]'"
    return None


class SklearnLiveFamily(TaskFamily):
    """All ``sklearn-live`` tasks: models × datasets × metrics, black-box and ``/mf``.

    Example:
        >>> fam = SklearnLiveFamily()
        >>> len(fam.ids())
        180
        >>> fam.make("sklearn-live/rf/wine/err/mf").meta.type
        'mf'
    """

    name = FAMILY
    description = "real cross-validated scikit-learn training on bundled datasets (modern Bayesmark)"

    def unavailable_reason(self) -> str | None:
        """Every task trains scikit-learn models: without the package each run would crash."""
        return sklearn_missing()

    def ids(self) -> list[str]:
        return [
            f"{FAMILY}/{m}/{d}/{metric}{suffix}"
            for m in MODELS
            for d, (problem, _) in DATASETS.items()
            for metric in METRICS[problem]
            for suffix in ("", "/mf")
        ]

    def make(self, task_id: str) -> Task:
        parts = task_id.split("/")
        mf = len(parts) == 5 and parts[4] == "mf"
        if parts[0] != FAMILY or len(parts) not in (4, 5) or (len(parts) == 5 and not mf):
            close = difflib.get_close_matches(task_id, self.ids(), n=3, cutoff=0.5) or self.ids()[:4]
            raise ValueError(f"unknown {FAMILY} task {task_id!r}; did you mean one of {close}?")
        return SklearnLiveTask(parts[1], parts[2], parts[3], multi_fidelity=mf)


def make(task_id: str) -> Task:
    """Build an ``sklearn-live`` task from its id (see :class:`SklearnLiveFamily`)."""
    return SklearnLiveFamily().make(task_id)


def families() -> list[TaskFamily]:
    """The ``sklearn-live`` family."""
    return [SklearnLiveFamily()]
