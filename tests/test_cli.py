"""The smart-mirror command line: help everywhere, doctor's report, exit codes."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mirror.cli import exitcodes, main
from mirror.cli.argtypes import BACKENDS
from mirror.cli.commands import COMMANDS
from mirror.cli.commands import run as run_command
from mirror.cli.commands import sync as sync_command
from mirror.cli.main import build_parser as main_parser
from mirror.inference import BACKENDS as INFERENCE_BACKENDS
from mirror.manifest import default_models_dir
from mirror.store import ClosetStore
from mirror.store.samples import synthetic_draft
from mirror.vocab import BASIC_TERMS, CATEGORIES
from sync.commands import COMMANDS as REMOTE_COMMANDS
from sync.commands import SCREENS, Command
from sync.worker import SyncWorker
from tests.broker import Mosquitto
from tests.conftest_broker import DEVICE, PREFIX, fill_store, sync_settings

SUBCOMMANDS = [(c.NAME,) for c in COMMANDS] + [
    ("closet", "list"),
    ("closet", "show"),
    ("closet", "delete"),
    ("sync", "status"),
    ("sync", "drain"),
    ("sync", "command"),
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


def test_the_command_line_loads_no_vision_to_parse() -> None:
    """``smart-mirror --help``, ``sync status``…: OpenCV and numpy load only in the commands that analyse."""
    code = "import sys, mirror.cli.main; print(sorted(m for m in ('cv2', 'numpy') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_backend_choices_are_the_runtimes_the_core_loads() -> None:
    """The parser spells the backends out (no numpy while parsing); they must not drift from ``mirror.inference``."""
    assert BACKENDS == INFERENCE_BACKENDS


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


def test_doctor_with_a_missing_config_file_gives_one_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = doctor(tmp_path / "missing.toml", capsys)
    assert code == exitcodes.FAILED
    assert lines[0] == (
        f"FAIL config: {tmp_path / 'missing.toml'}: file not found; fix the path given by --config or "
        "$SMART_MIRROR_CONFIG"
    )


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


def test_doctor_reads_the_closet_and_names_a_damaged_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, '[camera]\nsource = "demo"\n[sync]\nenabled = false\n')
    _, lines = doctor(config, capsys)
    assert any(line.startswith("OK   closet:") and "not created yet" in line for line in lines)
    with ClosetStore.open(tmp_path / "closet", "dev-a", min_free_mb=0) as store:
        store.add(synthetic_draft(1, image_kb=1))
        bad = store.add(synthetic_draft(2, image_kb=1))
    _, lines = doctor(config, capsys)
    assert any(line.startswith("OK   closet:") and "2 garment version(s), all readable" in line for line in lines)
    conn = sqlite3.connect(tmp_path / "closet" / "closet.db")
    conn.execute("UPDATE records SET body = '{' WHERE id = ?", (bad.id,))
    conn.commit()
    conn.close()
    code, lines = doctor(config, capsys)
    assert code == exitcodes.FAILED
    [line] = [line for line in lines if "closet:" in line]
    assert line.startswith(f"FAIL closet: 1 of 2 garment record(s) unreadable: {bad.id} v1")
    assert "— fix: restore the closet from a backup" in line


def test_the_device_id_is_the_closets_so_a_new_machine_id_keeps_the_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restored closet on a new SD card (new /etc/machine-id) is still the same mirror to the cloud."""
    from mirror.config.settings import Settings, StoreSettings
    from mirror.device import device_id

    settings = Settings(store=StoreSettings(data_dir=str(tmp_path / "closet")))
    first, second = tmp_path / "machine-id-1", tmp_path / "machine-id-2"
    first.write_text("1" * 32 + "\n")
    second.write_text("2" * 32 + "\n")
    original = device_id(settings, first)
    assert original.startswith("mirror-") and device_id(settings, second) != original  # no closet yet
    with ClosetStore.open(tmp_path / "closet", original, min_free_mb=0) as store:
        store.add(synthetic_draft(1, image_kb=1))
    assert device_id(settings, second) == original
    # A relative [store] data_dir (the demo's config has one) reads the same closet.
    monkeypatch.chdir(tmp_path)
    relative = Settings(store=StoreSettings(data_dir="closet"))
    assert device_id(relative, second) == original


