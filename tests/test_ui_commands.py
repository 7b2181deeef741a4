"""Remote commands end to end: a real mosquitto, the mirror's sync worker, the service and the real
window (offscreen), steered by ``sync.remote.RemoteControl`` as a backend would.

Each message on the commands topic gets one answer; good ones move the window exactly as the
keys would (show closet, capture → result, keep, delete), broken, stale, repeated or untimely
ones are answered with the reason and change nothing, and the mirror keeps working after them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mirror.config.settings import DeviceSettings
from mirror.events import Level
from sync.broker import BrokerConfig
from sync.contract import Topics
from sync.remote import RemoteControl
from sync.worker import SyncWorker
from tests.broker import Mosquitto
from tests.conftest_broker import DEVICE, PREFIX, sync_settings
from tests.ui_harness import MirrorUnderTest, running_mirror, settings_for, wait_for_garment_result, wait_for_models
from ui.bench import wait_until

pytestmark = [pytest.mark.usefixtures("qapp"), pytest.mark.broker, pytest.mark.slow]


def remote_for(mosquitto: Mosquitto) -> RemoteControl:
    return RemoteControl(
        BrokerConfig(host="127.0.0.1", port=mosquitto.port, client_id="cloud-remote"), Topics(PREFIX, DEVICE)
    )


def listening(m: MirrorUnderTest) -> None:
    """Wait until the mirror's worker has its commands subscription confirmed by the broker."""
    m.wait(
        lambda: isinstance(link := m.service._sync, SyncWorker) and link.listening.is_set(), what="the commands topic"
    )


def test_remote_commands_drive_the_window_and_bad_ones_are_answered(tmp_path: Path, mosquitto: Mosquitto) -> None:
    settings = settings_for(tmp_path, sync=sync_settings(mosquitto.port), device=DeviceSettings(id=DEVICE))
    with running_mirror(settings) as m, remote_for(mosquitto) as remote:
        w = m.window
        listening(m)
        answer = remote.send("show", screen="closet")
        assert answer["status"] == "accepted" and answer["schema"] == "smart-mirror.command-result", answer
        m.wait(lambda: w.current() is w.closet, what="the closet")

        # Broken, stale, repeated or untimely: answered with the reason, the window stays put.
        assert remote.send_raw(b"{not json", command_id=None)["reason"].startswith("malformed_json: ")
        wrong = json.dumps({"schema": "smart-mirror.ack", "schema_version": 1, "id": "w-1", "status": "stored"})
        assert remote.send_raw(wrong.encode(), command_id="w-1")["reason"].startswith("schema_invalid: ")
        stale = remote.send("show", screen="home", sent_at=datetime.now(UTC) - timedelta(minutes=5))
        assert stale["status"] == "expired", stale
        nothing = remote.send("keep")
        assert nothing["status"] == "rejected" and nothing["reason"].startswith("nothing_to_do: "), nothing
        unknown = remote.send("delete", record_id="019ab3f2-5c1e-7a4b-9c3d-2e1f0a9b8c7d")
        assert unknown["status"] == "rejected" and unknown["reason"].startswith("unknown_record: "), unknown
        first = remote.send("show", screen="about", command_id="once")
        assert first["status"] == "accepted"
        m.wait(lambda: w.current() is w.about, what="the about screen")
        w.show_screen(w.closet)
        repeat = remote.send("show", screen="about", command_id="once")
        assert repeat["status"] == "duplicate", repeat
        wait_until(lambda: w.current() is not w.closet, 0.5)  # give a wrong reaction the chance to show
        assert w.current() is w.closet

        # Still working: capture -> result -> keep -> delete, all from the backend.
        wait_for_models(m)
        m.wait(lambda: w.capture.frame is not None and w.capture.frame.box is not None, 30, "a garment in view")
        assert remote.send("capture")["status"] == "accepted"
        wait_for_garment_result(m)
        busy = remote.send("capture")
        assert busy["status"] == "rejected" and busy["reason"].startswith("busy: "), busy
        assert remote.send("show", screen="closet")["reason"].startswith("busy: ")
        assert remote.send("keep")["status"] == "accepted"
        m.wait(lambda: w.current() is w.home and "Added to your closet" in w.home.note, 20, "the record saved")
        [record] = m.service.closet()
        assert remote.send("keep")["reason"].startswith("nothing_to_do: ")  # kept once, not twice
        assert remote.send("delete", record_id=str(record.id))["status"] == "accepted"
        m.wait(lambda: m.service.closet() == [], what="the delete")
        assert w.home.status.sync.level == Level.OK
