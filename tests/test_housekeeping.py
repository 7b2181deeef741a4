"""The periodic checks and the status board, on a real closet: what each look says, when it looks,
and that a failing look never escapes into the thread that runs it."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import mirror.housekeeping
from mirror.events import STORAGE_FULL, Error, Event, Level, Status, StatusChanged, StatusPart
from mirror.housekeeping import Housekeeper
from mirror.status_board import StatusBoard
from mirror.store import ClosetStore
from mirror.synclink import SyncLink


class Link:
    """A sync link as far as the checks see one: connected or not."""

    def __init__(self, connected: bool) -> None:
        self.connected = connected

    def start(self) -> None:
        """Nothing to start."""

    def stop(self, timeout: float = 5.0) -> bool:
        """Nothing to stop."""
        return True


class Clock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Rig:
    """A housekeeper over a closet in ``tmp_path`` with everything it calls out to recorded."""

    def __init__(self, tmp_path: Path, *, min_free_mb: int = 0, link: SyncLink | None = None) -> None:
        self.events: list[Event] = []
        self.clock = Clock()
        self.board = StatusBoard(Status(), self.events.append, self.clock)
        self.store: ClosetStore | None = ClosetStore.open(tmp_path / "closet", "test-mirror", min_free_mb=min_free_mb)
        self.link = link
        self.holds: list[bool] = []  # for a full disk
        self.closed: list[bool] = []  # for a closet not open or unreadable
        self.reopened = 0
        self.keeper = Housekeeper(
            tmp_path / "closet",
            self.board,
            store=lambda: self.store,
            link=lambda: self.link,
            hold=self.hold,
            reopen_store=self._reopen,
            clock=self.clock,
        )

    def _reopen(self) -> None:
        self.reopened += 1

    def hold(self, reason: str, on: bool) -> None:
        (self.holds if reason == STORAGE_FULL else self.closed).append(on)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = Rig(tmp_path)
    yield made
    made.close()


def test_the_board_says_a_change_once_and_a_failure_to_the_person() -> None:
    events: list[Event] = []
    board = StatusBoard(Status(), events.append, lambda: 1.0)
    board.set(sync=StatusPart("sync", "online"))
    board.set(sync=StatusPart("sync", "online"))  # the checks repeat: no second event
    assert [type(e) for e in events] == [StatusChanged]
    board.fail("models", "The models are gone", "reinstall", "model.json: missing")
    assert board.current().models.level is Level.ERROR
    error = events[-1]
    assert isinstance(error, Error) and (error.message, error.fix, error.about) == (
        "The models are gone",
        "reinstall",
        "models",
    )


def test_a_look_says_storage_clock_and_the_outbox(tmp_path: Path) -> None:
    rig = Rig(tmp_path, link=Link(connected=False))
    try:
        rig.keeper.refresh()
        status = rig.board.current()
        assert status.storage.text == "storage: ok" and status.clock.level is Level.OK
        assert status.sync.detail == "offline (0 waiting)" and status.sync.level is Level.WARN
        assert rig.holds == [False]
    finally:
        rig.close()


def test_a_closet_not_open_holds_auto_capture_until_it_opens(tmp_path: Path) -> None:
    """A damaged closet.db, or a disk full to the last byte: every garment held up was shot, analysed and
    shown "Keeping it in 1 s…", then refused, while Home had Capture greyed out."""
    rig = Rig(tmp_path)
    store, rig.store = rig.store, None  # not opened (yet)
    try:
        rig.keeper.refresh()
        assert rig.closed == [True] and rig.holds == []
        rig.store = store  # opened by a later retry
        rig.keeper.refresh()
        assert rig.closed == [True, False] and rig.holds == [False]
    finally:
        rig.store = store
        rig.close()


def test_a_full_disk_holds_auto_capture_until_it_has_room(tmp_path: Path) -> None:
    rig = Rig(tmp_path, min_free_mb=10**9)  # no disk has a petabyte free
    try:
        rig.keeper.refresh()
        assert rig.board.current().storage.reason == STORAGE_FULL
        assert rig.holds == [True]
        assert rig.store is not None
        rig.store.min_free_mb = 0
        rig.keeper.refresh()
        assert rig.board.current().storage.text == "storage: ok"
        assert rig.holds == [True, False]
    finally:
        rig.close()


def test_checks_run_when_due_and_not_before(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    rig.keeper.tick()
    assert rig.reopened == 1 and rig.keeper.storage_used > 0, "the first tick runs every check"
    rig.clock.now += mirror.housekeeping.STATUS_EVERY_S / 2
    rig.keeper.tick()
    assert len(rig.holds) == 1 and rig.reopened == 1, "nothing is due yet"
    rig.clock.now += mirror.housekeeping.STATUS_EVERY_S
    rig.keeper.tick()
    assert len(rig.holds) == 2 and rig.reopened == 1, "the status is due, the storage check is not"
    rig.clock.now += mirror.housekeeping.STORAGE_EVERY_S
    rig.keeper.tick()
    assert rig.reopened == 2


def test_a_failing_look_is_logged_once_and_never_raised(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    shutil.rmtree(rig.store.data_dir if rig.store is not None else "")  # its disk gone: every look fails
    with caplog.at_level(logging.WARNING, logger="mirror.housekeeping"):
        for _ in range(3):
            rig.keeper.refresh()
    assert rig.board.current().storage.text == "storage: unreadable"
    failed = [r for r in caplog.records if "checking the closet failed" in r.getMessage()]
    assert len(failed) == 1, "a check that fails every few seconds is logged once"
    assert rig.closed == [True] * 3, "a closet that cannot be read holds auto-capture"
    rig.store = None  # no closet: nothing to look at, nothing said

    def broken() -> None:
        raise RuntimeError("a bug in a check")

    keeper = Housekeeper(
        Path("/nonexistent"),
        rig.board,
        store=lambda: None,
        link=lambda: None,
        hold=rig.hold,
        reopen_store=broken,
        clock=rig.clock,
    )
    with caplog.at_level(logging.WARNING, logger="mirror.housekeeping"):
        keeper.tick()  # must not raise
    assert any(r.exc_info for r in caplog.records if "a bug in a check" in r.getMessage())
