"""``smart-mirror bench --soak``: the whole mirror used for a while, what grows, and nothing lost.

The figures themselves (memory growth per 100 garments, ...) are reported, not asserted: they
depend on the machine. What is asserted is what holds anywhere: every garment kept reaches the
cloud across a real broker outage, and the growth arithmetic is right.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mirror.cli import exitcodes, main
from ui.soak import TARGETS, Sample, cloud_differences, count_growth, growth_per_100, meets_targets


def sample(garments: int, rss_mb: float | None, open_files: int = 20, threads: int = 12) -> Sample:
    return Sample(seconds=float(garments), garments=garments, rss_mb=rss_mb, open_files=open_files, threads=threads)


def test_memory_growth_is_the_least_squares_slope_per_100_garments() -> None:
    steady = [sample(g, 500.0 + 0.03 * g) for g in range(0, 500, 10)]  # 3 MB per 100 garments
    assert growth_per_100(steady) == pytest.approx(3.0)
    noisy = [sample(g, 500.0 + (8.0 if g % 20 else -8.0)) for g in range(0, 500, 10)]  # swings, no trend
    assert abs(growth_per_100(noisy) or 0.0) < 0.5
    assert growth_per_100([sample(10, 500.0), sample(10, 520.0)]) is None, "one count: no slope"
    assert growth_per_100([sample(10, None), sample(20, None)]) is None


def test_files_and_threads_grow_only_when_the_last_half_needs_more_than_the_first() -> None:
    assert count_growth([20, 23, 20, 20, 23, 20]) == 0, "a reconnect's socket in both halves is not growth"
    assert count_growth([20, 20, 20, 21, 22, 23]) == 3
    assert count_growth([20]) is None


def test_a_figure_the_run_could_not_give_does_not_meet_its_target() -> None:
    report: dict[str, Any] = {
        "rss_growth_mb_per_100_garments": None,
        "open_files_growth": 0,
        "threads_growth": 1,
        "records_lost": 0,
        "sync": {"still_waiting": 3},
    }
    assert meets_targets(report) == {"rss_growth": False, "open_files": True, "threads": False, "records_lost": False}
    report["sync"] = {"still_waiting": 0}
    report["rss_growth_mb_per_100_garments"] = TARGETS["rss_growth_mb_per_100_garments_max"]
    assert meets_targets(report)["rss_growth"] and meets_targets(report)["records_lost"]


def test_a_soak_shorter_than_half_a_minute_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "--soak", "0.1"])
    assert exit_.value.code == exitcodes.USAGE and "--soak" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.broker
@pytest.mark.usefixtures("qapp")
def test_half_a_minute_of_use_with_a_broker_outage_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real window, service, store and sync, a real mosquitto killed half-way and the reference
    consumer in its own process: every garment kept, each correction and each delete is in the cloud's
    database at the end."""
    from sync.localbroker import mosquitto_binary

    if mosquitto_binary() is None:
        pytest.skip("needs the mosquitto broker (scripts/test.sh installs it with apt)")
    config = tmp_path / "config.toml"
    # The soak keeps its own closet. A version the broker had taken but lost when it was killed is sent again
    # after ack_timeout_s (60 s by default: the test would wait for it).
    config.write_text(f'[store]\ndata_dir = "{tmp_path / "unused"}"\n[sync]\nack_timeout_s = 5\n')
    out = tmp_path / "soak.json"
    assert main(["--config", str(config), "bench", "--soak", "0.5", "--output", str(out)]) == exitcodes.OK
    captured = capsys.readouterr()
    report = json.loads(out.read_text())
    assert report == json.loads(captured.out)
    kept = report["garments_kept"]
    assert kept >= 20, report
    assert report["broker_outage"]["after_garments"] is not None, "the broker was never stopped"
    assert report["colours_corrected"] >= 1 and report["garments_deleted"] >= 1, "no edit or delete went through"
    assert report["garments_in_closet"] == kept - report["garments_deleted"]
    assert report["sync"]["still_waiting"] == 0, report["sync"]
    assert report["records_lost"] == 0 and report["meets_targets"]["records_lost"] is True
    samples = report["samples"]
    assert len(samples) >= 2 and all(s["rss_mb"] > 0 and s["open_files"] > 0 and s["threads"] > 0 for s in samples[1:])
    assert report["closet_kb_per_garment"] > 0
    assert report["shot_to_result_ms_median"]["first"] > 0 and report["keep_to_stored_ms_median"]["last"] > 0
    assert "soak: broker stopped" in captured.err and "garments kept" in captured.err, "no progress was shown"
    assert not (tmp_path / "unused").exists(), "the soak used the configured closet"


