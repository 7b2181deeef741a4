"""The running mirror's hold on the closet: opened as its own, answered when it is not there."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import mirror.closet_access
from mirror.closet_access import ClosetAccess
from mirror.config import Settings
from mirror.events import Error, Event, Record, RecordDeleted, Status
from mirror.status_board import StatusBoard
from mirror.store import ClosetStore, StoreError
from mirror.store.samples import synthetic_draft


def settings(folder: Path) -> Settings:
    base = Settings()
    return dataclasses.replace(base, store=dataclasses.replace(base.store, data_dir=str(folder), min_free_mb=0))


def access(folder: Path, events: list[Event]) -> ClosetAccess:
    board = StatusBoard(Status(), events.append, lambda: 1.0)
    return ClosetAccess(settings(folder), board, emit=events.append, clock=lambda: 1.0, after_change=lambda: None)


def test_a_disk_mounted_between_reading_the_id_and_opening_is_opened_as_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The id was read while the mount point was empty (this machine's), the open found the mounted
    closet: it was opened under the machine's id, and garments kept from then on were another device's
    to the cloud (seen as a flaky test_service run)."""
    folder = tmp_path / "closet"
    with ClosetStore.open(folder, "mirror-hall", min_free_mb=0) as restored:
        restored.add(synthetic_draft(1))
    # At construction and at the open's first read the mount point was empty; then the disk came.
    reads = iter(["mirror-machine", "mirror-machine", "mirror-hall", "mirror-hall"])
    monkeypatch.setattr(mirror.closet_access, "device_id", lambda _settings: next(reads))
    events: list[Event] = []
    closet = access(folder, events)
    closet.open()
    assert closet.store is not None and closet.store.device_id == "mirror-hall"
    assert closet.device_id == "mirror-hall"
    closet.close()


def test_without_a_closet_reads_answer_nothing_and_changes_say_why(tmp_path: Path) -> None:
    (tmp_path / "closet").write_text("not mounted yet")
    events: list[Event] = []
    closet = access(tmp_path / "closet", events)
    closet.open()
    assert closet.store is None and closet.records() == [] and closet.unacked_ids() == set()
    assert closet.counts().garments == 0
    said = [e for e in events if isinstance(e, Error)]
    assert len(said) == 1 and "is a file, not a folder" in said[0].detail
    closet.open()  # retried: the same failure is not said again
    assert len([e for e in events if isinstance(e, Error)]) == 1
    closet.submit(lambda store: RecordDeleted("x", at=1.0))
    closet.close()  # waits for the job
    assert isinstance(events[-1], Error) and events[-1].message == "The closet can't be opened right now"
    with pytest.raises(StoreError, match="not open"):
        closet.image_path(synthetic_record(tmp_path), "cutout_png")
    closet.submit(lambda store: RecordDeleted("x", at=1.0))  # after close: the mirror is stopping
    assert isinstance(events[-1], Error) and events[-1].message == "The mirror is stopping"


def test_a_failed_change_is_answered_with_an_error_and_the_closet_kept(tmp_path: Path) -> None:
    events: list[Event] = []
    changed: list[int] = []
    board = StatusBoard(Status(), events.append, lambda: 1.0)
    folder = settings(tmp_path / "closet")
    closet = ClosetAccess(folder, board, emit=events.append, clock=lambda: 1.0, after_change=lambda: changed.append(1))
    closet.open()
    assert closet.store is not None
    closet.submit(lambda store: RecordDeleted(store.delete("no-such-id").id, at=1.0))
    closet.close()
    assert isinstance(events[-1], Error) and events[-1].message == "That garment is no longer in the closet"
    assert changed == [1], "the status line is looked at again after every change, failed or not"


def synthetic_record(tmp_path: Path) -> Record:
    with ClosetStore.open(tmp_path / "elsewhere", "mirror-a", min_free_mb=0) as store:
        return store.add(synthetic_draft(1))


def test_a_failed_open_keeps_the_id_and_a_later_open_takes_the_closets_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "closet"
    folder.write_text("not mounted yet")
    events: list[Event] = []
    closet = access(folder, events)
    first = closet.device_id
    closet.open()
    assert closet.store is None and closet.device_id == first, "a failed open changed the id"
    folder.unlink()
    with ClosetStore.open(folder, "mirror-hall", min_free_mb=0) as restored:  # the card, mounted
        restored.add(synthetic_draft(1))
    with caplog.at_level("INFO", logger="mirror.closet_access"):
        assert closet.reopen()
    assert closet.device_id == "mirror-hall" and closet.store is not None and closet.store.device_id == "mirror-hall"
    assert any("device id mirror-hall" in r.getMessage() for r in caplog.records)
    closet.close()
