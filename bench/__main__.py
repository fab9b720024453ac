"""`python -m bench`: parse Hydra's flags and overrides, compose, plan ONE study, run it, summarize.

Examples::

    python -m bench -m optimizer=random_search,optuna_tpe 'task=glob(bbob/f0*/d02/i01)' 'seed=range(0,10)'
    python -m bench                                          # the default study
    python -m bench optimizer=random_search task=bbob/f01/d02/i01     # one run (seed 0)
    python -m bench study=dev_bb n_jobs=8
    python -m bench --cfg job study=default                  # the composed config, nothing runs

``python -m bench --help`` lists every flag, config group and setting. A sweep (``-m``) is one
study planned by the planner and run by one joblib/dask pool (bench/sweep.py), never one process
per combination. Exit status: 0 every run finished ok; 1 the sweep completed but some runs
crashed, timed out or died (recorded; a re-run retries them); 2 bad input, nothing ran; 3 the
sweep stopped because a result could not be written (runs already written are kept); 130
interrupted (Ctrl-C), 143 terminated (SIGTERM): workers stopped, a re-run resumes.

Only the light modules are imported at the top, so that ``--help``, ``--version``, ``--cfg`` and
``list=optimizers|studies|tasksets`` answer in a fraction of a second; the runner, the tasks and
the optimizers are imported when a study is planned.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bench.cli import Flags, help_text, parse_flags, version_text
from bench.compose import compose_checked, searchpath_override
from bench.config import ConfigError, Settings, check_overrides, interpolation_problem
from bench.config_files import UnknownNameError, add_config_dir
from bench.settings import settings_from_cfg

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from bench.parallel import SweepResult
    from bench.plan import Plan
    from bench.sweep import CommandLine, Folder

#: Exit statuses (documented in docs/fault-tolerance.md).
EXIT_OK, EXIT_RUNS_FAILED, EXIT_BAD_INPUT, EXIT_WRITE_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
#: SIGTERM: 128 + 15, as a shell reports a process ended by it; 128 + SIGPIPE when the reader of
#: the output went away (``| head``).
EXIT_TERMINATED, EXIT_BROKEN_PIPE = 143, 141


def _compose(folder: Folder, with_hydra: bool = False) -> DictConfig:
    return compose_checked(folder.overrides, with_hydra)


def _yaml_error(exc: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: which file, where, what the parser wanted."""
    from bench.config_files import yaml_problem

    mark = getattr(exc, "problem_mark", None)
    return yaml_problem(exc, mark.name if mark else "a config file")


class Terminated(BaseException):
    """The main process received SIGTERM (a scheduler's or a user's ``kill``): stop the sweep."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def _stop_on_sigterm() -> Any:
    """Turn SIGTERM into :class:`Terminated` while the sweep runs, so that the workers are stopped
    (by default SIGTERM would end this process alone and leave them writing); returns the
    previous handler, or ``None`` outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


def _settings(cl: CommandLine, folder: Folder, cfg: DictConfig) -> Settings:
    return settings_from_cfg(cfg, folder.study or "default", cl.selection, cl.study_given, folder.suffix)


def _show_cfg(flags: Flags, cl: CommandLine) -> None:
    """``--cfg job|hydra|all``: the composed config of each study folder, as Hydra prints it; for
    ``job`` with the study as it will run (the optimizers with their parameters, picked tasks and
    seeds)."""
    from omegaconf import OmegaConf

    from bench.config_schema import job_view

    for i, folder in enumerate(cl.folders):
        cfg = _compose(folder, with_hydra=flags.cfg != "job")
        if flags.cfg == "hydra":
            from hydra._internal.hydra import Hydra

            shown: Any = Hydra.get_sanitized_hydra_cfg(cfg)
        else:
            job = job_view(cfg, _settings(cl, folder, cfg), cl.selection)
            if flags.cfg == "all":
                hydra_node = OmegaConf.to_container(cfg.hydra, resolve=False)
                shown = OmegaConf.create({"hydra": hydra_node, **OmegaConf.to_container(job)})  # type: ignore[dict-item]
            else:
                shown = job
        if len(cl.folders) > 1:
            what = " ".join(folder.overrides) or "(defaults)"
            print(f"--- # study folder {i + 1} of {len(cl.folders)}: {what}")  # one YAML document each
        if flags.package and flags.package != "_global_":
            node = OmegaConf.select(shown, flags.package)
            if node is None:
                raise ConfigError(
                    f"--package {flags.package!r} is not in the config: use a key path such "
                    "as study, backend or optimizers (see --cfg job)"
                )
            if OmegaConf.is_config(node):  # as Hydra: a header for a node, a value alone
                print(f"# @package {flags.package}")
            shown = node
        if OmegaConf.is_config(shown):
            if flags.resolve:
                OmegaConf.resolve(shown)
            sys.stdout.write(OmegaConf.to_yaml(shown))
        else:
            print(shown)


