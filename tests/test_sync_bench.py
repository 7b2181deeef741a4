"""sync.bench.run_sync_bench (behind ``smart-mirror bench --sync``): a complete, honest report.

Speed targets live in the report itself (``meets_target``), not in a timed assertion here.
"""

from __future__ import annotations

import pytest

from mirror.config import Settings
from sync.bench import run_sync_bench

pytestmark = pytest.mark.broker


def test_bench_report_counts_every_record_end_to_end() -> None:
    report = run_sync_bench(Settings(), records=40, image_kb=5)["sync"]
    assert report["all_acked"] is True and report["stored_at_consumer"] == 40
    assert report["records_per_s"] > 0 and report["target_records_per_s"] == 100.0
    latency = report["ack_latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["max"]
    assert report["meets_target"] == (report["records_per_s"] >= 100.0)
