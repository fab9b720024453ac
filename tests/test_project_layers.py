"""The layers are a test: tasks → optimizers → bench → analysis, each importing only downward.

Every module of the four packages is parsed (never imported, so a broken optional library
cannot hide an edge) and three rules are checked:

* **No upward import.** A module may import its own layer and the layers below it
  (tasks < optimizers < bench < analysis). Only the entry points ``bench/__main__.py`` and
  ``analysis/__main__.py`` wire layers together and may import from any layer. ``conf`` is
  data (YAML files) and may be imported by anyone.
  Inside ``analysis`` its parts keep the same one-way order (:data:`ANALYSIS_PARTS`): the shared
  modules, the leaderboard pipeline, the subset pipeline, the report.
* **No cycle** between project modules. A cycle is reported as the chain of modules that
  closes it, e.g. ``bench.loop → bench.simulated_workers → bench.loop``.
* **No importlib for project modules.** ``importlib.import_module("bench.results")`` or
  ``__import__("bench.results")`` with a literal name is an import the two rules above cannot
  see (and usually one wrapped in an ``except`` that hides a real error): import it plainly.
  A name computed at run time is allowed only in the plugin loaders of :data:`PLUGIN_LOADERS`.

Which imports count: all of them, wherever they are written. A module-level import, an import
inside a function (a lazy import) and an import under ``if TYPE_CHECKING:`` (a type-only import)
are each an edge for both rules. A lazy import still runs, and one written to dodge a cycle is
the cycle this test exists to find; a type-only import is still a dependency of the design
(mypy checks the lower layer against the higher one, and the annotation names a type the lower
layer cannot construct), and moving the type down is the cheap fix.

Plugin loading imports by a name that a config or a class gives, which no static rule can
follow: :data:`PLUGIN_LOADERS` is the allow-list of the modules that may do it, each with the
documented reason. A computed name anywhere else is reported, so a new dynamic import is a
decision someone writes down here, not a way around the layers.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Lowest first: a module may import its own layer and every layer before it.
LAYERS = ("tasks", "optimizers", "bench", "analysis")
#: Packages of data, not code: importable from any layer (Hydra's YAML files live in ``conf``).
DATA_PACKAGES = frozenset({"conf"})
#: The modules that wire layers together (``python -m bench``, ``python -m analysis``).
ENTRY_POINTS = frozenset({"bench.__main__", "analysis.__main__"})
#: The modules that may import a module by a computed name (never a literal one), and why.
PLUGIN_LOADERS: dict[str, str] = {
    # docs/adding-an-optimizer.md, docs/adding-a-task-family.md: an optimizer YAML's `_target_`
    # class and the run's task-family modules are user code found by configured name.
    "bench.registry": "optimizer classes and task-family modules named by configs",
    # Optimizer.params_from ("module:Class"): an adapter forwards the parameters of a library
    # class, imported only when its accepted parameters are asked for.
    "optimizers.base": "the library class an adapter's params_from names",
}

#: Inside the analysis, its parts in the same one-way order: the package's own modules shared by
#: both pipelines (load, normalize, synthetic), the leaderboard pipeline, the subset pipeline
#: (whose validation ranks with the leaderboard's statistics), the report that shows both.
ANALYSIS_PARTS = ("analysis", "analysis.leaderboard", "analysis.subsets", "analysis.report")

PROJECT = frozenset(LAYERS) | DATA_PACKAGES
#: Call names that import a module named by their first argument.
_IMPORT_CALLS = frozenset({"import_module", "__import__"})


@dataclass(frozen=True)
class Edge:
    """One import of a project module: where it is written, what it imports, and how."""

    importer: str
    target: str
    line: int
    kind: str  # "module-level", "lazy" (inside a function) or "type-only" (under TYPE_CHECKING)

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} imports {self.target} ({self.kind})"


def project_sources(root: Path = REPO) -> dict[str, str]:
    """Dotted module name → source of every module of the four layers (``pkg/__init__.py`` is ``pkg``)."""
    sources: dict[str, str] = {}
    for layer in LAYERS:
        for path in sorted((root / layer).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            sources[".".join(parts)] = path.read_text(encoding="utf-8")
    return sources


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, kind: str = "module-level") -> Iterator[tuple[ast.AST, str]]:
    """Every node under ``node`` with the kind of import it would be (type-only wins over lazy)."""
    for child in ast.iter_child_nodes(node):
        child_kind = kind
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) and kind == "module-level":
            child_kind = "lazy"
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            yield child.test, kind
            for stmt in child.body:
                yield stmt, "type-only"
                yield from _walk(stmt, "type-only")
            for stmt in child.orelse:
                yield stmt, kind
                yield from _walk(stmt, kind)
            continue
        yield child, child_kind
        yield from _walk(child, child_kind)


def _resolve(name: str, modules: frozenset[str]) -> str | None:
    """The deepest project module that ``name`` (a module or a module's attribute) lives in."""
    if name.split(".")[0] not in PROJECT:
        return None
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return name  # a project module this checker was not given (a synthetic test's, say)


def _package_of(module: str, modules: frozenset[str]) -> str:
    """The package a relative import in ``module`` starts from (a package is its own)."""
    is_package = any(m.startswith(module + ".") for m in modules)
    return module if is_package else module.rpartition(".")[0]


def import_edges(module: str, source: str, modules: frozenset[str]) -> list[Edge]:
    """The project modules ``module`` imports, one :class:`Edge` per imported module per statement."""
    edges: list[Edge] = []
    for node, kind in _walk(ast.parse(source, filename=module)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package_of(module, modules).split(".")
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from pkg import name` imports the submodule pkg.name when there is one, else pkg
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
            ]
        else:
            continue
        for target in dict.fromkeys(filter(None, (_resolve(name, modules) for name in names))):
            if target != module:
                edges.append(Edge(module, target, node.lineno, kind))
    return edges


def dynamic_imports(module: str, source: str) -> list[str]:
    """``import_module("x")`` / ``__import__("x")`` of a project module by a literal name, and any
    import by a computed name outside :data:`PLUGIN_LOADERS`."""
    found = []
    for node, _ in _walk(ast.parse(source, filename=module)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if called not in _IMPORT_CALLS:
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            if first.value.split(".")[0] in PROJECT:
                found.append(
                    f"{module}:{node.lineno} imports {first.value!r} through {called}(); import it plainly"
                )
        elif module not in PLUGIN_LOADERS:
            found.append(
                f"{module}:{node.lineno} imports a computed name through {called}(); only "
                f"the plugin loaders may ({', '.join(PLUGIN_LOADERS)}): import it plainly, "
                "or add the module to PLUGIN_LOADERS with its reason"
            )
    return found


def layer_of(module: str) -> int | None:
    """Index of ``module``'s layer in :data:`LAYERS`; ``None`` for data packages."""
    top = module.split(".")[0]
    return LAYERS.index(top) if top in LAYERS else None


def upward_imports(edges: list[Edge]) -> list[str]:
    """Each import of a higher layer by a module that is not an entry point."""
    found = []
    for edge in edges:
        low, high = layer_of(edge.importer), layer_of(edge.target)
        if edge.importer in ENTRY_POINTS or low is None or high is None or high <= low:
            continue
        found.append(f"{edge} upward: {LAYERS[low]} may not import {LAYERS[high]}")
    return found


def analysis_part(module: str) -> int | None:
    """Index of ``module``'s part in :data:`ANALYSIS_PARTS` (the deepest that holds it); ``None``
    outside the analysis."""
    held = [i for i, part in enumerate(ANALYSIS_PARTS) if module == part or module.startswith(part + ".")]
    return max(held) if held else None


def upward_analysis_imports(edges: list[Edge]) -> list[str]:
    """Each import, inside the analysis, of a later part by an earlier one (entry point aside)."""
    found = []
    for edge in edges:
        low, high = analysis_part(edge.importer), analysis_part(edge.target)
        if edge.importer in ENTRY_POINTS or low is None or high is None or high <= low:
            continue
        found.append(f"{edge} upward: {ANALYSIS_PARTS[low]} may not import {ANALYSIS_PARTS[high]}")
    return found


def cycles(edges: list[Edge]) -> list[str]:
    """Each import cycle (a strongly connected group of modules), written as one closing chain."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.importer, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    # Tarjan's strongly connected components, iterative so a deep chain cannot hit the recursion limit.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return [_chain(group, graph, edges) for group in groups]


def _chain(group: list[str], graph: Mapping[str, set[str]], edges: list[Edge]) -> str:
    """One cycle through ``group``'s first module, each step with the line that makes it."""
    members = set(group)
    start = group[0]
    # breadth-first from start back to start, inside the group: the shortest closing chain
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier and start not in previous:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    path = [start]
    node = previous[start]
    while node != start:
        path.append(node)
        node = previous[node]
    path.append(start)
    path.reverse()
    where = {(e.importer, e.target): e for e in reversed(edges)}
    steps = [f"{where[a, b]}" for a, b in itertools.pairwise(path)]
    # Breaking this one cycle may leave others: name every module of the tangle.
    others = sorted(members - set(path))
    tangle = f" (the same tangle holds {', '.join(others)})" if others else ""
    return "cycle " + " → ".join(path) + ": " + "; ".join(steps) + tangle


def check(sources: Mapping[str, str]) -> list[str]:
    """Every broken rule of the module set ``sources`` (dotted name → source), one line each."""
    modules = frozenset(sources)
    edges = [edge for name, source in sorted(sources.items()) for edge in import_edges(name, source, modules)]
    dynamic = [line for name, source in sorted(sources.items()) for line in dynamic_imports(name, source)]
    return upward_imports(edges) + upward_analysis_imports(edges) + cycles(edges) + dynamic


# ----------------------------------------------------------------------------- the project


def test_the_project_keeps_its_layers() -> None:
    problems = check(project_sources())
    assert not problems, "\n".join(problems)


def test_every_layer_is_parsed() -> None:
    modules = project_sources()
    assert {"tasks.base", "optimizers.base", "bench.loop", "bench.__main__", "analysis"} <= set(modules)
    assert {name.split(".")[0] for name in modules} == set(LAYERS)


# ----------------------------------------------------------------------------- the checker would fail


def test_an_upward_import_and_a_cycle_are_reported() -> None:
    problems = check(
        {
            "tasks.base": "from optimizers.base import Optimizer\n",
            "optimizers.base": "import tasks.base\n",
            "bench.loop": "def run():\n    from bench.workers import pool\n",
            "bench.workers": "from bench.loop import run\n",
            "bench.__main__": "import analysis.report\n",  # an entry point: allowed
            "analysis.report": "import bench.loop\nimport conf\n",  # downward and data: allowed
        }
    )
    assert problems == [
        "tasks.base:1 imports optimizers.base (module-level) upward: tasks may not import optimizers",
        "cycle bench.loop → bench.workers → bench.loop: bench.loop:2 imports bench.workers (lazy); "
        "bench.workers:1 imports bench.loop (module-level)",
        "cycle optimizers.base → tasks.base → optimizers.base: optimizers.base:1 imports tasks.base "
        "(module-level); tasks.base:1 imports optimizers.base (module-level)",
    ]


def test_an_upward_import_between_the_parts_of_the_analysis_is_reported() -> None:
    problems = check(
        {
            "analysis.normalize": "",
            "analysis.leaderboard.stats": "import analysis.normalize\nimport analysis.subsets.validation\n",
            "analysis.subsets.validation": "from analysis.leaderboard import stats\n",
            "analysis.report.build": "import analysis.subsets.validation\n",  # the top: allowed
            "analysis.__main__": "import analysis.report.build\n",
        }
    )
    assert problems == [
        "analysis.leaderboard.stats:2 imports analysis.subsets.validation (module-level) upward: "
        "analysis.leaderboard may not import analysis.subsets",
        "cycle analysis.leaderboard.stats → analysis.subsets.validation → analysis.leaderboard.stats: "
        "analysis.leaderboard.stats:2 imports analysis.subsets.validation (module-level); "
        "analysis.subsets.validation:1 imports analysis.leaderboard.stats (module-level)",
    ]


def test_a_tangle_of_cycles_is_reported_with_all_its_modules() -> None:
    problems = check(
        {
            "bench.a": "import bench.b\n",
            "bench.b": "import bench.a\nimport bench.c\n",
            "bench.c": "import bench.b\n",
        }
    )
    assert problems == [
        "cycle bench.a → bench.b → bench.a: bench.a:1 imports bench.b (module-level); "
        "bench.b:1 imports bench.a (module-level) (the same tangle holds bench.c)",
    ]


def test_type_only_and_relative_imports_count() -> None:
    problems = check(
        {
            "optimizers": "",
            "optimizers.contract": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from bench.registry import optimizer_class\n"
                "from . import base\n"
            ),
            "optimizers.base": "from .contract import check\n",
        }
    )
    assert problems == [
        "optimizers.contract:3 imports bench.registry (type-only) upward: optimizers may not import bench",
        "cycle optimizers.base → optimizers.contract → optimizers.base: optimizers.base:1 imports "
        "optimizers.contract (module-level); optimizers.contract:4 imports optimizers.base (module-level)",
    ]


def test_importlib_of_a_project_module_by_literal_name_is_reported() -> None:
    problems = check(
        {
            "analysis.cli": (
                "import importlib\n"
                "def main(name):\n"
                "    try:\n"
                "        results = importlib.import_module('bench.results')\n"
                "    except Exception:\n"
                "        results = None\n"
                "    numpy = importlib.import_module('numpy')\n"  # not a project module
                "    return __import__('tasks.base')\n"
            ),
            "bench.registry": (
                "from importlib import import_module\n"
                "def load(target):\n"
                "    return import_module(target)\n"  # a configured name, in a plugin loader: allowed
                "def bad():\n"
                "    return import_module('bench.plan')\n"  # a literal is never allowed
            ),
        }
    )
    assert problems == [
        "analysis.cli:4 imports 'bench.results' through import_module(); import it plainly",
        "analysis.cli:8 imports 'tasks.base' through __import__(); import it plainly",
        "bench.registry:5 imports 'bench.plan' through import_module(); import it plainly",
    ]


def test_a_computed_name_outside_the_plugin_loaders_is_reported() -> None:
    source = "import importlib\ndef load(name):\n    return importlib.import_module(name)\n"
    problems = check({"bench.plan": source})
    assert problems == [
        "bench.plan:3 imports a computed name through import_module(); only the plugin loaders may "
        "(bench.registry, optimizers.base): import it plainly, or add the module to PLUGIN_LOADERS "
        "with its reason",
    ]
