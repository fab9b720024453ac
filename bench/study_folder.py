"""One meaning per study folder: check a plan against the runs already there, keep the plan history.

A study folder (``<output_dir>/<study>``) holds the runs of one study. A later plan may extend or
narrow its grid (other optimizers, tasks or seeds, run with the same settings), but it may never
change what a run means: finished runs are never replaced by runs of other settings, nor mixed
with them. :func:`prepare_study_folder` runs after planning and before a sweep writes anything:

* it reads the settings of the runs already in ``runs/`` (file footers only, cached in the hidden
  ``.runs-index.json`` keyed on each file's name, size, mtime and inode) and the plan history of
  ``study.json``;
* a plan that conflicts with them is refused with one line (:class:`StudyFolderConflict`): another
  budget (``n_trials``), ``time_budget``, ``n_workers``, ``trial_timeout`` or ``run_timeout``
  (study-wide: every run of a folder shares them), an optimizer id with another target or params,
  a task id with another revision, or, as a catch-all, a planned run whose file holds another
  spec (:attr:`bench.spec.RunSpec.fingerprint`);
* with ``move_old_runs=true`` exactly the conflicting runs are renamed instead into
  ``superseded/<UTC time>/runs/`` with a copy of the then ``study.json``: nothing is deleted or
  overwritten, and loading the study skips them;
* the plan is appended to the ``plans`` history of ``study.json``; its top-level keys describe the
  latest plan, except ``runs`` and ``refused``, which cover every plan whose runs are still valid
  (the expected grid of the whole folder).

All of it happens under an advisory lock (``.study.lock``), so two sweeps started at once on one
study both record their plan, and the second is checked against the first.

Example:
    >>> import dataclasses, tempfile
    >>> from bench.config import OptimizerChoice
    >>> from bench.plan import make_plan
    >>> from optimizers.base import Budget
    >>> rs = OptimizerChoice("random_search", "optimizers.random_search.RandomSearch")
    >>> study = StudyConfig("demo", (rs,), ("synthetic/branin",), (0,), Budget(5))
    >>> folder = Path(tempfile.mkdtemp()) / "demo"
    >>> prepare_study_folder(folder, make_plan(study), study)   # a new study: nothing to say
    []
    >>> prepare_study_folder(folder, make_plan(study), study)   # the same plan again: a resume
    ["study 'demo': resuming; 0 runs already done, 1 still to run"]
    >>> more = dataclasses.replace(study, budget=Budget(10))
    >>> try:
    ...     prepare_study_folder(folder, make_plan(more), more)
    ... except StudyFolderConflict as exc:  # what differs, between the folder and the ways out
    ...     print(str(exc).split("settings: ")[1].split("; finished")[0])
    n_trials 5 (planned; no run in the folder) → 10
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.config import ConfigError, StudyConfig
from bench.results import (
    MANIFEST,
    SUPERSEDED,
    ResultWriteError,
    _atomic_file,
    read_run_meta,
    read_study_json,
    write_manifest,
)
from bench.spec import RunSpec

if TYPE_CHECKING:
    from bench.plan import Plan

#: Hidden files of a study folder: the advisory lock, and the cache of run-file settings.
LOCK_FILE = ".study.lock"
INDEX_FILE = ".runs-index.json"
#: Bump when the cached record changes shape: an index of another version is ignored.
INDEX_VERSION = 1
#: Settings every run of one study folder shares, named as on the command line.
STUDY_WIDE = ("n_trials", "time_budget", "n_workers", "trial_timeout", "run_timeout")
#: Differences named in the refusal line; more are counted.
MAX_SHOWN = 4
_RUN_SUFFIX = ".parquet"
#: A key a spec or plan entry does not hold (``None`` is a value: no limit).
_ABSENT: Any = object()


class StudyFolderConflict(ConfigError):
    """A plan that would replace or mix with runs of other settings; one line with the ways out."""


@dataclass(frozen=True)
class FolderRun:
    """A run file in ``<study>/runs/``, as its footer describes it.

    Example:
        >>> FolderRun("t--o--s0.parquet", {"task": "t"}, "ab12", "ok").run_id
        't--o--s0'
    """

    name: str
    spec: Mapping[str, Any]
    fingerprint: str | None
    status: str | None

    @property
    def run_id(self) -> str:
        return self.name[: -len(_RUN_SUFFIX)]


@dataclass
class Conflict:
    """One setting of the plan that differs from runs already in the folder (or from its history).

    ``old`` maps each old value, as displayed, to the number of runs in the folder holding it
    (0: only an earlier plan names it); ``names`` are the conflicting run files.

    Example:
        >>> Conflict("study", "n_trials", {"100": 174}, "10").describe()
        'n_trials 100 → 10 (174 runs)'
        >>> Conflict("task", "lcdb/3", {"''": 10}, "'splits=(0, 1)'").describe()
        "task lcdb/3 revision '' → 'splits=(0, 1)' (10 runs)"
    """

    kind: str  # "study" (a study-wide setting), "optimizer", "task" or "run" (the catch-all)
    subject: str
    old: dict[str, int]
    new: str
    names: set[str] = field(default_factory=set)
    #: What changed of the subject, when not all of it: ``params`` of an optimizer.
    aspect: str = ""

    def describe(self) -> str:
        if self.kind == "run":  # the catch-all: one group of planned runs whose file holds another spec
            ((detail, n),) = self.old.items()
            return f"{_runs(n)} with another spec ({detail}): {self.subject}"
        head = {
            "study": self.subject,
            "optimizer": f"optimizer {self.subject}",
            "task": f"task {self.subject} revision",
        }[self.kind]
        head += f" {self.aspect}" if self.aspect else ""
        if len(self.old) == 1 and next(iter(self.old.values())):
            ((value, n),) = self.old.items()
            return f"{head} {value} → {self.new} ({_runs(n)})"
        olds = ", ".join(
            f"{v} ({_runs(n) if n else 'planned; no run in the folder'})" for v, n in self.old.items()
        )
        return f"{head} {olds} → {self.new}"


# ----------------------------------------------------------------------------- settings of a run


def _number(v: Any) -> Any:
    # 100 and 100.0 are one budget: JSON keeps whatever type the writer used.
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


def _key(v: Any) -> str:
    return json.dumps(_number(v), sort_keys=True, default=str)


def show_value(v: Any) -> str:
    """A value as a config spells it: 100 not 100.0, none not None.

    Example:
        >>> show_value(100.0), show_value(None), show_value(0.5)
        ('100', 'none', '0.5')
    """
    if v is None:
        return "none"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, str):
        return repr(v)
    return json.dumps(v, default=str) if isinstance(v, dict | list) else str(v)


def run_settings(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The study-wide settings of a run's ``spec`` dict (its file's metadata).

    ``RunSpec.to_dict`` leaves out unset time limits and ``n_workers`` 1, and runs of older
    versions lack some keys: a missing key is the default, never a difference. A run without a
    budget has no ``n_trials``/``time_budget`` to compare.

    Example:
        >>> run_settings({"budget": {"n_trials": 100, "time": None}})
        {'n_trials': 100.0, 'time_budget': None, 'n_workers': 1.0, 'trial_timeout': None, 'run_timeout': None}
    """
    out: dict[str, Any] = {}
    budget = spec.get("budget")
    if isinstance(budget, Mapping):
        if "n_trials" in budget:
            out["n_trials"] = _number(budget["n_trials"])
        out["time_budget"] = _number(budget.get("time"))
    filled = {**RunSpec.omitted_defaults(), **spec}
    for key in ("n_workers", "trial_timeout", "run_timeout"):
        out[key] = _number(filled[key])
    return out


