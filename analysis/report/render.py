"""Rendering of the leaderboard report: :class:`Report` and its :class:`Section` s as HTML and Markdown.

The report is built in :mod:`analysis.report.build` (the leaderboard) and
:mod:`analysis.report.subset_chapter` (the subset chapter); both fill the value types of this
module, which imports neither, so the two builders can import each other's parts without a cycle.
:func:`write_report` writes ``report.html`` (self-contained and offline: figures embedded as
base64 PNG or, with plotly installed, drawn by the embedded plotly.js; tables sortable),
``report.md`` (figures as PNG files under ``figures/``) and every named table as a LaTeX
``booktabs`` table under ``tables/``.

Example:
    >>> import pandas as pd
    >>> section = Section("Leaderboard", ["Lower is better."], [("ranks", pd.DataFrame({"rank": [1.5]}))])
    >>> print(Report("Demo", [section], {}, {}).markdown())
    # Demo
    <BLANKLINE>
    ## Leaderboard
    <BLANKLINE>
    Lower is better.
    <BLANKLINE>
    **ranks**
    <BLANKLINE>
    | rank |
    |---|
    | 1.5 |
    <BLANKLINE>
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.report.interactive import plotly_js, to_json


@dataclass
class Section:
    """A titled block of prose, tables and figures; ``level`` 2 is a chapter, 3 a sub-section."""

    title: str
    text: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    level: int = 2
    #: Shown folded in HTML (a ``<details>`` element the reader opens), e.g. provenance.
    folded: bool = False


@dataclass
class Report:
    """Everything the report shows: sections, named tables, PNG figures, and interactive figures.

    ``interactive`` maps a figure name to a plotly figure spec (:mod:`analysis.report.interactive`):
    the HTML report draws it in place of the PNG of the same name when plotly.js is at hand; a spec
    with a ``tasks`` key is a per-task drill-down (a task list and one plot).
    """

    title: str
    sections: list[Section]
    tables: dict[str, pd.DataFrame]
    figures: dict[str, bytes]
    interactive: dict[str, dict[str, Any]] = field(default_factory=dict)

    def markdown(self, figure_dir: str = "figures") -> str:
        """The report as Markdown, figures referenced as ``figure_dir/<name>.png``."""
        out = [f"# {self.title}", ""]
        for s in self.sections:
            out += [f"{'#' * s.level} {s.title}", ""]
            out += [*(f"{t}\n" for t in s.text)]
            for caption, t in s.tables:
                out += [f"**{caption}**", "", _md_table(t), ""]
            out += [f"![{name}]({figure_dir}/{name}.png)\n" for name in s.figures if name in self.figures]
        return "\n".join(out)

    def html(self, interactive: bool = True) -> str:
        """The report as one self-contained HTML page (no network access needed).

        Tables sort on a click on their header. With ``interactive`` and plotly installed, the
        figures that have an interactive spec are drawn by the embedded plotly.js (hover, zoom,
        legend toggles; the drill-downs pick a task from a list); the others are PNGs.
        """
        js = plotly_js() if interactive and self.interactive else None
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        toc = "".join(
            f'<li><a href="#s{i}">{html.escape(s.title)}</a></li>'
            for i, s in enumerate(self.sections)
            if s.level <= 2
        )
        body.append(f"<nav><ol>{toc}</ol></nav>")
        for i, s in enumerate(self.sections):
            h = f"h{min(max(s.level, 2), 4)}"
            heading = f"<{h}>{html.escape(s.title)}</{h}>"
            if s.folded:
                body.append(f'<section id="s{i}"><details><summary>{heading}</summary>')
            else:
                body.append(f'<section id="s{i}">{heading}')
            body += [f"<p>{html.escape(t)}</p>" for t in s.text]
            for caption, t in s.tables:
                body.append(
                    f'<div class="tbl"><p class="cap">{html.escape(caption)}</p>{_html_table(t)}</div>'
                )
            for name in s.figures:
                spec = self.interactive.get(name)
                if js is not None and spec is not None:
                    body.append(_interactive_figure(name, spec))
                elif name in self.figures:
                    b64 = base64.b64encode(self.figures[name]).decode()
                    body.append(f'<figure><img alt="{name}" src="data:image/png;base64,{b64}"></figure>')
            body.append("</details></section>" if s.folded else "</section>")
        head_js = f"<script>{js}</script>" if js is not None else ""
        return _HTML.format(title=html.escape(self.title), head_js=head_js, body="\n".join(body), js=_JS)

    def latex(self) -> dict[str, str]:
        """Every named table as a LaTeX ``booktabs`` table (``tables/<name>.tex`` in the report
        folder), captioned as in the report where the report shows it.

        Example:
            >>> t = pd.DataFrame({"a": [1]})
            >>> rep = Report("R", [Section("S", tables=[("Leaderboard", t)])], {"leaderboard_bb": t}, {})
            >>> print(rep.latex()["leaderboard_bb"].splitlines()[2])
            \\caption{Leaderboard}
        """
        captions = {id(t): caption for s in self.sections for caption, t in s.tables}
        return {name: latex_table(t, captions.get(id(t), "")) for name, t in self.tables.items()}


def _interactive_figure(name: str, spec: dict[str, Any]) -> str:
    fid = html.escape(re.sub(r"[^A-Za-z0-9_-]", "_", name))
    data = to_json(spec)
    if "tasks" in spec:  # a drill-down: a task list and one plot
        options = "".join(f"<option>{html.escape(t)}</option>" for t in spec["tasks"])
        return (
            f'<figure class="drill"><label>Task: <select id="{fid}-sel">{options}</select></label>'
            f'<div id="{fid}" class="plot"></div></figure>'
            f'<script>drill("{fid}", {data});</script>'
        )
    return f'<figure><div id="{fid}" class="plot"></div></figure><script>plot("{fid}", {data});</script>'


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
{head_js}
<script>{js}</script>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }}
h1 {{ border-bottom: 2px solid #444; padding-bottom: .2em; }}
h2 {{ margin-top: 2em; border-bottom: 1px solid #ccc; }}
h3 {{ margin-top: 1.5em; }}
nav ol {{ columns: 2; font-size: .95em; }}
table {{ border-collapse: collapse; font-size: .85em; margin: .4em 0 1.2em; }}
th, td {{ padding: .25em .6em; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }}
th {{ background: #f3f3f3; }}
tbody th, td:first-child, thead th:first-child {{ text-align: left; }}
.tbl {{ overflow-x: auto; }}
.cap {{ font-weight: 600; margin-bottom: .2em; }}
figure {{ margin: 1em 0; }}
img {{ max-width: 100%; height: auto; }}
table.sortable th {{ cursor: pointer; user-select: none; }}
table.sortable th[data-dir="asc"]::after {{ content: " \\25B2"; font-size: .7em; }}
table.sortable th[data-dir="desc"]::after {{ content: " \\25BC"; font-size: .7em; }}
details > summary {{ cursor: pointer; list-style: none; }}
details > summary h2 {{ display: inline-block; }}
details > summary::before {{ content: "\\25B8 "; }}
details[open] > summary::before {{ content: "\\25BE "; }}
.plot {{ width: 100%; min-height: 420px; }}
.drill label {{ font-size: .9em; }}
</style></head><body>
{body}
</body></html>
"""