def _show_info(flags: Flags, cl: CommandLine) -> None:
    """``--info``: Hydra's own report (config, defaults list and tree, search path, plugins)."""
    import logging

    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from bench.config_files import conf_dir
    from bench.config_schema import register

    register()
    overrides = [*check_overrides(cl.folders[0].overrides), *searchpath_override()]
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("hydra._internal.hydra")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)  # as Hydra sets it for --info
    log.propagate = False
    with initialize_config_dir(config_dir=str(conf_dir()), version_base=None):
        hydra = GlobalHydra.instance().hydra
        assert hydra is not None
        hydra.show_info(flags.info or "all", config_name="config", overrides=list(overrides))


def _plan_all(cl: CommandLine) -> list[tuple[Settings, Plan]]:
    """Settings and plan of every study folder of the command line (one, unless a folder setting
    was swept)."""
    from bench.plan import make_plan_within
    from bench.run_context import RunContext, apply_context

    jobs: list[tuple[Settings, Plan]] = []
    names: dict[Path, str] = {}
    for folder in cl.folders:
        settings = _settings(cl, folder, _compose(folder))
        where = settings.output_dir / settings.study.name
        if where in names:
            # Values listed twice are refused earlier (bench/sweep.py): what is left is a name= on
            # the command line, or two study files that set the same name.
            named = any(o.lstrip("+").startswith("name=") for o in folder.overrides)
            fix = "drop name= from the sweep" if named else "give the studies different names (name: KEY)"
            raise ConfigError(
                f"the sweep gives two study folders the same name {str(where)!r} "
                f"({names[where]} and {' '.join(folder.overrides)}): {fix}"
            )
        names[where] = " ".join(folder.overrides)
        context = RunContext.from_environment(yahpo_data=settings.yahpo_data)
        apply_context(context)  # planning builds the tasks here; the specs carry it to the workers
        jobs.append((settings, make_plan_within(settings.study, settings.plan_timeout, context)))
    return jobs


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (see the module docstring)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["check"]:  # the plugin harness: python -m bench check optimizer=ID|task_family=NAME
        from bench.check_command import main as check

        return check(args[1:])
    if args[:1] == ["archive"]:  # the baseline archive: python -m bench archive status|verify|build|pack
        from bench.archive.command import main as archive

        return archive(args[1:])
    try:
        flags = parse_flags(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if flags.help or flags.hydra_help:
        print(help_text())
        return EXIT_OK
    if flags.version:
        print(version_text())
        return EXIT_OK
    for folder in flags.config_dirs:
        add_config_dir(folder)
    try:
        return _main(flags, args)
    except (ConfigError, UnknownNameError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except yaml.YAMLError as exc:  # a hand-edited config file that does not parse
        print(f"error: {_yaml_error(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\ninterrupted while planning: nothing ran", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        from omegaconf.errors import OmegaConfBaseException

        if isinstance(exc, OmegaConfBaseException):  # a config value read after the checks above
            print(f"error: {interpolation_problem(exc, 'the composed config')}", file=sys.stderr)
            return EXIT_BAD_INPUT
        tabular = sys.modules.get("tasks.tabular")  # loaded by whatever raised from it
        if tabular is not None and isinstance(exc, tabular.CacheDirError):  # building a task's table
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        raise


def _quick_listing(overrides: Sequence[str]) -> tuple[str, str | None] | None:
    """``list=optimizers|studies|tasksets`` (with a plain ``filter=``) and nothing else: the listing
    reads YAML files only, so it needs no Hydra composition (a tenth of a second saved)."""
    chosen: dict[str, str] = {}
    for ov in overrides:
        key, sep, value = ov.partition("=")
        if not sep or key not in ("list", "filter") or key in chosen or any(c in value for c in "'\"[]{},$ "):
            return None
        chosen[key] = value
    if chosen.get("list") not in ("optimizers", "studies", "tasksets"):
        return None
    return chosen["list"], chosen.get("filter") or None


def _main(flags: Flags, args: list[str]) -> int:
    from bench.sweep import parse_command_line

    quick = _quick_listing(flags.overrides) if not (flags.cfg or flags.info) else None
    if quick:
        from bench.catalog import print_listing

        print_listing(*quick)
        return EXIT_OK
    cl = parse_command_line(flags.overrides, flags.multirun)
    if flags.info:
        _show_info(flags, cl)
        return EXIT_OK
    if flags.cfg:
        _show_cfg(flags, cl)
        return EXIT_OK
    first = _compose(cl.folders[0])
    if first.get("list"):
        from bench.catalog import print_listing
        from bench.run_context import RunContext, apply_context

        if first.list == "tasks":  # the YAHPO folder; the other listings read YAML files only
            apply_context(RunContext.from_environment(yahpo_data=first.get("yahpo_data")))
        print_listing(str(first.list), first.get("filter"), first.get("task_type"), first.get("task_kind"))
        return EXIT_OK
    jobs = _plan_all(cl)
    return _run(jobs, args)


def summarize(study_dir: Path, sweep: SweepResult, plan: Plan) -> str:
    """The summary printed after a sweep: the runs of one pair without the analysis (a single
    run imports neither it nor pandas), leaderboards with it."""
    from bench.summary import pair_summary

    text = pair_summary(study_dir, sweep, plan)
    if text is None:
        from analysis.leaderboard.sweep_summary import summarize as leaderboards

        text = leaderboards(study_dir, sweep, plan)
    return text


def _run(jobs: list[tuple[Settings, Plan]], argv: list[str]) -> int:
    from bench.parallel import SweepResult, check_backend, check_writable, run_all
    from bench.results import ResultWriteError
    from bench.study_folder import prepare_study_folder
    from bench.summary import plan_header, refusal_lines

    for settings, plan in jobs:
        study = settings.study
        print(plan_header(study.name, plan, len(study.optimizers), len(study.seeds), study.budget))
        for line in refusal_lines(plan):
            print(line)
    first = jobs[0][0]
    specs = [s for _, plan in jobs for s in plan.specs]
    previous = _stop_on_sigterm()
    try:
        check_backend(first.backend)  # an unreachable scheduler: one line, before anything is written
        for settings, plan in jobs:
            study_dir = settings.output_dir / settings.study.name
            check_writable(study_dir)
            check_writable(study_dir / "runs")
            # Refuses a plan that would replace or mix with the folder's runs, before anything is written.
            for line in prepare_study_folder(
                study_dir, plan, settings.study, move_old_runs=settings.move_old_runs, argv=argv
            ):
                print(line)
        # One pool for every folder of the sweep; a single run runs here, with no pool to start.
        sweep = run_all(
            specs, first.output_dir, first.n_jobs, first.backend, first.progress, in_process=len(specs) == 1
        )
    except Terminated:
        print(
            "\nterminated (SIGTERM): the worker processes were stopped; runs already written are kept; "
            "re-run the same command to resume",
            file=sys.stderr,
        )
        return EXIT_TERMINATED
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ResultWriteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_WRITE_FAILED
    except KeyboardInterrupt:
        print(
            "\ninterrupted: the worker processes were stopped; runs already written are kept; re-run "
            "the same command to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    for settings, plan in jobs:
        study_dir = settings.output_dir / settings.study.name
        if len(jobs) > 1:  # each folder's own summary, from the outcomes of its runs
            mine = {str((study_dir / "runs").absolute())}
            mine_outcomes = [o for o in sweep.outcomes if o.path and str(Path(o.path).parent) in mine]
            part = SweepResult(
                outcomes=mine_outcomes, skipped=len(plan.specs) - len(mine_outcomes), elapsed=sweep.elapsed
            )
            print(f"\n== {study_dir}")
            print(summarize(study_dir, part, plan))
        else:
            print(summarize(study_dir, sweep, plan))
    return EXIT_RUNS_FAILED if sweep.failed else EXIT_OK


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `python -m bench ... | head`: the reader left early; runs are written
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        sys.exit(EXIT_BROKEN_PIPE)
