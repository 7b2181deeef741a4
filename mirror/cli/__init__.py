"""The ``smart-mirror`` command line."""

from mirror.cli.main import main

__all__ = ["main"]
