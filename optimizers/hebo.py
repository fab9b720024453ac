"""HEBO (Huawei's heteroscedastic evolutionary Bayesian optimization) through its suggest/observe API.

HEBO 0.3.6 declares ``numpy<1.25`` and ``pymoo==0.6.0`` but runs on numpy 2, pandas 3 and
pymoo 0.6.2: install it without its pins, like DEHB,
``pip install 'nxm-bench[hebo]' && pip install --no-deps hebo==0.3.6`` (the extra brings
what it imports: torch, gpytorch, pymoo, scikit-learn, pandas and disjoint-set; GPy and
catboost are only imported by the non-default ``gpy``/``catboost`` surrogate models).

Each :meth:`HEBO.ask` is one ``HEBO.suggest(n_suggestions=1)``: Sobol points (scrambled with
the run seed) for the first ``rand_sample`` trials, then a GP (gpytorch, input warping,
power-transformed targets) and the MACE acquisition ensemble (UCB, EI, PI) optimized by
NSGA-II. :meth:`HEBO.tell` is ``observe``; maximized objectives are negated, crashed
evaluations told as the worst finite loss seen so far.

Search space. Floats are HEBO ``num`` (``pow``, base 10, when log-scaled), integers ``int``
(``pow_int`` when log-scaled), ordinals an ``int`` on their index, categoricals HEBO's native
``cat`` (one-hot in the GP), constants are added back on decode. Conditions and forbidden
clauses are refused by :meth:`HEBO.check_space`.

Randomness. HEBO draws from numpy's and torch's global RNGs (random initial GA population,
GP initialisation, the final pick among the Pareto set) and calls pymoo's ``minimize``
without a seed; pymoo 0.6.2 then seeds its GA from fresh OS entropy (pymoo 0.6.0, HEBO's
pin, drew that seed from numpy's global RNG). Each run therefore keeps its own numpy,
torch and ``random`` states, swapped in around every call into HEBO (the caller's restored
afterwards), and, for the duration of the call only, HEBO's GA gets a seed drawn from that
numpy state (``_seeded_pymoo``). Importing HEBO sets ``torch.set_num_threads(1)`` for the
whole process (HEBO does it at import time).

Tasks with a fidelity axis are optimized at the highest fidelity.

Example:
    >>> from ConfigSpace import ConfigurationSpace
    >>> hebo_design(ConfigurationSpace({"x": (-2.0, 2.0), "k": ["a", "b"]}))
    [{'name': 'k', 'type': 'cat', 'categories': [0, 1]}, {'name': 'x', 'type': 'num', 'lb': -2.0, 'ub': 2.0}]
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import numpy as np
from ConfigSpace import ConfigurationSpace

from optimizers.base import Optimizer, Problem, Trial
from optimizers.global_rng import GlobalRngSandbox
from optimizers.space_conversion import (
    decode_config,
    library_seed,
    minimization_losses,
    plain,
    searchable,
    unsupported_features,
)
from tasks.base import Result


def hebo_design(space: ConfigurationSpace) -> list[dict[str, Any]]:
    """HEBO ``DesignSpace().parse`` entries for every searched parameter of ``space``."""
    out: list[dict[str, Any]] = []
    for p in searchable(space):
        if p.kind == "categorical":
            out.append({"name": p.name, "type": "cat", "categories": list(range(p.n_choices))})
        elif p.kind == "ordinal":
            out.append({"name": p.name, "type": "int", "lb": 0, "ub": p.n_choices - 1})
        elif p.kind == "int":
            kind = "pow_int" if p.log else "int"
            out.append({"name": p.name, "type": kind, "lb": int(p.lower), "ub": int(p.upper)})
        else:
            out.append({"name": p.name, "type": "pow" if p.log else "num", "lb": p.lower, "ub": p.upper})
    return out


@contextlib.contextmanager
def _seeded_pymoo(seed: int) -> Iterator[None]:
    """Give the GA inside ``HEBO.suggest`` a seed: HEBO calls pymoo's ``minimize`` without one."""
    import functools

    from hebo.acq_optimizers import evolution_optimizer

    unseeded = evolution_optimizer.minimize
    evolution_optimizer.minimize = functools.partial(unseeded, seed=seed)
    try:
        yield
    finally:
        evolution_optimizer.minimize = unseeded


