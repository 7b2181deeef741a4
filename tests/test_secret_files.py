"""Secret files beside the config: the broker password and the TLS client's private key.

Doctor warns, with a one-line fix, when either can be read by a user other than the service's: its
mode lets the group or others in, or it belongs to another user.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from mirror.config import Settings
from mirror.config.secrets import password_file_problem, private_key_problem, secret_file_problem
from mirror.config.settings import SyncSettings
from mirror.doctor.checks import check_broker, credential_findings
from mirror.doctor.report import Outcome
from tests.broker import closed_port


def secret(tmp_path: Path, name: str, mode: int) -> Path:
    path = tmp_path / name
    path.write_text("-----BEGIN PRIVATE KEY-----\nnot a real key\n-----END PRIVATE KEY-----\n")
    path.chmod(mode)
    return path


def tls(cert_file: str = "", key_file: str = "") -> SyncSettings:
    broker = SyncSettings(enabled=True, host="broker.example", port=8883, tls=True, username="mirror-a")
    return dataclasses.replace(broker, cert_file=cert_file, key_file=key_file)


def test_a_private_key_readable_by_others_is_a_doctor_warning_with_its_chmod(tmp_path: Path) -> None:
    key = secret(tmp_path, "client.key", 0o640)
    cert = secret(tmp_path, "client.crt", 0o644)  # a certificate is public: its mode is not judged
    findings = list(credential_findings(tls(cert_file=str(cert), key_file=str(key))))
    assert [(f.status, f.check, f.message) for f in findings] == [(Outcome.WARN, "broker", "private key permissions")]
    assert findings[0].fix == f"{key} is readable by other users; run: chmod 600 {key}"
    key.chmod(0o600)
    assert list(credential_findings(tls(cert_file=str(cert), key_file=str(key)))) == []
    key.chmod(0o400)
    assert private_key_problem(tls(cert_file=str(cert), key_file=str(key))) is None


def test_without_key_file_the_certificate_file_holds_the_key_and_is_judged(tmp_path: Path) -> None:
    """ssl's load_cert_chain takes the key from cert_file when no key file is named."""
    both = secret(tmp_path, "client.pem", 0o644)
    warning = private_key_problem(tls(cert_file=str(both)))
    assert warning == (
        f"{both} (it holds the private key: no key_file is set) is readable by other users; run: chmod 600 {both}"
    )
    assert private_key_problem(tls()) is None
    assert private_key_problem(SyncSettings()) is None


def test_the_key_warning_comes_with_the_broker_down(tmp_path: Path) -> None:
    """Like the password file's: about the secret on this disk, not about the connection."""
    key = secret(tmp_path, "client.key", 0o604)
    cert = secret(tmp_path, "client.crt", 0o644)
    with closed_port() as port:
        sync = SyncSettings(enabled=True, host="127.0.0.1", port=port, tls=True, cert_file=str(cert), key_file=str(key))
        findings = list(check_broker(Settings(sync=sync)))
    assert [(f.status, f.message) for f in findings[:1]] == [(Outcome.WARN, "private key permissions")]
    assert f"chmod 600 {key}" in findings[0].fix
    assert findings[-1].status is Outcome.WARN and "unreachable" in findings[-1].message


def owned_by_someone_else(path: Path) -> int:
    """Give ``path`` an owner that is neither root nor the returned user id (the one doctor runs as)."""
    if os.geteuid() == 0:
        os.chown(path, 54321, -1)
        return 54322
    return os.getuid() + 1  # the file stays ours: for that user it is someone else's


def test_a_secret_file_of_another_user_is_a_warning_with_the_chown(tmp_path: Path) -> None:
    """Its owner can read it (and chmod it open again) even at mode 600; the fix hands it over."""
    path = secret(tmp_path, "mqtt-password", 0o600)
    viewer = owned_by_someone_else(path)
    owner, user = name_of(path.stat().st_uid), name_of(viewer)
    assert secret_file_problem(str(path), uid=viewer) == (
        f"{path} belongs to {owner}, not {user}; run: sudo chown {user} {path} && sudo chmod 600 {path}"
    )
    # The same file judged by its owner is fine; judged by root, only the mode counts.
    assert secret_file_problem(str(path), uid=path.stat().st_uid) is None
    assert secret_file_problem(str(path), uid=0) is None


def name_of(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def test_a_readable_file_of_roots_gets_the_chown_too(tmp_path: Path) -> None:
    """root:smart-mirror 0640 is readable by the group; chmod 600 alone would lock the service out."""
    if os.geteuid() != 0:
        pytest.skip("needs a file of root's")
    path = secret(tmp_path, "mqtt-password", 0o640)
    user = name_of(54322)
    assert secret_file_problem(str(path), uid=54322) == (
        f"{path} is readable by other users; run: sudo chown {user} {path} && sudo chmod 600 {path}"
    )
    assert secret_file_problem(str(path), uid=0) == f"{path} is readable by other users; run: chmod 600 {path}"


def test_the_password_file_is_judged_the_same_way(tmp_path: Path) -> None:
    path = secret(tmp_path, "mqtt-password", 0o644)
    sync = SyncSettings(password_file=str(path))
    assert password_file_problem(sync) == secret_file_problem(str(path))
    assert "chmod 600" in str(password_file_problem(sync))
    assert password_file_problem(SyncSettings()) is None
    assert secret_file_problem(str(tmp_path / "missing")) is None  # the unreadable-file check says that
