"""Library adapters are self-contained: each declares its library, and bench/ names none of them.

An *adapter* is a registered optimizer class under ``optimizers/`` that imports an optional
library (its ``requires`` is not empty). Each one names the library's distribution in its
``library`` ClassVar; the runner records that distribution's version in every run's metadata
without knowing any adapter by name, so adding an adapter is one module + one YAML + one extra
and touches no file in bench/.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path

import pytest

from bench.registry import optimizer_class, optimizer_config, optimizer_ids
from optimizers.base import Optimizer

REPO = Path(__file__).resolve().parents[1]
#: The libraries this repository has adapters for; the test also derives names from the registry,
#: so a new adapter is covered without editing this tuple.
KNOWN_LIBRARY_WORDS = ("optuna", "nevergrad", "smac", "dehb", "hyperopt", "skopt", "scikit-optimize")


#: Import names of this package's core dependencies: a built-in optimizer may require one of them
#: (MOBSTER's GP computes in scipy) so that runs record its version; that makes it no adapter.
CORE_MODULES = frozenset({"numpy", "scipy", "pandas", "joblib", "pyarrow", "ConfigSpace", "cocoex"})


def adapters() -> dict[str, type[Optimizer]]:
    """Registered optimizer id → class, for the classes of this repository that need a library."""
    out = {}
    for oid in optimizer_ids():
        target = str(optimizer_config(oid)["_target_"])
        if target.startswith("optimizers."):
            cls = optimizer_class(target)
            if set(cls.requires) - CORE_MODULES:
                out[oid] = cls
    return out


@functools.cache
def _packages_distributions() -> Mapping[str, list[str]]:
    return metadata.packages_distributions()  # about 0.35 s: once, not once per adapter


def _normalized(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


@pytest.mark.parametrize("oid", sorted(adapters()))
def test_every_adapter_declares_its_library_as_an_installed_distribution(oid: str) -> None:
    cls = adapters()[oid]
    assert cls.library, (
        f"{cls.__module__}.{cls.__qualname__} ({oid}) imports {cls.requires} but declares "
        "no `library`: set it (the distribution name) on the adapter family's base class"
    )
    if cls.missing_requirement():
        pytest.skip(f"{oid}: {cls.missing_requirement()}")
    version = metadata.version(cls.library)  # PackageNotFoundError: not a distribution name
    assert version
    provides = _packages_distributions()
    owners = {_normalized(d) for module in cls.requires for d in provides.get(module, [])}
    assert _normalized(cls.library) in owners, (
        f"{oid}: library {cls.library!r} installs none of the modules it requires {cls.requires}"
    )


# ----------------------------------------------------------------------------- bench/ names no adapter


def adapter_words() -> set[str]:
    """Every name that would tie bench/ to an adapter: its module, its library and import names."""
    words = set(KNOWN_LIBRARY_WORDS)
    for cls in adapters().values():
        words.add(cls.__module__.rpartition(".")[2])
        words.update(cls.requires)
        if cls.library:
            words.add(cls.library)
    return {w.lower() for w in words}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes of ``tree`` (module, class and function docstrings)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                out.add(id(body[0].value))
    return out


def adapter_mentions(source: str, words: set[str]) -> Iterator[tuple[int, str]]:
    """Where ``source`` depends on an adapter by name: ``(line, what)``.

    Counted: imports of an adapter module or library, identifiers with such a word as one of
    their ``_``-separated parts, and string constants that *are* such a name (``"optuna"``,
    ``"scikit-optimize"``) or name an adapter module (``"optimizers.optuna"``). Not counted:
    comments, docstrings (their doctest examples use real optimizer ids) and user-facing text
    such as the command line's usage examples (``"optimizer=optuna_tpe"`` is an example of an
    id, not a dependency on an adapter).

    Example:
        >>> list(adapter_mentions('import optuna\\nLIBS = {"optimizers.optuna": "optuna"}', {"optuna"}))
        [(1, 'import optuna'), (2, "string 'optimizers.optuna'"), (2, "string 'optuna'")]
        >>> list(adapter_mentions('HELP = "python -m bench optimizer=optuna_tpe"  # optuna', {"optuna"}))
        []
    """
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    part = re.compile(r"(?:^|_)(" + "|".join(re.escape(w) for w in sorted(words)) + r")(?:_|$)", re.I)
    module_path = re.compile(
        r"\boptimizers\.(" + "|".join(re.escape(w) for w in sorted(words)) + r")\b", re.I
    )

    def module_hit(name: str) -> bool:
        return name.split(".")[0].lower() in words or bool(module_path.match(name))

    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            for alias in node.names:
                if module_hit(alias.name):
                    yield line, f"import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{a.name}" for a in node.names]
            if module_hit(node.module) or any(module_path.match(n) for n in names):
                yield line, f"from {node.module} import ..."
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value.strip().lower() in words or module_path.search(node.value):
                yield line, f"string {node.value!r}"
        else:
            for name in _identifiers(node):
                if part.search(name):
                    yield line, f"name {name!r}"


def _identifiers(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.keyword) and node.arg:
        return [node.arg]
    return []


def test_bench_names_no_adapter() -> None:
    """Adding an adapter touches no file in bench/: the runner reaches adapters only through the
    registry (YAML targets) and the ``Optimizer`` attributes (``library``, ``requires``, ...)."""
    words = adapter_words()
    hits = [
        f"{path.relative_to(REPO)}:{line}: {what}"
        for path in sorted((REPO / "bench").rglob("*.py"))
        for line, what in adapter_mentions(path.read_text(), words)
    ]
    assert not hits, "bench/ depends on library adapters by name:\n" + "\n".join(hits)


def test_versions_are_read_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run records the versions its process imported; reading them costs each run nothing after
    the first (the metadata were read again for every run, ~0.3 ms per package)."""
    from bench import installed, loop

    calls: list[str] = []
    real = metadata.version

    def counting(name: str) -> str:
        calls.append(name)
        return real(name)

    installed.installed_version.cache_clear()
    monkeypatch.setattr(installed.metadata, "version", counting)
    first = loop._versions(None)
    assert loop._versions(None) == first and first["numpy"] == real("numpy")
    assert sorted(calls) == sorted(set(calls)) == sorted(k for k in first if k != "python")
    assert installed.installed_version("no-such-distribution-xyz") == "not installed"


def test_versions_record_every_library_an_adapter_requires() -> None:
    """What an optimizer computes can live in a library beside its own (optuna_cmaes runs the
    ``cmaes`` package, optuna_gp torch and scipy, ng_bayesopt bayesian-optimization): a run records
    the version of each library its adapter requires, under the distribution's name, so that an
    upgrade of any of them shows in the run and marks archive entries built on the old one stale."""
    from bench import loop

    checked = 0
    classes = {oid: optimizer_class(str(optimizer_config(oid)["_target_"])) for oid in optimizer_ids()}
    assert classes["mobster"].requires == ("scipy",)  # a built-in whose GP computes in scipy
    for oid, cls in classes.items():
        if not cls.requires or cls.missing_requirement():
            continue
        versions = {k.lower().replace("-", "_"): v for k, v in loop._versions(cls).items()}
        for module in cls.requires:
            dist = loop._distribution(module)
            assert dist is not None, (oid, module)
            key = dist.lower().replace("-", "_")
            assert versions.get(key) == metadata.version(dist), (oid, module, versions)
            checked += 1
    assert checked
    assert loop._distribution("bayes_opt") in (None, "bayesian-optimization")  # import ≠ distribution name
    assert loop._distribution("no_such_module_xyz") is None
