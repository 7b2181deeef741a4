"""Heartbeats and the watchdog: pings at the configured interval, and none once a component hangs."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from mirror.health import Health, Watchdog
from mirror.notify import SystemdNotifier
from tests.test_notify import NotifyListener


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_component_is_overdue_only_after_its_deadline() -> None:
    clock = FakeClock()
    health = Health(clock)
    health.register("pipeline", deadline_s=30)
    health.register("gui", deadline_s=5)
    clock.now += 4
    assert health.healthy()
    clock.now += 2
    assert health.overdue() == {"gui": 6.0}
    health.beat("gui")
    assert health.healthy()
    clock.now += 31
    assert set(health.overdue()) == {"gui", "pipeline"}
    health.unregister("pipeline")
    health.unregister("gui")
    assert health.healthy()


def test_beats_from_unregistered_components_do_not_count() -> None:
    health = Health(FakeClock())
    health.beat("camera")
    assert health.overdue() == {}


def test_a_deadline_must_be_positive() -> None:
    with pytest.raises(ValueError, match="gui"):
        Health().register("gui", 0)


@pytest.fixture
def listener(tmp_path: Path):
    fake = NotifyListener.at(tmp_path)
    yield fake
    fake.close()


def test_pings_arrive_at_half_of_watchdog_usec(listener: NotifyListener, monkeypatch: pytest.MonkeyPatch) -> None:
    """WatchdogSec=1 s in the unit means WATCHDOG_USEC=1000000 and a ping every 0.5 s."""
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    health = Health()
    health.register("gui", deadline_s=60)
    watchdog = Watchdog(health, SystemdNotifier(listener.address))
    assert watchdog.interval_s == pytest.approx(0.5)
    arrivals: list[float] = []
    listener.sock.settimeout(2)
    watchdog.start()
    try:
        while len(arrivals) < 4:
            assert listener.sock.recv(64) == b"WATCHDOG=1"
            arrivals.append(time.monotonic())
    finally:
        watchdog.stop()
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    # Event.wait on a shared 2-core machine: generous bounds, but far from both 0 and WatchdogSec.
    assert 0.4 < sum(gaps) / len(gaps) < 0.65, gaps
    assert max(gaps) < 1.0, gaps  # never as late as WatchdogSec


def test_a_hung_pipeline_stops_the_pings_and_a_recovery_resumes_them(listener: NotifyListener) -> None:
    health = Health()
    health.register("gui", deadline_s=60)
    health.register("pipeline", deadline_s=0.3)
    hang = threading.Event()
    done = threading.Event()

    def pipeline_worker() -> None:
        while not done.is_set():
            if hang.is_set():
                time.sleep(0.01)  # stuck inside a model: no beats
                continue
            health.beat("pipeline")
            time.sleep(0.02)

    worker = threading.Thread(target=pipeline_worker, daemon=True)
    worker.start()
    watchdog = Watchdog(health, SystemdNotifier(listener.address), interval_s=0.05).start()
    try:
        healthy_phase = listener.collect(0.4)
        hang.set()
        listener.collect(0.6)  # past the 0.3 s deadline: drop what was sent before it passed
        hung_phase = listener.collect(0.5)
        hang.clear()
        recovered_phase = listener.collect(0.4)
    finally:
        done.set()
        watchdog.stop()
        worker.join()
    assert healthy_phase.count("WATCHDOG=1") >= 3
    assert "WATCHDOG=1" not in hung_phase, hung_phase
    assert recovered_phase[0] == "WATCHDOG=1"
    assert "STATUS=running" in recovered_phase


def test_the_hung_component_is_named_in_systemctl_status(listener: NotifyListener) -> None:
    clock = FakeClock()
    health = Health(clock)
    health.register("pipeline", deadline_s=30)
    watchdog = Watchdog(health, SystemdNotifier(listener.address), interval_s=15)
    assert watchdog.check_once()
    clock.now += 45
    assert not watchdog.check_once(True)
    assert not watchdog.check_once(False)  # said once, not every round
    assert listener.messages() == ["WATCHDOG=1", "STATUS=hung: pipeline silent for 45 s"]


def test_no_watchdog_configured_means_no_thread(monkeypatch: pytest.MonkeyPatch, listener: NotifyListener) -> None:
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    watchdog = Watchdog(Health(), SystemdNotifier(listener.address)).start()
    assert watchdog._thread is None
    watchdog.stop()
    assert listener.messages(timeout=0.1) == []
