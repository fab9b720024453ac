"""Regenerate ``yahpo_reference.json`` with the reference ``yahpo_gym`` package.

``yahpo_gym`` pins ``numpy<2``, so it runs in a separate, throwaway virtual
environment, never in the project's one::

    python -m venv "$REF_VENV"
    "$REF_VENV/bin/pip" install yahpo-gym==1.0.2
    "$REF_VENV/bin/python" tests/data/make_yahpo_reference.py ../shared/data/yahpo

(``$REF_VENV`` is any scratch folder outside the repository.)

It samples configurations (instance and fidelity included) from each scenario's
own ``config_space.json``, evaluates them with ``BenchmarkSet.objective_function``
and writes configurations and all targets to ``tests/data/yahpo_reference.json``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

SCENARIOS = ("lcbench", "rbv2_xgboost", "rbv2_rpart", "iaml_glmnet")
N_CONFIGS = 20


def main(data_dir: str) -> None:
    # Imported here so that test collection of this folder never needs yahpo_gym.
    import numpy as np

    # yahpo_gym keeps its data path in a settings file; point it at a scratch one.
    os.environ["YAHPO_LOCAL_CONFIG"] = str(Path(tempfile.mkdtemp()) / "yahpo_gym.yaml")
    from yahpo_gym import BenchmarkSet, local_config

    local_config.init_config()
    local_config.set_data_path(str(Path(data_dir).resolve()))
    out: dict[str, object] = {
        "yahpo_gym_version": "1.0.2",
        "command": "python tests/data/make_yahpo_reference.py " + " ".join(sys.argv[1:]),
        "scenarios": {},
    }
    for k, scenario in enumerate(SCENARIOS):
        bench = BenchmarkSet(scenario, multithread=False)
        bench.config_space.seed(1000 + k)
        configs = []
        for cfg in bench.config_space.sample_configuration(N_CONFIGS):
            d = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in cfg.get_dictionary().items()}
            if "repl" in d:
                d["repl"] = 10  # the project's tasks fix the replication to 10, as Syne Tune does
            configs.append(d)
        ys = bench.objective_function(configs)
        out["scenarios"][scenario] = {  # type: ignore[index]
            "targets": list(bench.config.y_names),
            "configs": configs,
            "outputs": [[float(y[t]) for t in bench.config.y_names] for y in ys],
        }
    path = Path(__file__).with_name("yahpo_reference.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/yahpo")