#: Sorting of tables (numbers by value, "0.12 [0.1, 0.2]" by its first number, "3/1/2" by its
#: first count; text alphabetically) and drawing of the interactive figures.
_JS = """
function cellKey(td) {
  var t = td.textContent.trim();
  var m = t.match(/^[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?/);
  return m ? parseFloat(m[0]) : (t === "" ? null : t.toLowerCase());
}
function sortTable(th) {
  var table = th.closest("table"), body = table.tBodies[0];
  var col = Array.prototype.indexOf.call(th.parentNode.children, th);
  var dir = th.getAttribute("data-dir") === "asc" ? "desc" : "asc";
  table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("data-dir"); });
  th.setAttribute("data-dir", dir);
  var rows = Array.prototype.slice.call(body.rows);
  rows.sort(function (a, b) {
    var x = cellKey(a.cells[col]), y = cellKey(b.cells[col]);
    if (x === null) return 1;
    if (y === null) return -1;
    var c = (typeof x === typeof y) ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === "number" ? -1 : 1);
    return dir === "asc" ? c : -c;
  });
  rows.forEach(function (r) { body.appendChild(r); });
}
document.addEventListener("click", function (e) {
  var th = e.target.closest && e.target.closest("table.sortable thead th");
  if (th) sortTable(th);
});
function plot(id, spec) {
  Plotly.newPlot(id, spec.data, spec.layout, {responsive: true, displaylogo: false});
}
function drill(id, spec) {
  var sel = document.getElementById(id + "-sel");
  var draw = function () { Plotly.react(id, spec.traces[sel.value], spec.layout,
                                        {responsive: true, displaylogo: false}); };
  sel.addEventListener("change", draw);
  draw();
}
"""