def test_the_cloud_differs_where_it_lacks_a_garments_newest_version() -> None:
    closet = {"a": 2, "b": 1, "c": 3}
    cloud = {"a": (2, False), "b": (1, False), "c": (2, False), "d": (4, True), "e": (2, False)}
    assert cloud_differences(closet, {"d"}, cloud) == 1, "c is a version behind"
    assert cloud_differences(closet, {"d", "e", "f"}, cloud) == 3, "e is not deleted there, f is missing"
    assert cloud_differences({"a": 2}, set(), {"a": (2, True)}) == 1, "deleted there, alive here"
    assert cloud_differences(closet, set(), None) is None


@pytest.mark.usefixtures("qapp")
def test_a_ctrl_c_during_a_wait_ends_it_at_once() -> None:
    """Python raises a Ctrl-C's KeyboardInterrupt in whatever Python code runs next: inside the wait, that
    is its check, a Qt slot, where PySide prints an exception and carries on. The soak then ran on for
    its minutes after its broker and consumer had died of the same Ctrl-C."""
    import time

    from ui.bench import wait_until

    calls = 0

    def interrupted() -> bool:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt
        return False

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        wait_until(interrupted, 5.0)
    assert time.monotonic() - started < 2.0 and calls == 3


def test_a_soak_keeps_syncs_timing_within_the_defaults(tmp_path: Path) -> None:
    """A production ack_timeout_s of minutes would outlast the drain: every version the killed broker had
    lost would read as lost. Shorter settings (a test's) are kept."""
    from mirror.config.loader import parse_settings
    from ui.soak import soak_settings

    slow = soak_settings(parse_settings("[sync]\nack_timeout_s = 300\nbackoff_max_s = 600\n"), tmp_path, 1883).sync
    assert (slow.ack_timeout_s, slow.backoff_max_s, slow.enabled, slow.host) == (60, 60.0, True, "127.0.0.1")
    quick = soak_settings(parse_settings("[sync]\nack_timeout_s = 5\n"), tmp_path, 1883).sync
    assert quick.ack_timeout_s == 5 and quick.tls is False and quick.port == 1883


def test_the_soak_is_a_bench_of_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "--soak", "1", "--ui"])
    assert exit_.value.code == exitcodes.USAGE and "not allowed with" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.broker
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_soak_stopped_by_a_signal_ends_at_once_and_leaves_nothing_running(sig: str) -> None:
    """Ctrl-C (or systemd's SIGTERM) during a soak: it was printed by PySide and ignored, the soak ran on
    against a broker and consumer the same Ctrl-C had killed, and a SIGKILL after it left them running."""
    import signal
    import subprocess
    import sys
    import time

    from sync.localbroker import mosquitto_binary
    from tests.conftest import ROOT

    if mosquitto_binary() is None:
        pytest.skip("needs the mosquitto broker (scripts/test.sh installs it with apt)")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    command = [sys.executable, "-m", "mirror", "bench", "--soak", "5"]
    soak = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    assert soak.stderr is not None
    try:
        for line in soak.stderr:  # the soak under way: garments kept, its broker and consumer running
            if "garments kept" in line:
                break
        children = soak_children()
        assert len(children) == 2, children
        soak.send_signal(getattr(signal, sig))
        started = time.monotonic()
        assert soak.wait(30) == 130
        assert time.monotonic() - started < 20
    finally:
        if soak.poll() is None:
            soak.kill()
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists() and not zombie(pid)], "left running"


def soak_children() -> list[int]:
    """Processes whose command line names a soak's temporary folder (its broker and its consumer)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"smart-mirror-soak-" in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return False
