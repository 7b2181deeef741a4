"""The smart-mirror command line: help everywhere, doctor's report, exit codes."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mirror.cli import exitcodes, main
from mirror.cli.commands import COMMANDS

SUBCOMMANDS = [(c.NAME,) for c in COMMANDS] + [
    ("closet", "list"),
    ("closet", "show"),
    ("closet", "delete"),
    ("sync", "status"),
    ("sync", "drain"),
]


@pytest.mark.parametrize("words", [(), *SUBCOMMANDS], ids=lambda w: " ".join(w) or "top")
def test_help_of_every_subcommand(words: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*words, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: smart-mirror")


def test_console_script_runs_without_traceback() -> None:
    result = subprocess.run([sys.executable, "-m", "mirror", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    for command in COMMANDS:
        assert command.NAME in result.stdout


def test_bad_config_exits_2_with_one_line_per_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text('[sync]\nport = "abc"\nprot = 1\n')
    assert main(["--config", str(bad), "closet", "list"]) == exitcodes.USAGE
    err = capsys.readouterr().err.splitlines()
    assert f'{bad}: [sync] port: expected an integer 1–65535, got "abc"' in err
    assert f'{bad}: [sync] prot: unknown key; did you mean "port"?' in err
    assert "Traceback" not in "\n".join(err)


def test_missing_config_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(tmp_path / "missing.toml"), "closet", "list"]) == exitcodes.USAGE
    assert "file not found" in capsys.readouterr().err


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\ndata_dir = "{tmp_path / "closet"}"\n' + text)
    return path


def doctor(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["--config", str(config), "doctor"])
    return code, capsys.readouterr().out.splitlines()


def test_doctor_on_a_clean_machine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Demo camera, broker down: an honest report, one line per check, exit code from FAILs."""
    with socket.socket() as dead:  # bound but not listening: connections are refused
        dead.bind(("127.0.0.1", 0))
        port = dead.getsockname()[1]
        config = write_config(tmp_path, f'[camera]\nsource = "demo"\n[sync]\nport = {port}\n')
        code, lines = doctor(config, capsys)
    body = lines[:-1]
    assert all(line.split()[0] in {"OK", "WARN", "FAIL"} for line in body), lines
    assert any(line.startswith("OK   config:") for line in body)
    assert any(line.startswith("OK   data dir:") for line in body)
    assert any(line.startswith("WARN broker:") and "outbox" in line for line in body)
    assert any(line.startswith("OK   camera: demo source") for line in body)
    failed = [line for line in body if line.startswith("FAIL")]
    assert all("— fix:" in line for line in failed)
    assert code == (exitcodes.FAILED if failed else exitcodes.OK)
    assert lines[-1].endswith(f"{len(failed)} failed, {sum(x.startswith('WARN') for x in body)} warnings")


def test_doctor_reports_a_missing_camera_and_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(
        tmp_path,
        f'[camera]\nsource = "v4l2"\ndevice = "{tmp_path}/video9"\n'
        f'[vision]\nmodels_dir = "{tmp_path}/no-models"\n[sync]\nenabled = false\n',
    )
    code, lines = doctor(config, capsys)
    assert code == exitcodes.FAILED
    assert any(line.startswith("FAIL camera: no camera at") for line in lines)
    assert any(line.startswith("FAIL model segmenter:") and "missing" in line for line in lines)
    assert any(line.startswith("OK   broker: sync disabled") for line in lines)


def test_doctor_reports_a_bad_config_instead_of_stopping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text("[sync]\nport = 0\n")
    code, lines = doctor(bad, capsys)
    assert code == exitcodes.FAILED
    assert lines[0].startswith(f"FAIL config: {bad}: [sync] port: expected an integer 1–65535, got 0")
    assert any(line.startswith("OK   data dir:") for line in lines)


def test_doctor_data_dir_not_writable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\ndata_dir = "{blocker}/closet"\n[camera]\nsource = "demo"\n[sync]\nenabled = false\n')
    code, lines = doctor(config, capsys)
    assert code == exitcodes.FAILED
    assert any(line.startswith("FAIL data dir:") and "— fix:" in line for line in lines)


def test_doctor_free_disk_threshold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\ndata_dir = "{tmp_path}"\nmin_free_mb = 1000000\n[sync]\nenabled = false\n')
    _, lines = doctor(config, capsys)
    assert any(line.startswith("FAIL free disk:") for line in lines)
