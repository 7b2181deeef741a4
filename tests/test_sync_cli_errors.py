"""User-facing errors of ``smart-mirror sync drain|command`` and ``python -m sync.remote`` (review s13).

Each is one line naming the thing and the fix, with the right exit status, and never a traceback:
numeric options bounded by argparse (H2), ``--device`` held to the config's device-id rule (H4), a
TLS setup error that ``sync drain`` reports whole and at once (M3), and each command line's own
prefix on the sender's errors (L5). No broker is needed: a closed port refuses every connection.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mirror.cli import exitcodes
from mirror.cli.main import main as cli_main
from sync.lifetime import MAX_TTL_S
from sync.remote import main as remote_main
from tests.broker import closed_port
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


def test_drain_with_the_broker_down_keeps_the_records_queued_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill_store(tmp_path / "mirror", 2).close()
    with closed_port() as port:
        config = write_config(tmp_path, port)
        assert cli_main(["--config", str(config), "sync", "drain", "--timeout", "1"]) == exitcodes.FAILED
    err = capsys.readouterr().err
    assert err.startswith(f"smart-mirror: broker mqtt://127.0.0.1:{port} unreachable (") and err.count("\n") == 1
    assert err.endswith("; 2 record version(s) waiting — they stay queued and go when it is back\n"), err
