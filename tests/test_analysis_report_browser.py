"""The HTML report in a real browser: headless Chromium draws it offline (skipped without Chromium).

What a user sees is checked on the page's DOM after its scripts ran: every interactive figure was
drawn by the embedded plotly.js (no network: the browser runs with networking disabled), the
per-task list switches the plot, and a click on a leaderboard header sorts the table.

The screenshots in docs/img/ come from the same command (docs/analysis.md, "The report").
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from analysis.report.build import build_report, write_report
from analysis.report.interactive import plotly_js
from analysis.synthetic import synthetic_results

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM = next((p for p in map(shutil.which, BROWSERS) if p), None)

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt install chromium)"),
    pytest.mark.skipif(plotly_js() is None, reason="plotly is not installed (the analysis extra)"),
]

#: Appended to the report: what the test reads back from the DOM once the page's scripts ran.
PROBE = """
<script>
window.addEventListener("load", function () {
  var th = document.querySelector("table.sortable thead th:nth-child(2)");
  var first = function () { return document.querySelector("table.sortable tbody tr td").textContent; };
  var before = first();
  th.click(); th.click();  // ascending, then descending on the mean rank
  var sel = document.querySelector("figure.drill select");
  sel.selectedIndex = sel.options.length - 1;
  sel.dispatchEvent(new Event("change"));
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({
    plots: document.querySelectorAll(".plot").length,
    drawn: document.querySelectorAll(".plot .main-svg").length,
    sorted_first_before: before, sorted_first_after: first(),
    task: sel.value
  });
  document.body.appendChild(out);
});
</script>
"""


def _dom(html_file: Path) -> str:
    assert CHROMIUM is not None
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--proxy-server=127.0.0.1:9",  # any network request would fail: the report must not need one
            "--virtual-time-budget=8000",
            "--dump-dom",
            html_file.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_the_report_draws_offline_sorts_and_drills_down(tmp_path: Path) -> None:
    import json

    df = synthetic_results(n_tasks=8, n_optimizers=4, n_seeds=2, n_trials=10)
    rep = build_report(df, n_boot=20)
    html_path, _ = write_report(rep, tmp_path)
    page = html_path.read_text().replace("</body>", PROBE + "</body>")
    probe_file = tmp_path / "probe.html"
    probe_file.write_text(page, encoding="utf-8")
    dom = _dom(probe_file)
    probe = json.loads(dom.split('<pre id="probe">', 1)[1].split("</pre>", 1)[0].replace("&quot;", '"'))
    assert probe["plots"] == len(rep.interactive) >= 3
    assert probe["drawn"] >= probe["plots"]  # each plot has its svg layers
    # sorted by mean rank, best first: descending puts the worst (opt0 in synthetic results) on top
    assert probe["sorted_first_before"] == "opt3" and probe["sorted_first_after"] == "opt0"
    assert probe["task"] == sorted(df["task"].unique())[-1]
