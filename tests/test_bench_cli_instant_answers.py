"""The instant answers of ``python -m bench`` import nothing heavy and write nothing.

``--help``, ``--version``, ``--cfg job`` and ``list=optimizers|studies|tasksets`` read config
files only; importing numpy, scipy, ConfigSpace, pandas, pyarrow or joblib would cost them about
a second (benchmarks/cli_latency.py, docs/PERFORMANCE.md). Each runs under ``python -X importtime``
in an empty folder and the import lines are checked. No timing is asserted here: speed depends on
the machine; which modules load does not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"
HEAVY = ("numpy", "scipy", "ConfigSpace", "pandas", "pyarrow", "joblib", "optuna")


def _import_tree(stderr: str) -> list[tuple[int, str]]:
    """(depth, module) per ``import time: self | cumulative | <2 spaces per level>module`` line."""
    tree = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "[us]" not in line:
            name = line.rsplit("|", 1)[1].rstrip()
            tree.append(((len(name) - len(name.lstrip()) - 1) // 2, name.strip()))
    return tree


def _chain(tree: list[tuple[int, str]], i: int) -> list[str]:
    """Who imported ``tree[i]``, outermost first (a module is printed after what it imported)."""
    depth, names = tree[i][0], [tree[i][1]]
    for d, name in tree[i + 1 :]:
        if d < depth:
            names.append(name)
            depth = d
    return names[::-1]


def _is_heavy(module: str) -> bool:
    return module.split(".")[0] in HEAVY


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("NXMBENCH_CONFIG_PATH", None)  # the shipped configs only
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bench", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _ids(stdout: str) -> list[str]:
    return [line.split()[0] for line in stdout.splitlines() if line.strip()]


def _yaml_stems(group: str) -> set[str]:
    return {p.stem for p in (CONF / group).glob("*.yaml")}


def _check_help(out: str) -> None:
    assert "python -m bench" in out and "-m, --multirun" in out, out[:500]


def _check_version(out: str) -> None:
    assert out.startswith("nxm-bench "), out


def _check_cfg_job(out: str) -> None:
    cfg = yaml.safe_load(out)
    assert isinstance(cfg, dict) and "study" in cfg, out[:500]
    assert cfg["study"]["name"] == "default"


def _check_optimizers(out: str) -> None:
    assert "random_search" in _ids(out), out[:500]
    assert "(unusable" not in out, out
    rows = [line for line in out.splitlines() if line.strip() and not line.startswith("#")]
    # every shipped adapter module has a family name (a new module must be added to FAMILIES)
    assert not [line for line in rows if line.split()[1] == "optimizers"], out
    footer = out.strip().splitlines()[-1]
    n, families = (int(w) for w in footer.split() if w.isdigit())
    assert n == len(rows) == len(_yaml_stems("optimizer")), footer
    assert n >= 45 and families >= 12, footer  # the breadth the suite promises (docs/optimizers.md)


def _check_studies(out: str) -> None:
    assert set(_ids(out)) == _yaml_stems("study"), out


def _check_tasksets(out: str) -> None:
    assert set(_ids(out)) == _yaml_stems("taskset"), out
    assert all(line.endswith((" entries", " 1 entry")) for line in out.splitlines() if line.strip()), out


INSTANT: list[tuple[tuple[str, ...], Callable[[str], None]]] = [
    (("--help",), _check_help),
    (("--version",), _check_version),
    (("--cfg", "job"), _check_cfg_job),
    (("list=optimizers",), _check_optimizers),
    (("list=studies",), _check_studies),
    (("list=tasksets",), _check_tasksets),
]


@pytest.mark.parametrize(("args", "check"), INSTANT, ids=[" ".join(a) for a, _ in INSTANT])
def test_instant_answer_imports_nothing_heavy(
    tmp_path: Path, args: tuple[str, ...], check: Callable[[str], None]
) -> None:
    proc = _run(tmp_path, *args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    check(proc.stdout)
    tree = _import_tree(proc.stderr)
    assert tree, "no -X importtime lines on stderr"
    # Besides the import lines, an instant answer prints nothing on stderr (no warnings either).
    other = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("import time:")]
    assert not other, "\n".join(other[-20:])
    chains = [_chain(tree, i) for i, (_, name) in enumerate(tree) if _is_heavy(name)]
    # Only the chains where a light module pulls in a heavy one: the places to fix.
    causes = sorted({" -> ".join(c) for c in chains if not any(map(_is_heavy, c[:-1]))})
    assert not causes, "heavy imports (outermost importer first):\n" + "\n".join(causes)
    assert not (tmp_path / "results").exists(), "an instant answer created a results folder"
    assert not list(tmp_path.iterdir()), f"an instant answer wrote {sorted(os.listdir(tmp_path))}"
