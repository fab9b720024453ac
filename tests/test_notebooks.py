"""The analysis notebooks: stored without outputs, and executed end to end with nbclient.

Each notebook runs its own tiny study (``python -m bench`` into a temporary folder), so
executing it checks the runner, the loader and the analysis together.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
KERNEL = "nxm-bench-test"


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernel spec that runs this very interpreter.

    The name ``python3`` may resolve to a user-level spec pointing at another
    Python; a spec of our own on ``JUPYTER_PATH`` (searched first) cannot.
    """
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "NxM-Bench tests", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL


def test_notebooks_exist() -> None:
    assert {"mo_mf.ipynb", "quickstart.ipynb", "statistics.ipynb"} <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    assert all(c.outputs == [] and c.execution_count is None for c in code), (
        f"{path.name} is stored with outputs; clear them before committing"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path: Path, kernel: str, tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the traceback, if any cell fails
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    # Figures render as PNG and tables as HTML: the analysis produced something to look at.
    kinds = {k for c in code for o in c.outputs for k in o.get("data", {})}
    assert {"image/png", "text/html"} <= kinds, kinds
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []
