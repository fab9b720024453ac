"""`python -m bench`: compose the Hydra config, plan the study, run it, summarize.

Examples::

    python -m bench                                          # the default study
    python -m bench optimizer=random_search task=bbob/f01/d02/i01 seed=0
    python -m bench study=blackbox_dev n_jobs=8
    python -m bench list=tasks filter='bbob/f01/*/i01'
    python -m bench list=tasks "filter='bbob/f0[1-5]/d05/i01'"   # brackets: quote for Hydra
    python -m bench list=optimizers | list=studies | list=tasksets
    python -m bench --cfg study=default                      # show the composed config

Overrides: study.*, optimizer.params.*, task=, seed=, n_trials=, time_budget=, n_jobs=,
output_dir=, backend=loky|threading|dask (backend.address=...), yahpo_data=, progress=false;
wall-clock limits in seconds: +study.trial_timeout=, +study.run_timeout= (docs/fault-tolerance.md).
Exit status: 0 every run finished ok; 1 the sweep completed but some runs crashed, timed out or
died (recorded; a re-run retries them); 2 bad input, nothing ran; 3 the sweep stopped because a
result could not be written (disk full, output unwritable; runs already written are kept);
130 interrupted (Ctrl-C), 143 terminated (SIGTERM): workers stopped, a re-run resumes.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

import yaml
from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from bench.catalog import print_listing
from bench.config import (
    LIST_KINDS,
    ConfigError,
    check_composed,
    check_overrides,
    interpolation_problem,
    settings_from_cfg,
)
from bench.parallel import check_backend, check_writable, run_all
from bench.plan import make_plan_within
from bench.registry import UnknownNameError, unknown, yaml_ids
from bench.results import ResultWriteError
from bench.study_folder import prepare_study_folder
from bench.summary import refusal_lines, summarize

#: Exit statuses (documented in docs/fault-tolerance.md).
EXIT_OK, EXIT_RUNS_FAILED, EXIT_BAD_INPUT, EXIT_WRITE_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
#: SIGTERM: 128 + 15, as a shell reports a process ended by it; 128 + SIGPIPE when the reader of
#: the output went away (``| head``).
EXIT_TERMINATED, EXIT_BROKEN_PIPE = 143, 141

#: Config groups whose values name YAML files under conf/.
GROUPS = {"study": "study", "optimizer": "optimizer", "backend": "backend"}
USAGE = __doc__ or ""
LIST_NAMES = {"study": "studies", "optimizer": "optimizers", "backend": "backends"}


def _choices(overrides: Sequence[str]) -> dict[str, str]:
    """Group selections from the command line, checked so a typo gets a one-line did-you-mean."""
    chosen: dict[str, str] = {}
    for ov in overrides:
        key, sep, value = ov.lstrip("+~").partition("=")
        if sep and key in GROUPS:
            valid = yaml_ids(GROUPS[key])
            if value not in valid:
                hint = f"list them with: python -m bench list={LIST_NAMES[key]}" if key != "backend" else ""
                raise unknown(key, value, valid, hint=hint)
            chosen[key] = value
        if sep and key == "list" and value not in LIST_KINDS:
            raise ConfigError(f"list={value!r} is invalid: use one of {', '.join(LIST_KINDS)}")
    return chosen


def compose_config(overrides: Sequence[str]) -> DictConfig:
    from bench.registry import check_config_file, conf_dir, extra_conf_dirs

    overrides = check_overrides(overrides)  # unknown keys get a did-you-mean, not Hydra's "use +key"
    # The files Hydra will read, read strictly first: a bad one is named (not UTF-8, not a mapping).
    for group, name in {"study": "default", "backend": "loky", **_choices(overrides)}.items():
        check_config_file(group, name)
    extra = extra_conf_dirs()
    if extra:  # user folders join Hydra's search path so their groups can be selected too
        paths = ",".join(f"file://{d.resolve()}" for d in extra)
        overrides = [*overrides, f"hydra.searchpath=[{paths}]"]
    with initialize_config_dir(config_dir=str(conf_dir()), version_base=None):
        return compose("config", overrides=list(overrides))


def _yaml_error(exc: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: which file, where, what the parser wanted."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{mark.name} line {mark.line + 1} column {mark.column + 1}" if mark else "a config file"
    problem = " ".join(filter(None, (getattr(exc, "context", None), getattr(exc, "problem", None))))
    return f"cannot parse {where}: {problem or ' '.join(str(exc).split())}: fix the YAML syntax"


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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (see the module docstring)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(USAGE)
        return 0
    show_cfg = "--cfg" in args
    args = [a for a in args if a != "--cfg"]
    try:
        choices = _choices(args)
        try:
            cfg = compose_config(args)
        except (HydraException, OmegaConfBaseException) as exc:
            msg = " ".join(str(exc).split())
            bracketed = [a for a in args if "=" in a and "[" in a.split("=", 1)[1]
                         and not a.split("=", 1)[1].startswith(("'", '"', "["))]
            if bracketed:  # a glob like f0[1-5] reads as a Hydra list unless quoted
                key, value = bracketed[0].split("=", 1)
                msg += f" — quote glob patterns for Hydra: \"{key}='{value}'\""
            raise ConfigError(msg) from exc
        check_composed(cfg, args, choices)
        if cfg.get("yahpo_data"):
            # Read by the yahpo family here and, inherited, in every worker process.
            os.environ["NXM_YAHPO_DATA"] = str(cfg.yahpo_data)
        if show_cfg:
            print(OmegaConf.to_yaml(cfg))
            return 0
        if cfg.get("list"):
            print_listing(str(cfg.list), cfg.get("filter"), cfg.get("task_type"), cfg.get("task_kind"))
            return 0
        settings = settings_from_cfg(cfg, choices.get("study", "default"), choices.get("optimizer"))
        plan = make_plan_within(settings.study, settings.plan_timeout)
    except (ConfigError, UnknownNameError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except yaml.YAMLError as exc:  # a hand-edited config file that does not parse
        print(f"error: {_yaml_error(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OmegaConfBaseException as exc:  # a config value read after the checks above
        print(f"error: {interpolation_problem(exc, 'the composed config')}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\ninterrupted while planning: nothing ran", file=sys.stderr)
        return EXIT_INTERRUPTED

    study = settings.study
    study_dir = settings.output_dir / study.name
    print(f"study {study.name!r}: {len(study.optimizers)} optimizers × {len(plan.tasks)} tasks × "
          f"{len(study.seeds)} seeds = {len(plan.specs)} runs, budget {study.budget.n_trials:g} "
          f"full-fidelity trials" + (f", {study.budget.time:g} s simulated" if study.budget.time else ""))
    for line in refusal_lines(plan):
        print(line)
    previous = _stop_on_sigterm()
    try:
        check_backend(settings.backend)  # an unreachable scheduler: one line, before anything is written
        check_writable(study_dir)
        check_writable(study_dir / "runs")
        # Refuses a plan that would replace or mix with the folder's runs, before anything is written.
        for line in prepare_study_folder(study_dir, plan, study, move_old_runs=settings.move_old_runs,
                                         argv=args):
            print(line)
        sweep = run_all(plan.specs, settings.output_dir, settings.n_jobs, settings.backend,
                        settings.progress)
    except Terminated:
        print("\nterminated (SIGTERM): the worker processes were stopped; runs already written are kept; "
              "re-run the same command to resume", file=sys.stderr)
        return EXIT_TERMINATED
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ResultWriteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_WRITE_FAILED
    except KeyboardInterrupt:
        print("\ninterrupted: the worker processes were stopped; runs already written are kept; re-run "
              "the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    print(summarize(study_dir, sweep, plan))
    return EXIT_RUNS_FAILED if sweep.failed else EXIT_OK


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `python -m bench ... | head`: the reader left early; runs are written
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        sys.exit(EXIT_BROKEN_PIPE)
