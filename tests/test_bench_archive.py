"""The baseline archive: the shipped files verify, they re-run bit for bit, and the build is resumable,
runs only what is missing and marks what changed as stale.

* ``archive verify`` passes on the archive in the repository, and finds a flipped byte, a wrong row
  count and an unlisted file in a copy.
* Archived runs re-run from this checkout with ``python -m bench`` give bit-identical trials.
* ``archive build`` into a private archive (``NXMBENCH_ARCHIVE_DIR``): a second optimizer runs only
  its own sweep; a library version change makes an entry stale (exit 1 from ``status``), and the next
  build re-runs exactly that entry; a task revision change is reported stale too.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bench.archive import planning, status
from bench.archive.pieces import piece_names, seed_groups
from bench.archive.read import read_archive
from bench.archive.store import archive_dir, read_manifest, verify
from bench.blas_kernel import blas_kernel, openblas_coretype
from bench.installed import installed_version
from bench.results import load, load_runs

SHIPPED = archive_dir()


def _shipped_files() -> dict[str, dict[str, Any]]:
    return read_manifest(SHIPPED).get("files", {})


def test_the_shipped_archive_verifies(bench, tmp_path: Path) -> None:
    proc = bench(tmp_path, "archive", "verify")
    assert proc.returncode == 0, proc.stderr
    files = _shipped_files()
    assert files, "the repository ships an archive"
    assert f"{len(files)} files" in proc.stdout and "checks out" in proc.stdout
    assert verify() == []


def test_the_shipped_archive_is_small_and_described() -> None:
    manifest = read_manifest(SHIPPED)
    files = manifest["files"]
    size = sum(p.stat().st_size for p in SHIPPED.rglob("*.parquet"))
    assert size <= 40e6  # what the repository can carry
    for rel, info in files.items():
        assert (
            info["command"].startswith("python -m bench -m ") and f"name={info['piece']}" in info["command"]
        )
        assert info["sha256"] and info["rows"] > 0 and info["runs"] > 0 and info["packed"]
        assert info["budget"]["n_trials"] > 0 and info["seeds"] == list(range(len(info["seeds"])))
        assert len(info["seeds"]) >= 3, rel
        assert "numpy" in info["versions"] and "nxm-bench" in info["versions"]
        assert info["piece"] in piece_names()


def test_verify_finds_damage_and_strays(bench, tmp_path: Path) -> None:
    copy = tmp_path / "archive"
    shutil.copytree(SHIPPED, copy)
    env = {"NXMBENCH_ARCHIVE_DIR": str(copy)}
    rel = sorted(_shipped_files())[0]
    data = bytearray((copy / rel).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / rel).write_bytes(bytes(data))
    manifest = json.loads((copy / "manifest.json").read_text())
    other = sorted(manifest["files"])[1]
    manifest["files"][other]["rows"] += 1
    (copy / "manifest.json").write_text(json.dumps(manifest))
    shutil.copy(copy / other, copy / "dev_bb" / "stray.parquet")
    proc = bench(tmp_path, "archive", "verify", env=env)
    assert proc.returncode == 1
    err = proc.stderr
    assert f"{rel}: sha256" in err
    assert f"{other}: " in err and "the manifest says" in err
    assert "dev_bb/stray.parquet: in" in err and "not in the manifest" in err


def _sample() -> tuple[list[str], list[str], list[int]]:
    """Cheap archived entries of dev_bb on two bbob tasks (no data folder needed), seeds 0 and 3.

    pycma and pymoo are in the sample because their adapters have fast paths for float boxes
    (decoding, no repair) that must not change a trial.
    """
    files = _shipped_files()
    opts = sorted(
        str(i["optimizer"])
        for i in files.values()
        if i["piece"] == "dev_bb"
        and i["optimizer"]
        in ("random_search", "optuna_tpe", "ng_cmaes", "hyperopt_tpe", "cma_es", "pymoo_nsga2")
    )
    trials, _ = read_archive(pieces=["dev_bb"], optimizers=opts[:1])
    tasks = sorted(t for t in trials["task"].astype(str).unique() if t.startswith("bbob/"))[:2]
    return opts, tasks, [0, 3]


#: The OpenBLAS kernel the entries built before runs recorded theirs (``host.blas``) re-run with:
#: checked on an AVX-512 machine, where ``Haswell`` and ``Zen`` reproduce every sampled trial and the
#: ``SkylakeX`` kernel OpenBLAS picks there makes CMA-ES diverge after 12-42 trials.
LEGACY_BLAS_KERNEL = "Haswell"


def _recorded_coretype(info: dict[str, Any]) -> str:
    """The OpenBLAS kernel an archive entry's runs computed with (the legacy one if not recorded)."""
    kernels = {openblas_coretype(m.get("blas")) for m in info.get("machine") or []} - {None}
    assert len(kernels) <= 1, f"{info.get('optimizer')}: runs made with several BLAS kernels {kernels}"
    return kernels.pop() if kernels else LEGACY_BLAS_KERNEL


