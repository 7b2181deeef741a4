"""``smart-mirror closet`` and ``smart-mirror sync`` as a person at a shell meets them."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path

import pytest

from mirror.cli import exitcodes, main
from mirror.store import ClosetStore
from mirror.store.samples import synthetic_draft
from tests.broker import Mosquitto, closed_port
from tests.conftest_broker import PREFIX, ConsumerFactory


def setup(tmp_path: Path, port: int = 1, count: int = 3) -> tuple[Path, list[str]]:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[device]\nid = "cli-dev"\n[store]\ndata_dir = "{tmp_path / "closet"}"\nmin_free_mb = 0\n'
        f'[sync]\nhost = "127.0.0.1"\nport = {port}\ntopic_prefix = "{PREFIX}"\nbackoff_min_s = 0.2\n'
    )
    with ClosetStore.open(tmp_path / "closet", "cli-dev", min_free_mb=0) as store:
        ids = [store.add(synthetic_draft(i, image_kb=1)).id for i in range(count)]
    return config, ids


def test_list_show_delete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, ids = setup(tmp_path)
    assert main(["--config", str(config), "closet", "list"]) == exitcodes.OK
    out, err = capsys.readouterr()
    assert [line.split()[0] for line in out.splitlines()] == list(reversed(ids))
    assert "3 garment(s)" in err
    assert main(["--config", str(config), "closet", "list", "--category", "longsleeve"]) == exitcodes.OK
    assert capsys.readouterr().out.split()[0] == ids[1]  # synthetic_draft(1): mirror.vocab's second category
    assert main(["--config", str(config), "closet", "show", ids[0]]) == exitcodes.OK
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == ids[0] and Path(shown["image_paths"]["cutout_png"]).exists()
    assert main(["--config", str(config), "closet", "delete", ids[0]]) == exitcodes.OK
    assert "version 2 queued for sync" in capsys.readouterr().out
    assert main(["--config", str(config), "closet", "show", ids[0]]) == exitcodes.FAILED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "closet list" in err
    assert main(["--config", str(config), "closet", "delete", ids[0]]) == exitcodes.FAILED
    # Not "no garment with id …": the id is right, the garment is gone already.
    assert capsys.readouterr().err == f"smart-mirror: garment {ids[0]} was deleted already; nothing to do\n"


@pytest.mark.parametrize("action", ["show", "delete"])
def test_an_id_with_undecodable_bytes_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], action: str
) -> None:
    """A bad paste (bytes the terminal could not decode) reached SQLite and ended in a traceback."""
    config, ids = setup(tmp_path)
    pasted = b"\xff\xfe".decode(errors="surrogateescape")  # as Python hands such argv bytes over
    with pytest.raises(SystemExit) as usage:  # argparse's usage error
        main(["--config", str(config), "closet", action, pasted])
    assert usage.value.code == exitcodes.USAGE
    err = capsys.readouterr().err
    assert "is not a record id" in err and "Traceback" not in err
    assert main(["--config", str(config), "closet", "show", ids[0]]) == exitcodes.OK, "the closet is untouched"


def test_corrupt_closet_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, _ = setup(tmp_path, count=0)
    db = tmp_path / "closet" / "closet.db"
    for extra in ("-wal", "-shm"):
        Path(f"{db}{extra}").unlink(missing_ok=True)
    db.write_bytes(b"not a database" * 100)
    assert main(["--config", str(config), "closet", "list"]) == exitcodes.FAILED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is damaged" in err and "Traceback" not in err


def test_sync_status_and_drain_with_the_broker_down(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    level = logging.getLogger("sync").level
    with closed_port() as port:
        config, _ = setup(tmp_path, port=port)
        assert main(["--config", str(config), "sync", "status"]) == exitcodes.OK
        assert ": 3 waiting, 0 in flight, 0 acknowledged" in capsys.readouterr().out
        assert main(["--config", str(config), "sync", "drain", "--timeout", "1"]) == exitcodes.FAILED
    assert logging.getLogger("sync").level == level, "the drain quiets the sync log only while it runs"
    said, last = capsys.readouterr().err.splitlines()  # at once that it retries, then the outcome
    assert "unreachable" in said and said.endswith("retrying until the timeout (1 s) …")
    assert "unreachable" in last and "3 record version(s) waiting" in last


@pytest.mark.broker
def test_sync_drain_against_a_real_broker(
    tmp_path: Path, mosquitto: Mosquitto, start_consumer: ConsumerFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    consumer = start_consumer(mosquitto.port, devices=frozenset({"cli-dev"}))
    config, _ = setup(tmp_path, port=mosquitto.port)
    assert main(["--config", str(config), "sync", "drain", "--timeout", "20"]) == exitcodes.OK
    assert "(3 this run)" in capsys.readouterr().out
    assert main(["--config", str(config), "sync", "status"]) == exitcodes.OK
    assert "0 waiting, 0 in flight, 3 acknowledged" in capsys.readouterr().out
    assert consumer.db.counts()["garments"] == 3


@pytest.mark.broker
def test_sync_drain_names_what_the_cloud_rejected_and_ends(
    tmp_path: Path, mosquitto: Mosquitto, start_consumer: ConsumerFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rejected version waits an hour: drain must not wait for it for ever, nor call it a lost ack."""
    start_consumer(mosquitto.port, devices=frozenset({"cli-dev"}))
    config, ids = setup(tmp_path, port=mosquitto.port)
    conn = sqlite3.connect(tmp_path / "closet" / "closet.db")
    conn.execute("UPDATE records SET body = json_set(body, '$.category_score', 5.0) WHERE id = ?", (ids[0],))
    conn.commit()
    conn.close()
    assert main(["--config", str(config), "sync", "drain", "--timeout", "30"]) == exitcodes.FAILED
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "2 acknowledged this run, but 1 record version(s) were rejected by the cloud" in err
    assert f"garment {ids[0]} v1: " in err and "category_score" in err
    assert main(["--config", str(config), "sync", "status"]) == exitcodes.OK
    assert "1 waiting (1 held back after a rejection), 0 in flight, 2 acknowledged" in capsys.readouterr().out


