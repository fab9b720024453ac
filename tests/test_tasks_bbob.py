"""Tests for the COCO bbob and bbob-biobj task families."""

from __future__ import annotations

import os
import pickle
import re
import time
from pathlib import Path

import cocoex
import numpy as np
import pytest
from ConfigSpace import UniformFloatHyperparameter

from tasks.bbob import (
    DIMENSIONS,
    INSTANCES,
    BBOBBiobjFamily,
    BBOBBiobjTask,
    BBOBFamily,
    BBOBTask,
    families,
    make_id,
    make_task,
    parse_id,
)

ID_RE = re.compile(r"^(bbob|bbob-biobj)/f\d\d/d\d\d/i\d\d$")


def _suite_problem(suite: str, f: int, d: int, i: int) -> cocoex.Problem:
    # Pin instance numbers: a default bbob suite maps index i to the current year's instances.
    options = f"dimensions:{d} function_indices:{f} instance_indices:{i}"
    problem = cocoex.Suite(suite, "instances: 1-15", options)[0]
    assert problem.id_instance == i
    return problem


def test_families_and_catalog_sizes() -> None:
    fams = {f.name: f for f in families()}
    assert set(fams) == {"bbob", "bbob-biobj"}
    bbob, biobj = fams["bbob"].ids(), fams["bbob-biobj"].ids()
    assert len(bbob) == len(set(bbob)) == 24 * 6 * 15
    assert len(biobj) == len(set(biobj)) == 55 * 6 * 15
    assert all(ID_RE.match(i) for i in bbob + biobj)
    assert "bbob/f24/d40/i15" in bbob and "bbob-biobj/f55/d40/i15" in biobj
    assert all(f.unavailable_reason() is None for f in fams.values())


def test_every_bbob_id_builds_with_consistent_meta() -> None:
    for task_id in BBOBFamily().ids():
        task = make_task(task_id)
        assert isinstance(task, BBOBTask)
        _, f, d, i = parse_id(task_id)
        assert task.id == task_id
        assert task._problem.id == f"bbob_f{f:03d}_i{i:02d}_d{d:02d}"
        assert task.meta.family == "bbob" and task.meta.type == "bb" and task.meta.kind == "synthetic"
        assert task.meta.dims == d and task.meta.param_types == ("float",)
        assert task.meta.optimum is not None and len(task.meta.optimum) == 1
        assert task.fidelity is None and [o.name for o in task.objectives] == ["f"]


def test_space_is_seeded_box_with_named_floats() -> None:
    task = make_task("bbob/f03/d05/i02")
    space = task.space
    assert list(space) == [f"x{i}" for i in range(5)]
    for hp in space.values():
        assert isinstance(hp, UniformFloatHyperparameter)
        assert (hp.lower, hp.upper) == (-5.0, 5.0)
    again = make_task("bbob/f03/d05/i02").space
    assert space.sample_configuration() == again.sample_configuration()  # seeded


@pytest.mark.parametrize("dim", DIMENSIONS)
def test_evaluate_matches_cocoex_suite_at_random_configs(dim: int) -> None:
    for f in range(1, 25):
        task = make_task(f"bbob/f{f:02d}/d{dim:02d}/i03")
        reference = _suite_problem("bbob", f, dim, 3)
        for config in task.space.sample_configuration(3):
            x = np.array([config[k] for k in task.keys])
            result = task.evaluate(config)
            assert result.values == (float(reference(x)),)
            assert result.cost == 0.0
            assert task.evaluate_array(x).values == result.values
            assert result.values[0] >= task.meta.optimum[0]  # type: ignore[index]


