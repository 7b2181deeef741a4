"""The example ACL (sync/mosquitto/acl.example) on a real mosquitto with a password file.

Proves: a mirror syncs through its own topics; another device's topics are refused (publish
and subscribe answered "not authorized"); only the cloud may send a mirror commands (another
mirror, or the mirror itself, is refused); a wrong password is refused and never logged.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from mirror.config import SyncSettings
from mirror.store import ClosetStore
from sync.broker import BrokerConfig
from sync.commands import Command, command_message
from sync.consumer.db import ConsumerDB
from sync.consumer.handler import MessageHandler
from sync.consumer.service import ConsumerService
from sync.contract import Topics
from sync.remote import RemoteControl
from sync.worker import SyncWorker
from tests.broker import Mosquitto, mosquitto_binary
from tests.conftest import ROOT
from tests.conftest_broker import DEVICE, ConsumerFactory, assert_exactly_once, fill_store, sync_settings, wait_until
from tests.conftest_broker import PREFIX as TEST_PREFIX

pytestmark = pytest.mark.broker
ACL = ROOT / "sync" / "mosquitto" / "acl.example"
PREFIX = "smart-mirror"  # the example ACL's prefix
USERS = {"mirror-a": "secret-a-7f3", "mirror-b": "secret-b-91c", "cloud": "secret-cloud-2d8"}
NOT_AUTHORIZED = 0x87


@pytest.fixture
def secured(tmp_path: Path) -> Any:
    passwd_tool = shutil.which("mosquitto_passwd")
    if mosquitto_binary() is None or passwd_tool is None:
        pytest.skip("needs mosquitto and mosquitto_passwd (scripts/test.sh installs mosquitto)")
    passwd = tmp_path / "passwd"
    for i, (user, password) in enumerate(USERS.items()):
        subprocess.run([passwd_tool, "-b", *(["-c"] if i == 0 else []), str(passwd), user, password], check=True)
    broker = Mosquitto(
        tmp_path / "broker", extra_conf=f"password_file {passwd}\nacl_file {ACL}\n", anonymous=False
    ).start()
    yield broker
    broker.stop()


def connect(port: int, user: str, password: str) -> tuple[mqtt.Client, dict[str, Any]]:
    events: dict[str, Any] = {}
    done = {name: threading.Event() for name in ("connect", "publish", "subscribe")}
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{user}", protocol=mqtt.MQTTv5)
    client.username_pw_set(user, password)

    def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        events["connect"] = reason
        done["connect"].set()

    def on_publish(_c: Any, _u: Any, _mid: int, reason: Any, _p: Any) -> None:
        events["publish"] = reason
        done["publish"].set()

    def on_subscribe(_c: Any, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        events["subscribe"] = reasons[0]
        done["subscribe"].set()

    client.on_connect, client.on_publish, client.on_subscribe = on_connect, on_publish, on_subscribe
    events["done"] = done
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert done["connect"].wait(5)
    return client, events


def mirror_a(tmp_path: Path, port: int, records: int) -> tuple[ClosetStore, SyncSettings]:
    """mirror-a's closet (``records`` waiting) and sync settings, its password in a 600 file."""
    secret = tmp_path / "mirror-a.pass"
    secret.write_text(USERS["mirror-a"])
    secret.chmod(0o600)
    store = fill_store(tmp_path / "mirror-a", records, device="mirror-a")
    settings = sync_settings(
        port, topic_prefix=PREFIX, username="mirror-a", password_file=str(secret), client_id="mirror-a"
    )
    return store, settings


