"""User-facing errors of ``smart-mirror sync drain|command`` and ``python -m sync.remote`` (review s13).

Each is one line naming the thing and the fix, with the right exit status, and never a traceback:
numeric options bounded by argparse (H2), ``--device`` held to the config's device-id rule (H4), a
TLS setup error that ``sync drain`` reports whole and at once (M3), and each command line's own
prefix on the sender's errors (L5). No broker is needed: a closed port refuses every connection.
From the CLI review (notes/review_cli.md): status and resend need no broker password (s6), drain says
at once that the broker is down (s7), and a broker that takes the connection but never answers the
login is named so, within the sender's ``--timeout`` (s8).
"""

from __future__ import annotations

import contextlib
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mirror.cli import exitcodes
from mirror.cli.main import main as cli_main
from sync.lifetime import MAX_TTL_S
from sync.remote import main as remote_main
from tests.broker import closed_port
from tests.conftest import ROOT
from tests.conftest_broker import DEVICE, PREFIX, fill_store


def write_config(tmp_path: Path, port: int, sync: str = "") -> Path:
    config = tmp_path / "mirror.toml"
    config.write_text(
        f'[device]\nid = "{DEVICE}"\n[store]\ndata_dir = "{tmp_path / "mirror"}"\nmin_free_mb = 0\n'
        f'[sync]\nhost = "127.0.0.1"\nport = {port}\ntopic_prefix = "{PREFIX}"\nbackoff_min_s = 0.2\n{sync}'
    )
    return config


def usage_error(call: list[str], capsys: pytest.CaptureFixture[str], *, remote: bool = False) -> str:
    """argparse's refusal of ``call``: exit 2, and its one-line error (after the usage line)."""
    with pytest.raises(SystemExit) as stopped:
        remote_main(call) if remote else cli_main(call)
    assert stopped.value.code == exitcodes.USAGE
    err = capsys.readouterr().err
    assert err.startswith("usage: ") and "Traceback" not in err, err
    [line] = [line for line in err.splitlines() if ": error: " in line]  # after the usage, one line
    assert err.endswith(f"{line}\n")
    return line


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "86401", "soon"])
def test_drain_timeout_must_be_a_sane_number_of_seconds(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, 1)
    line = usage_error(["--config", str(config), "sync", "drain", "--timeout", value], capsys)
    assert "argument --timeout:" in line and value in line


SENDER_OPTIONS = [
    ("--ttl", "nan"),
    ("--ttl", "-5"),
    ("--ttl", f"{MAX_TTL_S + 1:g}"),
    ("--ttl", "0"),
    ("--timeout", "nan"),
    ("--timeout", "-1"),
    ("--timeout", "1e9"),
    ("--retry", "nan"),
    ("--retry", "-3"),
    ("--retry", "inf"),
]


@pytest.mark.parametrize(("option", "value"), SENDER_OPTIONS)
def test_sync_command_numbers_are_bounded(
    option: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, 1)
    line = usage_error(["--config", str(config), "sync", "command", "capture", option, value], capsys)
    assert line.startswith("smart-mirror sync command: error: argument") and option in line


