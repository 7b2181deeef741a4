"""Per-garment sync badges follow the real outbox: waiting until the cloud acks, then synced.

A real mosquitto, the mirror's sync worker, the real window and (later) the reference cloud
consumer. With no consumer running every record stays in the outbox, so every badge (grid
and detail view) says waiting; once the consumer stores and acks them the badges turn to
synced on their own, from the worker's acks (``RecordsSynced``), with nobody touching the mirror.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mirror.config.settings import DeviceSettings
from mirror.store import ClosetStore
from tests.broker import Mosquitto
from tests.conftest_broker import DEVICE, ConsumerFactory, sync_settings
from tests.test_ui_flow import demo_draft
from tests.ui_harness import running_mirror, settings_for
from ui import closet as closet_mod
from ui.bench import wait_until

pytestmark = [pytest.mark.usefixtures("qapp"), pytest.mark.broker, pytest.mark.slow]


def test_badges_say_waiting_until_the_cloud_acks_then_synced(
    tmp_path: Path, mosquitto: Mosquitto, start_consumer: ConsumerFactory
) -> None:
    settings = settings_for(tmp_path, sync=sync_settings(mosquitto.port), device=DeviceSettings(id=DEVICE))
    store = ClosetStore.open(settings.store.path(), DEVICE, min_free_mb=0)
    kept = [store.add(demo_draft(i)) for i in range(3)]
    store.close()
    with running_mirror(settings) as m:
        w = m.window
        m.wait(lambda: w.home.status.sync.text == "sync: 3 waiting", what="the worker online, 3 records waiting")
        assert m.service.unsynced_ids() == {r.id for r in kept}
        w.open_closet()
        assert [i.sync for i in w.closet.items] == [closet_mod.WAITING] * 3
        w.detail.show_item(w.closet.items[0])
        w.show_screen(w.detail)
        assert w.detail.item is not None and w.detail.item.sync == closet_mod.WAITING

        wait_until(lambda: False, 0.5)  # published, no ack: nothing changes by itself
        assert [i.sync for i in w.closet.items] == [closet_mod.WAITING] * 3

        consumer = start_consumer(mosquitto.port)
        m.wait(lambda: all(i.sync == closet_mod.SYNCED for i in w.closet.items), 30, "the badges to turn synced")
        assert w.detail.item.sync == closet_mod.SYNCED and w.current() is w.detail
        assert m.service.unsynced_ids() == set()
        assert {i for _d, i, _v, _b in consumer.db.versions()} == {r.id for r in kept}
