"""Fixed-target views: COCO's expected running time and runtime ECDFs, on hand-worked examples."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from analysis.leaderboard import fixed_target as ft
from analysis.leaderboard import profiles
from analysis.normalize import prepare
from analysis.synthetic import results_from_values as runs_frame
from analysis.synthetic import synthetic_results


def first_hit(values: Sequence[float], f_target: float) -> int | None:
    """1-based evaluation at which the best value so far first is <= f_target (minimized), or None."""
    best = np.inf
    for evaluation, v in enumerate(values, start=1):
        best = min(best, v)
        if best <= f_target:
            return evaluation
    return None


def ert_by_definition(runs: Sequence[Sequence[float]], f_target: float) -> float:
    """COCO's ERT from its definition: evaluations to success or all evaluations, over the successes."""
    hits = [first_hit(v, f_target) for v in runs]
    spent = sum(h if h is not None else len(v) for h, v in zip(hits, runs, strict=True))
    n_success = sum(h is not None for h in hits)
    return spent / n_success if n_success else np.inf


def run(optimizer: str, task: str, values: list[float], optimum: float, seed: int = 0) -> dict[str, object]:
    """One run of ``results_from_values`` on a task with a known optimum."""
    return {"optimizer": optimizer, "task": task, "seed": seed, "values": values, "optimum": optimum}


#: Three runs on a task with optimum 0: the first reaches Δf = 1 at evaluation 3, the second never
#: (5 evaluations), the third at its first evaluation.
RUNS = [[5.0, 3.0, 0.5, 0.2], [4.0, 2.0, 1.5, 1.2, 1.1], [0.9, 0.1]]


def three_runs(minimize: bool = True, optimum: float | None = 0.0) -> pd.DataFrame:
    sign = 1.0 if minimize else -1.0
    extra = {} if optimum is None else {"optimum": sign * optimum}
    return runs_frame(
        [
            {"optimizer": "a", "seed": s, "values": [sign * v for v in values], "minimize": minimize, **extra}
            for s, values in enumerate(RUNS)
        ]
    )


def test_ert_three_runs_two_successful_by_hand() -> None:
    e = ft.expected_running_time(three_runs(), deltas=[1.0])
    assert ert_by_definition(RUNS, 1.0) == (3 + 5 + 1) / 2
    row = e.iloc[0]
    assert (row["task"], row["optimizer"], row["target_kind"]) == ("fam/t", "a", "delta_f")
    assert row["target"] == 1.0
    assert row["ert"] == 4.5
    assert (row["n_success"], row["n_runs"], row["runtime_sum"], row["f_target"]) == (2, 3, 9, 1.0)
    assert list(e.columns) == list(ft.ERT_COLUMNS)


def test_ert_over_targets_matches_the_definition() -> None:
    deltas = [10.0, 1.0, 0.5, 0.15, 0.1, 1e-3]
    e = ft.expected_running_time(three_runs(), deltas=deltas)
    expected = [ert_by_definition(RUNS, d) for d in deltas]
    assert e["target"].tolist() == deltas
    assert e["ert"].tolist() == pytest.approx(expected)
    # Every run hits 10 at once; nobody reaches 1e-3: ERT is inf with no success.
    assert expected[0] == 1.0 and e["ert"].iloc[-1] == np.inf and e["n_success"].iloc[-1] == 0
    # The default targets are COCO's 51 Δf values, 10^2 .. 10^-8.
    default = ft.expected_running_time(three_runs())
    assert len(default) == 51 and default["target"].max() == 100.0 and default["target"].min() == 1e-8


def test_maximized_objective_is_negated_with_its_optimum() -> None:
    deltas = [10.0, 1.0, 0.15, 1e-3]
    mini = ft.expected_running_time(three_runs(optimum=2.0), deltas=deltas)
    maxi = ft.expected_running_time(three_runs(minimize=False, optimum=2.0), deltas=deltas)
    assert maxi["ert"].tolist() == mini["ert"].tolist()
    # Reached means value >= optimum - Δf for a maximized objective (its optimum is -2).
    assert maxi["f_target"].tolist() == pytest.approx([-2.0 - d for d in deltas])
    assert mini["f_target"].tolist() == pytest.approx([2.0 + d for d in deltas])
    # A maximized task whose values approach its optimum from below: Δf = 10 - value.
    df = runs_frame([{"optimizer": "a", "values": [2.0, 9.5, 9.95], "optimum": 10.0, "minimize": False}])
    e = ft.expected_running_time(df, deltas=[1.0, 0.1, 0.01])
    assert e["ert"].tolist() == [2.0, 3.0, np.inf]


