"""The service and its cloud link meet only through ``mirror.synclink``: a link handed in is
started, its connection drives the status line, its commands reach the UI, and it is stopped."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from mirror.config.settings import SyncSettings
from mirror.events import CommandReceived, Event, Level
from mirror.health import Health
from mirror.service import MirrorService
from mirror.store import ClosetStore
from mirror.synclink import CommandSink, SyncLink, SyncNotInstalledError
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

    def stop(self, timeout: float = 5.0) -> None:
        self.stopped.set()


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
    def missing(*_args: object) -> SyncLink:
        raise SyncNotInstalledError("paho")

    monkeypatch.setattr("tests.test_service_synclink.make_link", missing)
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
