"""TLS to a real mosquitto: server verified against our CA, client authenticated by its certificate."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sync.broker import BrokerConfig
from sync.consumer.db import ConsumerDB
from sync.consumer.handler import MessageHandler
from sync.consumer.service import ConsumerService
from sync.worker import SyncWorker
from tests.broker import Mosquitto, mosquitto_binary
from tests.conftest_broker import DEVICE, PREFIX, assert_exactly_once, fill_store, sync_settings

pytestmark = pytest.mark.broker


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(folder: Path) -> Path:
    """A throw-away CA, a server certificate for 127.0.0.1 and a client certificate."""
    folder.mkdir()
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
            "-keyout", "ca.key", "-out", "ca.pem", cwd=folder)  # fmt: skip
    for name, ext in (
        ("server", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ("client", "extendedKeyUsage=clientAuth"),
    ):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
                "-out", f"{name}.csr", cwd=folder)  # fmt: skip
        (folder / f"{name}.ext").write_text(ext + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=folder)  # fmt: skip
        (folder / f"{name}.key").chmod(0o600)
    return folder


def test_mutual_tls_sync_and_refusal_without_a_client_certificate(tmp_path: Path) -> None:
    if mosquitto_binary() is None or shutil.which("openssl") is None:
        pytest.skip("needs mosquitto and openssl")
    pki = make_pki(tmp_path / "pki")
    conf = f"cafile {pki}/ca.pem\ncertfile {pki}/server.pem\nkeyfile {pki}/server.key\nrequire_certificate true\n"
    broker = Mosquitto(tmp_path / "broker", extra_conf=conf).start()
    tls = {"tls": True, "ca_file": str(pki / "ca.pem"), "cert_file": str(pki / "client.pem"),
           "key_file": str(pki / "client.key")}  # fmt: skip
    db = ConsumerDB.open(str(tmp_path / "cloud.db"))
    consumer = ConsumerService(
        MessageHandler(db, PREFIX, frozenset({DEVICE})),
        BrokerConfig(host="127.0.0.1", port=broker.port, client_id="c-tls", **tls),  # type: ignore[arg-type]
        group="cloud",
    )
    store = fill_store(tmp_path / "mirror", 5)
    try:
        consumer.start()
        assert consumer.connected.wait(10)
        worker = SyncWorker(store, sync_settings(broker.port, **tls), DEVICE)
        assert worker.broker.describe().startswith("mqtts://")
        assert worker.drain(timeout=20), worker.last_error
        assert assert_exactly_once(store, db) == 5
        store.edit(store.list()[0].id, category="bag")
        no_cert = SyncWorker(store, sync_settings(broker.port, tls=True, ca_file=str(pki / "ca.pem")), DEVICE)
        assert not no_cert.drain(timeout=1.5)
        assert no_cert.last_error and "1 record version(s) waiting" in no_cert.last_error
    finally:
        consumer.stop()
        store.close()
        broker.stop()
