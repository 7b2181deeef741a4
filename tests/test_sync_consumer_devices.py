"""A consumer learns of a new mirror from its devices file, without a restart (``sync.consumer.devices``)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from sync.consumer.cli import build_parser, main
from sync.consumer.db import ConsumerDB
from sync.consumer.devices import DEVICE_ID, DeviceRegistry, DevicesFileError, parse_devices
from sync.consumer.handler import MessageHandler
from sync.contract import Topics, load_schema
from tests.conftest_broker import DEVICE, PREFIX
from tests.test_sync_consumer import record_and_image  # noqa: F401  (a fixture)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def write(path: Path, text: str) -> None:
    """Replace the file as an editor or config tool would (a new file renamed over the old)."""
    staged = path.with_suffix(".new")
    staged.write_text(text, encoding="utf-8")
    os.replace(staged, path)


def test_a_line_added_to_the_file_is_accepted_at_the_next_look(tmp_path: Path) -> None:
    path, clock = tmp_path / "devices.txt", Clock()
    write(path, "# the hall\nmirror-aaaaaaaaaa\n\nmirror-bbbbbbbbbb  # the bedroom\n")
    registry = DeviceRegistry(["mirror-fixed"], path, check_every_s=5.0, clock=clock)
    assert registry.ids() == {"mirror-fixed", "mirror-aaaaaaaaaa", "mirror-bbbbbbbbbb"}
    write(path, "mirror-aaaaaaaaaa\nmirror-cccccccccc\n")
    assert "mirror-cccccccccc" not in registry, "looked at no more than every check_every_s"
    clock.now = 5.0
    assert "mirror-cccccccccc" in registry and "mirror-bbbbbbbbbb" not in registry
    assert "mirror-fixed" in registry, "a --device stays whatever the file says"


def test_a_broken_file_keeps_the_last_good_list_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, clock = tmp_path / "devices.txt", Clock()
    write(path, "mirror-aaaaaaaaaa\n")
    registry = DeviceRegistry((), path, check_every_s=1.0, clock=clock)
    write(path, "mirror-aaaaaaaaaa\nmirror/+\n")
    with caplog.at_level(logging.WARNING, logger="sync.consumer.devices"):
        for second in range(1, 4):
            clock.now = float(second)
            assert "mirror-aaaaaaaaaa" in registry
        path.unlink()
        clock.now = 10.0
        assert "mirror-aaaaaaaaaa" in registry
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2, said
    assert "devices.txt:2: 'mirror/+' is not a device id" in said[0] and "1 mirror(s) read before stay" in said[0]
    assert "cannot read --devices-file" in said[1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read --devices-file"),
        ("mirror ok\n", "is not a device id"),
        (b"\xff\xfe mirror", "is not UTF-8 text"),
    ],
)
def test_the_consumer_does_not_start_on_a_devices_file_it_cannot_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "devices.txt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(DevicesFileError, match=message):
        DeviceRegistry((), path)
    assert main(["--devices-file", str(path), "--db", str(tmp_path / "c.db")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("smart-mirror-consumer: ") and message in err and "\n" not in err


def test_a_mirror_refused_as_unknown_is_stored_once_its_id_is_in_the_file(
    tmp_path: Path, record_and_image: tuple[bytes, bytes, str, str]  # noqa: F811
) -> None:
    """The mirror sends a rejected version again later: after the line is added, that try is stored."""
    message, image, sha, record_id = record_and_image
    path, clock = tmp_path / "devices.txt", Clock()
    write(path, f"{DEVICE}\n")
    handler = MessageHandler(ConsumerDB.open(str(tmp_path / "c.db")), PREFIX, DeviceRegistry((), path, clock=clock))
    stranger = Topics(PREFIX, "mirror-new")
    body = json.loads(message)
    theirs = json.dumps({**body, "record": {**body["record"], "device_id": "mirror-new"}}).encode()
    (refused,) = handler.handle(stranger.garment(record_id), theirs)
    assert refused.status == "rejected" and refused.reason.startswith("unknown_device:")
    write(path, f"{DEVICE}\nmirror-new\n")
    clock.now = 60.0
    assert handler.handle(stranger.image(sha), image) == []  # its image first, as the mirror sends it
    (stored,) = handler.handle(stranger.garment(record_id), theirs)
    assert (stored.device_id, stored.status) == ("mirror-new", "stored")


def test_the_file_takes_the_device_ids_the_contract_takes() -> None:
    """An id the garment schema refuses could never send a record: the file refuses it too."""
    schema = load_schema("garment")["$defs"]["record"]["properties"]["device_id"]["pattern"]
    assert DEVICE_ID.pattern == schema
    with pytest.raises(DevicesFileError, match="line"):
        parse_devices("mirror:1\n", Path("devices.txt"))


@pytest.mark.parametrize("device", ["mirror-1a2b3c4d5e", "a_b", "x" * 64, "bad/id", "mirror+", "+", "x" * 65, "a b"])
def test_device_on_the_command_line_takes_the_ids_the_file_takes(
    device: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review sync s5: ``--device bad/id`` was taken without a word, though the file refuses that line."""
    try:
        parse_devices(f"{device}\n", Path("devices.txt"))
        file_takes = True
    except DevicesFileError:
        file_takes = False
    if file_takes:
        assert build_parser().parse_args(["--device", device]).device == [device]
        return
    with pytest.raises(SystemExit) as stopped:  # the parser: main would run for ever on an id it took
        build_parser().parse_args(["--device", device])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and "Traceback" not in err
    assert err.splitlines()[-1] == f"smart-mirror-consumer: error: argument --device: {device!r} is not a device id " \
        "(1-64 of A-Z a-z 0-9 _ -)"  # fmt: skip