def test_regret_targets_without_an_optimum_by_hand() -> None:
    # One optimizer, two seeds; study best 2, worst 10: f_t = 2 + r * 8. The second run crashed
    # after two evaluations: it counts as unsuccessful with the 2 evaluations it used.
    runs = [[10.0, 6.0, 2.0], [8.0, 4.0]]

    def frame(sign: float) -> pd.DataFrame:
        return runs_frame(
            [
                {"optimizer": "a", "seed": 0, "values": [sign * v for v in runs[0]], "minimize": sign > 0},
                {
                    "optimizer": "a",
                    "seed": 1,
                    "values": [sign * v for v in runs[1]],
                    "minimize": sign > 0,
                    "status": "crashed",
                },
            ]
        )

    targets = [0.5, 0.25, 0.1]
    e = ft.expected_running_time(frame(1.0), regret_targets=targets)
    assert set(e["target_kind"]) == {"regret"}
    assert e["f_target"].tolist() == pytest.approx([2 + r * 8 for r in targets])
    assert e["ert"].tolist() == pytest.approx([ert_by_definition(runs, 2 + r * 8) for r in targets])
    assert e["ert"].tolist() == pytest.approx([2.0, 2.5, 5.0])
    flipped = ft.expected_running_time(frame(-1.0), regret_targets=targets)
    assert flipped["ert"].tolist() == e["ert"].tolist()
    assert flipped["f_target"].tolist() == pytest.approx([-(2 + r * 8) for r in targets])


def test_low_fidelity_evaluations_reach_no_target_but_count_budget() -> None:
    mf = {"task_type": "mf", "fidelity": [1, 9, 9]}
    df = runs_frame([{**run("a", "fam/t", [0.0, 5.0, 0.5], 0.0), **mf}])
    e = ft.expected_running_time(df, deltas=[1.0, 0.1])
    assert e["ert"].tolist() == [3.0, np.inf]


def test_prepared_bundle_multi_objective_types_and_bad_targets() -> None:
    df = synthetic_results(n_tasks=4, n_optimizers=2, n_seeds=2, n_trials=10, task_types=("bb", "mo"))
    e = ft.expected_running_time(df)
    assert set(e["task_type"]) == {"bb"}  # the first objective of an mo task is not its goal
    both = ft.expected_running_time(df, task_types=("bb", "mo"))
    assert set(both["task_type"]) == {"bb", "mo"}
    from_bundle = ft.expected_running_time(prepare(df))
    pd.testing.assert_series_equal(from_bundle["ert"], e["ert"])
    assert from_bundle["f_target"].isna().all()  # a bundle does not keep directions
    with pytest.raises(ValueError, match="deltas must be a non-empty"):
        ft.expected_running_time(df, deltas=[])
    with pytest.raises(ValueError, match="regret_targets must be"):
        ft.expected_running_time(df, regret_targets=[-0.1])
    with pytest.raises(ValueError, match="unknown budget axis"):
        ft.expected_running_time(df, x="epochs")


def test_pool_instances_sums_runtimes_and_successes() -> None:
    df = runs_frame(
        [
            {"optimizer": "a", "task": "bbob/f01/d02/i01", "values": [5.0, 0.5], "optimum": 0.0},
            {"optimizer": "a", "task": "bbob/f01/d02/i02", "values": [100.0, 3.0, 2.5], "optimum": 1.0},
            {"optimizer": "a", "task": "other/t", "values": [1.0]},
        ]
    )
    pooled = ft.pool_instances(ft.expected_running_time(df, deltas=[1.0], regret_targets=[0.5]))
    row = pooled[pooled["task"] == "bbob/f01/d02"].iloc[0]
    assert (row["ert"], row["n_success"], row["n_runs"]) == ((2 + 3) / 1, 1, 2)
    assert pooled[pooled["task"] == "other/t"]["target_kind"].tolist() == ["regret"]


def all_hit_frame() -> pd.DataFrame:
    """Every run reaches its optimum (Δf = 0), at different evaluations; two task types."""
    return runs_frame(
        [
            run("a", "bbob/f01/d02/i01", [9.0, 3.0, 1.0], 1.0),
            run("a", "bbob/f01/d02/i01", [1.5, 1.0], 1.0, seed=1),
            run("b", "bbob/f01/d02/i01", [50.0, 8.0, 2.0, 1.0], 1.0),
            run("a", "bbob/f02/d05/i01", [1e4, 10.0, -3.0], -3.0),
            run("b", "bbob/f02/d05/i01", [1e5, 1e3, 1.0, -3.0], -3.0),
            {"optimizer": "a", "task": "x/mf", "task_type": "mf", "values": [3.0, 1.0], "fidelity": [9, 9]},
        ]
    )


@pytest.mark.parametrize("n_samples", [0, 50])
def test_ecdf_reaches_one_when_all_targets_are_hit_and_is_monotone(n_samples: int) -> None:
    e = ft.runtime_ecdf(all_hit_frame(), n_samples=n_samples, seed=3)
    for (_, _), g in e.groupby(["task_type", "optimizer"]):
        frac = g["fraction"].to_numpy()
        assert np.all(np.diff(frac) >= 0) and frac[0] >= 0
        assert frac[-1] == 1.0
    bb = e[(e["task_type"] == "bb") & (e["optimizer"] == "b")]["fraction"]
    assert bb.iloc[0] < 1.0  # b needs more than one evaluation for the harder targets
    # b has no run on the mf task type: left out, not drawn at 0.
    assert set(e.loc[e["task_type"] == "mf", "optimizer"]) == {"a"}
    assert set(e.loc[e["task_type"] == "bb", "optimizer"]) == {"a", "b"}


