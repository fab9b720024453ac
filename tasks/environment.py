"""Environment variables that tasks read, under the one ``NXMBENCH_`` prefix.

Two variables had an ``NXM_`` name before; users keep those in their shell profiles, so the old
name is still read while the new one is unset, with a one-line note on stderr (once per process
and name) instead of being silently ignored, which would make e.g. the YAHPO family vanish.

This module imports nothing heavy: the command-line front end reads it before anything else.

Example:
    >>> import os
    >>> os.environ["NXMBENCH_DOC_EXAMPLE"] = "/data"
    >>> setting("NXMBENCH_DOC_EXAMPLE")
    '/data'
    >>> del os.environ["NXMBENCH_DOC_EXAMPLE"]
    >>> setting("NXMBENCH_DOC_EXAMPLE") is None
    True
"""

from __future__ import annotations

import os
import sys
import threading

#: Each current name → the deprecated name it replaces (read only while the current one is unset).
LEGACY_NAMES: dict[str, str] = {
    "NXMBENCH_YAHPO_DATA": "NXM_YAHPO_DATA",
    "NXMBENCH_CACHE_DIR": "NXM_CACHE_DIR",
}

_noted: set[str] = set()
_lock = threading.Lock()


def setting(name: str, legacy: str | None = None) -> str | None:
    """The value of environment variable ``name`` (``None`` when unset or blank), falling back to
    its deprecated name ``legacy`` (by default the one in :data:`LEGACY_NAMES`).

    Example:
        >>> import os
        >>> os.environ["NXM_DOC_EXAMPLE"] = "/old/place"
        >>> setting("NXMBENCH_DOC_EXAMPLE", legacy="NXM_DOC_EXAMPLE")  # and a note on stderr, once
        '/old/place'
        >>> del os.environ["NXM_DOC_EXAMPLE"]
    """
    value = os.environ.get(name, "").strip()
    if value:
        return value
    legacy = legacy or LEGACY_NAMES.get(name)
    old = os.environ.get(legacy, "").strip() if legacy else ""
    if not (legacy and old):
        return None
    with _lock:
        first = legacy not in _noted
        _noted.add(legacy)
    if first:
        print(
            f"note: the environment variable {legacy} is deprecated: rename it to {name} "
            "(its value is used for now)",
            file=sys.stderr,
        )
    return old


def legacy_values() -> dict[str, str]:
    """Current name → value, for each deprecated name that is set while its current name is not:
    what a child process gets under the current name, so that it neither misses the value nor
    repeats the note.

    Example:
        >>> isinstance(legacy_values(), dict)
        True
    """
    return {
        name: value
        for name in LEGACY_NAMES
        if not os.environ.get(name, "").strip() and (value := setting(name)) is not None
    }
