"""Nevergrad's BO (``ng_bayesopt``) on mixed spaces: a proposal on the edge of its unit cube runs.

bayes_opt often proposes points on its box's faces (``x = 1.0``). Nevergrad 1.0.12 maps them into
each parameter's bounds with a ``Normalizer``; for some log-scaled bounds the affine map lands one
ulp past the upper bound (``gamma`` of ``yahpo/rbv2_xgboost``: ``Only data between [-5.] and [1.]
can be transformed back. Got: [1.]``), its fallback then fails on the half-transformed vector, and
the run crashed at its 14th trial. The adapter retries such a proposal a hair inside the cube; a
proposal the library maps without error is passed on unchanged, so every run that did not crash
proposes exactly what it proposed before.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("nevergrad")
pytest.importorskip("bayes_opt")

from bench.registry import make_task
from optimizers.base import Budget, Problem
from optimizers.nevergrad import Nevergrad
from tasks.collections.yahpo import set_data_dir

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NXMBENCH_YAHPO_DATA") or REPO.parent / "shared" / "data" / "yahpo")

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"YAHPO data folder {DATA} is absent")


def _proposals(task_id: str, seed: int, n: int) -> list[dict]:
    from bench import registry

    set_data_dir(DATA)
    registry.forget_tasks()
    try:
        task = make_task(task_id)
        problem = Problem(task.space, task.objectives, task.fidelity, Budget(n))
        opt = Nevergrad(problem, seed, optimizer="BO")
        out = []
        for i in range(n):
            trial = opt.ask()
            out.append(dict(trial.config))
            opt.tell(trial, task.evaluate(trial.config, None, i))
        return out
    finally:
        set_data_dir(None)
        registry.forget_tasks()


def test_a_proposal_on_the_cube_edge_does_not_crash_the_run() -> None:
    # seed 1 on this task crashed at the 14th ask before the fix
    configs = _proposals("yahpo/rbv2_xgboost/1040", 1, 20)
    assert len(configs) == 20


def test_proposals_the_library_maps_are_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the retry (the library's own normalizer), a run that never hits the edge proposes
    exactly the same configurations."""
    import optimizers.nevergrad as adapter

    patched = _proposals("yahpo/rbv2_rpart/14", 0, 15)
    monkeypatch.setattr(adapter, "_edge_safe", lambda optimizer: None)
    plain = _proposals("yahpo/rbv2_rpart/14", 0, 15)
    assert patched == plain


def test_the_wrapped_normalizer_copies_and_pickles_like_the_library_one() -> None:
    import copy
    import pickle

    import numpy as np

    from optimizers.nevergrad import _EdgeSafeNormalizer

    task = make_task("synthetic/branin")
    problem = Problem(task.space, task.objectives, task.fidelity, Budget(5))
    normalizer = Nevergrad(problem, 0, optimizer="BO")._optimizer._normalizer
    assert isinstance(normalizer, _EdgeSafeNormalizer)
    x = np.array([0.25, 1.0])
    for clone in (copy.deepcopy(normalizer), pickle.loads(pickle.dumps(normalizer))):
        assert np.array_equal(clone.backward(x), normalizer.backward(x))
        assert np.array_equal(clone.forward(clone.backward(x)), normalizer.forward(normalizer.backward(x)))
