"""``python -m bench check``: run the plugin harness on one optimizer or task family and print what
passes and what fails.

    python -m bench check optimizer=my_es                # the optimizer contract suite
    python -m bench check task_family=toy max_tasks=5    # the task-family checks

The optimizer checks are :mod:`optimizers.contract`'s (its class loads, its library is installed,
its YAML's params are accepted, then every contract task it declares it can handle); the task
family's are :func:`bench.testing.check_task_family`'s. Every optimizer id and task family works,
shipped, from a ``--config-dir`` or from an installed plugin (:mod:`bench.plugins`). Exit status:
0 every check passed, 1 some check failed, 2 bad input (an unknown name gets a did-you-mean).

Example:
    >>> parse(["optimizer=random_search", "n_trials=4"])
    CheckRequest(kind='optimizer', name='random_search', n_trials=4, max_tasks=5, seed=0)
    >>> parse(["task_family=synthetic", "seed=-1"])
    Traceback (most recent call last):
    ...
    bench.config.ConfigError: seed='-1' is invalid: use a whole number >= 0
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.config import ConfigError
from bench.config_files import UnknownNameError, add_config_dir, unknown

USAGE = """\
python -m bench check optimizer=ID [n_trials=12] [--config-dir DIR]
python -m bench check task_family=NAME [max_tasks=5] [seed=0]

Runs the harness every plugin must pass and prints each check: pass, FAIL (with why) or n/a.
  optimizer=ID       the contract suite (optimizers/contract.py): valid configurations, fidelities
                     on the axis, same seed -> same trials, the space left unchanged, ...
  task_family=NAME   the task-family checks (bench.testing.check_task_family) on up to max_tasks
                     of its tasks
