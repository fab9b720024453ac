"""A plugin package installed by pip adds an optimizer, a task family and config files through
entry points, with no environment variable and no edit of this repository; ``python -m bench
check`` runs the harness on them, and a study with ``n_jobs=2`` runs them in worker processes.

How the plugin is installed, offline and in a few seconds: a throwaway virtual environment
(``python -m venv --without-pip --system-site-packages``) gets a ``.pth`` file that adds the
repository root and this interpreter's site-packages folders with ``site.addsitedir`` (so their
own ``.pth`` files, an editable install of the project among them, are processed too). The
project, its dependencies, pip and setuptools are then importable there, nothing is copied or
downloaded. ``--system-site-packages`` alone would not do: from inside a virtual environment it
exposes the base interpreter's packages, not this environment's. The plugin is installed into
the new environment's own site-packages by that environment's interpreter,
``python -m pip install --no-deps --no-build-isolation PLUGIN`` (a real install with its
``entry_points.txt``, found by :mod:`importlib.metadata` as any installed package's), and every
command runs with that interpreter and without any ``NXMBENCH_*`` variable: the plugin is found
by discovery alone, in the main process and in the loky workers.
"""

from __future__ import annotations

import importlib.util
import os
import re
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DIST = "nxm-toy-plugin"


def _can_build_offline() -> bool:
    """pip and setuptools are here, and setuptools can make a wheel: from 70.1 on by itself,
    before with the ``wheel`` package (in the ``test`` extra)."""
    if importlib.util.find_spec("pip") is None or importlib.util.find_spec("setuptools") is None:
        return False
    from importlib.metadata import version

    major, minor = (int(p) for p in version("setuptools").split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not _can_build_offline(),
        reason="building the plugin package offline needs pip and "
        "setuptools >= 70.1, or an older setuptools and wheel (pip install -e '.[test]')",
    ),
]

