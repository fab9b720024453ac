"""Your runs together with the archived baselines: match, refuse what does not compare, mark the rest.

:func:`add_baselines` takes the runs of a study folder (say ``results/dev_bb`` holding only your
optimizer) and adds, for every archived optimizer you did not run yourself, its archived runs on
your tasks and seeds. An archived entry is used only when it is comparable with your runs:

* the same study-wide settings (``n_trials``, time budget, simulated workers, time limits);
* a piece of the archive holding every one of your tasks (the shipped dev/test subsets, the default
  study, or a part of one: ``task=`` narrowing is fine);
* every seed you ran archived (the archive's seeds are cut to yours: seeds 0-2 of a 10-seed entry
  are the very runs a 3-seed study makes);
* the same task revision and the same objectives (names and directions) for each of your tasks.

Entries that fail one of these are refused, each reason in one line; when none is left the call
raises :class:`BaselineMismatch` (one line). Library versions that differ between the archive and
this installation are noted, not refused (the archive's status command says which are stale).

Example:
    >>> from bench.archive.read import read_archive  # doctest: +SKIP
    >>> base = add_baselines(load("results/dev_bb"), load_runs("results/dev_bb"))  # doctest: +SKIP
    >>> sorted(base.archived)[:2]  # doctest: +SKIP
    ['hyperopt_tpe', 'ng_cmaes']
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench.archive.pieces import piece_names
from bench.archive.read import read_entry
from bench.archive.store import archive_dir, read_file_meta, read_manifest
from bench.results import CATEGORICAL_COLUMNS, decode_objectives, encode_objectives
from bench.study_folder import run_settings, seed_ranges, show_value

__all__ = ["BaselineMismatch", "Baselines", "add_baselines", "archive_folder"]

#: The settings two runs must share, as messages name them.
_SETTINGS = ("n_trials", "time_budget", "n_workers", "trial_timeout", "run_timeout")


class BaselineMismatch(ValueError):
    """No archived baseline compares with the runs given (one line saying why)."""


@dataclass
class Baselines:
    """Runs with archived baselines added, and what was used, refused and noted."""

    trials: pd.DataFrame
    runs_meta: pd.DataFrame | None
    manifest: dict[str, Any] | None
    #: ``{optimizer: "archive v3, piece dev_bb, 10 seeds"}`` for every archived optimizer added.
    archived: dict[str, str] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def archive_folder(source: str) -> Path:
    """The archive a ``--baselines`` value names: ``archive`` (the installed one) or a folder holding
    a ``manifest.json``."""
    if source == "archive":
        return archive_dir()
    path = Path(source)
    if not (path / "manifest.json").is_file():
        raise BaselineMismatch(
            f"baselines={source!r} is invalid: use 'archive' (the archive installed with nxm-bench) "
            "or a folder holding an archive's manifest.json"
        )
    return path


def _user_view(df: pd.DataFrame, runs_meta: pd.DataFrame | None) -> dict[str, Any]:
    """What the given runs are: settings, tasks, seeds, revisions, objectives, study name."""
    metas = [
        m
        for m in (runs_meta["meta"] if runs_meta is not None and "meta" in runs_meta else [])
        if isinstance(m, Mapping)
    ]
    specs = [m["spec"] for m in metas if isinstance(m.get("spec"), Mapping)]
    if not specs:
        raise BaselineMismatch(
            "the runs carry no run metadata (spec): baselines are matched on budget, seeds and task "
            "revisions; point at a study folder written by python -m bench"
        )
    revisions: dict[str, str] = {}
    objectives: dict[str, str] = {}
    for m in metas:
        spec = m["spec"]
        revisions.setdefault(str(spec["task"]), str(spec.get("task_revision") or ""))
        if m.get("objectives"):
            objectives.setdefault(str(spec["task"]), encode_objectives(decode_objectives(m["objectives"])))
    seeds = {int(s["seed"]) for s in specs} | {int(s) for s in pd.unique(df["seed"])}
    return {
        "settings": {
            k: v for k, v in {"time_budget": None, **run_settings(specs[0])}.items() if k in _SETTINGS
        },
        "tasks": sorted({str(t) for t in pd.unique(df["task"])} | set(revisions)),
        "seeds": sorted(seeds),
        "revisions": revisions,
        "objectives": objectives,
        "optimizers": {str(o) for o in pd.unique(df["optimizer"])},
        "study": str(
            metas[0].get("study") or (df["study"].iloc[0] if "study" in df.columns and len(df) else "")
        ),
    }


def _file_settings(info: Mapping[str, Any]) -> dict[str, Any]:
    spec = {
        "budget": info.get("budget"),
        "n_workers": info.get("n_workers", 1),
        "trial_timeout": info.get("trial_timeout"),
        "run_timeout": info.get("run_timeout"),
    }
    return {k: v for k, v in {"time_budget": None, **run_settings(spec)}.items() if k in _SETTINGS}


def _difference(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{k}={show_value(a.get(k))} (archive) vs {show_value(b.get(k))} (your runs)"
        for k in _SETTINGS
        if a.get(k) != b.get(k)
    )


def _choose_files(
    files: Mapping[str, Mapping[str, Any]], metas: Mapping[str, Mapping[str, Any]], user: Mapping[str, Any]
) -> dict[str, str]:
    """``{optimizer: file}``: per archived optimizer, the piece holding all the user's tasks at the
    user's settings (the piece of exactly these tasks first, then the one named like the study)."""
    order = piece_names()
    want = set(user["tasks"])
    best: dict[str, tuple[tuple[int, int, int], str]] = {}
    for rel, info in files.items():
        if _file_settings(info) != user["settings"]:
            continue
        tasks = set(metas[rel]["tasks"])
        if not want <= tasks:
            continue
        piece = str(info["piece"])
        rank = (tasks != want, piece != user["study"], order.index(piece) if piece in order else len(order))
        opt = str(info["optimizer"])
        if opt not in best or rank < best[opt][0]:
            best[opt] = (rank, rel)
    return {o: rel for o, (_, rel) in best.items()}


