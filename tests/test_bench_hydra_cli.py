"""Hydra habits on ``python -m bench``: every flag, every sweep form, the typed schema.

A user who knows Hydra types ``-m`` with comma lists, ``range()``, ``glob()`` and ``choice()``;
``--cfg job|hydra|all`` with ``--package`` and ``--resolve``; ``--info``; ``--config-dir``;
``--help`` and ``--version``. Each is run here through the real command line (and the sweep
parser directly, for the many forms that need no run).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from bench.config import ConfigError
from bench.registry import optimizer_ids
from bench.sweep import parse_command_line

REPO = Path(__file__).resolve().parents[1]
QUICK = ("n_trials=4", "n_jobs=1", "progress=false")


def _runs(folder: Path) -> list[str]:
    return sorted(p.stem for p in (folder / "runs").glob("*.parquet"))


# ----------------------------------------------------------------------------- the sweep parser


@pytest.mark.parametrize(
    ("args", "seeds"),
    [
        (["seed=0,1,2"], (0, 1, 2)),
        (["seed=range(1,11)"], tuple(range(1, 11))),
        (["seed=range(0,10,3)"], (0, 3, 6, 9)),
        (["seed=choice(4,7)"], (4, 7)),
        (["seed=[5,6]"], (5, 6)),
    ],
)
def test_seed_sweeps(args: list[str], seeds: tuple[int, ...]) -> None:
    assert parse_command_line(args, multirun=True).selection.seeds == seeds


def test_optimizer_and_task_sweeps_become_one_selection() -> None:
    cl = parse_command_line(
        ["optimizer=random_search,optuna_tpe", "task=glob(bbob/f0*/d02/i01,exclude=*f03*)", "n_jobs=2"],
        multirun=True,
    )
    assert cl.selection.optimizers == ("random_search", "optuna_tpe")
    assert cl.selection.tasks == ("bbob/f0*/d02/i01",) and cl.selection.exclude_tasks == ("*f03*",)
    assert len(cl.folders) == 1 and cl.folders[0].overrides == ["n_jobs=2"]  # the rest goes to Hydra


def test_optimizer_glob_matches_optimizer_ids() -> None:
    cl = parse_command_line(["optimizer=glob(optuna_*,exclude=[optuna_motpe,optuna_nsga*])"], multirun=True)
    # the expectation comes from the registry, so a new optuna_* id does not break the test
    expected = tuple(
        sorted(n for n in optimizer_ids() if n.startswith("optuna_") and not n.startswith("optuna_nsga"))
    )
    assert cl.selection.optimizers == tuple(n for n in expected if n != "optuna_motpe")
    assert {"optuna_cmaes", "optuna_qmc", "optuna_random", "optuna_tpe"} <= set(cl.selection.optimizers)
    assert not {"optuna_motpe", "optuna_nsga2"} & set(cl.selection.optimizers)


def test_parameter_sweeps_give_one_variant_per_combination() -> None:
    cl = parse_command_line(
        [
            "optimizer=optuna_tpe",
            "optimizer.params.n_startup_trials=5,10",
            "optimizer.params.multivariate=true,false",
        ],
        multirun=True,
    )
    assert cl.selection.params == (
        (("n_startup_trials", 5), ("multivariate", True)),
        (("n_startup_trials", 5), ("multivariate", False)),
        (("n_startup_trials", 10), ("multivariate", True)),
        (("n_startup_trials", 10), ("multivariate", False)),
    )


def test_settings_that_change_what_a_run_means_get_a_folder_each() -> None:
    cl = parse_command_line(["study=default,dev_bb", "n_trials=10,20", "seed=0"], multirun=True)
    assert [(f.study, f.suffix) for f in cl.folders] == [
        ("default", "--n_trials=10"),
        ("default", "--n_trials=20"),
        ("dev_bb", "--n_trials=10"),
        ("dev_bb", "--n_trials=20"),
    ]
    assert cl.study_given


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["optimizer=a,b"], ["is a sweep", "-m"]),
        (["seed=range(0,3)"], ["is a sweep", "-m"]),
    ],
)
def test_sweeps_need_multirun(args: list[str], words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_command_line(args, multirun=False)
    assert all(w in str(info.value) for w in words), info.value


@pytest.mark.parametrize(
    ("arg", "words"),
    [
        ("n_jobs=1,2", ["n_jobs cannot be swept", "optimizer"]),
        ("output_dir=a,b", ["output_dir cannot be swept"]),
        ("optimizer.params.x=interval(0,1)", ["interval()", "range("]),
        ("seed=range(0,3),7", ["nests a sweep"]),
        ("n_trials=glob(*)", ["glob() selects ids"]),
        ("optimizer._target_=x.Y", ["write a YAML under optimizer/"]),
        ("optimizer@study=random_search", ["package overrides", "optimizer=random_search"]),
        ("optimizer.parms.x=1", ["optimizer.parms is not a optimizer setting", "'optimizer.params'"]),
    ],
)
def test_what_cannot_be_swept_is_named(arg: str, words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_command_line([arg], multirun=True)
    assert all(w in str(info.value) for w in words), info.value


#: A tiny run around the override under test (the override, given last, wins over these).
TINY = ("optimizer=random_search", "task=synthetic/branin", "n_trials=2", "n_jobs=1", "progress=false")


def _hinted(line: str, key: str) -> list[str]:
    """The overrides of ``key`` that an error line suggests, each written between double quotes."""
    return re.findall(rf'"({re.escape(key)}=[^"]*)"', line)


@pytest.mark.parametrize(
    ("multirun", "arg"),
    [
        (True, "task=glob(bbob/f0[12]/d02/i01)"),
        (True, "task=glob(bbob/f0[12]/d02/*,exclude=bbob/f02/*)"),
        (True, "task=bbob/f0[12]/d02/i01"),
        (False, "task=bbob/f0[12]/d02/i01"),
    ],
)
def test_a_glob_quoting_hint_is_a_command_that_works(
    bench, one_line_error, tmp_path: Path, multirun: bool, arg: str
) -> None:
    # The hint for an unquoted glob(...) quoted the whole call, "task='glob(...)'", which then
    # failed: the call was taken as one literal task pattern.
    flags = ["-m"] if multirun else []
    line = one_line_error(bench(tmp_path, *flags, *TINY, arg), tmp_path)
    hinted = _hinted(line, "task")
    assert len(hinted) == 1, line
    proc = bench(tmp_path, *flags, *TINY, hinted[0])
    assert proc.returncode == 0, (hinted[0], proc.stderr)
    ran = {f.name.split("--")[0] for f in (tmp_path / "results").rglob("*.parquet")}
    assert "bbob__f01__d02__i01" in ran and "synthetic__branin" not in ran, ran


@pytest.mark.parametrize(
    ("arg", "with_m", "as_list"),
    [
        # optimizer=[a,b] is refused ("optimizer takes ids"): only -m may be suggested
        ("optimizer=random_search,optuna_random", True, False),
        ("task=synthetic/branin,synthetic/hartmann3", True, True),
        ("seed=0,1", True, True),
        ("seed=range(0,2)", True, False),  # seed=[range(0,2)] is no list of seeds
        ("n_trials=2,3", True, False),  # one folder per value with -m; a list is no budget
        ("n_jobs=1,2", False, False),  # cannot be swept, and takes one number
        ("study.seeds=0,1", False, True),  # a study setting: -m refuses sweeping it
    ],
)
def test_a_sweep_without_multirun_hints_only_what_works_for_its_key(
    bench, one_line_error, tmp_path: Path, arg: str, with_m: bool, as_list: bool
) -> None:
    line = one_line_error(bench(tmp_path, *TINY, arg), tmp_path)
    key = arg.partition("=")[0]
    assert ("add -m" in line) == with_m, line
    lists = [h for h in _hinted(line, key) if "[" in h]
    assert bool(lists) == as_list, line
    assert as_list or f"{key}=[" not in line, line  # no list suggested in any other form either
    runs = ([["-m", *TINY, arg]] if with_m else []) + [[*TINY, h] for h in lists]
    for i, args in enumerate(runs):
        proc = bench(tmp_path, *args, f"output_dir=out{i}")
        assert proc.returncode == 0, (args, proc.stderr)


def test_study_incompatible_is_honoured_with_optimizer_given(bench, one_line_error, tmp_path: Path) -> None:
    # The refusal says to set study.incompatible=skip; with optimizer= given that used to be
    # ignored, so following the hint gave the same refusal.
    args = ("-m", "optimizer=hyperband,random_search", "task=synthetic/branin", *TINY[2:])
    line = one_line_error(bench(tmp_path, *args), tmp_path)
    assert "study.incompatible=skip" in line, line
    proc = bench(tmp_path, *args, "study.incompatible=skip")
    assert proc.returncode == 0, proc.stderr
    assert "refused: hyperband on synthetic/branin" in proc.stdout
    assert list((tmp_path / "results").rglob("*--random_search--s0.parquet"))
    assert not list((tmp_path / "results").rglob("*hyperband*.parquet"))


# ----------------------------------------------------------------------------- flags


def test_help_lists_the_sweep_form_first_every_group_and_every_setting(bench, tmp_path: Path) -> None:
    proc = bench(tmp_path, "--help")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    first_example = next(ln for ln in out.splitlines() if ln.strip().startswith("python -m bench "))
    assert " -m " in first_example  # the sweep form comes first
    for group in ("study (", "optimizer (", "backend (", "taskset ("):
        assert f"  {group}" in out
    for option in ("dev_bb", "optuna_tpe", "random_search", "dask", "subset_bb_dev"):
        assert option in out
    for setting in ("n_trials", "move_old_runs", "plan_timeout", "yahpo_data", "trial_timeout"):
        assert f"  {setting} " in out
    assert not (tmp_path / "results").exists()


def test_version(bench, tmp_path: Path) -> None:
    proc = bench(tmp_path, "--version")
    assert proc.returncode == 0 and proc.stdout.startswith("nxm-bench ") and "Hydra 1." in proc.stdout


def test_cfg_job_shows_typed_defaults_and_the_study_as_it_will_run(bench, tmp_path: Path) -> None:
    proc = bench(
        tmp_path,
        "--cfg",
        "job",
        "study=default",
        "optimizer=optuna_tpe,random_search",
        "optimizer.params.n_startup_trials=5",
        "-m",
    )
    assert proc.returncode == 0, proc.stderr
    cfg = yaml.safe_load(proc.stdout)
    assert cfg["study"]["trial_timeout"] is None and cfg["plan_timeout"] == 600.0  # schema defaults
    # random_search has no such parameter: its variant is shown as it would be planned (and refused)
    assert cfg["study"]["optimizers"] == ["optuna_tpe@n_startup_trials=5", "random_search@n_startup_trials=5"]
    assert cfg["optimizers"]["optuna_tpe@n_startup_trials=5"]["params"]["n_startup_trials"] == 5
    assert cfg["optimizers"]["random_search@n_startup_trials=5"]["_target_"] == (
        "optimizers.random_search.RandomSearch"
    )
    assert "hydra" not in cfg
    assert not (tmp_path / "results").exists()


def test_random_search_refuses_a_parameter_it_does_not_have(bench, one_line_error, tmp_path: Path) -> None:
    # the same override as above, without -m --cfg: planning checks it against each optimizer
    line = one_line_error(
        bench(
            tmp_path,
            "optimizer=optuna_tpe,random_search",
            "task=synthetic/branin",
            "optimizer.params.n_startup_trials=5",
            "-m",
            *QUICK,
        ),
        tmp_path,
    )
    assert "random_search" in line and "n_startup_trials" in line


@pytest.mark.parametrize("kind", ["hydra", "all"])
def test_cfg_hydra_and_all(bench, tmp_path: Path, kind: str) -> None:
    proc = bench(tmp_path, "--cfg", kind)
    assert proc.returncode == 0, proc.stderr
    cfg = yaml.safe_load(proc.stdout)
    assert "searchpath" in cfg["hydra"] and "runtime" in cfg["hydra"]
    assert ("study" in cfg) == (kind == "all")


def test_cfg_package_and_resolve(bench, tmp_path: Path) -> None:
    proc = bench(tmp_path, "--cfg", "job", "--package", "study", "study=default")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# @package study\n")
    assert yaml.safe_load(proc.stdout)["name"] == "default"
    conf = tmp_path / "c"
    (conf / "study").mkdir(parents=True)
    (conf / "study" / "s.yaml").write_text(
        "optimizers: [random_search]\ntasks: [synthetic/branin]\n"
        "n_trials: 7\ndescription: budget ${study.n_trials}\n"
    )
    raw = bench(tmp_path, "--cfg", "job", "-p", "study", "study=s", "-cd", str(conf))
    resolved = bench(tmp_path, "--cfg", "job", "-p", "study", "--resolve", "study=s", "-cd", str(conf))
    assert "${study.n_trials}" in raw.stdout, raw.stderr
    assert yaml.safe_load(resolved.stdout)["description"] == "budget 7.0", resolved.stderr


def test_cfg_package_that_does_not_exist(bench, one_line_error, tmp_path: Path) -> None:
    line = one_line_error(bench(tmp_path, "--cfg", "job", "--package", "studdy"), tmp_path)
    assert "'studdy'" in line


@pytest.mark.parametrize(
    ("info", "words"),
    [
        ("config", ["Config search path", "Defaults List", "study/default", "n_trials"]),
        ("defaults", ["Defaults List", "nxm_bench_schema", "study/default"]),
        ("searchpath", ["Config search path", "conf"]),
    ],
)
def test_info(bench, tmp_path: Path, info: str, words: list[str]) -> None:
    proc = bench(tmp_path, "--info", info)
    assert proc.returncode == 0, proc.stderr
    for word in words:
        assert word in proc.stdout, proc.stdout


def test_config_dir_adds_a_users_study(bench, tmp_path: Path) -> None:
    conf = tmp_path / "my_conf"
    (conf / "study").mkdir(parents=True)
    (conf / "study" / "mine.yaml").write_text(
        "optimizers: [random_search]\ntasks: [synthetic/branin]\nseeds: 2\nn_trials: 3\n"
    )
    for flag in ("--config-dir", "-cd"):
        proc = bench(tmp_path, flag, str(conf), "study=mine", "n_jobs=1", "progress=false")
        assert proc.returncode == 0, proc.stderr
    assert _runs(tmp_path / "results" / "mine") == [
        "synthetic__branin--random_search--s0",
        "synthetic__branin--random_search--s1",
    ]
    info = bench(tmp_path, "--info", "searchpath", "-cd", str(conf))
    assert str(conf) in info.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--config-name", "other"), ["--config-name is not supported", "study=NAME"]),
        (("-cn", "other"), ["-cn is not supported"]),
        (("--shell-completion", "install=bash"), ["shell completion"]),
        (("--frobnicate",), ["unknown flag '--frobnicate'"]),
        (("--cfg", "jobs"), ["--cfg 'jobs' is invalid", "job"]),
        (("--info", "everything"), ["--info 'everything' is invalid"]),
        (("--resolve",), ["--resolve go with --cfg"]),
        (("-cd", "/no/such/folder"), ["is not a folder"]),
        (("hydra/launcher=joblib", "-m", "seed=0,1"), ["launcher", "n_jobs", "dask"]),
        (("hydra/sweeper=optuna",), ["sweeper plugins are not used"]),
        (("hydra.run.dir=/tmp/x",), ["hydra.run.dir", "output_dir="]),
        (("hydra.sweep.dir=/tmp/x",), ["output_dir="]),
        (("hydra.verbose=true",), ["hydra.searchpath"]),
        (("+n_trial=10",), ["n_trial is not a setting", "'n_trials'"]),
        (("n_trials=abc",), ["n_trials='abc'"]),
        (("optimizer=random_search,optuna_tpe",), ["is a sweep", "-m"]),
    ],
)
def test_unsupported_and_bad_flags_get_one_line(
    bench, one_line_error, tmp_path: Path, args: tuple[str, ...], words: list[str]
) -> None:
    line = one_line_error(bench(tmp_path, *args), tmp_path)
    for word in words:
        assert word in line, line


def test_unknown_key_in_a_user_optimizer_file(bench, one_line_error, tmp_path: Path) -> None:
    conf = tmp_path / "c"
    (conf / "optimizer").mkdir(parents=True)
    (conf / "optimizer" / "mine.yaml").write_text(
        "_target_: optimizers.random_search.RandomSearch\nparms: {}\n"
    )
    line = one_line_error(
        bench(tmp_path, "-cd", str(conf), "optimizer=mine", "task=synthetic/branin"), tmp_path
    )
    assert "optimizer.parms is not a optimizer setting" in line and "'optimizer.params'" in line


# ----------------------------------------------------------------------------- sweeps, run for real


def test_a_multirun_is_one_study_with_one_summary(bench, tmp_path: Path) -> None:
    proc = bench(
        tmp_path,
        "-m",
        "study=default",
        "optimizer=random_search,optuna_tpe",
        "task=glob([bbob/f01/d02/i01,bbob/f03/d02/i01,synthetic/bra*],exclude=bbob/f03*)",
        "seed=range(0,2)",
        *QUICK,
    )
    assert proc.returncode == 0, proc.stderr
    header = proc.stdout.splitlines()[0]
    assert header.startswith("study 'default': 2 optimizers × 2 tasks × 2 seeds = 8 pairs, 8 runs"), header
    assert proc.stdout.count("leaderboard") == 1  # one study, one summary
    assert _runs(tmp_path / "results" / "default") == sorted(
        f"{t}--{o}--s{s}"
        for t in ("bbob__f01__d02__i01", "synthetic__branin")
        for o in ("optuna_tpe", "random_search")
        for s in (0, 1)
    )
    # the study folder records the plan's command line
    manifest = (tmp_path / "results" / "default" / "study.json").read_text()
    assert "optimizer=random_search,optuna_tpe" in manifest


def test_parameter_variants_have_stable_readable_ids(bench, tmp_path: Path) -> None:
    args = (
        "-m",
        "optimizer=optuna_tpe",
        "optimizer.params.n_startup_trials=2,10",
        "task=synthetic/branin",
        "name=variants",
        *QUICK,
    )
    proc = bench(tmp_path, *args)
    assert proc.returncode == 0, proc.stderr
    # 10 is optuna_tpe's own value: that variant IS optuna_tpe and keeps its id
    assert _runs(tmp_path / "results" / "variants") == [
        "synthetic__branin--optuna_tpe--s0",
        "synthetic__branin--optuna_tpe@n_startup_trials=2--s0",
    ]
    again = bench(tmp_path, *args)
    assert "2 already done" in again.stdout, again.stdout


def test_budget_sweep_gives_a_folder_per_budget_in_one_pool(bench, tmp_path: Path) -> None:
    proc = bench(
        tmp_path,
        "-m",
        "optimizer=random_search",
        "task=synthetic/branin",
        "n_trials=3,5",
        "n_jobs=1",
        "progress=false",
    )
    assert proc.returncode == 0, proc.stderr
    single = tmp_path / "results" / "single"
    assert sorted(p.name for p in single.iterdir()) == [
        "random_search--synthetic__branin--n_trials=3",
        "random_search--synthetic__branin--n_trials=5",
    ]
    import analysis

    n = {p.name[-1]: len(analysis.load(p)) for p in single.iterdir()}
    assert n == {"3": 3, "5": 5}


def test_a_single_pair_is_one_run_in_its_own_folder(bench, tmp_path: Path) -> None:
    proc = bench(tmp_path, "optimizer=random_search", "task=synthetic/branin", "n_trials=6", "progress=false")
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "results" / "single" / "random_search--synthetic__branin"
    assert _runs(folder) == ["synthetic__branin--random_search--s0"]
    assert proc.stdout.splitlines()[0].endswith(
        "1 optimizer × 1 task × 1 seed = 1 pair, 1 run, budget 6 full-fidelity trials"
    )
    assert "leaderboard" not in proc.stdout
    import analysis

    df = analysis.load(folder)
    best = df["value"].min()
    assert f"{best:.4g}" in proc.stdout or f"{best:.6g}" in proc.stdout, proc.stdout
    assert "synthetic__branin--random_search--s0.parquet" in proc.stdout


def _trials(folder: Path) -> pd.DataFrame:
    import analysis

    df = analysis.load(folder)
    keep = ["run_id", "trial", "config", "fidelity", "value", "cost", "budget_used"]
    return df[keep].sort_values(["run_id", "trial"]).reset_index(drop=True)


def test_the_same_sweep_is_bit_identical_with_one_and_two_jobs(bench, tmp_path: Path) -> None:
    sweep = (
        "-m",
        "optimizer=random_search,optuna_tpe",
        "task=bbob/f01/d02/i01,synthetic/branin",
        "seed=0,1",
        "n_trials=6",
        "progress=false",
        "name=same",
    )
    for jobs in (1, 2):
        proc = bench(tmp_path, *sweep, f"n_jobs={jobs}", f"output_dir=out{jobs}")
        assert proc.returncode == 0, proc.stderr
    one, two = _trials(tmp_path / "out1" / "same"), _trials(tmp_path / "out2" / "same")
    assert len(one) == 8 * 6
    pd.testing.assert_frame_equal(one, two, check_exact=True)


def test_an_interrupted_sweep_resumes_where_it_stopped(cli_env, tmp_path: Path) -> None:
    sweep = [
        sys.executable,
        "-m",
        "bench",
        "-m",
        "optimizer=random_search",
        "task=glob(bbob/f0*/d02/i01)",
        "seed=range(0,12)",
        "n_trials=30",
        "n_jobs=1",
        "progress=false",
        "name=resumed",
    ]
    runs = tmp_path / "results" / "resumed" / "runs"
    proc = subprocess.Popen(
        sweep,
        cwd=tmp_path,
        env=cli_env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(runs.glob("*.parquet"))) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    done = {p.name: p.stat().st_mtime_ns for p in runs.glob("*.parquet")}
    assert 3 <= len(done) < 9 * 12
    again = subprocess.run(
        sweep,
        cwd=tmp_path,
        env=cli_env(),
        text=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr
    assert f"{len(done)} already done" in again.stdout
    after = {p.name: p.stat().st_mtime_ns for p in runs.glob("*.parquet")}
    assert len(after) == 9 * 12
    assert all(after[name] == mtime for name, mtime in done.items())  # finished runs untouched
    # and the resumed study equals one run without interruption
    fresh = subprocess.run(
        [*sweep[:-1], "name=fresh"],
        cwd=tmp_path,
        env=cli_env(),
        text=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    assert fresh.returncode == 0, fresh.stderr
    pd.testing.assert_frame_equal(
        _trials(tmp_path / "results" / "resumed"), _trials(tmp_path / "results" / "fresh"), check_exact=True
    )


def test_mixing_study_with_sweep_overrides_narrows_that_study(bench, tmp_path: Path) -> None:
    proc = bench(
        tmp_path,
        "-m",
        "study=default",
        "optimizer=random_search",
        "task=synthetic/branin,synthetic/mfh3",
        "seed=0",
        *QUICK,
    )
    assert proc.returncode == 0, proc.stderr
    assert _runs(tmp_path / "results" / "default") == [
        "synthetic__branin--random_search--s0",
        "synthetic__mfh3--random_search--s0",
    ]


def test_no_environment_variable_is_set_for_the_workers(tmp_path: Path) -> None:
    # yahpo_data= travels inside the run specs: the main process leaves its environment alone
    import bench.__main__ as main

    before = dict(os.environ)
    main.main(["--cfg", "job", f"yahpo_data={tmp_path}"])
    assert dict(os.environ) == before


def test_one_pair_with_several_seeds_lists_each_seed_not_a_leaderboard(bench, tmp_path: Path) -> None:
    proc = bench(
        tmp_path,
        "-m",
        "optimizer=random_search",
        "task=synthetic/branin",
        "seed=range(0,3)",
        "n_trials=3",
        "progress=false",
    )
    assert proc.returncode == 0, proc.stderr
    assert "leaderboard" not in proc.stdout
    assert [ln.split(":")[0].strip() for ln in proc.stdout.splitlines() if ln.startswith("  seed ")] == [
        "seed 0",
        "seed 1",
        "seed 2",
    ]


def test_a_task_alone_skips_the_study_optimizers_that_cannot_run_it(bench, tmp_path: Path) -> None:
    # task= alone runs the default study's optimizers on it; Hyperband (multi-fidelity only) is
    # listed as refused, as the study says (incompatible: skip), instead of failing the command
    proc = bench(tmp_path, "-m", "task=bbob/f01/d02/i01", "seed=0,1", "n_trials=3", "progress=false")
    assert proc.returncode == 0, proc.stderr
    assert "10 pairs, 2 refused, 8 runs" in proc.stdout.splitlines()[0]
    assert "refused: hyperband on bbob/f01/d02/i01" in proc.stdout
    # the summary counts refusals in the header's unit too
    assert "refused (incompatible, not run): 1 optimizer-task pair × 2 seeds = 2 runs" in proc.stdout
