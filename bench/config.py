"""The settings of ``python -m bench``: their types, and the checks of the keys that name them.

:class:`Settings` (with :class:`StudyConfig`, :class:`OptimizerChoice` and
:class:`BackendConfig`) is what a validated config becomes (:func:`bench.settings.settings_from_cfg`
builds it); :class:`ConfigError` is the one-line error of every bad setting. The key checks
give a did-you-mean before Hydra composes anything: :func:`check_overrides` for the command line,
:func:`check_keys` for a section of a YAML file. This module imports no other module of
``bench`` but the schema, so the config files, the sweep and the registry can all import it.

Example:
    >>> check_overrides(["n_jobs=2"])
    ['n_jobs=2']
    >>> check_keys("backend", ["name", "adress"], "backend file b.yaml")
    Traceback (most recent call last):
    ...
    bench.config.ConfigError: backend file b.yaml: backend.adress is not a backend setting: did you mean ...
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from omegaconf import ListConfig
from omegaconf.errors import OmegaConfBaseException

from bench.config_schema import keys_of

if TYPE_CHECKING:
    from optimizers.budget import Budget

MAX_SEED = 2**32 - 1
#: A seed count above this is a typo, not a study (``seeds: 1e6`` would build a million runs).
MAX_SEED_COUNT = 10_000
LIST_KINDS = ("tasks", "optimizers", "tasksets", "studies")
#: Keys of a study, an optimizer and a backend YAML: the fields of the typed schema
#: (bench/config_schema.py), so a key added there is accepted everywhere at once.
STUDY_KEYS = keys_of("study")
OPTIMIZER_KEYS = keys_of("optimizer")
BACKEND_KEYS = keys_of("backend")
#: A study name becomes a folder under output_dir: no separators, no hidden or parent folders
#: ('=' and ',' appear in the folders of swept settings, ``default--n_trials=20``).
STUDY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.,=+@-]*")
#: Config groups composed by Hydra: top-level keys besides those of conf/config.yaml.
GROUPS = ("study", "optimizer", "backend")
#: Folder (under output_dir) of the ad-hoc ``optimizer=X task=Y`` runs, one subfolder per pair.
SINGLE_DIR = "single"
#: A single-run folder name longer than this is cut and ends with a hash of the full name.
MAX_FOLDER_NAME = 80


class ConfigError(ValueError):
    """A bad setting; the message is one line naming the value and what is valid."""


@dataclass(frozen=True)
class OptimizerChoice:
    """An optimizer id with the class path and params to build it."""

    id: str
    target: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StudyConfig:
    """What to run: optimizers × tasks × seeds under one budget."""

    name: str
    optimizers: tuple[OptimizerChoice, ...]
    tasks: tuple[str, ...]
    seeds: tuple[int, ...]
    budget: Budget
    incompatible: Literal["error", "skip"] = "error"
    description: str = ""
    #: Wall-clock limits in seconds for one evaluation and for one whole run (``None``: none).
    trial_timeout: float | None = None
    run_timeout: float | None = None
    #: Simulated asynchronous workers per run (docs/simulated-workers.md); 1 = sequential.
    n_workers: int = 1


@dataclass(frozen=True)
class BackendConfig:
    """Where runs execute: ``loky`` (local processes) or ``dask`` (a cluster)."""

    name: Literal["loky", "threading", "dask"] = "loky"
    address: str | None = None
    n_workers: int | None = None
    #: Seconds to wait for the scheduler at ``address`` (``None``: the runner's default, 30 s).
    connect_timeout: float | None = None


@dataclass(frozen=True)
class Settings:
    """Everything ``python -m bench`` needs after validation.

    ``output_dir`` is the folder holding the study folder: the ``output_dir`` setting, or
    ``<output_dir>/single`` for ad-hoc ``optimizer=X task=Y`` runs, whose study folder is named
    after the pair (see :func:`single_run_name`). Results go to ``output_dir / study.name``.
    """

    study: StudyConfig
    output_dir: Path
    n_jobs: int = -1
    backend: BackendConfig = field(default_factory=BackendConfig)
    progress: bool = True
    #: Move a study's old runs that conflict with the plan into a dated folder, instead of refusing.
    move_old_runs: bool = False
    #: Seconds planning may take before a task that hangs while being built is reported.
    plan_timeout: float = 600.0
    #: The YAHPO data folder (``yahpo_data=``); it travels to the workers inside the run specs.
    yahpo_data: str | None = None
    #: ``optimizer=X task=Y`` without ``study=``: an ad-hoc run (seed 0 by default, own folder).
    single: bool = False


def interpolation_problem(exc: OmegaConfBaseException, origin: str) -> str:
    """One line for a ``${...}`` that does not resolve (or another OmegaConf error) in ``origin``.

    Example:
        >>> from omegaconf import OmegaConf
        >>> cfg = OmegaConf.create({"study": {"n_trials": "${nope}"}})
        >>> try:
        ...     OmegaConf.to_container(cfg, resolve=True)
        ... except OmegaConfBaseException as exc:
        ...     print(interpolation_problem(exc, "study file s.yaml"))  # doctest: +ELLIPSIS
        study file s.yaml: study.n_trials: Interpolation key 'nope' not found: refer to an existing key ...
    """
    key = getattr(exc, "full_key", None)
    cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return (
        f"{origin}: {key + ': ' if key else ''}{cause}: refer to an existing key "
        "(python -m bench --cfg shows the composed config) or give a value"
    )


def setting_keys() -> tuple[str, ...]:
    """The top-level keys ``python -m bench`` accepts: those of conf/config.yaml and the groups.

    Example:
        >>> {"n_trials", "study", "move_old_runs"} <= set(setting_keys())
        True
    """
    return keys_of("")


def unknown_setting(key: str, full: str, valid: Sequence[str]) -> ConfigError:
    """An unknown top-level key, with a did-you-mean (never Hydra's "use +key", which would run
    with the typo'd key ignored)."""
    if key in STUDY_KEYS:
        return ConfigError(f"{key} is a study setting, not a top-level one: use study.{full}")
    close = difflib.get_close_matches(key, valid, n=2, cutoff=0.6)
    close += [
        f"study.{k}" for k in difflib.get_close_matches(key, STUDY_KEYS, n=1, cutoff=0.75) if k not in valid
    ]
    hint = "did you mean " + " or ".join(repr(c) for c in close) + "? " if close else ""
    return ConfigError(
        f"{key} is not a setting: {hint}valid are {', '.join(valid)} (study keys go "
        "under study., e.g. study.seeds=3; see python -m bench --help)"
    )


def nested_key_problem(section: str, key: str, valid: Sequence[str]) -> str | None:
    """Why ``section.key`` is not a setting (with a did-you-mean), or ``None`` when it is one.

    Example:
        >>> nested_key_problem("study", "seed", ("seeds", "tasks"))
        "study.seed is not a study setting: did you mean 'study.seeds'? valid are seeds, tasks"
    """
    if key in valid:
        return None
    close = difflib.get_close_matches(key, valid, n=2, cutoff=0.6)
    hint = "did you mean " + " or ".join(repr(f"{section}.{c}") for c in close) + "? " if close else ""
    return f"{section}.{key} is not a {section} setting: {hint}valid are {', '.join(valid)}"


def check_keys(section: str, keys: Any, where: str) -> None:
    """Refuse keys a section's schema does not have, with a did-you-mean, naming ``where`` they were
    written (a YAML file); see :func:`bench.config_schema.keys_of`.

    Example:
        >>> check_keys("study", ["seeds", "n_trails"], "study file s.yaml")
        Traceback (most recent call last):
        ...
        bench.config.ConfigError: study file s.yaml: study.n_trails is not a study setting: did you mean ...
    """
    valid = keys_of(section)
    for key in keys:
        problem = None if str(key) == "defaults" else nested_key_problem(section, str(key), valid)
        if problem:
            raise ConfigError(f"{where}: {problem}")


def check_overrides(overrides: Sequence[str]) -> list[str]:
    """Refuse command-line keys that are not settings, and return the overrides to compose.

    Hydra refuses ``n_trial=10`` with "use +n_trial=10", which then runs with the typo ignored;
    here both forms get a did-you-mean. Keys a study, a backend or an optimizer may hold but
    whose YAML does not (``study.trial_timeout=30``, ``optimizer.params.n_ei_candidates=30``)
    need no ``+``: they are added or overridden, and validated later with the rest.

    Example:
        >>> check_overrides(["n_jobs=2", "optimizer.params.n_ei_candidates=30"])
        ['n_jobs=2', '++optimizer.params.n_ei_candidates=30']
        >>> check_overrides(["+n_trial=10"])
        Traceback (most recent call last):
        ...
        bench.config.ConfigError: n_trial is not a setting: did you mean 'n_trials'? valid are ...
    """
    from bench.config_schema import bool_keys

    valid = setting_keys()
    flags = bool_keys()
    out = []
    for ov in overrides:
        if "=" not in ov and not ov.startswith("~"):
            out.append(ov)  # a flag such as --multirun: Hydra's business
            continue
        key, sep, value = ov.lstrip("+~").partition("=")
        if sep and key in flags and value.strip().lower() not in ("true", "false"):
            # OmegaConf would read 1, yes or on as true: a flag is true or false, nothing else
            raise ConfigError(f"{key}={value!r} is invalid: use true or false")
        parts = key.split(".")
        if parts[0] == "hydra":
            out.append(ov)
            continue
        if parts[0] not in valid:
            raise unknown_setting(parts[0], key, valid)
        nested = {"study": STUDY_KEYS, "backend": BACKEND_KEYS, "optimizer": OPTIMIZER_KEYS}.get(parts[0])
        if nested and len(parts) > 1:
            problem = nested_key_problem(parts[0], parts[1], nested)
            if problem:
                raise ConfigError(problem)
        open_ended = (parts[0] in ("study", "backend") and len(parts) == 2) or parts[:2] == [
            "optimizer",
            "params",
        ]
        if open_ended and len(parts) > 1 and sep and not ov.startswith(("~", "++")):
            ov = f"++{key}={value}"
        out.append(ov)
    return out


def single_run_name(optimizers: Sequence[str], tasks: Sequence[str]) -> str:
    """The study folder of an ad-hoc run (under ``output_dir/single``): one per optimizer and task.

    Task separators become ``__`` as in run ids; a pattern, a list or an over-long name is made
    safe and bounded, and then ends with a hash of the full name so that names stay distinct.

    Example:
        >>> single_run_name(["optuna_tpe"], ["bbob/f03/d05/i01"])
        'optuna_tpe--bbob__f03__d05__i01'
        >>> single_run_name(["random_search"], ["bbob/f0[1-5]/*"])
        'random_search--bbob__f0_1-5____-942e1e05'
    """
    full = "+".join(optimizers) + "--" + "+".join(tasks)
    readable = full.replace("/", "__")
    name = re.sub(r"[^A-Za-z0-9_.,=+@-]", "_", readable)
    if name != readable or len(name) > MAX_FOLDER_NAME:
        digest = hashlib.sha256(full.encode()).hexdigest()[:8]
        name = f"{name[: MAX_FOLDER_NAME - len(digest) - 1]}-{digest}"
    return name


def check_seed(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise ConfigError(f"{what}={value!r} is not a valid seed: use an integer in [0, {MAX_SEED}]")
    return value


def parse_seeds(value: Any, what: str = "seeds") -> tuple[int, ...]:
    """``3`` → ``(0, 1, 2)``; ``[4, 7]`` → ``(4, 7)``."""
    if isinstance(value, (list, tuple, ListConfig)):
        seeds = tuple(check_seed(v, what) for v in value)
        if not seeds:
            raise ConfigError(f"{what}=[] is empty: give a count (e.g. seeds=3) or a list of seeds")
        if len(set(seeds)) != len(seeds):
            raise ConfigError(f"{what}={list(seeds)} has duplicates: give each seed once")
        return seeds
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SEED_COUNT:
        raise ConfigError(
            f"seeds={value!r} is invalid: use a count from 1 to {MAX_SEED_COUNT} (seeds=3) "
            "or a list ([0,1,2])"
        )
    return tuple(range(value))
