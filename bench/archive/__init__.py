"""The baseline archive: runs of every shipped optimizer on the shipped subsets, installed with
the package, so a new optimizer is ranked against them without re-running them.

* :mod:`bench.archive.pieces`: what is archived (pieces, seeds, the expensive optimizers);
* :mod:`bench.archive.planning`: today's plan of every entry (one optimizer on one piece);
* :mod:`bench.archive.store`: the files, the manifest and ``verify``;
* :mod:`bench.archive.pack`: runs of a study folder → a compact archive file;
* :mod:`bench.archive.status`: fresh, stale, incomplete, missing and orphaned entries;
* :mod:`bench.archive.build`: run what is not fresh with the normal runner, then pack;
* :mod:`bench.archive.read`: the archive as a results frame and run metadata, for the analysis;
* :mod:`bench.archive.command`: ``python -m bench archive status|verify|build|pack``.

See docs/baselines.md.
"""
