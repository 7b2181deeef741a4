"""The blind by-eye review of the validation teacher masks (``models/training/seg_review.py``).

The review CSV says which reference masks the single-garment figure may drop; these tests keep it
well formed and covering exactly the validation photos it was made for. The tool runs as a
subprocess (as a person runs it) so the training modules stay out of the tests' type-check graph.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_shared

REVIEW = ROOT / "models" / "training" / "data" / "seg_val_review.csv"
TEACHER_MASKS = ROOT.parent / "data" / "teacher_masks"  # models/training/seg_data.py TEACHER_MASKS


def _tool(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "models.training.seg_review", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def _rows() -> list[dict[str, str]]:
    with REVIEW.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_verdicts_are_ok_or_wrong_and_every_wrong_has_a_reason() -> None:
    rows = _rows()
    assert rows, "the review CSV is empty"
    assert {r["verdict"] for r in rows} <= {"ok", "wrong"}
    assert all(r["reason"].strip() for r in rows if r["verdict"] == "wrong")
    assert len({r["image"] for r in rows}) == len(rows), "an image is reviewed twice"


def test_summary_counts_the_verdicts_and_lists_the_wrong_ones(tmp_path: Path) -> None:
    review = tmp_path / "review.csv"
    review.write_text("image,verdict,reason\na,ok,\nb,wrong,print only\nc,ok,note: small gap\n")
    done = _tool("summary", "--csv", str(review))
    assert done.returncode == 0, done.stderr
    assert "3 reviewed: ok 2, wrong 1" in done.stdout
    assert "wrong b: print only" in done.stdout and " a:" not in done.stdout


@pytest.mark.shared
def test_review_covers_exactly_the_validation_photos(tmp_path: Path) -> None:
    clothing = require_shared("data", "clothing")
    if not TEACHER_MASKS.is_dir():
        pytest.skip(f"needs the teacher masks in {TEACHER_MASKS} (made by seg_data teacher-unpack)")
    done = _tool("--clothing", str(clothing), "--masks", str(TEACHER_MASKS), "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(_rows()) == 204
    # The check fails when a photo is missing or a wrong verdict has no reason.
    broken = tmp_path / "broken.csv"
    rows = _rows()
    rows[0] = {**rows[0], "verdict": "wrong", "reason": ""}
    with broken.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["image", "verdict", "reason"])
        writer.writeheader()
        writer.writerows(rows[:-1])
    done = _tool("--clothing", str(clothing), "--masks", str(TEACHER_MASKS), "check", "--csv", str(broken))
    assert done.returncode == 1
    assert f"not reviewed: {rows[-1]['image']}" in done.stdout
    assert f"wrong without a reason: {rows[0]['image']}" in done.stdout