def _plan_settings(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Study-wide settings an entry of the plan history records (a key it lacks: unknown)."""
    out: dict[str, Any] = {}
    budget = entry.get("budget")
    if isinstance(budget, Mapping):
        if "n_trials" in budget:
            out["n_trials"] = _number(budget["n_trials"])
        if "time" in budget:
            out["time_budget"] = _number(budget["time"])
    for key in ("n_workers", "trial_timeout", "run_timeout"):
        if key in entry:
            out[key] = _number(entry[key])
    return out


def _study_settings(study: StudyConfig) -> dict[str, Any]:
    return {
        "n_trials": _number(study.budget.n_trials),
        "time_budget": _number(study.budget.time),
        "n_workers": _number(study.n_workers),
        "trial_timeout": _number(study.trial_timeout),
        "run_timeout": _number(study.run_timeout),
    }


def _filled(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A spec dict with the defaults ``RunSpec.to_dict`` leaves out, to compare two specs."""
    out = {**RunSpec.omitted_defaults(), "optimizer_params": {}, **spec}
    out.pop("study", None)
    return out


# ----------------------------------------------------------------------------- reading the folder


def _read_index(study_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((study_dir / INDEX_FILE).read_text())
    except (OSError, ValueError):  # absent or damaged: it is only a cache
        return {}
    files = data.get("files") if isinstance(data, dict) and data.get("version") == INDEX_VERSION else None
    return files if isinstance(files, dict) else {}


def _write_index(study_dir: Path, files: Mapping[str, Any]) -> None:
    # A cache that cannot be written costs the next sweep some footer reads, nothing more.
    with contextlib.suppress(OSError), _atomic_file(study_dir / INDEX_FILE) as tmp:
        tmp.write_text(
            json.dumps({"version": INDEX_VERSION, "files": files}, separators=(",", ":"), default=str)
        )


def scan_runs(study_dir: Path) -> list[FolderRun]:
    """The run files of ``<study_dir>/runs/`` with their spec, fingerprint and status.

    Only footers are read, and only of files the cache (``.runs-index.json``) does not know by
    name, size, mtime and inode: a re-written run is a new file (atomic replace), so it is read
    again. A file whose footer cannot be read is left out: it is resume's business (it moves a
    damaged file aside and redoes the run).

    Example:
        >>> import tempfile
        >>> scan_runs(Path(tempfile.mkdtemp()))
        []
    """
    runs_dir = study_dir / "runs"
    if not runs_dir.is_dir():
        return []
    index = _read_index(study_dir)
    fresh: dict[str, Any] = {}
    out: list[FolderRun] = []
    changed = False
    with os.scandir(runs_dir) as entries:
        files = [e for e in entries if e.name.endswith(_RUN_SUFFIX) and not e.name.startswith(".")]
    for entry in files:
        try:
            st = entry.stat()
        except OSError:  # moved away meanwhile
            continue
        key = [st.st_size, st.st_mtime_ns, st.st_ino]
        cached = index.get(entry.name)
        if isinstance(cached, list) and len(cached) == 2 and cached[0] == key and isinstance(cached[1], dict):
            record = cached[1]
        else:
            try:
                meta = read_run_meta(Path(entry.path))
            except Exception:  # damaged or foreign: resume moves it aside, this check skips it
                continue
            spec = meta.get("spec")
            record = {
                "spec": spec if isinstance(spec, dict) else {},
                "fingerprint": meta.get("fingerprint"),
                "status": meta.get("status"),
            }
            changed = True
        fresh[entry.name] = [key, record]
        spec = record.get("spec")
        out.append(
            FolderRun(
                entry.name,
                spec if isinstance(spec, dict) else {},
                record.get("fingerprint"),
                record.get("status"),
            )
        )
    if changed or fresh.keys() != index.keys():
        _write_index(study_dir, fresh)
    return sorted(out, key=lambda r: r.name)


def plan_history(manifest: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The ``plans`` of a ``study.json``; one written before the history existed gives one entry
    made of its top-level keys (they describe its latest plan), keeping only keys it has.

    Example:
        >>> plan_history({"planned_at": "2025-01-01", "budget": {"n_trials": 100, "time": None},
        ...               "runs": [{}, {}]})
        [{'planned_at': '2025-01-01', 'budget': {'n_trials': 100, 'time': None}, 'runs': 2, \
'recorded': 'before study.json kept a plan history'}]
    """
    if manifest is None:
        return []
    plans = manifest.get("plans")
    if isinstance(plans, list):
        return [dict(p) for p in plans if isinstance(p, Mapping)]
    entry: dict[str, Any] = {
        k: manifest[k] for k in ("planned_at", "optimizers", "seeds", "budget", "n_workers") if k in manifest
    }
    if isinstance(manifest.get("tasks"), list):
        entry["tasks"] = {"count": len(manifest["tasks"])}
    for key in ("runs", "refused"):
        if isinstance(manifest.get(key), list):
            entry[key] = len(manifest[key])
    entry["recorded"] = "before study.json kept a plan history"
    return [entry]


def _binding(plans: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """Plans a new one must agree with: those since the last move of old runs (a move sets the
    plans before it aside, with the runs that disagreed with it)."""
    last_move = max((i for i, p in enumerate(plans) if "moved" in p), default=0)
    return plans[last_move:]


# ----------------------------------------------------------------------------- conflicts


def _params_text(params: Mapping[str, Any], keys: Iterable[str]) -> str:
    shown = [f"{k}: {json.dumps(params[k], default=str)}" for k in keys if k in params]
    return "{" + ", ".join(shown) + "}"


def _optimizer_conflict(
    oid: str, olds: Mapping[tuple[str, str], int], new: tuple[str, str], names: set[str]
) -> Conflict:
    """Old and new (target, params) of an optimizer id, shown by what differs only."""
    new_params = json.loads(new[1])
    old_params = {ident: json.loads(ident[1]) for ident in olds}
    show_target = any(ident[0] != new[0] for ident in olds)
    keys = sorted(
        {
            k
            for p in old_params.values()
            for k in {*p, *new_params}
            if _key(p.get(k, _ABSENT)) != _key(new_params.get(k, _ABSENT))
        }
    )

    def text(target: str, params: Mapping[str, Any]) -> str:
        if not show_target:
            return _params_text(params, keys)
        return f"target {target}" + (f" params {_params_text(params, keys)}" if keys else "")

    return Conflict(
        "optimizer",
        oid,
        {text(t, old_params[(t, p)]): n for (t, p), n in olds.items()},
        text(new[0], new_params),
        names,
        aspect="" if show_target else "params",
    )


def _same(a: Any, b: Any) -> bool:
    # Plain equality first: comparing 10^4 runs' settings as JSON would cost more than the rest.
    return (a == b and type(a) is type(b)) or _key(a) == _key(b)


def overlapping_fingerprints(runs: Sequence[FolderRun], plan: Plan) -> dict[str, str]:
    """File name → the plan's fingerprint, for the planned runs that have a file in the folder."""
    present = {r.name for r in runs}
    return {name: s.fingerprint for s in plan.specs if (name := s.run_id + _RUN_SUFFIX) in present}


def find_conflicts(
    runs: Sequence[FolderRun],
    plans: Sequence[Mapping[str, Any]],
    plan: Plan,
    study: StudyConfig,
    fingerprints: Mapping[str, str] | None = None,
) -> list[Conflict]:
    """What the plan changes about the runs in the folder and the plans that are binding.

    Study-wide settings first, then optimizers, tasks and the fingerprint catch-all (only for
    runs no other conflict names). ``fingerprints`` are :func:`overlapping_fingerprints`, when
    the caller has them already.
    """
    conflicts: list[Conflict] = []
    new = _study_settings(study)
    settings = [run_settings(run.spec) for run in runs]
    for setting in STUDY_WIDE:
        old: Counter[str] = Counter()
        names: set[str] = set()
        for run, values in zip(runs, settings, strict=True):
            value = values.get(setting, _ABSENT)
            if value is not _ABSENT and not _same(value, new[setting]):
                old[_key(value)] += 1
                names.add(run.name)
        for entry in plans:
            value = _plan_settings(entry).get(setting, _ABSENT)
            if value is not _ABSENT and not _same(value, new[setting]):
                old[_key(value)] += 0
        if old:
            shown = {show_value(json.loads(k)): n for k, n in old.most_common()}
            conflicts.append(Conflict("study", setting, shown, show_value(new[setting]), names))

    optimizers = {o.id: (o.target, _key(o.params)) for o in study.optimizers}
    params = {o.id: o.params for o in study.optimizers}
    opt_old: dict[str, Counter[tuple[str, str]]] = {}
    opt_names: dict[str, set[str]] = {}
    for run in runs:
        oid, target = run.spec.get("optimizer"), run.spec.get("optimizer_target")
        if oid in optimizers and isinstance(target, str):
            run_params = run.spec.get("optimizer_params") or {}
            if target == optimizers[oid][0] and _same(run_params, params[oid]):
                continue
            ident = (target, _key(run_params))
            if ident != optimizers[oid]:
                opt_old.setdefault(oid, Counter())[ident] += 1
                opt_names.setdefault(oid, set()).add(run.name)
    for entry in plans:
        for o in entry.get("optimizers") or ():
            if isinstance(o, Mapping) and o.get("id") in optimizers and isinstance(o.get("target"), str):
                ident = (o["target"], _key(o.get("params") or {}))
                if ident != optimizers[o["id"]]:
                    opt_old.setdefault(o["id"], Counter())[ident] += 0
    for oid, olds in opt_old.items():
        conflicts.append(
            _optimizer_conflict(oid, dict(olds.most_common()), optimizers[oid], opt_names.get(oid, set()))
        )

    revisions = {s.task: s.task_revision for s in plan.specs}
    task_old: dict[str, Counter[str]] = {}
    task_names: dict[str, set[str]] = {}
    for run in runs:
        task = run.spec.get("task")
        if task in revisions:
            revision = str(run.spec.get("task_revision") or "")
            if revision != revisions[task]:
                task_old.setdefault(task, Counter())[revision] += 1
                task_names.setdefault(task, set()).add(run.name)
    for entry in plans:
        tasks = entry.get("tasks")
        known = tasks.get("revisions") if isinstance(tasks, Mapping) else None
        for task, revision in known.items() if isinstance(known, Mapping) else ():
            if task in revisions and str(revision) != revisions[task]:
                task_old.setdefault(task, Counter())[str(revision)] += 0
    for task in sorted(task_old):
        shown = {repr(r): n for r, n in task_old[task].most_common()}
        conflicts.append(Conflict("task", task, shown, repr(revisions[task]), task_names.get(task, set())))

    named = set().union(*(c.names for c in conflicts))
    if fingerprints is None:
        fingerprints = overlapping_fingerprints(runs, plan)
    planned = {s.run_id + _RUN_SUFFIX: s for s in plan.specs}
    by_keys: dict[tuple[str, ...], list[str]] = {}
    for run in runs:
        spec = planned.get(run.name)
        if spec is None or run.name in named or run.fingerprint == fingerprints.get(run.name):
            continue
        old_spec, new_spec = _filled(run.spec), _filled(spec.to_dict())
        keys = tuple(
            sorted(
                k
                for k in {*old_spec, *new_spec}
                if _key(old_spec.get(k, _ABSENT)) != _key(new_spec.get(k, _ABSENT))
            )
        )
        by_keys.setdefault(keys, []).append(run.name)
    for keys, names_ in by_keys.items():
        first = names_[0][: -len(_RUN_SUFFIX)]
        subject = first + (f" and {len(names_) - 1} more" if len(names_) > 1 else "")
        what = f"{', '.join(keys)} differ{'s' if len(keys) == 1 else ''}" if keys else "another fingerprint"
        conflicts.append(Conflict("run", subject, {what: len(names_)}, "", set(names_)))
    return conflicts


def _grouped(conflicts: Sequence[Conflict]) -> list[str]:
    """Phrases for the refusal line; tasks with the same revision change share one phrase."""
    phrases: list[str] = []
    tasks: dict[tuple[tuple[str, ...], str], list[Conflict]] = {}
    for c in conflicts:
        if c.kind == "task":
            tasks.setdefault((tuple(c.old), c.new), []).append(c)
        else:
            phrases.append(c.describe())
    for group in tasks.values():
        if len(group) == 1:
            phrases.append(group[0].describe())
            continue
        ids = [c.subject for c in group]
        listed = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        merged = Conflict("task", "", {}, group[0].new)
        for c in group:
            for v, n in c.old.items():
                merged.old[v] = merged.old.get(v, 0) + n
        phrases.append("tasks " + listed + merged.describe()[len("task ") :])
    return phrases


def conflict_line(study_dir: Path, conflicts: Sequence[Conflict]) -> str:
    """The one-line refusal: the folder, what differs (old → new) and the ways out.

    Example:
        >>> print(conflict_line(Path("results/default"),
        ...       [Conflict("study", "n_trials", {"100": 174}, "10", {f"r{i}" for i in range(174)})]))
        ... # doctest: +NORMALIZE_WHITESPACE
        study folder results/default holds runs of other settings: n_trials 100 → 10 (174 runs); \
finished runs are never replaced or mixed: write to another folder with name=NEW_NAME or \
output_dir=DIR, or set move_old_runs=true to move the 174 conflicting runs to \
results/default/superseded/<UTC time>/runs/
    """
    phrases = _grouped(conflicts)
    shown = "; ".join(phrases[:MAX_SHOWN]) + (
        f"; and {len(phrases) - MAX_SHOWN} more differences" if len(phrases) > MAX_SHOWN else ""
    )
    n = len(set().union(*(c.names for c in conflicts)))
    move = (
        f"move the {_runs(n, 'conflicting run')} to {study_dir / SUPERSEDED}/<UTC time>/runs/"
        if n
        else "set the earlier plans aside (no run to move)"
    )
    return (
        f"study folder {study_dir} holds runs of other settings: {shown}; finished runs are never "
        "replaced or mixed: write to another folder with name=NEW_NAME or output_dir=DIR, or set "
        f"move_old_runs=true to {move}"
    )


# ----------------------------------------------------------------------------- moving runs aside


def _stamp() -> str:
    """The name of a superseded folder: the UTC time of the move, e.g. ``20261206T012345Z``."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def move_runs_aside(study_dir: Path, names: Iterable[str]) -> Path:
    """Rename run files of ``<study_dir>/runs/`` into a new ``superseded/<UTC time>/runs/``.

    The dated folder also gets a copy of the then ``study.json``. Each file moves in one
    ``os.rename`` (same file system), so it is at any moment in exactly one of the two folders;
    a folder of the same second gets a suffix (``-2``, ...): nothing is ever overwritten.
    Returns the dated folder; :class:`ResultWriteError` when the folder or a move fails (the
    files moved so far stay moved, the others in ``runs/``).

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / "runs").mkdir(), (d / "runs" / "a.parquet").write_bytes(b"x")
        >>> dest = move_runs_aside(d, ["a.parquet"])
        >>> dest.parent.name, (dest / "runs" / "a.parquet").read_bytes(), (d / "runs").is_dir()
        ('superseded', b'x', True)
    """
    stamp = _stamp()
    base = study_dir / SUPERSEDED
    path = base
    try:
        base.mkdir(exist_ok=True)
        for i in itertools.count(1):
            path = base / (stamp if i == 1 else f"{stamp}-{i}")
            try:
                path.mkdir()
                break
            except FileExistsError:
                continue
        dest = path
        if (study_dir / MANIFEST).is_file():
            path = dest / MANIFEST
            shutil.copy2(study_dir / MANIFEST, path)
        (dest / "runs").mkdir()
        for name in sorted(names):
            path = dest / "runs" / name
            with contextlib.suppress(FileNotFoundError):  # moved aside as corrupt meanwhile
                os.rename(study_dir / "runs" / name, path)
    except OSError as exc:
        raise ResultWriteError.from_os_error(path, exc) from exc
    return dest


# ----------------------------------------------------------------------------- the manifest


def plan_record(plan: Plan, study: StudyConfig, argv: Sequence[str] | None = None) -> dict[str, Any]:
    """The entry of one sweep start in ``study.json``'s ``plans`` history.

    Tasks are recorded compactly: the ids or patterns as given, how many ids they expanded to,
    and the revision of every planned task that has one.

    Example:
        >>> from bench.config import OptimizerChoice
        >>> from bench.plan import make_plan
        >>> from optimizers.base import Budget
        >>> study = StudyConfig("demo", (OptimizerChoice("random_search",
        ...     "optimizers.random_search.RandomSearch"),), ("synthetic/branin",), (0, 1), Budget(5))
        >>> rec = plan_record(make_plan(study), study, ["study=demo"])
        >>> rec["argv"], rec["runs"], rec["budget"]
        (['study=demo'], 2, {'n_trials': 5.0, 'time': None})
        >>> rec["tasks"]
        {'patterns': ['synthetic/branin'], 'count': 1, 'revisions': {}}
    """
    record: dict[str, Any] = {"planned_at": datetime.now(UTC).isoformat()}
    if argv is not None:
        record["argv"] = list(argv)
    record.update(
        {
            "optimizers": [
                {"id": o.id, "target": o.target, "params": dict(o.params)} for o in study.optimizers
            ],
            "tasks": {
                "patterns": list(study.tasks),
                "count": len(plan.tasks),
                "revisions": {s.task: s.task_revision for s in plan.specs if s.task_revision},
            },
            "seeds": list(study.seeds),
            "budget": {"n_trials": study.budget.n_trials, "time": study.budget.time},
            "n_workers": study.n_workers,
            "trial_timeout": study.trial_timeout,
            "run_timeout": study.run_timeout,
            "runs": len(plan.specs),
            "refused": len(plan.refused),
        }
    )
    return record


def _run_record(run: FolderRun) -> dict[str, Any] | None:
    spec = run.spec
    if not all(k in spec for k in ("task", "optimizer", "seed")):
        return None
    return {"run_id": run.run_id, "task": spec["task"], "optimizer": spec["optimizer"], "seed": spec["seed"]}


def _record_key(r: Mapping[str, Any]) -> str:
    return str(r.get("run_id") or (r.get("task"), r.get("optimizer"), r.get("seed")))


# ----------------------------------------------------------------------------- the entry point


@contextlib.contextmanager
def study_lock(study_dir: Path) -> Iterator[None]:
    """Hold the study's advisory lock (``fcntl.flock`` on ``.study.lock``); blocks until free."""
    try:
        study_dir.mkdir(parents=True, exist_ok=True)
        fh = open(study_dir / LOCK_FILE, "a+b")  # noqa: SIM115 - held across the yield
    except OSError as exc:
        raise ResultWriteError.from_os_error(study_dir / LOCK_FILE, exc) from exc
    with fh:
        with contextlib.suppress(OSError):  # a file system without locks (some NFS mounts): go on
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def seed_ranges(seeds: Iterable[int]) -> str:
    """Seeds as ranges.

    Example:
        >>> seed_ranges([7, 0, 1, 2])
        '0-2, 7'
    """
    out: list[str] = []
    ordered = sorted(set(seeds))
    start = prev = ordered[0]
    for s in [*ordered[1:], None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if s is not None:
            start = prev = s
    return ", ".join(out)


def _news(new: Sequence[RunSpec], earlier: Sequence[Mapping[str, Any]]) -> str:
    """What is new in the runs a plan adds: seeds, optimizers, tasks the folder had none of."""
    parts = []
    seeds = {s.seed for s in new} - {r.get("seed") for r in earlier}
    if seeds:
        parts.append(f"seed{'s' if len(seeds) > 1 else ''} {seed_ranges(seeds)}")
    optimizers = sorted({s.optimizer for s in new} - {r.get("optimizer") for r in earlier})
    if optimizers:
        parts.append(f"optimizer{'s' if len(optimizers) > 1 else ''} {', '.join(optimizers)}")
    tasks = sorted({s.task for s in new} - {r.get("task") for r in earlier})
    if len(tasks) == 1:
        parts.append(f"task {tasks[0]}")
    elif tasks:
        parts.append(f"{len(tasks)} tasks")
    return f" ({', '.join(parts)})" if parts else ""


def prepare_study_folder(
    study_dir: Path,
    plan: Plan,
    study: StudyConfig,
    *,
    move_old_runs: bool = False,
    argv: Sequence[str] | None = None,
) -> list[str]:
    """Check ``plan`` against ``study_dir``, move conflicting runs if asked, record the plan.

    Call it after planning and before any run: it refuses a plan that would replace or mix with
    runs of other settings (:class:`StudyFolderConflict`, one line naming the folder, what
    differs and the ways out), or, with ``move_old_runs``, renames exactly the conflicting runs
    into ``superseded/<UTC time>/runs/``. Then it appends the plan to ``study.json``'s ``plans``
    history. When it refuses, no run file and no ``study.json`` is touched (only the hidden cache
    of footers may be refreshed, which saves the next try the reading).

    Args:
        study_dir: the study folder, ``<output_dir>/<study name>``.
        plan: the sweep's plan (:func:`bench.plan.make_plan`).
        study: the study it was made from.
        move_old_runs: move conflicting old runs aside instead of refusing.
        argv: the command line, recorded in the history.

    Returns:
        Lines to print: what was moved where, and how the plan relates to the runs already in the
        folder (none for a new study). See the module docstring for an example.
    """
    with study_lock(study_dir):
        manifest = read_study_json(study_dir)
        history = plan_history(manifest)
        runs = scan_runs(study_dir)
        fingerprints = overlapping_fingerprints(runs, plan)
        conflicts = find_conflicts(runs, _binding(history), plan, study, fingerprints)
        if conflicts and not move_old_runs:
            raise StudyFolderConflict(conflict_line(study_dir, conflicts))
        record = plan_record(plan, study, argv)
        lines: list[str] = []
        moved: set[str] = set().union(*(c.names for c in conflicts))
        if conflicts:
            dest = move_runs_aside(study_dir, moved) if moved else None
            whats = ", ".join(
                dict.fromkeys(c.subject if c.kind == "study" else f"{c.kind} {c.subject}" for c in conflicts)
            )
            where = dest.relative_to(study_dir).as_posix() if dest is not None else None
            record["moved"] = {"runs": len(moved), "to": where, "because": [c.describe() for c in conflicts]}
            if dest is not None:
                lines.append(
                    f"study {study.name!r}: moved {_runs(len(moved), 'conflicting run')} ({whats}) "
                    f"to {dest / 'runs'}"
                )
            else:
                lines.append(f"study {study.name!r}: earlier plans set aside ({whats}); no run to move")
            runs = [r for r in runs if r.name not in moved]

        whole_study = any(c.kind == "study" for c in conflicts)
        opt_ids = {c.subject for c in conflicts if c.kind == "optimizer"}
        task_ids = {c.subject for c in conflicts if c.kind == "task"}

        def still_valid(r: Mapping[str, Any]) -> bool:
            # A record of an earlier plan whose settings this plan replaced is no longer expected.
            return not (
                whole_study
                or r.get("optimizer") in opt_ids
                or r.get("task") in task_ids
                or f"{r.get('run_id')}{_RUN_SUFFIX}" in moved
            )

        old_runs = manifest.get("runs") if manifest else None
        earlier: dict[str, Mapping[str, Any]] = {
            _record_key(r): r
            for r in (old_runs if isinstance(old_runs, list) else ())
            if isinstance(r, Mapping) and still_valid(r)
        }
        for run in runs:
            rec = _run_record(run)
            if rec is not None:
                earlier.setdefault(_record_key(rec), rec)
        top = {**plan.manifest(study), "planned_at": record["planned_at"]}
        expected = {_record_key(r): r for r in top["runs"]}
        expected.update({k: r for k, r in earlier.items() if k not in expected})
        pairs = {(r.get("task"), r.get("optimizer")) for r in expected.values()}
        refused = {(r["task"], r["optimizer"]): r for r in top["refused"]}
        old_refused = manifest.get("refused") if manifest else None
        for r in old_refused if isinstance(old_refused, list) else ():
            pair = (r.get("task"), r.get("optimizer")) if isinstance(r, Mapping) else None
            if pair is not None and pair not in pairs and still_valid(r):
                refused.setdefault(pair, r)
        write_manifest(
            study_dir,
            {
                **top,
                "runs": list(expected.values()),
                "refused": list(refused.values()),
                "plans": [*history, record],
            },
        )

    if earlier:  # runs of earlier plans still in the study: say how this plan relates to them
        by_name = {r.name: r for r in runs}
        done = sum(
            1
            for name, fp in fingerprints.items()
            if (r := by_name.get(name)) is not None and r.fingerprint == fp and r.status == "ok"
        )
        new = [s for s in plan.specs if s.run_id not in earlier]
        left = len(plan.specs) - done - len(new)
        outside = len(earlier.keys() - {s.run_id for s in plan.specs})
        line = f"study {study.name!r}: resuming; {_runs(done)} already done"
        line += f", {left} still to run" if left or not new else ""
        line += f", {_runs(len(new), 'new run')}{_news(new, list(earlier.values()))}" if new else ""
        line += f"; {_runs(outside)} of earlier plans outside this plan stay in the study" if outside else ""
        lines.append(line)
    return lines


def _runs(n: int, what: str = "run") -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"