def test_each_device_is_confined_to_its_own_topics(tmp_path: Path, secured: Mosquitto) -> None:
    # The cloud consumer and mirror-a, both authenticated, sync as usual.
    db = ConsumerDB.open(str(tmp_path / "cloud.db"))
    handler = MessageHandler(db, PREFIX, frozenset({"mirror-a", "mirror-b"}))
    cloud = BrokerConfig(host="127.0.0.1", port=secured.port, client_id="cloud-1", username="cloud")
    cloud = BrokerConfig(**{**cloud.__dict__, "password": USERS["cloud"]})
    consumer = ConsumerService(handler, cloud, group="cloud")
    consumer.start()
    assert consumer.connected.wait(5)
    store, settings = mirror_a(tmp_path, secured.port, records=5)
    try:
        assert SyncWorker(store, settings, "mirror-a").drain(timeout=20)
        assert assert_exactly_once(store, db) == 5

        # mirror-b, correctly logged in, listens to all of mirror-a's topics: mosquitto grants the
        # subscription but delivers nothing from it, while mirror-a keeps syncing.
        intruder, events = connect(secured.port, "mirror-b", USERS["mirror-b"])
        overheard: list[str] = []
        intruder.on_message = lambda _c, _u, m: overheard.append(m.topic)
        intruder.subscribe(f"{PREFIX}/mirror-a/#", qos=1)
        assert events["done"]["subscribe"].wait(5)
        record = store.list()[0]
        store.edit(record.id, category="bag")
        assert SyncWorker(store, settings, "mirror-a").drain(timeout=20)
        # ...and its publish to mirror-a's topics is refused (MQTT 5 PUBACK: not authorized).
        intruder.publish(f"{PREFIX}/mirror-a/garments/{record.id}", b"{}", qos=1)
        assert events["done"]["publish"].wait(5)
        assert events["publish"].value == NOT_AUTHORIZED
        intruder.loop_stop()
        intruder.disconnect()
        assert overheard == []
        assert db.dead_letters() == []  # nothing from mirror-b ever reached the consumer
        assert db.counts()["garment_versions"] == 6
    finally:
        consumer.stop()
        store.close()


