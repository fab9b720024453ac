"""Bad keys and values on the command line or in a study: one ``error:`` line, exit 2,
nothing written, no traceback. Unknown top-level keys (with or without ``+``), ids that
would leave output_dir, duplicates, and values of the wrong type.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PAIR = ("optimizer=random_search", "task=synthetic/branin")
RUN = ("n_trials=3", "n_jobs=1", "progress=false")


def study_conf(root: Path, body: str, name: str = "s") -> Path:
    conf = root / "user_conf"
    (conf / "study").mkdir(parents=True, exist_ok=True)
    (conf / "study" / f"{name}.yaml").write_text(body)
    return conf


# ----------------------------------------------------------------------------- unknown keys


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("n_trial=10", ["n_trial is not a setting", "did you mean 'n_trials'"]),
        ("+n_trial=10", ["n_trial is not a setting", "did you mean 'n_trials'"]),
        ("++n_trial=10", ["did you mean 'n_trials'"]),
        ("~n_trial", ["did you mean 'n_trials'"]),
        ("+ouput_dir=x", ["did you mean 'output_dir'"]),
        ("+nonsense_key=1", ["nonsense_key is not a setting", "valid are"]),
        ("seeds=3", ["seeds is a study setting", "study.seeds"]),
        ("+incompatible=skip", ["incompatible is a study setting", "study.incompatible"]),
        ("study.n_trial=5", ["study.n_trial is not a study setting", "did you mean 'study.n_trials'"]),
        ("+study.n_trial=5", ["did you mean 'study.n_trials'"]),
        ("+study.bogus=1", ["study.bogus is not a study setting"]),
        ("backend.adress=tcp://x:1", ["did you mean 'backend.address'"]),
        ("+optimizer.parms.x=1", ["optimizer.parms is not a optimizer setting", "'optimizer.params'"]),
    ],
)
def test_unknown_keys_get_a_did_you_mean(
    bench, one_line_error, tmp_path: Path, override: str, words: list[str]
) -> None:
    line = one_line_error(bench(tmp_path, *PAIR, override, *RUN), tmp_path)
    assert "use +" not in line  # Hydra's hint would run with the typo'd key ignored
    for word in words:
        assert word in line, line


def test_unknown_key_in_a_study_file_gets_a_did_you_mean(bench, one_line_error, tmp_path: Path) -> None:
    conf = study_conf(tmp_path, "optimizers: [random_search]\ntasks: [synthetic/branin]\nn_trial: 3\n")
    line = one_line_error(bench(tmp_path, "study=s", "n_jobs=1", conf=conf), tmp_path)
    assert "study.n_trial is not a study setting" in line and "did you mean 'study.n_trials'" in line


def test_study_keys_work_with_and_without_plus(bench, tmp_path: Path) -> None:
    conf = study_conf(tmp_path, "optimizers: [random_search]\ntasks: [synthetic/branin]\n")
    for i, args in enumerate(
        [("+study.seeds=2", "study.trial_timeout=30"), ("study.seeds=2", "+study.trial_timeout=30")]
    ):
        proc = bench(tmp_path, "study=s", *args, f"output_dir=out{i}", *RUN, conf=conf)
        assert proc.returncode == 0, proc.stderr
        assert "2 seeds" in proc.stdout


def test_optimizer_params_apply_to_each_optimizer_of_the_study(bench, one_line_error, tmp_path: Path) -> None:
    # Without optimizer=ID, optimizer.params.* apply to every optimizer of the study: one that has
    # no such parameter is named (the default study's random_search has no eta).
    line = one_line_error(bench(tmp_path, "optimizer.params.eta=3", *RUN), tmp_path)
    assert "random_search" in line and "'eta'" in line


# ----------------------------------------------------------------------------- ids and duplicates


@pytest.mark.parametrize(
    "ids",
    [
        "[../random_search]",
        "[random_search,../../tmp/x]",
        "[/etc/passwd]",
        "[.hidden]",
        "['a/b']",
        "['sub/../random_search']",
    ],
)
def test_optimizer_ids_cannot_leave_the_config_folders(
    bench, one_line_error, tmp_path: Path, ids: str
) -> None:
    line = one_line_error(bench(tmp_path, f"study.optimizers={ids}", *RUN), tmp_path)
    assert "optimizer id" in line and "is invalid" in line and "not starting with '.'" in line


def test_optimizer_ids_in_a_study_file_cannot_leave_the_config_folders(
    bench, one_line_error, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("_target_: optimizers.random_search.RandomSearch\n")
    conf = study_conf(tmp_path, "optimizers: [random_search, ../../outside]\ntasks: [synthetic/branin]\n")
    line = one_line_error(bench(tmp_path, "study=s", *RUN, conf=conf), tmp_path)
    assert "optimizer id '../../outside' is invalid" in line


@pytest.mark.parametrize("value", ["../subset_bb_dev", "/etc/x", ".x"])
def test_taskset_ids_cannot_leave_the_config_folders(
    bench, one_line_error, tmp_path: Path, value: str
) -> None:
    line = one_line_error(bench(tmp_path, f"study.taskset='{value}'", *RUN), tmp_path)
    assert "taskset id" in line and "is invalid" in line


def test_same_optimizer_twice_is_refused(bench, one_line_error, tmp_path: Path) -> None:
    line = one_line_error(
        bench(tmp_path, "study.optimizers=[random_search,hyperband,random_search]", *RUN), tmp_path
    )
    assert "'random_search' more than once" in line


def test_duplicate_tasks_after_expansion_are_planned_once(bench, tmp_path: Path) -> None:
    proc = bench(
        tmp_path,
        "study.optimizers=[random_search]",
        "study.seeds=1",
        "study.tasks=[synthetic/branin,'synthetic/bra*',synthetic/branin]",
        *RUN,
    )
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "results" / "default" / "study.json").read_text())
    assert manifest["tasks"] == ["synthetic/branin"] and len(manifest["runs"]) == 1


@pytest.mark.parametrize(
    "args",
    [
        ("-m", "task=glob('bbob/f01/d02/*',exclude='bbob/*')"),
        ("task=[bbob/f01/d02/i01,'!bbob/*']",),
        ("study.tasks=[bbob/f01/d02/i01,'!bbob/*']",),
    ],
)
def test_an_exclusion_that_leaves_no_task_is_refused(
    bench, one_line_error, tmp_path: Path, args: tuple[str, ...]
) -> None:
    # It used to leave an empty plan, which planning then indexed: an IndexError traceback.
    line = one_line_error(bench(tmp_path, "optimizer=random_search", *args, *RUN), tmp_path)
    assert "'!bbob/*'" in line and "nothing is left" in line, line


@pytest.mark.parametrize("empty", ["optimizers", "tasks", "seeds"])
def test_the_planner_refuses_an_empty_selection_in_one_line(empty: str) -> None:
    # A study built in code (the command line refuses these earlier) used to reach an IndexError.
    from dataclasses import replace

    from bench.config import ConfigError, OptimizerChoice, StudyConfig
    from bench.plan import make_plan
    from optimizers.base import Budget

    rs = OptimizerChoice("random_search", "optimizers.random_search.RandomSearch")
    study = StudyConfig("demo", (rs,), ("synthetic/branin",), (0,), Budget(5))
    with pytest.raises(ConfigError, match="nothing to run: study 'demo' selects"):
        make_plan(replace(study, **{empty: ()}))


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ("optimizer=random_search,random_search", "task=synthetic/branin"),
            ["optimizer=random_search,random_search", "'random_search' twice"],
        ),
        ((*PAIR, "n_trials=3,3"), ["n_trials=3,3", "3 twice"]),
        # the same budget written two ways would have made two study folders for one meaning
        ((*PAIR, "n_trials=3,3.0"), ["n_trials=3,3.0", "twice"]),
        ((*PAIR, "seed=1,1"), ["seed=", "duplicates"]),
        (
            ("optimizer=optuna_tpe", "task=synthetic/branin", "optimizer.params.n_startup_trials=5,5"),
            ["optimizer.params.n_startup_trials=5,5", "5 twice"],
        ),
    ],
)
def test_a_value_listed_twice_in_a_sweep_is_refused(
    bench, one_line_error, tmp_path: Path, args: tuple[str, ...], words: list[str]
) -> None:
    # A repeated optimizer or parameter value was silently dropped (exit 0), and n_trials=3,3 was
    # refused with "drop name= from the sweep" although no name= was given.
    line = one_line_error(bench(tmp_path, "-m", *args, "n_jobs=1", "progress=false"), tmp_path)
    assert "name=" not in line, line
    for word in words:
        assert word in line, line


@pytest.mark.parametrize("seeds", ["[1,1]", "[0,2,0]"])
def test_duplicate_seeds_are_refused(bench, one_line_error, tmp_path: Path, seeds: str) -> None:
    line = one_line_error(bench(tmp_path, *PAIR, f"study.seeds={seeds}", *RUN), tmp_path)
    assert "seeds=" in line and "duplicates" in line


# ----------------------------------------------------------------------------- values of the wrong type


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("n_jobs=abc", ["n_jobs='abc'"]),
        ("n_jobs=[1,2]", ["n_jobs=[1, 2]"]),
        ("n_jobs=true", ["n_jobs=True"]),
        ("n_jobs=1.5", ["n_jobs=1.5"]),
        ("seed=abc", ["seed='abc'"]),
        ("seed=[1,1]", ["seed=[1, 1]", "duplicates"]),
        ("seed=true", ["seed=True"]),
        ("study.seeds=abc", ["seeds='abc'"]),
        ("study.seeds=true", ["seeds=True"]),
        ("study.seeds=[a,b]", ["seeds="]),
        ("n_trials=abc", ["n_trials='abc'"]),
        ("n_trials=[5]", ["n_trials=[5]"]),
        ("n_trials=false", ["n_trials=False"]),
        ("time_budget=[1]", ["time_budget=[1]"]),
        ("progress=sometimes", ["progress='sometimes'", "true or false"]),
        ("progress=1", ["progress='1'", "true or false"]),
        ("output_dir=[a]", ["output_dir="]),
        ("backend=nope", ["unknown backend 'nope'"]),
        ("backend.name=nope", ["backend='nope'", "loky, threading or dask"]),
        ("backend.n_workers=abc", ["backend.n_workers='abc'"]),
        ("task=[]", ["lists no tasks"]),
        ("task=5", ["task=5"]),
        # with optimizer= given, the value used to go unchecked
        ("study.incompatible=maybe", ["study.incompatible='maybe'", "'error' or 'skip'"]),
        ("study.incompatible=3", ["study.incompatible='3'", "'error' or 'skip'"]),
    ],
)
def test_values_of_the_wrong_type(
    bench, one_line_error, tmp_path: Path, override: str, words: list[str]
) -> None:
    line = one_line_error(bench(tmp_path, *PAIR, *RUN, override), tmp_path)  # last one wins
    for word in words:
        assert word in line, line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("list=taks",), ["list='taks'", "tasks"]),
        (("list=everything",), ["list='everything'"]),
        (("list=[tasks]",), ["list="]),
        (("list=tasks", "filter=[a,b]"), ["filter=", "one glob pattern"]),
        (("list=tasks", "task_type=bbb"), ["task_type='bbb'"]),
    ],
)
def test_bad_listing_requests(
    bench, one_line_error, tmp_path: Path, args: tuple[str, ...], words: list[str]
) -> None:
    line = one_line_error(bench(tmp_path, *args), tmp_path)
    for word in words:
        assert word in line, line
