"""Results in other tools' formats: COCO's bbob data for its post-processing (:mod:`analysis.export.coco`).

Like the report, an export builds on the shared modules of :mod:`analysis` (load, normalize) and
on :mod:`tasks` (task ids); nothing in :mod:`bench`, :mod:`tasks` or :mod:`optimizers` imports it.

Example:
    >>> from analysis.export import export_coco
    >>> callable(export_coco)
    True
"""

from analysis.export.coco import CocoExport, export_coco, main_export

__all__ = ["CocoExport", "export_coco", "main_export"]
