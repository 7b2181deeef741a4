"""Render every screen of the mirror, portrait and landscape, to docs/img/ui_<screen>_<orientation>.png.

Usage: ``.venv/bin/python scripts/screenshots.py [--out docs/img]`` (runs on Qt's offscreen
platform; no camera, models or broker needed).

The screens are painted from plain data, so this script hands each one what the service
would: a status line, a preview frame, an analysed garment, a closet. When the shipped models
load, those come from the real pipeline run on the built-in demo scene (the preview outline
from the segmenter, the result and the closet from full analyses); otherwise the garments are
drawn here (flat shapes with cloth-like shading), so the pictures never need a camera.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from mirror.events import (  # noqa: E402
    About,
    CaptureState,
    CaptureStateChanged,
    ClosetCounts,
    FrameReady,
    Level,
    Status,
    StatusPart,
)
from mirror.pipeline.result import GarmentColour, GarmentResult  # noqa: E402
from mirror.store.records import Color, ImageRef, Record  # noqa: E402
from ui.about import AboutScreen  # noqa: E402
from ui.capture import CaptureScreen  # noqa: E402
from ui.closet import COLOUR_ROW, GRID_ROW, SYNCED, WAITING, ClosetItem, ClosetScreen  # noqa: E402
from ui.detail import DetailScreen  # noqa: E402
from ui.home import HomeScreen  # noqa: E402
from ui.images import bgra_image  # noqa: E402
from ui.picker import PickerScreen  # noqa: E402
from ui.result import ResultScreen  # noqa: E402
from ui.screen import Screen  # noqa: E402

SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}
Points = list[tuple[float, float]]


def _mirror(half: Points) -> Points:
    return half + [(-x, y) for x, y in reversed(half)]


SHAPES: dict[str, Points] = {
    "t-shirt": _mirror([(-16, 0), (-34, -4), (-90, 12), (-140, 60), (-108, 104), (-82, 80), (-84, 240)]),
    "longsleeve": _mirror(
        [(-16, 0), (-34, -4), (-90, 12), (-118, 70), (-132, 230), (-104, 236), (-84, 96), (-84, 240)]
    ),
    "shirt": _mirror([(-10, 4), (-30, -6), (-92, 12), (-120, 80), (-134, 226), (-104, 232), (-86, 100), (-88, 250)]),
    "dress": _mirror([(-22, 6), (-30, 0), (-62, 8), (-74, 60), (-58, 128), (-86, 220), (-122, 322)]),
    "skirt": _mirror([(-72, 0), (-80, 40), (-104, 140), (-124, 214)]),
    "pants": [
        (-76, 0),
        (76, 0),
        (84, 60),
        (96, 310),
        (30, 312),
        (4, 100),
        (-4, 100),
        (-30, 312),
        (-96, 310),
        (-84, 60),
    ],
    "hat": _mirror([(-40, 0), (-66, 20), (-74, 70), (-120, 86), (-120, 100)]),
    "shorts": [
        (-80, 0),
        (80, 0),
        (92, 60),
        (104, 150),
        (24, 156),
        (4, 80),
        (-4, 80),
        (-24, 156),
        (-104, 150),
        (-92, 60),
    ],
}


def garment_bgra(category: str, hex_colour: str, size: int = 520, seed: int = 0) -> npt.NDArray[np.uint8]:
    """A garment cut-out in BGRA (as the pipeline gives it): the outline filled, soft folds, a feathered edge."""
    points = np.array(SHAPES[category], dtype=np.float64)
    points -= points.min(axis=0)
    scale = (size * 0.9) / points.max()
    points = points * scale + size * 0.05
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], (255,), lineType=cv2.LINE_AA)
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    folds = sum(
        0.07 * np.sin(2 * np.pi * (f * xx + rng.uniform(0, 1)) + rng.uniform(2, 6) * yy) for f in rng.uniform(1.5, 4, 3)
    )
    light = 1.05 - 0.25 * yy + folds + rng.normal(0, 0.012, (size, size))
    shaded = np.clip(rgb[None, None, :] * light[..., None] + 6, 0, 255)
    alpha = cv2.GaussianBlur(mask, (3, 3), 0)
    bgra = np.dstack([shaded[..., ::-1].astype(np.uint8), alpha])
    return np.ascontiguousarray(bgra[y0:y1, x0:x1])


def demo_frame(width: int = 640, height: int = 480) -> tuple[npt.NDArray[np.uint8], tuple[tuple[int, int], ...]]:
    """A preview frame: a room, a person's silhouette, a blue T-shirt held up; and its outline."""
    frame = np.zeros((height, width, 3), np.uint8)
    frame[:] = (150, 160, 168)
    frame[int(height * 0.72) :] = (96, 108, 120)
    cv2.rectangle(frame, (40, 40), (170, 250), (200, 205, 210), -1)
    cv2.ellipse(frame, (width // 2, 120), (52, 64), 0, 0, 360, (120, 140, 180), -1)
    cv2.rectangle(frame, (width // 2 - 110, 170), (width // 2 + 110, height), (70, 70, 80), -1)
    cut = garment_bgra("t-shirt", "#2f5fb0", size=300, seed=3)
    h, w = cut.shape[:2]
    top, left = 150, width // 2 - w // 2
    alpha = cut[..., 3:4].astype(np.float64) / 255
    region = frame[top : top + h, left : left + w].astype(np.float64)
    frame[top : top + h, left : left + w] = (region * (1 - alpha) + cut[..., :3] * alpha).astype(np.uint8)
    contours, _ = cv2.findContours((cut[..., 3] > 128).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    outline = tuple((int(x) + left, int(y) + top) for x, y in contours[0][:, 0, :])
    return frame, outline


def sample_garment(unsure: bool = False, colour_doubt: bool = False) -> GarmentResult:
    """An analysed garment as the pipeline would hand it to the result screen.

    ``colour_doubt``: a light grey T-shirt whose colour the mirror doubts (or white?).
    """
    category, score = ("shirt", 0.46) if unsure else ("t-shirt", 0.93)
    top3 = (("shirt", 0.46), ("longsleeve", 0.31), ("t-shirt", 0.12)) if unsure else (("t-shirt", 0.93),)
    colour = GarmentColour("white", "off-white", "#ececec") if unsure else GarmentColour("blue", "cobalt", "#2f5fb0")
    if colour_doubt:
        colour = GarmentColour("grey", "light grey", "#c4c4c2", alternative="white")
    return GarmentResult(
        category=category,
        category_score=score,
        top3=top3,
        unsure=unsure,
        group="top",
        score=0.97,
        box=(100, 100, 400, 400),
        polygons=(),
        color=colour,
        cutout_bgra=garment_bgra("shirt" if unsure else "t-shirt", colour.hex, seed=5),
    )


CLOSET = [
    ("t-shirt", "blue", "cobalt", "#2f5fb0"),
    ("dress", "red", "crimson", "#b3202a"),
    ("pants", "blue", "navy", "#22304f"),
    ("skirt", "black", "black", "#1c1c1c"),
    ("shirt", "white", "white", "#ececec"),
    ("longsleeve", "green", "forest green", "#2f6b3a"),
    ("hat", "yellow", "mustard", "#d6a52a"),
    ("shorts", "brown", "tan", "#b08556"),
    ("t-shirt", "grey", "heather grey", "#9a9a9a"),
]


def sample_record(index: int, category: str, score: float, color: Color, images: dict[str, ImageRef]) -> Record:
    """A stored record as the closet would list it, with fixed ids and times for stable pictures."""
    when = datetime(2026, 11, 20, 18, 5, tzinfo=UTC)
    return Record(
        id=f"0193{index:04d}",
        version=1,
        device_id="mirror-3f9a1c2b7d",
        created_at=when,
        updated_at=when,
        deleted=False,
        category=category,
        category_score=score,
        color=color,
        images=images,
    )


def sample_closet() -> list[ClosetItem]:
    items = []
    for index, (category, basic, name, hex_colour) in enumerate(CLOSET):
        png = {"cutout_png": ImageRef("cutout_png", "0" * 64, 1, "image/png")}
        record = sample_record(index, category, 0.9, Color(basic, name, hex_colour), png)
        thumb = bgra_image(garment_bgra(category, hex_colour, size=420, seed=index)).copy()
        items.append(ClosetItem(record, WAITING if index < 2 else SYNCED, thumb))
    return items


class RealPipeline:
    """The shipped models on the demo scene: what the mirror itself would show."""

    def __init__(self) -> None:
        from mirror.pipeline.analyzer import Analyzer
        from mirror.pipeline.models import load_models, models_dir

        self.analyzer = Analyzer(load_models(models_dir(""), "tflite", 0, 0.02), unsure_below=0.55)

    @classmethod
    def load(cls) -> RealPipeline | None:
        try:
            return cls()
        except Exception as exc:  # no models here: the drawn garments stand in
            print(f"screenshots: drawn garments (the models did not load: {exc})", file=sys.stderr)
            return None

    def preview(self) -> FrameReady:
        """The demo scene's first garment held up, mirror-flipped, with the segmenter's outline."""
        from mirror.camera.demo_scene import GARMENTS, Pose, render

        frame = np.ascontiguousarray(render(Pose(GARMENTS[0], 1.0, 0.0, "hold"), 640, 480)[:, ::-1])
        found = self.analyzer.detect(frame)
        box = found[0].box if found else None
        outline = found[0].polygons if found else ()
        return FrameReady(frame, CaptureState.COUNTDOWN, box=box, outline=outline, mirrored=True)

    def garments(self) -> list[GarmentResult]:
        """Each demo garment held up, analysed at full resolution (the most prominent garment)."""
        from mirror.camera.demo_scene import GARMENTS, Pose, render

        out = []
        for index, garment in enumerate(GARMENTS):
            still = render(Pose(garment, 1.0, 0.0, "hold"), 1640, 1232)
            primary = self.analyzer.analyze(still, capture_id=index, encode=True).primary
            if primary is not None:
                out.append(primary)
        return out


def closet_from(garments: list[GarmentResult]) -> list[ClosetItem]:
    """Closet items for analysed garments, as the store would list them after Keep."""
    items = []
    for index, garment in enumerate(garments):
        colour = Color(garment.color.basic, garment.color.name, garment.color.hex)
        record = sample_record(index, garment.category, garment.category_score, colour, {})
        assert garment.cutout_bgra is not None
        thumb = bgra_image(garment.cutout_bgra).copy()
        items.append(ClosetItem(record, WAITING if index < 1 else SYNCED, thumb))
    return items


STATUS = Status(
    camera=StatusPart("camera", "ready"),
    models=StatusPart("models", "ready"),
    sync=StatusPart("sync", "2 waiting"),  # online, acks on their way: as the service reports it
    storage=StatusPart("storage", "28.4 GB free"),
)


def screens(pipeline: RealPipeline | None = None) -> dict[str, Screen]:
    """Every screen, filled with sample data (from ``pipeline`` when given), by file name."""
    home = HomeScreen()
    home.now = datetime(2026, 11, 24, 8, 42)
    home.set_status(STATUS)

    capture = CaptureScreen()
    if pipeline is not None:
        capture.set_frame(pipeline.preview())
    else:
        frame, outline = demo_frame()
        capture.set_frame(FrameReady(frame[:, ::-1].copy(), CaptureState.COUNTDOWN, outline=(_flip(outline, 640),)))
    capture.set_state(CaptureStateChanged(CaptureState.COUNTDOWN, progress=1.0, countdown=2))

    analysed = pipeline.garments() if pipeline is not None else []
    result = ResultScreen()
    result.show_garment(analysed[0] if analysed else sample_garment())
    unsure = ResultScreen()
    doubtful = [g for g in analysed if g.unsure]  # the question screen from a real doubt, else drawn
    unsure.show_garment(doubtful[0] if doubtful else sample_garment(unsure=True))
    colour_doubt = ResultScreen()  # the demo's colours are clear, so this one is always drawn
    colour_doubt.show_garment(sample_garment(colour_doubt=True))

    picker = PickerScreen()
    picker.ask_category("shirt")
    colours = PickerScreen()
    colours.ask_colour("blue")

    items = closet_from(analysed) if analysed else sample_closet()
    closet = ClosetScreen()
    closet.set_content(items, ClosetCounts.tally(i.record for i in items), None, None)
    closet.focus_row, closet.grid.focus = GRID_ROW, 0
    filtered = ClosetScreen()
    shown = items[1].record.color.basic
    same = [i for i in items if i.record.color.basic == shown]
    # As the window counts them: categories within the colour shown, colours over the whole closet.
    within = ClosetCounts(
        ClosetCounts.tally(i.record for i in same).category, ClosetCounts.tally(i.record for i in items).basic_color
    )
    filtered.set_content(same, within, None, shown, total=len(items))
    filtered.focus_row = COLOUR_ROW
    filtered.colours.focus_key(f"col:{shown}")

    detail = DetailScreen()
    detail.show_item(items[1])

    about = AboutScreen()
    about.set_about(
        About(
            device_id="mirror-3f9a1c2b7d",
            version="0.1.0",
            model_versions=shipped_versions(),
            broker="mqtts://broker.example.net:8883 · connected",
            storage_used_mb=48.2,
            records=len(items),
        ),
        STATUS,
    )

    problems = HomeScreen()
    problems.now = home.now
    problems.set_status(
        Status(
            camera=StatusPart("camera", "not found", Level.ERROR),
            models=StatusPart("models", "missing", Level.ERROR),
            sync=StatusPart("sync", "offline · 5 waiting", Level.WARN),
            storage=StatusPart("storage", "disk full", Level.ERROR),
        )
    )
    problems.set_notice("Disk full: new garments cannot be kept; free space on the SD card")
    return {
        "home": home,
        "capture": capture,
        "result": result,
        "result_unsure": unsure,
        "result_colour_doubt": colour_doubt,
        "pick_category": picker,
        "pick_colour": colours,
        "closet": closet,
        "closet_filtered": filtered,
        "detail": detail,
        "about": about,
        "home_problems": problems,
    }


def _flip(outline: tuple[tuple[int, int], ...], width: int) -> tuple[tuple[int, int], ...]:
    return tuple((width - 1 - x, y) for x, y in outline)


def render(out: Path, *, quality: int = 0) -> list[Path]:
    """Write every screen in both orientations; return the files written.

    ``quality`` is Qt's PNG setting: 0 (the default, for docs/img) compresses hardest and takes
    about ten times as long as 100, which a test that only checks the files has no use for."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert app is not None
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, screen in screens(RealPipeline.load()).items():
        for orientation, (width, height) in SIZES.items():
            screen.resize(width, height)
            path = out / f"ui_{name}_{orientation}.png"
            if not screen.grab().save(str(path), "PNG", quality):
                raise SystemExit(f"could not write {path}")
            written.append(path)
    return written


def shipped_versions() -> dict[str, str]:
    """Versions of the model folders shipped under models/ (what the About screen of a mirror shows)."""
    from mirror.manifest import ModelManifest

    return {name: ModelManifest.load(ROOT / "models" / name).version for name in ("segmenter", "classifier", "colour")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args()
    for path in render(args.out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
