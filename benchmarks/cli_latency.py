"""Command-line latency of the instant answers of ``python -m bench`` (target ≤ 0.3 s wall each).

``--help``, ``--version``, ``--cfg job`` and ``list=optimizers|studies|tasksets`` must import
nothing heavy. Each is run as a fresh process from an empty temporary folder (PYTHONPATH = the
repository root), interleaved with ``python -c pass`` as the reference measured in the same run,
so that a busy machine slows all of them alike. Reported: min and median wall seconds, the ratio
of the median to the reference's median, the median peak RSS of the process, and which heavy
packages (numpy, scipy, ConfigSpace, pandas, pyarrow, joblib, optuna) one extra
``python -X importtime`` run of each command imported, with the chain that pulled each in.

Exit status 1 when an instant command imported a heavy package, failed, or wrote anything into
its folder (structural checks); the times are only reported, never checked, because they depend
on the machine and its load.

Run: ``python benchmarks/cli_latency.py [--repeats 15] [--compare] [--out table.md]``
(``--compare`` adds ``list=tasks`` and one 10-trial run, which are not instant answers).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Packages whose import alone costs a tenth of a second or more; none may load for an instant answer.
HEAVY = ("numpy", "scipy", "ConfigSpace", "pandas", "pyarrow", "joblib", "optuna")
REFERENCE = ("-c", "pass")
INSTANT: tuple[tuple[str, ...], ...] = (
    ("--help",),
    ("--version",),
    ("--cfg", "job"),
    ("list=optimizers",),
    ("list=studies",),
    ("list=tasksets",),
)
#: For comparison only: these import the task families or run a study.
LIST_TASKS = ("list=tasks",)
SINGLE_RUN = ("optimizer=random_search", "task=bbob/f01/d02/i01", "n_trials=10")


@dataclass
class Timing:
    """Wall seconds and peak RSS (MB) of every repeat of one command."""

    walls: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)


def argv(args: tuple[str, ...]) -> list[str]:
    """The full command: the reference is ``python -c pass``, everything else ``python -m bench``."""
    return [sys.executable, *args] if args == REFERENCE else [sys.executable, "-m", "bench", *args]


def label(args: tuple[str, ...]) -> str:
    return "python " + " ".join(args) if args == REFERENCE else "python -m bench " + " ".join(args)


def environment(pycache: Path) -> dict[str, str]:
    """The caller's environment with the repository importable and bytecode cached in ``pycache``.

    A user's installation has its bytecode cached after the first run; a checkout may have none
    (or may not be allowed to write it), which would add compiling to every run. A private cache,
    filled by the warm-up runs, gives every machine the same, steady state.
    """
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONPYCACHEPREFIX": str(pycache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_once(args: tuple[str, ...], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of the command in ``cwd``.

    ``os.wait4`` gives this child's own resource usage; ``RUSAGE_CHILDREN`` would give the largest
    peak of all children so far, which a later, smaller process cannot lower.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        argv(args),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:  # rerun with output captured, to say why
        again = subprocess.run(
            argv(args), cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
        )
        raise SystemExit(f"{label(args)} failed ({proc.returncode}):\n{again.stderr[-2000:]}")
    return wall, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def import_tree(stderr: str) -> list[tuple[int, str]]:
    """(depth, module) of every line of ``-X importtime`` output, in the order printed.

    A line reads ``import time: self | cumulative | <two spaces per level>module``; a module is
    printed after the modules it imported, so its importer is the next line with a smaller depth.
    """
    tree = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        name = line.rsplit("|", 1)[1].rstrip()
        stripped = name.lstrip()
        tree.append(((len(name) - len(stripped) - 1) // 2, stripped))
    return tree


def chain(tree: list[tuple[int, str]], i: int) -> list[str]:
    """Importers of ``tree[i]``, outermost first: who imported it, who imported that, ..."""
    depth, names = tree[i][0], [tree[i][1]]
    for d, name in tree[i + 1 :]:
        if d < depth:
            names.append(name)
            depth = d
    return names[::-1]


def heavy_imports(args: tuple[str, ...], cwd: Path, env: dict[str, str]) -> dict[str, str]:
    """Heavy package -> import chain, from one ``python -X importtime`` run of the command."""
    cmd = argv(args)
    proc = subprocess.run(
        [cmd[0], "-X", "importtime", *cmd[1:]],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{label(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    tree = import_tree(proc.stderr)
    return {name: " -> ".join(chain(tree, i)) for i, (_, name) in enumerate(tree) if name in HEAVY}


def root_chains(found: dict[str, str]) -> list[str]:
    """The chains of the heavy packages imported by no other heavy package (the causes to fix),
    each naming the heavy packages that came in through it."""
    lines = []
    for name, line in found.items():
        if not any(other in line.split(" -> ")[:-1] for other in found):
            via = [o for o in found if o != name and name in found[o].split(" -> ")]
            lines.append(line + (f" (which imports {', '.join(via)})" if via else ""))
    return lines


def written(cwd: Path) -> list[str]:
    return sorted(p.name for p in cwd.iterdir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed runs of each command")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also time list=tasks and a 10-trial single run (not instant answers)",
    )
    parser.add_argument("--compare-repeats", type=int, default=5)
    parser.add_argument("--out", default=None, help="also write the Markdown tables here")
    args = parser.parse_args()
    commands = (REFERENCE, *INSTANT)
    timings = {c: Timing() for c in commands}
    heavy: dict[tuple[str, ...], dict[str, str]] = {}
    problems: list[str] = []
    load_before = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory(prefix="nxm-cli-latency-") as tmp,
        tempfile.TemporaryDirectory(prefix="nxm-cli-pycache-") as pycache,
    ):
        cwd, env = Path(tmp), environment(Path(pycache))
        for c in commands:  # also the warm-up: the first run of each compiles and reads cold files
            heavy[c] = heavy_imports(c, cwd, env)
            if written(cwd):
                raise SystemExit(f"{label(c)} wrote {written(cwd)} into its working folder")
        for r in range(args.repeats):
            # A different command goes first each round, so no command always follows the same one.
            for c in commands[r % len(commands) :] + commands[: r % len(commands)]:
                wall, rss = run_once(c, cwd, env)
                timings[c].walls.append(wall)
                timings[c].rss_mb.append(rss)
                if written(cwd):
                    raise SystemExit(f"{label(c)} wrote {written(cwd)} into its working folder")
        compare: dict[str, Timing] = {}
        if args.compare:
            listing, single = f"`{label(LIST_TASKS)}`", f"`{label(SINGLE_RUN)}` (a fresh folder each time)"
            compare = {listing: Timing(), single: Timing()}
            heavy[LIST_TASKS] = heavy_imports(LIST_TASKS, cwd, env)
            with tempfile.TemporaryDirectory(prefix="nxm-cli-run-") as run_dir:
                run_once(SINGLE_RUN, Path(run_dir), env)  # warm-up: caches the runner's bytecode too
            for _ in range(args.compare_repeats):
                wall, rss = run_once(LIST_TASKS, cwd, env)
                compare[listing].walls.append(wall)
                compare[listing].rss_mb.append(rss)
                with tempfile.TemporaryDirectory(prefix="nxm-cli-run-") as run_dir:
                    wall, rss = run_once(SINGLE_RUN, Path(run_dir), env)
                compare[single].walls.append(wall)
                compare[single].rss_mb.append(rss)
    load_after = os.getloadavg()[0]

    ref = statistics.median(timings[REFERENCE].walls)
    table = [
        "| command | min (s) | median (s) | median / `python -c pass` | peak RSS (MB) | heavy imports |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for c in commands:
        t = timings[c]
        med = statistics.median(t.walls)
        names = ", ".join(heavy[c]) or "none"
        table.append(
            f"| `{label(c)}` | {min(t.walls):.3f} | {med:.3f} | {med / ref:.1f}× "
            f"| {statistics.median(t.rss_mb):.0f} | {names} |"
        )
        if c != REFERENCE and heavy[c]:
            problems.append(f"{label(c)} imports {names}")
    lines = [
        f"{args.repeats} interleaved runs each; Python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
        f"load average {load_before:.2f} before, {load_after:.2f} after",
        "",
        *table,
    ]
    if compare:
        lines += [
            "",
            "Not instant answers (for comparison):",
            "",
            "| command | min (s) | median (s) | median / `python -c pass` | peak RSS (MB) |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, t in compare.items():
            med = statistics.median(t.walls)
            lines.append(
                f"| {name} | {min(t.walls):.3f} | {med:.3f} | {med / ref:.1f}× "
                f"| {statistics.median(t.rss_mb):.0f} |"
            )
    chains = [f"{label(c)}: {line}" for c in (*INSTANT, LIST_TASKS) for line in root_chains(heavy.get(c, {}))]
    if chains:
        lines += [
            "",
            "Import chains of the heavy packages (outermost importer first; a chain that starts "
            "at a bench module was imported inside a function):",
            *(f"  {line}" for line in chains),
        ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    if problems:
        raise SystemExit("NOT INSTANT: " + "; ".join(problems))


if __name__ == "__main__":
    main()
