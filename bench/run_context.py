"""RunContext: where a run finds its resources, carried inside every RunSpec.

A run needs a few settings that do not change its results: the YAHPO data folder, the modules
of a user's own task families. They used to reach worker processes through environment
variables, which the workers of a remote dask cluster never see. Now the main process builds one
:class:`RunContext` (from the command line and the environment), the planner puts it into every
spec, and the worker applies it (:func:`apply_context`) before it builds the task. It is left out
of a run's fingerprint and of its file's spec: moving a data folder does not change what a run
means.

Installed plugins are not carried: their entry points (:mod:`bench.plugins`) are metadata of the
installed packages, which a worker reads as the planning process did, so it finds the same
optimizers and task families as long as the plugin is installed there too (as any library a
study uses); ``task_modules`` are for family modules that are importable but not installed.

This module is imported by the command-line front end: it imports nothing heavy at module level.

Example:
    >>> ctx = RunContext(yahpo_data="/data/yahpo", task_modules=("mylab.tasks",))
    >>> ctx.task_modules
    ('mylab.tasks',)
    >>> RunContext().is_empty()
    True
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

#: Environment variable naming the YAHPO data folder (deprecated name: ``NXM_YAHPO_DATA``).
YAHPO_DATA_ENV = "NXMBENCH_YAHPO_DATA"


@dataclass(frozen=True)
class RunContext:
    """What a run needs to find its resources, and which does not change its results.

    Attributes:
        yahpo_data: the YAHPO Gym data folder (one subfolder per scenario), as an absolute path,
            or ``None`` to leave it to the worker's own ``$NXMBENCH_YAHPO_DATA``. A worker on
            another machine must see the folder at the same path (a shared file system).
        task_modules: modules of extra task families (``mylab.tasks``), importable on the workers.

    Example:
        >>> RunContext(yahpo_data="", task_modules=[" a.b ", "", "a.b"])
        RunContext(yahpo_data=None, task_modules=('a.b',))
    """

    yahpo_data: str | None = None
    task_modules: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Normalized once, in the main process: a relative folder means the one under the current
        # folder there, not under a remote worker's.
        data = str(self.yahpo_data).strip() if self.yahpo_data is not None else ""
        object.__setattr__(self, "yahpo_data", str(Path(data).expanduser().absolute()) if data else None)
        if isinstance(self.task_modules, str):
            raise TypeError(
                f"task_modules={self.task_modules!r} is a string: give a sequence of "
                "module names, e.g. ('mylab.tasks',)"
            )
        modules = dict.fromkeys(m.strip() for m in self.task_modules if m.strip())
        object.__setattr__(self, "task_modules", tuple(modules))

    @classmethod
    def from_environment(cls, yahpo_data: str | os.PathLike[str] | None = None) -> RunContext:
        """The context this process's environment describes: ``$NXMBENCH_YAHPO_DATA`` and
        ``$NXMBENCH_TASK_MODULES``; a ``yahpo_data`` given here (the command line's) wins.

        Example:
            >>> import os
            >>> os.environ["NXMBENCH_TASK_MODULES"] = "mylab.tasks, other.tasks"
            >>> RunContext.from_environment(yahpo_data="/data/yahpo")
            RunContext(yahpo_data='/data/yahpo', task_modules=('mylab.tasks', 'other.tasks'))
            >>> del os.environ["NXMBENCH_TASK_MODULES"]
        """
        from tasks.environment import setting

        from_env = setting(YAHPO_DATA_ENV)
        chosen = os.fspath(yahpo_data) if yahpo_data is not None and str(yahpo_data).strip() else from_env
        # The same variable the registry reads, parsed the same way.
        modules = os.environ.get("NXMBENCH_TASK_MODULES", "").split(",")
        return cls(yahpo_data=chosen, task_modules=tuple(modules))

    def is_empty(self) -> bool:
        """Whether this context sets nothing (the worker's own environment decides everything)."""
        return self.yahpo_data is None and not self.task_modules


_lock = threading.Lock()


def apply_context(ctx: RunContext) -> None:
    """Configure this process for runs of ``ctx``: the YAHPO family reads ``ctx.yahpo_data`` (or,
    when it is ``None``, ``$NXMBENCH_YAHPO_DATA`` again) and the registry loads
    ``ctx.task_modules`` too. Cheap when nothing changes, so a worker calls it before every run.

    The setting is process-wide: the runs one process executes at the same time share one
    context (a study's runs all carry the same).

    Example:
        >>> apply_context(RunContext(task_modules=("tasks.synthetic",)))
        >>> "tasks.synthetic" in current_context().task_modules
        False
    """
    from bench import registry
    from tasks.collections import yahpo

    env = RunContext.from_environment()
    # What the environment gives already is left to it, not pinned: a process that follows its
    # environment keeps following it (a test that unsets a variable sees the change).
    folder = None if ctx.yahpo_data == env.yahpo_data else ctx.yahpo_data
    with _lock:
        if yahpo.set_data_dir(folder):
            registry.forget_tasks()  # the YAHPO ids and tasks cached so far are another folder's
        registry.add_task_modules(m for m in ctx.task_modules if m not in env.task_modules)


def current_context() -> RunContext:
    """The context this process runs under now: the YAHPO folder and extra task modules it was
    given (:func:`apply_context`) or its environment names. What a plan puts into its specs when
    not given a context, so that the workers see what the planning process saw.

    Example:
        >>> isinstance(current_context(), RunContext)
        True
    """
    env = RunContext.from_environment()
    yahpo = sys.modules.get("tasks.collections.yahpo")  # not imported: nothing was applied
    data = yahpo.data_dir() if yahpo is not None else None
    registry = sys.modules.get("bench.registry")
    modules = registry.task_modules() if registry is not None else env.task_modules
    return RunContext(yahpo_data=str(data) if data is not None else env.yahpo_data, task_modules=modules)
