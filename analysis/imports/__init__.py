"""Results of other benchmark tools as results frames: carps run logs (:mod:`analysis.imports.carps`).

An import gives the long trials frame of docs/results-schema.md, so the report and every other
analysis run on it as on a study of this project. Like the exports, it builds on the shared
modules of :mod:`analysis`; nothing in :mod:`bench`, :mod:`tasks` or :mod:`optimizers` imports it.

Example:
    >>> from analysis.imports import import_carps
    >>> callable(import_carps)
    True
"""

from analysis.imports.carps import CarpsImport, import_carps, main_import_carps, read_carps

__all__ = ["CarpsImport", "import_carps", "main_import_carps", "read_carps"]
