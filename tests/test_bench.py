"""``smart-mirror bench``: the report has the documented keys (the figures themselves are not asserted)."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import cv2
import numpy as np
import pytest

from mirror.benchstats import percentile, summary
from mirror.camera.demo_scene import pose_at, render
from mirror.cli import exitcodes, main
from mirror.pipeline.bench import TARGETS, stats
from tests.test_analyze import require_models

STAGES = {"resize", "segment", "instances", "cutout", "classify", "colour", "encode"}


def test_stats_are_median_and_p90() -> None:
    assert stats([1.0, 2.0, 3.0, 4.0, 100.0]) == {"median": 3.0, "p90": 61.6, "n": 5}
    assert stats([])["n"] == 0


def test_every_bench_interpolates_its_percentiles_the_same_way() -> None:
    """One method for the pipeline, UI and sync reports: linear between samples, as numpy does by default."""
    values = [12.0, 3.5, 7.25, 40.0, 8.0, 9.5, 1.0]
    for q in (50, 90, 95):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert percentile([5.0], 90) == 5.0  # one sample (statistics.quantiles wants two)
    assert math.isnan(percentile([], 90))
    figures = summary(values, (50, 95))
    assert figures.n == 7 and figures.max == 40.0 and set(figures.at) == {50, 95}
    assert figures.at[50] == statistics.median(values)
    with pytest.raises(ValueError):
        percentile(values, 100)


@pytest.mark.slow
def test_bench_on_two_images_reports_every_documented_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_models()
    paths = []
    for k, t in enumerate((4.0, 12.5)):
        path = tmp_path / f"{k}.jpg"
        cv2.imwrite(str(path), render(pose_at(t), 1024, 768, seed=k))
        paths.append(str(path))
    output = tmp_path / "bench.json"
    code = main(["bench", *paths, "--repeat", "1", "--output", str(output)])
    out = capsys.readouterr().out
    assert code == exitcodes.OK
    report = json.loads(output.read_text())
    assert report == json.loads(out)
    assert {
        "version",
        "machine",
        "images",
        "repeat",
        "default_threads",
        "backends",
        "reload_per_image",
        "process_per_image",
        "analyze",
        "peak_rss_mb",
        "targets",
    } <= set(report)
    assert report["images"]["count"] == 2
    for backend in ("tflite", "onnx"):
        figures = report["backends"][backend]
        assert set(figures["load_ms"]) == {"1", str(report["default_threads"])}
        for per_thread in figures["threads"].values():
            assert set(per_thread["stages_ms"]) == set(per_thread["stages_cpu_ms"]) == STAGES
            for key in ("analysis_ms", "store_add_ms", "photo_to_record_ms", "photo_to_record_cpu_ms"):
                assert set(per_thread[key]) == {"median", "p90", "n"} and per_thread[key]["n"] == 2
    process = report["process_per_image"]
    assert process["ms"]["n"] == 2 and isinstance(process["speedup"], float)
    reload = report["reload_per_image"]
    assert reload["threads"] == 1 and reload["photo_to_record_ms"]["n"] == 2 and isinstance(reload["speedup"], float)
    assert report["analyze"]["exit_code"] == 0 and report["analyze"]["peak_rss_mb"] > 0
    assert set(report["targets"]) == set(TARGETS)
    for target in report["targets"].values():
        assert set(target) == {"target", "measured", "met", "backend"} and target["measured"] is not None


def test_bench_without_models_reports_why_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[vision]\nmodels_dir = "{tmp_path / "none"}"\n[camera]\ncapture_width = 320\ncapture_height = 240\n'
    )
    code = main(["--config", str(config), "bench", "--repeat", "1", "--backend", "onnx"])
    captured = capsys.readouterr()
    assert code == exitcodes.FAILED
    report = json.loads(captured.out)
    assert "segmenter" in report["backends"]["onnx"]["error"]
    assert report["targets"]["photo_to_record_median_ms_1_thread"]["met"] is None
    # The analyze child failed the same way: its small peak was reported as a met memory target.
    assert report["analyze"]["exit_code"] == exitcodes.FAILED and "segmenter" in report["analyze"]["stderr"]
    assert report["targets"]["analyze_peak_rss_mb"]["met"] is None


def test_sync_bench_without_mosquitto_is_not_available(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sync.bench

    monkeypatch.setattr(sync.bench, "mosquitto_binary", lambda: None)
    assert main(["bench", "--sync"]) == exitcodes.NOT_AVAILABLE
    assert "needs the mosquitto broker" in capsys.readouterr().err


def test_sync_bench_report_goes_to_stdout_and_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI's side of --sync: whatever the sync bench reports is printed and written."""
    import sync.bench

    monkeypatch.setattr(sync.bench, "run_sync_bench", lambda settings: {"records": 3})
    output = tmp_path / "sync.json"
    assert main(["bench", "--sync", "--output", str(output)]) == exitcodes.OK
    assert json.loads(capsys.readouterr().out) == json.loads(output.read_text()) == {"records": 3}


def test_an_output_that_cannot_be_written_is_refused_before_the_bench_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """It used to fail only after the whole bench had run (minutes on a Pi), losing the figures."""
    import sync.bench

    ran: list[object] = []

    def bench(settings: object) -> dict[str, int]:
        ran.append(settings)
        return {"records": 3}

    monkeypatch.setattr(sync.bench, "run_sync_bench", bench)
    afile = tmp_path / "afile"
    afile.write_text("x")
    for output, why in ((afile / "x.json", f"{afile} is not an existing folder"), (tmp_path, "is a folder")):
        assert main(["bench", "--sync", "--output", str(output)]) == exitcodes.USAGE
        err = capsys.readouterr().err
        assert why in err and "pick another --output" in err and err.count("\n") == 1
    assert not ran, "the bench ran although its report could not be written"
