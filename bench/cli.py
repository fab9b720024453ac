"""Hydra's command-line flags for ``python -m bench``, parsed without importing anything heavy.

``--help``, ``--version`` and flag errors answer before Hydra, tasks or optimizers are imported
(well under a second; benchmarks/cli_latency.py). The flags behave as in any Hydra app:
``-m/--multirun``, ``--cfg job|hydra|all`` with ``--package`` and ``--resolve``, ``--info``,
``--config-dir/-cd``; flags for features this suite does not use (launcher plugins, shell
completion, a primary config other than its own) get one line saying what to use instead.

Example:
    >>> flags = parse_flags(["-m", "optimizer=a,b", "--cfg", "job", "-p", "study"])
    >>> flags.multirun, flags.cfg, flags.package, flags.overrides
    (True, 'job', 'study', ['optimizer=a,b'])
    >>> parse_flags(["--cfg", "jobs"])
    Traceback (most recent call last):
    ...
    bench.config.ConfigError: --cfg 'jobs' is invalid: use --cfg job, --cfg hydra or --cfg all
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.config import ConfigError

CFG_TYPES = ("job", "hydra", "all")
INFO_TYPES = ("all", "config", "defaults", "defaults-tree", "plugins", "searchpath")
#: Flags of a Hydra app that this suite does not use, and what to do instead.
UNSUPPORTED = {
    "--config-path": "the primary config is the shipped conf/config.yaml: add your own study/, "
    "optimizer/, taskset/ YAMLs with --config-dir DIR",
    "-cp": "the primary config is the shipped conf/config.yaml: add your own configs with -cd DIR",
    "--config-name": "the primary config is fixed: select a study with study=NAME (its YAML may "
    "live in a --config-dir DIR)",
    "-cn": "the primary config is fixed: select a study with study=NAME",
    "--shell-completion": "shell completion is not installed: list ids with python -m bench "
    "list=optimizers|studies|tasksets|tasks",
    "-sc": "shell completion is not installed: list ids with python -m bench list=...",
    "--experimental-rerun": "a study re-runs (resumes) by running the same command again; "
    "study.json in the results folder records each plan's command",
}


@dataclass
class Flags:
    """The command line, flags parsed out; ``overrides`` are the ``key=value`` words left."""

    overrides: list[str] = field(default_factory=list)
    help: bool = False
    hydra_help: bool = False
    version: bool = False
    multirun: bool = False
    cfg: str | None = None
    package: str | None = None
    resolve: bool = False
    info: str | None = None
    config_dirs: list[Path] = field(default_factory=list)


def parse_flags(args: Sequence[str]) -> Flags:
    """Split flags from overrides (see the module example); a bad or unsupported flag is a
    :class:`~bench.config.ConfigError` with one line."""
    flags = Flags()
    words = list(args)
    i = 0

    def value(flag: str, required: bool = True) -> str | None:
        nonlocal i
        if "=" in words[i] and words[i].startswith("--"):
            return words[i].split("=", 1)[1]
        if i + 1 < len(words) and not words[i + 1].startswith("-") and (required or "=" not in words[i + 1]):
            i += 1
            return words[i]
        if required:
            raise ConfigError(f"{flag} needs a value: see python -m bench --help")
        return None

    while i < len(words):
        word = words[i]
        name = word.split("=", 1)[0] if word.startswith("--") else word
        if name in ("-h", "--help"):
            flags.help = True
        elif name == "--hydra-help":
            flags.hydra_help = True
        elif name == "--version":
            flags.version = True
        elif name in ("-m", "--multirun"):
            flags.multirun = True
        elif name in ("-r", "--run"):
            pass  # the default mode: one study
        elif name in ("-c", "--cfg"):
            kind = value(name)
            if kind not in CFG_TYPES:
                raise ConfigError(f"--cfg {kind!r} is invalid: use --cfg job, --cfg hydra or --cfg all")
            flags.cfg = kind
        elif name in ("-p", "--package"):
            flags.package = value(name)
        elif name == "--resolve":
            flags.resolve = True
        elif name in ("-i", "--info"):
            kind = value(name, required=False) or "all"
            if kind not in INFO_TYPES:
                raise ConfigError(
                    f"--info {kind!r} is invalid: use --info with one of {', '.join(INFO_TYPES)}"
                )
            flags.info = kind
        elif name in ("-cd", "--config-dir"):
            folder = Path(value(name) or "")
            if not folder.is_dir():
                raise ConfigError(
                    f"--config-dir {str(folder)!r} is not a folder: give a folder holding "
                    "study/, optimizer/, taskset/ or backend/ YAMLs"
                )
            flags.config_dirs.append(folder.resolve())
        elif name in UNSUPPORTED:
            raise ConfigError(f"{name} is not supported here: {UNSUPPORTED[name]}")
        elif word.startswith("-"):  # an override starts with a key, '+' or '~', never '-'
            raise ConfigError(
                f"unknown flag {word!r}: python -m bench takes key=value overrides and "
                "Hydra's flags -m, --cfg, --package, --resolve, --info, --config-dir, "
                "--help, --version"
            )
        else:
            flags.overrides.append(word)
        i += 1
    if (flags.package or flags.resolve) and not flags.cfg:
        raise ConfigError(
            "--package and --resolve go with --cfg job|hydra|all: e.g. "
            "python -m bench --cfg job --package study"
        )
    return flags


def version_text() -> str:
    """``nxm-bench X`` and the Hydra release it runs on (read from package metadata, no imports).

    Example:
        >>> version_text().splitlines()[0].startswith("nxm-bench ")
        True
    """
    from importlib.metadata import PackageNotFoundError, version

    def ver(dist: str) -> str:
        try:
            return version(dist)
        except PackageNotFoundError:
            return "not installed"

    return f"nxm-bench {ver('nxm-bench')}\nHydra {ver('hydra-core')}"


USAGE = """\
python -m bench [FLAGS] [key=value ...]    Hydra configs in, one study out (results/<study>/runs/*.parquet)

Sweeps (-m/--multirun; Hydra's syntax: a,b,c  choice(a,b)  range(start,stop[,step])  glob(pat,exclude=..)):
  python -m bench -m optimizer=random_search,optuna_tpe 'task=glob(bbob/f0*/d02/i01)' 'seed=range(0,10)'
  python -m bench -m study=dev_bb optimizer=my_opt                  # your optimizer on a shipped study
  python -m bench -m optimizer=optuna_tpe optimizer.params.n_startup_trials=5,10,20 task=synthetic/branin
  python -m bench -m study=default n_trials=20,100                  # one results folder per budget
  A sweep is ONE study: planned once, run by one joblib/dask pool with resume, progress and a summary
  (carps: python -m carps.run +optimizer/... '+task/BBOB=glob(*)' 'seed=range(1,11)' -m).