def test_closet_list_refuses_a_colour_that_is_not_a_basic_term(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["closet", "list", "--color", "Grey"])
    assert info.value.code == 2
    assert "invalid choice: 'Grey' (choose from 'black', 'white', 'grey'" in capsys.readouterr().err


def closet_config(tmp_path: Path) -> tuple[Path, Path]:
    """A config whose closet folder holds nothing yet, and that folder."""
    data = tmp_path / "closet"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[device]\nid = "cli-dev"\n[store]\ndata_dir = "{data}"\nmin_free_mb = 0\n[sync]\nenabled = false\n'
    )
    return config, data


def look(config: Path, capsys: pytest.CaptureFixture[str]) -> list[tuple[int, str, str]]:
    """``closet list`` and ``closet show`` of an id: each one's exit code, stdout and stderr."""
    answers = []
    for action in (["list"], ["show", "0190a1b2-0000-7000-8000-000000000000"]):
        code = main(["--config", str(config), "closet", *action])
        out, err = capsys.readouterr()
        answers.append((code, out, err))
    return answers


def test_looking_at_a_0_byte_closet_db_changes_nothing_and_reads_as_no_closet_yet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A power cut during the mirror's very first open leaves ``closet.db`` at 0 bytes. ``closet list`` and
    ``show`` opened the store on it, which made the tables: a look wrote to the closet."""
    config, data = closet_config(tmp_path)
    data.mkdir()
    db = data / "closet.db"
    db.write_bytes(b"")
    os.utime(db, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    before = sorted(p.name for p in data.iterdir())
    empty = look(config, capsys)
    assert db.read_bytes() == b"" and db.stat().st_mtime_ns == 1_000_000_000_000_000_000
    assert sorted(p.name for p in data.iterdir()) == before  # no -wal, -shm or images/ either
    db.unlink()
    assert look(config, capsys) == empty, "a 0-byte closet.db reads as no closet.db at all"
    (listed, listed_out, listed_err), (shown, _, shown_err) = empty
    assert (listed, listed_out, listed_err) == (exitcodes.OK, "", f"0 garment(s): no closet at {data} yet\n")
    assert shown == exitcodes.FAILED and shown_err.startswith("smart-mirror: no garment with id 0190a1b2-")
    assert not db.exists(), "a look makes no closet either"


def test_the_mirror_still_makes_its_tables_in_a_0_byte_closet_db(tmp_path: Path) -> None:
    db = tmp_path / "closet.db"
    db.write_bytes(b"")
    with ClosetStore.open(tmp_path, "cli-dev", min_free_mb=0) as store:
        kept = store.add(synthetic_draft(0, image_kb=1))
    with ClosetStore.open(tmp_path, "cli-dev", min_free_mb=0) as store:
        assert [r.id for r in store.list()] == [kept.id]


def test_a_0_byte_closet_db_beside_a_log_of_garments_is_refused_not_listed_as_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The one empty closet.db that is not a new closet: its garments are in the -wal (mirror.store.orphan)."""
    config, data = closet_config(tmp_path)
    data.mkdir()
    (data / "closet.db").write_bytes(b"")
    wal = data / "closet.db-wal"
    wal.write_bytes(b"\x37\x7f\x06\x82" + bytes(4092))
    for code, out, err in look(config, capsys):
        assert code == exitcodes.FAILED and out == "" and "nothing was changed" in err and err.count("\n") == 1
    assert wal.read_bytes() == b"\x37\x7f\x06\x82" + bytes(4092)


