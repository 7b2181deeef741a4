"""The segmenter's training code runs end to end: a tiny CPU smoke run (needs the training venv).

CI never installs torch, so this runs the smoke command with the training venv's python
named by ``SMART_MIRROR_TRAIN_PYTHON`` (see models/requirements-train.txt) and skips
otherwise: a few photos, one training step, both int8 exports, loaded by the runtime.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_shared


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_segmenter_smoke_run(tmp_path: Path) -> None:
    python = os.environ.get("SMART_MIRROR_TRAIN_PYTHON", "")
    if not python:
        pytest.skip("SMART_MIRROR_TRAIN_PYTHON is unset: point it at the training venv's python to run the smoke run")
    if not Path(python).is_file():
        pytest.skip(f"SMART_MIRROR_TRAIN_PYTHON={python} does not exist: create the training venv first")
    require_shared("data", "ccp")
    require_shared("data", "clothing")
    require_shared("models", "pretrained", "mobilenet_v2_1.0_224_quant.tflite")
    out = tmp_path / "smoke"
    done = subprocess.run(
        [python, "-m", "models.training.seg_train", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "smoke ok: onnx" in done.stdout and "smoke ok: tflite" in done.stdout, done.stdout[-2000:]
    for name in ("segmenter.onnx", "segmenter.tflite", "model.json"):
        assert (out / "model" / name).is_file()
    assert (out / "seg_last.pt").is_file()