def _no_match(
    files: Mapping[str, Mapping[str, Any]], metas: Mapping[str, Mapping[str, Any]], user: Mapping[str, Any]
) -> str:
    """Why no archived piece fits the runs, as one line."""
    want = set(user["tasks"])
    covering = [rel for rel in files if want <= set(metas[rel]["tasks"])]
    if covering:
        info = files[covering[0]]
        return (
            f"the archive's runs on your tasks ({info['piece']}) do not compare with yours: "
            f"{_difference(_file_settings(info), user['settings'])}; re-run with the study's settings "
            "or report without --baselines"
        )
    pieces = sorted({str(i["piece"]) for i in files.values()}, key=lambda p: (p not in piece_names(), p))
    best = max(files, key=lambda rel: len(want & set(metas[rel]["tasks"])), default=None)
    outside = sorted(want - set(metas[best]["tasks"])) if best else sorted(want)
    return (
        f"no archived piece holds all {len(want)} of your tasks (e.g. {outside[0]!r} is in none that "
        f"holds the others); the archive holds {', '.join(pieces) or 'nothing yet'}: run your optimizer "
        "on one of them, e.g. python -m bench study=dev_bb optimizer=ID"
    )


def add_baselines(
    df: pd.DataFrame,
    runs_meta: pd.DataFrame | None,
    manifest: Mapping[str, Any] | None = None,
    source: str = "archive",
) -> Baselines:
    """Your runs (``df``, ``runs_meta`` and the study ``manifest``) with the archived baselines added.

    Returns a :class:`Baselines` whose frames hold both (a ``source`` column says ``runs`` or
    ``archive``); raises :class:`BaselineMismatch` when no archived baseline compares.
    """
    folder = archive_folder(source)
    archive = read_manifest(folder)
    files: dict[str, Mapping[str, Any]] = archive.get("files", {})
    if not files:
        raise BaselineMismatch(
            f"the archive at {folder} holds no runs yet: build it with python -m bench archive build"
        )
    user = _user_view(df, runs_meta)
    metas = {rel: read_file_meta(folder / rel) for rel in files}
    chosen = _choose_files(files, metas, user)
    if not chosen:
        raise BaselineMismatch(_no_match(files, metas, user))
    version = archive.get("archive_version")
    refused: dict[str, list[str]] = {}
    notes: list[str] = []
    frames: list[pd.DataFrame] = []
    meta_rows: list[dict[str, Any]] = []
    archived: dict[str, str] = {}
    libs: dict[str, set[str]] = {}
    for opt, rel in sorted(chosen.items()):
        info, meta = files[rel], metas[rel]
        if opt in user["optimizers"]:
            notes.append(f"{opt}: your own runs are used, not the archive's")
            continue
        seeds = {int(r["seed"]) for r in meta["runs"]}
        lacking = sorted(set(user["seeds"]) - seeds)
        if lacking:
            reason = f"seeds: archived {seed_ranges(sorted(seeds))}, your runs {seed_ranges(user['seeds'])}"
            refused.setdefault(reason, []).append(opt)
            continue
        mismatch = _task_mismatch(meta["tasks"], user)
        if mismatch:
            refused.setdefault(mismatch, []).append(opt)
            continue
        frame, runs = read_entry(rel, info, folder, meta)
        keep = frame["task"].isin(user["tasks"]) & frame["seed"].isin(user["seeds"])
        frame = frame[keep]
        runs = [r for r in runs if r["task"] in user["tasks"] and r["seed"] in user["seeds"]]
        frame = frame.assign(study=user["study"])
        for r in runs:
            r["meta"] = {**r["meta"], "study": user["study"]}
            r["meta"]["archive"]["version"] = version
            r["study"] = user["study"]
        frames.append(frame)
        meta_rows.extend(runs)
        archived[opt] = f"archive v{version}, {info['piece']}, seeds {seed_ranges(user['seeds'])}"
        for lib, v in (info.get("library_version") or {}).items():
            libs.setdefault(lib, set()).add(str(v))
    # the reason that refuses the most archived optimizers first: a one-line error shows that one
    by_count = sorted(refused.items(), key=lambda item: -len(item[1]))
    refused_lines = [f"archived {', '.join(opts)} refused: {reason}" for reason, opts in by_count]
    if not frames:
        first = refused_lines[0] if refused_lines else "every archived optimizer is among your own runs"
        more = f" (and {len(refused_lines) - 1} more)" if len(refused_lines) > 1 else ""
        raise BaselineMismatch(f"no archived baseline compares with your runs: {first}{more}")
    notes.extend(_version_notes(libs))
    trials = _concat([df.assign(source="runs"), *(f.assign(source="archive") for f in frames)])
    runs_all = None
    if runs_meta is not None:
        runs_all = pd.concat([runs_meta, pd.DataFrame(meta_rows)], ignore_index=True)
    new_manifest = None
    if manifest is not None:
        added = [
            {"run_id": r["run_id"], "task": r["task"], "optimizer": r["optimizer"], "seed": r["seed"]}
            for r in meta_rows
        ]
        new_manifest = {**manifest, "runs": [*(manifest.get("runs") or []), *added]}
    return Baselines(trials, runs_all, new_manifest, archived, refused_lines, notes)


