"""The service and its cloud link meet only through ``mirror.synclink``: a link handed in is
started, its connection drives the status line, its commands reach the UI, and it is stopped."""

from __future__ import annotations

import dataclasses
import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mirror.config.settings import SyncSettings
from mirror.events import CommandReceived, Error, Event, Level
from mirror.health import Health
from mirror.service import MirrorService
from mirror.store import ClosetStore, StoreError
from mirror.synclink import CommandSink, SyncLink, SyncNotInstalledError, mqtt_link
from tests.conftest import ROOT
from tests.conftest_broker import wait_until
from tests.test_service import fast_settings, wait_for


class HandMadeLink:
    """A link whose connection the test sets by hand; the service cannot tell it from MQTT."""

    def __init__(self, on_command: CommandSink, on_acked: Callable[[list[tuple[str, int]]], None]) -> None:
        self.on_command, self.on_acked = on_command, on_acked
        self.online = False
        self.started = threading.Event()
        self.stopped = threading.Event()

    @property
    def connected(self) -> bool:
        return self.online

    def start(self) -> None:
        self.started.set()

    def stop(self, timeout: float = 5.0) -> bool:
        self.stopped.set()
        return True


def sync_on(tmp_path: Path) -> MirrorService:
    settings = fast_settings(tmp_path, models_dir=str(tmp_path))
    return MirrorService(
        dataclasses.replace(settings, sync=dataclasses.replace(settings.sync, enabled=True)),
        health=Health(),
        sync_factory=make_link,
    )


links: list[HandMadeLink] = []


def make_link(
    store: ClosetStore,
    settings: SyncSettings,
    device_id: str,
    device_name: str,
    on_command: CommandSink,
    on_acked: Callable[[list[tuple[str, int]]], None],
) -> SyncLink:
    assert device_id == "test-mirror" and store.device_id == device_id
    links.append(HandMadeLink(on_command, on_acked))
    return links[-1]


def test_a_link_handed_in_is_started_drives_the_status_passes_commands_and_is_stopped(tmp_path: Path) -> None:
    links.clear()
    seen: list[Event] = []
    with sync_on(tmp_path) as service:
        wait_until(lambda: bool(links) and links[0].started.is_set(), 30, "the link to be started")
        link = links[0]
        wait_until(lambda: service.status().sync.detail == "offline (0 waiting)", 10, "offline while not connected")
        assert service.status().sync.level is Level.WARN
        link.online = True
        wait_until(lambda: service.status().sync.detail == "online", 10, "online once connected")
        assert link.on_command("show", screen="closet", command_id="c-1") == ""
        command = wait_for(service.events, lambda e: isinstance(e, CommandReceived), 10, seen)
        assert isinstance(command, CommandReceived) and (command.command, command.screen) == ("show", "closet")
        assert link.on_command("teleport").startswith("unknown_command")
        assert not link.stopped.is_set()
    assert link.stopped.is_set()


