"""Tables this project builds itself by training real scikit-learn models (family ``sklearn-tab``).

Three learners are trained over a full hyperparameter grid on four bundled
scikit-learn datasets (``iris``, ``wine``, ``breast_cancer``, ``digits``), with
several seeds, recording at every fidelity the validation and test error, the
training time and the model size:

* ``hgb``: ``HistGradientBoostingClassifier``; fidelity ``max_iter`` (boosting
  iterations), all fidelities from one ``warm_start`` run; size = tree nodes;
* ``mlp``: ``MLPClassifier`` (Adam); fidelity ``epoch`` (one ``partial_fit`` per
  epoch); size = weights and biases;
* ``svc``: ``SVC``; fidelity ``train_fraction`` (a stratified prefix of the
  training split); size = support vectors.

Seed ``s`` fixes a stratified 60/20/20 train/validation/test split and the
model's ``random_state``; features are standardized on the training split.
Training time is the cumulative ``fit`` time (seconds, single thread) to reach
that fidelity. The shipped tables live in ``tasks/collections/data/``; rebuild
them with::

    python -m tasks.collections.sklearn_built build

Task ids: ``sklearn-tab/<model>/<dataset>`` (multi-fidelity, validation error),
``.../mo`` (validation error vs. training time) and ``.../mo-size`` (validation
error vs. model size).

Example:
    >>> fam = families()[0]
    >>> task = fam.make("sklearn-tab/svc/iris")
    >>> task.fidelity.name, task.meta.type
    ('train_fraction', 'mf')
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from tasks.base import Task, TaskFamily
from tasks.sklearn_live import load_dataset, stratified_order
from tasks.tabular import GridValue, Table, TabularTask, Variant, load_table

FAMILY = "sklearn-tab"
DATASETS = ("iris", "wine", "breast_cancer", "digits")
METRICS = ("val_error", "test_error", "train_time", "model_size")
VARIANTS = (
    Variant("", ("val_error",), description="validation error over the fidelity"),
    Variant("mo", ("val_error", "train_time"), description="validation error vs. training time"),
    Variant("mo-size", ("val_error", "model_size"), description="validation error vs. model size"),
)

Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
#: Trains one configuration on one split; returns ``(n_fidelities, len(METRICS))``.
Runner = Callable[[Mapping[str, Any], Split, Sequence[float], int], np.ndarray]


def _error(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(model.predict(X) != y))


def run_hgb(config: Mapping[str, Any], split: Split, fidelities: Sequence[float], seed: int) -> np.ndarray:
    """Boosting iterations as fidelity: one ``warm_start`` model grown through every fidelity."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    Xtr, ytr, Xva, yva, Xte, yte = split
    model = HistGradientBoostingClassifier(warm_start=True, early_stopping=False, random_state=seed, **config)
    out, elapsed = [], 0.0
    for it in fidelities:
        model.set_params(max_iter=int(it))
        start = time.perf_counter()
        model.fit(Xtr, ytr)
        elapsed += time.perf_counter() - start
        nodes = sum(p.nodes.shape[0] for per_class in model._predictors for p in per_class)
        out.append((_error(model, Xva, yva), _error(model, Xte, yte), elapsed, float(nodes)))
    return np.asarray(out)


def run_mlp(config: Mapping[str, Any], split: Split, fidelities: Sequence[float], seed: int) -> np.ndarray:
    """Epochs as fidelity: one ``partial_fit`` pass per epoch, recorded at each fidelity."""
    from sklearn.neural_network import MLPClassifier

    Xtr, ytr, Xva, yva, Xte, yte = split
    params = dict(config)
    model = MLPClassifier(
        hidden_layer_sizes=(int(params.pop("width")),), batch_size=64, random_state=seed, **params
    )
    classes = np.unique(np.concatenate([ytr, yva, yte]))
    out, elapsed, epoch = [], 0.0, 0
    for target in fidelities:
        start = time.perf_counter()
        while epoch < int(target):
            model.partial_fit(Xtr, ytr, classes=classes)
            epoch += 1
        elapsed += time.perf_counter() - start
        size = sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_)
        out.append((_error(model, Xva, yva), _error(model, Xte, yte), elapsed, float(size)))
    return np.asarray(out)


def run_svc(config: Mapping[str, Any], split: Split, fidelities: Sequence[float], seed: int) -> np.ndarray:
    """Training-set fraction as fidelity: nested, class-balanced prefixes of the training split."""
    from sklearn.svm import SVC

    Xtr, ytr, Xva, yva, Xte, yte = split
    order = stratified_order(ytr, seed)
    out = []
    for frac in fidelities:
        sub = order[: max(2 * len(np.unique(ytr)), round(frac * len(ytr)))]
        model = SVC(random_state=seed, **config)
        start = time.perf_counter()
        model.fit(Xtr[sub], ytr[sub])
        elapsed = time.perf_counter() - start
        out.append((_error(model, Xva, yva), _error(model, Xte, yte), elapsed, float(model.n_support_.sum())))
    return np.asarray(out)


