"""A real mosquitto for tests (see sync.localbroker) and a TCP proxy whose link can be cut.

Nothing here mocks MQTT: the broker is the Debian ``mosquitto`` binary that scripts/test.sh
installs, run with ``persistence true`` so a SIGKILL + restart behaves like the real thing.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

from sync.localbroker import Mosquitto, free_port, mosquitto_binary

__all__ = ["Mosquitto", "TcpProxy", "closed_port", "free_port", "mosquitto_binary"]


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port held bound but not listening: every connection to it is refused while the
    block runs, whatever else runs on this machine (a port merely found free could be taken)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


class TcpProxy:
    """Loopback TCP forwarder whose link can be cut (connections dropped, new ones refused) and restored."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._server = socket.create_server(("127.0.0.1", 0))  # bound at once: no port to lose meanwhile
        self.port = int(self._server.getsockname()[1])
        self._server.settimeout(0.1)
        self._blocked = threading.Event()
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def cut(self) -> None:
        self._blocked.set()
        with self._lock:
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
            self._sockets.clear()

    def restore(self) -> None:
        self._blocked.clear()

    def close(self) -> None:
        self._closing.set()
        self.cut()
        self._thread.join(2)
        self._server.close()

    def _accept_loop(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._blocked.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