def test_wrong_or_missing_password_is_refused_and_never_logged(
    tmp_path: Path, secured: Mosquitto, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    anonymous, events = connect(secured.port, "", "")
    assert events["connect"].is_failure
    anonymous.loop_stop()
    wrong = "not-the-password-4711"
    monkeypatch.setenv("SMART_MIRROR_MQTT_PASSWORD", wrong)
    store = fill_store(tmp_path / "mirror-a", 1, device="mirror-a")
    caplog.set_level(logging.DEBUG)
    settings = sync_settings(secured.port, topic_prefix=PREFIX, username="mirror-a", client_id="mirror-a")
    worker = SyncWorker(store, settings, "mirror-a")
    assert not worker.drain(timeout=1.5)
    assert "refused the connection" in worker.last_error and "1 record version(s) waiting" in worker.last_error
    assert wrong not in caplog.text and wrong not in worker.last_error and wrong not in repr(worker.broker)
    store.close()


def test_a_consumer_with_a_wrong_password_says_so_once_while_it_retries(
    tmp_path: Path, secured: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    db = ConsumerDB.open(str(tmp_path / "cloud.db"))
    broker = BrokerConfig(host="127.0.0.1", port=secured.port, client_id="cloud", username="cloud", password="wrong")
    service = ConsumerService(MessageHandler(db, PREFIX, None), broker, group="cloud")
    caplog.set_level(logging.INFO, logger="sync.consumer")
    service.start()
    try:
        # The broker logs each refusal: wait for three (paho retries after 1 s, then 2 s).
        wait_until(lambda: secured.log_text().count("disconnected, not authorised") >= 3, 20, "three refusals")
    finally:
        service.stop()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("sync.consumer")]
    assert sum("refused the consumer" in line for line in lines) == 1, lines
    assert not any("lost the broker" in line for line in lines), lines
    assert not service.connected.is_set()


def test_only_the_cloud_may_command_a_mirror(tmp_path: Path, secured: Mosquitto) -> None:
    """The cloud's command reaches mirror-a and its answer comes back; mirror-b (and mirror-a
    itself) may not publish on mirror-a's commands topic, nor read its results."""
    store, settings = mirror_a(tmp_path, secured.port, records=0)
    handed: list[Command] = []

    def core(command: Command) -> str:
        handed.append(command)
        return ""

    worker = SyncWorker(store, settings, "mirror-a", on_command=core)
    worker.start()
    topics = Topics(PREFIX, "mirror-a")
    cloud = BrokerConfig(host="127.0.0.1", port=secured.port, client_id="cloud-remote", username="cloud")
    cloud = BrokerConfig(**{**cloud.__dict__, "password": USERS["cloud"]})
    try:
        assert worker.listening.wait(10), worker.last_error
        with RemoteControl(cloud, topics) as remote:
            assert remote.send("show", screen="closet")["status"] == "accepted"
            assert [(c.name, c.screen) for c in handed] == [("show", "closet")]
            for user in ("mirror-b", "mirror-a"):
                intruder, events = connect(secured.port, user, USERS[user])
                overheard: list[str] = []

                def overhear(_c: Any, _u: Any, message: Any, seen: list[str] = overheard) -> None:
                    seen.append(message.topic)

                intruder.on_message = overhear
                intruder.subscribe(topics.command_results, qos=1)
                assert events["done"]["subscribe"].wait(5)
                intruder.publish(topics.commands, command_message("capture", command_id=f"from-{user}"), qos=1)
                assert events["done"]["publish"].wait(5)
                assert events["publish"].value == NOT_AUTHORIZED, user
                # The cloud still gets its answers; the intruder hears none of them.
                assert remote.send("show", screen="home")["status"] == "accepted"
                intruder.loop_stop()
                intruder.disconnect()
                assert overheard == [], user
            assert [c.id for c in handed if c.id.startswith("from-")] == []
    finally:
        worker.stop()
        store.close()


def test_a_mirror_may_announce_its_sensors_to_home_assistant_and_nothing_else(secured: Mosquitto) -> None:
    """A discovery config for a switch names a command topic Home Assistant would publish to on a
    press: a mirror (its own sensors only, ``sync.homeassistant``) must not be able to announce one."""
    client, events = connect(secured.port, "mirror-b", USERS["mirror-b"])
    try:
        verdicts: dict[str, object] = {}
        for topic in (
            "homeassistant/sensor/mirror-b/garments/config",
            "homeassistant/binary_sensor/mirror-b/online/config",
            "homeassistant/switch/mirror-b/unlock/config",
            "homeassistant/sensor/mirror-a/garments/config",
        ):
            events["done"]["publish"].clear()
            client.publish(topic, b"{}", qos=1)
            assert events["done"]["publish"].wait(5)
            value = events["publish"].value  # 0, or 0x10 "no matching subscribers": both accepted
            verdicts[topic.split("/", 1)[1]] = "refused" if value == NOT_AUTHORIZED else value < 0x80
    finally:
        client.loop_stop()
        client.disconnect()
    assert verdicts == {
        "sensor/mirror-b/garments/config": True,
        "binary_sensor/mirror-b/online/config": True,
        "switch/mirror-b/unlock/config": "refused",
        "sensor/mirror-a/garments/config": "refused",
    }


def operator_acl(device: str) -> str:
    """acl.example with its commented per-mirror operator block taken in, for ``device``."""
    lines = []
    for line in ACL.read_text().splitlines():
        if re.match(r"#\s+(user|topic) ", line):
            line = line.lstrip("#").strip().replace("mirror-1a2b3c4d5e", device)
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_a_per_mirror_operator_user_commands_that_mirror_and_nothing_else(tmp_path: Path) -> None:
    """docs/sync.md: to try a command on a mirror itself, a `<device>-op` user instead of the cloud's.
    It may command its mirror and hear the answer, but not command another mirror, publish as its
    mirror, or read the mirror's garments and status."""
    passwd_tool = shutil.which("mosquitto_passwd")
    if mosquitto_binary() is None or passwd_tool is None:
        pytest.skip("needs mosquitto and mosquitto_passwd (scripts/test.sh installs mosquitto)")
    users = {**USERS, "mirror-a-op": "secret-op-5e1"}
    passwd = tmp_path / "passwd"
    for i, (user, password) in enumerate(users.items()):
        subprocess.run([passwd_tool, "-b", *(["-c"] if i == 0 else []), str(passwd), user, password], check=True)
    acl = tmp_path / "acl"
    acl.write_text(operator_acl("mirror-a"))
    assert "\nuser mirror-a-op\ntopic write smart-mirror/mirror-a/commands\n" in acl.read_text()
    broker = Mosquitto(tmp_path / "broker", extra_conf=f"password_file {passwd}\nacl_file {acl}\n", anonymous=False)
    broker.start()
    store, settings = mirror_a(tmp_path, broker.port, records=1)
    handed: list[Command] = []

    def core(command: Command) -> str:
        handed.append(command)
        return ""

    cloud, cloud_events = connect(broker.port, "cloud", users["cloud"])  # the control: it hears them
    op, op_events = connect(broker.port, "mirror-a-op", users["mirror-a-op"])
    heard: dict[str, list[str]] = {"cloud": [], "op": []}
    cloud.on_message = lambda _c, _u, m: heard["cloud"].append(m.topic)
    op.on_message = lambda _c, _u, m: heard["op"].append(m.topic)
    for client, events in ((cloud, cloud_events), (op, op_events)):
        events["done"]["subscribe"].clear()
        client.subscribe([(f"{PREFIX}/mirror-a/garments/+", 1), (f"{PREFIX}/mirror-a/status", 1)])
        assert events["done"]["subscribe"].wait(5)
    worker = SyncWorker(store, settings, "mirror-a", on_command=core)
    worker.start()
    operator = BrokerConfig(
        host="127.0.0.1", port=broker.port, client_id="op", username="mirror-a-op", password=users["mirror-a-op"]
    )
    try:
        assert worker.listening.wait(10), worker.last_error
        with RemoteControl(operator, Topics(PREFIX, "mirror-a")) as remote:
            assert remote.send("show", screen="closet")["status"] == "accepted"
        assert [(c.name, c.screen) for c in handed] == [("show", "closet")]
        verdicts = {}
        for topic in (f"{PREFIX}/mirror-b/commands", f"{PREFIX}/mirror-a/garments/x", f"{PREFIX}/mirror-a/status"):
            op_events["done"]["publish"].clear()
            op.publish(topic, command_message("capture", command_id="from-op"), qos=1)
            assert op_events["done"]["publish"].wait(5)
            verdicts[topic] = op_events["publish"].value
        assert verdicts == dict.fromkeys(verdicts, NOT_AUTHORIZED)
        wait_until(lambda: any("/garments/" in t for t in heard["cloud"]), 10, "mirror-a's garment at the cloud")
        assert f"{PREFIX}/mirror-a/status" in heard["cloud"]
        assert heard["op"] == []
    finally:
        for client in (cloud, op):
            client.loop_stop()
            client.disconnect()
        worker.stop()
        store.close()
        broker.stop()


def retained_topics(port: int) -> set[str]:
    """The topics the broker holds a retained message for: what it hands a new '#' subscriber
    with the retain flag set, before a marker published after the subscription comes back."""
    seen: list[tuple[str, bool]] = []
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="retained-census", protocol=mqtt.MQTTv5)
    client.on_message = lambda _c, _u, m: seen.append((m.topic, bool(m.retain)))
    client.on_subscribe = lambda *_a: subscribed.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.subscribe("#", qos=1)
        assert subscribed.wait(5)
        client.publish("census/marker", b"end", qos=1).wait_for_publish(5)
        wait_until(lambda: ("census/marker", False) in seen, 10, "the census marker")
    finally:
        client.loop_stop()
        client.disconnect()
    return {topic for topic, retained in seen[: seen.index(("census/marker", False))] if retained}


