"""The analysis command line's argparse parser: bad options are one line, exit 2.

argparse's own ``error`` prints the whole usage block before the message. The suite's rule for bad
input is one line that names the bad value and what would be valid: argparse's message already
names both ("invalid choice: 'epochs' (choose from ...)", "unrecognized arguments: --bogus"), and
``--help`` lists the rest, so the line ends by pointing there.

Example:
    >>> import contextlib, io
    >>> p = OneLineParser(prog="python -m analysis report")
    >>> _ = p.add_argument("--x", choices=["trials", "budget_used"])
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     try:
    ...         p.parse_args(["--x", "epochs"])
    ...     except SystemExit as exc:
    ...         print(exc.code)
    2
    >>> line = err.getvalue()
    >>> len(line.splitlines()), line.startswith("error: argument --x: invalid choice: 'epochs' (choose from ")
    (1, True)
    >>> line.rstrip().endswith("; see python -m analysis report --help")
    True
"""

from __future__ import annotations

import argparse
from typing import NoReturn

__all__ = ["OneLineParser"]


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors (and its subcommands' errors) are one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        line = " ".join(message.split())  # one line even if a message holds a newline
        self.exit(2, f"error: {line}; see {self.prog} --help\n")
