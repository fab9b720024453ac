"""A dask future that settles as neither finished nor erred is not the run's failure.

Dask marks a finished task ``lost`` when the worker holding its result dies (here: killed by
another run) and computes it again; a task the scheduler drops is ``cancelled``. For both,
``future.exception()`` is ``None``: the supervisor once filed such a run as ``crashed`` with
"NoneType on the dask worker, outside the run: None", over the result file the run had
written. These tests force both states on a real LocalCluster.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.config import BackendConfig, OptimizerChoice, StudyConfig
from bench.loop import RunOutcome, run_path
from bench.parallel import _dask_client
from bench.plan import make_plan
from bench.supervisor import run_dask
from optimizers.base import Budget

distributed = pytest.importorskip("distributed")

RANDOM = OptimizerChoice("random_search", "optimizers.random_search.RandomSearch")


def _specs(seeds: tuple[int, ...] = (0,)) -> list[Any]:
    return list(make_plan(StudyConfig("lost", (RANDOM,), ("synthetic/branin",), seeds, Budget(5))).specs)


def _wait_until(future: Any, lost: bool, what: str, timeout: float = 60.0) -> None:
    """Until ``future`` is lost (``lost=True``) or finished again."""
    deadline = time.monotonic() + timeout
    while (future.status == "finished") == lost:
        assert time.monotonic() < deadline, f"dask never got there: {what}"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("recomputed", [False, True], ids=["seen-lost", "seen-recomputed"])
def test_a_result_lost_with_its_worker_keeps_the_run_it_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recomputed: bool
) -> None:
    (spec,) = _specs()
    written: dict[str, bytes] = {}
    real_as_completed = distributed.as_completed

    def kill_the_holder_first(futures: Any, **kwargs: Any) -> Iterator[Any]:
        for future in real_as_completed(futures, **kwargs):
            assert future.status == "finished"
            written["file"] = run_path(tmp_path, spec).read_bytes()
            client = future.client
            holders = list(client.who_has([future])[future.key])
            for pid in client.run(os.getpid, workers=holders).values():
                os.kill(pid, signal.SIGKILL)  # the worker dies holding the result
            _wait_until(future, True, "the result is lost")
            if recomputed:  # dask computed it again before the supervisor looked
                _wait_until(future, False, "the result is computed again")
            yield future

    monkeypatch.setattr(distributed, "as_completed", kill_the_holder_first)
    outcomes: list[RunOutcome] = []
    with _dask_client(BackendConfig("dask", n_workers=2), 2) as client:
        run_dask([spec], tmp_path, client, outcomes.append)
    (outcome,) = outcomes
    assert (outcome.status, outcome.n_trials, outcome.error) == ("ok", 5, None)
    # the run written first is the run: neither a failure record nor dask's recomputation replaced it
    assert run_path(tmp_path, spec).read_bytes() == written["file"]


@pytest.mark.slow
def test_a_run_the_scheduler_cancels_is_run_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = _specs(seeds=(0, 1))
    real_as_completed = distributed.as_completed
    cancelled: list[str] = []

    def cancel_one(futures: Any, **kwargs: Any) -> Any:
        futures = list(futures)
        if not cancelled:  # only the first submission: the re-submitted run goes through
            victim = futures[0]
            victim.client.cancel([victim], reason="test", msg="cancelled by the test")
            cancelled.append(victim.key)
        return real_as_completed(futures, **kwargs)

    monkeypatch.setattr(distributed, "as_completed", cancel_one)
    outcomes: list[RunOutcome] = []
    with _dask_client(BackendConfig("dask", n_workers=2), 2) as client:
        run_dask(specs, tmp_path, client, outcomes.append)
    assert cancelled
    assert sorted(o.run_id for o in outcomes) == sorted(s.run_id for s in specs)
    assert all((o.status, o.n_trials) == ("ok", 5) for o in outcomes), [o.error for o in outcomes]
