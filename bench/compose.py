"""Hydra's composition of the bench config with a command line's overrides.

Its own module so that the commands beside ``python -m bench`` (``archive build`` checks the
settings it hands to its sweeps) compose exactly as it does, without importing its entry point.

Example:
    >>> compose_config(["study=dev_bb", "n_jobs=2"]).n_jobs  # doctest: +SKIP
    2
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.config import LIST_KINDS, ConfigError, check_overrides
from bench.config_files import LIST_NAMES, unknown, yaml_ids

if TYPE_CHECKING:
    from omegaconf import DictConfig

__all__ = ["FILE_GROUPS", "compose_checked", "compose_config", "group_choices", "searchpath_override"]

#: Config groups whose values name YAML files under conf/ (optimizer ids are checked by the plan).
FILE_GROUPS = ("study", "backend")


def group_choices(overrides: Sequence[str]) -> dict[str, str]:
    """Group selections among the overrides, checked so a typo gets a one-line did-you-mean.

    Example:
        >>> group_choices(["study=dev_bb", "n_jobs=2"])
        {'study': 'dev_bb'}
    """
    chosen: dict[str, str] = {}
    for ov in overrides:
        key, sep, value = ov.lstrip("+~").partition("=")
        if sep and key in FILE_GROUPS:
            valid = yaml_ids(key)
            if value not in valid:
                hint = f"list them with: python -m bench list={LIST_NAMES[key]}" if key in LIST_NAMES else ""
                raise unknown(key, value, valid, hint=hint)
            chosen[key] = value
        if sep and key == "list" and value not in LIST_KINDS:
            raise ConfigError(f"list={value!r} is invalid: use one of {', '.join(LIST_KINDS)}")
    return chosen


def compose_config(overrides: Sequence[str], with_hydra: bool = False) -> DictConfig:
    """Hydra's composition of conf/config.yaml (typed by bench/config_schema.py) with ``overrides``."""
    from hydra import compose, initialize_config_dir

    from bench.config_files import check_config_file, conf_dir
    from bench.config_schema import register

    register()
    # unknown keys get a did-you-mean, not Hydra's "use +key"
    overrides = [*check_overrides(overrides), *searchpath_override()]
    # The files Hydra will read, read strictly first: a bad one is named (not UTF-8, not a mapping,
    # a key the schema does not have).
    for group, name in {"study": "default", "backend": "loky", **group_choices(overrides)}.items():
        check_config_file(group, name)
    with initialize_config_dir(config_dir=str(conf_dir()), version_base=None):
        return compose("config", overrides=list(overrides), return_hydra_config=with_hydra)


def compose_checked(overrides: Sequence[str], with_hydra: bool = False) -> DictConfig:
    """:func:`compose_config`, with what Hydra or OmegaConf refuse, a top-level key outside the
    schema and a ``${...}`` that does not resolve each turned into one :class:`ConfigError` line.

    Example:
        >>> compose_checked(["n_jobs=abc"])  # doctest: +SKIP
        Traceback (most recent call last):
        ...
        bench.config.ConfigError: n_jobs='abc' is invalid: ...
    """
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from bench.config_schema import validation_problem
    from bench.settings import check_composed
    from bench.sweep import quote_hint

    choices = group_choices(overrides)
    try:
        cfg = compose_config(overrides, with_hydra)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(validation_problem(exc) + quote_hint(overrides)) from exc
    check_composed(cfg, overrides, choices)
    return cfg


def searchpath_override() -> list[str]:
    """User config folders (``--config-dir``, ``$NXMBENCH_CONFIG_PATH``, plugins) as the Hydra
    override that puts them on its search path, so their groups can be selected too.

    Example:
        >>> searchpath_override()  # doctest: +SKIP
        ['hydra.searchpath=[file:///home/me/my_conf]']
    """
    from bench.config_files import extra_conf_dirs

    extra = extra_conf_dirs()
    return [f"hydra.searchpath=[{','.join(f'file://{d.resolve()}' for d in extra)}]"] if extra else []
