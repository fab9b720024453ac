"""Every error of a run stays in that run, and the runner checks what optimizers and tasks hand it.

* A configuration outside the task's space (out of bounds, unknown or missing parameter, wrong
  type, NaN, not a mapping, a value for an inactive conditional parameter) ends the run as
  ``crashed`` with a message naming the parameter and value; the trials before it are kept.
* Non-JSON but valid values (a ``ConfigSpace.Configuration``, numpy scalars) are recorded as
  plain values.
* A result with the wrong number of values, a string value, or a NaN/negative/None/inf cost ends
  the run as ``crashed``, never the sweep; with a time budget a NaN cost does not end the run
  early as ``ok``.

Each fault is injected by the plugins in tests/plugins/misbehaving_plugin.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import results
from bench.loop import run_one
from bench.parallel import run_all
from bench.spec import RunSpec
from optimizers.base import Budget

PLUGIN = "misbehaving_plugin"
BAD_TRIAL = 3  # misbehaving_plugin.BAD_TRIAL


def _spec(
    task: str,
    optimizer: str = "optimizers.random_search.RandomSearch",
    seed: int = 0,
    n_trials: float = 20,
    time: float | None = None,
) -> RunSpec:
    return RunSpec(
        study="errors",
        task=task,
        optimizer=optimizer.rsplit(".", 1)[-1],
        optimizer_target=optimizer,
        optimizer_params={},
        seed=seed,
        budget=Budget(n_trials, time),
    )


@pytest.mark.parametrize(
    ("optimizer", "message"),
    [
        ("OutOfBounds", "parameter 'x0'=1000000.0 is outside its range [-5.0, 5.0]"),
        ("ExtraParameter", "parameter 'learning_rate' is not in the task's space"),
        ("MissingParameter", "parameter 'x0' is missing from the configuration"),
        ("WrongType", "parameter 'x0'='0.5' is not a number"),
        ("NanValue", "parameter 'x0'=nan is outside its range"),
        ("NotAMapping", "is not a mapping of parameter names to values"),
    ],
)
def test_a_config_outside_the_space_crashes_its_run_naming_parameter_and_value(
    plugins, tmp_path: Path, optimizer: str, message: str
) -> None:
    out = run_one(_spec("bbob/f01/d02/i01", f"{PLUGIN}.{optimizer}"), tmp_path)
    assert out.status == "crashed" and out.n_trials == BAD_TRIAL
    assert out.error is not None and message in out.error, out.error
    meta = results.read_run_meta(Path(str(out.path)))
    assert meta["error"].startswith("InvalidConfigError: ")


def test_a_value_for_an_inactive_conditional_parameter_is_refused(plugins, tmp_path: Path) -> None:
    out = run_one(_spec("odd/conditional", f"{PLUGIN}.InactiveValue"), tmp_path)
    assert out.status == "crashed"
    assert out.error is not None and "parameter 'b'=0.5 is inactive" in out.error
    ok = run_one(_spec("odd/conditional", seed=1), tmp_path)
    assert ok.status == "ok" and ok.n_trials == 20


@pytest.mark.parametrize("optimizer", ["AsConfiguration", "NumpyValues"])
def test_valid_non_json_values_are_recorded_as_plain_values(plugins, tmp_path: Path, optimizer: str) -> None:
    out = run_one(_spec("bbob/f01/d02/i01", f"{PLUGIN}.{optimizer}"), tmp_path)
    assert out.status == "ok" and out.n_trials == 20, out.error
    configs = [json.loads(c) for c in results.load(str(out.path))["config"]]
    assert all(set(c) == {"x0", "x1"} and all(type(v) is float for v in c.values()) for c in configs)


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ("odd/ragged", "returned 2 objective values"),
        ("odd/strvalue", "returned non-finite objective ('3.5',)"),
        ("odd/nancost", "returned cost nan"),
        ("odd/negcost", "returned cost -1.0"),
        ("odd/nonecost", "returned cost None"),
        ("odd/infcost", "returned cost inf"),
    ],
)
def test_a_malformed_result_crashes_its_run_with_the_trials_before_it(
    plugins, tmp_path: Path, task: str, message: str
) -> None:
    out = run_one(_spec(task), tmp_path)
    assert out.status == "crashed" and out.error is not None and message in out.error, out.error
    df = results.load(str(out.path))
    assert len(df) == out.n_trials < 20
    assert all(json.loads(c)["x0"] <= 0 for c in df["config"])  # only the good trials before it


def test_a_nan_cost_under_a_time_budget_is_a_crash_not_an_early_ok(plugins, tmp_path: Path) -> None:
    out = run_one(_spec("odd/nancost", n_trials=50, time=100.0), tmp_path)
    assert out.status == "crashed" and "returned cost nan" in str(out.error)


def test_malformed_runs_never_stop_the_sweep(plugins, tmp_path: Path) -> None:
    specs = [_spec(t, seed=s) for t in ("odd/ragged", "odd/nancost", "odd/ok") for s in (0, 1)]
    specs += [_spec("bbob/f01/d02/i01", f"{PLUGIN}.{o}") for o in ("OutOfBounds", "AsConfiguration")]
    sweep = run_all(specs, tmp_path, n_jobs=2, progress=False)
    statuses = {o.run_id: o.status for o in sweep.outcomes}
    assert len(statuses) == len(specs)
    assert [statuses[s.run_id] for s in specs] == ["crashed"] * 4 + ["ok"] * 2 + ["crashed", "ok"]


def test_a_category_json_cannot_hold_is_recorded_as_its_repr(tmp_path: Path) -> None:
    from bench.results import TrialRecorder
    from tasks.base import Objective

    rec = TrialRecorder()
    for value in (frozenset({1}), "plain"):  # a categorical's choices may be any hashable
        rec.add({"c": value}, None, (1.0,), 0.0, 1.0, 0.0, 0.0, 0.0)
    table = rec.table(
        study="s",
        run_id="r",
        task="t/a",
        family="t",
        task_type="bb",
        task_kind="synthetic",
        optimizer="o",
        seed=0,
        optimum=None,
        objectives=[Objective("y")],
        run_status="ok",
    )
    assert [json.loads(c)["c"] for c in table["config"].to_pylist()] == ["frozenset({1})", "plain"]
