"""Tell systemd how the mirror is doing: the ``sd_notify`` protocol, in a few lines.

The unit is ``Type=notify``: systemd counts the mirror as started only when it says
``READY=1`` (models loaded, UI up), kills and restarts it when the ``WATCHDOG=1`` pings
stop (see :mod:`mirror.health`), and shows ``STATUS=`` lines in ``systemctl status``.

Why not a library: the protocol is one datagram of ``KEY=VALUE`` lines sent to the
``AF_UNIX`` socket named in ``$NOTIFY_SOCKET`` (a path, or ``@name`` for Linux's abstract
namespace, which has to become a leading NUL byte). ``systemd-python`` has no wheel: it
builds against libsystemd's headers with a compiler, or comes from apt, which the dev venv
and CI would then need too. ``sdnotify`` has had no release since 2017 and hides every
error. Thirty lines with no dependency, tested against a real socket, are the smaller risk.

How the UI uses it (ui/app.py)::

    notifier = SystemdNotifier.from_env()        # a no-op when not run by systemd
    watchdog = Watchdog(HEALTH, notifier).start()  # pings only while all components beat
    ...                                           # load models, show the window
    notifier.ready("showing the mirror")          # systemd: started
    ...                                           # event loop
    notifier.stopping()                           # before closing the store
    watchdog.stop()
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Mapping

log = logging.getLogger(__name__)


class SystemdNotifier:
    """Sends notify messages to systemd; every method is a harmless no-op outside systemd.

    Sending never raises: the mirror must keep working when the socket goes away (for
    example when run by hand with a stale ``$NOTIFY_SOCKET``); failures are logged once.
    """

    def __init__(self, address: str | None) -> None:
        """``address`` is ``$NOTIFY_SOCKET``'s value (``/path`` or ``@abstract``), or None."""
        self.address = address
        self._target: str | bytes | None = _socket_target(address) if address else None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()  # the watchdog thread and the main thread both send
        self._warned = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SystemdNotifier:
        """The notifier for ``$NOTIFY_SOCKET``; disabled when it is unset (not under systemd)."""
        env = os.environ if environ is None else environ
        return cls(env.get("NOTIFY_SOCKET") or None)

    @property
    def enabled(self) -> bool:
        """True when messages go somewhere (the process was started by systemd)."""
        return self._target is not None

    def ready(self, status: str | None = None) -> bool:
        """Start-up is complete: models loaded and the UI (or the headless core) running."""
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def stopping(self, status: str | None = "stopping") -> bool:
        """Shutdown has begun; systemd stops expecting watchdog pings."""
        return self.send("STOPPING=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        """A one-line state shown by ``systemctl status smart-mirror``."""
        return self.send(f"STATUS={text}")

    def watchdog(self) -> bool:
        """One keep-alive ping; call it through :class:`mirror.health.Watchdog`, not directly."""
        return self.send("WATCHDOG=1")

    def send(self, *fields: str) -> bool:
        """Send ``fields`` as one datagram; True when it was sent."""
        if self._target is None:
            return False
        payload = "\n".join(fields).encode()
        try:
            with self._lock:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.sendto(payload, self._target)
        except OSError as exc:
            if not self._warned:
                log.warning("cannot notify systemd at %s (%s); continuing without it", self.address, exc)
                self._warned = True
            return False
        return True

    def close(self) -> None:
        """Release the socket (the notifier can still be used; it reopens on demand)."""
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


def _socket_target(address: str) -> str | bytes | None:
    """The ``sendto`` address: a path, or a NUL-prefixed abstract name for ``@name``."""
    if address.startswith("@"):
        return b"\0" + address[1:].encode()
    if address.startswith("/"):
        return address
    # systemd 253+ can also hand out vsock: addresses (for VMs); a mirror never sees one.
    log.warning("ignoring unsupported NOTIFY_SOCKET %r", address)
    return None


def watchdog_interval(environ: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """Seconds between watchdog pings (half of ``$WATCHDOG_USEC``), or None when not asked for.

    systemd sets ``WATCHDOG_PID`` too; when it names another process (a child that
    inherited the environment), the pings are not this process's job.
    """
    env = os.environ if environ is None else environ
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    owner = env.get("WATCHDOG_PID")
    if usec <= 0 or (owner and owner.isdigit() and int(owner) != (os.getpid() if pid is None else pid)):
        return None
    return usec / 2 / 1_000_000