@pytest.mark.slow
def test_archived_runs_rerun_bit_identically(bench, tmp_path: Path) -> None:
    """Bit for bit, with the BLAS kernel the archive recorded (``bench/blas_kernel.py``): linear algebra
    (CMA-ES's eigendecomposition) differs in the last bits between OpenBLAS kernels."""
    opts, tasks, seeds = _sample()
    assert len(opts) >= 3 and len(tasks) == 2
    files = _shipped_files()
    for o in opts:
        lib = files[f"dev_bb/{o}.parquet"].get("library_version") or {}
        changed = {k: v for k, v in lib.items() if installed_version(k) != v}
        if changed:  # archive status lists such an entry as stale; it is rebuilt, not compared
            pytest.skip(f"{o} was archived with {changed}, another version is installed here")
    if openblas_coretype(blas_kernel()) is None:
        pytest.skip(
            f"numpy's BLAS here is {blas_kernel()!r}, not OpenBLAS: the archive's kernel cannot be asked for"
        )
    groups: dict[str, list[str]] = {}
    for o in opts:
        groups.setdefault(_recorded_coretype(files[f"dev_bb/{o}.parquet"]), []).append(o)
    for coretype, members in sorted(groups.items()):
        proc = bench(
            tmp_path,
            "-m",
            "study=dev_bb",
            f"optimizer={','.join(members)}",
            f"task={','.join(tasks)}",
            f"seed={','.join(map(str, seeds))}",
            "output_dir=results",
            "progress=false",
            env={"OPENBLAS_CORETYPE": coretype},
        )
        assert proc.returncode == 0, proc.stderr
    fresh = load(tmp_path / "results" / "dev_bb")
    recorded = {
        str(m["host"].get("blas")).split()[-1] for m in load_runs(tmp_path / "results" / "dev_bb")["meta"]
    }
    assert recorded == set(groups)  # each run says which kernel it computed with
    archived, _ = read_archive(pieces=["dev_bb"], optimizers=opts)
    archived = archived[archived["task"].isin(tasks) & archived["seed"].isin(seeds)]
    assert len(fresh) == len(opts) * len(tasks) * len(seeds) * 50
    _assert_same_trials(archived.assign(study="dev_bb"), fresh)


def _assert_same_trials(a: pd.DataFrame, b: pd.DataFrame) -> None:
    key = ["task", "optimizer", "seed", "trial"]
    a = a.astype({c: str for c in ("task", "optimizer")}).sort_values(key).reset_index(drop=True)
    b = b.astype({c: str for c in ("task", "optimizer")}).sort_values(key).reset_index(drop=True)
    assert len(a) == len(b) > 0
    for col in (
        "task",
        "optimizer",
        "seed",
        "trial",
        "run_id",
        "family",
        "task_type",
        "task_kind",
        "objectives",
    ):
        assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col
    for col in ("value", "fidelity", "cost", "budget_used", "sim_time", "optimum"):
        # bit for bit: the same float64 patterns, NaN where NaN
        assert np.array_equal(a[col].to_numpy().view(np.int64), b[col].to_numpy().view(np.int64)), col
    assert all(np.array_equal(x, y) for x, y in zip(a["values"], b["values"], strict=True))
    assert (a["minimize"] == b["minimize"]).all() and (
        a["run_status"].astype(str) == b["run_status"].astype(str)
    ).all()


def _private(tmp_path: Path) -> dict[str, str]:
    return {"NXMBENCH_ARCHIVE_DIR": str(tmp_path / "archive")}


