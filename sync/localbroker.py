"""A private mosquitto on a loopback port: for the sync benchmark and the tests.

Own config, own persistence folder (``persistence true``), a free port; :meth:`Mosquitto.kill`
(SIGKILL) and :meth:`Mosquitto.start` again keep port and persistence, so tests can crash it.
A port found free can be taken by another process before mosquitto binds it: :meth:`Mosquitto.start`
then moves to another free port (first start) or waits for its own (a restart: clients know it).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

#: How long :meth:`Mosquitto.start` keeps trying a port it must keep while another process holds it.
PORT_BUSY_S = 10.0
#: How many other free ports a first start tries when the one it found is taken meanwhile.
PORT_MOVES = 5
ADDRESS_IN_USE = "Address already in use"
_RUNNING = re.compile(r"mosquitto version \S+ running")  # logged once every listener is bound


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None
    )


class Mosquitto:
    """One broker process; :meth:`kill` (SIGKILL) and :meth:`start` again keep port and persistence."""

    def __init__(self, workdir: Path, extra_conf: str = "", anonymous: bool = True, port: int | None = None) -> None:
        """``port``: the one to listen on, kept whatever happens; by default a free one, which the
        first start may trade for another if a different process takes it meanwhile."""
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError("mosquitto is not installed; scripts/test.sh installs it (apt mosquitto)")
        self.binary = binary
        self.workdir = workdir
        self.port = port if port is not None else free_port()
        self._port_kept = port is not None  # given, or clients have seen it: never moved
        workdir.mkdir(parents=True, exist_ok=True)
        self.data = workdir / "data"
        self.data.mkdir(exist_ok=True)
        self.log = workdir / "mosquitto.log"
        self.conf = workdir / "mosquitto.conf"
        self._settings = [
            f"allow_anonymous {'true' if anonymous else 'false'}",
            "persistence true",
            f"persistence_location {self.data}/",
            "autosave_interval 1",
            "max_queued_messages 0",
            "max_inflight_messages 100",
            f"log_dest file {self.log}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",  # its "running" line says the listener is bound
        ]
        if os.geteuid() == 0:
            self._settings.append("user root")  # else mosquitto drops to user 'mosquitto', who cannot write tmp_path
        self._extra_conf = extra_conf
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Mosquitto:
        """Run the broker; return once it listens on :attr:`port`.

        If another process holds the port, a first start on a port of its own choosing moves to
        another free one (up to ``PORT_MOVES`` times); a restart, or a port given by the caller,
        keeps it and tries again for up to ``PORT_BUSY_S``. Anything else: RuntimeError.
        """
        deadline = time.monotonic() + PORT_BUSY_S
        delay, moves = 0.05, 0
        while True:
            failure = self._run()
            if failure is None:
                self._port_kept = True  # clients know this port now: a restart keeps it
                return self
            if ADDRESS_IN_USE in failure and not self._port_kept and moves < PORT_MOVES:
                moves += 1
                self.port = free_port()
            elif ADDRESS_IN_USE in failure and self._port_kept and time.monotonic() < deadline:
                time.sleep(delay)
                delay = min(1.0, delay * 2)
            else:
                raise RuntimeError(f"mosquitto did not start on port {self.port}: {failure[-2000:]}")

    def _run(self, timeout: float = 10.0) -> str | None:
        """One try: ``None`` once the broker listens, else what it said (its log and stderr) as it failed."""
        self.conf.write_text("\n".join([f"listener {self.port} 127.0.0.1", *self._settings]) + "\n" + self._extra_conf)
        offset = self.log.stat().st_size if self.log.exists() else 0
        # A session of its own: a Ctrl-C at the terminal goes to the process that started the broker, which
        # stops it when it is done; the same Ctrl-C killing the broker too would pull it out from under that
        # process's last steps (a bench's drain, a test's clean-up).
        command = [self.binary, "-c", str(self.conf)]
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        self.proc = proc
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if _RUNNING.search(self._log_since(offset)):
                return None
            if proc.poll() is not None:
                self.proc = None
                stderr = proc.communicate()[1].decode(errors="replace")
                return f"{self._log_since(offset)}{stderr}(exit status {proc.returncode})"
            time.sleep(0.01)
        self.stop()
        return f"not listening after {timeout:.0f} s: {self._log_since(offset)}"

    def _log_since(self, offset: int) -> str:
        if not self.log.exists():
            return ""
        with self.log.open("rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
