"""A plugin module that fails when imported (a bug in a user's optimizer or task module)."""

raise RuntimeError("plugin bug at import time")
