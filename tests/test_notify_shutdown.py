"""SIGTERM becomes an orderly shutdown: STOPPING=1, then every cleanup, newest first, exit 0."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mirror.lifecycle import Lifecycle, Terminated, interrupt_on_terminate
from mirror.notify import SystemdNotifier
from tests.conftest import ROOT
from tests.test_notify import NotifyListener

SERVICE = """
import sys, time
from pathlib import Path
from mirror.lifecycle import Lifecycle, Terminated, interrupt_on_terminate
from mirror.notify import SystemdNotifier

log = Path(sys.argv[1])
def note(text):
    with log.open("a") as f:
        f.write(text + "\\n")

notifier = SystemdNotifier.from_env()
with Lifecycle(notifier) as life:
    life.on_stop(lambda: note("store closed"), "store")
    life.on_stop(lambda: 1 / 0, "a broken worker")
    life.on_stop(lambda: note("camera stopped"), "camera")
    notifier.ready("up")
    print("ready", flush=True)
    while not life.wait(0.05):
        note("tick")
note("exited " + life.reason)
"""


def test_sigterm_runs_every_cleanup_and_says_stopping(tmp_path: Path) -> None:
    listener = NotifyListener.at(tmp_path)
    log = tmp_path / "log.txt"
    env = {"NOTIFY_SOCKET": listener.address, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVICE, str(log)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
        listener.close()
    assert proc.returncode == 0, err
    lines = [line for line in log.read_text().splitlines() if line != "tick"]
    assert lines == ["camera stopped", "store closed", "exited SIGTERM"]
    assert "a broken worker failed to stop cleanly" in err
    assert "ZeroDivisionError" in err  # the failure is logged with its traceback, not swallowed


def test_messages_in_order_ready_then_stopping(tmp_path: Path) -> None:
    listener = NotifyListener.at(tmp_path)
    try:
        notifier = SystemdNotifier(listener.address)
        life = Lifecycle(notifier)
        notifier.ready()
        life.request_stop("test")
        life.shutdown()
        life.shutdown()  # idempotent: a second call sends nothing and runs nothing
        assert listener.messages() == ["READY=1", "STOPPING=1\nSTATUS=stopping: test"]
    finally:
        listener.close()


def test_cleanups_run_once_newest_first_even_after_a_failure() -> None:
    calls: list[str] = []
    life = Lifecycle()
    life.on_stop(lambda: calls.append("store"), "store")

    def broken() -> None:
        calls.append("worker")
        raise RuntimeError("stuck")

    life.on_stop(broken, "worker")
    life.on_stop(lambda: calls.append("camera"), "camera")
    life.shutdown()
    life.shutdown()
    assert calls == ["camera", "worker", "store"]
    assert life.stop_requested


def test_a_signal_wakes_a_blocking_main_loop_and_handlers_are_restored() -> None:
    woken: list[bool] = []
    before = signal.getsignal(signal.SIGTERM)
    with Lifecycle(wake=lambda: woken.append(True)) as life:
        signal.raise_signal(signal.SIGTERM)
        assert life.wait(1.0)
        assert life.reason == "SIGTERM"
    assert woken == [True]
    assert signal.getsignal(signal.SIGTERM) is before


def test_leaving_the_block_on_an_exception_still_cleans_up() -> None:
    closed: list[str] = []
    with pytest.raises(KeyError), Lifecycle() as life:
        life.on_stop(lambda: closed.append("store"), "store")
        raise KeyError("boom")
    assert closed == ["store"]


def test_interrupt_on_terminate_unwinds_with_blocks_and_restores_the_handler() -> None:
    closed: list[str] = []
    before = signal.getsignal(signal.SIGTERM)

    class Resource:
        def __enter__(self) -> Resource:
            return self

        def __exit__(self, *exc: object) -> None:
            closed.append("store")

    with pytest.raises(Terminated, match="SIGTERM"), interrupt_on_terminate(), Resource():
        signal.raise_signal(signal.SIGTERM)
        closed.append("not reached")
    assert closed == ["store"]
    assert signal.getsignal(signal.SIGTERM) is before
    assert issubclass(Terminated, KeyboardInterrupt)  # main() maps it to exit code 130 like Ctrl-C
