"""TLS to a real mosquitto: server verified against our CA, client authenticated by its certificate."""

from __future__ import annotations

import shutil
import subprocess
import time
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
        assert "1 record version(s) waiting" in no_cert.last_error
        # The broker hangs up after the TLS handshake, before CONNACK: the hint names what to check.
        assert "closed the connection before accepting it" in no_cert.last_error, no_cert.last_error
        assert "check [sync] tls, cert_file, key_file and the credentials" in no_cert.last_error
    finally:
        consumer.stop()
        store.close()
        broker.stop()


def test_a_missing_ca_file_is_one_line_and_the_worker_keeps_trying(tmp_path: Path) -> None:
    """`[sync] ca_file` pointing nowhere: no traceback, no dead sync thread; it works once the file is there."""
    store = fill_store(tmp_path / "mirror", 1)
    ca = tmp_path / "pki" / "ca.pem"
    settings = sync_settings(1, tls=True, ca_file=str(ca), backoff_min_s=0.1, backoff_max_s=0.2)
    worker = SyncWorker(store, settings, DEVICE)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while "cannot set up TLS" not in worker.last_error and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.last_error.startswith("cannot set up TLS for mqtts://127.0.0.1:1 ([Errno 2] No such file")
        assert f"({ca})" in worker.last_error and "\n" not in worker.last_error
        assert worker._thread is not None and worker._thread.is_alive()
        make_pki(tmp_path / "pki")  # the file appears: the next try gets past TLS set-up (to the dead port)
        deadline = time.monotonic() + 10
        while "cannot set up TLS" in worker.last_error and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "unreachable" in worker.last_error
    finally:
        worker.stop()
        store.close()


def test_the_consumer_with_a_missing_ca_file_says_so_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sync.consumer.cli import main as consumer_main

    missing = str(tmp_path / "no.pem")
    code = consumer_main(["--db", str(tmp_path / "c.db"), "--port", "1", "--any-device", "--tls", "--ca-file", missing])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("smart-mirror-consumer: cannot set up TLS") and "\n" not in err