PLUGIN: dict[str, str] = {
    "pyproject.toml": f"""
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{DIST}"
        version = "0.1.0"
        requires-python = ">=3.11"
        dependencies = ["nxm-bench"]

        [project.entry-points."nxm_bench.optimizers"]
        coord_search = "nxm_toy_plugin.coordinate:CoordinateSearch"
        toy_out_of_bounds = "nxm_toy_plugin.coordinate:OutOfBounds"

        [project.entry-points."nxm_bench.task_families"]
        toyfuncs = "nxm_toy_plugin.functions"
        toybroken = "nxm_toy_plugin.not_there"

        [project.entry-points."nxm_bench.config"]
        nxm_toy_plugin = "nxm_toy_plugin.conf"

        [tool.setuptools]
        packages = ["nxm_toy_plugin"]

        [tool.setuptools.package-data]
        nxm_toy_plugin = ["conf/*/*.yaml"]
    """,
    "nxm_toy_plugin/__init__.py": '"""A toy nxm-bench plugin: an optimizer, three functions."""\n',
    "nxm_toy_plugin/coordinate.py": '''
        """Coordinate search on the unit cube of a numeric space."""

        from __future__ import annotations

        from typing import Any, ClassVar

        import numpy as np
        from ConfigSpace import Configuration, ConfigurationSpace
        from ConfigSpace.hyperparameters import NumericalHyperparameter

        from optimizers.base import Optimizer, Problem, Trial
        from tasks.base import Result


        class CoordinateSearch(Optimizer):
            """Steps up and down along each coordinate of the incumbent in turn (in the unit cube
            ConfigSpace maps the space to); halves the step after a sweep that found nothing better."""

            supports: ClassVar[frozenset[str]] = frozenset()

            def __init__(self, problem: Problem, seed: int, step: float = 0.25, **params: Any) -> None:
                super().__init__(problem, seed, step=step, **params)
                self.rng = np.random.default_rng(seed)
                self.step = float(step)
                self.sign = 1.0 if problem.objectives[0].minimize else -1.0
                self.best_u = self.rng.random(len(problem.space))  # the seed picks the start
                self.best_y = np.inf
                self.improved = True
                self.queue: list[np.ndarray] = [self.best_u]

            @classmethod
            def check_space(cls, space: ConfigurationSpace) -> str | None:
                if space.conditions or space.forbidden_clauses:
                    return "CoordinateSearch moves in a flat box: no conditions or forbidden clauses"
                if not all(isinstance(hp, NumericalHyperparameter) for hp in space.values()):
                    return "CoordinateSearch needs numeric hyperparameters only"
                return None

            def ask(self) -> Trial:
                if not self.queue:
                    self.step = self.step if self.improved else self.step / 2
                    self.improved = False
                    for i in self.rng.permutation(len(self.best_u)):
                        for delta in (self.step, -self.step):
                            u = self.best_u.copy()
                            u[i] = min(1.0, max(0.0, u[i] + delta))
                            self.queue.append(u)
                u = self.queue.pop(0)
                return Trial(dict(Configuration(self.problem.space, vector=u)), meta={"u": u})

            def tell(self, trial: Trial, result: Result) -> None:
                y = self.sign * result.values[0]
                if y < self.best_y:
                    self.best_y, self.best_u, self.improved = y, trial.meta["u"], True


        class OutOfBounds(CoordinateSearch):
            """A bug on purpose: its first coordinate leaves the space (the check must say so)."""

            def ask(self) -> Trial:
                trial = super().ask()
                name, hp = next(iter(self.problem.space.items()))
                trial.config[name] = hp.upper + 1
                return trial
    ''',
    "nxm_toy_plugin/functions.py": '''
        """Three test functions: the sphere and Rosenbrock in 2-D, a mixed integer quadratic."""

        from __future__ import annotations

        from collections.abc import Mapping
        from typing import Any

        from ConfigSpace import ConfigurationSpace, Float, Integer

        from tasks.base import Objective, Result, Task, TaskFamily, TaskMeta

        FUNCTIONS = {
            "sphere": lambda c: c["x0"] ** 2 + c["x1"] ** 2,
            "rosenbrock": lambda c: (1 - c["x0"]) ** 2 + 100 * (c["x1"] - c["x0"] ** 2) ** 2,
            "intquad": lambda c: (c["n"] - 3) ** 2 + (c["x0"] - 0.5) ** 2,
        }


        class ToyTask(Task):
            def __init__(self, task_id: str) -> None:
                name = task_id.split("/", 1)[1]
                self.id = task_id
                self.space = ConfigurationSpace(seed=0)
                if name == "intquad":
                    self.space.add(Integer("n", (0, 10)), Float("x0", (-2.0, 2.0)))
                else:
                    self.space.add(Float("x0", (-2.0, 2.0)), Float("x1", (-2.0, 2.0)))
                self.objectives = (Objective("loss"),)
                self.fidelity = None
                self.meta = TaskMeta(kind="synthetic", optimum=(0.0,))  # the rest follows from the task
                self._name = name

            def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None,
                         seed: int = 0) -> Result:
                return Result((float(FUNCTIONS[self._name](config)),), cost=0.001)


        class ToyFunctions(TaskFamily):
            name = "toyfuncs"
            description = "sphere, Rosenbrock and a mixed integer quadratic (a plugin's family)"

            def ids(self) -> list[str]:
                return [f"toyfuncs/{name}" for name in FUNCTIONS]

            def make(self, task_id: str) -> Task:
                if task_id not in self.ids():
                    raise ValueError(f"unknown toyfuncs task {task_id!r}: use one of {self.ids()}")
                return ToyTask(task_id)


        def families() -> list[TaskFamily]:
            return [ToyFunctions()]
    ''',
    "nxm_toy_plugin/conf/optimizer/coord_search_fine.yaml": """
        _target_: nxm_toy_plugin.coordinate.CoordinateSearch
        description: coordinate search with small steps (shipped by the toy plugin)
        params:
          step: 0.05
    """,
    "nxm_toy_plugin/conf/taskset/toyfuncs_all.yaml": """
        tasks: ["toyfuncs/*"]
    """,
    "nxm_toy_plugin/conf/study/toy_smoke.yaml": """
        name: toy_smoke
        description: the toy plugin's coordinate search against random search on its functions
        optimizers: [coord_search, random_search]
        taskset: toyfuncs_all
        seeds: 2
        n_trials: 10
    """,
}


