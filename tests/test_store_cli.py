"""``smart-mirror closet`` and ``smart-mirror sync`` as a person at a shell meets them."""

from __future__ import annotations

import json
import logging
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
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "unreachable" in err and "3 record version(s) waiting" in err


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
