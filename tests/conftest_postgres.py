"""A real, throw-away PostgreSQL server for the consumer's PostgreSQL backend.

The fixture runs ``initdb`` into a temporary folder and starts ``postgres`` on a Unix socket
in that folder (no TCP port, trust auth), as the ``postgres`` system user when the tests run
as root (the server refuses to run as root). ``$SMART_MIRROR_TEST_PG_URL`` overrides it with
a scratch database of your own. Without PostgreSQL's server binaries the tests that need it
skip, saying so; ``scripts/test.sh`` installs them (apt package ``postgresql``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL_ENV = "SMART_MIRROR_TEST_PG_URL"
PORT = 5433


def _server_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _run_as(user: str | None) -> dict[str, int]:
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid}


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A ``postgresql://`` URL to an empty database on a private server."""
    if os.environ.get(PG_URL_ENV):
        yield os.environ[PG_URL_ENV]
        return
    pytest.importorskip("psycopg", reason="psycopg is not installed (scripts/test.sh installs it)")
    bindir = _server_bin()
    if bindir is None:
        pytest.skip("PostgreSQL's server is not installed (apt package postgresql; scripts/test.sh installs it)")
    user = "postgres" if os.geteuid() == 0 else None
    if user is not None:
        try:
            pwd.getpwnam(user)
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
    home = Path(tempfile.mkdtemp(prefix="smart-mirror-pg-"))
    if user is not None:
        shutil.chown(home, user)
    data = home / "data"
    as_user = _run_as(user)
    subprocess.run(
        [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
        **as_user,
    )  # type: ignore[call-overload]
    options = f"-k {home} -p {PORT} -c listen_addresses='' -c fsync=off"
    subprocess.run(
        [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(home / "log"), "-w", "start"],
        check=True,
        capture_output=True,
        **as_user,
    )  # type: ignore[call-overload]
    try:
        yield f"postgresql://postgres@/postgres?host={home}&port={PORT}"
    finally:
        subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
            **as_user,
        )  # type: ignore[call-overload]
        shutil.rmtree(home, ignore_errors=True)
