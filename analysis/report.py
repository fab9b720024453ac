"""The leaderboard report: one call from a results frame to HTML + Markdown.

:func:`build_report` only calls the pure functions of this package and
collects tables and figures; :func:`write_report` writes ``report.html``
(self-contained: figures embedded as base64 PNG) and ``report.md`` (figures
as PNG files under ``figures/``).

Example:
    >>> from analysis.synthetic import synthetic_results
    >>> rep = build_report(synthetic_results(n_tasks=4, n_optimizers=3, n_seeds=2), n_boot=50, figures=False)
    >>> rep.tables["leaderboard"].index[0]
    'opt2'
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis import anytime, hypervolume, plots, profiles, stats
from analysis.normalize import SINGLE_OBJECTIVE_TYPES, completeness, prepare, score_table


@dataclass
class Section:
    """A titled block of prose, tables and figures."""

    title: str
    text: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)


@dataclass
class Report:
    """Everything the report shows: sections, named tables, PNG figures."""

    title: str
    sections: list[Section]
    tables: dict[str, pd.DataFrame]
    figures: dict[str, bytes]

    def markdown(self, figure_dir: str = "figures") -> str:
        """The report as Markdown, figures referenced as ``figure_dir/<name>.png``."""
        out = [f"# {self.title}", ""]
        for s in self.sections:
            out += [f"## {s.title}", ""]
            out += [*(f"{t}\n" for t in s.text)]
            for caption, t in s.tables:
                out += [f"**{caption}**", "", _md_table(t), ""]
            out += [f"![{name}]({figure_dir}/{name}.png)\n" for name in s.figures if name in self.figures]
        return "\n".join(out)

    def html(self) -> str:
        """The report as one self-contained HTML page."""
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        toc = "".join(
            f'<li><a href="#s{i}">{html.escape(s.title)}</a></li>' for i, s in enumerate(self.sections)
        )
        body.append(f"<nav><ol>{toc}</ol></nav>")
        for i, s in enumerate(self.sections):
            body.append(f'<section id="s{i}"><h2>{html.escape(s.title)}</h2>')
            body += [f"<p>{html.escape(t)}</p>" for t in s.text]
            for caption, t in s.tables:
                body.append(
                    f'<div class="tbl"><p class="cap">{html.escape(caption)}</p>{_html_table(t)}</div>'
                )
            for name in (n for n in s.figures if n in self.figures):
                b64 = base64.b64encode(self.figures[name]).decode()
                body.append(f'<figure><img alt="{name}" src="data:image/png;base64,{b64}"></figure>')
            body.append("</section>")
        return _HTML.format(title=html.escape(self.title), body="\n".join(body))


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }}
h1 {{ border-bottom: 2px solid #444; padding-bottom: .2em; }}
h2 {{ margin-top: 2em; border-bottom: 1px solid #ccc; }}
nav ol {{ columns: 2; font-size: .95em; }}
table {{ border-collapse: collapse; font-size: .85em; margin: .4em 0 1.2em; }}
th, td {{ padding: .25em .6em; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }}
th {{ background: #f3f3f3; }}
tbody th {{ text-align: left; }}
.tbl {{ overflow-x: auto; }}
.cap {{ font-weight: 600; margin-bottom: .2em; }}
figure {{ margin: 1em 0; }}
img {{ max-width: 100%; height: auto; }}
</style></head><body>
{body}
</body></html>
"""


def _html_table(t: pd.DataFrame) -> str:
    # A named index becomes an ordinary first column: no extra header row.
    if t.index.name or isinstance(t.index, pd.MultiIndex):
        flat = t.reset_index()
        flat.columns.name = None
        return flat.to_html(na_rep="", border=0, index=False)
    return t.to_html(na_rep="", border=0)


