"""A wall clock that is certainly wrong (a Pi without RTC after a power cut, before NTP).

The closet keeps its order and ``updated_at >= created_at`` (new versions are stamped just
after the newest one), doctor fails the clock, and the service shows ``clock: not set``.
Real SQLite files; the clock is the only thing faked (``mirror.store.closet.now_ms``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path

import pytest

from mirror.config import Settings
from mirror.doctor.report import Outcome
from mirror.doctor.system import Machine, check_clock
from mirror.events import AnalysisStarted, Error, Event, FrameReady, Level, StatusChanged
from mirror.health import Health
from mirror.service import MirrorService
from mirror.store import ClosetStore, Color
from mirror.store.samples import synthetic_draft
from mirror.wallclock import EARLIEST_PLAUSIBLE_YEAR, clock_problem, not_before
from tests.test_deploy_doctor import only, runner
from tests.test_service import fast_settings, wait_for

UTC = dt.UTC
RIGHT = dt.datetime(2026, 11, 20, 18, 30, tzinfo=UTC)
BEHIND = RIGHT - dt.timedelta(days=3)  # the last clock save before a three-day power cut


class FakeClock:
    """Stands in for ``now_ms``: reads ``at`` (settable), one millisecond later at each call."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at
        self.synchronised: bool | None = False  # what the kernel says: NTP has not answered (yet)

    def __call__(self) -> dt.datetime:
        self.at += dt.timedelta(milliseconds=1)
        return self.at


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(RIGHT)
    monkeypatch.setattr("mirror.store.closet.now_ms", fake)
    monkeypatch.setattr("mirror.store.closet.kernel_synchronised", lambda: fake.synchronised)
    return fake


def test_clock_problem_names_a_year_before_the_software_and_a_time_before_the_newest_garment() -> None:
    assert clock_problem(dt.datetime(1970, 1, 1, tzinfo=UTC), None) == "it reads 1970-01-01"
    assert clock_problem(dt.datetime(EARLIEST_PLAUSIBLE_YEAR, 1, 1, tzinfo=UTC), None) == ""
    assert "before the newest garment (2026-11-20 18:30 UTC)" in clock_problem(BEHIND, RIGHT)
    assert clock_problem(RIGHT - dt.timedelta(seconds=30), RIGHT) == ""  # an NTP slew, not a wrong clock
    assert clock_problem(RIGHT, None) == ""
    assert not_before(BEHIND, RIGHT) == RIGHT + dt.timedelta(milliseconds=1)
    assert not_before(RIGHT, BEHIND) == RIGHT and not_before(RIGHT, None) == RIGHT