@pytest.mark.broker
def test_garments_of_another_device_id_wait_and_doctor_names_the_fix(
    tmp_path: Path, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    """[device] id changed: the cloud would refuse the old garments for ever; the mirror says why instead."""
    with ClosetStore.open(tmp_path / "closet", "old-id", min_free_mb=0) as store:
        store.add(synthetic_draft(1, image_kb=1))
    config = write_config(tmp_path, '[device]\nid = "new-id"\n[camera]\nsource = "demo"\n[sync]\nenabled = false\n')
    code, lines = doctor(config, capsys)
    assert code == exitcodes.FAILED
    [line] = [line for line in lines if "device old-id" in line]
    assert line.startswith("FAIL closet: garments made by device old-id wait unsynced: this mirror is new-id")
    assert '— fix: set [device] id = "old-id" in the config' in line
    with ClosetStore.open(tmp_path / "closet", "new-id", min_free_mb=0) as store:
        worker = SyncWorker(store, sync_settings(mosquitto.port), "new-id")
        assert worker.drain(timeout=5)  # nothing it can send: held, not published for the cloud to refuse
        assert worker.stats.published == 0 and store.outbox.stats().held == 1


def test_doctor_expands_home_in_models_dir_as_analyze_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "models").symlink_to(default_models_dir())
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = write_config(tmp_path, '[vision]\nmodels_dir = "~/models"\n[sync]\nenabled = false\n')
    _, lines = doctor(config, capsys)
    assert any(line.startswith("OK   model segmenter:") for line in lines), lines


def test_closet_list_filters_by_the_mirrors_own_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "[sync]\nenabled = false\n")
    with ClosetStore.open(tmp_path / "closet", "dev-a", min_free_mb=0) as store:
        kept = store.add(synthetic_draft(1, image_kb=1))
    assert main(["--config", str(config), "closet", "list", "--category", kept.category]) == exitcodes.OK
    assert main(["--config", str(config), "closet", "list", "--color", kept.color.basic]) == exitcodes.OK
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(line.startswith(kept.id) for line in out)
    for option, vocabulary in (("--category", CATEGORIES), ("--color", BASIC_TERMS)):
        for word in vocabulary:
            assert getattr(main_parser().parse_args(["closet", "list", option, word]), option[2:]) == word


@pytest.mark.parametrize(("option", "typo"), [("--category", "tshirt"), ("--color", "gray")])
def test_a_typo_in_a_closet_filter_is_a_usage_error_not_an_empty_list(
    option: str, typo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, "[sync]\nenabled = false\n")
    with pytest.raises(SystemExit) as info:
        main(["--config", str(config), "closet", "list", option, typo])
    assert info.value.code == exitcodes.USAGE
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and f"argument {option}: invalid choice: '{typo}'" in errors[0]
    assert not (tmp_path / "closet").exists()  # refused before the closet is opened


def test_run_help_names_the_offscreen_default_the_ui_uses() -> None:
    """``run --help`` spells the offscreen default out (no UI import while parsing); it must not drift."""
    from ui.app import OFFSCREEN_DEFAULT_DURATION_S

    assert run_command.OFFSCREEN_DURATION_S == OFFSCREEN_DEFAULT_DURATION_S


def test_bench_refuses_zero_passes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["bench", "--repeat", "0"])
    assert info.value.code == exitcodes.USAGE
    assert "--repeat: must be 1 or more, got 0" in capsys.readouterr().err


