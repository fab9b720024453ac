"""The installed version of a distribution, read once per process.

Runs record the versions of the libraries they used, and the archive compares those with what
is installed now (stale entries, version notes in reports). Reading package metadata costs
~0.3 ms per package, every run, so each name is read once per process; the code a worker runs
is what it imported at its start, so that version is the one to record even if the package is
reinstalled while the process lives.

Example:
    >>> installed_version("numpy") != "not installed"
    True
    >>> installed_version("no-such-distribution-xyz")
    'not installed'
"""

from __future__ import annotations

from functools import cache
from importlib import metadata

__all__ = ["installed_version"]


@cache
def installed_version(name: str) -> str:
    """The version of the installed distribution ``name``, or ``not installed``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"
