"""Property-based: every bad command-line value gives exit status 2 and one line naming it.

Drives the real entry point (`bench.__main__.main`) in-process with generated overrides;
nothing here may start a run, so every generated value is invalid by construction.
"""

from __future__ import annotations

import contextlib
import io
import os
import string
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.__main__ import main
from bench.registry import optimizer_ids, study_ids

SINGLE = ["optimizer=random_search", "task=bbob/f01/d02/i01"]
names = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=14)


def _run(args: list[str]) -> tuple[int, list[str]]:
    err, out = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # a mistaken run would write here, never into the repo
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
                rc = main(args)
        finally:
            os.chdir(cwd)
        assert not os.path.exists(os.path.join(tmp, "results")), "a bad input started a run"
    return rc, [ln for ln in err.getvalue().splitlines() if ln.strip()]


def _assert_one_line(rc: int, lines: list[str], *needles: str) -> None:
    assert rc == 2, lines
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "Traceback" not in lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@settings(max_examples=20, deadline=None)
@given(
    key=st.sampled_from(["n_trials", "time_budget"]),
    value=st.one_of(st.integers(max_value=0), st.floats(max_value=0.0), names),
)
def test_non_positive_budgets(key: str, value: object) -> None:
    rc, lines = _run([*SINGLE, f"{key}={value}"])
    _assert_one_line(rc, lines, f"{key}=")


@settings(max_examples=15, deadline=None)
@given(
    value=st.one_of(
        st.just(0), st.floats(allow_nan=False).filter(lambda v: v != int(v) if abs(v) < 1e15 else True), names
    )
)
def test_bad_worker_counts(value: object) -> None:
    # negative integers are joblib's "all cores but |n|-1" and valid; 0, fractions and words are not
    rc, lines = _run([*SINGLE, f"n_jobs={value}"])
    _assert_one_line(rc, lines, "n_jobs=")


@settings(max_examples=20, deadline=None)
@given(value=st.one_of(st.integers(max_value=-1), st.integers(min_value=2**32), names))
def test_bad_seeds(value: object) -> None:
    rc, lines = _run([*SINGLE, f"seed={value}"])
    _assert_one_line(rc, lines, "seed=", "[0, 4294967295]")


@settings(max_examples=20, deadline=None)
@given(name=names.filter(lambda n: n not in optimizer_ids()))
def test_unknown_optimizer(name: str) -> None:
    rc, lines = _run([f"optimizer={name}", "task=bbob/f01/d02/i01"])
    _assert_one_line(rc, lines, f"unknown optimizer {name!r}")


@settings(max_examples=20, deadline=None)
@given(name=names.filter(lambda n: n not in study_ids()))
def test_unknown_study(name: str) -> None:
    rc, lines = _run([f"study={name}"])
    _assert_one_line(rc, lines, f"unknown study {name!r}")


@settings(max_examples=20, deadline=None)
@given(family=names, rest=names)
def test_unknown_task(family: str, rest: str) -> None:
    rc, lines = _run(["optimizer=random_search", f"task={family}/{rest}"])
    _assert_one_line(rc, lines, f"{family}/{rest}")
