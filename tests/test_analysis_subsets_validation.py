"""Subset validation on hand examples, and the ``python -m analysis subset`` command end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy.stats import kendalltau

from analysis.__main__ import main
from analysis.report.subset_chapter import load_taskset
from analysis.subsets.validation import embedding_signal, kendall_tau_b, seed_reliability, validate
from analysis.synthetic import synthetic_results
from bench.registry import taskset_patterns
from bench.results import TRIAL_SCHEMA, write_run


def _scores(seed: int = 0, n: int = 12, k: int = 5) -> pd.DataFrame:
    x = np.random.default_rng(seed).random((n, k))
    return pd.DataFrame(x, index=[f"t{i:02d}" for i in range(n)], columns=[f"o{j}" for j in range(k)])


def test_identical_subset_gives_tau_one() -> None:
    s = _scores()
    v = validate(s, list(s.index), list(s.columns), n_random=50)
    assert v.tau == 1.0 and v.top1_agree and v.max_rank_change == 0.0
    # every random subset of all tasks is the full set: all tie with the observed tau -> 50
    assert v.percentile == 50.0


def test_percentile_semantics() -> None:
    # o0 is best on all tasks but t0, where the order is reversed
    s = pd.DataFrame(
        {"o0": [3.0, 0.0, 0.0, 0.0], "o1": [2.0, 1.0, 1.0, 1.0], "o2": [1.0, 2.0, 2.0, 2.0]},
        index=["t0", "t1", "t2", "t3"],
    )
    good, bad = validate(s, ["t1"], ["o0", "o1", "o2"], 400), validate(s, ["t0"], ["o0", "o1", "o2"], 400)
    assert good.tau == 1.0 and bad.tau == -1.0
    # random 1-task subsets: t0 with prob 1/4 (tau -1), else tau 1
    assert good.percentile == pytest.approx(100 * (0.25 + 0.75 / 2), abs=6)
    assert bad.percentile == pytest.approx(100 * 0.25 / 2, abs=4)
    assert not bad.top1_agree and bad.top1_subset == ("o2",)
    assert bad.max_rank_change == 2.0 and bad.max_rank_change_optimizer == "o0"


def test_ties() -> None:
    s = pd.DataFrame(
        {"a": [0.0, 0.0, 1.0], "b": [0.0, 1.0, 0.0], "c": [1.0, 1.0, 1.0]}, index=["x", "y", "z"]
    )
    v = validate(s, ["x"], ["a", "b", "c"], n_random=20)
    # on x, a and b tie for best; on all tasks too (mean ranks 1.5, 1.5, 3.0)
    assert v.top1_full == ("a", "b") and v.top1_subset == ("a", "b") and v.top1_agree
    assert v.tau == pytest.approx(1.0)
    rng = np.random.default_rng(3)
    for _ in range(20):
        x, y = rng.integers(0, 3, 6).astype(float), rng.integers(0, 3, (1, 6)).astype(float)
        ref = kendalltau(x, y[0]).statistic
        assert np.allclose(kendall_tau_b(x, y), ref, equal_nan=True)


def test_fewer_than_two_held_out_and_bad_input() -> None:
    s = _scores()
    v = validate(s, ["t00", "t01"], ["o1"], n_random=10)
    assert np.isnan(v.tau) and np.isnan(v.percentile) and "at least 2" in v.note
    with pytest.raises(ValueError, match=r"'nope'.*valid choices"):
        validate(s, ["t00"], ["nope"])
    with pytest.raises(ValueError, match="unknown subset task"):
        validate(s, ["zz"], ["o1", "o2"])


def test_rank_error_and_separated_pairs() -> None:
    # 'a' beats 'b' beats 'c' on 30 of 40 tasks; on t00..t09 the order is reversed.
    rng = np.random.default_rng(0)
    base = np.tile([0.0, 1.0, 2.0], (40, 1)) + 0.01 * rng.random((40, 3))
    base[:10] = base[:10, ::-1]
    s = pd.DataFrame(base, index=[f"t{i:02d}" for i in range(40)], columns=["a", "b", "c"])
    good = validate(s, [f"t{i:02d}" for i in (0, 10, 11, 12)], ["a", "b", "c"], n_random=500)
    bad = validate(s, [f"t{i:02d}" for i in (0, 1, 2, 10)], ["a", "b", "c"], n_random=500)
    # full mean ranks: a = 0.75 * 1 + 0.25 * 3 = 1.5, b = 2, c = 2.5
    assert good.full_mean_ranks.to_dict() == pytest.approx({"a": 1.5, "b": 2.0, "c": 2.5})
    # subset of 1 reversed + 3 normal tasks has exactly the full proportions: no error at all.
    # A random 4-task subset does too with probability C(10,1) C(30,3) / C(40,4) = 0.444 (ties count
    # half), so the percentile is about 100 * (1 - 0.444) + 50 * 0.444 = 77.8.
    assert good.rank_error == pytest.approx(0.0) and good.rank_error_percentile == pytest.approx(77.8, abs=4)
    # 3 reversed + 1 normal: a 2.5, b 2, c 1.5 -> error (1 + 0 + 1) / 3
    assert bad.rank_error == pytest.approx(2 / 3) and bad.rank_error_percentile < 10
    # Nemenyi on 40 tasks separates a from c (mean-rank gap 1.0 > CD 0.52) but not the neighbours
    assert good.separated_pairs == (("a", "c"),) and good.pairs_kept == 1 and bad.pairs_kept == 0
    assert 0 < good.random_pairs_kept_share < 100
    assert "kept in order: 1" in good.summary() and "mean-rank error: 0.000" in good.summary()


def test_the_subsets_own_conclusions_and_contradictions() -> None:
    # Same structure as above on 60 tasks; the 12 subset tasks are all reversed ones plus normal ones.
    rng = np.random.default_rng(1)
    base = np.tile([0.0, 1.0, 2.0], (60, 1)) + 0.01 * rng.random((60, 3))
    base[:15] = base[:15, ::-1]
    s = pd.DataFrame(base, index=[f"t{i:02d}" for i in range(60)], columns=["a", "b", "c"])
    held = ["a", "b", "c"]
    # 12 normal tasks: a 1, b 2, c 3 on the subset; CD for 3 optimizers on 12 tasks is 0.957
    agree = validate(s, [f"t{i:02d}" for i in range(15, 27)], held, n_random=300)
    assert agree.subset_cd == pytest.approx(0.957, abs=1e-3)
    assert set(agree.subset_separated) == {("a", "b"), ("a", "c"), ("b", "c")}
    assert agree.contradictions == ()
    # 12 reversed tasks: the subset separates c < b < a, all three against the full order a < b < c
    wrong = validate(s, [f"t{i:02d}" for i in range(12)], held, n_random=300)
    assert set(wrong.subset_separated) == {("c", "b"), ("c", "a"), ("b", "a")}
    assert set(wrong.contradictions) == set(wrong.subset_separated)
    # Random 12-task subsets rarely draw 9+ of the 15 reversed tasks, which a contradiction needs.
    assert wrong.random_contradiction_share == agree.random_contradiction_share < 5
    assert 0 < agree.random_separated_mean <= 3
    assert "contradicting the full ranking: 3" in wrong.summary()
    # Agrees with the Nemenyi test of analysis.leaderboard.stats on the subset's tasks.
    from analysis.leaderboard.stats import nemenyi

    sig = nemenyi(s.loc[[f"t{i:02d}" for i in range(12)]]).significant()
    unordered = {frozenset(p) for p in wrong.subset_separated}
    assert unordered == {frozenset((a, b)) for a in held for b in held if a < b and sig.loc[a, b]}


def test_embedding_signal() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((300, 2))
    # held-out ranks follow the first coordinate: the embedding explains them
    s = pd.DataFrame({"a": x[:, 0], "b": 0.5 * np.ones(300), "c": rng.random(300)})
    explained = embedding_signal(x, s, ["a", "b"])
    unrelated = embedding_signal(rng.random((300, 2)), s, ["a", "b"])
    assert explained > 0.8 and abs(unrelated) < 0.15
    with pytest.raises(ValueError, match=r"points must be \(n, d\) with n = 300"):
        embedding_signal(x[:10], s, ["a", "b"])
    with pytest.raises(ValueError, match="at least 2 held-out"):
        embedding_signal(x, s, ["a"])
    with pytest.raises(ValueError, match=r"neighbours=300 must be in \[1, 299\]"):
        embedding_signal(x, s, ["a", "b"], neighbours=300)


def test_seed_reliability() -> None:
    rng = np.random.default_rng(2)
    tasks, seeds = range(60), range(6)

    def runs(task_effect: float) -> pd.DataFrame:
        # 'b' is better than 'a' on even tasks by task_effect, worse on odd ones; unit seed noise
        rows = [
            (f"t{t}", o, s, (task_effect * (1 if t % 2 else -1) if o == "b" else 0.0) + rng.normal())
            for t in tasks
            for o in ("a", "b", "c")
            for s in seeds
        ]
        return pd.DataFrame(rows, columns=["task", "optimizer", "seed", "score"])

    strong, none = seed_reliability(runs(5.0), ["a", "b"]), seed_reliability(runs(0.0), ["a", "b"])
    assert strong[0] > 0.9 and strong[1] >= strong[0]
    assert abs(none[0]) < 0.3  # only noise: the halves do not agree beyond chance
    # Spearman-Brown for the whole: 2 r / (1 + r)
    assert strong[1] == pytest.approx(2 * strong[0] / (1 + strong[0]))
    with pytest.raises(ValueError, match=r"needs >= 2 seeds"):
        seed_reliability(runs(1.0).query("seed == 0"), ["a", "b"])
    with pytest.raises(ValueError, match=r"runs need columns \['optimizer', 'score', 'seed', 'task'\]"):
        seed_reliability(runs(1.0).drop(columns="score"), ["a", "b"])


def test_seeded_percentile() -> None:
    s = _scores(1, n=20, k=6)
    a, b = (validate(s, list(s.index[:5]), list(s.columns), seed=7) for _ in range(2))
    assert a.percentile == b.percentile and 0 <= a.percentile <= 100


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    df = synthetic_results(
        n_tasks=16,
        n_optimizers=6,
        n_seeds=2,
        n_trials=8,
        optimizer_names=["random_search", "a", "b", "c", "d", "e"],
        seed=1,
    )
    root = tmp_path_factory.mktemp("study")
    for run_id, g in df.groupby("run_id", sort=False):
        table = pa.Table.from_pandas(g.reset_index(drop=True), schema=TRIAL_SCHEMA, preserve_index=False)
        write_run(root / "runs" / f"{run_id}.parquet", table, {"status": "ok"})
    return root


def test_cli_writes_usable_tasksets(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "taskset"
    rc = main(
        [
            "subset",
            str(study),
            "--k",
            "4",
            "--test",
            "--time-budget",
            "0.3",
            "--name",
            "demo",
            "--out",
            str(out),
            "--n-random",
            "200",
        ]
    )
    printed = capsys.readouterr().out
    assert rc == 0
    assert "embedding optimizers: random_search" in printed and "Kendall tau" in printed
    assert "mean-rank error:" in printed and "embedding signal:" in printed and "Nemenyi" in printed
    monkeypatch.setenv("NXMBENCH_CONFIG_PATH", str(tmp_path))
    dev, test = taskset_patterns("demo_dev"), taskset_patterns("demo_test")
    assert len(dev) == len(test) == 4 and not set(dev) & set(test)
    tasks = set(pd.read_parquet(study / "runs")["task"].astype(str))
    assert set(dev) <= tasks
    text = (out / "demo_dev.yaml").read_text()
    assert "discrepancy:" in text and "Kendall tau" in text and "command: python -m analysis subset" in text
    assert "mean-rank error:" in text and "kept in order:" in text


def test_cli_protocol_judges_the_selector_by_default_and_records_it(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The selector's held-out percentiles over leave-optimizers-out folds, printed and in the taskset
    header, without asking; the same for a seed (the protocol is deterministic); ``--no-protocol``
    skips it."""
    args = ["subset", str(study), "--k", "4", "--max-evaluations", "200", "--n-random", "100"]
    assert main([*args, "--out", str(tmp_path / "a"), "--name", "demo"]) == 0
    printed = capsys.readouterr().out
    assert "leave-optimizers-out protocol" in printed and "cells (1 x" in printed
    lines = printed.splitlines()
    header = next(ln for ln in lines if ln.startswith("selector under the leave-optimizers-out"))
    assert "(50 = chance) tau" in header and "mean-rank error" in header and "score r" in header
    assert header in (tmp_path / "a" / "demo_dev.yaml").read_text()
    assert main([*args, "--protocol", "--out", str(tmp_path / "b"), "--name", "demo"]) == 0  # old flag: same
    assert header in capsys.readouterr().out
    assert main([*args, "--no-protocol", "--out", str(tmp_path / "n"), "--name", "demo"]) == 0
    quiet = capsys.readouterr().out
    assert "leave-optimizers-out" not in quiet and "Kendall tau" in quiet
    assert main([*args, "--method", "greedy", "--out", str(tmp_path / "c"), "--name", "demo"]) == 0
    assert "selector 'greedy/empirical', k=4" in capsys.readouterr().out  # deterministic, judged all the same


