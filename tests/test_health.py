"""Heartbeats and the watchdog: pings at the configured interval, and none once a component hangs."""

from __future__ import annotations

from collections.abc import Callable
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


class Rounds:
    """The watchdog's pause between rounds, on a fake clock: each records the interval asked for and
    what the round said to systemd, lets the interval pass at once, runs what the scene says happens
    meanwhile, and stops the pinger after ``count`` rounds."""

    def __init__(
        self,
        clock: FakeClock,
        listener: NotifyListener,
        count: int,
        meanwhile: Callable[[int], None] = lambda _round: None,
    ) -> None:
        self.clock = clock
        self.listener = listener
        self.count = count
        self.meanwhile = meanwhile
        self.intervals: list[float] = []
        self.said: list[list[str]] = []  # per round (a datagram is queued before send() returns)

    def __call__(self, seconds: float) -> bool:
        self.intervals.append(seconds)
        self.said.append(self.listener.messages(timeout=0.01))
        self.clock.now += seconds
        self.meanwhile(len(self.intervals))
        return len(self.intervals) == self.count

    def run(self, watchdog: Watchdog) -> None:
        """Start the pinger thread and let it run its rounds."""
        watchdog.start()
        thread = watchdog._thread
        assert thread is not None, "the watchdog did not start"
        thread.join(timeout=30)
        assert not thread.is_alive(), f"the pinger is stuck after {len(self.intervals)} rounds"
        watchdog.stop()


def test_pings_arrive_at_half_of_watchdog_usec(listener: NotifyListener, monkeypatch: pytest.MonkeyPatch) -> None:
    """WatchdogSec=1 s in the unit means WATCHDOG_USEC=1000000 and a ping every 0.5 s."""
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    clock = FakeClock()
    health = Health(clock)
    health.register("gui", deadline_s=60)
    rounds = Rounds(clock, listener, count=4)
    watchdog = Watchdog(health, SystemdNotifier(listener.address), wait=rounds)
    assert watchdog.interval_s == pytest.approx(0.5)
    rounds.run(watchdog)
    assert rounds.intervals == [pytest.approx(0.5)] * 4  # half of WatchdogSec: one late ping is no restart
    assert rounds.said == [["WATCHDOG=1"]] * 4  # a ping every round


def test_a_hung_pipeline_stops_the_pings_and_a_recovery_resumes_them(listener: NotifyListener) -> None:
    clock = FakeClock()
    health = Health(clock)
    health.register("gui", deadline_s=60)
    health.register("pipeline", deadline_s=0.32)

    def pipeline(round_: int) -> None:
        """Beats after rounds 1-3, hangs inside a model through round 13, beats again from round 14."""
        if not 4 <= round_ < 14:
            health.beat("pipeline")

    rounds = Rounds(clock, listener, 18, pipeline)
    rounds.run(Watchdog(health, SystemdNotifier(listener.address), interval_s=0.05, wait=rounds))
    ping = ["WATCHDOG=1"]
    assert rounds.said == [
        *[ping] * 10,  # silent 0.30 s by round 10: within its deadline
        ["STATUS=hung: pipeline silent for 0 s"],  # 0.35 s: overdue, no ping, said once
        *[[]] * 3,
        ["WATCHDOG=1", "STATUS=running"],  # it beat again: pings resume at once
        *[ping] * 3,
    ], rounds.said


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
