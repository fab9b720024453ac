"""Plugins: installed distributions that add optimizers, task families and config files through
entry points, found with :mod:`importlib.metadata` — no environment variable, no edit of this
repository. ``pip install`` a plugin and its ids appear in ``python -m bench list=...``.

Three entry-point groups (a plugin uses any of them, in its ``pyproject.toml``)::

    [project.entry-points."nxm_bench.optimizers"]      # name = optimizer id
    my_es = "my_plugin.es:MyES"                        # value = an Optimizer subclass

    [project.entry-points."nxm_bench.task_families"]   # name = the family's name
    toy = "my_plugin.tasks"                            # a module with families(), or
                                                       # "module:function" returning families

    [project.entry-points."nxm_bench.config"]          # name = a label
    my_plugin = "my_plugin.conf"                       # a package folder holding optimizer/,
                                                       # study/, taskset/ YAMLs

An optimizer id registered by entry point needs no YAML: it behaves as one holding
``_target_: my_plugin.es.MyES`` and ``params: {}``; a YAML of the same id in a config folder
(the plugin's own, or yours) wins and sets its parameters and description.

Reading the entry points imports nothing of the plugins (a few milliseconds), so the instant
answers (``--help``, ``list=optimizers``) stay instant; a task-family module is imported when the
task catalog is built (:func:`bench.registry.task_families`), an optimizer's when it is planned.
Worker processes — loky's, or a remote dask cluster's — find the same plugins again by the same
discovery, provided the plugin is installed there too.

Example:
    >>> OPTIMIZERS_GROUP
    'nxm_bench.optimizers'
    >>> isinstance(optimizer_entries(), dict)
    True
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

OPTIMIZERS_GROUP = "nxm_bench.optimizers"
TASK_FAMILIES_GROUP = "nxm_bench.task_families"
CONFIG_GROUP = "nxm_bench.config"


@dataclass(frozen=True)
class Entry:
    """One entry point of a plugin: its group, name and value, and the distribution declaring it.

    Example:
        >>> e = Entry(OPTIMIZERS_GROUP, "my_es", "my_plugin.es:MyES", "my-plugin 1.0")
        >>> e.origin
        "plugin my-plugin 1.0 (entry point my_es = 'my_plugin.es:MyES' in nxm_bench.optimizers)"
        >>> e.module, e.target
        ('my_plugin.es', 'my_plugin.es.MyES')
    """

    group: str
    name: str
    value: str
    distribution: str

    @property
    def origin(self) -> str:
        """Where this entry comes from, for messages."""
        return f"plugin {self.distribution} (entry point {self.name} = {self.value!r} in {self.group})"

    @property
    def module(self) -> str:
        """The module part of the value (``module`` or ``module:attr``)."""
        return self.value.partition(":")[0].strip()

    @property
    def target(self) -> str:
        """The value as a dotted path (``module.attr``), the form ``_target_`` takes."""
        module, _, attr = self.value.partition(":")
        return ".".join(filter(None, (module.strip(), attr.strip())))

    def load(self) -> Any:
        """Import the module (and the attribute) the value names."""
        return EntryPoint(self.name, self.value, self.group).load()


def _distribution(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "(unknown distribution)"
    return f"{dist.name} {dist.version}"


@cache
def entries(group: str) -> tuple[Entry, ...]:
    """The entry points of ``group`` in the installed distributions, in name order (read once per
    process, about 2 ms; see :func:`forget`).

    Example:
        >>> entries("nxm_bench.no_such_group")
        ()
    """
    # importlib.metadata lists each distribution once, the first found on sys.path (as imports do).
    found = entry_points(group=group)
    return tuple(
        sorted(
            (Entry(group, ep.name, ep.value, _distribution(ep)) for ep in found),
            key=lambda e: (e.name, e.distribution),
        )
    )


def forget() -> None:
    """Read the entry points again next time (a package was installed while this process ran)."""
    entries.cache_clear()
    config_folders.cache_clear()


def optimizer_entries() -> dict[str, list[Entry]]:
    """Optimizer id → the entry points registering it (more than one: the id is ambiguous)."""
    out: dict[str, list[Entry]] = {}
    for e in entries(OPTIMIZERS_GROUP):
        out.setdefault(e.name, []).append(e)
    return out


def _locate(entry: Entry) -> Path | None:
    """The folder of the package ``entry.value`` names, found without importing it if possible."""
    parts = entry.module.split(".")
    if not all(p.isidentifier() for p in parts) or ":" in entry.value:
        return None
    for base in sys.path:  # a regular install: a folder under a path entry
        folder = Path(base or ".", *parts)
        if folder.is_dir():
            return folder.resolve()
    # An editable install maps packages with an import hook: ask it (this imports the parents).
    import importlib.util

    try:
        spec = importlib.util.find_spec(entry.module)
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]).resolve() if locations else None


@cache
def config_folders() -> tuple[Path, ...]:
    """Config folders of the installed plugins (group ``nxm_bench.config``), in name order.

    An entry whose folder cannot be found is reported once on stderr and left out: a broken plugin
    must not stop every command.

    Example:
        >>> all(folder.is_dir() for folder in config_folders())
        True
    """
    folders: list[Path] = []
    for e in entries(CONFIG_GROUP):
        folder = _locate(e)
        if folder is None:
            print(
                f"warning: {e.origin}: no package folder {e.value!r} found: give the dotted name of "
                "a package folder holding optimizer/, study/ or taskset/ YAMLs (shipped as package "
                "data)",
                file=sys.stderr,
            )
        elif folder not in folders:
            folders.append(folder)
    return tuple(folders)
