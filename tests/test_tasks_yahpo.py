"""YAHPO Gym surrogates: outputs equal the reference ``yahpo_gym`` ones (tests/data/yahpo_reference.json)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ConfigSpace.hyperparameters import NumericalHyperparameter

from tasks.collections.yahpo import SCENARIOS, YahpoFamily, YahpoTask, families

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NXMBENCH_YAHPO_DATA") or REPO.parent / "shared" / "data" / "yahpo")
REFERENCE = json.loads((Path(__file__).parent / "data" / "yahpo_reference.json").read_text())

needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"YAHPO data folder {DATA} is absent")


@pytest.fixture(scope="module")
def family() -> YahpoFamily:
    return YahpoFamily(data_dir=DATA)


def test_unavailable_without_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NXMBENCH_YAHPO_DATA", raising=False)
    monkeypatch.delenv("NXM_YAHPO_DATA", raising=False)  # the deprecated name is still read
    fam = families()[0]
    assert fam.name == "yahpo"
    assert "NXMBENCH_YAHPO_DATA" in (fam.unavailable_reason() or "")
    assert fam.ids() == []
    with pytest.raises(ValueError, match="NXMBENCH_YAHPO_DATA"):
        fam.make("yahpo/lcbench/3945")


@needs_data
def test_env_var_enables_family(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NXMBENCH_YAHPO_DATA", str(DATA))
    fam = families()[0]
    assert isinstance(fam, YahpoFamily)
    assert fam.unavailable_reason() is None
    assert set(fam.scenarios()) == {"lcbench", "rbv2_xgboost", "rbv2_rpart", "iaml_glmnet"}


@needs_data
@pytest.mark.parametrize("scenario", sorted(REFERENCE["scenarios"]))
def test_matches_reference_implementation(family: YahpoFamily, scenario: str) -> None:
    ref = REFERENCE["scenarios"][scenario]
    sc = SCENARIOS[scenario]
    assert tuple(ref["targets"]) == sc.targets
    expected = np.asarray(ref["outputs"])
    # The raw encoder + model on the full configurations.
    got = family._surrogate(scenario).predict(ref["configs"])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    # And through the task API: instance from the id, fidelity as argument, repl fixed.
    for cfg, row in zip(ref["configs"], expected, strict=True):
        task = family.make(f"yahpo/{scenario}/{cfg[sc.instance_name]}")
        hp = {k: v for k, v in cfg.items() if k not in {sc.instance_name, sc.fidelity_name, *sc.fixed}}
        res = task.evaluate(hp, fidelity=cfg[sc.fidelity_name], seed=0)
        np.testing.assert_allclose([res.info[t] for t in sc.targets], row, rtol=1e-5, atol=1e-7)
        assert res.values == (res.info[sc.primary],)
        assert res.cost == max(res.info[sc.runtime_name], 0.0)


@needs_data
def test_ids_cover_every_instance_and_mo_variant(family: YahpoFamily) -> None:
    ids = family.ids()
    assert "yahpo/lcbench/3945" in ids and "yahpo/lcbench/3945/mo" in ids
    n_lcbench = sum(1 for i in ids if i.startswith("yahpo/lcbench/") and not i.endswith("/mo"))
    assert n_lcbench == 34
    assert sum(1 for i in ids if i.startswith("yahpo/iaml_glmnet/")) == 2 * 4


@needs_data
def test_task_space_and_fidelity(family: YahpoFamily) -> None:
    task = family.make("yahpo/rbv2_xgboost/1040")
    assert isinstance(task, YahpoTask)
    names = set(task.space)
    assert not names & {"task_id", "trainsize", "repl"}
    assert task.fidelity is not None and (task.fidelity.low, task.fidelity.high) == (0.03, 1.0)
    assert task.meta.type == "mf" and task.meta.kind == "surrogate"
    lc = family.make("yahpo/lcbench/3945")
    assert lc.fidelity is not None and lc.fidelity.values == tuple(float(e) for e in range(1, 53))
    # Sampled (possibly with inactive parameters) configurations evaluate in one batch.
    configs = [dict(c) for c in task.space.sample_configuration(16)]
    results = task.evaluate_batch(configs, fidelities=0.5)
    assert len(results) == 16 and all(math.isfinite(r.values[0]) for r in results)
    assert results[0] == task.evaluate(configs[0], fidelity=0.5, seed=3)


@needs_data
def test_mo_variant(family: YahpoFamily) -> None:
    task = family.make("yahpo/iaml_glmnet/40981/mo")
    assert [o.name for o in task.objectives] == ["mmce", "timetrain"]
    assert task.meta.type == "mfmo"
    res = task.evaluate(dict(task.space.get_default_configuration()))
    assert res.values == (res.info["mmce"], res.info["timetrain"])


@needs_data
def test_bad_input_is_value_error(family: YahpoFamily) -> None:
    task = family.make("yahpo/lcbench/3945")
    good = dict(task.space.get_default_configuration())
    with pytest.raises(ValueError, match="learning_rate"):
        task.evaluate({**good, "learning_rate": 5.0})
    with pytest.raises(ValueError, match="bogus"):
        task.evaluate({**good, "bogus": 1})
    with pytest.raises(ValueError, match="epoch"):
        task.evaluate(good, fidelity=60)
    with pytest.raises(ValueError, match=r"impute\.mean"):
        family.make("yahpo/rbv2_rpart/1040").evaluate({"num.impute.selected.cpo": "zero"})
    with pytest.raises(ValueError, match="valid"):
        family.make("yahpo/lcbench/999999")
    with pytest.raises(ValueError, match="scenario"):
        family.make("yahpo/nope/1")


@needs_data
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_value_inside_the_tasks_own_space_is_evaluated(family: YahpoFamily, scenario: str) -> None:
    # The space ConfigSpace decodes from YAHPO's JSON has rounded bounds (lcbench's learning_rate:
    # 0.0001, the JSON 0.00010000000000000009): values between the two were refused, and Nevergrad
    # PSO and (1+1) runs on lcbench crashed at the lower bound.
    task_id = next(t for t in family.ids() if t.split("/")[1] == scenario)
    task = family.make(task_id)
    good = dict(task.space.get_default_configuration())
    ranged = [hp for hp in task.space.values() if isinstance(hp, NumericalHyperparameter) and hp.name in good]
    for hp in ranged:
        for bound in (hp.lower, hp.upper):
            task.evaluate({**good, hp.name: bound})
    hp = ranged[0]
    with pytest.raises(ValueError, match=hp.name):  # a value really outside is still refused
        task.evaluate({**good, hp.name: hp.upper + (hp.upper - hp.lower)})


@needs_data
@pytest.mark.parametrize("task_id", ["yahpo/rbv2_xgboost/1040", "yahpo/rbv2_xgboost/1040/mo"])
def test_nevergrad_runs_conditional_rbv2_spaces(family: YahpoFamily, task_id: str) -> None:
    # rbv2 spaces are conditional (e.g. xgboost's gbtree-only parameters); Nevergrad used to refuse them.
    from ConfigSpace import Configuration
    from omegaconf import OmegaConf

    from bench.registry import optimizer_class, optimizer_config
    from optimizers.base import Budget, Problem

    task = family.make(task_id)
    assert task.space.conditions
    cfg = optimizer_config("ng_de")
    cls = optimizer_class(str(cfg["_target_"]))
    problem = Problem(task.space, task.objectives, task.fidelity, Budget(12))
    assert cls.incompatibility(problem) is None
    params = OmegaConf.to_container(cfg.params) if cfg.get("params") else {}
    assert isinstance(params, dict)
    opt = cls(problem, seed=0, **{str(k): v for k, v in params.items()})
    for _ in range(12):
        trial = opt.ask()
        Configuration(task.space, values=trial.config)  # raises on inactive or missing values
        opt.tell(trial, task.evaluate(trial.config, fidelity=task.fidelity.high if task.fidelity else None))


# ----------------------------------------------------------------------------- broken data folders


def _rewrite_space(folder: Path, edit: Callable[[dict], object]) -> None:
    path = folder / "config_space.json"
    raw = json.loads(path.read_text())
    path.write_text(json.dumps(edit(raw)))


def _drop_param(raw: dict) -> dict:
    raw["hyperparameters"] = [hp for hp in raw["hyperparameters"] if hp["name"] != "s"]
    return raw


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:5000])


#: name -> (how the copied iaml_glmnet folder is broken, file named in the error, phrase in the error)
BREAKAGES: dict[str, tuple[Callable[[Path], object], str, str]] = {
    "missing config_space.json": (
        lambda f: (f / "config_space.json").unlink(),
        "config_space.json",
        "missing file",
    ),
    "invalid JSON": (
        lambda f: (f / "config_space.json").write_text('{"hyperparameters": [1,'),
        "config_space.json",
        "is not valid JSON",
    ),
    "JSON list, not an object": (
        lambda f: (f / "config_space.json").write_text("[1, 2]"),
        "config_space.json",
        "expected a JSON object",
    ),
    "parameter missing": (
        lambda f: _rewrite_space(f, _drop_param),
        "config_space.json",
        "lacks the iaml_glmnet parameter(s) ['s']",
    ),
    "unknown parameter type": (
        lambda f: _rewrite_space(
            f, lambda r: {**r, "hyperparameters": [{**hp, "type": "banana"} for hp in r["hyperparameters"]]}
        ),
        "config_space.json",
        "is not a ConfigSpace search space",
    ),
    "non-UTF-8 bytes": (
        lambda f: (f / "config_space.json").write_bytes(b'{"\xff\xfe": 1}'),
        "config_space.json",
        "is not UTF-8",
    ),
    "encoding of the wrong shape": (
        lambda f: (f / "encoding.json").write_text('{"task_id": ["40981"]}'),
        "encoding.json",
        "integer codes",
    ),
    "garbled model": (lambda f: _truncate(f / "model.onnx"), "model.onnx", "is not an ONNX model"),
}


@pytest.fixture
def broken_copy(tmp_path: Path) -> Callable[[str], tuple[Path, Path]]:
    """A data folder with a copy of the small iaml_glmnet scenario, broken as ``BREAKAGES[name]``."""

    def make(name: str) -> tuple[Path, Path]:
        root = tmp_path / "yahpo-data"
        # copyfile: the copies are writable even when the source files are read-only.
        shutil.copytree(DATA / "iaml_glmnet", root / "iaml_glmnet", copy_function=shutil.copyfile)
        breakage, file, _ = BREAKAGES[name]
        breakage(root / "iaml_glmnet")
        return root, root / "iaml_glmnet" / file

    return make


def _one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


@needs_data
@pytest.mark.parametrize("name", list(BREAKAGES))
def test_broken_scenario_file_is_one_line_naming_it(
    name: str, broken_copy: Callable[[str], tuple[Path, Path]], run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    root, bad_file = broken_copy(name)
    proc = run_cli(
        "optimizer=random_search",
        "task=yahpo/iaml_glmnet/40981",
        "n_trials=2",
        f"output_dir={tmp_path / 'out'}",
        "progress=false",
        f"yahpo_data={root}",
    )
    line = _one_line_error(proc)
    assert str(bad_file) in line and BREAKAGES[name][2] in line, line
    assert "iaml_glmnet" in line and "restore the scenario folder" in line
    assert not (tmp_path / "out").exists()  # refused before anything was planned or written


@needs_data
def test_broken_scenario_from_env_var_and_in_process(
    broken_copy: Callable[[str], tuple[Path, Path]],
    run_cli: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, bad_file = broken_copy("invalid JSON")
    monkeypatch.setenv("NXMBENCH_YAHPO_DATA", str(root))
    proc = run_cli(
        "optimizer=random_search",
        "task=yahpo/iaml_glmnet/40981/mo",
        "n_trials=2",
        f"output_dir={tmp_path / 'out'}",
        "progress=false",
    )
    assert str(bad_file) in _one_line_error(proc)
    fam = YahpoFamily(root)
    assert fam.ids() == [] and str(bad_file) in (fam.unavailable_reason() or "")
    assert set(fam.broken_scenarios()) == {"iaml_glmnet"}
    with pytest.raises(ValueError, match="is not valid JSON"):
        fam.make("yahpo/iaml_glmnet/40981")


@needs_data
def test_broken_scenario_spares_listing_and_other_studies(
    broken_copy: Callable[[str], tuple[Path, Path]], run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    root, bad_file = broken_copy("non-UTF-8 bytes")
    shutil.copytree(DATA / "rbv2_rpart", root / "rbv2_rpart", copy_function=shutil.copyfile)
    listing = run_cli("list=tasks", f"yahpo_data={root}")
    assert listing.returncode == 0 and "Traceback" not in listing.stderr, listing.stderr
    unavailable = [ln for ln in listing.stdout.splitlines() if ln.startswith("# family yahpo: unavailable")]
    assert len(unavailable) == 1 and str(bad_file) in unavailable[0] and "is not UTF-8" in unavailable[0]
    assert "bbob/f01/d02/i01" in listing.stdout and "yahpo/" not in listing.stdout.replace(str(root), "")
    study = run_cli(
        "optimizer=random_search",
        "task=bbob/f01/d02/i01",
        "n_trials=3",
        f"output_dir={tmp_path / 'out'}",
        "progress=false",
        f"yahpo_data={root}",
    )
    assert study.returncode == 0 and "Traceback" not in study.stderr, study.stderr
    # The healthy scenario alone in the folder is served again.
    shutil.rmtree(root / "iaml_glmnet")
    fam = YahpoFamily(root)
    assert fam.unavailable_reason() is None and "yahpo/rbv2_rpart/1040" in fam.ids()


def test_a_data_folder_that_is_a_file_is_named_so(bench, one_line_error, tmp_path: Path) -> None:
    data = tmp_path / "yahpo.tar"  # e.g. the archive itself, not unpacked
    data.write_text("not a folder\n")
    args = ("optimizer=random_search", "task=yahpo/lcbench/3945", f"yahpo_data={data}", "n_trials=2")
    line = one_line_error(bench(tmp_path, *args), tmp_path)
    assert f"YAHPO data folder '{data}' is a file, not a folder" in line, line
    assert "does not exist" not in line, line
