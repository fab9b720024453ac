"""Import of carps run logs: the frame's values are the logs' numbers, the report ranks the optimizers,
bad input gets one line naming the file.

The fixtures are written here in carps' format (carps 1.1.0: ``FileLogger`` lines as
``convert_trials`` writes them, the Hydra ``.hydra/config.yaml`` as ``python -m carps.run`` saves
it, interpolations unresolved, in ``runs/<optimizer_id>/<benchmark_id>/<task_id>/<seed>/``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analysis import load
from analysis.imports import carps
from analysis.normalize import REQUIRED_COLUMNS
from analysis.report.build import build_report
from bench.results import decode_objectives


def space_yaml(names: Sequence[str], conditional: bool = False) -> str:
    """A serialized ConfigSpace space as carps' task configs hold it (listed in ConfigSpace's order)."""
    hps = "".join(
        f"        - type: uniform_float\n          name: {n}\n          lower: -5.0\n          upper: 5.0\n"
        f"          default_value: 0.0\n          log: false\n          meta: null\n"
        for n in names
    )
    conditions = (
        "\n        - type: EQ\n          child: x1\n          parent: x0\n          value: 1.0"
        if conditional
        else " []"
    )
    return (
        "      d:\n        name: null\n        hyperparameters:\n"
        + hps
        + f"        conditions:{conditions}\n        forbiddens: []\n"
        + "        python_module_version: 1.2.0\n        format_version: 0.4\n"
    )


def config_yaml(
    task: str,
    optimizer: str,
    seed: int,
    n_trials: int,
    names: Sequence[str] = ("x0", "x1"),
    objectives: Sequence[str] = ("quality",),
    max_fidelity: float | None = None,
    approximation: str = "real",
    domain: str = "synthetic",
    conditional: bool = False,
) -> str:
    """A run's ``.hydra/config.yaml``, as Hydra saves carps' composed config (a BBOB task's, shortened)."""
    mf = max_fidelity is not None
    return f"""seed: {seed}
task:
  _target_: carps.utils.task.Task
  name: {task}
  seed: ${{seed}}
  objective_function:
    _target_: carps.objective_functions.bbob.BBOBObjectiveFunction
    dimension: {len(names)}
    fid: 1
    instance: 0
    seed: ${{seed}}
  input_space:
    _target_: carps.utils.task.InputSpace
    configuration_space:
      _target_: ConfigSpace.configuration_space.ConfigurationSpace.from_serialized_dict
      _convert_: object
{space_yaml(names, conditional)}    fidelity_space:
      _target_: carps.utils.task.FidelitySpace
      is_multifidelity: {str(mf).lower()}
      fidelity_type: {"epochs" if mf else "null"}
      min_fidelity: {1 if mf else "null"}
      max_fidelity: {max_fidelity if mf else "null"}
    instance_space: null
  output_space:
    _target_: carps.utils.task.OutputSpace
    n_objectives: {len(objectives)}
    objectives:
{"".join(f"    - {o}{chr(10)}" for o in objectives)}  optimization_resources:
    _target_: carps.utils.task.OptimizationResources
    n_trials: {n_trials}
    time_budget: null
    n_workers: 1
  metadata:
    _target_: carps.utils.task.TaskMetadata
    has_constraints: false
    domain: {domain}
    objective_function_approximation: {approximation}
    has_virtual_time: false
    deterministic: true
    dimensions: {len(names)}
benchmark_id: BBOB
task_id: ${{task.name}}
optimizer:
  _target_: carps.optimizers.random_search.RandomSearchOptimizer
  _partial_: true
optimizer_id: {optimizer}
optimizer_container_id: {optimizer}
timestamp: ${{now:%Y-%m-%d}}/${{now:%H-%M-%S}}
baserundir: runs
outdir: ${{baserundir}}/${{optimizer_id}}/${{benchmark_id}}/${{task_id}}/${{seed}}
loggers:
- _target_: carps.loggers.file_logger.FileLogger
  _partial_: true
  overwrite: true
"""


def log_line(
    n_trials: float,
    calls: int,
    config: list[Any],
    cost: float | list[float],
    status: int = 1,
    budget: float | None = None,
    max_fidelity: float | None = None,
    time: float = 0.01,
    virtual_time: float = 0.0,
    start: float = 0.0,
) -> str:
    """A ``trial_logs.jsonl`` line as carps' ``convert_trials`` writes it (json.dumps: inf as Infinity)."""
    return (
        json.dumps(
            {
                "n_trials": n_trials,
                "n_function_calls": calls,
                "trial_info": {
                    "config": config,
                    "instance": None,
                    "seed": None,
                    "budget": budget,
                    "normalized_budget": None if budget is None else budget / (max_fidelity or 1.0),
                    "name": None,
                    "checkpoint": None,
                    "additional_info": {},
                    "cutoff": None,
                },
                "trial_value": {
                    "cost": cost,
                    "time": time,
                    "virtual_time": virtual_time,
                    "status": status,
                    "starttime": start,
                    "endtime": start + time if start else 0.0,
                    "additional_info": {},
                },
            }
        )
        + "\n"
    )


def write_run(root: Path, task: str, optimizer: str, seed: int, config: str, lines: Sequence[str]) -> Path:
    """A run folder where ``python -m carps.run`` puts it; returns the folder."""
    run = root / "runs" / optimizer / "BBOB" / task / str(seed)
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text(config)
    (run / ".hydra" / "overrides.yaml").write_text(f"- +task/BBOB=cfg\n- seed={seed}\n")
    (run / "trial_logs.jsonl").write_text("".join(lines))
    (run / "trajectory_logs.jsonl").write_text(lines[0] if lines else "")
    return run


def black_box_study(root: Path, n_trials: int = 12) -> dict[tuple[str, str, int], np.ndarray]:
    """Two optimizers x two BBOB-like tasks x three seeds; ``Good`` finds lower costs than ``RandomSearch``.

    Returns the costs written per (task id, optimizer, seed).
    """
    rng = np.random.default_rng(3)
    written = {}
    for task in ("bbob/2/1/0", "bbob/2/3/1"):
        for optimizer, scale in (("RandomSearch", 1.0), ("Good", 0.1)):
            for seed in (1, 2, 3):
                xs = rng.uniform(-5, 5, size=(n_trials, 2))
                costs = -92.0 + scale * (xs**2).sum(axis=1) * np.linspace(1, 0.2, n_trials)
                lines = [
                    log_line(i + 1, i + 1, [float(x) for x in xs[i]], float(c), start=1.7e9 + i)
                    for i, c in enumerate(costs)
                ]
                write_run(root, task, optimizer, seed, config_yaml(task, optimizer, seed, n_trials), lines)
                written["carps/" + task, optimizer, seed] = costs
    return written


def test_imported_values_are_the_logged_numbers(tmp_path: Path) -> None:
    written = black_box_study(tmp_path)
    df = carps.import_carps(tmp_path)
    assert set(REQUIRED_COLUMNS) <= set(df.columns) and len(df) == 2 * 2 * 3 * 12
    for (task, optimizer, seed), costs in written.items():
        run = df[(df["task"] == task) & (df["optimizer"] == optimizer) & (df["seed"] == seed)]
        np.testing.assert_array_equal(run["value"].to_numpy(), costs)  # JSON numbers round-trip exactly
        assert [v[0] for v in run["values"]] == costs.tolist()
        assert run["trial"].tolist() == list(range(12)) and run["budget_used"].tolist() == list(range(1, 13))
        assert run["run_id"].iloc[0] == f"{task.replace('/', '__')}--{optimizer}--s{seed}"
    first = df.iloc[0]
    assert first["study"] == tmp_path.name and first["family"] == "carps" and first["task_type"] == "bb"
    assert first["task_kind"] == "synthetic" and first["run_status"] == "ok" and bool(first["minimize"])
    assert math.isnan(first["optimum"]) and math.isnan(first["fidelity"])
    assert [o.name for o in decode_objectives(first["objectives"])] == ["quality"]
    assert list(json.loads(first["config"])) == ["x0", "x1"]
    assert first["wall_time"] == pytest.approx(0.01) and first["eval_time"] == first["cost"] == 0.01
    # The known optimum, when given (carps logs none).
    optimum = carps.import_carps(tmp_path, optima={"carps/bbob/2/1/0": -92.0})
    assert set(optimum.groupby("task", observed=True)["optimum"].first().fillna(0)) == {-92.0, 0.0}


def test_build_report_ranks_the_imported_optimizers(tmp_path: Path) -> None:
    black_box_study(tmp_path)
    # A multi-objective task too: its costs are vectors, ranked on hypervolume.
    for optimizer, shift in (("RandomSearch", 1.0), ("Good", 0.0)):
        for seed in (1, 2, 3):
            lines = [
                log_line(i + 1, i + 1, [0.1 * i, 0.2], [0.1 * i + shift, 1.0 - 0.1 * i + shift])
                for i in range(6)
            ]
            config = config_yaml("Pymoo/MO/unconstraint/zdt1", optimizer, seed, 6, objectives=("f1", "f2"))
            write_run(tmp_path, "Pymoo/MO/unconstraint/zdt1", optimizer, seed, config, lines)
    df = carps.import_carps(tmp_path)
    mo = df[df["task_type"] == "mo"]
    assert len(mo) == 36 and {len(v) for v in mo["values"]} == {2}
    assert [o.name for o in decode_objectives(mo["objectives"].iloc[0])] == ["f1", "f2"]
    report = build_report(df, baseline="RandomSearch", figures=False, n_boot=50)
    assert list(report.tables["leaderboard_bb"].index) == ["Good", "RandomSearch"]
    assert list(report.tables["leaderboard_mo"].index) == ["Good", "RandomSearch"]
    assert set(report.tables["completeness"]["complete"]) == {9}


def test_multi_fidelity_failed_calls_and_a_truncated_run(tmp_path: Path) -> None:
    config = config_yaml(
        "yahpo/lcbench/3945", "DEHB", 5, n_trials=1, max_fidelity=9.0, approximation="surrogate", domain="ML"
    )
    budgets = [1.0, 3.0, 3.0, 9.0]
    spent = np.cumsum(np.asarray(budgets) / 9.0)
    lines = [
        log_line(spent[0], 1, [0.5, 1.0], 0.40, budget=1.0, max_fidelity=9.0, virtual_time=12.0),
        log_line(spent[1], 2, [0.1, 2.0], math.inf, status=2, budget=3.0, max_fidelity=9.0, virtual_time=2.0),
        log_line(spent[2], 3, [0.2, 3.0], 0.30, budget=3.0, max_fidelity=9.0, virtual_time=30.0),
        log_line(spent[3], 4, [0.3, 4.0], 0.25, budget=9.0, max_fidelity=9.0, virtual_time=90.0),
    ]
    write_run(tmp_path, "yahpo/lcbench/3945", "DEHB", 5, config, lines)
    # A run that stopped at 7/9 of its 1 full-fidelity trial (n_trials), and one whose only call failed.
    write_run(
        tmp_path,
        "yahpo/lcbench/3945",
        "DEHB",
        6,
        config.replace("seed: 5", "seed: 6"),
        lines[:1] + lines[2:3],
    )
    write_run(tmp_path, "yahpo/lcbench/3945", "DEHB", 7, config.replace("seed: 5", "seed: 7"), lines[1:2])
    result = carps.read_carps(tmp_path)
    df = result.trials
    run = df[df["seed"] == 5]
    assert run["trial"].tolist() == [0, 2, 3]  # the crashed call is dropped, its index left as a gap
    assert run["value"].tolist() == [0.40, 0.30, 0.25] and run["fidelity"].tolist() == [1.0, 3.0, 9.0]
    np.testing.assert_array_equal(run["budget_used"].to_numpy(), spent[[0, 2, 3]])  # carps' n_trials
    assert run["cost"].tolist() == [12.0, 30.0, 90.0]  # the surrogate's virtual time
    assert run["sim_time"].tolist() == [12.0, 44.0, 134.0]  # the failed call's time counts
    assert set(run["task_type"]) == {"mf"} and set(run["task_kind"]) == {"surrogate"}
    assert set(run["run_status"]) == {"ok"} and set(df[df["seed"] == 6]["run_status"]) == {"died"}
    assert result.dropped == {"CRASHED": 2} and result.runs_without_trials == [
        ("carps/yahpo/lcbench/3945", "DEHB", 7)
    ]
    assert result.n_runs == 3 and result.truncated_runs == 1
    assert "dropped 2 CRASHED calls; 1 run without a successful call; 1 run truncated" in result.summary()


def test_configuration_names(tmp_path: Path) -> None:
    # ConfigSpace orders an unconditional space by name: carps logs x0, x1, x10, x2 in that order.
    config = config_yaml("t/a", "RS", 1, 1, names=("x0", "x1", "x2", "x10"))
    write_run(tmp_path, "t/a", "RS", 1, config, [log_line(1, 1, [0.0, 1.0, 10.0, 2.0], 1.0)])
    # A conditional space logs only its active values: their names are not known.
    config = config_yaml("t/b", "RS", 1, 1, conditional=True)
    write_run(tmp_path, "t/b", "RS", 1, config, [log_line(1, 1, [0.0], 1.0)])
    df = carps.import_carps(tmp_path).set_index("task")
    assert json.loads(df.loc["carps/t/a", "config"]) == {"x0": 0.0, "x1": 1.0, "x10": 10.0, "x2": 2.0}
    assert json.loads(df.loc["carps/t/b", "config"]) == [0.0]


def test_bad_input_gets_one_line_naming_the_file(tmp_path: Path) -> None:
    def error(path: Path) -> str:
        with pytest.raises(ValueError) as info:
            carps.import_carps(path)
        message = str(info.value)
        assert "\n" not in message
        return message

    (tmp_path / "empty").mkdir()
    assert error(tmp_path / "empty").startswith(
        f"{tmp_path / 'empty'}: not a carps folder: no trial_logs.jsonl"
    )
    good = log_line(1, 1, [0.0, 0.0], 1.0)
    run = write_run(
        tmp_path / "corrupt", "t/a", "RS", 1, config_yaml("t/a", "RS", 1, 3), [good, '{"n_trials": 2, "tri\n']
    )
    assert error(tmp_path / "corrupt").startswith(f"{run / 'trial_logs.jsonl'}:2: not JSON")
    run = write_run(
        tmp_path / "shape", "t/a", "RS", 1, config_yaml("t/a", "RS", 1, 3), [good, '{"n_trials": 2}\n']
    )
    assert (
        error(tmp_path / "shape") == f"{run / 'trial_logs.jsonl'}:2: not a carps trial log line "
        "(an object with n_trials, trial_info, trial_value)"
    )
    bad_cost = good.replace('"cost": 1.0', '"cost": "high"')
    run = write_run(tmp_path / "cost", "t/a", "RS", 1, config_yaml("t/a", "RS", 1, 3), [bad_cost])
    assert error(tmp_path / "cost").startswith(f"{run / 'trial_logs.jsonl'}:1: cost 'high'")
    run = write_run(tmp_path / "noconfig", "t/a", "RS", 1, "", [good])
    (run / ".hydra" / "config.yaml").unlink()
    assert (
        error(tmp_path / "noconfig") == f"{run / 'trial_logs.jsonl'}: no .hydra/config.yaml beside it; "
        "carps' run folders hold the run's Hydra config"
    )
    run = write_run(tmp_path / "noid", "t/a", "RS", 1, "seed: 1\noptimizer_id: RS\n", [good])
    assert error(tmp_path / "noid") == f"{run / '.hydra' / 'config.yaml'}: not a carps run config: no task_id"
    run = write_run(
        tmp_path / "width",
        "t/a",
        "RS",
        1,
        config_yaml("t/a", "RS", 1, 3),
        [good.replace('"cost": 1.0', '"cost": [1.0, 2.0]')],
    )
    assert (
        error(tmp_path / "width")
        == f"{run / 'trial_logs.jsonl'}:1: 2 cost values where the task has 1 objectives"
    )
    for seed_dir in ("1", "1b"):  # two folders, one (task, optimizer, seed)
        (tmp_path / "twice" / seed_dir / ".hydra").mkdir(parents=True)
        (tmp_path / "twice" / seed_dir / ".hydra" / "config.yaml").write_text(config_yaml("t/a", "RS", 1, 3))
        (tmp_path / "twice" / seed_dir / "trial_logs.jsonl").write_text(good)
    assert "a second run of task 'carps/t/a', optimizer 'RS', seed 1" in error(tmp_path / "twice")


def test_main_import_carps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    black_box_study(tmp_path / "logs", n_trials=6)
    (tmp_path / "optima.json").write_text(json.dumps({"carps/bbob/2/1/0": -92.0}))
    out = tmp_path / "trials.parquet"
    assert (
        carps.main_import_carps(
            [str(tmp_path / "logs"), "--out", str(out), "--optima", str(tmp_path / "optima.json")]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"imported 72 trials of 12 carps runs (2 tasks, 2 optimizers) from {tmp_path / 'logs'}",
        f"report with: python -m analysis report {out}",
    ]
    # The file is what the report's loader reads.
    back = load(out)
    assert len(back) == 72 and set(back.loc[back["task"] == "carps/bbob/2/1/0", "optimum"]) == {-92.0}
    assert (
        build_report(back, baseline="RandomSearch", figures=False, n_boot=20)
        .tables["leaderboard_bb"]
        .index[0]
        == "Good"
    )
    for args in ([str(tmp_path / "missing")], [str(tmp_path / "logs"), "--out", str(tmp_path / "x.csv")]):
        assert carps.main_import_carps(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ")
    assert err == [f"error: --out {tmp_path / 'x.csv'}: name a .parquet file (the report reads it)"]


def test_bad_files_through_the_command_line_are_one_line_naming_them(
    bench, one_line_error, tmp_path: Path
) -> None:
    good = log_line(1, 1, [0.0, 0.0], 1.0)
    run = write_run(tmp_path / "logs", "t/a", "RS", 1, "a: [unclosed\n", [good])
    line = one_line_error(bench(tmp_path, "import-carps", "logs", module="analysis"), tmp_path)
    assert (
        f"cannot parse {Path('logs') / run.relative_to(tmp_path / 'logs') / '.hydra' / 'config.yaml'}" in line
    )
    assert "fix the YAML syntax" in line, line
    black_box_study(tmp_path / "ok", n_trials=2)
    (tmp_path / "optima.json").write_text("not json\n")
    for optima, expect in (
        ("optima.json", "--optima optima.json is not JSON (line 1 column 1: Expecting value)"),
        ("missing.json", "--optima missing.json cannot be read: No such file or directory"),
    ):
        proc = bench(tmp_path, "import-carps", "ok", "--optima", optima, module="analysis")
        line = one_line_error(proc, tmp_path)
        assert expect in line and 'a JSON object {"carps/<task_id>": optimum, ...}' in line, line
