"""Rendering of the leaderboard report: :class:`Report` and its :class:`Section` s as HTML and Markdown.

The report is built in :mod:`analysis.report.build` (the leaderboard) and
:mod:`analysis.report.subset_chapter` (the subset chapter); both fill the value types of this
module, which imports neither, so the two builders can import each other's parts without a cycle.
:func:`write_report` writes ``report.html`` (self-contained: figures embedded as base64 PNG) and
``report.md`` (figures as PNG files under ``figures/``).

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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass
class Section:
    """A titled block of prose, tables and figures; ``level`` 2 is a chapter, 3 a sub-section."""

    title: str
    text: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    level: int = 2


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
            out += [f"{'#' * s.level} {s.title}", ""]
            out += [*(f"{t}\n" for t in s.text)]
            for caption, t in s.tables:
                out += [f"**{caption}**", "", _md_table(t), ""]
            out += [f"![{name}]({figure_dir}/{name}.png)\n" for name in s.figures if name in self.figures]
        return "\n".join(out)

    def html(self) -> str:
        """The report as one self-contained HTML page."""
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        toc = "".join(
            f'<li><a href="#s{i}">{html.escape(s.title)}</a></li>'
            for i, s in enumerate(self.sections)
            if s.level <= 2
        )
        body.append(f"<nav><ol>{toc}</ol></nav>")
        for i, s in enumerate(self.sections):
            h = f"h{min(max(s.level, 2), 4)}"
            body.append(f'<section id="s{i}"><{h}>{html.escape(s.title)}</{h}>')
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
h3 {{ margin-top: 1.5em; }}
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
    # A named index becomes an ordinary first column: no extra header row; a row counter is not shown.
    if t.index.name or isinstance(t.index, pd.MultiIndex):
        flat = t.reset_index()
        flat.columns.name = None
        return flat.to_html(na_rep="", border=0, index=False)
    return t.to_html(na_rep="", border=0, index=not isinstance(t.index, pd.RangeIndex))


def _md_table(t: pd.DataFrame) -> str:
    t = t.reset_index() if t.index.name or isinstance(t.index, pd.MultiIndex) else t
    cols = [str(c) for c in t.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in t.itertuples(index=False):
        cells = ["" if (isinstance(v, float) and np.isnan(v)) else str(v) for v in row]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def write_report(report: Report, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``report.html``, ``report.md`` and ``figures/*.png`` under ``out_dir``.

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
    (out / "figures").mkdir(parents=True, exist_ok=True)
    for name, png in report.figures.items():
        (out / "figures" / f"{name}.png").write_bytes(png)
    html_path, md_path = out / "report.html", out / "report.md"
    html_path.write_text(report.html(), encoding="utf-8")
    md_path.write_text(report.markdown(), encoding="utf-8")
    return html_path, md_path