def test_fopt_matches_cocoex_written_optimum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # cocoex reveals x_opt of a suite problem only by writing it to a file in the cwd.
    monkeypatch.chdir(tmp_path)
    for f in range(1, 25):
        for i in (1, 8, 15):
            fopts = set()
            for d in (2, 10):
                problem = _suite_problem("bbob", f, d, i)
                written = tmp_path / "._bbob_problem_best_parameter.txt"
                written.unlink(missing_ok=True)  # cocoex appends to it
                problem._best_parameter("print")
                xopt = np.loadtxt(written, ndmin=1)
                assert xopt.shape == (d,)
                task = make_task(f"bbob/f{f:02d}/d{d:02d}/i{i:02d}")
                value = task.evaluate(dict(zip(task.keys, xopt, strict=True))).values[0]
                assert value == pytest.approx(task.meta.optimum[0], abs=1e-8), (f, d, i)  # type: ignore[index]
                fopts.add(task.meta.optimum)
            assert len(fopts) == 1, f"f_opt of f{f} i{i} must not depend on the dimension"


def test_optimum_is_lower_bound_on_random_points() -> None:
    rng = np.random.default_rng(0)
    for f in range(1, 25):
        task = make_task(f"bbob/f{f:02d}/d05/i01")
        fopt = task.meta.optimum[0]  # type: ignore[index]
        assert all(task.evaluate_array(x).values[0] >= fopt for x in rng.uniform(-5, 5, (50, 5)))


def test_evaluation_is_stateless_and_writes_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    task = make_task("bbob/f15/d03/i01")
    biobj = make_task("bbob-biobj/f10/d03/i01")
    xs = np.random.default_rng(1).uniform(-5, 5, (20, 3))
    first = [task.evaluate_array(x).values for x in xs] + [biobj.evaluate_array(x).values for x in xs]
    again = [task.evaluate_array(x).values for x in xs[::-1]][::-1]
    again += [biobj.evaluate_array(x).values for x in xs[::-1]][::-1]
    assert first == again
    assert os.listdir(tmp_path) == []


def test_biobj_builds_for_every_function_and_matches_components() -> None:
    rng = np.random.default_rng(2)
    for f in range(1, 56):
        d, i = int(rng.choice(DIMENSIONS[:4])), int(rng.choice(INSTANCES))
        task = make_task(f"bbob-biobj/f{f:02d}/d{d:02d}/i{i:02d}")
        assert isinstance(task, BBOBBiobjTask)
        assert task.meta.family == "bbob-biobj" and task.meta.type == "mo" and task.meta.optimum is None
        assert [o.name for o in task.objectives] == ["f1", "f2"]
        (fa, ia), (fb, ib) = task.components
        a, b = (cocoex.BareProblem("bbob", fa, d, ia), cocoex.BareProblem("bbob", fb, d, ib))
        for x in rng.uniform(-5, 5, (3, d)):
            assert task.evaluate(dict(zip(task.keys, x, strict=True))).values == (a(x), b(x))
        # COCO's normalization points: ideal = both optima, nadir = each at the other's optimum.
        assert task.ideal == (a.best_value(), b.best_value())
        assert task.nadir == pytest.approx((a(b.best_parameter()), b(a.best_parameter())))


@pytest.mark.parametrize("dim", [2, 5])
def test_biobj_equals_cocoex_suite_for_every_function_and_instance(dim: int) -> None:
    rng = np.random.default_rng(dim)
    suite = cocoex.Suite("bbob-biobj", "instances: 1-15", f"dimensions:{dim}")
    seen = 0
    for problem in suite:
        f, i = problem.id_function, problem.id_instance
        task = make_task(f"bbob-biobj/f{f:02d}/d{dim:02d}/i{i:02d}")
        (fa, ia), (fb, ib) = task.components  # type: ignore[union-attr]
        assert problem.name == f"bbob_f{fa:03d}_i{ia:02d}_d{dim:02d}__bbob_f{fb:03d}_i{ib:02d}_d{dim:02d}"
        x = rng.uniform(-5, 5, dim)
        assert task.evaluate_array(x).values == tuple(problem(x))
        assert task.nadir == pytest.approx(tuple(problem.largest_fvalues_of_interest), rel=1e-12)  # type: ignore[union-attr]
        seen += 1
    assert seen == 55 * 15