def test_ecdf_hand_example_and_missing_tasks() -> None:
    df = runs_frame(
        [
            run("a", "bbob/f01/d02/i01", [5.0, 0.5, 0.05], 0.0),
            run("a", "bbob/f01/d02/i01", [5.0, 5.0, 0.5], 0.0, seed=1),
        ]
    )
    # (run, target) weights 1/4; hits: run 0 at 2 (Δf 1) and 3 (Δf 0.1), run 1 at 3 (Δf 1) only.
    e = ft.runtime_ecdf(df, deltas=[1.0, 0.1], budgets=[0.5, 1.0, 1.5])  # evaluations / 2
    assert e["fraction"].tolist() == [0.0, 0.25, 0.75]
    raw = ft.runtime_ecdf(df, deltas=[1.0, 0.1], budgets=[2.0, 3.0], per_dimension=False)
    assert raw["fraction"].tolist() == [0.25, 0.75]
    # An optimizer with runs on one of two tasks of a type: the other task counts as not reached.
    two = pd.concat([df, runs_frame([run("b", "bbob/f02/d02/i01", [1.0, 0.0], 0.0)])])
    e2 = ft.runtime_ecdf(two, deltas=[1.0, 0.1], budgets=[10.0])
    assert e2.set_index("optimizer")["fraction"].to_dict() == {"a": 0.75 / 2, "b": 0.5}
    with pytest.raises(ValueError, match="budgets must be"):
        ft.runtime_ecdf(df, budgets=[2.0, 1.0])
    with pytest.raises(ValueError, match="n_samples must be >= 0"):
        ft.runtime_ecdf(df, n_samples=-1)


def test_simulated_restarts_add_the_budgets_of_unsuccessful_runs() -> None:
    # Of two runs (3 evaluations each), one reaches Δf 1 at evaluation 2. A simulated runtime is
    # 2 + 3k with probability 2^-(k+1): the ECDF at 2, 5, 8 evaluations is 1/2, 3/4, 7/8.
    df = runs_frame(
        [
            run("a", "bbob/f01/d02/i01", [5.0, 0.5, 0.4], 0.0),
            run("a", "bbob/f01/d02/i01", [5.0, 4.0, 3.0], 0.0, seed=1),
        ]
    )
    budgets = [1.0, 2.0, 5.0, 8.0]

    def simulated(seed: int) -> list[float]:
        e = ft.runtime_ecdf(df, deltas=[1.0], budgets=budgets, per_dimension=False, n_samples=4000, seed=seed)
        return list(e["fraction"])

    assert simulated(1) == pytest.approx([0.0, 0.5, 0.75, 0.875], abs=0.03)
    assert simulated(1) == simulated(1) != simulated(2)  # seeded
    plain = ft.runtime_ecdf(df, deltas=[1.0], budgets=budgets, per_dimension=False)
    assert plain["fraction"].tolist() == [0.0, 0.5, 0.5, 0.5]  # no run goes past 3 evaluations


def test_ecdf_on_synthetic_study_and_plot() -> None:
    df = synthetic_results(n_tasks=6, n_optimizers=3, n_seeds=2, n_trials=30, task_types=("bb", "mf"))
    e = ft.runtime_ecdf(df, n_points=20)
    assert set(e["task_type"]) == {"bb", "mf"}
    assert e.groupby(["task_type", "optimizer"]).size().eq(20).all()
    assert e["fraction"].between(0, 1).all()
    fig = ft.plot_runtime_ecdf(e)
    assert isinstance(fig, Figure) and [ax.get_title() for ax in fig.axes] == ["bb", "mf"]
    assert all(len(ax.get_lines()) == 3 for ax in fig.axes)
    fig.savefig(io.BytesIO(), format="png")  # no GUI backend needed
    one = ft.plot_runtime_ecdf(ft.runtime_ecdf(all_hit_frame()))
    assert [len(ax.get_lines()) for ax in one.axes] == [2, 1]  # b has no mf run: no line there


def test_plain_ecdf_agrees_with_profiles_bbob_ecdf() -> None:
    # With as many runs on every task, weighing tasks equally is weighing (run, target) pairs equally.
    df = synthetic_results(n_tasks=8, n_optimizers=2, n_seeds=3, n_trials=25)
    df = df[df["task"].str.startswith("bbob/")]
    budgets = np.geomspace(0.1, 15.0, 12)
    ours = ft.runtime_ecdf(df, budgets=budgets).pivot(index="budget", columns="optimizer", values="fraction")
    theirs = profiles.bbob_ecdf(df, budgets=budgets)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), atol=1e-12)