def test_a_missing_closet_db_beside_earlier_garment_images_is_not_listed_as_no_closet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Images with no database: the database (or its -wal) was lost. ``list`` must not answer "no closet yet"
    quietly, and must not write either: it opened the store, which made a new, empty database."""
    config, data = closet_config(tmp_path)
    with ClosetStore.open(data, "cli-dev", min_free_mb=0) as store:
        store.add(synthetic_draft(0, image_kb=1))
    for leftover in data.glob("closet.db*"):
        leftover.unlink()
    before = sorted(p.name for p in data.iterdir())
    (listed, out, err), (shown, _, shown_err) = look(config, capsys)
    assert listed == exitcodes.OK and out == "" and "no closet at" not in err
    assert err.startswith("0 garment(s): ") and "holds 1 garment image(s) of an earlier closet" in err
    assert "restore closet.db and its -wal from a backup" in err
    assert shown == exitcodes.FAILED and "earlier closet" in shown_err and "no garment with id" not in shown_err
    assert sorted(p.name for p in data.iterdir()) == before, "a look made a database"


@pytest.mark.parametrize("dangling", ["closet.db", "folder"])
def test_a_closet_behind_a_link_to_nowhere_is_not_listed_as_no_closet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dangling: str
) -> None:
    """A closet on a disk that is not mounted (closet.db or its folder a symlink to nowhere) is not an empty
    closet: ``list`` must not say "0 garment(s): no closet … yet", and ``show`` must not say the garment is
    not there; the store's open says what is wrong."""
    config, data = closet_config(tmp_path)
    if dangling == "folder":
        data.symlink_to(tmp_path / "unmounted" / "closet")
    else:
        data.mkdir()
        (data / "closet.db").symlink_to(tmp_path / "unmounted" / "closet.db")
    for code, _out, err in look(config, capsys):
        assert code != exitcodes.OK or "no closet at" not in err
        assert "no closet at" not in err and "no garment with id" not in err, err
        assert "is a link to" in err and "mount the disk" in err, err
