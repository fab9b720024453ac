"""Property-based: broken study YAMLs and bad override combinations give exit 2 and one line.

Each example writes a study file into a user config folder (``NXMBENCH_CONFIG_PATH``)
that is valid except for one generated defect (a wrong type or value, an unknown key,
a missing required key) and drives the real entry point in-process. The error line
must name the bad key or value, and nothing may start a run.
"""

from __future__ import annotations

import contextlib
import io
import os
import string
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.__main__ import main
from bench.config import STUDY_KEYS, setting_keys
from bench.registry import CONFIG_PATH_ENV

VALID: dict[str, Any] = {
    "name": "prop",
    "optimizers": ["random_search"],
    "tasks": ["synthetic/branin"],
    "seeds": 1,
    "n_trials": 3,
}
INF, NAN = float("inf"), float("nan")
words = st.text(alphabet=string.ascii_lowercase + "_", min_size=3, max_size=12)

#: Per study field, values that must be refused.
BAD_VALUES: dict[str, list[Any]] = {
    # (name: 7 is the folder name '7': the typed schema reads a number as the string it spells)
    "name": ["../escape", "a/b", ".hidden", ["x"], {"a": 1}],
    "description": [["a", "b"], {"a": 1}],
    "optimizers": [5, 2.5, {"a": 1}, [], None, ["no_such_optimizer"], [1.5], "no_such_optimizer"],
    "tasks": [5, {"a": 1}, ["nope/x"], ["bbob/f99*"], [], None, "synthetic/no_such_task"],
    "taskset": ["no_such_taskset", 5, ["a"]],
    "seeds": [-1, 0, 1.5, "abc", [], [1, 1], [-1], [2**32], 10**6, True, {"a": 1}, [0.5]],
    "n_trials": [0, -1, "abc", INF, NAN, True, [1], {"a": 1}],
    "time_budget": [0, -3.5, "abc", INF, NAN, False, [1]],
    "incompatible": ["maybe", 1, True, ["error"]],
    "trial_timeout": [0, -1, "abc", INF, NAN, True, [1], {"s": 1}],
    "run_timeout": [0, -0.5, "ten", INF, NAN, False, [2]],
}


@contextlib.contextmanager
def _user_conf(study_text: str) -> Iterator[Path]:
    """A temporary working folder whose user config folder holds ``study/prop.yaml``."""
    cwd, old = os.getcwd(), os.environ.get(CONFIG_PATH_ENV)
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "conf" / "study"
        conf.mkdir(parents=True)
        (conf / "prop.yaml").write_text(study_text)
        os.environ[CONFIG_PATH_ENV] = str(conf.parent)
        os.chdir(tmp)  # a mistaken run would write here, never into the repo
        try:
            yield Path(tmp)
        finally:
            os.chdir(cwd)
            if old is None:
                os.environ.pop(CONFIG_PATH_ENV, None)
            else:
                os.environ[CONFIG_PATH_ENV] = old


def _run(study_text: str, *args: str) -> tuple[int, list[str], str]:
    err, out = io.StringIO(), io.StringIO()
    with _user_conf(study_text) as tmp:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            rc = main(["study=prop", "progress=false", "n_jobs=1", *args])
        assert not (tmp / "results").exists(), "a bad input started a run"
    return rc, [ln for ln in err.getvalue().splitlines() if ln.strip()], err.getvalue()


def _assert_one_line(rc: int, lines: list[str], raw: str, needles: list[str]) -> None:
    assert rc == 2, lines
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "Traceback" not in raw
    assert any(n in lines[0] for n in needles), (needles, lines[0])


def _needles(key: str, value: Any) -> list[str]:
    """Substrings of which the error line must contain one: the key, or the bad value."""
    out = [key, repr(value), str(value)]
    if isinstance(value, list):
        out += [repr(v) for v in value] + [str(v) for v in value]
    return out


@st.composite
def broken_study(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    study = dict(VALID)
    kind = draw(st.sampled_from(["bad_value", "unknown_key", "missing_key"]))
    if kind == "bad_value":
        key = draw(st.sampled_from(sorted(BAD_VALUES)))
        value = draw(st.sampled_from(BAD_VALUES[key]))
        study[key] = value
        return study, _needles(key, value)
    if kind == "unknown_key":
        key = draw(words.filter(lambda w: w not in STUDY_KEYS))
        study[key] = draw(st.one_of(st.integers(), words, st.none()))
        return study, [key]
    key = draw(st.sampled_from(["optimizers", "tasks"]))
    del study[key]
    return study, [key]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(case=broken_study())
def test_broken_study_files_give_one_line_errors(case: tuple[dict[str, Any], list[str]]) -> None:
    study, needles = case
    rc, lines, raw = _run(yaml.safe_dump(study))
    _assert_one_line(rc, lines, raw, needles)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("optimizers: [random_search\n", "prop"),  # unclosed flow list
        ("- random_search\n- synthetic/branin\n", "prop"),  # a list, not a mapping
        ("name: prop\n\tseeds: 1\n", "prop"),  # a tab where YAML wants spaces
    ],
)
def test_unparsable_study_file_gives_one_line_error(text: str, needle: str) -> None:
    rc, lines, raw = _run(text)
    _assert_one_line(rc, lines, raw, [needle])


