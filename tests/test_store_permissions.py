"""The closet and doctor for a user the closet's modes keep out: another user's folder, a restore as root.

Root enters and writes everything, so as root (here and in CI) each case runs in a child whose
capability bounding set lacks the DAC overrides (``setpriv``): root then obeys file modes the way
the service user or ``pi`` does. Without root the child runs as it is (it obeys modes already), and
the cases that give the closet to another user skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mirror.cli import exitcodes
from mirror.store import ClosetStore
from mirror.store.samples import synthetic_draft
from mirror.store.translate import user_name
from tests.conftest import ROOT

SETPRIV = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
NOBODY = 65534

DOCTOR = """
import sys
from mirror.config import load_settings
from mirror.doctor import checks, run_checks
for finding in run_checks(load_settings(sys.argv[1]), [getattr(checks, name) for name in sys.argv[2:]]):
    print(finding.line())
"""


@pytest.fixture(scope="module")
def normal_user(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The command prefix that makes a child obey file modes (none needed when not root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed: root needs it to obey file modes like a normal user")
    locked = tmp_path_factory.mktemp("locked")
    locked.chmod(0)
    probe = subprocess.run(
        [*SETPRIV, sys.executable, "-c", "import os, sys; os.listdir(sys.argv[1])", str(locked)],
        capture_output=True,
        text=True,
        check=False,
    )
    if "PermissionError" not in probe.stderr:
        pytest.skip(f"setpriv cannot drop root's file overrides here ({probe.stderr.strip()[-200:] or 'it read 000'})")
    return SETPRIV


def another_user() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root, to give the closet to another user")


def closet(tmp_path: Path, count: int = 1) -> tuple[Path, Path, list[str]]:
    """A config, its closet folder (made by the store, holding ``count`` garments), and their ids."""
    data = tmp_path / "closet"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[device]\nid = "perm-dev"\n[store]\ndata_dir = "{data}"\nmin_free_mb = 0\n[sync]\nenabled = false\n'
    )
    with ClosetStore.open(data, "perm-dev", min_free_mb=0) as store:
        ids = [store.add(synthetic_draft(i, image_kb=1)).id for i in range(count)]
    return config, data, ids


def give(folder: Path, uid: int) -> None:
    for path in (folder, *folder.rglob("*")):
        os.chown(path, uid, uid)


def python(prefix: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    """This repository's Python with ``args``, run under ``prefix`` (the unprivileged user's wrapper)."""
    return subprocess.run(
        [*prefix, sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=False,
    )


def smart_mirror(prefix: list[str], config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return python(prefix, "-m", "mirror", "--config", str(config), *args)


def doctor(prefix: list[str], config: Path, *checks: str) -> dict[str, str]:
    """Doctor's lines for ``checks``, by check name."""
    result = python(prefix, "-c", DOCTOR, str(config), *checks)
    assert result.returncode == 0, result.stderr[-2000:]
    return {line[5:].split(":")[0]: line for line in result.stdout.splitlines()}


@pytest.mark.parametrize("how", ["another user's, 0750", "mode 000"])
def test_a_closet_folder_this_user_may_not_enter_is_one_line_with_the_fix(
    tmp_path: Path, normal_user: list[str], how: str
) -> None:
    """``Path.exists()`` raises PermissionError there on Python 3.11: every closet and sync command printed a
    traceback, and doctor said "the check itself failed … report it" for the data dir and the free disk."""
    config, data, ids = closet(tmp_path)
    me = user_name(os.geteuid())
    if how == "mode 000":
        data.chmod(0)
        fix = f"chmod u+rwx {data}"
    else:
        another_user()
        give(data, NOBODY)
        data.chmod(0o750)
        owner = user_name(NOBODY)
        fix = f"run smart-mirror as {owner} (sudo -u {owner} smart-mirror …), or give the closet to {me}: "
        fix += f"sudo chown -R {me} {data}"
    try:
        for action in (
            ["closet", "list"],
            ["closet", "show", ids[0]],
            ["closet", "delete", ids[0]],
            ["sync", "status"],
            ["sync", "resend"],
            ["sync", "drain", "--timeout", "1"],
        ):
            result = smart_mirror(normal_user, config, *action)
            err = result.stderr
            assert result.returncode == exitcodes.FAILED and err.count("\n") == 1, (action, err[-2000:])
            assert err.startswith(f"smart-mirror: cannot open the closet: {me} may not enter {data} "), err
            assert err.rstrip("\n").endswith(fix), err
        lines = doctor(normal_user, config, "check_data_dir", "check_closet", "check_free_disk")
        assert lines["data dir"].startswith(f"FAIL data dir: {me} may not enter {data} "), lines
        assert lines["data dir"].endswith(f"— fix: {fix}"), lines
        assert lines["closet"].endswith(f"— fix: {fix}"), lines
        assert lines["free disk"].startswith("OK   free disk: "), lines  # measured all the same
        assert not any("the check itself failed" in line for line in lines.values()), lines
    finally:
        data.chmod(0o700)  # pytest's clean-up must get in again


def test_doctor_fails_when_the_closet_folder_cannot_be_made(tmp_path: Path, normal_user: list[str]) -> None:
    """Doctor made a missing closet folder (0755, open to everyone); now it makes nothing, and says when
    the mirror could not make it either."""
    config, data, _ = closet(tmp_path, count=0)
    shutil.rmtree(data)
    tmp_path.chmod(0o555)
    try:
        line = doctor(normal_user, config, "check_data_dir")["data dir"]
    finally:
        tmp_path.chmod(0o700)
    me = user_name(os.geteuid())
    assert line == (
        f"FAIL data dir: {data} does not exist, and {me} may not make it in {tmp_path} — fix: "
        f"sudo install -d -m 700 -o {me} {data}, or set [store] data_dir to a folder {me} can write"
    )
    assert not data.exists()


@pytest.mark.parametrize("how", ["mode 0444", "another user's"])
def test_a_closet_db_this_user_may_not_write_is_named_by_doctor_and_the_store(
    tmp_path: Path, normal_user: list[str], how: str
) -> None:
    """A backup restored as root: doctor said OK twice while the mirror could neither keep nor sync, and the
    store's error said to make the folder writable, which it was."""
    config, data, ids = closet(tmp_path, count=2)
    db = data / "closet.db"
    if how == "mode 0444":
        db.chmod(0o444)
    else:
        another_user()
        os.chown(db, NOBODY, NOBODY)
    me = user_name(os.geteuid())
    lines = doctor(normal_user, config, "check_data_dir")
    assert lines["data dir"] == (
        f"FAIL data dir: closet.db in {data} not writable by {me}: the mirror can neither keep nor sync garments"
        f" — fix: sudo chown {me} {db} && sudo chmod u+rw {db}"
    )
    result = smart_mirror(normal_user, config, "closet", "delete", ids[0])
    assert result.returncode == exitcodes.FAILED and result.stderr.count("\n") == 1, result.stderr[-2000:]
    named = re.search(r"; make (.+) writable by this user \(the service user owns (it|them)\)$", result.stderr.strip())
    assert named is not None, result.stderr
    stuck = named[1].replace(" and ", ", ").split(", ")
    assert str(db) in stuck and str(data) not in stuck, result.stderr  # SQLite gives -wal/-shm the db's mode