@dataclass(frozen=True)
class Learner:
    """One learner of the collection: its grid, fidelity axis and training routine."""

    name: str
    grid: Mapping[str, tuple[GridValue, ...]]
    fidelity_name: str
    fidelity_values: tuple[float, ...]
    run: Runner
    description: str


#: The shipped grids: small enough to build in about ten minutes on one busy core.
LEARNERS: dict[str, Learner] = {
    "hgb": Learner(
        "hgb",
        {
            "learning_rate": (0.03, 0.1, 0.3),
            "max_leaf_nodes": (4, 8, 16),
            "min_samples_leaf": (4, 16),
            "l2_regularization": (0.0, 1.0),
        },
        "max_iter",
        (2.0, 4.0, 8.0, 16.0, 32.0),
        run_hgb,
        "HistGradientBoostingClassifier; fidelity = boosting iterations",
    ),
    "mlp": Learner(
        "mlp",
        {
            "width": (16, 32, 64, 128),
            "learning_rate_init": (1e-4, 1e-3, 1e-2, 1e-1),
            "alpha": (1e-5, 1e-3, 1e-1),
        },
        "epoch",
        (1.0, 2.0, 4.0, 8.0, 16.0),
        run_mlp,
        "MLPClassifier (one hidden layer, Adam, batch 64); fidelity = epochs",
    ),
    "svc": Learner(
        "svc",
        {
            "kernel": ("rbf", "sigmoid"),
            "C": (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0),
            "gamma": (1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0),
        },
        "train_fraction",
        (0.125, 0.25, 0.5, 1.0),
        run_svc,
        "SVC; fidelity = fraction of the training split",
    ),
}


