"""Test files are named ``test_<area>_<topic>.py`` with an area from the table of tests/README.md,
so the suite mirrors the packages and a reader finds the tests of a module by its name."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
#: Files not yet renamed to the scheme, and the name each is to get (remove an entry once renamed).
NOT_YET: dict[str, str] = {}


def areas() -> tuple[str, ...]:
    """The areas of the table in tests/README.md (its rows start with a backquoted area)."""
    text = (TESTS / "README.md").read_text()
    return tuple(re.findall(r"^\| `([a-z]+)` +\|", text, flags=re.MULTILINE))


def test_the_readme_lists_the_package_areas() -> None:
    assert {"tasks", "optimizers", "bench", "analysis"} <= set(areas()), areas()


def test_every_test_file_starts_with_an_area() -> None:
    pattern = re.compile(rf"test_({'|'.join(areas())})(_[a-z0-9_]+)?\.py")
    names = sorted(p.name for p in TESTS.glob("test_*.py"))
    stray = [n for n in names if not pattern.fullmatch(n) and n not in NOT_YET]
    assert not stray, f"rename to test_<area>_<topic>.py (areas in tests/README.md): {stray}"
    # An entry is dropped once its file is renamed, so the list cannot hide a new stray file.
    assert set(NOT_YET) <= set(names), sorted(set(NOT_YET) - set(names))
    assert all(pattern.fullmatch(new) for new in NOT_YET.values()), NOT_YET
