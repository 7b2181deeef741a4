"""The sd_notify messages, checked against a real AF_UNIX datagram socket standing in for systemd."""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path

import pytest

from mirror.notify import SystemdNotifier, watchdog_interval


class NotifyListener:
    """A fake ``$NOTIFY_SOCKET``: a real datagram socket that collects what the mirror says."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(b"\0" + address[1:].encode() if address.startswith("@") else address)

    @classmethod
    def at(cls, folder: Path) -> NotifyListener:
        return cls(str(folder / "notify.sock"))

    def messages(self, timeout: float = 0.5) -> list[str]:
        """Every datagram received until ``timeout`` passes with nothing new."""
        got = []
        self.sock.settimeout(timeout)
        try:
            while True:
                got.append(self.sock.recv(4096).decode())
        except TimeoutError:
            return got

    def collect(self, seconds: float) -> list[str]:
        """Every datagram received during the next ``seconds`` (for periodic pings)."""
        got = []
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                got.append(self.sock.recv(4096).decode())
            except TimeoutError:
                break
        return got

    def close(self) -> None:
        self.sock.close()
        if not self.address.startswith("@"):
            Path(self.address).unlink(missing_ok=True)


@pytest.fixture
def listener(tmp_path: Path):
    fake = NotifyListener.at(tmp_path)
    yield fake
    fake.close()


def test_outside_systemd_every_call_is_a_silent_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = SystemdNotifier.from_env()
    assert not notifier.enabled
    assert not notifier.ready("up")
    assert not notifier.watchdog()
    assert not notifier.stopping()


def test_ready_status_watchdog_stopping_reach_the_socket(
    listener: NotifyListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", listener.address)
    notifier = SystemdNotifier.from_env()
    assert notifier.enabled
    assert notifier.ready("showing the mirror")
    assert notifier.status("3 records waiting")
    assert notifier.watchdog()
    assert notifier.stopping()
    notifier.close()
    assert listener.messages() == [
        "READY=1\nSTATUS=showing the mirror",
        "STATUS=3 records waiting",
        "WATCHDOG=1",
        "STOPPING=1\nSTATUS=stopping",
    ]


def test_abstract_namespace_address_is_handled() -> None:
    """systemd hands out ``@name`` addresses (e.g. in containers); '@' means a leading NUL."""
    fake = NotifyListener(f"@smart-mirror-test-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        notifier = SystemdNotifier.from_env({"NOTIFY_SOCKET": fake.address})
        assert notifier.ready()
        assert fake.messages() == ["READY=1"]
    finally:
        fake.close()


def test_a_vanished_socket_is_logged_once_never_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    notifier = SystemdNotifier(str(tmp_path / "gone.sock"))
    assert notifier.enabled
    assert not notifier.watchdog()
    assert not notifier.watchdog()
    assert sum("cannot notify systemd" in r.message for r in caplog.records) == 1


def test_unsupported_address_disables_the_notifier() -> None:
    assert not SystemdNotifier("vsock:2:1234").enabled


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "4242"}, 1.0),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}, None),
        ({}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
    ],
)
def test_watchdog_interval_is_half_of_watchdog_usec_for_this_pid(env: dict[str, str], expected: float | None) -> None:
    assert watchdog_interval(env, pid=4242) == expected