def _setting(override: str) -> str:
    """``+study.trial_timeout=3`` → ``trial_timeout``: top-level keys override the study's."""
    return override.lstrip("+").split("=", 1)[0].rsplit(".", 1)[-1]


GOOD_OVERRIDES = [
    "n_trials=2",
    "seed=1",
    "study.seeds=2",
    "n_jobs=1",
    "progress=false",
    "backend=loky",
    "time_budget=100",
    "+study.trial_timeout=30",
    "+run_timeout=60",
]
#: (override, substrings of which the error must contain one)
BAD_OVERRIDES: list[tuple[str, list[str]]] = [
    ("n_trials=-1", ["n_trials"]),
    ("n_trials=inf", ["n_trials"]),
    ("time_budget=nan", ["time_budget"]),
    ("+study.trial_timeout=0", ["trial_timeout"]),
    ("+study.run_timeout=abc", ["run_timeout"]),
    ("+trial_timeout=-2", ["trial_timeout"]),
    ("+run_timeout=inf", ["run_timeout"]),
    ("seed=-5", ["seed"]),
    ("n_jobs=0", ["n_jobs"]),
    ("n_jobs=1.5", ["n_jobs"]),
    ("+study.bogus_key=1", ["bogus_key"]),
    ("backend=nope", ["nope"]),
    ("optimizer=nope_opt", ["nope_opt"]),
    ("study.incompatible=maybe", ["incompatible"]),
    ("study.seeds=[1,1]", ["seeds"]),
    ("study.seeds=0", ["seeds"]),
    ("output_dir=", ["output_dir"]),
    ("+name=../up", ["../up"]),
    ("study.tasks=[nope/x]", ["nope/x"]),
    ("study.optimizers=[]", ["optimizers"]),
]


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    good=st.lists(st.sampled_from(GOOD_OVERRIDES), max_size=3, unique=True),
    bad=st.lists(st.sampled_from(BAD_OVERRIDES), min_size=1, max_size=2, unique_by=lambda b: b[0]),
    data=st.data(),
)
def test_override_combinations_give_one_line_errors(
    good: list[str], bad: list[tuple[str, list[str]]], data: st.DataObject
) -> None:
    # A good value for the same setting would legitimately replace the bad one: leave it out.
    bad_keys = {_setting(b[0]) for b in bad}
    good = [g for g in good if _setting(g) not in bad_keys]
    args = data.draw(st.permutations([*good, *(b[0] for b in bad)]))
    rc, lines, raw = _run(yaml.safe_dump(VALID), *args)
    _assert_one_line(rc, lines, raw, [n for b in bad for n in b[1]])


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    word=words.filter(lambda w: w not in setting_keys() and w not in STUDY_KEYS),
    prefix=st.sampled_from(["", "+", "++"]),
    value=st.sampled_from(["1", "abc", "[1,2]"]),
)
def test_unknown_top_level_keys_are_refused_with_or_without_plus(word: str, prefix: str, value: str) -> None:
    # Hydra's own hint for a typo ("use +n_trial=10") would run with the key ignored.
    rc, lines, raw = _run(yaml.safe_dump(VALID), f"{prefix}{word}={value}")
    _assert_one_line(rc, lines, raw, [f"{word} is not a setting"])
    assert "use +" not in lines[0]


#: TPESampler's own arguments (and the seed the adapter sets): not typos.
TPE_ARGUMENTS = (
    "consider_prior",
    "prior_weight",
    "consider_magic_clip",
    "consider_endpoints",
    "n_startup_trials",
    "n_ei_candidates",
    "gamma",
    "weights",
    "seed",
    "multivariate",
    "group",
    "warn_independent_sampling",
    "constant_liar",
    "constraints_func",
    "categorical_distance_func",
)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(word=words.filter(lambda w: w not in TPE_ARGUMENTS), value=st.sampled_from(["1", "abc", "true"]))
def test_unknown_optimizer_params_are_refused_at_planning(word: str, value: str) -> None:
    pytest.importorskip("optuna")
    rc, lines, raw = _run(yaml.safe_dump(VALID), "optimizer=optuna_tpe", f"optimizer.params.{word}={value}")
    _assert_one_line(rc, lines, raw, [f"OptunaTPE has no parameter {word!r}"])


@settings(max_examples=20, deadline=None, derandomize=True)
@given(position=st.integers(0, 60), byte=st.integers(0x80, 0xFF))
def test_study_file_that_is_not_utf8_is_named(position: int, byte: int) -> None:
    text = yaml.safe_dump(VALID).encode()
    position = min(position, len(text))
    body = text[:position] + bytes([byte]) + text[position:]  # a lone byte >= 0x80 is never UTF-8
    err = io.StringIO()
    with _user_conf("") as tmp:
        (tmp / "conf" / "study" / "prop.yaml").write_bytes(body)
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(["study=prop", "progress=false", "n_jobs=1"])
        assert not (tmp / "results").exists()
    lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
    _assert_one_line(rc, lines, err.getvalue(), ["prop.yaml is not UTF-8 text"])
