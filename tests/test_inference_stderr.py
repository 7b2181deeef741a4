"""The TFLite runtime's start-up line stays off stderr; anything else written there survives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mirror.inference.native_stderr import relay_native_stderr

ROOT = Path(__file__).resolve().parent.parent
SEGMENTER = ROOT / "models" / "segmenter" / "segmenter.tflite"


def test_loading_the_shipped_model_prints_nothing_on_stderr() -> None:
    # A fresh interpreter process: LiteRT prints its XNNPACK line once per process.
    code = (
        "from pathlib import Path; from mirror.inference import load_model; "
        f"m = load_model(Path({str(SEGMENTER)!r}), 'tflite'); print(m.input_shape)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("(1,")
    assert done.stderr == ""


def test_other_native_output_is_replayed_unchanged(capfd: pytest.CaptureFixture[str]) -> None:
    with relay_native_stderr():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"ERROR: a real problem from the runtime\n")
        print("python-level warning", file=sys.stderr)
    err = capfd.readouterr().err
    assert "XNNPACK" not in err
    assert "ERROR: a real problem from the runtime\n" in err
    assert "python-level warning" in err


def test_stderr_is_restored_when_the_block_raises(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError), relay_native_stderr():
        os.write(2, b"before the failure\n")
        raise RuntimeError("load failed")
    os.write(2, b"after\n")
    err = capfd.readouterr().err
    assert err == "before the failure\nafter\n"
