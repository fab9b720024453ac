"""Entry-point plugins, in process: what each group's entries become (optimizer configs, task
families, config folders) and what a broken or clashing plugin does. The entry points are faked
here (``bench.plugins.entries``); tests/test_bench_plugins_entry_points.py pip-installs a real plugin.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import registry
from bench.check_command import parse
from bench.config import ConfigError
from bench.config_files import UnknownNameError, extra_conf_dirs, optimizer_config, optimizer_ids, yaml_ids
from bench.plugins import CONFIG_GROUP, OPTIMIZERS_GROUP, TASK_FAMILIES_GROUP, Entry, forget

PLUGINS = Path(__file__).resolve().parent / "plugins"
RANDOM_SEARCH = "optimizers.random_search:RandomSearch"


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[Entry]]]:
    """Entry points as if installed: add ``Entry`` objects to the lists of their group (before the
    first lookup: they are read once, as from package metadata)."""
    fake: dict[str, list[Entry]] = {OPTIMIZERS_GROUP: [], TASK_FAMILIES_GROUP: [], CONFIG_GROUP: []}
    monkeypatch.setattr("bench.plugins.entries", functools.cache(lambda group: tuple(fake.get(group, ()))))
    forget()
    registry.forget_tasks()
    yield fake
    forget()
    registry.forget_tasks()


def _entry(group: str, name: str, value: str) -> Entry:
    return Entry(group, name, value, "toy-plugin 1.0")


# ----------------------------------------------------------------------------- optimizers


def test_an_entry_point_optimizer_needs_no_yaml(installed: dict[str, list[Entry]]) -> None:
    installed[OPTIMIZERS_GROUP].append(_entry(OPTIMIZERS_GROUP, "ep_random", RANDOM_SEARCH))
    assert "ep_random" in optimizer_ids() and "ep_random" in yaml_ids("optimizer")
    cfg = optimizer_config("ep_random")
    assert cfg["_target_"] == "optimizers.random_search.RandomSearch" and dict(cfg["params"]) == {}
    assert cfg["description"] == "RandomSearch from plugin toy-plugin 1.0"
    assert registry.optimizer_class(cfg["_target_"]).__name__ == "RandomSearch"


def test_a_yaml_of_the_same_id_wins_over_the_entry_point(installed: dict[str, list[Entry]]) -> None:
    installed[OPTIMIZERS_GROUP].append(_entry(OPTIMIZERS_GROUP, "hyperband", RANDOM_SEARCH))
    assert optimizer_config("hyperband")["_target_"] == "optimizers.hyperband.Hyperband"


def test_an_id_two_plugins_register_is_refused_naming_both(installed: dict[str, list[Entry]]) -> None:
    installed[OPTIMIZERS_GROUP] += [
        Entry(OPTIMIZERS_GROUP, "twice", "a.m:A", "plugin-a 1"),
        Entry(OPTIMIZERS_GROUP, "twice", "b.m:B", "plugin-b 2"),
    ]
    with pytest.raises(
        ConfigError,
        match=r"registered by 2 plugins: plugin plugin-a 1 .* and plugin "
        r"plugin-b 2 .*: uninstall one",
    ):
        optimizer_config("twice")


def test_an_optimizer_entry_without_a_class_is_refused(installed: dict[str, list[Entry]]) -> None:
    installed[OPTIMIZERS_GROUP].append(_entry(OPTIMIZERS_GROUP, "modonly", "optimizers.random_search"))
    with pytest.raises(ConfigError, match="names no class: use 'module:Class'"):
        optimizer_config("modonly")


# ----------------------------------------------------------------------------- task families


def test_a_plugin_family_joins_the_catalog(
    installed: dict[str, list[Entry]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    installed[TASK_FAMILIES_GROUP].append(_entry(TASK_FAMILIES_GROUP, "revised", "revision_plugin"))
    assert "revised/a" in registry.task_ids("revised")
    assert registry.make_task("revised/b").id == "revised/b"
    assert registry.family_origin("revised").startswith("plugin toy-plugin 1.0 (entry point revised")
    assert registry.family_origin("bbob") == "task module 'tasks.bbob'"


def test_a_callable_may_return_one_family(
    installed: dict[str, list[Entry]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    installed[TASK_FAMILIES_GROUP].append(_entry(TASK_FAMILIES_GROUP, "rev", "revision_plugin:RevisedFamily"))
    assert registry.task_ids("revised") == ("revised/a", "revised/b")


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("nxm_no_such_plugin_module", "ModuleNotFoundError: No module named 'nxm_no_such_plugin_module'"),
        ("raises_on_import", "RuntimeError"),
        ("tasks.base:TaskMeta", "TypeError"),  # calling it fails: a class, but not a family
        ("builtins:dict", "gave {}, not a list of tasks.base.TaskFamily objects"),
    ],
)
def test_a_broken_plugin_is_an_unavailable_family(
    installed: dict[str, list[Entry]], monkeypatch: pytest.MonkeyPatch, value: str, why: str
) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    installed[TASK_FAMILIES_GROUP].append(_entry(TASK_FAMILIES_GROUP, "broken", value))
    families = registry.task_families()
    assert "synthetic" in families  # the others stay usable
    reason = families["broken"].unavailable_reason() or ""
    assert reason.startswith("plugin toy-plugin 1.0 (entry point broken") and why in reason, reason
    with pytest.raises(UnknownNameError, match="task family 'broken' is unavailable"):
        registry.expand_tasks(["broken/x"])


def test_a_plugin_family_may_not_take_a_taken_name(
    installed: dict[str, list[Entry]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "nxm_clash.py").write_text("from tasks.synthetic import families\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    installed[TASK_FAMILIES_GROUP].append(_entry(TASK_FAMILIES_GROUP, "clash", "nxm_clash"))
    with pytest.raises(
        ConfigError,
        match=r"defines task family 'synthetic', which task module "
        r"'tasks\.synthetic' defines already: rename one",
    ):
        registry.task_families()


def test_an_entry_naming_a_loaded_task_module_is_not_loaded_twice(installed: dict[str, list[Entry]]) -> None:
    # A plugin under development may be named in NXMBENCH_TASK_MODULES as well: no clash with itself.
    installed[TASK_FAMILIES_GROUP].append(_entry(TASK_FAMILIES_GROUP, "mine", "tasks.synthetic:families"))
    assert registry.family_origin("synthetic") == "task module 'tasks.synthetic'"


# ----------------------------------------------------------------------------- config folders


def test_a_config_folder_is_found_without_importing_its_package(
    installed: dict[str, list[Entry]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    package = tmp_path / "nxm_cfg_plugin"
    (package / "conf" / "taskset").mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('imported')\n")
    (package / "conf" / "taskset" / "plugin_set.yaml").write_text("tasks: ['synthetic/branin']\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    installed[CONFIG_GROUP].append(_entry(CONFIG_GROUP, "cfg", "nxm_cfg_plugin.conf"))
    assert extra_conf_dirs()[-1] == (package / "conf").resolve()
    assert "plugin_set" in yaml_ids("taskset")
    assert "nxm_cfg_plugin" not in sys.modules


def test_a_missing_config_folder_is_reported_and_left_out(
    installed: dict[str, list[Entry]], capsys: pytest.CaptureFixture[str]
) -> None:
    installed[CONFIG_GROUP].append(_entry(CONFIG_GROUP, "cfg", "nxm_no_such_pkg.conf"))
    assert extra_conf_dirs() == extra_conf_dirs()  # reported once, not on every call
    err = capsys.readouterr().err
    assert err.count("warning: plugin toy-plugin 1.0 (entry point cfg") == 1, err
    assert "no package folder 'nxm_no_such_pkg.conf' found" in err


# ----------------------------------------------------------------------------- check's words


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ([], "needs exactly one of optimizer=ID or task_family=NAME"),
        (["optimizer=a", "task_family=b"], "needs exactly one of"),
        (["optimizer=a", "max_tasks=3"], "max_tasks= goes with task_family=, not with optimizer="),
        (["task_family=a", "n_trials=3"], "n_trials= goes with optimizer=, not with task_family="),
        (["optimizer=a", "n_trials=1"], "n_trials='1' is invalid: use a whole number >= 2"),
        (["optimizer"], "check takes key=value words"),
        (["optimizer=a", "optimizer=b"], "optimizer is given twice"),
        (["optimiser=a"], "did you mean 'optimizer'"),
    ],
)
def test_check_refuses_bad_words_with_one_line(words: list[str], message: str) -> None:
    with pytest.raises((ConfigError, UnknownNameError), match=message) as info:
        parse(words)
    assert "\n" not in str(info.value)
