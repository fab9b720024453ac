"""Import ConfigSpace without importing ``scipy.stats`` until a distribution needs it.

ConfigSpace 1.x imports ``scipy.stats`` when it is imported (``from scipy.stats import beta,
truncnorm, uniform`` in its hyperparameter modules). That import costs about 0.5 s and 70 MB per
process, half the start-up of a single ``python -m bench`` run and of every worker process, yet
only Beta and Normal hyperparameters use it (a uniform float, integer, categorical or ordinal
space never does).

:func:`defer` installs an import hook, used once: when ConfigSpace is first imported, its package
runs with a stand-in for ``scipy.stats`` in ``sys.modules``. Each name ConfigSpace takes from it
becomes a :class:`Deferred`, which imports the real module on its
first use (a call, an attribute, an ``isinstance`` check) and then puts the real objects into
every ConfigSpace module that holds a stand-in. Results are unchanged: the same scipy objects do
the same work, only later. The stand-in is removed from ``sys.modules`` as soon as ConfigSpace
is imported, so every other ``import scipy.stats`` gets the real module.

Nothing is deferred when ``scipy.stats`` or ConfigSpace is already imported (nothing to gain),
when ``NXMBENCH_EAGER_SCIPY_STATS=1`` is set, or when a ConfigSpace release imports something
the stand-in cannot stand for: then ConfigSpace is imported as usual.

The packages :mod:`tasks`, :mod:`optimizers` and :mod:`bench` call :func:`defer` when they are
imported, before any of their modules imports ConfigSpace; :func:`defer` itself imports nothing,
so ``python -m bench --help`` still imports neither.

Example:
    >>> import sys
    >>> import tasks.lazy_scipy_stats as lazy
    >>> lazy.defer()  # a no-op when ConfigSpace is already imported
    >>> import ConfigSpace
    >>> space = ConfigSpace.ConfigurationSpace({"x": (0.0, 1.0)}, seed=1)
    >>> 0.0 <= space.sample_configuration()["x"] <= 1.0
    True
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import threading
import types
from typing import Any

__all__ = ["ENV", "Deferred", "defer", "deferred_names", "resolve"]

#: Set to ``1`` to import ``scipy.stats`` with ConfigSpace, as ConfigSpace itself does.
ENV = "NXMBENCH_EAGER_SCIPY_STATS"

_STATS = "scipy.stats"
_lock = threading.Lock()
#: (module globals, name) of every stand-in handed to ConfigSpace and not yet replaced
_holders: list[tuple[dict[str, Any], str]] = []


class Deferred:
    """Stands for ``<module>.<name>`` of ``scipy.stats`` until its first use, then is that object.

    Example:
        >>> d = Deferred("math", "sqrt")  # any module works; ConfigSpace gets scipy.stats names
        >>> d(16.0), isinstance(2.0, Deferred("builtins", "float"))
        (4.0, True)
    """

    __slots__ = ("_module", "_name")

    def __init__(self, module: str, name: str) -> None:
        self._module = module
        self._name = name

    def resolved(self) -> Any:
        """The real object (imports its module, and puts every stand-in's real object in place)."""
        resolve()
        return getattr(_real_module(self._module), self._name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolved()(*args, **kwargs)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.resolved(), attr)

    def __instancecheck__(self, obj: Any) -> bool:
        return isinstance(obj, self.resolved())

    def __subclasscheck__(self, cls: type) -> bool:
        return issubclass(cls, self.resolved())

    def __repr__(self) -> str:
        return f"<deferred {self._module}.{self._name}>"


class _StandIn(types.ModuleType):
    """What ConfigSpace finds as ``scipy.stats`` (or one of its submodules) while it is imported."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return Deferred(self.__name__, name)


def _real_module(name: str) -> types.ModuleType:
    """The real module ``name``: ``scipy.stats`` or one of its submodules (or, in the examples, a
    module already imported)."""
    if name not in sys.modules or isinstance(sys.modules[name], _StandIn):
        import scipy.stats  # noqa: F401  (imports its submodules too)
    module = sys.modules.get(name)
    if module is None or isinstance(module, _StandIn):
        raise ImportError(f"{name} is not imported by scipy.stats")
    return module


def deferred_names() -> list[str]:
    """``module.name`` of every ConfigSpace global that is still a stand-in (empty once resolved).

    Example:
        >>> isinstance(deferred_names(), list)
        True
    """
    with _lock:
        return sorted(f"{g.get('__name__')}.{name}" for g, name in _holders)


def resolve() -> None:
    """Import ``scipy.stats`` and put the real objects in place of every stand-in (idempotent)."""
    with _lock:
        holders = list(_holders)
        _holders.clear()
    for module_globals, name in holders:
        stand_in = module_globals.get(name)
        if type(stand_in) is Deferred:
            real = getattr(_real_module(stand_in._module), stand_in._name)
            module_globals[name] = real


def defer() -> None:
    """Make the next ``import ConfigSpace`` defer ``scipy.stats`` (see the module); imports nothing.

    Installs an import hook that is used once: when ConfigSpace is imported (by whatever code
    needs a space first), its package runs with the stand-in for ``scipy.stats`` in place.
    Instant answers such as ``python -m bench --help`` import neither.

    Example:
        >>> defer()  # idempotent
    """
    if os.environ.get(ENV) == "1" or "ConfigSpace" in sys.modules or _STATS in sys.modules:
        return
    with _lock:
        if not any(isinstance(f, _ConfigSpaceFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, _ConfigSpaceFinder())


class _ConfigSpaceFinder(importlib.abc.MetaPathFinder):
    """Finds ConfigSpace as the other finders do, and runs its package with the stand-in."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "ConfigSpace":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)  # once: ConfigSpace is imported once per process
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or _STATS in sys.modules or os.environ.get(ENV) == "1":
            return spec
        spec.loader = _DeferringLoader(spec.loader)
        return spec


class _DeferringLoader(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        names = [_STATS, f"{_STATS}._distn_infrastructure"]
        for name in names:
            sys.modules[name] = _StandIn(name)
        try:
            self._loader.exec_module(module)  # binds the stand-ins' names in its modules
        except ImportError:
            # A ConfigSpace release that takes something the stand-in cannot stand for (a submodule
            # it does not know): forget its half-imported modules and run it as it is.
            for name in names:
                sys.modules.pop(name, None)
            _forget_configspace(keep=module.__name__)
            self._loader.exec_module(module)
            return
        finally:
            for name in names:
                if isinstance(sys.modules.get(name), _StandIn):
                    del sys.modules[name]
        found = []
        for module_name, loaded in list(sys.modules.items()):
            if module_name == "ConfigSpace" or module_name.startswith("ConfigSpace."):
                g = vars(loaded)
                found += [(g, k) for k, v in list(g.items()) if type(v) is Deferred]
        with _lock:
            _holders.extend(found)


def _forget_configspace(keep: str) -> None:
    for module_name in [m for m in sys.modules if m.startswith("ConfigSpace.")]:
        if module_name != keep:
            del sys.modules[module_name]
