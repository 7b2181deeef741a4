"""The ``smart-mirror analyze`` output contract: one JSON object per image, one per line.

Why its own module: the shape is a public interface (scripts and the cloud team parse it),
documented in docs/analyze.md and checked by tests; keeping it in one place means the CLI,
the bench and the tests cannot disagree about it. Key order is fixed for humans reading
it; coordinates are integers in the source image's pixels.
"""

from __future__ import annotations

import json
from typing import Any

from mirror.pipeline.result import AnalysisResult


def result_object(image: str, result: AnalysisResult, ms: float | None = None) -> dict[str, Any]:
    """``{"image", "ms", "garments": [...]}`` for an analysed image (garments most prominent first).

    ``ms`` is the image's whole time (reading included) when the caller measured it; else
    the analysis time.
    """
    return {
        "image": image,
        "ms": round(float(result.ms if ms is None else ms), 2),
        "garments": [g.as_contract() for g in result.garments],
    }


def error_object(image: str, reason: str) -> dict[str, Any]:
    """``{"image", "error"}`` for a path that could not be analysed."""
    return {"image": image, "error": reason}


def to_line(obj: dict[str, Any]) -> str:
    """One compact JSON line (no newline inside, non-ASCII kept readable).

    ``analyze`` writes a file name that is not valid UTF-8 with ``\\xNN`` escapes before it gets here
    (``mirror.cli.commands.analyze.readable``). A lone surrogate that still arrives (``caf\udce9``)
    cannot be written as UTF-8: such a line is written with ASCII escapes instead, still valid JSON.
    """
    line = json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(obj, ensure_ascii=True, separators=(", ", ": "))
    return line