Exit status: 0 all passed, 1 some check failed, 2 bad input (nothing checked).
"""

#: The settings each kind of check takes, with their minimum.
_NUMBERS = {"n_trials": 2, "max_tasks": 1, "seed": 0}
_KEYS = {"optimizer": ("n_trials",), "task_family": ("max_tasks", "seed")}


@dataclass(frozen=True)
class CheckRequest:
    """What to check: ``kind`` is ``optimizer`` or ``task_family``."""

    kind: str
    name: str
    n_trials: int = 12
    max_tasks: int = 5
    seed: int = 0


def parse(args: Sequence[str]) -> CheckRequest:
    """The ``key=value`` words after ``check`` (see the module example); :class:`ConfigError` with
    one line for anything else."""
    values: dict[str, str] = {}
    for word in args:
        key, sep, value = word.partition("=")
        valid = [*_KEYS, *_NUMBERS]
        if not sep or not value:
            raise ConfigError(
                f"check takes key=value words, got {word!r}: e.g. python -m bench check "
                "optimizer=random_search"
            )
        if key not in valid:
            raise unknown("setting for check", key, valid, hint="python -m bench check --help")
        if key in values:
            raise ConfigError(f"{key} is given twice: check one {key} at a time")
        values[key] = value
    kinds = [k for k in _KEYS if k in values]
    if len(kinds) != 1:
        raise ConfigError(
            "check needs exactly one of optimizer=ID or task_family=NAME: e.g. "
            "python -m bench check optimizer=random_search"
        )
    kind = kinds[0]
    numbers: dict[str, int] = {}
    for key in _NUMBERS:
        if key not in values:
            continue
        if key not in _KEYS[kind]:
            raise ConfigError(
                f"{key}= goes with {'task_family' if kind == 'optimizer' else 'optimizer'}=, "
                f"not with {kind}=: see python -m bench check --help"
            )
        text = values[key]
        if not text.isdigit() or int(text) < _NUMBERS[key]:
            raise ConfigError(f"{key}={text!r} is invalid: use a whole number >= {_NUMBERS[key]}")
        numbers[key] = int(text)
    return CheckRequest(kind, values[kind], **numbers)


def _flags(args: Sequence[str]) -> tuple[list[str], bool]:
    """Take ``--config-dir DIR`` (``-cd``) and ``--help`` out of ``args``; the words left, and
    whether help was asked."""
    words, wants_help, i = [], False, 0
    while i < len(args):
        word = args[i]
        if word in ("-h", "--help"):
            wants_help = True
        elif word in ("-cd", "--config-dir") or word.startswith("--config-dir="):
            folder = word.partition("=")[2] if "=" in word else (args[i + 1] if i + 1 < len(args) else "")
            i += 0 if "=" in word else 1
            if not folder or not Path(folder).is_dir():
                raise ConfigError(
                    f"--config-dir {folder!r} is not a folder: give a folder holding "
                    "optimizer/, study/ or taskset/ YAMLs"
                )
            add_config_dir(Path(folder).resolve())
        elif word.startswith("-"):
            raise ConfigError(
                f"unknown flag {word!r} for check: it takes --config-dir DIR and "
                "key=value words (python -m bench check --help)"
            )
        else:
            words.append(word)
        i += 1
    return words, wants_help


# ----------------------------------------------------------------------------- optimizers


def check_optimizer_lines(name: str, n_trials: int = 12) -> tuple[list[str], bool]:
    """Run the contract suite on optimizer ``name``, one check at a time; the lines to print (a
    summary first, as :meth:`bench.testing.FamilyReport.lines` has it) and whether every check
    passed. An unknown id is an :class:`UnknownNameError` with a did-you-mean.

    Example:
        >>> lines, ok = check_optimizer_lines("random_search", n_trials=4)
        >>> ok, lines[0]
        (True, "optimizer 'random_search': 10 checks, all pass (1 not applicable)")
        >>> lines[2]
        '  pass  loads: optimizers.random_search.RandomSearch'
    """
    from omegaconf import OmegaConf

    from bench.config_files import config_file, optimizer_config
    from bench.plugins import optimizer_entries
    from bench.registry import optimizer_class
    from optimizers.contract import ContractError, applicable_tasks, check_task

    cfg = optimizer_config(name)  # an unknown id: a did-you-mean
    target = str(cfg.get("_target_"))
    source = config_file("optimizer", name) or " and ".join(e.origin for e in optimizer_entries()[name])
    lines = [f"  from {source}"]
    results: list[bool] = []

    def record(ok: bool, what: str, why: str = "") -> None:
        results.append(ok)
        lines.append(f"  {'pass' if ok else 'FAIL'}  {what}" + (f": {why}" if why else ""))

    def finish(not_applicable: int = 0) -> tuple[list[str], bool]:
        n, failed = len(results), results.count(False)
        verdict = "all pass" if not failed else f"{failed} failure{'s' * (failed != 1)}"
        n_a = f" ({not_applicable} not applicable)" if not_applicable else ""
        return [f"optimizer {name!r}: {n} check{'s' * (n != 1)}, {verdict}{n_a}", *lines], failed == 0

    try:
        cls = optimizer_class(target)
    except ConfigError as exc:
        record(False, "loads", str(exc))
        return finish()
    record(True, "loads", target)
    missing = cls.missing_requirement()
    if missing:
        record(False, "library installed", missing)
        return finish()
    raw = OmegaConf.to_container(cfg.get("params") or OmegaConf.create({}), resolve=True)
    params = {str(k): v for k, v in raw.items()} if isinstance(raw, dict) else {}
    try:
        problem = cls.check_params(params)
    except Exception as exc:  # the library's import, for a signature: a broken install
        problem = f"cannot check them: {type(exc).__name__}: {' '.join(str(exc).split())}"
    record(problem is None, f"params {params}" if params else "params (none)", problem or "")
    if problem:
        return finish()
    tasks, skipped = applicable_tasks(cls, n_trials)
    for task in tasks:
        try:
            check_task(cls, params, task, n_trials, name)
        except ContractError as exc:
            record(False, task.id, " ".join(str(exc).split()))
        except ImportError as exc:
            record(False, task.id, f"{type(exc).__name__}: {exc}")
        else:
            record(True, task.id)
    if not tasks:
        record(False, "applicable tasks", f"{cls.__name__} accepts none of the contract tasks")
    lines.extend(f"  n/a   {task_id}: {why}" for task_id, why in skipped)
    return finish(len(skipped))


# ----------------------------------------------------------------------------- task families


def check_family_lines(name: str, max_tasks: int = 5, seed: int = 0) -> tuple[list[str], bool]:
    """Run the task-family checks on family ``name``; the lines to print and whether every check
    passed (an unavailable family fails: nothing could be checked). An unknown family is an
    :class:`UnknownNameError` with a did-you-mean.

    Example:
        >>> lines, ok = check_family_lines("synthetic", max_tasks=2)
        >>> ok, lines[:2]
        (True, ["task family 'synthetic': 2 tasks checked, all pass", "  from task module 'tasks.synthetic'"])
    """
    from bench.registry import family_origin, task_families
    from bench.run_context import RunContext, apply_context
    from bench.testing import check_task_family

    apply_context(RunContext.from_environment())  # the YAHPO folder, extra task modules
    families = task_families()
    if name not in families:
        raise unknown("task family", name, families, hint="list them with: python -m bench list=tasks")
    report = check_task_family(families[name], max_tasks=max_tasks, seed=seed)
    lines, origin = report.lines(), family_origin(name)
    if origin not in lines[0]:  # a plugin that failed to load names itself in the reason already
        lines.insert(1, f"  from {origin}")
    return lines, report.ok


def main(args: Sequence[str]) -> int:
    """``python -m bench check ARGS``; returns the exit status (0 passed, 1 failed, 2 bad input)."""
    try:
        words, wants_help = _flags(args)
        if wants_help:
            print(USAGE, end="")
            return 0
        request = parse(words)
        if request.kind == "optimizer":
            lines, ok = check_optimizer_lines(request.name, request.n_trials)
        else:
            lines, ok = check_family_lines(request.name, request.max_tasks, request.seed)
    except (ConfigError, UnknownNameError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0 if ok else 1