def _md_table(t: pd.DataFrame) -> str:
    t = t.reset_index() if t.index.name or isinstance(t.index, pd.MultiIndex) else t
    cols = [str(c) for c in t.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in t.itertuples(index=False):
        cells = ["" if (isinstance(v, float) and np.isnan(v)) else str(v) for v in row]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _fmt_ci(mean: pd.Series, lo: pd.Series, hi: pd.Series, spec: str = ".2f") -> pd.Series:
    def one(m: float, a: float, b: float) -> str:
        if not np.isfinite(m):
            return ""
        if not (np.isfinite(a) and np.isfinite(b)):
            return f"{m:{spec}}"
        return f"{m:{spec}} [{a:{spec}}, {b:{spec}}]"

    return pd.Series([one(*v) for v in zip(mean, lo, hi, strict=True)], index=mean.index)


def _meta_field(runs_meta: pd.DataFrame, key: str) -> list[Any]:
    """A metadata key from its own column or from the nested ``meta`` dicts of ``load_runs``."""
    if key in runs_meta.columns:
        return list(runs_meta[key])
    if "meta" in runs_meta.columns:
        return [m.get(key) if isinstance(m, dict) else None for m in runs_meta["meta"]]
    return []


def _versions(runs_meta: pd.DataFrame | None) -> list[str]:
    lines = []
    if runs_meta is not None:
        seen = {json.dumps(v, sort_keys=True, default=str) for v in _meta_field(runs_meta, "versions") if v}
        for v in sorted(seen):
            lines.append("Run environment: " + ", ".join(f"{k} {x}" for k, x in json.loads(v).items()))
        hosts = {json.dumps(h, sort_keys=True, default=str) for h in _meta_field(runs_meta, "host") if h}
        if hosts:
            lines.append("Hosts: " + "; ".join(sorted(hosts)[:10]) + (" ..." if len(hosts) > 10 else ""))
    pkgs = []
    for p in ("nxm-bench", "numpy", "pandas", "scipy", "moocore"):
        try:
            pkgs.append(f"{p} {metadata.version(p)}")
        except metadata.PackageNotFoundError:
            continue
    lines.append(
        f"Analysis environment: python {platform.python_version()}, "
        + ", ".join(pkgs)
        + f"; machine {platform.machine()} ({platform.system()})"
    )
    if runs_meta is None:
        lines.append("Run metadata not available: provenance of the runs themselves is not shown.")
    return lines


def build_report(
    df: pd.DataFrame,
    runs_meta: pd.DataFrame | None = None,
    x: str = "trials",
    baseline: str = "random_search",
    alpha: float = 0.05,
    n_boot: int = 1000,
    seed: int = 0,
    title: str | None = None,
    max_heatmap_tasks: int = 40,
    figures: bool = True,
) -> Report:
    """Compute every table and figure of the leaderboard report.

    Args:
        df: the long results frame.
        runs_meta: per-run metadata (``bench.results.load_runs``), optional.
        x: budget axis of the anytime curves.
        baseline: optimizer for wins/ties/losses (skipped if absent).
        alpha: significance level of the tests.
        n_boot: bootstrap resamples for confidence intervals.
        seed: seed of the bootstrap.
        title: report title (default from the study name).
        max_heatmap_tasks: rows shown in the per-task heatmap.
        figures: render figures (False gives a text-and-tables report, much faster).
    """
    prep = prepare(df)
    runs = prep.runs
    opts = prep.optimizers
    pal = plots.palette(opts)
    studies = sorted(map(str, pd.unique(df["study"]))) if "study" in df.columns else ["(unnamed)"]
    title = title or f"NxM-Bench leaderboard: {', '.join(studies)}"
    render = figures
    pngs: dict[str, bytes] = {}
    tables: dict[str, pd.DataFrame] = {}
    sections: list[Section] = []

    def fig(name: str, make: Callable[[], Figure]) -> str:
        if render:
            pngs[name] = _png(make())
        return name

    # Provenance.
    comp = completeness(prep, runs_meta)
    so = runs[runs["task_type"].astype(str).isin(SINGLE_OBJECTIVE_TYPES)]
    mo_mask = ~runs["task_type"].astype(str).isin(SINGLE_OBJECTIVE_TYPES)
    fams = runs.groupby(runs["family"].astype(str))["task"].nunique()
    budget = runs.groupby(runs["task_type"].astype(str)).agg(
        trials=("n_trials", "max"), budget_used=("final_budget_used", "max")
    )
    prov = Section("Provenance")
    prov.text += [
        f"Study: {', '.join(studies)}. Generated {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}.",
        f"Tasks: {runs['task'].nunique()} ({', '.join(f'{f} {n}' for f, n in fams.items())}); "
        f"optimizers: {len(opts)} ({', '.join(opts)}); seeds: {runs['seed'].nunique()} "
        f"({', '.join(map(str, sorted(runs['seed'].unique())[:20]))}"
        f"{', ...' if runs['seed'].nunique() > 20 else ''}); trial rows: {len(prep.trials):,}.",
        "Largest budget per task type: "
        + "; ".join(
            f"{t}: {int(r.trials)} trials, {r.budget_used:.4g} full-fidelity equivalents"
            for t, r in budget.iterrows()
        ),
        *_versions(runs_meta),
        "Normalized regret: (best cost - lower) / (upper - lower) per task, lower = known optimum "
        "if any else best of the study, upper = worst of the study; lower ranks are better.",
    ]
    sections.append(prov)

    # Completeness.
    cs = Section("Missing and failed runs", [comp.summary() + "."])
    cs.tables.append(("Runs per optimizer", comp.by_optimizer))
    if len(comp.failed):
        failed = comp.failed.head(20)
        if runs_meta is not None and {"error", "task", "optimizer", "seed"} <= set(runs_meta.columns):
            err = runs_meta[["task", "optimizer", "seed", "error"]].dropna(
                subset=["task", "optimizer", "seed"]
            )
            err = err.astype({"task": str, "optimizer": str, "seed": np.int64})
            # The last line of a traceback names the exception; keep the table narrow.
            err["error"] = [str(e).strip().splitlines()[-1][:120] if e else "" for e in err["error"]]
            failed = failed.merge(err, on=["task", "optimizer", "seed"], how="left")
        cs.tables.append((f"Failed runs (first {len(failed)} of {len(comp.failed)})", failed))
    if len(comp.missing):
        cs.tables.append((f"Missing runs (first 20 of {len(comp.missing)})", comp.missing.head(20)))
    tables["completeness"] = comp.by_optimizer
    sections.append(cs)

    failed_per_opt = comp.by_optimizer["failed"] + comp.by_optimizer["missing"]
    if len(so):
        _single_objective(
            prep,
            so,
            x,
            baseline,
            alpha,
            n_boot,
            seed,
            pal,
            failed_per_opt,
            max_heatmap_tasks,
            sections,
            tables,
            fig,
        )
    if mo_mask.any():
        _multi_objective(df, prep, x, alpha, n_boot, seed, pal, sections, tables, fig)
    return Report(title, sections, tables, pngs)


def _single_objective(
    prep: Any,
    so: pd.DataFrame,
    x: str,
    baseline: str,
    alpha: float,
    n_boot: int,
    seed: int,
    pal: dict[str, plots.Color],
    failed_per_opt: pd.Series,
    max_heatmap_tasks: int,
    sections: list[Section],
    tables: dict[str, pd.DataFrame],
    fig: Any,
) -> None:
    scores = score_table(so)
    log_scores = score_table(so, value="final_log_regret")
    mr = stats.mean_ranks(scores, n_boot=n_boot, seed=seed)
    reg = stats.bootstrap_mean(scores, n_boot=n_boot, seed=seed)
    so_types = tuple(sorted(set(so["task_type"].astype(str))))
    curves = anytime.resample(prep, x=x)
    keep = curves.runs["task_type"].astype(str).isin(so_types).to_numpy()
    curves = anytime.Curves(
        curves.grid,
        curves.values[keep],
        curves.runs[keep].reset_index(drop=True),
        curves.x,
        curves.value,
        curves.log_grid,
    )
    any_runs = curves.runs.assign(anytime=anytime.anytime_score(curves).to_numpy())
    any_scores = score_table(any_runs, value="anytime")
    t = mr.table
    lb = pd.DataFrame(index=t.index)
    lb["mean rank [95% CI]"] = _fmt_ci(t["mean_rank"], t["ci_low"], t["ci_high"])
    lb["mean norm. regret [95% CI]"] = _fmt_ci(reg["mean"], reg["ci_low"], reg["ci_high"], ".3g").reindex(
        t.index
    )
    lb["mean log10 regret"] = log_scores.mean().reindex(t.index).round(2)
    lb["anytime (AUC)"] = any_scores.mean().reindex(t.index).round(3)
    if baseline in scores.columns:
        wtl = stats.wins_ties_losses(scores, baseline).reindex(t.index)
        lb[f"W/T/L vs {baseline}"] = [f"{w}/{ti}/{lo}" for w, ti, lo in wtl.to_numpy()]
    lb["failed or missing runs"] = failed_per_opt.reindex(t.index).fillna(0).astype(int)
    lb["tasks"] = t["n_tasks"]
    tables["leaderboard"] = lb
    main = Section("Leaderboard (single-objective tasks)")
    main.text.append(
        f"{len(scores)} tasks; ranks use final normalized regret averaged over seeds; "
        f"CIs are percentile bootstraps over tasks ({n_boot} resamples)."
    )
    if mr.dropped_tasks:
        main.text.append(
            f"{len(mr.dropped_tasks)} task(s) lack a run of some optimizer and are left out of "
            f"ranks and tests: {', '.join(mr.dropped_tasks[:10])}"
            f"{' ...' if len(mr.dropped_tasks) > 10 else ''}."
        )
    main.tables.append(("Leaderboard (sorted by mean rank; lower is better)", lb))
    sections.append(main)

    tests = Section("Statistical tests")
    fr = stats.friedman(scores)
    nem = stats.nemenyi(scores, alpha)
    con = stats.conover_holm(scores, alpha)
    wil = stats.wilcoxon_holm(scores, alpha)
    tests.text.append(
        f"Friedman: chi2 = {fr.statistic:.3f}, p = {fr.pvalue:.3g}; "
        f"Iman-Davenport F = {fr.iman_davenport:.3f}, p = {fr.iman_davenport_pvalue:.3g} "
        f"(k = {fr.k}, N = {fr.n}). {fr.note}".strip()
    )
    tests.text.append(
        f"Nemenyi critical difference at alpha = {alpha}: CD = {nem.cd:.3f}. {nem.note}".strip()
    )
    for res in (con, wil):
        if res.note:
            tests.text.append(f"{res.method}: {res.note}")
    tests.figures.append(
        fig(
            "cd_nemenyi",
            lambda: plots.cd_diagram(
                nem.mean_ranks, nem.cd, nem.cliques(), "Nemenyi critical difference", pal
            ),
        )
    )
    tests.figures.append(
        fig(
            "cd_wilcoxon",
            lambda: plots.cd_diagram(
                wil.mean_ranks, None, wil.cliques(), "Groups not separated by Wilcoxon-Holm", pal
            ),
        )
    )
    order = list(nem.mean_ranks.index)
    for res in (con, wil):
        pv = res.pvalues.loc[order, order].map(lambda v: f"{v:.3g}" if np.isfinite(v) else "")
        tests.tables.append((f"{res.method} adjusted p-values", pv))
        tables[f"pvalues_{res.method}"] = res.pvalues
    sections.append(tests)

    cur = Section("Anytime performance")
    cur.text.append(
        f"Budget axis: {x}, as a fraction of the largest budget reached on each task; "
        "mean over tasks of the seed-mean incumbent, with 95% bootstrap bands over tasks."
    )
    agg = anytime.aggregate(curves, n_boot=min(n_boot, 300), seed=seed)
    cur.figures.append(
        fig(
            "regret_curves",
            lambda: plots.curves_plot(
                agg, "normalized regret", "Normalized regret of the incumbent", pal=pal
            ),
        )
    )
    log_curves = anytime.Curves(
        curves.grid,
        np.log10(np.maximum(curves.values, 1e-10)),
        curves.runs,
        curves.x,
        "log_regret",
        curves.log_grid,
    )
    agg_log = anytime.aggregate(log_curves, n_boot=min(n_boot, 300), seed=seed)
    cur.figures.append(
        fig(
            "log_regret_curves",
            lambda: plots.curves_plot(
                agg_log, "log10 normalized regret", "Log-scale normalized regret", pal=pal
            ),
        )
    )
    rob = anytime.ranks_over_budget(curves)
    tables["ranks_over_budget"] = rob
    cur.figures.append(fig("ranks_over_budget", lambda: plots.rank_plot(rob, pal=pal)))
    sections.append(cur)

    prof = Section("Profiles")
    tau = 1e-2
    prof.text.append(f"A (task, seed) problem is solved once the incumbent normalized regret is <= {tau}.")
    pp = profiles.performance_profile(prep, tau=tau, x=x)
    prof.figures.append(
        fig(
            "performance_profile",
            lambda: plots.profile_plot(
                pp,
                "budget ratio to the fastest optimizer",
                "fraction of problems solved",
                "Performance profile",
                pal,
            ),
        )
    )
    dp = profiles.data_profile(prep, tau=tau, x=x)
    prof.figures.append(
        fig(
            "data_profile",
            lambda: plots.profile_plot(
                dp,
                f"budget ({x}) / (dimension + 1) where known",
                "fraction of problems solved",
                "Data profile",
                pal,
            ),
        )
    )
    ecdf = profiles.bbob_ecdf(prep, x=x)
    if len(ecdf):
        prof.figures.append(
            fig(
                "bbob_ecdf",
                lambda: plots.profile_plot(
                    ecdf,
                    f"{x} / dimension",
                    "fraction of (run, target) pairs",
                    "bbob runtime ECDF, targets 1e2..1e-8",
                    pal,
                ),
            )
        )
    sections.append(prof)

    fam = Section("Per-family breakdown")
    full, _ = stats.complete_blocks(scores)
    r = stats.ranks(full)
    fam_of = so.assign(task=so["task"].astype(str)).groupby("task")["family"].first().astype(str)
    fam_ranks = r.groupby(fam_of.reindex(r.index).to_numpy()).mean()
    fam_ranks.index.name = "family"
    fam_ranks["tasks"] = r.groupby(fam_of.reindex(r.index).to_numpy()).size()
    tables["family_ranks"] = fam_ranks
    fam.tables.append(("Mean rank per family", fam_ranks.round(2)))
    if len(fam_ranks):
        fam.figures.append(
            fig(
                "family_ranks",
                lambda: plots.heatmap(
                    fam_ranks.drop(columns="tasks"),
                    "Mean rank per family",
                    "mean rank (1 = best)",
                    cmap="viridis_r",
                ),
            )
        )
    fam.figures.append(
        fig(
            "task_heatmap",
            lambda: plots.heatmap(
                log_scores,
                "Final log10 normalized regret per task",
                "log10 normalized regret",
                fmt=".1f",
                max_rows=max_heatmap_tasks,
                cmap="magma_r",
            ),
        )
    )
    sections.append(fam)


def _multi_objective(
    df: pd.DataFrame,
    prep: Any,
    x: str,
    alpha: float,
    n_boot: int,
    seed: int,
    pal: dict[str, plots.Color],
    sections: list[Section],
    tables: dict[str, pd.DataFrame],
    fig: Any,
) -> None:
    sec = Section("Multi-objective tasks (hypervolume)")
    sec.text.append(
        f"Objectives min-max normalized per task over the study; reference point {hypervolume.REF} in every "
        "dimension; HV regret = (HV of all runs' union - HV of the run) / HV of the union."
    )
    if "values" not in df.columns:
        sec.text.append("The results lack the 'values' column: hypervolume cannot be computed.")
        sections.append(sec)
        return
    hv = hypervolume.hv_runs(df, prep=prep)
    scores = score_table(hv, value="final_hv_regret")
    mr = stats.mean_ranks(scores, n_boot=n_boot, seed=seed)
    reg = stats.bootstrap_mean(scores, n_boot=n_boot, seed=seed)
    fr = stats.friedman(scores)
    nem = stats.nemenyi(scores, alpha)
    t = mr.table
    tab = pd.DataFrame(index=t.index)
    tab["mean rank [95% CI]"] = _fmt_ci(t["mean_rank"], t["ci_low"], t["ci_high"])
    tab["mean HV regret [95% CI]"] = _fmt_ci(reg["mean"], reg["ci_low"], reg["ci_high"], ".3g").reindex(
        t.index
    )
    tab["tasks"] = t["n_tasks"]
    tables["mo_leaderboard"] = tab
    sec.tables.append(("Hypervolume leaderboard", tab))
    sec.text.append(
        f"Friedman: chi2 = {fr.statistic:.3f}, p = {fr.pvalue:.3g} (k = {fr.k}, N = {fr.n}). "
        f"{fr.note}".strip()
    )
    if np.isfinite(nem.cd):
        sec.figures.append(
            fig(
                "cd_hv",
                lambda: plots.cd_diagram(
                    nem.mean_ranks, nem.cd, nem.cliques(), "Nemenyi CD on HV regret", pal
                ),
            )
        )
    curves = hypervolume.hv_curves(df, prep=prep, x=x)
    if curves is not None:
        agg = anytime.aggregate(curves, n_boot=min(n_boot, 300), seed=seed)
        sec.figures.append(
            fig(
                "hv_regret_curves", lambda: plots.curves_plot(agg, "HV regret", "Hypervolume regret", pal=pal)
            )
        )
    sections.append(sec)


def write_report(report: Report, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``report.html``, ``report.md`` and ``figures/*.png`` under ``out_dir``.

    Example:
        >>> import tempfile
        >>> from analysis.synthetic import synthetic_results
        >>> df = synthetic_results(n_tasks=3, n_optimizers=2, n_seeds=2)
        >>> rep = build_report(df, n_boot=20, figures=False)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     html_path, md_path = write_report(rep, d)
        ...     html_path.read_text().startswith("<!doctype html>")
        True
    """
    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    for name, png in report.figures.items():
        (out / "figures" / f"{name}.png").write_bytes(png)
    html_path, md_path = out / "report.html", out / "report.md"
    html_path.write_text(report.html(), encoding="utf-8")
    md_path.write_text(report.markdown(), encoding="utf-8")
    return html_path, md_path
