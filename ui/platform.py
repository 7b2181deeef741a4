"""Choose the Qt platform before QApplication exists.

A mirror started where there is no display (CI, ssh, a Pi before its panel is attached)
must not crash in Qt's platform plugin: fall back to ``offscreen`` and say so.
"""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping

log = logging.getLogger(__name__)


def choose_platform(environ: MutableMapping[str, str] | None = None) -> bool:
    """Set ``QT_QPA_PLATFORM=offscreen`` when nothing can show a window; return True if so."""
    env = os.environ if environ is None else environ
    if env.get("QT_QPA_PLATFORM"):
        return env["QT_QPA_PLATFORM"] == "offscreen"
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return False
    env["QT_QPA_PLATFORM"] = "offscreen"
    log.warning("no display found (DISPLAY/WAYLAND_DISPLAY unset): using Qt's offscreen platform")
    return True
