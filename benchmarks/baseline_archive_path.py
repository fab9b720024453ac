"""The researcher's path with the baseline archive, against re-running every baseline (target ≥ 20×,
report ≤ 30 s).

Path A (with the archive), as a user types it, in a fresh folder: run a new optimizer (a user-written
one: one file + one YAML in a config folder) on the dev subset of a task type at 10 seeds, then the
report with the archived baselines::

    python -m bench -m study=dev_bb optimizer=half_local study.seeds=10
    python -m analysis report results/dev_bb --baselines archive

Path B (without it): the same report after running the new optimizer AND every baseline the archive
holds for that piece, each at its archived seeds (one sweep per seed group, as the archive was built),
then ``python -m analysis report`` without ``--baselines``. Path B is measured for the seed groups
listed in ``--rerun`` (default: every group whose archived runs took under ``--max-rerun`` CPU
seconds); the others (the expensive optimizers: hours on 2 cores) are counted with the CPU seconds
the archive's manifest records for their runs, divided by the workers — labelled as recorded, not
measured here.

Reported: wall seconds of each step (min and median over ``--repeats`` for path A; path B once), the
ratio B / A, and the report step alone.

Run: ``python benchmarks/baseline_archive_path.py [--piece dev_bb] [--repeats 3] [--n-jobs 2]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.archive.build import sweep_argv  # noqa: E402
from bench.archive.pieces import Piece, piece, seed_groups  # noqa: E402
from bench.archive.store import read_manifest  # noqa: E402

USER_OPTIMIZER = '''
"""A user's optimizer: random search that samples around the best point half of the time."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from ConfigSpace import Configuration

from optimizers.base import Optimizer, Problem, Trial
from tasks.base import Result


class HalfLocal(Optimizer):
    supports: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, problem: Problem, seed: int, **params: Any) -> None:
        super().__init__(problem, seed, **params)
        self.rng = np.random.default_rng(seed)
        self.space = problem.space
        self.space.seed(seed)
        self.best: tuple[float, Configuration] | None = None
        self.sign = 1.0 if problem.objectives[0].minimize else -1.0

    def ask(self) -> Trial:
        if self.best is None or self.rng.random() < 0.5:
            return Trial(dict(self.space.sample_configuration()))
        x = np.clip(self.best[1].get_array() + self.rng.normal(0, 0.05, len(self.space)), 0, 1)
        return Trial(dict(Configuration(self.space, vector=x)))

    def tell(self, trial: Trial, result: Result) -> None:
        y = self.sign * result.values[0]
        if self.best is None or y < self.best[0]:
            self.best = (y, Configuration(self.space, values=trial.config))
'''


def _setup(folder: Path) -> dict[str, str]:
    (folder / "half_local.py").write_text(USER_OPTIMIZER)
    conf = folder / "conf" / "optimizer"
    conf.mkdir(parents=True)
    (conf / "half_local.yaml").write_text("_target_: half_local.HalfLocal\nparams: {}\n")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "NXMBENCH_CONFIG_PATH": str(folder / "conf"),
        "MPLBACKEND": "Agg",
    }
    return env


def _timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return wall


def _sweep(p: Piece, optimizers: list[str], n_seeds: int, n_jobs: int) -> list[str]:
    """The sweep the archive builds the piece with (``bench.archive.build.sweep_argv``), here."""
    return [
        sys.executable,
        "-m",
        "bench",
        *sweep_argv(p.overrides(), optimizers, n_seeds, "results"),
        f"n_jobs={n_jobs}",
    ]


def path_a(name: str, n_jobs: int) -> tuple[float, float]:
    p = piece(name)
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        env = _setup(folder)
        run = _timed(_sweep(p, ["half_local"], 10, n_jobs), folder, env)
        report = _timed(
            [sys.executable, "-m", "analysis", "report", f"results/{name}", "--baselines", "archive"],
            folder,
            env,
        )
    return run, report


def path_b(name: str, n_jobs: int, max_rerun: float) -> tuple[float, float, float, list[str]]:
    """(measured sweep seconds, report seconds, recorded seconds of the groups not re-run, their ids)."""
    files = {k: v for k, v in read_manifest()["files"].items() if v["piece"] == name}
    opts = sorted(str(v["optimizer"]) for v in files.values())
    cpu = {str(v["optimizer"]): float(v["run_seconds"]) for v in files.values()}
    p = piece(name)
    measured = recorded = 0.0
    skipped: list[str] = []
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        env = _setup(folder)
        measured += _timed(_sweep(p, ["half_local"], 10, n_jobs), folder, env)
        for seeds, group in seed_groups(opts).items():
            if sum(cpu[o] for o in group) > max_rerun:
                recorded += sum(cpu[o] for o in group) / n_jobs
                skipped += group
                continue
            measured += _timed(_sweep(p, group, len(seeds), n_jobs), folder, env)
        # The report of all of them: seeds differ between groups, so one report per seed count
        # is not needed for the comparison; the report of the 10-seed ones is what is timed.
        report = _timed(
            [sys.executable, "-m", "analysis", "report", f"results/{name}", "--allow-mixed"], folder, env
        )
    return measured, report, recorded, skipped


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--piece", default="dev_bb")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument(
        "--max-rerun", type=float, default=1800.0, help="CPU seconds above which a group is not re-run"
    )
    args = ap.parse_args()
    a_runs, a_reports = [], []
    for _ in range(args.repeats):
        run, report = path_a(args.piece, args.n_jobs)
        a_runs.append(run)
        a_reports.append(report)
        print(f"path A: new optimizer {run:.1f} s, report with the archive {report:.1f} s", flush=True)
    measured, report_b, recorded, skipped = path_b(args.piece, args.n_jobs, args.max_rerun)
    a_total = [r + s for r, s in zip(a_runs, a_reports, strict=True)]
    b_total = measured + report_b + recorded
    print(
        f"path B: sweeps measured {measured:.1f} s, report {report_b:.1f} s"
        + (f", recorded {recorded:.0f} s for {', '.join(skipped)} (not re-run)" if skipped else "")
    )
    print(
        "| piece | path A: min / median (s) | report alone: min / median (s) | path B (s) | B / A (median) |"
    )
    print("|---|---|---|---|---|")
    print(
        f"| {args.piece} | {min(a_total):.1f} / {statistics.median(a_total):.1f} | "
        f"{min(a_reports):.1f} / {statistics.median(a_reports):.1f} | "
        f"{b_total:.0f} ({measured + report_b:.0f} measured + {recorded:.0f} recorded) | "
        f"{b_total / statistics.median(a_total):.1f}× |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
