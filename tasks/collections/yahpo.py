"""YAHPO Gym surrogate benchmarks, evaluated with ``onnxruntime`` directly.

YAHPO Gym (Pfisterer et al., 2022) ships one ONNX surrogate per *scenario*
(``lcbench``, ``rbv2_xgboost``, ...) that predicts every target of an ML
pipeline from its hyperparameters, the *instance* (an OpenML task) and the
fidelity. This module reads a user-given data folder with, per scenario,
``model.onnx``, ``config_space.json`` and ``encoding.json`` and reproduces the
reference ``yahpo_gym`` (1.0.2) input encoding exactly, without depending on
that package (it pins ``numpy<2``):

* the model takes ``x_cat`` (int32) and ``x_cont`` (float32), in the scenario's
  fixed ``cat_names`` / ``cont_names`` order (:data:`SCENARIOS`);
* categoricals are integer codes from ``encoding.json``; an inactive
  categorical is ``"#na#"`` and an inactive numeric parameter is ``0``;
* numeric values go in raw: log transforms and scaling live inside the ONNX
  graph, and so does the output de-normalization.

Tasks are ``yahpo/<scenario>/<instance>`` (single objective, the scenario's
primary target) and ``yahpo/<scenario>/<instance>/mo`` (primary target vs.
predicted training time). Every target is returned in ``Result.info``;
``Result.cost`` is the predicted training time (clipped at 0). For ``rbv2_*``
the replication parameter ``repl`` is fixed to 10, as Syne Tune does.

The data folder is the ``data_dir`` argument of :class:`YahpoFamily`, else the
folder this process was given with :func:`set_data_dir` (the runner does that
from the run's settings, so a remote worker needs no environment variable),
else the ``NXMBENCH_YAHPO_DATA`` environment variable; without one the family
is listed as unavailable. Every known scenario with a folder there is checked on
first use (files present, UTF-8 JSON of the expected shape, a ConfigSpace space
with the parameters the model reads, an ONNX model with the expected input and
output widths). A broken folder makes the family unavailable with one line
naming the file and what is wrong (:class:`YahpoDataError`), so using a YAHPO
task fails with that line, while listings and studies of other families go on.

Example:
    >>> fam = YahpoFamily(data_dir="/nonexistent")
    >>> print(fam.unavailable_reason())  # doctest: +ELLIPSIS
    YAHPO data folder '/nonexistent' does not exist (give yahpo_data=PATH or set NXMBENCH_YAHPO_DATA: ...)
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace

from tasks.base import Fidelity, Objective, Result, Task, TaskFamily, TaskMeta
from tasks.environment import setting

#: Environment variable naming the folder with one subfolder per YAHPO scenario (its deprecated
#: name ``NXM_YAHPO_DATA`` is still read while it is unset, see tasks/environment.py).
DATA_ENV = "NXMBENCH_YAHPO_DATA"
#: Categorical code for an inactive (or missing) categorical parameter.
NA_CATEGORY = "#na#"


@dataclass(frozen=True)
class Scenario:
    """Static description of a YAHPO scenario, as in ``yahpo_gym.benchmarks``.

    ``cont_names`` and ``cat_names`` fix the column order of the model inputs;
    ``fixed`` holds parameters pinned to a constant (not searched).

    Example:
        >>> SCENARIOS["lcbench"].fidelity_name
        'epoch'
    """

    name: str
    cont_names: tuple[str, ...]
    cat_names: tuple[str, ...]
    instance_name: str
    fidelity_name: str
    targets: tuple[str, ...]
    minimize: tuple[bool, ...]
    runtime_name: str
    primary: str
    fixed: Mapping[str, Any]
    integer_fidelity: bool = False

    def objective(self, target: str) -> Objective:
        return Objective(target, minimize=self.minimize[self.targets.index(target)])


_RBV2_TARGETS = ("acc", "bac", "auc", "brier", "f1", "logloss", "timetrain", "timepredict", "memory")
_RBV2_MIN = (False, False, False, True, True, True, True, True, True)
_IAML_TARGETS = (
    "mmce",
    "f1",
    "auc",
    "logloss",
    "ramtrain",
    "rammodel",
    "rampredict",
    "timetrain",
    "timepredict",
    "mec",
    "ias",
    "nf",
)
_IAML_MIN = (True, False, False, True, True, True, True, True, True, True, True, True)

#: Scenarios whose encoding was checked against the reference implementation.
SCENARIOS: dict[str, Scenario] = {
    "lcbench": Scenario(
        name="lcbench",
        cont_names=(
            "epoch",
            "batch_size",
            "learning_rate",
            "momentum",
            "weight_decay",
            "num_layers",
            "max_units",
            "max_dropout",
        ),
        cat_names=("OpenML_task_id",),
        instance_name="OpenML_task_id",
        fidelity_name="epoch",
        targets=(
            "time",
            "val_accuracy",
            "val_cross_entropy",
            "val_balanced_accuracy",
            "test_cross_entropy",
            "test_balanced_accuracy",
        ),
        minimize=(True, False, True, False, True, False),
        runtime_name="time",
        primary="val_accuracy",
        fixed={},
        integer_fidelity=True,
    ),
    "rbv2_xgboost": Scenario(
        name="rbv2_xgboost",
        cont_names=(
            "nrounds",
            "eta",
            "gamma",
            "lambda",
            "alpha",
            "subsample",
            "max_depth",
            "min_child_weight",
            "colsample_bytree",
            "colsample_bylevel",
            "rate_drop",
            "skip_drop",
            "trainsize",
            "repl",
        ),
        cat_names=("task_id", "booster", "num.impute.selected.cpo"),
        instance_name="task_id",
        fidelity_name="trainsize",
        targets=_RBV2_TARGETS,
        minimize=_RBV2_MIN,
        runtime_name="timetrain",
        primary="acc",
        fixed={"repl": 10},
    ),
    "rbv2_rpart": Scenario(
        name="rbv2_rpart",
        cont_names=("cp", "maxdepth", "minbucket", "minsplit", "trainsize", "repl"),
        cat_names=("task_id", "num.impute.selected.cpo"),
        instance_name="task_id",
        fidelity_name="trainsize",
        targets=_RBV2_TARGETS,
        minimize=_RBV2_MIN,
        runtime_name="timetrain",
        primary="acc",
        fixed={"repl": 10},
    ),
    "iaml_glmnet": Scenario(
        name="iaml_glmnet",
        cont_names=("alpha", "s", "trainsize"),
        cat_names=("task_id",),
        instance_name="task_id",
        fidelity_name="trainsize",
        targets=_IAML_TARGETS,
        minimize=_IAML_MIN,
        runtime_name="timetrain",
        primary="mmce",
        fixed={},
    ),
}


def data_dir_from_env() -> Path | None:
    """The YAHPO data folder named by ``NXMBENCH_YAHPO_DATA``, or ``None`` when unset.

    Example:
        >>> isinstance(data_dir_from_env(), (Path, type(None)))
        True
    """
    value = setting(DATA_ENV)
    return Path(value).expanduser() if value else None


#: The folder given by :func:`set_data_dir`; a list so that it is set in place, not rebound.
_configured: list[Path | None] = [None]


def set_data_dir(path: str | os.PathLike[str] | None) -> bool:
    """Use ``path`` as this process's YAHPO data folder (``None``: ``$NXMBENCH_YAHPO_DATA`` again).

    Returns whether the folder changed, so that a caller caching task lists knows to drop them.

    Example:
        >>> set_data_dir("/nonexistent"), set_data_dir("/nonexistent")
        (True, False)
        >>> print(YahpoFamily().unavailable_reason())  # doctest: +ELLIPSIS
        YAHPO data folder '/nonexistent' does not exist ...
        >>> set_data_dir(None)
        True
    """
    new = Path(path).expanduser() if path is not None and str(path).strip() else None
    changed = new != _configured[0]
    _configured[0] = new
    return changed


def data_dir() -> Path | None:
    """This process's YAHPO data folder: the one given to :func:`set_data_dir`, else the one named
    by ``NXMBENCH_YAHPO_DATA``, else ``None``.

    Example:
        >>> set_data_dir("/data/yahpo") and data_dir()
        PosixPath('/data/yahpo')
        >>> set_data_dir(None) and None
    """
    return _configured[0] if _configured[0] is not None else data_dir_from_env()


class YahpoDataError(ValueError):
    """A file of a YAHPO scenario folder is missing or unusable.

    The message is one line: the scenario, the file, what is wrong with it and what would
    be valid.

    Example:
        >>> try:
        ...     _read_json(Path("/nonexistent/config_space.json"))
        ... except YahpoDataError as exc:
        ...     print(exc)
        missing file /nonexistent/config_space.json
    """


#: What to do about a broken scenario folder (appended to every :class:`YahpoDataError`).
_REFETCH = "restore the scenario folder from the YAHPO Gym data (github.com/slds-lmu/yahpo_data) or remove it"


def _one_line(text: object, limit: int = 200) -> str:
    """``text`` on one line, cut to ``limit`` characters (library messages can be long)."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _read_json(path: Path) -> Any:
    """The parsed JSON of ``path``; :class:`YahpoDataError` naming the file if it cannot be read."""
    if not path.is_file():
        raise YahpoDataError(f"missing file {path}")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise YahpoDataError(f"cannot read {path}: {_one_line(exc.strerror or exc)}") from None
    except UnicodeDecodeError as exc:
        raise YahpoDataError(
            f"{path} is not UTF-8 JSON text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise YahpoDataError(
            f"{path} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _read_space_json(folder: Path, scenario: Scenario) -> dict[str, Any]:
    """``config_space.json``, checked to have every parameter the scenario's model reads."""
    path = folder / "config_space.json"
    raw = _read_json(path)
    hps = raw.get("hyperparameters") if isinstance(raw, dict) else None
    if not (
        isinstance(hps, list) and all(isinstance(h, dict) and isinstance(h.get("name"), str) for h in hps)
    ):
        raise YahpoDataError(
            f"{path} is not a search space: expected a JSON object whose 'hyperparameters' is a list "
            "of objects with a 'name'"
        )
    if not isinstance(raw.get("conditions", []), list):
        raise YahpoDataError(f"{path}: 'conditions' must be a list")
    by_name = {h["name"]: h for h in hps}
    missing = [n for n in (*scenario.cat_names, *scenario.cont_names) if n not in by_name]
    if missing:
        raise YahpoDataError(
            f"{path} lacks the {scenario.name} parameter(s) {missing}; expected all of "
            f"{sorted({*scenario.cat_names, *scenario.cont_names})}"
        )
    for hp in hps:
        choices = hp.get("choices")
        numeric = _is_number(hp.get("lower")) and _is_number(hp.get("upper"))
        if not (numeric or (isinstance(choices, list) and choices)):
            raise YahpoDataError(
                f"{path}: hyperparameter {hp['name']!r} has neither numeric 'lower' and 'upper' "
                "nor a non-empty list 'choices'"
            )
        # Files written by ConfigSpace < 1.0 say "default"; newer readers warn and expect "default_value".
        if "default" in hp:
            hp["default_value"] = hp.pop("default")
    if "choices" not in by_name[scenario.instance_name]:
        raise YahpoDataError(f"{path}: instance parameter {scenario.instance_name!r} must have 'choices'")
    if "lower" not in by_name[scenario.fidelity_name]:
        raise YahpoDataError(f"{path}: fidelity {scenario.fidelity_name!r} must have numeric 'lower'/'upper'")
    raw.setdefault("conditions", [])
    return dict(raw)


def _read_encoding(folder: Path, scenario: Scenario, instances: Sequence[str]) -> dict[str, dict[str, int]]:
    """``encoding.json``: an integer code per category of every categorical model input."""
    path = folder / "encoding.json"
    raw = _read_json(path)
    ok = isinstance(raw, dict) and all(
        isinstance(raw.get(n), dict) and all(isinstance(c, int) for c in raw[n].values())
        for n in scenario.cat_names
    )
    if not ok:
        raise YahpoDataError(
            f"{path} must map each of {list(scenario.cat_names)} to an object of integer codes per category"
        )
    uncoded = [i for i in instances if i not in raw[scenario.instance_name]]
    if uncoded:
        raise YahpoDataError(f"{path} has no {scenario.instance_name} code for instance(s) {uncoded[:5]}")
    return dict(raw)


#: The files of a scenario folder that its values come from, in the order :func:`scenario_digest`
#: hashes them.
DATA_FILES = ("config_space.json", "encoding.json", "model.onnx")

#: :func:`scenario_digest` of each scenario in YAHPO data 1.0.2 (``VERSION`` 1.0.2 of
#: github.com/slds-lmu/yahpo_data): the files this project's baseline archive, reference values
#: and tests were made with. A task on these files keeps its plain form (no revision); on any
#: other files it is revised (see :func:`data_revision`).
REFERENCE_DIGESTS: dict[str, str] = {
    "lcbench": "98fdb84d49f7b818d0f23fbc7647d697fc2105534a268c5b9ab4369f8e8a70d1",
    "rbv2_xgboost": "863bb7a320be9644187bdbfe69623d69dfa2dc0bf5ee47cc1bc2f3cc016a42e2",
    "rbv2_rpart": "ccda1a530696ec36cd651bffe331004835f660fd8bccb35e86b26bdfb28c6ccc",
    "iaml_glmnet": "b55bf0686e94f07044ac62ca20763eb0c71d22573fcbd636cc6f2e7b0a9c75cd",
}


def scenario_digest(folder: Path) -> str:
    """SHA-256 over a scenario folder's :data:`DATA_FILES` (each name, length and bytes): what its
    tasks' values are computed from, wherever the folder is.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     for name in DATA_FILES:
        ...         _ = (Path(tmp) / name).write_bytes(b"")
        ...     scenario_digest(Path(tmp))[:16]
        '944ee1d8e73bb675'
    """
    h = hashlib.sha256()
    for name in DATA_FILES:
        data = (folder / name).read_bytes()
        h.update(f"{name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def data_revision(scenario: str, digest: str) -> str:
    """The task revision of a scenario's tasks computed from files with ``digest``: empty for the
    reference files (:data:`REFERENCE_DIGESTS`), else ``yahpo-data=sha256:`` and the digest's first
    16 hex digits. Surrogates retrained or edited under the same names give other values for the
    same task id; the revision enters each run's fingerprint, so runs of two data folders are never
    mixed in one study folder, and archived baselines made with other files are refused.

    Example:
        >>> data_revision("lcbench", REFERENCE_DIGESTS["lcbench"])
        ''
        >>> data_revision("lcbench", "0123456789abcdef" * 4)
        'yahpo-data=sha256:0123456789abcdef'
    """
    return "" if REFERENCE_DIGESTS.get(scenario) == digest else f"yahpo-data=sha256:{digest[:16]}"


class YahpoSurrogate:
    """One scenario's ONNX model plus the exact ``yahpo_gym`` input encoding.

    Thread-safe and shared per ``(folder, scenario)`` via :func:`load_surrogate`.
    Construction checks every file of the scenario folder (the model is loaded once
    to check its input and output widths) and raises :class:`YahpoDataError`, one
    line naming the file, for a missing or unusable one. After unpickling, the ONNX
    session is recreated on the first prediction.

    Example:
        >>> SCENARIOS["iaml_glmnet"].cont_names
        ('alpha', 's', 'trainsize')
    """

    def __init__(self, data_dir: Path, scenario: str) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown YAHPO scenario {scenario!r}; valid: {sorted(SCENARIOS)}")
        self.scenario = SCENARIOS[scenario]
        self.folder = Path(data_dir) / scenario
        self._session: Any = None
        self._lock = threading.Lock()
        try:
            self.space_json = _read_space_json(self.folder, self.scenario)
            self.params: dict[str, dict[str, Any]] = {
                hp["name"]: hp for hp in self.space_json["hyperparameters"]
            }
            self.encoding = _read_encoding(self.folder, self.scenario, self.instances)
            self._check_space()
            self._check_model()
            #: :func:`scenario_digest` of the files read above (a few MB, once per process).
            self.digest = scenario_digest(self.folder)
        except OSError as exc:  # a file that vanished or became unreadable since it was checked
            raise YahpoDataError(
                f"YAHPO scenario {scenario!r}: cannot read {self.folder} ({_one_line(exc)}); {_REFETCH}"
            ) from None
        except YahpoDataError as exc:
            raise YahpoDataError(f"YAHPO scenario {scenario!r}: {exc}; {_REFETCH}") from None

    def __getstate__(self) -> dict[str, Any]:
        # The ONNX session and the lock cannot be pickled; both are recreated lazily.
        state = dict(self.__dict__)
        state["_session"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _check_space(self) -> None:
        path = self.folder / "config_space.json"
        try:
            self.search_space()
        except Exception as exc:  # ConfigSpace's decoder raises many types for a malformed entry
            raise YahpoDataError(
                f"{path} is not a ConfigSpace search space ({type(exc).__name__}: {_one_line(exc)})"
            ) from None

    def _check_model(self) -> None:
        path = self.folder / "model.onnx"
        if not path.is_file():
            raise YahpoDataError(f"missing file {path}")
        try:
            session = self._session_or_load()
        except ImportError:
            raise  # a missing onnxruntime is the family's unavailable reason, not a data problem
        except Exception as exc:  # onnxruntime raises its own types (InvalidProtobuf, Fail, ...)
            self._session = None
            raise YahpoDataError(
                f"{path} is not an ONNX model onnxruntime can load ({_one_line(exc)})"
            ) from None
        sc = self.scenario
        widths = [i.shape[-1] if i.shape else None for i in session.get_inputs()]
        out = [o.shape[-1] if o.shape else None for o in session.get_outputs()]
        if widths != [len(sc.cat_names), len(sc.cont_names)] or out[:1] != [len(sc.targets)]:
            self._session = None
            raise YahpoDataError(
                f"{path} takes inputs of widths {widths} and gives {out[:1]} outputs; the {sc.name} "
                f"model takes [{len(sc.cat_names)}, {len(sc.cont_names)}] and gives [{len(sc.targets)}]"
            )

    @property
    def instances(self) -> list[str]:
        """Instance ids in the order of ``config_space.json``."""
        return [str(c) for c in self.params[self.scenario.instance_name]["choices"]]

    def _session_or_load(self) -> Any:
        with self._lock:
            if self._session is None:
                import onnxruntime as ort

                opts = ort.SessionOptions()
                # One thread: runs are parallelized by the runner, and 1-row inference gains nothing.
                opts.intra_op_num_threads = 1
                opts.inter_op_num_threads = 1
                self._session = ort.InferenceSession(
                    str(self.folder / "model.onnx"), sess_options=opts, providers=["CPUExecutionProvider"]
                )
            return self._session

    def encode(self, configs: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """``(x_cat, x_cont)`` model inputs for full configurations (instance and fidelity included).

        Missing (inactive) categoricals become ``"#na#"`` and missing numerics ``0``,
        exactly as ``yahpo_gym.BenchmarkSet._config_to_xs``.
        """
        sc = self.scenario
        x_cat = np.empty((len(configs), len(sc.cat_names)), dtype=np.int32)
        x_cont = np.empty((len(configs), len(sc.cont_names)), dtype=np.float32)
        for i, cfg in enumerate(configs):
            for j, name in enumerate(sc.cat_names):
                value = cfg.get(name)
                key = NA_CATEGORY if value is None else str(value)
                code = self.encoding[name].get(key)
                if code is None:
                    valid = [c for c in self.encoding[name] if c != NA_CATEGORY]
                    raise ValueError(f"{sc.name}: {name}={value!r} is not one of {valid}")
                x_cat[i, j] = code
            for j, name in enumerate(sc.cont_names):
                value = cfg.get(name)
                x_cont[i, j] = 0.0 if value is None else float(value)
        return x_cat, x_cont

    def predict(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """All targets (``scenario.targets`` order) for full configurations, shape ``(n, n_targets)``."""
        if not configs:
            return np.empty((0, len(self.scenario.targets)))
        x_cat, x_cont = self.encode(configs)
        session = self._session_or_load()
        names = [i.name for i in session.get_inputs()]
        # The reference feeds inputs by position: first x_cat, then x_cont.
        out = session.run(None, {names[0]: x_cat, names[1]: x_cont})[0]
        return np.asarray(out, dtype=np.float64)

    def search_space(self, seed: int = 0) -> ConfigurationSpace:
        """The optimizer's space: all parameters but instance, fidelity and fixed ones."""
        sc = self.scenario
        drop = {sc.instance_name, sc.fidelity_name, *sc.fixed}
        # The decoder pops keys from the dicts it reads, so it gets a deep copy.
        raw = copy.deepcopy(self.space_json)
        raw["hyperparameters"] = [hp for hp in raw["hyperparameters"] if hp["name"] not in drop]
        raw["conditions"] = [c for c in raw["conditions"] if c["child"] not in drop]
        space = ConfigurationSpace.from_serialized_dict(raw)
        space.seed(seed)
        return space

    def fidelity(self) -> Fidelity:
        hp = self.params[self.scenario.fidelity_name]
        low, high = float(hp["lower"]), float(hp["upper"])
        values = (
            tuple(float(v) for v in range(int(low), int(high) + 1))
            if self.scenario.integer_fidelity
            else None
        )
        return Fidelity(self.scenario.fidelity_name, low, high, values=values)


@cache
def load_surrogate(data_dir: str, scenario: str) -> YahpoSurrogate:
    """The shared :class:`YahpoSurrogate` of one scenario (cached per process)."""
    return YahpoSurrogate(Path(data_dir), scenario)


class YahpoTask(Task):
    """One YAHPO instance as a multi-fidelity task (single- or multi-objective).

    ``objectives`` are target names of the scenario; ``None`` picks the scenario's
    primary target. The fidelity defaults to its highest value.

    Example:
        >>> SCENARIOS["rbv2_rpart"].objective("acc")
        Objective(name='acc', minimize=False)
    """

    def __init__(
        self,
        surrogate: YahpoSurrogate,
        instance: str,
        objectives: Sequence[str] | None = None,
        suffix: str = "",
    ) -> None:
        sc = surrogate.scenario
        if instance not in surrogate.instances:
            raise ValueError(f"unknown {sc.name} instance {instance!r}; valid: {surrogate.instances}")
        names = tuple(objectives) if objectives else (sc.primary,)
        for name in names:
            if name not in sc.targets:
                raise ValueError(f"unknown {sc.name} target {name!r}; valid: {list(sc.targets)}")
        self.surrogate = surrogate
        self.instance = instance
        self.id = f"yahpo/{sc.name}/{instance}" + (f"/{suffix}" if suffix else "")
        self.space = surrogate.search_space()
        self.objectives = tuple(sc.objective(n) for n in names)
        self.fidelity = surrogate.fidelity()
        self._columns = [sc.targets.index(n) for n in names]
        self._runtime = sc.targets.index(sc.runtime_name)
        self._names = {hp.name for hp in self.space.values()}
        # ConfigSpace rounds the bounds it decodes from YAHPO's JSON (lcbench's learning_rate:
        # 0.0001 in the space, 0.00010000000000000009 in the JSON): a value anywhere in the space
        # the task advertises is accepted, and handed to the surrogate clipped into the JSON's range.
        self._accepted: dict[str, tuple[float, float]] = {}
        for hp in self.space.values():
            raw = surrogate.params[hp.name]
            lower, upper = getattr(hp, "lower", None), getattr(hp, "upper", None)
            if lower is not None and upper is not None and "lower" in raw:
                self._accepted[hp.name] = (min(lower, raw["lower"]), max(upper, raw["upper"]))
        self.meta = TaskMeta(
            kind="surrogate",
            tags=("yahpo", sc.name),
            description=f"YAHPO Gym {sc.name} surrogate on OpenML instance {instance}",
            libraries=("onnxruntime",),  # the surrogate network runs in it
            revision=data_revision(sc.name, surrogate.digest),
        )

    def _full_config(self, config: Mapping[str, Any], fidelity: float | None) -> dict[str, Any]:
        sc = self.surrogate.scenario
        unknown = set(config) - self._names
        if unknown:
            raise ValueError(
                f"{self.id}: unknown parameter(s) {sorted(unknown)}; valid: {sorted(self._names)}"
            )
        full = dict(config)
        for name, value in config.items():
            hp = self.surrogate.params[name]
            if "choices" in hp:
                if str(value) not in {str(c) for c in hp["choices"]}:
                    raise ValueError(f"{self.id}: {name}={value!r} is not one of {hp['choices']}")
                continue
            lo, hi = self._accepted.get(name, (hp["lower"], hp["upper"]))
            if not lo <= float(value) <= hi:
                raise ValueError(f"{self.id}: {name}={value!r} is outside [{lo}, {hi}]")
            if not hp["lower"] <= float(value) <= hp["upper"]:
                clipped = min(max(float(value), hp["lower"]), hp["upper"])
                full[name] = type(value)(clipped) if isinstance(value, int) else clipped
        assert self.fidelity is not None
        z = self.fidelity.high if fidelity is None else float(fidelity)
        if not self.fidelity.contains(z):
            lo, hi = self.fidelity.low, self.fidelity.high
            discrete = self.fidelity.values is not None
            allowed = f"one of {int(lo)}..{int(hi)}" if discrete else f"in [{lo}, {hi}]"
            raise ValueError(f"{self.id}: fidelity {sc.fidelity_name}={fidelity!r} must be {allowed}")
        full.update(sc.fixed)
        full[sc.instance_name] = self.instance
        full[sc.fidelity_name] = int(z) if sc.integer_fidelity else z
        return full

    def evaluate_batch(
        self,
        configs: Sequence[Mapping[str, Any]],
        fidelities: Sequence[float | None] | float | None = None,
        seed: int = 0,
    ) -> list[Result]:
        """Evaluate many configurations in one model call (deterministic; ``seed`` is unused)."""
        if fidelities is None or isinstance(fidelities, (int, float)):
            fids: Sequence[float | None] = [fidelities] * len(configs)
        else:
            fids = fidelities
        if len(fids) != len(configs):
            raise ValueError(f"{self.id}: got {len(configs)} configs but {len(fids)} fidelities")
        full = [self._full_config(c, f) for c, f in zip(configs, fids, strict=True)]
        out = self.surrogate.predict(full)
        targets = self.surrogate.scenario.targets
        return [
            Result(
                values=tuple(float(row[j]) for j in self._columns),
                cost=max(float(row[self._runtime]), 0.0),
                info={t: float(v) for t, v in zip(targets, row, strict=True)},
            )
            for row in out
        ]

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None, seed: int = 0) -> Result:
        return self.evaluate_batch([config], [fidelity], seed)[0]


class YahpoFamily(TaskFamily):
    """Every instance of every known scenario found in the YAHPO data folder.

    Ids: ``yahpo/<scenario>/<instance>`` and ``yahpo/<scenario>/<instance>/mo``.

    Example:
        >>> YahpoFamily(data_dir="/nonexistent").ids()
        []
    """

    name = "yahpo"
    description = (
        f"YAHPO Gym ONNX surrogates (lcbench, rbv2_*, iaml_*); data folder from yahpo_data=PATH or {DATA_ENV}"
    )

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self._explicit = Path(data_dir).expanduser() if data_dir is not None else None

    @property
    def data_dir(self) -> Path | None:
        return self._explicit if self._explicit is not None else data_dir()

    def scenarios(self) -> list[str]:
        """Known scenarios that have a folder in the data folder (see :meth:`broken_scenarios`)."""
        root = self.data_dir
        if root is None or not root.is_dir():
            return []
        return [s for s in SCENARIOS if (root / s).is_dir()]

    def broken_scenarios(self) -> dict[str, str]:
        """Scenario → one-line reason, for every scenario folder with a missing or unusable file."""
        broken: dict[str, str] = {}
        for s in self.scenarios():
            try:
                self._surrogate(s)
            except YahpoDataError as exc:
                broken[s] = str(exc)
        return broken

    def unavailable_reason(self) -> str | None:
        root = self.data_dir
        hint = f"give yahpo_data=PATH or set {DATA_ENV}: a folder with one subfolder per scenario"
        if root is None:
            return f"no YAHPO data folder ({hint})"
        if root.exists() and not root.is_dir():  # e.g. the downloaded archive, not unpacked
            return f"YAHPO data folder {str(root)!r} is a file, not a folder ({hint})"
        if not root.is_dir():
            return f"YAHPO data folder {str(root)!r} does not exist ({hint})"
        if not self.scenarios():
            return f"YAHPO data folder {str(root)!r} has none of the scenarios {sorted(SCENARIOS)}"
        if importlib.util.find_spec("onnxruntime") is None:
            return "package 'onnxruntime' is not installed: pip install 'nxm-bench[yahpo]'"
        # A broken scenario folder turns the whole family off: its tasks must fail with the reason
        # (one line naming the file), and the registry asks a family, not a scenario, for one.
        broken = self.broken_scenarios()
        if broken:
            first, *rest = broken.values()
            return first + (f" (also broken: {[s for s in broken][1:]})" if rest else "")
        return None

    def _surrogate(self, scenario: str) -> YahpoSurrogate:
        assert self.data_dir is not None
        return load_surrogate(str(self.data_dir.resolve()), scenario)

    def ids(self) -> list[str]:
        out: list[str] = []
        broken = self.broken_scenarios()
        for s in self.scenarios():
            if s in broken:
                continue
            for inst in self._surrogate(s).instances:
                out += [f"yahpo/{s}/{inst}", f"yahpo/{s}/{inst}/mo"]
        return out

    def make(self, task_id: str) -> Task:
        reason = self.unavailable_reason()
        if reason:
            raise ValueError(f"cannot make {task_id!r}: {reason}")
        parts = task_id.split("/")
        if len(parts) not in (3, 4) or parts[0] != self.name or (len(parts) == 4 and parts[3] != "mo"):
            raise ValueError(f"bad YAHPO task id {task_id!r}; expected yahpo/<scenario>/<instance>[/mo]")
        scenario = parts[1]
        if scenario not in self.scenarios():
            raise ValueError(f"unknown YAHPO scenario {scenario!r} in {task_id!r}; valid: {self.scenarios()}")
        sur = self._surrogate(scenario)
        if len(parts) == 4:
            sc = sur.scenario
            return YahpoTask(sur, parts[2], objectives=(sc.primary, sc.runtime_name), suffix="mo")
        return YahpoTask(sur, parts[2])


def families() -> list[TaskFamily]:
    """The YAHPO family (unavailable until a data folder is given, see :func:`data_dir`)."""
    return [YahpoFamily()]
