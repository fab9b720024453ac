"""The report of ``python -m analysis report``: the leaderboard's chapters and the subsets chapter.

* :mod:`~analysis.report.build`: :func:`~analysis.report.build.build_report`, from a results frame
  to a :class:`~analysis.report.render.Report`
* :mod:`~analysis.report.subset_chapter`: the "Representative subsets" chapter
* :mod:`~analysis.report.render`: the value types both fill, rendered as HTML and Markdown

It is the top of the analysis: it uses both pipelines, and neither imports it.
"""
