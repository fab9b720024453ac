"""Cost of the study-folder check (bench/study_folder.py) on a folder of many small run files.

Writes ``--runs`` run files of 5 trials each (1 optimizer x runs/10 tasks x 10 seeds) into a
temporary study folder, then times ``prepare_study_folder``: the first call (every footer read,
the cache written), a cached one with the same plan, a narrower and a wider plan, and the refusal
of a changed ``n_trials``. Recorded in docs/results-schema.md (about 1.6 s, 0.5 s and 0.4 s for
10,000 files on 2 cores).

    python benchmarks/bench_study_folder_check.py [--runs 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

# Run from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.config import OptimizerChoice, StudyConfig
from bench.plan import Plan
from bench.results import TrialRecorder, write_run
from bench.spec import RunSpec
from bench.study_folder import StudyFolderConflict, prepare_study_folder
from optimizers.base import Budget
from tasks.base import Objective

RS = OptimizerChoice("random_search", "optimizers.random_search.RandomSearch")


def _plan(tasks: Sequence[str], seeds: Sequence[int], n_trials: float = 5) -> tuple[Plan, StudyConfig]:
    # Task ids need not exist: the check reads specs, it never builds a task.
    study = StudyConfig("big", (RS,), tuple(tasks), tuple(seeds), Budget(n_trials))
    specs = [
        RunSpec(
            study="big",
            task=t,
            optimizer=RS.id,
            optimizer_target=RS.target,
            optimizer_params={},
            seed=s,
            budget=Budget(n_trials),
        )
        for t in tasks
        for s in seeds
    ]
    return Plan(specs, [], list(tasks)), study


def _write_folder(study_dir: Path, plan: Plan) -> None:
    for spec in plan.specs:
        rec = TrialRecorder()
        for k in range(5):
            rec.add({"x": float(k)}, None, (float(k),), 0.0, float(k + 1), 0.0, 0.001, 0.0005)
        table = rec.table(
            study="big",
            run_id=spec.run_id,
            task=spec.task,
            family="bbob",
            task_type="bb",
            task_kind="synthetic",
            optimizer=spec.optimizer,
            seed=spec.seed,
            optimum=None,
            objectives=[Objective("f")],
            run_status="ok",
        )
        write_run(
            study_dir / "runs" / f"{spec.run_id}.parquet",
            table,
            {
                "run_id": spec.run_id,
                "study": "big",
                "spec": spec.to_dict(),
                "fingerprint": spec.fingerprint,
                "status": "ok",
                "error": None,
                "n_trials": 5,
            },
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10_000)
    args = p.parse_args(argv)
    tasks = [f"bbob/f{t % 24 + 1:02d}/d02/i{t:05d}" for t in range(max(1, args.runs // 10))]
    with tempfile.TemporaryDirectory() as tmp:
        study_dir = Path(tmp) / "big"
        t0 = time.perf_counter()
        _write_folder(study_dir, _plan(tasks, range(10))[0])
        print(f"wrote {len(tasks) * 10} run files in {time.perf_counter() - t0:.1f} s")
        cases = [
            ("first check (reads every footer)", _plan(tasks, range(10))),
            ("same plan, cached", _plan(tasks, range(10))),
            ("narrower plan (1 seed), cached", _plan(tasks, [0])),
            ("wider plan (11 seeds), cached", _plan(tasks, range(11))),
        ]
        for label, (plan, study) in cases:
            t0 = time.perf_counter()
            prepare_study_folder(study_dir, plan, study)
            print(f"{label}: {time.perf_counter() - t0:.2f} s")
        plan, study = _plan(tasks, range(10), n_trials=6)
        t0 = time.perf_counter()
        try:
            prepare_study_folder(study_dir, plan, study)
        except StudyFolderConflict:
            print(f"refusal of n_trials 5 -> 6: {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