def test_a_clock_set_back_keeps_the_closet_in_order(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        before = store.add(synthetic_draft(1, image_kb=1))
        assert before.created_at > RIGHT
        clock.at = BEHIND  # the power cut: the Pi boots at its last save, three days back
        with caplog.at_level(logging.WARNING, logger="mirror.store.closet"):
            after = [store.add(synthetic_draft(i, image_kb=1)) for i in (2, 3)]
        assert after[0].created_at == before.created_at + dt.timedelta(milliseconds=1)
        assert after[1].created_at > after[0].created_at
        assert [r.id for r in store.list()] == [after[1].id, after[0].id, before.id]  # newest first, as added
        warnings = [r.getMessage() for r in caplog.records if "the clock reads" in r.getMessage()]
        assert len(warnings) == 1, warnings  # said once, not per garment
        assert "until the clock is set (NTP)" in warnings[0]

        edited = store.edit(before.id, color=Color("navy", "blue", "#1f2a44"))
        assert edited.updated_at > before.updated_at and edited.updated_at >= edited.created_at
        deleted = store.delete(after[0].id)
        assert deleted.updated_at >= deleted.created_at
        assert store.newest_time() == after[1].created_at

        clock.at = RIGHT + dt.timedelta(days=3)  # NTP answered: the real time again
        later = store.add(synthetic_draft(4, image_kb=1))
        assert later.created_at > RIGHT + dt.timedelta(days=3)


def test_an_edit_never_predates_the_version_it_replaces(tmp_path: Path, clock: FakeClock) -> None:
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        record = store.add(synthetic_draft(1, image_kb=1))
        clock.at = BEHIND
        first = store.edit(record.id, category="shirt")
        second = store.edit(record.id, category="dress")
        assert record.updated_at < first.updated_at < second.updated_at


def test_doctor_fails_a_clock_behind_the_newest_garment(tmp_path: Path, clock: FakeClock) -> None:
    settings = Settings()
    settings = dataclasses.replace(settings, store=dataclasses.replace(settings.store, data_dir=str(tmp_path)))
    machine = Machine(tmp_path, {}, runner({"timedatectl": (0, "no\n")}))  # NTP has not answered
    assert only(check_clock(settings, machine, BEHIND)).status is Outcome.WARN  # no closet yet: only "not synced"
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        store.add(synthetic_draft(1, image_kb=1))
    finding = only(check_clock(settings, machine, BEHIND))
    assert finding.status is Outcome.FAIL
    assert "before the newest garment (2026-11-20 18:30 UTC)" in finding.message
    assert "NTP" in (finding.fix or "")
    synced = Machine(tmp_path, {}, runner({"timedatectl": (0, "yes\n")}))
    assert only(check_clock(settings, synced, RIGHT + dt.timedelta(minutes=5))).status is Outcome.OK
    # NTP set the clock, and the garment is "after now": the clock was ahead when it was made
    ahead = only(check_clock(settings, synced, BEHIND))
    assert ahead.status is Outcome.OK and "dated by a clock that was ahead" in ahead.message


def test_the_service_says_the_clock_is_not_set(tmp_path: Path, clock: FakeClock) -> None:
    settings = fast_settings(tmp_path)
    clock.at = dt.datetime.now(UTC) + dt.timedelta(days=2)  # the closet was filled "two days from now"
    with ClosetStore.open(settings.store.path(), "test-mirror", min_free_mb=0) as store:
        store.add(synthetic_draft(1, image_kb=1))
    seen: list[Event] = []
    with MirrorService(settings, health=Health()) as service:
        wrong = wait_for(
            service.events, lambda e: isinstance(e, StatusChanged) and e.status.clock.level is Level.WARN, 20, seen
        )
        assert isinstance(wrong, StatusChanged)
        assert wrong.status.clock.text == "clock: not set"
        assert "clock: not set" in wrong.status.line()


def test_a_full_closet_disk_holds_auto_capture_and_the_browse_hold_survives_it(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path)
    service = MirrorService(settings, health=Health())  # not started: the machine is held directly
    machine = service._machine
    service._hold("storage_full", True)
    assert machine._held_off
    service.hold_auto_capture(True)
    service._hold("storage_full", False)
    assert machine._held_off, "space came back while the person browses: still held"
    service.hold_auto_capture(False)
    assert not machine._held_off
    service.stop()


def test_the_status_tick_holds_auto_capture_while_storage_is_full(tmp_path: Path) -> None:
    base = fast_settings(tmp_path)
    settings = dataclasses.replace(base, store=dataclasses.replace(base.store, min_free_mb=10**9))
    seen: list[Event] = []
    with MirrorService(settings, health=Health()) as service:
        wait_for(
            service.events, lambda e: isinstance(e, StatusChanged) and e.status.storage.level is Level.ERROR, 20, seen
        )
        assert service._machine._held_off
        wait_for(service.events, lambda e: isinstance(e, FrameReady), 20, seen)  # the camera is up
        assert service.command("capture").startswith("storage_full: the closet's disk is full")
        service.capture_now()  # a manual capture is refused before the shot, with the fix
        refused = wait_for(service.events, lambda e: isinstance(e, Error), 10, seen)
        assert isinstance(refused, Error) and refused.about == "storage" and "is full" in refused.message
        assert "delete garments" in refused.fix
        assert not any(isinstance(e, AnalysisStarted) for e in seen)
        assert service._closet.store is not None
        service._closet.store.min_free_mb = 0  # room again, as after deleting files (the store owns its floor)
        wait_for(
            service.events, lambda e: isinstance(e, StatusChanged) and e.status.storage.level is Level.OK, 20, seen
        )
        assert not service._machine._held_off
        assert service.command("capture") == ""


def test_once_ntp_has_set_the_clock_a_garment_dated_ahead_does_not_pin_the_later_ones(
    tmp_path: Path, clock: FakeClock
) -> None:
    """One capture while the clock was five years ahead (set by hand), then deleted: every later garment
    was stamped just after it, in the future, for good, and Home said "clock: not set" for ever."""
    with ClosetStore.open(tmp_path, "dev-a", min_free_mb=0) as store:
        clock.at = RIGHT + dt.timedelta(days=5 * 365)
        ahead = store.add(synthetic_draft(1, image_kb=1))
        store.delete(ahead.id)
        clock.at, clock.synchronised = RIGHT, True  # NTP corrected it
        later = store.add(synthetic_draft(2, image_kb=1))
        assert RIGHT < later.created_at < RIGHT + dt.timedelta(seconds=1)
        assert store.newest_time() is None  # nothing for the clock to be measured against
        clock.synchronised = False  # and without NTP the closet's order is kept as before
        assert store.add(synthetic_draft(3, image_kb=1)).created_at > ahead.created_at