@pytest.mark.slow
def test_build_adds_one_optimizer_by_running_only_its_sweep(bench, tmp_path: Path) -> None:
    env = _private(tmp_path)
    first = bench(tmp_path, "archive", "build", "piece=default", "optimizer=random_search", "work=w", env=env)
    assert first.returncode == 0, first.stderr
    assert "packed default/random_search.parquet: 140 runs" in first.stdout
    again = bench(tmp_path, "archive", "build", "piece=default", "optimizer=random_search", "work=w", env=env)
    assert again.returncode == 0 and "up to date" in again.stdout
    both = bench(
        tmp_path, "archive", "build", "piece=default", "optimizer=random_search,hyperband", "work=w", env=env
    )
    assert both.returncode == 0, both.stderr
    sweeps = [ln for ln in both.stdout.splitlines() if ln.startswith("  python -m bench")]
    assert len(sweeps) == 1 and "optimizer=hyperband " in sweeps[0]  # random_search is not re-run
    assert "packed default/hyperband.parquet: 20 runs" in both.stdout  # its 2 multi-fidelity tasks
    manifest = json.loads((tmp_path / "archive" / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["default/hyperband.parquet", "default/random_search.parquet"]
    assert manifest["files"]["default/hyperband.parquet"]["command"] == sweeps[0].strip()
    st = bench(tmp_path, "archive", "status", "piece=default", "optimizer=random_search,hyperband", env=env)
    assert st.returncode == 0 and "2 fresh" in st.stdout
    assert bench(tmp_path, "archive", "verify", env=env).returncode == 0
    # The packed files hold exactly the runs of the build's study folder, bit for bit: values,
    # fidelities, costs, budgets, simulated times (rebuilt from the costs), objectives.
    packed, _ = read_archive(folder=tmp_path / "archive")
    raw = load(tmp_path / "w" / "default")
    assert len(packed) == len(raw) and len(raw[raw["optimizer"] == "random_search"]) == 140 * 100
    _assert_same_trials(packed, raw)


@pytest.mark.slow
def test_a_library_version_change_makes_an_entry_stale_and_build_reruns_it(bench, tmp_path: Path) -> None:
    env = _private(tmp_path)
    assert (
        bench(
            tmp_path, "archive", "build", "piece=default", "optimizer=random_search", "work=w", env=env
        ).returncode
        == 0
    )
    path = tmp_path / "archive" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["files"]["default/random_search.parquet"]["library_version"] = {"numpy": "0.0.1"}
    path.write_text(json.dumps(manifest))
    st = bench(tmp_path, "archive", "status", "piece=default", "optimizer=random_search", env=env)
    assert st.returncode == 1
    assert "stale" in st.stdout and "numpy 0.0.1 → " in st.stdout
    rebuilt = bench(
        tmp_path, "archive", "build", "piece=default", "optimizer=random_search", "work=w", env=env
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "moved 140 runs of the stale entry default/random_search aside" in rebuilt.stdout
    assert list((tmp_path / "w" / "default" / "superseded").glob("*/runs/*.parquet"))
    st = bench(tmp_path, "archive", "status", "piece=default", "optimizer=random_search", env=env)
    assert st.returncode == 0 and "1 fresh" in st.stdout


def test_a_task_revision_change_makes_entries_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    files = _shipped_files()
    opt = next(str(i["optimizer"]) for i in files.values() if i["piece"] == "dev_bb")
    real = planning.expected_entries

    def revised(pieces=None, optimizers=None):
        entries, left = real(pieces, optimizers)
        for e in entries.values():
            e.specs = [
                dataclasses.replace(s, task_revision="fixed-2027") if s.task == e.specs[0].task else s
                for s in e.specs
            ]
        return entries, left

    monkeypatch.setattr(status, "expected_entries", revised)
    (row,) = status.archive_status(["dev_bb"], [opt])
    assert row.state == "stale"
    assert any(r.startswith("task revision changed: ") for r in row.reasons), row.reasons


def test_seed_groups_and_bad_input(bench, tmp_path: Path) -> None:
    assert seed_groups(["skopt_gp", "random_search"]) == {
        tuple(range(3)): ["skopt_gp"],
        tuple(range(10)): ["random_search"],
    }
    for args, expect in [
        (["status", "piece=dev_xx"], "piece='dev_xx' is invalid: use one or more of dev_bb"),
        (["build", "optimizer=nope"], "optimizer='nope' is invalid"),
        (["verify", "piece=dev_bb"], "unknown setting 'piece'"),
        (["explode"], "unknown archive command 'explode'"),
        (["status", "--force"], "unknown flag '--force'"),
        ([], "python -m bench archive needs a command: one of status, verify, build, pack"),
        (["pack", "work=/proc/nonexistent"], "work='/proc/nonexistent' does not exist: give the folder"),
        (["pack", f"work={Path(__file__)}"], f"work='{Path(__file__)}' is a file, not a folder"),
    ]:
        proc = bench(tmp_path, "archive", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], (args, lines)
        assert not proc.stdout, (args, proc.stdout)
    assert not (tmp_path / "results").exists()
    for flag in ("--help", "-h", "help"):  # asked for: the usage, on stdout
        proc = bench(tmp_path, "archive", flag)
        assert (
            proc.returncode == 0
            and proc.stdout.startswith("usage: python -m bench archive")
            and not proc.stderr
        )


def test_build_dry_run_prints_the_sweeps_and_runs_nothing(bench, tmp_path: Path) -> None:
    env = _private(tmp_path)
    proc = bench(
        tmp_path,
        "archive",
        "build",
        "piece=dev_bb",
        "optimizer=random_search,skopt_gp",
        "--dry-run",
        "n_jobs=16",
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    sweep = "study=dev_bb name=dev_bb optimizer=random_search study.seeds=10 output_dir=results/archive"
    assert f"python -m bench -m {sweep} progress=false n_jobs=16" in proc.stdout
    assert "optimizer=skopt_gp study.seeds=3" in proc.stdout
    assert not (tmp_path / "results").exists() and not (tmp_path / "archive").exists()


def test_status_without_the_data_a_piece_needs_says_unchecked(bench, tmp_path: Path) -> None:
    files = _shipped_files()
    if not any(i["piece"] == "dev_mf" for i in files.values()):
        pytest.skip("the archive holds no dev_mf entries")
    empty = tmp_path / "no_yahpo"
    empty.mkdir()
    proc = bench(tmp_path, "archive", "status", "piece=dev_mf", env={"NXMBENCH_YAHPO_DATA": str(empty)})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("unchecked  dev_mf    cannot plan the piece here: task family 'yahpo'")
    assert "orphaned" not in proc.stdout and lines[-1].endswith(" unchecked")


def test_build_refuses_sweep_overrides_that_are_bad_or_change_what_is_measured(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``archive build`` hands KEY=VALUE overrides to its sweeps: a bad value is refused before
    anything runs (also when nothing is left to build), and so is a setting that would change what
    the entries measure (budget, seeds, tasks, optimizers, folder), in one line naming it."""
    from bench.archive.command import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NXMBENCH_ARCHIVE_DIR", str(tmp_path / "archive"))  # nothing is fresh there
    for args, expect in [
        (["piece=test_bb", "n_jobs=abc"], "n_jobs='abc' is invalid"),
        (["piece=dev_bb", "n_jobs=abc", "--dry-run"], "n_jobs='abc' is invalid"),
        (["piece=dev_bb", "backend=nope", "--dry-run"], "nope"),
        (["piece=dev_bb", "n_trials=20", "--dry-run"], "'n_trials=20' would change what the archive"),
        (["piece=dev_bb", "study.seeds=10", "--dry-run"], "'study.seeds=10' would change"),
        (["piece=dev_bb", "+seed=5", "--dry-run"], "'+seed=5' would change"),
        (["output_dir=/tmp/elsewhere", "--dry-run"], "work=DIR"),
    ]:
        assert main(["build", *args]) == 2, args
        out, err = capsys.readouterr()
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], (args, lines)
        assert not out.strip(), (args, out)
    assert not (tmp_path / "results").exists()
    assert main(["build", "piece=dev_bb", "n_jobs=2", "backend=loky", "plan_timeout=900", "--dry-run"]) == 0
    assert "n_jobs=2 backend=loky plan_timeout=900" in capsys.readouterr().out


def test_build_refuses_a_bad_sweep_override_from_the_command_line(bench, tmp_path: Path) -> None:
    proc = bench(tmp_path, "archive", "build", "piece=test_bb", "n_jobs=abc", env=_private(tmp_path))
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == ["error: n_jobs='abc' is invalid: use a positive worker count, or -1 for all cores"]
    assert not (tmp_path / "results").exists()
