"""Load study results for analysis, and check that the runs loaded together are comparable.

:func:`load` and :func:`load_runs` are the runner's loaders. :func:`comparability_groups` tells
whether the runs of a folder belong together: one study, one budget, one set of time limits and
simulated workers, one meaning per optimizer id and per task id. A results root (a folder of study
folders), or a study folder holding runs of an older plan, mixes runs that must not be ranked as one
study; the report refuses such results unless told to go on (``allow_mixed``).

Example:
    >>> from analysis import load
    >>> df = load("results/default")  # doctest: +SKIP
    >>> df.groupby(["task", "optimizer"], observed=True).value.min()  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bench.results import decode_objectives, load_runs
from bench.results import load as _load_results
from bench.study_folder import run_settings

__all__ = [
    "MixedResultsError",
    "SettingGroups",
    "comparability_groups",
    "describe_mixture",
    "load",
    "load_runs",
]


def load(path: Any, columns: Sequence[str] | None = None, baselines: str | None = None) -> pd.DataFrame:
    """All trials under ``path`` as one long DataFrame (``bench.results.load``), optionally with the
    archived baselines added (``baselines="archive"``, or an archive folder).

    With baselines, every archived optimizer not among the runs is added on the runs' tasks and
    seeds, at their budget (``analysis.baselines.add_baselines``; entries that do not compare are
    refused, and nothing comparable raises a one-line ``ValueError``); a ``source`` column says
    ``runs`` or ``archive`` per row.

    Example:
        >>> df = load("results/dev_bb", baselines="archive")  # doctest: +SKIP
        >>> df.groupby("source", observed=True).optimizer.nunique()  # doctest: +SKIP
    """
    if baselines is None:
        return _load_results(path, columns)
    from analysis.baselines import add_baselines
    from bench.results import read_manifest

    df = add_baselines(_load_results(path), load_runs(path), read_manifest(path), source=baselines).trials
    return df[[*columns, "source"]] if columns else df


@dataclass(frozen=True)
class SettingGroups:
    """One setting that differs between runs loaded together, and how many runs have each value.

    Attributes:
        setting: ``"study"``, ``"budget n_trials"``, ``"budget time"``, ``"n_workers"``,
            ``"trial_timeout"``, ``"run_timeout"``, ``"optimizer_target/params"`` or
            ``"task_revision"`` or ``"objectives"``.
        subject: the optimizer id (``optimizer_target/params``) or task id (``task_revision``,
            ``objectives``) the setting belongs to; ``None`` for settings of the whole run.
        counts: ``(value, runs)`` pairs, most runs first; values are shown as they read in a config.

    Example:
        >>> g = SettingGroups("budget n_trials", None, (("100", 174), ("10", 14)))
        >>> g.describe()
        'runs with budget n_trials=100 (174 runs) and n_trials=10 (14 runs)'
    """

    setting: str
    subject: str | None
    counts: tuple[tuple[str, int], ...]

    def describe(self, max_values: int = 4) -> str:
        """One phrase naming the groups (for messages and the report's warning)."""
        shown = self.counts[:max_values]
        more = len(self.counts) - len(shown)
        if self.setting == "study":
            parts = [f"{v} ({_runs(n)})" for v, n in shown]
            return f"{len(self.counts)} studies: " + _listing(parts, more, ", ")
        if self.setting == "optimizer_target/params":
            parts = [f"{v} ({_runs(n)})" for v, n in shown]
            return f"runs of optimizer {self.subject!r} with target and parameters " + _listing(parts, more)
        key = self.setting.split(" ")[-1]
        parts = [f"{key}={v} ({_runs(n)})" for v, n in shown]
        owner = f" of task {self.subject!r}" if self.subject is not None else ""
        budget = "budget " if self.setting.startswith("budget") else ""
        return f"runs{owner} with {budget}" + _listing(parts, more)


def _listing(parts: Sequence[str], more: int, last: str = " and ") -> str:
    if more:
        return ", ".join(parts) + f"{last}{more} more"
    return ", ".join(parts[:-1]) + last + parts[-1] if len(parts) > 1 else "".join(parts)


def _runs(n: int) -> str:
    return f"{n} run{'' if n == 1 else 's'}"


def _value(v: Any) -> str:
    """A setting's value as a config would spell it: 100 not 100.0, none not None."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int | float):
        return f"{v:g}" if float(v) != int(v) or abs(v) >= 1e15 else str(int(v))
    return repr(v) if isinstance(v, str) else str(v)


#: The run-wide settings, as named in messages, and their keys in ``run_settings``, which fills in
#: the defaults that ``RunSpec.to_dict`` leaves out (a missing key is the default, never a
#: difference). ``n_trials`` has no default: it was always written; a run without a budget counts
#: as having no time cap.
_RUN_SETTINGS = {
    "budget n_trials": "n_trials",
    "budget time": "time_budget",
    "n_workers": "n_workers",
    "trial_timeout": "trial_timeout",
    "run_timeout": "run_timeout",
}


def _metas(runs_meta: pd.DataFrame) -> Iterator[tuple[Mapping[str, Any] | None, Any]]:
    """(metadata dict or None, study) per run of a ``load_runs`` frame, or of a frame with ``study``."""
    none: list[Any] = [None] * len(runs_meta)
    metas: Sequence[Any] = list(runs_meta["meta"]) if "meta" in runs_meta.columns else none
    studies: Sequence[Any] = list(runs_meta["study"]) if "study" in runs_meta.columns else none
    for m, s in zip(metas, studies, strict=True):
        meta = m if isinstance(m, Mapping) else None
        study = meta.get("study", s) if meta is not None else s
        yield meta, (None if study is None or (isinstance(study, float) and pd.isna(study)) else study)


def comparability_groups(
    runs_meta: pd.DataFrame | None, trials: pd.DataFrame | None = None
) -> list[SettingGroups]:
    """The settings that differ between runs, each with its groups; empty when the runs are comparable.

    Runs are comparable when they come from one study and share the budget (``n_trials`` and the
    simulated-time cap), the simulated ``n_workers``, the ``trial_timeout`` and ``run_timeout``,
    and when every optimizer id means one target with one set of parameters and every task id one
    task revision and one list of objectives (names and directions). A key that runs written by an
    older version lack counts as its default (no limits, one worker, no revision), not as a
    difference; a run without metadata, or a setting without a default (study, ``n_trials``,
    target, objectives) that a run does not record, adds no group.

    Args:
        runs_meta: one row per run: ``bench.results.load_runs`` (its ``meta`` dicts), or any frame
            with a ``study`` column; ``None`` when there is no run metadata.
        trials: the long trials frame, optional: its ``study`` column names the studies when the
            metadata cannot (absent, or without study names).

    Returns:
        One :class:`SettingGroups` per differing setting: run-wide settings first, then per
        optimizer id, then per task id (each sorted).

    Example:
        >>> runs = pd.DataFrame({"meta": [
        ...     {"study": "a", "spec": {"budget": {"n_trials": 100}, "n_workers": 1}},
        ...     {"study": "a", "spec": {"budget": {"n_trials": 100.0, "time": None}}},
        ...     {"study": "a", "spec": {"budget": {"n_trials": 10}}}]})
        >>> [g.describe() for g in comparability_groups(runs)]
        ['runs with budget n_trials=100 (2 runs) and n_trials=10 (1 run)']
        >>> comparability_groups(runs.iloc[:2])
        []
    """
    counts: dict[tuple[str, str | None], Counter[str]] = {}

    def add(setting: str, subject: str | None, value: str, n: int = 1) -> None:
        counts.setdefault((setting, subject), Counter())[value] += n

    for meta, study in _metas(runs_meta) if runs_meta is not None else ():
        if study is not None:
            add("study", None, repr(str(study)))
        spec = meta.get("spec") if meta is not None else None
        if not isinstance(spec, Mapping):
            continue
        settings = {"time_budget": None, **run_settings(spec)}
        for setting, key in _RUN_SETTINGS.items():
            if key in settings:
                add(setting, None, _value(settings[key]))
        target = spec.get("optimizer_target")
        if spec.get("optimizer") is not None and target is not None:
            params = spec.get("optimizer_params") or {}
            args = ", ".join(
                f"{k}={json.dumps(v, sort_keys=True, default=str)}" for k, v in sorted(params.items())
            )
            add("optimizer_target/params", str(spec["optimizer"]), f"{target}({args})")
        if spec.get("task") is not None:
            add("task_revision", str(spec["task"]), _value(str(spec.get("task_revision") or "")))
            objectives = _objectives(meta)
            if objectives is not None:
                add("objectives", str(spec["task"]), objectives)
    if "study" not in {s for s, _ in counts} and trials is not None and "study" in trials.columns:
        _trial_studies(trials, add)
    order = ["study", *_RUN_SETTINGS, "optimizer_target/params", "task_revision", "objectives"]
    out = [
        SettingGroups(setting, subject, tuple(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))))
        for (setting, subject), c in counts.items()
        if len(c) > 1
    ]
    return sorted(out, key=lambda g: (order.index(g.setting), g.subject or ""))


def _objectives(meta: Mapping[str, Any] | None) -> str | None:
    """A run's recorded objectives as one phrase (``'loss min, accuracy max'``); ``None`` when it
    records none (a run whose task could not be built) or records them malformed."""
    try:
        objectives = decode_objectives((meta or {})["objectives"])
    except (KeyError, ValueError, TypeError):
        return None
    return repr(", ".join(f"{o.name} {'min' if o.minimize else 'max'}" for o in objectives))


def _trial_studies(trials: pd.DataFrame, add: Callable[[str, str | None, str, int], None]) -> None:
    """Count runs per study from the trial rows (only when they name more than one study: cheap)."""
    studies = pd.unique(trials["study"].dropna())
    if len(studies) < 2:
        return
    key = (
        ["run_id"]
        if "run_id" in trials.columns
        else [c for c in ("task", "optimizer", "seed") if c in trials.columns]
    )
    runs = trials[["study", *key]].drop_duplicates()
    for study, n in runs["study"].astype(str).value_counts().items():
        add("study", None, repr(str(study)), int(n))


def describe_mixture(groups: Sequence[SettingGroups], max_settings: int = 3) -> str:
    """The differing settings in one line, for an error message or a warning.

    Example:
        >>> describe_mixture([SettingGroups("study", None, (("'a'", 120), ("'b'", 30)))])
        "2 studies: 'a' (120 runs), 'b' (30 runs)"
    """
    shown = [g.describe() for g in groups[:max_settings]]
    more = len(groups) - len(shown)
    return "; ".join(shown) + (f"; and {more} more differing settings" if more else "")


class MixedResultsError(ValueError):
    """Results that mix studies or incomparable settings; ``groups`` says which (one-line message).

    ``subject`` opens the message and carries its verb (``"results/x mixes"``).

    Example:
        >>> studies = SettingGroups("study", None, (("'a'", 2), ("'b'", 1)))
        >>> err = MixedResultsError("results/x mixes", [studies])
        >>> str(err).split(";")[0]
        "results/x mixes 2 studies: 'a' (2 runs), 'b' (1 run)"
    """

    def __init__(self, subject: str, groups: Sequence[SettingGroups], way_out: str | None = None) -> None:
        self.groups = list(groups)
        way_out = way_out or (
            "analyse one study folder at a time, or pass allow_mixed=True to report them together "
            "under a warning that names these groups"
        )
        super().__init__(f"{subject} {describe_mixture(self.groups)}; {way_out}")
