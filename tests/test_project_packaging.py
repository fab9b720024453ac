"""The distribution says it is typed (PEP 561): each code package carries ``py.typed``, pyproject's
package data ships it, and a wheel built from the project holds it.

Without the marker, mypy ignores the annotations of an installed nxm-bench, so a plugin author
type-checking an optimizer or a task family against ``optimizers.base`` or ``tasks.base`` would
get ``Any`` everywhere.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The packages of code (``conf`` holds YAML data and has no annotations to ship).
TYPED = ("tasks", "optimizers", "bench", "analysis")


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def _can_build_offline() -> bool:
    """pip and setuptools are here, and setuptools can make a wheel: from 70.1 on by itself,
    before with the ``wheel`` package (in the ``test`` extra)."""
    if importlib.util.find_spec("pip") is None or importlib.util.find_spec("setuptools") is None:
        return False
    from importlib.metadata import version

    major, minor = (int(p) for p in version("setuptools").split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.mark.parametrize("package", TYPED)
def test_each_code_package_has_the_marker(package: str) -> None:
    marker = REPO / package / "py.typed"
    assert marker.is_file(), f"{marker.relative_to(REPO)} is missing"
    # PEP 561 allows "partial\n" for stub-only packages; these ship their annotations inline.
    assert marker.read_text().strip() == "", f"{marker.relative_to(REPO)} should be empty"


def test_package_data_ships_the_markers() -> None:
    setuptools = _pyproject()["tool"]["setuptools"]
    included = setuptools["packages"]["find"]["include"]
    data = setuptools["package-data"]
    for package in TYPED:
        assert f"{package}*" in included, f"{package} is not a package of the distribution"
        patterns = [*data.get("*", []), *data.get(package, [])]
        assert "py.typed" in patterns, f"package-data does not ship {package}/py.typed"


@pytest.mark.skipif(
    not _can_build_offline(),
    reason="building the wheel offline needs pip and setuptools "
    ">= 70.1, or an older setuptools and wheel (pip install -e '.[test]')",
)
def test_wheel_holds_the_markers(tmp_path: Path) -> None:
    # Built from a copy: a build in the checkout would leave build/ and *.egg-info behind.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for pattern in _pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]:
        package = pattern.rstrip("*")
        shutil.copytree(
            REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "--wheel-dir",
            str(tmp_path / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("nxm_bench-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [p for p in TYPED if f"{p}/py.typed" not in names]
    assert not missing, f"the wheel lacks py.typed for {missing}"
    # The baseline archive installs with the package: its manifest and every file it lists.
    from bench.archive.store import read_manifest

    archived = {f"bench/archive/data/{rel}" for rel in read_manifest()["files"]}
    assert "bench/archive/data/manifest.json" in names
    assert archived and archived <= names, sorted(archived - names)[:3]
