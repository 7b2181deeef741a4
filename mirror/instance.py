"""One running mirror per closet.

Two ``smart-mirror run`` on one closet (an operator trying it over ssh while the service runs)
share its outbox and its MQTT client id: the broker throws each off in turn ("already
connected, closing old connection"), every few seconds, and both log only that the broker was
lost. So ``run`` claims the closet first and a second one refuses, naming the first.

Why an abstract UNIX socket rather than a lock file: it needs no folder (the store makes the
closet's, privately, at the first start, and a lock file elsewhere would be one more path to get
right), it is seen across users (the service user and the operator) and through the unit's
``PrivateTmp``, and the kernel frees it when the process ends, by ``kill -9`` or a power cut
too, so there is never a stale lock to keep the mirror down. The holder listens on it, so the
second process can learn its pid from the kernel (``SO_PEERCRED``) to name it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import struct
from pathlib import Path

#: The kernel's peer credentials: pid, uid, gid (``struct ucred``).
_UCRED = struct.Struct("3i")


class ClosetInUseError(Exception):
    """Another mirror runs on this closet."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        who = f"another mirror (pid {pid})" if pid else "another mirror"
        # Another data_dir alone is not enough with sync on: a new closet takes this machine's device id, and
        # with it the same MQTT client id, so the broker would still throw the two off in turn.
        super().__init__(
            f"{who} is already running on the closet {data_dir}; stop it first "
            "(sudo systemctl stop smart-mirror), or give this one its own [store] data_dir and [device] id"
        )
        self.pid = pid


def claim_closet(data_dir: Path) -> socket.socket:
    """Hold ``data_dir`` for this process until the returned socket is closed or the process ends.

    Raises :class:`ClosetInUseError` when another process holds it. The closet is named by its real
    path, so a symlink to it is the same closet.
    """
    name = _address(data_dir)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.bind(name)
        # Never accepted (a thread blocked in accept() would keep the name bound after close()): each second
        # mirror's probe stays queued, so the queue is as long as the kernel allows; past it, a refusal no
        # longer names the pid, and is right all the same.
        sock.listen(socket.SOMAXCONN)
    except OSError as exc:
        sock.close()
        if exc.errno != errno.EADDRINUSE:
            raise
        raise ClosetInUseError(data_dir, _holder(name)) from None
    return sock


def _address(data_dir: Path) -> bytes:
    """The abstract socket name for a closet (a leading NUL: in no folder; hashed, for its length limit)."""
    key = hashlib.sha256(os.fsencode(os.path.realpath(data_dir.expanduser()))).hexdigest()[:32]
    return b"\0smart-mirror-closet-" + key.encode()


def _holder(name: bytes) -> int | None:
    """The pid of the process listening on ``name``; None when it cannot be told (it just went away)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(name)
            pid, _uid, _gid = _UCRED.unpack(probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
        except OSError:
            return None
    return pid or None
