"""One log format for every entry point.

Logs go to stderr (stdout carries ``analyze``'s JSON lines). Under systemd, journald adds
its own timestamps (it sets ``JOURNAL_STREAM``), so ours are left out there.
"""

from __future__ import annotations

import logging
import os
import sys


def configure_logging(verbose: bool = False) -> None:
    """Install the root handler: INFO (DEBUG with ``verbose``) to stderr."""
    under_journald = bool(os.environ.get("JOURNAL_STREAM"))
    fmt = "%(levelname)s %(name)s: %(message)s"
    if not under_journald:
        fmt = "%(asctime)s " + fmt
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(fmt, datefmt="%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # Third-party chatter stays at WARNING unless asked for.
    for noisy in ("PIL", "paho", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    # picamera2 logs an ERROR at every failed open ("Camera __init__ sequence did not complete"):
    # with the ribbon loose that is one line per retry; the camera supervisor says it once.
    logging.getLogger("picamera2").setLevel(logging.DEBUG if verbose else logging.CRITICAL)
