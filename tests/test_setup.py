"""The README's two commands and CI, checked the way a stranger would meet them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def readme_commands() -> list[str]:
    """The shell commands in the README's Quick start section."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(?:sh|bash)\n(.*?)\n```", section, flags=re.S)


def test_quick_start_has_exactly_two_commands() -> None:
    commands = readme_commands()
    assert commands == ["scripts/demo.sh", "scripts/test.sh"]
    for command in commands:
        assert os.access(ROOT / command, os.X_OK), f"{command} is not executable"


def test_ci_calls_the_readme_test_command_and_nothing_else() -> None:
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[-1] == "exec bash scripts/test.sh"
    assert all(line.startswith(("set ", "cd ", "exec ")) for line in lines)


def test_test_command_fails_when_no_test_is_collected() -> None:
    script = (ROOT / "scripts" / "test.sh").read_text()
    assert '"$code" -eq 5' in script and "exit 1" in script


@pytest.mark.slow
def test_demo_runs_offscreen_and_writes_screenshots(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("DISPLAY", None)
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\ndata_dir = "{tmp_path / "closet"}"\n[sync]\nenabled = false\n')
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mirror",
            "--config",
            str(config),
            "run",
            "--source",
            "demo",
            "--duration",
            "3",
            "--screenshots",
            str(tmp_path / "shots"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert f"writing screenshots to {tmp_path / 'shots'}" in result.stdout
    assert (tmp_path / "shots" / "home.png").stat().st_size > 1000


@pytest.mark.slow
@pytest.mark.timeout(1300)  # pip may fetch hundreds of MB on a fresh runner: the suite's 300 s would cut it
def test_clean_clone_installs_from_nothing(tmp_path: Path) -> None:
    """A fresh clone of the committed tree sets itself up and the installed CLI works.

    Only committed files travel in a clone, so a file that exists here but was never
    added to git, or an install step that only worked because of this machine's state,
    fails this test.
    """
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, check=False).returncode:
        pytest.skip("not a git checkout with commits")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {**os.environ, "SMART_MIRROR_VENV": str(tmp_path / "venv"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    setup = subprocess.run(
        ["bash", "scripts/test.sh", "--setup-only"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert setup.returncode == 0, setup.stderr[-3000:]
    cli = tmp_path / "venv" / "bin" / "smart-mirror"
    for words in (["--help"], ["doctor", "--help"], ["analyze", "--help"]):
        result = subprocess.run([str(cli), *words], capture_output=True, text=True, cwd=tmp_path, check=False)
        assert result.returncode == 0, result.stderr
    imports = subprocess.run(
        [
            str(tmp_path / "venv" / "bin" / "python"),
            "-c",
            "import mirror, ui, sync, cv2, onnxruntime, ai_edge_litert, PySide6, paho.mqtt",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert imports.returncode == 0, imports.stderr


def test_the_demo_config_runs_with_its_relative_closet_folder(tmp_path: Path) -> None:
    """What scripts/demo.sh starts, with the same config (its closet folder is relative to where it runs).

    A relative ``[store] data_dir`` once crashed the demo at start (a file URI of a relative path)
    while every other test, with absolute folders, passed.
    """
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    config = ROOT / "scripts" / "demo-config.toml"
    for _ in range(2):  # the second start finds the closet the first one made
        done = subprocess.run(
            [sys.executable, "-m", "mirror", "--config", str(config), "run", "--duration", "3"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "Traceback" not in done.stderr
    assert (tmp_path / ".demo" / "closet" / "closet.db").exists()
