"""Keep a runtime's native start-up chatter off the mirror's stderr, and lose nothing else.

The LiteRT interpreter prints ``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.``
straight to file descriptor 2 from C++ the first time a model is allocated; Python's
logging cannot filter it and LiteRT has no Python switch for it. On the Pi that line lands
in the journal, and ``analyze``/``doctor`` users see it as if something had gone wrong.

:func:`relay_native_stderr` points descriptor 2 at a temporary file for the duration of a
model load, then restores it and replays what was written: the known informational lines
go to the log at DEBUG, every other byte goes back to stderr unchanged, so a real error
from the runtime (or a log line from another thread during those milliseconds) still shows.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

#: Lines a runtime prints on a normal start; they are logged at DEBUG instead of shown.
QUIET_PREFIXES = (
    b"INFO: Created TensorFlow Lite XNNPACK delegate",
    b"INFO: Initialized TensorFlow Lite runtime",
)

# One relay at a time: two overlapping ones would restore descriptor 2 in the wrong order.
_lock = threading.Lock()


@contextmanager
def relay_native_stderr() -> Iterator[None]:
    """Capture descriptor 2 while the block runs; replay all but :data:`QUIET_PREFIXES`."""
    with _lock:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):
            # No usable descriptor 2 (closed by a supervisor): nothing to protect.
            yield
            return
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                _flush_quietly()
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                _replay(sink.read())


def _flush_quietly() -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.flush()


def _replay(captured: bytes) -> None:
    """Log the known informational lines; write everything else back to descriptor 2."""
    keep = bytearray()
    for line in captured.splitlines(keepends=True):
        if line.startswith(QUIET_PREFIXES):
            log.debug("runtime: %s", line.decode("utf-8", "replace").rstrip())
        else:
            keep += line
    if keep:
        with contextlib.suppress(OSError):
            os.write(2, bytes(keep))
