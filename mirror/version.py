"""Which software this is: the package version and, on an installed mirror, the commit it came from.

Why the commit: every install from a checkout says 0.1.0, so "which one is running?" (before an
update, when going back, in a bug report) needs the ``REVISION`` file that ``scripts/install-pi.sh``
writes beside the app (``/opt/smart-mirror/app/REVISION``).
"""

from __future__ import annotations

from pathlib import Path

from mirror import __version__

APP_ROOT = Path(__file__).resolve().parent.parent
"""The folder holding ``mirror/`` (the checkout, or the installed app)."""


def revision(root: Path | None = None) -> str:
    """The installed commit from ``root/REVISION`` (default :data:`APP_ROOT`; "" when there is none: a
    checkout run in place)."""
    try:
        return ((root or APP_ROOT) / "REVISION").read_text(encoding="utf-8").strip()[:40]
    except (OSError, UnicodeDecodeError):
        return ""


def describe(root: Path | None = None) -> str:
    """``0.1.0`` or ``0.1.0 (commit 1a2b3c4)``."""
    commit = revision(root)
    return f"{__version__} (commit {commit})" if commit else __version__