Single runs and studies:
  python -m bench                                                   # the default study
  python -m bench optimizer=optuna_tpe task=bbob/f03/d05/i01 seed=1 n_trials=100   # one run
  python -m bench study=dev_bb n_jobs=8                             # a study on 8 processes
  python -m bench study=default backend=dask backend.address=tcp://scheduler:8786
  python -m bench list=tasks "filter='bbob/f0[1-5]/d05/*'"          # brackets: quote for Hydra
  python -m bench --cfg job study=dev_bb                            # the composed config, nothing runs

Checks (the harness every optimizer and task family, plugins included, must pass):
  python -m bench check optimizer=ID [n_trials=12]                  # the optimizer contract suite
  python -m bench check task_family=NAME [max_tasks=5] [seed=0]     # the task-family checks
  Exit status 0 all passed, 1 some check failed, 2 unknown name; python -m bench check --help.

The baseline archive (runs of every shipped optimizer on the shipped subsets, installed with the
package; docs/baselines.md):
  python -m bench -m study=dev_bb optimizer=my_opt                  # run only your optimizer, then
  python -m analysis report results/dev_bb --baselines archive      # rank it with every baseline
  python -m bench archive status|verify                             # fresh/stale entries; hashes
  python -m bench archive build [piece=dev_bb] [optimizer=ID] [n_jobs=16]   # run what is missing

Flags (as in any Hydra app):
  -m, --multirun           run the sweep overrides as one study
  -c, --cfg job|hydra|all  print the composed config and exit; -p/--package PKG selects a node,
                           --resolve resolves ${...}
  -i, --info [all|config|defaults|defaults-tree|plugins|searchpath]
  -cd, --config-dir DIR    your study/, optimizer/, taskset/, backend/ YAMLs (also $NXMBENCH_CONFIG_PATH)
  --version, -h/--help
  Not used here (one line says what instead): launcher/sweeper plugins (the sweep runs on
  joblib/dask: n_jobs=, backend=dask), hydra.run.dir (output_dir=, name=), --config-name/-cn.

Exit status: 0 every run finished; 1 some run crashed, timed out or died (recorded; a re-run retries
it); 2 bad input, nothing ran; 3 a result could not be written (disk full); 130 Ctrl-C, 143 SIGTERM
(workers stopped; re-run the same command to resume). docs/fault-tolerance.md has the details.
"""


def help_text() -> str:
    """``--help``: usage with the sweep form first, every config group with its options, and every
    setting with its type and default (from the typed schema)."""
    from bench.config_files import yaml_ids
    from bench.config_schema import field_help

    lines = [USAGE, "Config groups (select with group=option; yours join with --config-dir):"]
    for group, what in (
        ("study", "study=NAME"),
        ("optimizer", "optimizer=ID (a,b with -m)"),
        ("backend", "backend=NAME"),
        ("taskset", "study.taskset=NAME"),
    ):
        options = yaml_ids(group)
        lines.append(f"  {group} ({what}), {len(options)}:")
        lines.extend(_wrapped(options, "    "))
    lines.append("")
    lines.append("Settings (key=value; study keys as study.KEY=value; --cfg job shows them composed):")
    for key, kind, default in field_help(""):
        if key in ("study", "optimizer", "backend"):
            continue
        lines.append(f"  {key:14s} {kind:16s} default {default}")
    lines.append("  study.*        " + ", ".join(k for k, _, _ in field_help("study")))
    lines.append("  backend.*      " + ", ".join(k for k, _, _ in field_help("backend")))
    lines.append(
        "  optimizer.params.NAME=VALUE  a parameter of the chosen optimizers (a,b,c with -m: "
        "one variant each, id optuna_tpe@NAME=VALUE)"
    )
    lines.append("")
    lines.append(
        "Environment: NXMBENCH_CONFIG_PATH (config folders), NXMBENCH_YAHPO_DATA, "
        "NXMBENCH_TASK_MODULES, NXMBENCH_CACHE_DIR (docs/environment.md)."
    )
    lines.append(
        "Plugins: installed packages add optimizers, task families and config folders through "
        "the entry-point groups nxm_bench.optimizers, nxm_bench.task_families and "
        "nxm_bench.config (README: Writing a plugin)."
    )
    return "\n".join(lines)


def _wrapped(words: Sequence[str], indent: str, width: int = 100) -> list[str]:
    out, line = [], indent
    for w in words:
        if len(line) + len(w) + 2 > width and line.strip():
            out.append(line.rstrip(", "))
            line = indent
        line += w + ", "
    if line.strip():
        out.append(line.rstrip(", "))
    return out