def test_the_mirror_retains_only_its_status_state_and_home_assistant_configs(
    tmp_path: Path, mosquitto: Mosquitto, start_consumer: ConsumerFactory
) -> None:
    """docs/sync.md (Security): a broker keeps a retained message until it is cleared, and the ACL cannot
    refuse the flag; the mirror itself never sets it on garments, images, upload requests or command
    answers. A full round (records with images, acks, a command answered) leaves only its presence."""
    start_consumer(mosquitto.port)
    store = fill_store(tmp_path / "mirror", 2)
    settings = sync_settings(mosquitto.port, ha_discovery=True, ack_timeout_s=60)
    worker = SyncWorker(store, settings, DEVICE, on_command=lambda _command: "")
    worker.start()
    topics = Topics(TEST_PREFIX, DEVICE)
    try:
        assert worker.listening.wait(10), worker.last_error
        wait_until(lambda: store.outbox.stats().unacked == 0, 20, "the records acked")
        with RemoteControl(BrokerConfig(host="127.0.0.1", port=mosquitto.port, client_id="remote"), topics) as remote:
            assert remote.send("show", screen="closet")["status"] == "accepted"
    finally:
        worker.stop()
        store.close()
    kept = retained_topics(mosquitto.port)
    assert {topics.status, topics.state} <= kept
    assert {t for t in kept if t.startswith("homeassistant/")}, kept
    assert {t for t in kept if not t.startswith("homeassistant/")} == {topics.status, topics.state}