@pytest.mark.parametrize("dim", [20, 40])
def test_biobj_equals_cocoex_suite_in_high_dimensions(dim: int) -> None:
    rng = np.random.default_rng(dim)
    for f, i in ((1, 1), (19, 9), (37, 15), (55, 4)):
        problem = _suite_problem("bbob-biobj", f, dim, i)
        task = make_task(f"bbob-biobj/f{f:02d}/d{dim:02d}/i{i:02d}")
        x = rng.uniform(-5, 5, dim)
        assert task.evaluate(dict(zip(task.keys, x, strict=True))).values == tuple(problem(x))


def test_pickle_round_trip_rebuilds_from_id() -> None:
    for task_id in ("bbob/f01/d02/i01", "bbob/f24/d40/i15", "bbob-biobj/f33/d05/i07"):
        task = make_task(task_id)
        clone = pickle.loads(pickle.dumps(task))
        assert type(clone) is type(task) and clone.id == task_id and clone.meta == task.meta
        x = np.linspace(-4, 4, task.meta.dims)
        assert clone.evaluate_array(x).values == task.evaluate_array(x).values
        assert len(pickle.dumps(task)) < 200  # only the id travels


def test_make_is_fast() -> None:
    for task_id, budget in (("bbob/f17/d40/i15", 0.01), ("bbob-biobj/f55/d40/i15", 0.01)):
        best = min(_timed(task_id) for _ in range(5))
        assert best < budget, f"make({task_id!r}) took {best * 1e3:.1f} ms"


def _timed(task_id: str) -> float:
    start = time.perf_counter()
    make_task(task_id)
    return time.perf_counter() - start


@pytest.mark.parametrize(
    ("task_id", "message"),
    [
        ("bbob/f25/d02/i01", "function must be f01..f24"),
        ("bbob/f00/d02/i01", "function must be f01..f24"),
        ("bbob-biobj/f56/d02/i01", "function must be f01..f55"),
        ("bbob/f01/d07/i01", "dimension must be one of d02, d03, d05, d10, d20, d40"),
        ("bbob/f01/d02/i16", "instance must be i01..i15"),
        ("bbob-biobj/f01/d02/i16", "instance must be i01..i15"),
        ("bbob/f1/d2/i1", "expected 'bbob/fFF/dDD/iII'"),
        ("bbob-noisy/f101/d02/i01", "expected 'bbob/fFF/dDD/iII'"),
    ],
)
def test_bad_ids_raise_helpful_value_error(task_id: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        make_task(task_id)
    assert repr(task_id) in str(info.value)


def test_family_refuses_other_prefix_and_direct_constructors_validate() -> None:
    with pytest.raises(ValueError, match="must start with 'bbob-biobj/'"):
        BBOBBiobjFamily().make("bbob/f01/d02/i01")
    with pytest.raises(ValueError, match=r"function must be f01\.\.f24"):
        BBOBTask(30, 2, 1)  # would abort the interpreter inside COCO if not caught first


def test_make_id_builds_canonical_validated_ids() -> None:
    assert make_id(3, 5) == "bbob/f03/d05/i01"
    assert make_id(55, 40, 15, suite="bbob-biobj") == "bbob-biobj/f55/d40/i15"
    with pytest.raises(ValueError, match="dimension must be one of"):
        make_id(3, 4)
    with pytest.raises(ValueError, match="unknown COCO suite 'bbob-noisy'"):
        make_id(3, 5, suite="bbob-noisy")


def test_fidelity_is_refused() -> None:
    task = make_task("bbob/f01/d02/i01")
    with pytest.raises(ValueError, match="has no fidelity"):
        task.evaluate({"x0": 0.0, "x1": 0.0}, fidelity=1.0)
