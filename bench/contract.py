"""The optimizer contract suite on a registered optimizer id: ``check_optimizer("random_search")``.

:mod:`optimizers.contract` is the suite itself; it takes an optimizer class, so it needs nothing
of the runner. This module adds what does need the runner's registry: finding an id's YAML
(``conf/optimizer/<id>.yaml``, a folder of ``NXMBENCH_CONFIG_PATH`` or a plugin's), importing its
``_target_`` class and merging its ``params`` under the caller's.

Example:
    >>> report = check_optimizer("random_search", n_trials=5)
    >>> "contract/mixed" in report.checked
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from bench.registry import optimizer_class, optimizer_config
from optimizers import contract
from optimizers.base import Optimizer
from optimizers.contract import ContractReport


def resolve(
    optimizer: str | type[Optimizer], params: Mapping[str, Any] | None = None
) -> tuple[str, type[Optimizer], dict[str, Any]]:
    """(name, class, params) of an optimizer id or class; ``params`` override the YAML's.

    Example:
        >>> name, cls, params = resolve("random_search")
        >>> cls.__name__, params
        ('RandomSearch', {})
    """
    if isinstance(optimizer, str):
        cfg = optimizer_config(optimizer)
        raw = cfg.get("params")
        base = OmegaConf.to_container(raw, resolve=True) if isinstance(raw, DictConfig) else {}
        assert isinstance(base, dict)
        merged = {str(k): v for k, v in base.items()} | dict(params or {})
        return optimizer, optimizer_class(str(cfg["_target_"])), merged
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        return optimizer.__name__, optimizer, dict(params or {})
    raise ValueError(f"optimizer must be an optimizer id (str) or an Optimizer subclass, got {optimizer!r}")


def check_optimizer(
    optimizer: str | type[Optimizer],
    params: Mapping[str, Any] | None = None,
    n_trials: int = 12,
) -> ContractReport:
    """Run the whole contract suite (:func:`optimizers.contract.check_optimizer`) on an optimizer
    id (``conf/optimizer/<id>.yaml``) or class.

    Raises :class:`~optimizers.contract.ContractError` on the first violation, ``ImportError``
    when the optimizer's library is not installed.

    Example:
        >>> report = check_optimizer("hyperband", n_trials=13)
        >>> report.checked
        ('contract/mf-continuous', 'contract/mf-discrete', 'contract/mf-conditional')
    """
    if n_trials < 2:  # before resolving: a bad n_trials is named even for an id whose library is missing
        raise ValueError(f"n_trials must be >= 2 to compare sequences, got {n_trials}")
    name, cls, merged = resolve(optimizer, params)
    return contract.check_optimizer(cls, merged, n_trials, name)