@pytest.mark.parametrize("selector", ["d_optimal", "kmedoids", "random", "stratified"])
def test_cli_selector_writes_disjoint_subsets_judged_by_the_protocol(
    selector: str,
    study: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--selector``: a selector of analysis.subsets.selectors chooses dev and test on the embedding
    optimizers' scores; the protocol judges that selector; the header names it."""
    from analysis.subsets.selectors import SELECTORS, SelectionInput

    out = tmp_path / "taskset"
    args = ["subset", str(study), "--k", "4", "--test", "--selector", selector, "--n-random", "100"]
    assert main([*args, "--name", "demo", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"selector {selector}" in printed
    assert f"selector '{selector}', k=4" in printed  # the protocol's summary of this selector
    monkeypatch.setenv("NXMBENCH_CONFIG_PATH", str(tmp_path))
    dev, test = taskset_patterns("demo_dev"), taskset_patterns("demo_test")
    assert len(dev) == len(test) == 4 and not set(dev) & set(test)
    text = (out / "demo_dev.yaml").read_text()
    assert f"by selector {selector}" in text and f"selector: {selector};" in text
    # the dev subset is what the selector picks from the embedding optimizers' scores with the seed
    from analysis.__main__ import combined_scores, score_matrix

    scores, _ = score_matrix(combined_scores([str(study)]))
    embed = next(ln for ln in printed.splitlines() if ln.startswith("embedding optimizers:"))
    cols = embed.removeprefix("embedding optimizers: ").split(";")[0].split(", ")
    fam = pd.Series([t.split("/", 1)[0] for t in scores.index], index=scores.index)
    want = SELECTORS[selector](SelectionInput(scores[cols], 4, np.random.default_rng(0), families=fam))
    assert sorted(dev) == sorted(want)
    # the same command gives the same subsets
    assert main([*args, "--name", "demo", "--out", str(tmp_path / "again"), "--no-protocol"]) == 0
    assert (
        load_taskset(str(tmp_path / "again" / "demo_test.yaml")).tasks
        == load_taskset(str(out / "demo_test.yaml")).tasks
    )


def test_cli_unknown_selector_is_one_line(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["subset", str(study), "--selector", "best", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    valid = "valid choices: ['discrepancy', 'discrepancy_uniform', 'discrepancy_empirical', 'random'"
    assert f"unknown --selector 'best'; {valid}" in err
    assert err.count("\n") == 1 and not list(tmp_path.glob("*.yaml"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reference", "cube"], "'cube'; valid choices: ['uniform', 'empirical']"),
        (["--k", "40"], "--k 40 needs 40 tasks"),
        (["--embed-optimizers", "zz"], "['zz']"),
        (["--task-type", "mo"], "'mo'; valid choices: ['bb']"),
    ],
)
def test_cli_bad_input(
    study: Path, tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["subset", str(study), "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not list(tmp_path.glob("*.yaml"))


def _split_study(study: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The study's run files divided by task into two folders, as if run on two machines."""
    halves = (tmp_path / "part_a", tmp_path / "part_b")
    files = sorted((study / "runs").glob("*.parquet"))
    task_of = {f: str(pd.read_parquet(f, columns=["task"])["task"].iloc[0]) for f in files}
    order = sorted(set(task_of.values()))
    for f in files:
        dest = halves[order.index(task_of[f]) % 2] / "runs"
        dest.mkdir(parents=True, exist_ok=True)
        (dest / f.name).write_bytes(f.read_bytes())
    return halves


def test_scores_of_pieces_combine_to_the_whole(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = _split_study(study, tmp_path)
    whole, piece = tmp_path / "whole.parquet", tmp_path / "a.csv"
    assert main(["scores", str(study), "--out", str(whole)]) == 0
    assert main(["scores", str(a), "--out", str(piece)]) == 0
    full = pd.read_parquet(whole).sort_values(["task", "optimizer"]).reset_index(drop=True)
    assert set(full.columns) == {"task", "task_type", "optimizer", "score", "n_runs"}
    assert (full["n_runs"] == 2).all() and full["task"].nunique() == 16
    combined = tmp_path / "combined.parquet"
    # a score file from one machine plus a study folder from another gives the same table
    assert main(["scores", str(piece), str(b), "--out", str(combined)]) == 0
    again = pd.read_parquet(combined).sort_values(["task", "optimizer"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(full, again, check_dtype=False)
    # ... and the same subset (greedy is deterministic)
    outs = []
    for sources in ([str(study)], [str(piece), str(b)]):
        capsys.readouterr()
        assert (
            main(
                [
                    "subset",
                    *sources,
                    "--k",
                    "4",
                    "--method",
                    "greedy",
                    "--name",
                    "demo",
                    "--out",
                    str(tmp_path / "ts"),
                    "--n-random",
                    "50",
                ]
            )
            == 0
        )
        outs.append([ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("tasks: ")])
    assert outs[0] == outs[1] and outs[0]


def test_overlapping_sources_are_refused(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scores", str(study), str(study), "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "appear in more than one source" in err and err.count("\n") == 1
    assert main(["scores", str(study), "--out", str(tmp_path / "x.txt")]) == 2
    assert "must end in .parquet or .csv" in capsys.readouterr().err


def test_multi_objective_scores_are_hypervolume_regret(tmp_path: Path) -> None:
    from analysis.leaderboard.hypervolume import hv_runs

    df = synthetic_results(n_tasks=3, n_optimizers=2, n_seeds=2, n_trials=8, task_types=("mo",), seed=3)
    root = tmp_path / "mo_study"
    for run_id, g in df.groupby("run_id", sort=False):
        table = pa.Table.from_pandas(g.reset_index(drop=True), schema=TRIAL_SCHEMA, preserve_index=False)
        write_run(root / "runs" / f"{run_id}.parquet", table, {"status": "ok"})
    assert main(["scores", str(root), "--out", str(tmp_path / "s.csv")]) == 0
    got = pd.read_csv(tmp_path / "s.csv").set_index(["task", "optimizer"])["score"].sort_index()
    want = hv_runs(df).groupby(["task", "optimizer"], observed=True)["final_hv_regret"].mean().sort_index()
    assert got.index.tolist() == [(str(t), str(o)) for t, o in want.index]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy())


def test_report_validates_the_tasksets_subset_writes(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from analysis.__main__ import score_matrix, study_run_scores
    from analysis.report.build import build_report
    from analysis.report.subset_chapter import load_taskset

    out = tmp_path / "taskset"
    assert (
        main(
            [
                "subset",
                str(study),
                "--k",
                "4",
                "--test",
                "--time-budget",
                "0.3",
                "--name",
                "demo",
                "--out",
                str(out),
                "--n-random",
                "50",
            ]
        )
        == 0
    )
    dev = load_taskset(str(out / "demo_dev.yaml"))
    assert len(dev.tasks) == 4 and len(dev.embedding) == 3 and "random_search" in dev.embedding
    # The report's table is validate() on the same scores, the embedding optimizers held out.
    runs = study_run_scores(str(study))
    scores, _ = score_matrix(runs.groupby(["task", "optimizer"], as_index=False)["score"].mean())
    held = [o for o in scores.columns if o not in dev.embedding]
    expected = validate(scores, list(dev.tasks), held, n_random=0)
    rep = build_report(pd.read_parquet(study / "runs"), tasksets=[dev], n_boot=20, figures=False)
    table = rep.tables["subset_demo_dev"]
    assert sorted(table.index) == sorted(held)
    full, sub = expected.full_mean_ranks[table.index], expected.subset_mean_ranks[table.index]
    np.testing.assert_allclose(table["mean rank, all tasks"], full, atol=1e-3)
    np.testing.assert_allclose(table["mean rank, subset"], sub, atol=1e-3)
    # End to end: by path and by name (a config folder on $NXMBENCH_CONFIG_PATH).
    monkeypatch.setenv("NXMBENCH_CONFIG_PATH", str(tmp_path))
    report_dir = tmp_path / "report"
    assert (
        main(
            [
                "report",
                str(study),
                "--out",
                str(report_dir),
                "--no-figures",
                "--n-boot",
                "20",
                "--taskset",
                str(out / "demo_dev.yaml"),
                "--taskset",
                "demo_test",
            ]
        )
        == 0
    )
    md = (report_dir / "report.md").read_text()
    assert "## Representative subsets" in md
    assert "### Taskset demo_dev" in md and "### Taskset demo_test" in md
    assert md.count("Kendall τ") == 2 and "held-out optimizers" in md
    # The protocol by default: the taskset's selector (written by subset) judged on these results.
    assert dev.selector == "discrepancy_empirical"  # the default reference since the comparison
    assert md.count("its selector, discrepancy_empirical, under the leave-optimizers-out protocol") == 2


def test_report_protocol_paragraph_equals_evaluate_selector(study: Path) -> None:
    """The chapter's protocol figures are evaluate_selector's on the study's complete score table."""
    from analysis.__main__ import score_matrix, study_run_scores
    from analysis.report.subset_chapter import Taskset, subset_section
    from analysis.subsets.protocol import evaluate_selector
    from analysis.subsets.selectors import SELECTORS

    runs = study_run_scores(str(study))
    scores, _ = score_matrix(runs.groupby(["task", "optimizer"], as_index=False)["score"].mean())
    tasks = [str(t) for t in scores.index[:5]]
    ts = Taskset("demo", tuple(tasks), ("random_search",), "d_optimal")
    text = " ".join(subset_section(ts, runs, n_random=100, seed=3).text)
    fam = pd.Series([t.split("/", 1)[0] for t in scores.index], index=scores.index)
    res = evaluate_selector(
        scores, SELECTORS["d_optimal"], 5, repeats=1, seeds=2, n_random=100, families=fam, seed=3, n_boot=100
    )
    tau = res.measures["tau"]
    assert f"τ {tau.percentile:.0f} [{tau.lo:.0f}, {tau.hi:.0f}]" in text
    err = res.measures["rank_error"]
    assert f"mean-rank error {err.percentile:.0f} [{err.lo:.0f}, {err.hi:.0f}]" in text
    # no selector named: said so, not guessed; protocol off: not mentioned
    unnamed = Taskset("demo", tuple(tasks), ("random_search",))
    plain = " ".join(subset_section(unnamed, runs, n_random=50).text)
    assert "does not name the selector that chose it" in plain
    off = " ".join(subset_section(ts, runs, n_random=50, protocol=False).text)
    assert "leave-optimizers-out" not in off


def test_taskset_with_an_unknown_selector_is_refused_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text('selector: best_one\ntasks: ["bbob/f01/d02/i01"]\n')
    with pytest.raises(ValueError, match=r"unknown selector 'best_one'; valid choices: \['random', "):
        load_taskset(str(bad))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--taskset", "subset_bb_dvv"], "unknown taskset 'subset_bb_dvv': did you mean 'subset_bb_dev'"),
        (["--taskset", "missing/demo.yaml"], "taskset file 'missing/demo.yaml' does not exist"),
        (["--taskset", "subset_bb_dev", "--held-out", "a,zz"], "['zz'] not in the results; valid choices"),
    ],
)
def test_report_taskset_bad_input(
    study: Path, tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(study), "--out", str(tmp_path / "r"), "--no-figures", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_taskset_entries_match_result_tasks() -> None:
    from analysis.report.subset_chapter import match_tasks

    ids = ["bbob/f01/d02/i01", "bbob/f02/d02/i01", "yahpo/lcbench/3945", "yahpo/lcbench/3945/mo"]
    assert match_tasks(["bbob/*", "!*/f02/*", "nb201/x"], ids) == ["bbob/f01/d02/i01"]
    assert match_tasks(["yahpo/*", "!*/mo"], ids) == ["yahpo/lcbench/3945"]


def test_tasks_where_the_embedding_ties_are_selected_in_proportion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 12 tasks that tell the embedding optimizers apart and 30 on which all three reach regret 0 but
    # the held-out optimizers still differ: "c" wins all 30, "d" wins the 12. On all 42 tasks c ranks
    # first; a subset that leaves the tied tasks out ranks d first (the bias --drop-ties accepts).
    rng = np.random.default_rng(3)
    opts = ["random_search", "a", "b"]
    rows = [(f"t{i:02d}", o, float(rng.random())) for i in range(12) for o in opts]
    rows += [(f"t{i:02d}", o, v) for i in range(12) for o, v in (("c", 0.6), ("d", 0.5))]
    rows += [(f"z{i:02d}", o, 0.0) for i in range(30) for o in opts]
    rows += [(f"z{i:02d}", o, v) for i in range(30) for o, v in (("c", 0.0), ("d", 0.1))]
    long = pd.DataFrame(rows, columns=["task", "optimizer", "score"]).assign(task_type="bb", n_runs=2)
    table = tmp_path / "scores.parquet"
    long[["task", "task_type", "optimizer", "score", "n_runs"]].to_parquet(table, index=False)
    out = tmp_path / "taskset"
    args = [
        "subset",
        str(table),
        "--k",
        "7",
        "--test",
        "--embed-optimizers",
        "random_search,a,b",
        "--reference",
        "empirical",
        "--max-evaluations",
        "300",
        "--name",
        "t",
        "--out",
        str(out),
    ]

    def chosen(part: str) -> list[str]:
        return list(load_taskset(str(out / f"t_{part}.yaml")).tasks)

    assert main(args) == 0
    # 30 of 42 tasks tie: the empirical reference asks for 5 of 7 (7 * 30 / 42 = 5.0)
    assert [t[0] for t in chosen("dev")].count("z") == 5
    assert "top-1 agrees" in (out / "t_dev.yaml").read_text()
    capsys.readouterr()
    assert main([*args[:2], "--k", "5", *args[4:], "--drop-ties"]) == 0
    assert "30 tasks where the embedding optimizers tie are not selected" in capsys.readouterr().out
    assert all(t.startswith("t") for part in ("dev", "test") for t in chosen(part))
    assert "30 where the embedding optimizers tie not selectable" in (out / "t_dev.yaml").read_text()
    assert "top-1 differs" in (out / "t_dev.yaml").read_text()
    assert main([*args[:2], "--k", "7", *args[4:], "--drop-ties"]) == 2
    assert "has 12 complete tasks that do not tie (30 do); valid choices: --k 1..6" in capsys.readouterr().err


def test_cli_accepts_the_selector_names_tasksets_record(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A taskset header says ``selector: discrepancy_empirical``; that name selects what it recorded."""
    base = ["subset", str(study), "--k", "4", "--name", "demo", "--no-protocol"]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    assert main([*base, "--out", str(tmp_path / "b"), "--selector", "discrepancy_empirical"]) == 0
    a, b = (load_taskset(str(tmp_path / p / "demo_dev.yaml")) for p in ("a", "b"))
    assert a.tasks == b.tasks
    assert "selector: discrepancy_empirical" in (tmp_path / "b" / "demo_dev.yaml").read_text()
    assert main([*base, "--out", str(tmp_path / "c"), "--selector", "discrepancy_uniform"]) == 0
    assert "selector: discrepancy_uniform" in (tmp_path / "c" / "demo_dev.yaml").read_text()
    capsys.readouterr()
    # a name that says one reference and a --reference that says the other is refused, not guessed
    bad = [*base, "--out", str(tmp_path / "d"), "--selector", "discrepancy_uniform"]
    bad += ["--reference", "empirical"]
    assert main(bad) == 2
    err = capsys.readouterr().err
    assert "--selector discrepancy_uniform" in err and "--reference 'empirical'" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("command", ["subset", "scores"])
def test_cli_missing_source_is_named_before_anything_else(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = ["--out", str(tmp_path / ("s.csv" if command == "scores" else "sets"))]
    for source in ("/no/such/study", "/no_such_study"):  # the second has no folder name to name a taskset
        assert main([command, source, *out]) == 2
        err = capsys.readouterr().err
        assert f"no results at {source!r}" in err and err.count("\n") == 1


@pytest.mark.parametrize("command", ["subset", "scores"])
def test_cli_unwritable_out_is_refused_before_the_work(
    command: str,
    study: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An --out that cannot be written is one line naming it, before the scores are read."""
    import analysis.__main__ as cli

    blocker = tmp_path / "a_file"
    blocker.write_text("")
    out = blocker / ("s.csv" if command == "scores" else "sets")  # a folder inside a file: never writable
    read: list[object] = []
    monkeypatch.setattr(cli, "combined_scores", lambda *a, **k: read.append(a))
    assert main([command, str(study), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"--out {str(out)!r}" in err and "choose a writable" in err and err.count("\n") == 1
    assert read == []