def make_split(dataset: str, seed: int) -> Split:
    """Stratified 60/20/20 train/validation/test split of seed ``seed``, standardized on train.

    Example:
        >>> Xtr, ytr, Xva, yva, Xte, yte = make_split("iris", 0)
        >>> len(ytr), len(yva), len(yte)
        (90, 30, 30)
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_dataset(dataset)
    Xtr, Xrest, ytr, yrest = train_test_split(X, y, test_size=0.4, stratify=y, random_state=seed)
    Xva, Xte, yva, yte = train_test_split(Xrest, yrest, test_size=0.5, stratify=yrest, random_state=seed)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), ytr, scaler.transform(Xva), yva, scaler.transform(Xte), yte


def evaluate_config(learner: str, dataset: str, config: Mapping[str, Any], seed: int) -> np.ndarray:
    """Train one configuration as the builder does; ``(n_fidelities, len(METRICS))``."""
    from threadpoolctl import threadpool_limits

    spec = _learner(learner)
    with threadpool_limits(1), warnings.catch_warnings():
        # Non-converged fits at low epochs or extreme C/gamma are legitimate outcomes.
        warnings.simplefilter("ignore")
        return spec.run(config, make_split(dataset, seed), spec.fidelity_values, seed)


def build_table(
    learner: str,
    dataset: str,
    seeds: int = 3,
    grid: Mapping[str, Sequence[GridValue]] | None = None,
    log: Callable[[str], None] | None = None,
) -> Table:
    """Train every grid configuration under ``seeds`` seeds and return the table.

    ``grid`` overrides the learner's shipped grid (e.g. a tiny one for a test).

    Example:
        >>> t = build_table("svc", "iris", seeds=1, grid={"kernel": ("rbf",), "C": (1.0,), "gamma": (0.1,)})
        >>> t.name, t.data.shape
        ('sklearn-tab/svc/iris', (1, 1, 4, 4))
    """
    import sklearn
    from threadpoolctl import threadpool_limits

    spec = _learner(learner)
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; valid: {list(DATASETS)}")
    if seeds < 1:
        raise ValueError(f"seeds={seeds} must be >= 1")
    shell = Table(
        f"{FAMILY}/{learner}/{dataset}",
        dict(grid or spec.grid),
        np.zeros((int(np.prod([len(v) for v in (grid or spec.grid).values()])), 1, 1, len(METRICS))),
        METRICS,
    )
    data = np.full((shell.n_configs, seeds, len(spec.fidelity_values), len(METRICS)), np.nan)
    start = time.perf_counter()
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in range(seeds):
            split = make_split(dataset, s)
            for c in range(shell.n_configs):
                data[c, s] = spec.run(shell.config_at(c), split, spec.fidelity_values, s)
    if log:
        log(f"{shell.name}: {shell.n_configs} configs x {seeds} seeds in {time.perf_counter() - start:.1f} s")
    return Table(
        name=shell.name,
        params=shell.params,
        data=data,
        metrics=METRICS,
        minimize=(True, True, True, True),
        fidelity_name=spec.fidelity_name,
        fidelity_values=spec.fidelity_values,
        cost_metric="train_time",
        description=f"{spec.description}; dataset {dataset}",
        extra={"source": f"built with scikit-learn {sklearn.__version__}", "dataset": dataset},
    )


def _learner(name: str) -> Learner:
    if name not in LEARNERS:
        raise ValueError(f"unknown learner {name!r}; valid: {list(LEARNERS)}")
    return LEARNERS[name]


# ----------------------------------------------------------------------------- storage and family


def data_dir() -> Path:
    """The folder of the shipped tables (package data ``tasks/collections/data``)."""
    return Path(str(resources.files("tasks.collections.data")))


def table_path(learner: str, dataset: str, folder: Path | None = None) -> Path:
    """File of one table: ``<folder>/sklearn-tab_<learner>_<dataset>.npz``."""
    return (folder or data_dir()) / f"{FAMILY}_{learner}_{dataset}.npz"


class SklearnTabFamily(TaskFamily):
    """The ``sklearn-tab`` tables as tasks: ``sklearn-tab/<learner>/<dataset>[/mo|/mo-size]``.

    ``folder`` holds the tables (default: the shipped ones).

    Example:
        >>> fam = SklearnTabFamily()
        >>> len(fam.ids())
        36
    """

    name = FAMILY
    description = "tables of real scikit-learn training (HGB, MLP, SVC) on bundled datasets"

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder

    def ids(self) -> list[str]:
        return [
            f"{FAMILY}/{learner}/{d}" + (f"/{v.suffix}" if v.suffix else "")
            for learner in LEARNERS
            for d in DATASETS
            for v in VARIANTS
        ]

    def unavailable_reason(self) -> str | None:
        missing = [
            p.name
            for lrn in LEARNERS
            for d in DATASETS
            if not (p := table_path(lrn, d, self.folder)).is_file()
        ]
        if missing:
            return f"missing tables {missing[:3]}: run python -m tasks.collections.sklearn_built build"
        return None

    def table(self, learner: str, dataset: str) -> Table:
        """One loaded table (cached per process by :func:`tasks.tabular.load_table`)."""
        _learner(learner)
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}; valid: {list(DATASETS)}")
        return load_table(table_path(learner, dataset, self.folder))

    def make(self, task_id: str) -> Task:
        parts = task_id.split("/")
        variants = {v.suffix: v for v in VARIANTS}
        suffix = parts[3] if len(parts) == 4 else ""
        if (
            parts[0] != FAMILY
            or len(parts) not in (3, 4)
            or parts[1] not in LEARNERS
            or parts[2] not in DATASETS
            or suffix not in variants
        ):
            close = difflib.get_close_matches(task_id, self.ids(), n=3, cutoff=0.5) or self.ids()[:6]
            raise ValueError(f"unknown {FAMILY} task {task_id!r}; did you mean one of {close}?")
        variant = variants[suffix]
        return TabularTask(
            self.table(parts[1], parts[2]),
            task_id,
            objectives=variant.objectives,
            family=FAMILY,
            description=f"{LEARNERS[parts[1]].description} on {parts[2]}: {variant.description}",
            tags=(FAMILY, parts[1], parts[2], "tabular"),
        )


def families() -> list[TaskFamily]:
    """The ``sklearn-tab`` family (tables shipped with the package)."""
    return [SklearnTabFamily()]


# ----------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tasks.collections.sklearn_built build [--out DIR] [--seeds N] ...``."""
    parser = argparse.ArgumentParser(prog="python -m tasks.collections.sklearn_built")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="train the grids and write one .npz table per learner x dataset")
    build.add_argument("--out", type=Path, default=None, help="output folder (default: the package data)")
    build.add_argument("--seeds", type=int, default=3, help="seeds (splits) per configuration")
    build.add_argument("--learners", default=",".join(LEARNERS), help="comma-separated learners")
    build.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated datasets")
    args = parser.parse_args(argv)
    learners = [x for x in args.learners.split(",") if x]
    datasets = [x for x in args.datasets.split(",") if x]
    for name in learners:
        _learner(name)
    for d in datasets:
        if d not in DATASETS:
            raise SystemExit(f"unknown dataset {d!r}; valid: {list(DATASETS)}")
    start = time.perf_counter()
    for d in datasets:
        for name in learners:
            table = build_table(name, d, args.seeds, log=lambda m: print(m, flush=True))
            print(f"  -> {table.save(table_path(name, d, args.out))}", flush=True)
    print(f"done in {time.perf_counter() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
