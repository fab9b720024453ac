"""``sklearn-tab`` lookups through the task API equal the entries of the shipped ``.npz`` files.

The shipped tables are the recording (see ``test_tasks_sklearn_built.py`` for their agreement with
retraining). Here each file is read with :func:`numpy.load` and :mod:`json` alone (no project
table code) and the expected answer follows the documented format: ``data[config, seed,
fidelity, metric]`` with configurations numbered in mixed radix over ``meta["params"]`` (last
parameter fastest); run seed ``s`` reads repetition ``s % n_seeds``; ``fidelity=None`` is the
highest recorded fidelity; ``Result.cost`` is the ``train_time`` metric.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tasks.collections import sklearn_built as sb

CASES = [(learner, dataset) for learner in sb.LEARNERS for dataset in sb.DATASETS]
LOOKUPS = 50


@pytest.mark.parametrize(("learner", "dataset"), CASES)
def test_lookups_equal_shipped_file(learner: str, dataset: str) -> None:
    path = sb.table_path(learner, dataset)
    with np.load(path, allow_pickle=False) as npz:
        data = np.array(npz["data"])
        meta = json.loads(str(npz["meta"]))
    grid: dict[str, list[int | float | str]] = meta["params"]
    radices = [len(v) for v in grid.values()]
    strides = [math.prod(radices[i + 1 :]) for i in range(len(radices))]
    fidelities: list[float] = meta["fidelity_values"]
    metrics: list[str] = meta["metrics"]
    n_seeds = data.shape[1]
    assert data.shape == (math.prod(radices), n_seeds, len(fidelities), len(metrics))
    fam = sb.SklearnTabFamily()
    tasks = [fam.make(t) for t in fam.ids() if t.split("/")[1:3] == [learner, dataset]]
    assert len(tasks) == len(sb.VARIANTS)
    rng = np.random.default_rng(11)
    bad: list[str] = []
    for _ in range(LOOKUPS):
        digits = [int(rng.integers(r)) for r in radices]
        config = {name: vals[d] for (name, vals), d in zip(grid.items(), digits, strict=True)}
        seed = int(rng.integers(0, 1000))
        f = int(rng.integers(len(fidelities) + 1))  # one draw in n+1 asks for the default fidelity
        fidelity = fidelities[f] if f < len(fidelities) else None
        row = data[
            sum(d * s for d, s in zip(digits, strides, strict=True)),
            seed % n_seeds,
            min(f, len(fidelities) - 1),
        ]
        recorded = dict(zip(metrics, row.tolist(), strict=True))
        for task in tasks:
            res = task.evaluate(config, fidelity=fidelity, seed=seed)
            want = tuple(recorded[o.name] for o in task.objectives)
            if res.values != want or res.cost != recorded["train_time"] or dict(res.info) != recorded:
                bad.append(f"{task.id} {config} fidelity={fidelity} seed={seed}: {res} vs {recorded}")
    assert not bad, f"{len(bad)} lookups differ from {path.name}, e.g. {bad[:2]}"