def test_sync_command_offers_exactly_what_the_mirror_accepts() -> None:
    """The CLI reads the names from the contract's schema (not importing sync.commands), as sync.commands does."""
    assert sync_command.REMOTE_COMMANDS == REMOTE_COMMANDS and sync_command.SCREENS == SCREENS


def test_the_parser_is_built_on_a_mirror_without_the_sync_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``smart-mirror`` call builds this parser: without sync it offers no names rather than failing."""

    def missing(package: str) -> object:
        raise ModuleNotFoundError(f"No module named {package!r}", name=package)

    monkeypatch.setattr("importlib.resources.files", missing)
    assert sync_command._remote_vocabulary() == ((), ())


def test_sync_command_refuses_options_that_do_not_go_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, "")
    assert main(["--config", str(config), "sync", "command", "show"]) == exitcodes.USAGE
    assert capsys.readouterr().err == "smart-mirror: show needs --screen SCREEN (one of home, closet, about)\n"
    assert main(["--config", str(config), "sync", "command", "keep", "--record-id", "x"]) == exitcodes.USAGE
    assert "--record-id goes with delete" in capsys.readouterr().err


def test_sync_command_with_the_broker_down_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as dead:  # bound but not listening: connections are refused
        dead.bind(("127.0.0.1", 0))
        config = write_config(tmp_path, f'[sync]\nhost = "127.0.0.1"\nport = {dead.getsockname()[1]}\n')
        assert main(["--config", str(config), "sync", "command", "capture"]) == exitcodes.FAILED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unreachable" in err and "Traceback" not in err


@pytest.mark.broker
def test_sync_command_reaches_this_mirror_through_the_configured_broker(
    tmp_path: Path, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    """Broker, topic prefix and device id come from the config; the mirror's real sync worker answers."""
    store = fill_store(tmp_path / "mirror-closet", 0)
    seen: list[str] = []

    def core(command: Command) -> str:
        seen.append(f"{command.name}:{command.screen}")
        return "" if command.name == "show" else "nothing_to_do: no result is showing"

    worker = SyncWorker(store, sync_settings(mosquitto.port), DEVICE, on_command=core)
    worker.start()
    config = write_config(
        tmp_path,
        f'[device]\nid = "{DEVICE}"\n[sync]\nhost = "127.0.0.1"\nport = {mosquitto.port}\ntopic_prefix = "{PREFIX}"\n',
    )
    try:
        assert worker.listening.wait(10), worker.last_error
        assert main(["--config", str(config), "sync", "command", "show", "--screen", "closet"]) == exitcodes.OK
        assert json.loads(capsys.readouterr().out)["status"] == "accepted"
        assert main(["--config", str(config), "sync", "command", "keep"]) == exitcodes.FAILED
        assert json.loads(capsys.readouterr().out)["reason"] == "nothing_to_do: no result is showing"
        other = ["--device", "another-mirror", "--timeout", "0.5"]
        assert main(["--config", str(config), "sync", "command", "capture", *other]) == exitcodes.FAILED
        assert "no answer from mirror another-mirror" in capsys.readouterr().err
        assert seen == ["show:closet", "keep:"]
    finally:
        worker.stop()
        store.close()


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "1e9"])
def test_run_refuses_a_duration_that_is_not_a_real_stretch_of_time(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "--source", "demo", f"--duration={value}"])
    assert info.value.code == exitcodes.USAGE
    assert "--duration: must be more than 0 and at most 86400 s" in capsys.readouterr().err


def test_run_with_an_unusable_screenshots_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    config = write_config(tmp_path, "[sync]\nenabled = false\n")
    code = main(["--config", str(config), "run", "--source", "demo", "--screenshots", str(blocker / "shots")])
    assert code == exitcodes.USAGE
    err = capsys.readouterr().err.strip()
    shots = blocker / "shots"
    assert err == f"smart-mirror run: cannot create {shots} (Not a directory); pick another --screenshots DIR"