def test_doctor_logs_in_as_the_mirror_and_says_when_the_broker_refuses(secured: Any, tmp_path: Path) -> None:
    """A broker that is up but refuses the mirror's login used to pass doctor ("reachable"): the
    records then waited in the outbox for ever. Doctor now logs in as the mirror would, under its
    own client id, so a running mirror is not knocked off the broker by it."""
    import dataclasses

    from mirror.config import Settings
    from mirror.config.settings import SyncSettings
    from mirror.doctor import Outcome
    from mirror.doctor.checks import check_broker
    from sync.broker import BrokerConfig, make_client

    secret = tmp_path / "mqtt.pass"
    secret.write_text(USERS["mirror-a"])
    secret.chmod(0o600)
    base = Settings()
    base = dataclasses.replace(base, device=dataclasses.replace(base.device, id="mirror-a"))
    client_id = SyncSettings().mirror_client_id("mirror-a")  # the running mirror's own
    running = make_client(BrokerConfig(host="127.0.0.1", port=secured.port, client_id=client_id,
                                       username="mirror-a", password=USERS["mirror-a"]))  # fmt: skip
    lost: list[object] = []
    running.on_disconnect = lambda *args: lost.append(args)
    running.connect("127.0.0.1", secured.port)
    running.loop_start()
    try:
        for username, password_file, outcome, words in (
            ("mirror-a", str(secret), Outcome.OK, "login as 'mirror-a' accepted"),
            ("", "", Outcome.FAIL, "refused the login as anonymous"),
            ("mirror-b", str(secret), Outcome.FAIL, "refused the login as 'mirror-b'"),  # mirror-a's password
        ):
            sync = SyncSettings(
                enabled=True, host="127.0.0.1", port=secured.port, username=username, password_file=password_file
            )
            findings = list(check_broker(dataclasses.replace(base, sync=sync)))
            last = findings[-1]
            assert last.status is outcome and words in last.message, [f.line() for f in findings]
            if outcome is Outcome.FAIL:
                assert '[sync] username = "mirror-a"' in last.fix and "mosquitto_passwd" in last.fix
        time.sleep(0.5)  # a takeover reaches the mirror's loop thread a moment after the probe returns
        assert not lost, "doctor's login took the running mirror's place on the broker"
    finally:
        running.disconnect()
        running.loop_stop()