@pytest.mark.parametrize(("option", "value"), SENDER_OPTIONS)
def test_sync_remote_numbers_are_bounded(option: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = usage_error(["--device", DEVICE, "capture", option, value], capsys, remote=True)
    assert line.startswith("python -m sync.remote: error: argument") and option in line


@pytest.mark.parametrize("device", ["bad/#", "+", "a b", "", "x" * 65])
def test_device_must_be_a_device_id(device: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A topic level: a wildcard or a slash would address other mirrors (paho raised mid-connect)."""
    config = write_config(tmp_path, 1)
    line = usage_error(["--config", str(config), "sync", "command", "capture", "--device", device], capsys)
    assert "argument --device: expected a device id (1-64 letters, digits, - or _)" in line
    line = usage_error(["--device", device, "capture"], capsys, remote=True)
    assert "argument --device: expected a device id" in line


def test_limits_themselves_are_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--retry 0`` (never) and the maxima are fine; only the broker is missing here."""
    with closed_port() as port:
        config = write_config(tmp_path, port)
        limits = ["--ttl", f"{MAX_TTL_S:g}", "--timeout", f"{MAX_TTL_S:g}", "--retry", "0"]
        call = ["--config", str(config), "sync", "command", "capture", "--device", "mirror_2-b", *limits]
        assert cli_main(call) == exitcodes.FAILED
    assert "unreachable" in capsys.readouterr().err


def test_sender_errors_carry_the_prefix_of_their_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with closed_port() as port:
        config = write_config(tmp_path, port)
        assert cli_main(["--config", str(config), "sync", "command", "capture"]) == exitcodes.FAILED
        err = capsys.readouterr().err
        assert err.startswith(f"smart-mirror: broker mqtt://127.0.0.1:{port} unreachable (") and err.count("\n") == 1
        assert remote_main(["--host", "127.0.0.1", "--port", str(port), "--device", DEVICE, "capture"]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"sync.remote: broker mqtt://127.0.0.1:{port} unreachable (") and err.count("\n") == 1


def test_a_tls_file_the_sender_cannot_read_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ca = tmp_path / "noca.pem"
    config = write_config(tmp_path, 1, f'tls = true\nca_file = "{ca}"\n')
    assert cli_main(["--config", str(config), "sync", "command", "capture"]) == exitcodes.USAGE
    err = capsys.readouterr().err
    assert err.startswith("smart-mirror: cannot set up TLS for mqtts://127.0.0.1:1 (") and err.count("\n") == 1
    assert str(ca) in err and "check the CA, certificate and key files" in err


def test_drain_reports_a_tls_setup_error_whole_and_stops_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review s13, M3: the fix was cut off, and "they go when it is back" is false for a config error."""
    fill_store(tmp_path / "mirror", 2).close()
    ca = tmp_path / "noca.pem"
    config = write_config(tmp_path, 1, f'tls = true\nca_file = "{ca}"\n')
    assert cli_main(["--config", str(config), "sync", "drain", "--timeout", "30"]) == exitcodes.USAGE
    err = capsys.readouterr().err
    assert err.startswith("smart-mirror: cannot set up TLS for mqtts://127.0.0.1:1 ([Errno 2] No such file")
    assert f"({ca}) exist and are readable" in err and err.count("\n") == 1
    assert "go when it is back" not in err
    assert cli_main(["--config", str(config), "sync", "status"]) == exitcodes.OK
    assert "2 waiting" in capsys.readouterr().out  # nothing lost


def test_drain_with_the_broker_down_says_so_once_at_once_and_keeps_the_records_queued(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review cli s7: silent for the whole timeout (60 s by default). Now one line when the first connect
    fails (not one per retry: it retries every 0.2 s here), then the one-line verdict at the end."""
    fill_store(tmp_path / "mirror", 2).close()
    with closed_port() as port:
        config = write_config(tmp_path, port)
        assert cli_main(["--config", str(config), "sync", "drain", "--timeout", "1.5"]) == exitcodes.FAILED
    said, verdict = capsys.readouterr().err.splitlines()
    unreachable = f"smart-mirror: broker mqtt://127.0.0.1:{port} unreachable ("
    assert said.startswith(unreachable) and said.endswith("); retrying until the timeout (1.5 s) …"), said
    assert verdict.startswith(unreachable), verdict
    assert verdict.endswith("; 2 record version(s) waiting — they stay queued and go when it is back"), verdict


def test_drain_says_the_broker_is_down_long_before_its_timeout(tmp_path: Path) -> None:
    """The progress line comes as the first connect fails, not with the verdict (run as an operator does)."""
    fill_store(tmp_path / "mirror", 1).close()
    with closed_port() as port:
        config = write_config(tmp_path, port)
        call = [sys.executable, "-m", "mirror", "--config", str(config), "sync", "drain", "--timeout", "60"]
        proc = subprocess.Popen(call, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=ROOT)
        try:
            started = time.monotonic()
            ready, _w, _x = select.select([proc.stderr], [], [], 20.0)
            line = proc.stderr.readline() if ready and proc.stderr else ""
            waited = time.monotonic() - started
        finally:
            proc.kill()
            proc.communicate()
    assert "unreachable (" in line and "retrying until the timeout (60 s) …" in line, line
    assert waited < 20.0


@contextlib.contextmanager
def silent_broker() -> Iterator[int]:
    """A loopback port that takes TCP connections (the kernel completes them into the backlog) and
    never says a word: a broker stuck, or something that is no MQTT broker."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as server:
        yield int(server.getsockname()[1])


@contextlib.contextmanager
def hanging_up_broker() -> Iterator[int]:
    """A loopback port that takes each connection and closes it unanswered (e.g. a TLS listener
    meeting a plain client, or a broker at its connection limit)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    closing = threading.Event()

    def serve() -> None:
        while not closing.is_set():
            try:
                conn, _addr = server.accept()
            except TimeoutError:
                continue
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        closing.set()
        thread.join(2)
        server.close()


def test_a_broker_that_never_answers_the_login_is_named_so_within_the_senders_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review cli s8: a fixed 10 s wait whatever --timeout said, then "check the credentials" for an
    anonymous login. The wait is --timeout now (up to 10 s), and the line says what happened."""
    with silent_broker() as port:
        config = write_config(tmp_path, port)
        started = time.monotonic()
        assert cli_main(["--config", str(config), "sync", "command", "capture", "--timeout", "1"]) == exitcodes.FAILED
        assert time.monotonic() - started < 5.0
        call = ["--host", "127.0.0.1", "--port", str(port), "--device", DEVICE, "--timeout", "1", "capture"]
        assert remote_main(call) == 1
    cli_err, remote_err = capsys.readouterr().err.splitlines()
    silent = (
        f"broker mqtt://127.0.0.1:{port} accepted the connection but did not answer the login within 1 s; "
        "check the broker's log, and that this port is an MQTT broker's"
    )
    assert cli_err == f"smart-mirror: {silent}" and remote_err == f"sync.remote: {silent}"


def test_a_broker_that_hangs_up_before_the_login_is_not_blamed_on_the_credentials(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with hanging_up_broker() as port:
        call = ["--host", "127.0.0.1", "--port", str(port), "--device", DEVICE, "--timeout", "1", "capture"]
        assert remote_main(call) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"sync.remote: broker mqtt://127.0.0.1:{port} closed the connection before answering")
    assert "check the port and TLS" in err and "credentials" not in err and err.count("\n") == 1


def test_drain_against_a_broker_that_never_answers_says_it_never_got_connected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review cli s8: it said "no ack from the cloud", blaming the cloud for a login that never finished."""
    fill_store(tmp_path / "mirror", 2).close()
    with silent_broker() as port:
        config = write_config(tmp_path, port)
        assert cli_main(["--config", str(config), "sync", "drain", "--timeout", "1"]) == exitcodes.FAILED
    err = capsys.readouterr().err
    assert err == (
        f"smart-mirror: never got connected: broker mqtt://127.0.0.1:{port} accepted the connection but did not "
        "answer the login within 1 s; check the broker's log, and that this port is an MQTT broker's; "
        "2 record version(s) waiting — they stay queued and go when it is back\n"
    )


@pytest.mark.parametrize("enabled", ["false", "true"])
def test_status_and_resend_need_no_password(enabled: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Review cli s6: both read or write the outbox only, yet an unreadable password_file stopped them
    (exit 2), even with sync disabled. Drain, which logs in, still stops on it."""
    fill_store(tmp_path / "mirror", 2).close()
    missing = tmp_path / "no" / "password"
    config = write_config(tmp_path, 1, f'enabled = {enabled}\nusername = "m"\npassword_file = "{missing}"\n')
    assert cli_main(["--config", str(config), "sync", "status"]) == exitcodes.OK
    out = capsys.readouterr().out
    assert out.startswith("mqtt://m@127.0.0.1:1: 2 waiting, 0 in flight, 0 acknowledged")
    assert ("(sync is disabled: [sync] enabled = false)" in out) == (enabled == "false")
    assert cli_main(["--config", str(config), "sync", "resend"]) == exitcodes.OK
    assert capsys.readouterr().out == "2 garment(s) queued again; they go when the mirror is online\n"
    drained = cli_main(["--config", str(config), "sync", "drain", "--timeout", "1"])
    err = capsys.readouterr().err
    if enabled == "false":
        assert drained == exitcodes.FAILED and "sync is disabled" in err
    else:
        assert drained == exitcodes.USAGE
        assert err.startswith(f"[sync] password_file: cannot read {missing} (No such file") and err.count("\n") == 1
