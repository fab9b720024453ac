"""Refuse an output folder that cannot be written before any work is done.

A report, an export or a subset selection can take minutes; finding only at the end that its
``--out`` is a typo (a folder inside a file, a read-only mount) would lose that work. Every
command of ``python -m analysis`` that writes a folder calls :func:`check_out_folder` first.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     check_out_folder(Path(tmp) / "new" / "report", "--out", "new/report")
    ...     (Path(tmp) / "new").exists()  # checked, not created: a refused command leaves nothing
    False
    >>> try:
    ...     check_out_folder(Path("/proc/no/such"), "--out", "/proc/no/such")
    ... except ValueError as exc:
    ...     print(str(exc).split(" is ")[0])
    --out '/proc/no/such'
"""

from __future__ import annotations

import tempfile
from pathlib import Path


def check_out_folder(folder: Path, flag: str, given: str) -> None:
    """Check that ``folder`` can be created (or is a folder) and written, leaving nothing behind.

    A missing folder is checked by creating and removing its first missing component in the
    nearest existing ancestor; an existing one by writing and removing a probe file. Raises
    ``ValueError`` with one line naming the option ``flag`` and the value ``given``.
    """
    existing = first_missing = folder
    while not existing.exists() and existing != existing.parent:
        first_missing, existing = existing, existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(20, f"{existing} is a file")
        if existing == folder:
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test~"):
                pass
        else:
            first_missing.mkdir()
            first_missing.rmdir()
    except OSError as exc:
        raise ValueError(
            f"{flag} {given!r} is not writable ({exc.strerror or type(exc).__name__}): "
            "choose a writable folder"
        ) from exc