def latex_table(t: pd.DataFrame, caption: str = "") -> str:
    r"""A ``booktabs`` LaTeX table (``\usepackage{booktabs}``), special characters escaped.

    Example:
        >>> t = pd.DataFrame({"mean rank ↓": [1.5]}, index=pd.Index(["a_b"], name="optimizer"))
        >>> print(latex_table(t))
        \begin{table}[t]
        \centering
        \begin{tabular}{lr}
        \toprule
        optimizer & mean rank $\downarrow$ \\
        \midrule
        a\_b & 1.5 \\
        \bottomrule
        \end{tabular}
        \end{table}
    """
    flat = t.reset_index() if t.index.name or isinstance(t.index, pd.MultiIndex) else t
    cols = [str(c) for c in flat.columns]
    numeric = [pd.api.types.is_numeric_dtype(flat[c]) for c in flat.columns]
    align = "".join("r" if n else "l" for n in numeric)
    lines = ["\\begin{table}[t]", "\\centering"]
    if caption:
        lines.append(f"\\caption{{{_tex(caption)}}}")
    lines += [f"\\begin{{tabular}}{{{align}}}", "\\toprule", " & ".join(_tex(c) for c in cols) + " \\\\"]
    lines.append("\\midrule")
    for row in flat.itertuples(index=False):
        cells = ["" if (isinstance(v, float) and np.isnan(v)) else _tex(str(v)) for v in row]
        lines.append(" & ".join(cells) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(lines)


_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "↓": r"$\downarrow$",
    "↑": r"$\uparrow$",
}


def _tex(text: str) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in text)


def _html_table(t: pd.DataFrame) -> str:
    # A named index becomes an ordinary first column: no extra header row; a row counter is not shown.
    if t.index.name or isinstance(t.index, pd.MultiIndex):
        flat = t.reset_index()
        flat.columns.name = None
        return flat.to_html(na_rep="", border=0, index=False, classes="sortable")
    return t.to_html(na_rep="", border=0, index=not isinstance(t.index, pd.RangeIndex), classes="sortable")


def _md_table(t: pd.DataFrame) -> str:
    t = t.reset_index() if t.index.name or isinstance(t.index, pd.MultiIndex) else t
    cols = [str(c) for c in t.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in t.itertuples(index=False):
        cells = ["" if (isinstance(v, float) and np.isnan(v)) else str(v) for v in row]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def write_report(report: Report, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``report.html``, ``report.md``, ``figures/*.png`` and ``tables/*.tex`` under ``out_dir``.

    Example:
        >>> import tempfile
        >>> from analysis.report.build import build_report
        >>> from analysis.synthetic import synthetic_results
        >>> df = synthetic_results(n_tasks=3, n_optimizers=2, n_seeds=2)
        >>> rep = build_report(df, n_boot=20, figures=False)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     html_path, md_path = write_report(rep, d)
        ...     html_path.read_text().startswith("<!doctype html>")
        True
    """
    out = Path(out_dir)
    tex = report.latex()
    for sub, suffix, names in (("figures", ".png", report.figures), ("tables", ".tex", tex)):
        (out / sub).mkdir(parents=True, exist_ok=True)
        # A report written over an earlier one must not leave that one's figures and tables
        # behind, looking like this report's (only our own file types are touched).
        for old in (out / sub).glob(f"*{suffix}"):
            if old.stem not in names:
                old.unlink()
    for name, png in report.figures.items():
        (out / "figures" / f"{name}.png").write_bytes(png)
    for name, text in tex.items():
        (out / "tables" / f"{name}.tex").write_text(text + "\n", encoding="utf-8")
    html_path, md_path = out / "report.html", out / "report.md"
    html_path.write_text(report.html(), encoding="utf-8")
    md_path.write_text(report.markdown(), encoding="utf-8")
    return html_path, md_path
