"""Option checks of the reference consumer's and the sender's command lines (review sync s5).

A value the program cannot use is argparse's one-line usage error (exit 2), never a traceback from
deep inside (``struct.error`` for a negative session expiry, ``OverflowError`` for a port past
65535) and never taken without a word (a wildcard prefix, an empty size limit that dead-letters
every message, a port nothing can listen on).
"""

from __future__ import annotations

import pytest

from sync.consumer.cli import MAX_IMAGE_MB, MAX_RECORD_KB, MAX_SESSION_EXPIRY_S, build_parser
from sync.remote import main as remote_main
from tests.conftest_broker import DEVICE


def usage_error(call: list[str], capsys: pytest.CaptureFixture[str], *, remote: bool = False) -> str:
    """argparse's refusal of ``call``: exit 2, and its one-line error (after the usage). The consumer's
    parser only: its main would run (and retry its broker) for ever on options it took."""
    with pytest.raises(SystemExit) as stopped:
        remote_main(call) if remote else build_parser().parse_args(call)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ") and "Traceback" not in err, err
    [line] = [line for line in err.splitlines() if ": error: " in line]
    assert err.endswith(f"{line}\n")
    return line


@pytest.mark.parametrize(
    ("option", "value", "why"),
    [
        ("--session-expiry", "-5", f"must be from 0 to {MAX_SESSION_EXPIRY_S} s"),
        ("--session-expiry", "soon", "expected a number of seconds"),
        ("--http-port", "99999", "must be from 0 to 65535"),
        ("--http-port", "-1", "must be from 0 to 65535"),
        ("--port", "70000", "must be more than 0 and at most 65535"),
        ("--port", "0", "must be more than 0 and at most 65535"),
        ("--max-image-mb", "0", f"must be more than 0 and at most {MAX_IMAGE_MB}"),
        ("--max-image-mb", "-1", f"must be more than 0 and at most {MAX_IMAGE_MB}"),
        ("--max-image-mb", "4096", f"must be more than 0 and at most {MAX_IMAGE_MB}"),
        ("--max-record-kb", "0", f"must be more than 0 and at most {MAX_RECORD_KB}"),
        ("--device", "bad/id", "'bad/id' is not a device id (1-64 of A-Z a-z 0-9 _ -)"),
        ("--device", "mirror+", "is not a device id"),
        ("--erase-device", "a/#", "is not a device id"),
        ("--prefix", "a/+/b", "'a/+/b' is not usable in MQTT topics; no +, # or NUL"),
        ("--prefix", "a/#", "is not usable in MQTT topics"),
        ("--prefix", "smart-mirror/", "is not usable in MQTT topics"),
        ("--prefix", "", "is not usable in MQTT topics"),
    ],
)
def test_the_consumer_refuses_an_unusable_option_in_one_line(
    option: str, value: str, why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line = usage_error(["--any-device", option, value], capsys)
    assert line.startswith(f"smart-mirror-consumer: error: argument {option}: ") and why in line, line


def test_the_consumers_limits_themselves_are_accepted() -> None:
    args = build_parser().parse_args(
        [
            "--device", DEVICE, "--port", "65535", "--http-port", "0", "--session-expiry", "0",
            "--max-image-mb", str(MAX_IMAGE_MB), "--max-record-kb", "1", "--prefix", "a/b",
        ]
    )  # fmt: skip
    assert (args.port, args.http_port, args.session_expiry) == (65535, 0, 0)
    assert (args.max_image_mb, args.max_record_kb, args.prefix, args.device) == (MAX_IMAGE_MB, 1, "a/b", [DEVICE])
    assert build_parser().parse_args(["--session-expiry", str(MAX_SESSION_EXPIRY_S)]).session_expiry > 0


def test_the_image_limits_help_says_what_becomes_of_a_larger_image(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/sync.md, Message sizes: one over the limit plus 64 KiB never reaches the consumer at all."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    flat = " ".join(capsys.readouterr().out.split())
    assert "one over this plus 64 KiB never reaches the consumer: the broker drops it" in flat


@pytest.mark.parametrize("prefix", ["a/#", "a/+/b", "/a", "$SYS", "a/"])
def test_the_sender_refuses_a_wildcard_prefix_up_front(prefix: str, capsys: pytest.CaptureFixture[str]) -> None:
    """It raised ValueError from paho's thread mid-connect, then said to check the credentials."""
    line = usage_error(["--device", DEVICE, "--prefix", prefix, "capture"], capsys, remote=True)
    assert line == (
        f"python -m sync.remote: error: argument --prefix: {prefix!r} is not usable in MQTT topics; "
        "no +, # or NUL, and no $ or / at the start or / at the end"
    )


def test_the_sender_refuses_a_port_past_65535(capsys: pytest.CaptureFixture[str]) -> None:
    line = usage_error(["--device", DEVICE, "--port", "70000", "capture"], capsys, remote=True)
    assert line == "python -m sync.remote: error: argument --port: must be more than 0 and at most 65535, got 70000"
