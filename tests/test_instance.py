"""One running mirror per closet: a second ``run`` refuses, naming the first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mirror.cli import exitcodes
from mirror.instance import ClosetInUseError, claim_closet
from tests.conftest import ROOT


def test_a_closet_is_held_until_its_claim_is_closed_and_a_link_to_it_is_the_same_closet(tmp_path: Path) -> None:
    closet, other = tmp_path / "closet", tmp_path / "other"
    closet.mkdir()
    (tmp_path / "link").symlink_to(closet)
    with claim_closet(closet):
        for same in (closet, tmp_path / "link", tmp_path / "link" / ".." / "closet"):
            with pytest.raises(ClosetInUseError) as info:
                claim_closet(same)
            assert info.value.pid == os.getpid()
        claim_closet(other).close()  # another closet (not made yet) is free
        for _again in range(20):  # more than a short listen queue holds: each still learns the pid
            with pytest.raises(ClosetInUseError) as info:
                claim_closet(closet)
            assert info.value.pid == os.getpid()
    claim_closet(closet).close()  # free again once closed


def test_a_second_run_on_the_closet_refuses_in_one_line_before_any_window(tmp_path: Path) -> None:
    """Two mirrors on one closet shared its outbox and its MQTT client id: the broker threw each off in turn,
    every few seconds, and each logged only that it had lost the broker."""
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\ndata_dir = "{tmp_path / "closet"}"\n[camera]\nsource = "demo"\n')
    with claim_closet(tmp_path / "closet"):  # the first mirror, here this test's own process
        run = subprocess.run(
            [sys.executable, "-m", "mirror", "--config", str(config), "run", "--duration", "5"],
            capture_output=True, text=True, timeout=60, cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )  # fmt: skip
    assert run.returncode == exitcodes.FAILED, run.stderr
    assert run.stderr.splitlines() == [
        f"smart-mirror run: another mirror (pid {os.getpid()}) is already running on the closet {tmp_path / 'closet'}; "
        "stop it first (sudo systemctl stop smart-mirror), or give this one its own [store] data_dir and [device] id"
    ]
    assert not (tmp_path / "closet").exists()  # it refused before it opened (or made) anything