class HEBO(Optimizer):
    """HEBO (Cowen-Rivers et al. 2022, "HEBO: Pushing the limits of sample-efficient
    hyperparameter optimisation"; winner of the NeurIPS 2020 black-box optimisation challenge).

    Args:
        problem: The problem to optimize (single objective).
        seed: Run seed: scrambles the initial Sobol design and seeds every RNG HEBO uses.
        model_name: HEBO surrogate (``"gp"``, HEBO's default; ``"rf"``, ...; ``"gpy"`` needs GPy).
        rand_sample: Sobol trials before the model proposes; ``None``: HEBO's default ``1 + d``.
        es: Evolutionary optimizer of the acquisition (``"nsga2"``, HEBO's default).
    """

    supports: ClassVar[frozenset[str]] = frozenset()
    # HEBO's GP is gpytorch on torch, its acquisition optimizer pymoo's NSGA-II, its input and output
    # warping scikit-learn and scipy: runs record every one of their versions
    requires: ClassVar[tuple[str, ...]] = (
        "hebo", "disjoint_set", "torch", "gpytorch", "linear_operator", "pymoo", "moocore", "sklearn", "scipy"
    )  # fmt: skip
    extra: ClassVar[str | None] = "hebo"
    install_hint: ClassVar[str | None] = "pip install 'nxm-bench[hebo]' && pip install --no-deps hebo==0.3.6"
    library: ClassVar[str | None] = "HEBO"

    def __init__(
        self,
        problem: Problem,
        seed: int,
        model_name: str = "gp",
        rand_sample: int | None = None,
        es: str = "nsga2",
    ) -> None:
        super().__init__(problem, seed, model_name=model_name, rand_sample=rand_sample, es=es)
        if rand_sample is not None and not (isinstance(rand_sample, int) and rand_sample >= 2):
            raise ValueError(f"rand_sample={rand_sample!r} is invalid: use an integer >= 2 (HEBO's minimum)")
        sequence = np.random.SeedSequence([self.seed, 0x4845424F])
        np_seed, torch_seed, py_seed = (int(s) for s in sequence.generate_state(3) % (2**31 - 1))
        import torch  # noqa: F401  (imported before the sandbox is entered, so it swaps torch's state)

        self._rngs = GlobalRngSandbox(np_seed, python_seed=py_seed, torch_seed=torch_seed)
        self._worst: list[float] = []
        with self._rngs.active():
            from hebo.design_space.design_space import DesignSpace
            from hebo.optimizers.hebo import HEBO as Hebo

            self._names = [p.name for p in searchable(problem.space)]
            self._hebo = Hebo(
                DesignSpace().parse(hebo_design(problem.space)),
                model_name=model_name,
                rand_sample=rand_sample,
                es=es,
                scramble_seed=library_seed(self.seed),
            )

    @classmethod
    def check_space(cls, space: ConfigurationSpace) -> str | None:
        reason = unsupported_features(space, "HEBO", conditions=False, forbiddens=False)
        if reason is None and not searchable(space):
            return "HEBO needs at least one non-constant hyperparameter, the space has none"
        return reason

    def ask(self) -> Trial:
        # HEBO's GP prints "jitter = ..." on stdout when its Cholesky needs jitter. The GA's
        # seed is drawn after the sandbox is entered (with-items are entered left to right).
        with (
            self._rngs.active(),
            contextlib.redirect_stdout(io.StringIO()),
            _seeded_pymoo(int(np.random.randint(2**31 - 1))),
        ):
            rec = self._hebo.suggest(n_suggestions=1)
        row = rec.iloc[0]
        config = decode_config(self.problem.space, {name: plain(row[name]) for name in self._names})
        return Trial(config, meta={"hebo_suggestion": rec})

    def tell(self, trial: Trial, result: Result) -> None:
        loss = minimization_losses(self.problem, result, self._worst)[0]
        with self._rngs.active():
            self._hebo.observe(trial.meta["hebo_suggestion"], np.array([[loss]]))

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> str | None:
        """Names and types (see :meth:`Optimizer.check_params`), and the surrogate's name.

        Example:
            >>> HEBO.check_params({"model_name": "gpp"})  # doctest: +ELLIPSIS
            "HEBO model_name='gpp' is invalid: did you mean 'gp'? ..."
        """
        reason = super().check_params(params)
        if reason:
            return reason
        name = params.get("model_name", "gp")
        if name not in MODEL_NAMES:
            import difflib

            close = difflib.get_close_matches(name, MODEL_NAMES, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            return f"HEBO model_name={name!r} is invalid: {hint}(valid: {', '.join(MODEL_NAMES)})"
        return None


#: Surrogates of ``hebo.models.model_factory`` that need nothing beyond the ``hebo`` extra.
MODEL_NAMES = (
    "gp",
    "svgp",
    "svidkl",
    "rf",
    "deep_ensemble",
    "psgld",
    "mcbn",
    "masked_deep_ensemble",
    "fe_deep_ensemble",
    "gumbel",
)
