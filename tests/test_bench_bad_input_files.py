"""Bad config files and folders: one ``error:`` line, exit 2, nothing written, no traceback.

Covers config YAMLs of every kind a user writes (study, optimizer, taskset) that are not
UTF-8, not a mapping, empty, or hold ``${...}`` that do not resolve; a ``conf/`` folder in
the working directory (which must not shadow the shipped configs); and where single-pair
runs put their results.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import results

RUN = ("n_trials=3", "n_jobs=1", "progress=false")
STUDY = "optimizers: [random_search]\ntasks: [synthetic/branin]\nseeds: 1\nn_trials: 3\n"
OPTIMIZER = "_target_: optimizers.random_search.RandomSearch\nparams: {}\n"
TASKSET = "tasks: [synthetic/branin]\n"


def user_conf(root: Path, files: dict[str, str | bytes]) -> Path:
    """A user config folder holding ``files`` (``"study/x.yaml": text``)."""
    conf = root / "user_conf"
    for sub in ("study", "optimizer", "taskset"):
        (conf / sub).mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        path = conf / name
        path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return conf


#: How each kind of user file is used on the command line, given its id ``bad``.
USE = {
    "study": ("study=bad",),
    "optimizer": ("optimizer=bad", "task=synthetic/branin"),
    "taskset": ("study=uses_bad_taskset",),
}
#: Broken file bodies: (body, words the error line must contain).
BROKEN: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "latin1": (b"description: caf\xe9 \xff\n", ("not UTF-8", "0xe9", "line 1")),
    "list": (b"- random_search\n- synthetic/branin\n", ("a list at the top level", "not a mapping")),
    "scalar": (b"42\n", ("a number (42) at the top level", "not a mapping")),
    "string": (b"just some words\n", ("a string", "not a mapping")),
    "empty": (b"", ("is empty",)),
    "comment_only": (b"# nothing here\n", ("is empty",)),
    "syntax": (b"tasks: [synthetic/branin\n", ("cannot parse", "line", "fix the YAML syntax")),
    "bad_interpolation_syntax": (b"name: ${oops\n", ("${oops",)),
}


@pytest.mark.parametrize("kind", sorted(USE))
@pytest.mark.parametrize("fault", sorted(BROKEN))
def test_broken_config_file_is_named(bench, one_line_error, tmp_path: Path, kind: str, fault: str) -> None:
    body, words = BROKEN[fault]
    conf = user_conf(
        tmp_path,
        {
            f"{kind}/bad.yaml": body,
            "study/uses_bad_taskset.yaml": "optimizers: [random_search]\ntaskset: bad\n",
        },
    )
    line = one_line_error(bench(tmp_path, *USE[kind], *RUN, conf=conf), tmp_path)
    assert f"{kind} file {conf / kind / 'bad.yaml'}" in line or fault == "bad_interpolation_syntax", line
    assert str(conf / kind / "bad.yaml") in line, line
    for word in words:
        assert word in line, line


def test_broken_optimizer_file_listed_in_a_study_is_named(bench, one_line_error, tmp_path: Path) -> None:
    conf = user_conf(tmp_path, {"optimizer/bad.yaml": b"- a\n"})
    line = one_line_error(bench(tmp_path, "study.optimizers=[random_search,bad]", *RUN, conf=conf), tmp_path)
    assert f"optimizer file {conf / 'optimizer' / 'bad.yaml'} holds a list" in line


@pytest.mark.parametrize("tasks", ["5", "synthetic/branin", "{a: 1}", "[1, 2]", "null"])
def test_taskset_whose_tasks_is_not_a_list_of_ids(bench, one_line_error, tmp_path: Path, tasks: str) -> None:
    conf = user_conf(
        tmp_path,
        {
            "taskset/ts.yaml": f"tasks: {tasks}\n",
            "study/s.yaml": "optimizers: [random_search]\ntaskset: ts\n",
        },
    )
    line = one_line_error(bench(tmp_path, "study=s", *RUN, conf=conf), tmp_path)
    assert "taskset 'ts'" in line and "tasks=" in line and "list of task ids" in line


@pytest.mark.parametrize("value", ["[a]", "{a: 1}", "5"])
def test_study_taskset_must_be_one_id(bench, one_line_error, tmp_path: Path, value: str) -> None:
    conf = user_conf(tmp_path, {"study/s.yaml": f"optimizers: [random_search]\ntaskset: {value}\n"})
    line = one_line_error(bench(tmp_path, "study=s", *RUN, conf=conf), tmp_path)
    assert "taskset" in line


# ----------------------------------------------------------------------------- interpolations


def test_missing_interpolation_in_a_study_file(bench, one_line_error, tmp_path: Path) -> None:
    conf = user_conf(tmp_path, {"study/s.yaml": STUDY.replace("n_trials: 3", "n_trials: ${budget}")})
    line = one_line_error(bench(tmp_path, "study=s", "n_jobs=1", conf=conf), tmp_path)
    assert f"study file {conf / 'study' / 's.yaml'}" in line
    assert "study.n_trials" in line and "'budget' not found" in line


def test_interpolation_to_a_composed_key_works(bench, tmp_path: Path) -> None:
    # ${n_jobs} is a key of the composed config: valid, even though the study file lacks it.
    conf = user_conf(tmp_path, {"study/s.yaml": STUDY.replace("seeds: 1", "seeds: ${n_jobs}")})
    proc = bench(tmp_path, "study=s", "n_jobs=1", "progress=false", conf=conf)
    assert proc.returncode == 0, proc.stderr


def test_missing_interpolation_in_an_optimizer_file(bench, one_line_error, tmp_path: Path) -> None:
    conf = user_conf(
        tmp_path,
        {"optimizer/opt.yaml": "_target_: optimizers.hyperband.Hyperband\nparams:\n  eta: ${nope.eta}\n"},
    )
    single = one_line_error(
        bench(tmp_path, "optimizer=opt", "task=synthetic/mfh3", *RUN, conf=conf), tmp_path
    )
    assert f"optimizer file {conf / 'optimizer' / 'opt.yaml'}" in single
    assert "params.eta" in single and "'nope.eta' not found" in single
    in_study = one_line_error(bench(tmp_path, "study.optimizers=[opt]", *RUN, conf=conf), tmp_path)
    assert f"optimizer file {conf / 'optimizer' / 'opt.yaml'}" in in_study and "params.eta" in in_study


@pytest.mark.parametrize(
    "override", ["n_trials=${nope}", "study.seeds=${oc.env:NXMBENCH_NO_SUCH_VARIABLE}", "task=${nope}"]
)
def test_missing_interpolation_on_the_command_line(
    bench, one_line_error, tmp_path: Path, override: str
) -> None:
    args = (
        ("optimizer=random_search", "task=synthetic/branin")
        if "task=" not in override
        else ("optimizer=random_search",)
    )
    line = one_line_error(bench(tmp_path, *args, override, "n_jobs=1"), tmp_path)
    assert "the command line" in line and override.split("=")[0].split(".")[-1] in line


# ----------------------------------------------------------------------------- a conf/ folder in the cwd


@pytest.mark.parametrize("package", [True, False])
def test_conf_folder_in_the_working_directory_does_not_shadow_the_shipped_configs(
    bench, tmp_path: Path, package: bool
) -> None:
    conf = tmp_path / "conf"
    (conf / "study").mkdir(parents=True)
    if package:
        (conf / "__init__.py").write_text("")
    (conf / "config.yaml").write_text("defaults:\n  - study: mine\nn_jobs: 7\n")
    (conf / "study" / "mine.yaml").write_text(STUDY)
    listing = bench(tmp_path, "list=studies")
    assert listing.returncode == 0, listing.stderr
    assert "default" in listing.stdout.split() and "mine" not in listing.stdout.split()
    run = bench(tmp_path, "optimizer=random_search", "task=synthetic/branin", *RUN)
    assert run.returncode == 0, run.stderr
    # The same folder, named as the user config folder, adds its study.
    mine = bench(tmp_path, "study=mine", "n_jobs=1", "progress=false", conf=Path("conf"))
    assert mine.returncode == 0, mine.stderr
    assert len(results.load_runs(tmp_path / "results" / "mine")) == 1


# ----------------------------------------------------------------------------- single-pair folders


def test_each_single_pair_gets_its_own_folder(bench, tmp_path: Path) -> None:
    for opt, task in [
        ("random_search", "synthetic/branin"),
        ("random_search", "synthetic/hartmann3"),
        ("hyperband", "synthetic/mfh3"),
    ]:
        proc = bench(tmp_path, f"optimizer={opt}", f"task={task}", "seed=0", *RUN)
        assert proc.returncode == 0, proc.stderr
    single = tmp_path / "results" / "single"
    folders = sorted(p.name for p in single.iterdir())
    assert folders == [
        "hyperband--synthetic__mfh3",
        "random_search--synthetic__branin",
        "random_search--synthetic__hartmann3",
    ]
    for folder in folders:  # each keeps its own manifest; run ids are unchanged
        runs = results.load_runs(single / folder)
        assert len(runs) == 1 and runs["run_id"].iloc[0].endswith("--s0")
        assert (single / folder / "study.json").is_file()
    named = bench(tmp_path, "optimizer=random_search", "task=synthetic/branin", "+name=mine", *RUN)
    assert named.returncode == 0, named.stderr
    assert (tmp_path / "results" / "mine" / "runs").is_dir()


def test_single_run_folder_for_a_pattern_is_safe_and_bounded(bench, tmp_path: Path) -> None:
    proc = bench(tmp_path, "optimizer=random_search", "task='bbob/f0[1-2]/d02/i01'", *RUN)
    assert proc.returncode == 0, proc.stderr
    (folder,) = (tmp_path / "results" / "single").iterdir()
    assert folder.name.startswith("random_search--bbob__f0_1-2___d02__i01-"), folder.name
    long = ",".join(f"bbob/f{f:02d}/d02/i01" for f in range(1, 13))
    proc = bench(
        tmp_path, "optimizer=random_search", f"task=[{long}]", "n_trials=2", "n_jobs=1", "progress=false"
    )
    assert proc.returncode == 0, proc.stderr
    names = [p.name for p in (tmp_path / "results" / "single").iterdir()]
    assert max(len(n) for n in names) <= 80 and len(names) == 2


# ----------------------------------------------------------------------------- move_old_runs


@pytest.mark.parametrize("value", ["1", "yes_please", "[true]", "null"])
def test_move_old_runs_must_be_a_bool(bench, one_line_error, tmp_path: Path, value: str) -> None:
    line = one_line_error(
        bench(tmp_path, "optimizer=random_search", "task=synthetic/branin", f"move_old_runs={value}", *RUN),
        tmp_path,
    )
    assert "move_old_runs=" in line and "true or false" in line


def test_move_old_runs_is_a_setting(tmp_path: Path) -> None:
    from omegaconf import OmegaConf

    from bench.settings import settings_from_cfg

    cfg = OmegaConf.create(
        {"study": {"optimizers": ["random_search"], "tasks": ["synthetic/branin"]}, "move_old_runs": True}
    )
    assert settings_from_cfg(cfg).move_old_runs is True
    cfg.move_old_runs = False
    assert settings_from_cfg(cfg).move_old_runs is False
