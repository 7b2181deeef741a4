"""The answer of a subcommand whose machinery has not landed yet."""

from __future__ import annotations

import sys

from mirror.cli import exitcodes


def not_available(what: str) -> int:
    """Say plainly that ``what`` is not in this version, and exit with code 3."""
    print(f"smart-mirror: {what} is not available yet in this version", file=sys.stderr)
    return exitcodes.NOT_AVAILABLE
