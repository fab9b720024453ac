"""Shared fixtures: run the CLI in a subprocess, make tiny studies, load user plugins."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

#: Plugins are loaded by the tests as user code, never collected (one raises on import on purpose).
collect_ignore_glob = ["plugins/*"]

# A suite started in the background by a non-interactive shell (`nohup pytest &`) inherits SIGINT
# ignored, and Python then never installs its Ctrl-C handler: the tests of Ctrl-C (in this process
# and in the `python -m bench` processes it starts, which inherit the setting) would hang or fail.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

REPO = Path(__file__).resolve().parents[1]
PLUGINS = Path(__file__).resolve().parent / "plugins"


def _env(extra_conf: Path | None = None, plugins: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO), str(PLUGINS) if plugins else "", env.get("PYTHONPATH", "")])
    )
    confs = [str(c) for c in (extra_conf, PLUGINS / "faulty_conf" if plugins else None) if c]
    if confs:
        env["NXMBENCH_CONFIG_PATH"] = os.pathsep.join(confs)
    if plugins:
        env["NXMBENCH_TASK_MODULES"] = "faulty_plugin,deadly_plugin,misbehaving_plugin"
    env.setdefault("MPLBACKEND", "Agg")
    return env


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m bench ARGS`` in ``tmp_path``; returns the completed process."""

    def run(
        *args: str, extra_conf: Path | None = None, plugins: bool = False, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bench", *args],
            cwd=tmp_path,
            text=True,
            capture_output=True,
            env=_env(extra_conf, plugins),
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    return run


def _bench(
    cwd: Path, *args: str, conf: Path | None = None, env: dict[str, str] | None = None, module: str = "bench"
) -> subprocess.CompletedProcess[str]:
    """``python -m MODULE ARGS`` in ``cwd``, the test plugins importable, ``conf`` (and no inherited
    folder) as the user config folder, ``env`` added to the environment."""
    full = {**os.environ, **(env or {})}
    paths = [str(REPO), str(PLUGINS), os.environ.get("PYTHONPATH")]
    full["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    full.pop("NXMBENCH_CONFIG_PATH", None)
    if conf is not None:
        full["NXMBENCH_CONFIG_PATH"] = str(conf)
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=full,
        text=True,
        capture_output=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def _one_line_error(proc: subprocess.CompletedProcess[str], cwd: Path) -> str:
    """The single ``error:`` line of a refused command that started nothing."""
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (cwd / "results").exists(), "a refused command wrote results"
    return lines[0]


@pytest.fixture
def bench() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m bench`` (or another module) in a folder of the test's choice (see ``_bench``)."""
    return _bench


@pytest.fixture
def one_line_error() -> Callable[[subprocess.CompletedProcess[str], Path], str]:
    """Check that a command was refused with one ``error:`` line, exit 2, nothing written."""
    return _one_line_error


@pytest.fixture
def cli_env() -> Callable[..., dict[str, str]]:
    """The environment ``run_cli`` gives ``python -m bench``, for tests that start it themselves."""
    return _env


@pytest.fixture
def study_conf(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write ``study/<name>.yaml`` into a user config folder and return the folder."""
    conf = tmp_path / "user_conf"

    def write(name: str, body: str) -> Path:
        (conf / "study").mkdir(parents=True, exist_ok=True)
        (conf / "study" / f"{name}.yaml").write_text(textwrap.dedent(body))
        return conf

    return write


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make the faulty test plugins visible to the in-process registry."""
    from bench import registry

    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.setenv("NXMBENCH_TASK_MODULES", "faulty_plugin,deadly_plugin,misbehaving_plugin")
    monkeypatch.setenv("NXMBENCH_CONFIG_PATH", str(PLUGINS / "faulty_conf"))
    registry.forget_tasks()
    yield
    registry.forget_tasks()


@pytest.fixture(autouse=True)
def _run_context_is_restored() -> Iterator[None]:
    """Undo what a test's in-process run applied to this process (a task module from a spec's run
    context, a YAHPO folder): later tests plan with this process's context and hand it to their
    workers, which cannot import a test plugin whose path is gone ('crashed' runs elsewhere)."""
    registry = sys.modules.get("bench.registry")
    yahpo = sys.modules.get("tasks.collections.yahpo")
    modules = list(registry._added_modules) if registry is not None else None
    folder = yahpo._configured[0] if yahpo is not None else None
    yield
    registry = sys.modules.get("bench.registry")
    changed = False
    if registry is not None and list(registry._added_modules) != (modules or []):
        registry._added_modules[:] = modules or []
        changed = True
    yahpo = sys.modules.get("tasks.collections.yahpo")
    if yahpo is not None and yahpo._configured[0] != folder:
        yahpo._configured[0] = folder
        changed = True
    if changed and registry is not None:
        registry.forget_tasks()
