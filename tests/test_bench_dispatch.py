"""How many workers a sweep gets and how its runs are batched (bench/dispatch.py), and that a
worker dying in the middle of a batch loses no run and runs none twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import dispatch, results
from bench import supervisor as sup
from bench.config import OptimizerChoice, StudyConfig
from bench.parallel import run_all
from bench.plan import make_plan
from bench.spec import RunSpec
from optimizers.base import Budget


def _specs(optimizer: str, n: int, n_trials: float = 10) -> list[RunSpec]:
    return [
        RunSpec(
            study="d",
            task="bbob/f01/d02/i01",
            optimizer=optimizer,
            optimizer_target="optimizers.random_search.RandomSearch",
            optimizer_params={},
            seed=s,
            budget=Budget(n_trials),
        )
        for s in range(n)
    ]


@pytest.fixture
def eight_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)


def test_the_estimate_reads_the_optimizers_cost_per_trial() -> None:
    cheap, gp, vague = _specs("random_search", 1)[0], _specs("skopt_gp", 1)[0], _specs("skopt_gp_ei", 1)[0]
    assert dispatch.estimated_seconds(cheap) == pytest.approx(
        dispatch.RUN_OVERHEAD_S + 10 * dispatch.CHEAP_TRIAL_S
    )
    assert dispatch.estimated_seconds(gp) == pytest.approx(dispatch.RUN_OVERHEAD_S + 10 * 0.73)
    assert dispatch.estimated_seconds(vague) == pytest.approx(dispatch.RUN_OVERHEAD_S + 10 * 0.5)  # no number
    variant = _specs("skopt_gp@n_initial_points=3", 1)[0]
    assert dispatch.estimated_seconds(variant) == dispatch.estimated_seconds(gp)
    assert dispatch.estimated_seconds(_specs("someone_elses_plugin", 1)[0]) == dispatch.estimated_seconds(
        cheap
    )


def test_auto_workers_pays_a_worker_only_for_enough_work(eight_cores: None) -> None:
    assert dispatch.usable_cores() == 8
    assert dispatch.auto_workers(_specs("random_search", 40), -1) == 1  # 40 × 25 ms: one worker
    assert dispatch.auto_workers(_specs("random_search", 400, 1000), -1) == 8  # 400 × 2 s
    assert dispatch.auto_workers(_specs("random_search", 3, 1000), -1) == 3  # never more than runs
    assert dispatch.auto_workers(_specs("skopt_gp", 2, 50), -1) == 2  # two expensive runs
    assert dispatch.auto_workers(_specs("random_search", 400, 1000), -3) == 6  # all cores but two
    # work for about two workers: 5 runs × 0.8 s = 4 s
    assert dispatch.auto_workers(_specs("random_search", 5, 400), -1) == 2


def test_a_positive_n_jobs_is_taken_as_given(eight_cores: None) -> None:
    assert dispatch.auto_workers(_specs("random_search", 40), 4) == 4
    assert dispatch.auto_workers(_specs("random_search", 2), 4) == 2


def test_batches_keep_order_cover_every_run_once_and_balance_the_workers() -> None:
    specs = _specs("random_search", 100)  # 25 ms each
    for workers in (1, 2, 8):
        out = dispatch.batches(specs, workers)
        assert [s for b in out for s in b] == specs
        assert len(out) >= min(len(specs), dispatch.BATCHES_PER_WORKER * workers)
        assert all(sum(map(dispatch.estimated_seconds, b)) <= dispatch.BATCH_S + 0.03 for b in out)
    expensive = _specs("skopt_gp", 5, 50)
    assert [len(b) for b in dispatch.batches(expensive, 2)] == [1] * 5  # an expensive run goes alone
    assert dispatch.batches([], 3) == []


@pytest.mark.slow
def test_a_worker_dying_mid_batch_loses_no_run_and_runs_none_twice(
    plugins: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One batch [ok, ok, segv, ok, ok] on one worker: the runs before the death keep the files
    they wrote (same attempt), the death is recorded as ``died``, the runs after it run once."""
    study = StudyConfig(
        "deaths",
        (OptimizerChoice("random_search", "optimizers.random_search.RandomSearch"),),
        ("deadly/ok",),
        (0, 1, 2, 3),
        Budget(5),
    )
    ok = make_plan(study).specs
    deadly = make_plan(StudyConfig("deaths", study.optimizers, ("deadly/segv",), (0,), Budget(5))).specs
    specs = [*ok[:2], *deadly, *ok[2:]]
    monkeypatch.setattr(sup, "batches", lambda todo, workers: [list(todo)])
    seen: list[str] = []
    real = sup._finished_in_this_sweep

    def spy(spec: RunSpec, output_dir: Path, before: dict) -> object:
        outcome = real(spec, output_dir, before)
        if outcome is not None:
            seen.append(spec.run_id)
        return outcome

    monkeypatch.setattr(sup, "_finished_in_this_sweep", spy)
    sweep = run_all(specs, tmp_path, n_jobs=1, progress=False)
    assert sorted(o.run_id for o in sweep.outcomes) == sorted(s.run_id for s in specs)  # one each
    assert sorted(seen) == sorted(s.run_id for s in ok[:2])  # recovered from their files, not re-run
    runs = results.load_runs(tmp_path / "deaths").set_index("run_id")
    assert runs.loc[deadly[0].run_id, "status"] == "died"
    assert all(runs.loc[s.run_id, "status"] == "ok" for s in ok)
    attempts = {s.run_id: runs.loc[s.run_id, "meta"]["attempt"] for s in ok[:2]}
    assert all(o.path for o in sweep.outcomes)
    # a later sweep has nothing to re-run but the death, and leaves the finished files alone
    again = run_all(specs, tmp_path, n_jobs=1, progress=False)
    assert again.skipped == len(ok)
    runs = results.load_runs(tmp_path / "deaths").set_index("run_id")
    assert {k: runs.loc[k, "meta"]["attempt"] for k in attempts} == attempts
    leftovers = [p.name for p in (tmp_path / "deaths" / "runs").iterdir() if p.name.startswith(".")]
    assert not leftovers
