"""Perf round 2 (notes/s10_review_perf.md L1-L3, ops L7): work the mirror no longer does.

Behaviour, not milliseconds: what is encoded and when, how often a frame is shrunk, when the
closet folder is walked, and that a camera open that hangs is watched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mirror.pipeline import analyzer as analyzer_mod
from mirror.pipeline import drafts as drafts_mod
from mirror.pipeline.analyzer import Analyzer
from mirror.pipeline.bench import demo_frames
from mirror.pipeline.drafts import to_draft
from mirror.pipeline.models import load_models, models_dir
from mirror.pipeline.result import CUTOUT_BLACK, CUTOUT_PNG, CUTOUT_WHITE, PHOTO
from tests.test_analyze import require_models


def counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, calls: list[str]) -> None:
    """Count the calls of ``module.name`` (into ``calls``), still doing what it did."""
    real: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)


# --- L1: the files are encoded on keep (the store's thread), not before the result shows ---------


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    require_models()
    return Analyzer(load_models(models_dir(""), "tflite", 1, 0.02))


def test_a_result_left_to_encode_later_encodes_nothing_until_it_is_kept(
    analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PNG and three JPEGs (~14 ms here, ~50 ms on a Pi) were made before the result showed,
    and for every garment of a shot the person then retook."""
    frame = demo_frames(1024, 768, count=1)[0]
    now = analyzer.analyze(frame, encode=True)
    calls: list[str] = []
    for name in ("cutout_images", "photo_jpeg"):
        counting(monkeypatch, analyzer_mod, name, calls)
    later = analyzer.analyze(frame, encode=False, encode_later=True, keep_photo=True)
    assert later.garments and calls == [], "encoded before the result was shown"
    primary = later.garments[0]
    assert primary.cutout_bgra is not None and not primary.images and not later.photo_jpg  # what the UI shows
    assert "encode" not in later.timings_ms
    encoded: list[str] = []
    for name in ("garment_files", "photo_jpeg"):
        counting(monkeypatch, drafts_mod, name, encoded)
    draft = to_draft(later)
    assert sorted(encoded) == ["garment_files", "photo_jpeg"], "the kept garment alone, and the photo, once"
    expected = to_draft(now)
    assert set(draft.images) == {CUTOUT_PNG, CUTOUT_BLACK, CUTOUT_WHITE, PHOTO}
    assert dict(draft.images) == dict(expected.images), "the same files, byte for byte, as encoding at once"
    assert draft.category == expected.category and draft.color == expected.color


def test_analyze_without_encode_later_is_as_it_was(analyzer: Analyzer) -> None:
    """``smart-mirror analyze`` (encode on with --save-cutouts, off without) is unchanged."""
    frame = demo_frames(1024, 768, count=1)[0]
    bare = analyzer.analyze(frame, encode=False)
    assert bare.work is None and bare.garments and all(g.cutout_bgra is None and not g.images for g in bare.garments)
    full = analyzer.analyze(frame, encode=True)
    assert full.work is None and full.photo_jpg and all(len(g.images) == 3 for g in full.garments)