def test_a_mirror_without_the_sync_package_says_so_and_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped factory (``mqtt_link``) on a mirror where ``sync.worker`` cannot be imported."""
    monkeypatch.setitem(sys.modules, "sync.worker", None)  # "import sync.worker" now raises ImportError
    with pytest.raises(SyncNotInstalledError, match="its package is not installed"):
        mqtt_link(None, None, "", "", None, None)  # type: ignore[arg-type]
    monkeypatch.setattr("tests.test_service_synclink.make_link", mqtt_link)
    with sync_on(tmp_path) as service:
        wait_until(lambda: service.status().sync.detail == "not installed", 30, "sync: not installed")
        assert service.status().sync.level is Level.WARN and service.status().storage.level is Level.OK


def test_the_core_names_the_sync_package_in_one_place_only() -> None:
    """Outside the CLI (whose ``sync`` commands drive it), only ``mirror.synclink`` imports ``sync``."""
    importing = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "mirror").rglob("*.py")
        if "cli" not in path.relative_to(ROOT / "mirror").parts
        and re.search(r"^\s*(from|import) sync\b", path.read_text(encoding="utf-8"), re.MULTILINE)
    )
    assert importing == ["mirror/synclink.py"]


class BrokenLink(HandMadeLink):
    """A link whose start fails (its thread could not be made)."""

    def start(self) -> None:
        raise RuntimeError("can't start new thread")


def test_a_link_that_fails_to_start_is_said_as_syncs_error_and_still_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[HandMadeLink] = []

    def broken(*args: object) -> SyncLink:
        made.append(BrokenLink(*args[4:6]))  # type: ignore[arg-type]
        return made[-1]

    monkeypatch.setattr("tests.test_service_synclink.make_link", broken)
    seen: list[Event] = []
    with sync_on(tmp_path) as service:
        error = wait_for(service.events, lambda e: isinstance(e, Error) and e.about == "sync", 30, seen)
        assert isinstance(error, Error) and "can't start new thread" in error.detail
        assert service.status().sync.level is Level.ERROR
        service._start_sync()  # a second call (the late-closet path) makes no second link
        assert len(made) == 1
    assert made[0].stopped.is_set(), "a link that failed half-way is stopped with the mirror"


def late_closet(tmp_path: Path) -> MirrorService:
    """A service whose closet could not be opened at start: a file where its folder belongs (a card
    not mounted yet, its mount point taken), removed again at once, as when the card is mounted."""
    service = sync_on(tmp_path)
    folder = service.settings.store.path()
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("not mounted yet")
    service._open_store()
    assert service.status().storage.level is Level.ERROR
    folder.unlink()
    return service


def test_a_closet_opened_late_starts_sync_once_and_says_a_failure_as_syncs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The closet could not be opened at start; when it opens, sync starts from the retry, and a
    failure there is sync's error, not "checking the closet failed"."""
    links.clear()
    service = late_closet(tmp_path / "a")
    assert not links, "no sync without a closet"
    service._retry_store()
    assert len(links) == 1 and links[0].started.is_set()
    service._retry_store()
    service._start_sync()
    assert len(links) == 1, "one link, whichever path gets there first"
    service._closet.close()

    def broken(*_args: object) -> SyncLink:
        raise OSError(24, "Too many open files")

    service = late_closet(tmp_path / "b")
    service._sync_factory = broken
    with caplog.at_level("WARNING"):
        service._keeper.tick()  # the periodic checks, which retry the closet
    assert service._closet.store is not None
    assert service.status().sync.level is Level.ERROR
    assert not [r for r in caplog.records if "checking the closet failed" in r.getMessage()]
    service._closet.close()


class ReadingLink(HandMadeLink):
    """A link whose thread reads the outbox until it is stopped, as the MQTT worker does."""

    def __init__(self, store: ClosetStore, *args: object) -> None:
        super().__init__(*args[2:4])  # type: ignore[arg-type]
        self.store = store
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._read, daemon=True)

    def start(self) -> None:
        super().start()
        self._thread.start()

    def _read(self) -> None:
        while not self.stopped.is_set():
            try:
                self.store.outbox.stats()
            except StoreError as exc:
                self.errors.append(str(exc))
            time.sleep(0.001)

    def stop(self, timeout: float = 5.0) -> bool:
        super().stop(timeout)
        self._thread.join(timeout)
        return not self._thread.is_alive()


def test_the_closet_closes_only_after_the_sync_link_has_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop closed the closet under a running link: its last reads failed ("Cannot operate on a
    closed database … run smart-mirror doctor" in the log at every shutdown) and its last acks were lost."""
    made: list[ReadingLink] = []

    def reading(store: ClosetStore, *args: object) -> SyncLink:
        made.append(ReadingLink(store, *args))
        return made[-1]

    monkeypatch.setattr("tests.test_service_synclink.make_link", reading)
    with sync_on(tmp_path):
        wait_until(lambda: bool(made) and made[0].started.is_set(), 30, "the link to be started")
        time.sleep(0.2)  # the link reads away
    assert made[0].stopped.is_set() and made[0].errors == []


class StuckLink(ReadingLink):
    """A link still running when its wait runs out (a disconnect stuck on a broker that does not answer)."""

    def stop(self, timeout: float = 5.0) -> bool:
        threading.Timer(0.5, self.stopped.set).start()  # reads on for a while after the service moved on
        return False


def test_a_link_that_outlasts_its_stop_keeps_the_closet_open_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """It used to be left running while the closet closed under it: its reads failed into the log."""
    made: list[StuckLink] = []

    def stuck(store: ClosetStore, *args: object) -> SyncLink:
        made.append(StuckLink(store, *args))
        return made[-1]

    monkeypatch.setattr("tests.test_service_synclink.make_link", stuck)
    with caplog.at_level(logging.WARNING, logger="mirror.service"), sync_on(tmp_path) as service:
        wait_until(lambda: bool(made) and made[0].started.is_set(), 30, "the link to be started")
    assert "the link did not stop within 5 s" in caplog.text
    link = made[0]
    link._thread.join(5)  # it stops by itself; until then the closet stayed open under it
    assert not link._thread.is_alive() and link.errors == []
    service._closet.close()