def _site_dirs() -> list[str]:
    """This interpreter's site-packages folders (the project and its dependencies are there)."""
    user = [site.getusersitepackages()] if site.ENABLE_USER_SITE else []
    return [d for d in dict.fromkeys([*site.getsitepackages(), *user]) if Path(d).is_dir()]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the toy plugin pip-installed; its interpreter."""
    root = tmp_path_factory.mktemp("plugin")
    source = root / "src"
    for rel, text in PLUGIN.items():
        path = source / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    env_dir = root / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(env_dir)],
        check=True,
        timeout=120,
    )
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    own_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    lines = [str(REPO), *(f"import site; site.addsitedir({d!r})" for d in _site_dirs())]
    (Path(own_site) / "_nxm_bench_test_parent.pth").write_text("\n".join(lines) + "\n")
    _pip_install(python, source)
    assert (Path(own_site) / "nxm_toy_plugin" / "conf" / "taskset" / "toyfuncs_all.yaml").is_file()
    return python


def _pip_install(python: Path, package: Path) -> None:
    """``pip install`` a package folder into ``python``'s environment, offline (the build uses
    the setuptools already there: ``--no-build-isolation``)."""
    proc = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            str(package),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
        cwd=package.parent,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _env() -> dict[str, str]:
    """This environment, without any setting of ours: the plugin must be found by discovery."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NXMBENCH_", "NXM_"))}
    env.pop("PYTHONPATH", None)  # the venv's .pth file makes the project importable
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _bench(python: Path, cwd: Path, *args: str, importtime: bool = False) -> subprocess.CompletedProcess[str]:
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run(
        [str(python), *flags, "-m", "bench", *args],
        cwd=cwd,
        env=_env(),
        text=True,
        capture_output=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


def test_listings_show_the_plugin_without_importing_it(venv: Path, tmp_path: Path) -> None:
    proc = _bench(venv, tmp_path, "list=optimizers", importtime=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    listed = {line.split()[0]: line for line in proc.stdout.splitlines() if line.strip()}
    assert f"from plugin {DIST} 0.1.0" in listed["coord_search"]  # an entry point, no YAML
    assert "shipped by the toy plugin" in listed["coord_search_fine"]  # the plugin's YAML
    assert "random_search" in listed
    imported = [line for line in proc.stderr.splitlines() if "nxm_toy_plugin" in line]
    assert not imported, imported
    tasksets = _bench(venv, tmp_path, "list=tasksets")
    assert "toyfuncs_all" in tasksets.stdout, tasksets.stderr
    studies = _bench(venv, tmp_path, "list=studies")
    assert "toy_smoke" in studies.stdout.split(), studies.stderr
    # Hydra composes the plugin's study: its folder joins Hydra's search path.
    job = _bench(venv, tmp_path, "--cfg", "job", "study=toy_smoke", "-p", "study")
    assert job.returncode == 0 and "taskset: toyfuncs_all" in job.stdout, job.stderr[-2000:]
    helped = _bench(venv, tmp_path, "--help")
    assert "coord_search" in helped.stdout and "check optimizer=ID" in helped.stdout
    tasks = _bench(venv, tmp_path, "list=tasks", "filter=toy*")
    assert "toyfuncs/rosenbrock" in tasks.stdout, tasks.stderr[-2000:]
    # A plugin entry point that cannot be loaded is listed as unavailable, not a crash of every command.
    assert "# family toybroken: unavailable" in tasks.stdout
    assert not list(tmp_path.iterdir())


def test_check_passes_on_the_plugin_optimizer_and_family(venv: Path, tmp_path: Path) -> None:
    opt = _bench(venv, tmp_path, "check", "optimizer=coord_search")
    assert opt.returncode == 0, opt.stdout + opt.stderr[-2000:]
    assert "pass  contract/continuous" in opt.stdout
    assert f"from plugin {DIST} 0.1.0" in opt.stdout
    assert "n/a   contract/mixed: CoordinateSearch needs numeric hyperparameters only" in opt.stdout
    fam = _bench(venv, tmp_path, "check", "task_family=toyfuncs")
    assert fam.returncode == 0, fam.stdout + fam.stderr[-2000:]
    assert "task family 'toyfuncs': 3 tasks checked, all pass" in fam.stdout
    assert "pass  toyfuncs/rosenbrock" in fam.stdout


def test_check_reports_failures_and_bad_input(venv: Path, tmp_path: Path) -> None:
    bad = _bench(venv, tmp_path, "check", "optimizer=toy_out_of_bounds", "n_trials=3")
    assert bad.returncode == 1, bad.stdout + bad.stderr[-2000:]
    assert "FAIL  contract/continuous" in bad.stdout and "pass  loads" in bad.stdout
    broken = _bench(venv, tmp_path, "check", "task_family=toybroken")
    assert broken.returncode == 1, broken.stdout + broken.stderr[-2000:]
    assert "nxm_toy_plugin.not_there" in broken.stdout and "ModuleNotFoundError" in broken.stdout
    typo = _bench(venv, tmp_path, "check", "optimizer=coord_serch")
    assert typo.returncode == 2 and "did you mean 'coord_search'" in typo.stderr, typo.stderr
    typo = _bench(venv, tmp_path, "check", "task_family=toyfunc")
    assert typo.returncode == 2 and "did you mean 'toyfuncs'" in typo.stderr, typo.stderr
    assert "Traceback" not in bad.stderr + broken.stderr + typo.stderr


def test_a_study_runs_the_plugin_in_worker_processes(venv: Path, tmp_path: Path) -> None:
    proc = _bench(
        venv,
        tmp_path,
        "-m",
        "optimizer=coord_search,coord_search_fine,random_search",
        "task=glob(toyfuncs/*)",
        "seed=0,1",
        "n_trials=5",
        "n_jobs=2",
        "name=toy",
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    from bench.results import load, load_runs

    (study,) = {p.parent.parent for p in (tmp_path / "results").rglob("runs/*.parquet")}
    runs = load_runs(study)
    assert len(runs) == 3 * 3 * 2
    assert set(runs["status"]) == {"ok"}, runs[["run_id", "status"]]
    trials = load(study)
    assert set(trials["optimizer"]) == {"coord_search", "coord_search_fine", "random_search"}
    assert set(trials["task"]) == {"toyfuncs/sphere", "toyfuncs/rosenbrock", "toyfuncs/intquad"}
    assert len(trials) == 3 * 3 * 2 * 5


def test_dask_workers_find_the_plugin_too(venv: Path, tmp_path: Path) -> None:
    # Dask's worker processes are fresh interpreters that know nothing of the planning process:
    # they find the plugin as any process of this environment does (on a remote cluster, the
    # plugin is installed on the workers' machines as any library a study uses).
    pytest.importorskip("dask.distributed")
    proc = _bench(
        venv,
        tmp_path,
        "-m",
        "optimizer=coord_search",
        "task=glob(toyfuncs/*)",
        "seed=0,1",
        "n_trials=5",
        "backend=dask",
        "backend.n_workers=2",
        "name=toy_dask",
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    from bench.results import load_runs

    (study,) = {p.parent.parent for p in (tmp_path / "results").rglob("runs/*.parquet")}
    runs = load_runs(study)
    assert len(runs) == 3 * 2 and set(runs["status"]) == {"ok"}, runs


def test_the_optimizer_guide_packages_as_a_plugin(venv: Path, tmp_path: Path) -> None:
    # docs/adding-an-optimizer.md, "Packaging it as a plugin": its pyproject.toml and the class of
    # its step 1, pip-installed as the page says, pass the check under the id the entry point gives.
    doc = (REPO / "docs" / "adding-an-optimizer.md").read_text()
    section = doc.split("## 4. Packaging it as a plugin", 1)[1]
    (toml,) = re.findall(r"```toml\n(.*?)```", section, flags=re.S)
    package = tmp_path / "my-es"
    (package / "my_es").mkdir(parents=True)
    (package / "pyproject.toml").write_text(toml)  # its build requirement: unchecked without isolation
    (package / "my_es" / "__init__.py").write_text("")
    (package / "my_es" / "local_es.py").write_text(re.findall(r"```python\n(.*?)```", doc, flags=re.S)[0])
    _pip_install(venv, package)
    proc = _bench(venv, tmp_path, "check", "optimizer=local_es", "n_trials=6")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert "pass  contract/mixed" in proc.stdout and "plugin my-es 0.1.0" in proc.stdout