def _task_mismatch(tasks: Mapping[str, Mapping[str, Any]], user: Mapping[str, Any]) -> str | None:
    """The first task whose archived revision or objectives differ from the user's runs."""
    for t in user["tasks"]:
        archived = tasks[t]
        mine = user["revisions"].get(t)
        if mine is not None and str(archived.get("revision") or "") != mine:
            theirs_rev = archived.get("revision") or "none"
            return f"task revision of {t!r}: archived {theirs_rev!r}, your runs {mine or 'none'!r}"
        objectives = user["objectives"].get(t)
        theirs = encode_objectives(decode_objectives(archived["objectives"]))
        if objectives is not None and objectives != theirs:
            return (
                f"objectives of {t!r}: archived {_objective_words(theirs)}, "
                f"your runs {_objective_words(objectives)}"
            )
    return None


def _objective_words(encoded: str) -> str:
    return ", ".join(
        f"{o.name} {'min' if o.minimize else 'max'}" for o in decode_objectives(json.loads(encoded))
    )


def _version_notes(libs: Mapping[str, set[str]]) -> list[str]:
    from bench.installed import installed_version

    out = []
    for lib, versions in sorted(libs.items()):
        now = installed_version(lib)
        if versions != {now}:
            out.append(f"{lib}: archived runs used {', '.join(sorted(versions))}; installed here: {now}")
    return out


def _concat(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Frames of the results schema as one, categorical columns kept categorical."""
    plain = [
        f.astype({c: str for c in CATEGORICAL_COLUMNS if c in f.columns and str(f[c].dtype) == "category"})
        for f in frames
    ]
    out = pd.concat(plain, ignore_index=True)
    for col in (*CATEGORICAL_COLUMNS, "source"):
        if col in out.columns:
            out[col] = out[col].astype("category")
    return out
