"""sklearn-live: real cross-validated training; deterministic given the seed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tasks import sklearn_live as sl


@pytest.mark.parametrize("model", sorted(sl.MODELS))
def test_every_model_evaluates(model: str) -> None:
    task = sl.make(f"sklearn-live/{model}/wine/err")
    cfg = dict(task.space.get_default_configuration())
    r = task.evaluate(cfg, seed=3)
    assert 0.0 <= r.values[0] <= 1.0 and r.cost > 0 and len(r.info["folds"]) == 3
    assert r.values == task.evaluate(cfg, seed=3).values, "deterministic given the seed"


def test_metrics_against_direct_sklearn() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    task = sl.make("sklearn-live/linear/breast_cancer/nll")
    cfg = {"C": 0.5, "tol": 1e-4, "fit_intercept": "true"}
    X, y = sl.load_dataset("breast_cancer")
    losses = []
    for train, test in StratifiedKFold(3, shuffle=True, random_state=5).split(X, y):
        m = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, tol=1e-4, max_iter=200))
        losses.append(log_loss(y[test], m.fit(X[train], y[train]).predict_proba(X[test])))
    assert task.evaluate(cfg, seed=5).values[0] == pytest.approx(np.mean(losses), rel=1e-9)


def test_regression_and_seeds_differ() -> None:
    task = sl.make("sklearn-live/rf/diabetes/mae")
    cfg = dict(task.space.get_default_configuration())
    a, b = task.evaluate(cfg, seed=0).values[0], task.evaluate(cfg, seed=1).values[0]
    assert 30 < a < 80 and a != b  # MAE on the raw target (25..346); seeds change split and forest


def test_multi_fidelity_subset() -> None:
    task = sl.make("sklearn-live/svm/digits/err/mf")
    assert task.meta.type == "mf" and task.fidelity is not None and task.fidelity.values is None
    cfg = {"C": 10.0, "gamma": 0.01, "tol": 1e-3}
    low, high = task.evaluate(cfg, fidelity=0.1, seed=0), task.evaluate(cfg, fidelity=1.0, seed=0)
    assert high.values[0] < low.values[0] and high.values == task.evaluate(cfg, seed=0).values


def test_digits_evaluation_is_fast() -> None:
    task = sl.make("sklearn-live/hgb/digits/err")
    cfg = dict(task.space.get_default_configuration())
    start = time.perf_counter()
    task.evaluate(cfg, seed=0)
    assert time.perf_counter() - start < 20  # about 1 s on an idle core; generous for shared CI


def test_catalog_and_bad_input() -> None:
    fam = sl.families()[0]
    assert len(fam.ids()) == len(sl.MODELS) * 5 * 2 * 2
    task = fam.make("sklearn-live/knn/iris/err")
    with pytest.raises(ValueError, match="did you mean"):
        fam.make("sklearn-live/knn/iris/err/mfx")
    with pytest.raises(ValueError, match=r"metric 'acc' is not one .* valid: \['err', 'nll'\]"):
        fam.make("sklearn-live/knn/iris/acc")
    with pytest.raises(ValueError, match="metric 'mse' is not one for classification"):
        sl.SklearnLiveTask("knn", "iris", "mse")
    with pytest.raises(ValueError, match="n_neighbors=99 is outside the space"):
        task.evaluate({"n_neighbors": 99, "p": 2, "weights": "uniform"})
    with pytest.raises(ValueError, match="missing parameter"):
        task.evaluate({"n_neighbors": 3})
    with pytest.raises(ValueError, match=r"fidelity 0\.5 is not admissible"):
        task.evaluate({"n_neighbors": 3, "p": 2, "weights": "uniform"}, fidelity=0.5)
