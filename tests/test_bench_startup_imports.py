"""Start-up: a single run imports only what it needs, and deferring scipy.stats changes nothing.

ConfigSpace imports scipy.stats (~0.5 s, ~70 MB) for its Beta and Normal hyperparameters only;
:mod:`tasks.lazy_scipy_stats` defers it until one is used. A single ``python -m bench`` run
summarizes itself without the analysis or pandas. Each check runs in a fresh interpreter, since
this test process has long imported all of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Samples of every ConfigSpace hyperparameter kind that needs scipy.stats, and of the others.
SAMPLE = r"""
import json, sys
import tasks.lazy_scipy_stats as lazy
from ConfigSpace import Beta, ConfigurationSpace, Float, Integer, Normal
deferred_before = lazy.deferred_names()
stats_before = "scipy.stats" in sys.modules
space = ConfigurationSpace(seed=7)
space.add([
    Float("beta_f", (0.0, 1.0), distribution=Beta(2.0, 5.0)),
    Integer("beta_i", (1, 20), distribution=Beta(3.0, 2.0)),
    Float("normal_f", (-3.0, 3.0), distribution=Normal(0.5, 1.0)),
    Integer("normal_i", (0, 50), distribution=Normal(20.0, 5.0)),
    Float("uniform_f", (1e-4, 1.0), log=True),
    Integer("uniform_i", (1, 9)),
])
configs = [dict(c) for c in space.sample_configuration(40)]
pdf = [float(v) for v in space["normal_f"].pdf_values([0.1, 0.9])]
print(json.dumps({"configs": configs, "pdf": pdf, "deferred_before": deferred_before,
                  "stats_before": stats_before, "deferred_after": lazy.deferred_names(),
                  "stats_after": "scipy.stats" in sys.modules}, default=float))
"""


def _python(code: str, **env: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", "import tasks\n" + code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_configspace_is_imported_without_scipy_stats_and_samples_exactly_as_with_it() -> None:
    lazy = _python(SAMPLE)
    eager = _python(SAMPLE, NXMBENCH_EAGER_SCIPY_STATS="1")
    # deferred: nothing of scipy.stats until the first Beta hyperparameter; then all of it
    assert (
        not lazy["stats_before"]
        and "ConfigSpace.hyperparameters.beta_float.spbeta" in lazy["deferred_before"]
    )
    assert lazy["stats_after"] and lazy["deferred_after"] == []
    # the same scipy objects do the same work: identical samples and densities
    assert eager["stats_before"] and eager["deferred_before"] == []
    assert lazy["configs"] == eager["configs"] and lazy["pdf"] == eager["pdf"]


def test_a_configspace_release_the_stand_in_cannot_serve_is_imported_as_usual() -> None:
    """When ConfigSpace takes something the stand-in cannot stand for (a later release), defer()
    forgets the half-imported modules and imports ConfigSpace with the real scipy.stats."""
    code = (
        "import os, sys\n"
        "import tasks.lazy_scipy_stats as lazy\n"
        "assert 'ConfigSpace' not in sys.modules  # the package's defer() was switched off\n"
        "del os.environ[lazy.ENV]\n"
        "def refuse(self, name):\n"
        "    raise ImportError(f'cannot import name {name!r}')\n"
        "lazy._StandIn.__getattr__ = refuse\n"
        "lazy.defer()\n" + SAMPLE
    )
    got = _python(code, NXMBENCH_EAGER_SCIPY_STATS="1")
    eager = _python(SAMPLE, NXMBENCH_EAGER_SCIPY_STATS="1")
    assert got["stats_before"] and got["deferred_before"] == []
    assert got["configs"] == eager["configs"] and got["pdf"] == eager["pdf"]


@pytest.mark.parametrize("entry", ["bench.__main__", "bench.plan", "bench.loop", "tasks.bbob"])
def test_the_runner_imports_neither_scipy_stats_nor_pandas_nor_the_analysis(entry: str) -> None:
    code = (
        f"import json, sys, {entry}\n"
        "print(json.dumps([m for m in ('scipy.stats', 'pandas', 'analysis') if m in sys.modules]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_a_single_run_as_typed_imports_neither_scipy_stats_nor_pandas(tmp_path: Path) -> None:
    """``python -m bench`` on one run: planned, run in-process, written and summarized without them
    (``-X importtime`` lists every module the process imported)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "bench",
            "optimizer=random_search",
            "task=bbob/f01/d02/i01",
            "n_trials=10",
            f"output_dir={tmp_path}",
            "progress=false",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "best f = " in proc.stdout and "10 trials" in proc.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "ConfigSpace" in imported and "pyarrow.parquet" in imported
    assert not {"scipy.stats", "pandas", "analysis"} & imported
