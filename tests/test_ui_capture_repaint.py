"""A preview frame repaints only what it changes, from an image prepared once per frame (s10 perf L4).

The capture screen gets 15 to 30 frames a second while someone stands in front of the mirror.
Repainting the whole 1080×1920 page for each, with the frame scaled at an opacity in every
paint, cost ~7 ms a frame here and an estimated ~30 ms on a Pi. These show the real widget
offscreen and watch the paint events Qt delivers to it, and check that repainting a part leaves
on the glass exactly what a paint of the whole page draws.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtCore import QEvent, QObject, QRect, QRectF
from PySide6.QtGui import QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QApplication

import ui.capture as capture_mod
from mirror.events import CaptureState, CaptureStateChanged, FrameReady
from ui.capture import PREVIEW_OPACITY, CaptureScreen
from ui.images import bgr_image, dimmed_frame

pytestmark = pytest.mark.usefixtures("qapp")


class Paints(QObject):
    """Records the region of every paint event the watched widget gets."""

    def __init__(self) -> None:
        super().__init__()
        self.rects: list[QRect] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint and isinstance(event, QPaintEvent):
            self.rects.append(event.region().boundingRect())
        return super().eventFilter(watched, event)


def frame(seq: int, box: tuple[int, int, int, int] | None = None) -> FrameReady:
    """A 640×480 test pattern (gradients and edges, different per ``seq``) with a garment's box."""
    yy, xx = np.mgrid[0:480, 0:640]
    image = np.stack([(xx * 255) // 639, (yy * 255) // 479, ((xx // 40 + yy // 40 + seq) % 2) * 220], axis=2)
    return FrameReady(np.ascontiguousarray(image, dtype=np.uint8), CaptureState.PRESENT, box=box, seq=seq)


@pytest.fixture
def shown(qtbot) -> Iterator[tuple[CaptureScreen, Paints]]:
    screen = CaptureScreen()
    screen.resize(1080, 1920)
    screen.show()
    qtbot.addWidget(screen)
    qtbot.waitExposed(screen)
    screen.set_state(CaptureStateChanged(CaptureState.HOLDING, progress=0.2))
    screen.set_frame(frame(0, (200, 100, 440, 400)))
    QApplication.processEvents()  # the first paint lays the page out
    paints = Paints()
    screen.installEventFilter(paints)
    yield screen, paints
    screen.removeEventFilter(paints)


def on_glass(screen: CaptureScreen) -> npt.NDArray[np.uint8]:
    """What the window shows now (its backing store), after the pending repaints."""
    QApplication.processEvents()
    image = screen.screen().grabWindow(screen.winId()).toImage().convertToFormat(QImage.Format.Format_RGB888)
    array = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return array[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def painted_whole(screen: CaptureScreen) -> npt.NDArray[np.uint8]:
    """The page painted in full, as it should look."""
    image = screen.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    array = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return array[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def test_a_preview_frame_repaints_only_the_preview(shown: tuple[CaptureScreen, Paints]) -> None:
    screen, paints = shown
    screen.set_frame(frame(1, (260, 120, 500, 420)))
    QApplication.processEvents()
    assert len(paints.rects) == 1
    rect = paints.rects[0]
    whole = screen.rect()
    assert rect.width() * rect.height() < 0.4 * whole.width() * whole.height(), "not the whole page"
    assert not rect.intersects(screen.buttons.rects[0]), "the buttons are not repainted"
    assert rect.contains(screen._preview_rect), "the preview and the outline over it are"


def test_a_turn_of_the_ring_repaints_only_the_ring(shown: tuple[CaptureScreen, Paints]) -> None:
    screen, paints = shown
    screen.set_state(CaptureStateChanged(CaptureState.HOLDING, progress=0.6))
    QApplication.processEvents()
    assert len(paints.rects) == 1
    rect = paints.rects[0]
    assert rect.width() < screen.width() // 3 and rect.height() < screen.height() // 6, rect
    assert not rect.intersects(screen._preview_rect)


@pytest.mark.parametrize(
    ("size", "orientation"), [((1080, 1920), "auto"), ((1920, 1080), "auto"), ((960, 540), "portrait")]
)
def test_repainting_parts_leaves_what_a_whole_paint_draws(qtbot, size: tuple[int, int], orientation: str) -> None:
    """Frames with the garment moving, the ring filling, a countdown, a new state: no stale pixel
    is left on the glass (portrait, landscape, and a portrait page turned on a landscape window)."""
    screen = CaptureScreen()
    screen.orientation = orientation
    screen.resize(*size)
    screen.show()
    qtbot.addWidget(screen)
    qtbot.waitExposed(screen)
    screen.set_frame(frame(0, (40, 30, 300, 250)))
    on_glass(screen)
    steps: list[Callable[[], None]] = [
        lambda: screen.set_frame(frame(1, (0, 0, 640, 480))),  # the outline along the preview's edge
        lambda: screen.set_state(CaptureStateChanged(CaptureState.HOLDING, progress=0.3)),
        lambda: screen.set_frame(frame(2, (320, 200, 630, 470))),
        lambda: screen.set_state(CaptureStateChanged(CaptureState.HOLDING, progress=0.9)),
        lambda: screen.set_state(CaptureStateChanged(CaptureState.COUNTDOWN, progress=1.0, countdown=2)),
        lambda: screen.set_frame(frame(3)),  # the garment gone from this frame
        lambda: screen.set_state(CaptureStateChanged(CaptureState.COUNTDOWN, progress=1.0, countdown=1)),
        lambda: screen.set_state(CaptureStateChanged(CaptureState.IDLE)),
        lambda: screen.set_frame(frame(4, (100, 100, 200, 200))),
        screen.clear,  # already idle: the preview still goes
    ]
    for step in steps:
        step()
        assert np.array_equal(on_glass(screen), painted_whole(screen))


def test_the_preview_is_prepared_once_per_frame(shown: tuple[CaptureScreen, Paints], monkeypatch) -> None:
    """Darkening and resizing happen once when a frame arrives, not in every paint (the spinner
    repaints 20 times a second while analysing, the ring at each step of the hold)."""
    screen, _ = shown
    real = dimmed_frame
    sizes: list[tuple[int, int]] = []

    def counted(image: npt.NDArray[np.uint8], width: int, height: int, opacity: float) -> QImage:
        sizes.append((width, height))
        return real(image, width, height, opacity)

    monkeypatch.setattr(capture_mod, "dimmed_frame", counted)
    screen.set_frame(frame(1))
    assert len(sizes) == 1, "prepared as it arrives, at the size the preview has"
    for progress in (0.4, 0.6, 0.8):
        screen.set_state(CaptureStateChanged(CaptureState.HOLDING, progress=progress))
        QApplication.processEvents()
    screen.repaint()
    screen.grab()
    assert len(sizes) == 1
    screen.set_frame(frame(2))
    QApplication.processEvents()
    assert len(sizes) == 2
    assert screen.frames_painted == 3  # the fixture's frame and these two


@pytest.mark.parametrize("size", [(1080, 1920), (1920, 1080), (800, 480)])
def test_the_prepared_preview_looks_as_qt_would_draw_it(size: tuple[int, int]) -> None:
    """The same picture as drawing the frame scaled, smoothly, at PREVIEW_OPACITY on black, where no
    corner mark or outline is drawn over it: within 3 levels when enlarged (a 1080p panel); shrunk
    (the 7" panel) the frame is averaged rather than sampled, so sharp edges differ a little."""
    screen = CaptureScreen()
    shot = frame(5)
    screen.set_frame(shot)
    screen.resize(*size)
    got = painted_whole(screen).astype(int)
    placed = screen._preview_placed
    expected = QImage(size[0], size[1], QImage.Format.Format_RGB32)
    expected.fill(0)
    painter = QPainter(expected)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    painter.setOpacity(PREVIEW_OPACITY)
    painter.drawImage(QRectF(placed), bgr_image(shot.image))  # the old way, at every paint
    painter.end()
    rgb = expected.convertToFormat(QImage.Format.Format_RGB888)
    array = np.frombuffer(rgb.constBits(), np.uint8).reshape(rgb.height(), rgb.bytesPerLine())
    want = array[:, : rgb.width() * 3].reshape(rgb.height(), rgb.width(), 3).astype(int)
    # The middle of the preview: inside the corner marks, where nothing is drawn over the frame.
    dx, dy = placed.width() * 3 // 10, placed.height() * 2 // 10
    middle = placed.adjusted(dx, dy, -dx, -dy)
    window = (slice(middle.top(), middle.bottom() + 1), slice(middle.left(), middle.right() + 1))
    assert want[window].max() > 80, "the frame is there"
    diff = np.abs(got[window] - want[window])
    assert diff.mean() < 1.0
    if placed.width() >= shot.image.shape[1]:  # enlarged: sampled as Qt does; shrunk: averaged, a little smoother
        assert diff.max() <= 3


def test_an_analysis_that_runs_long_says_so_and_what_to_do(
    shown: tuple[CaptureScreen, Paints], monkeypatch: pytest.MonkeyPatch, qtbot
) -> None:
    """A shot analysed in well under a second showed "Looking at it…" for as long as a stuck model took
    (until the watchdog restarted the mirror a minute later): past SLOW_ANALYSIS_S the page says it is
    taking too long and that Cancel is the way out, repainted by the spinner's own timer (no frame needed)."""
    screen, paints = shown
    monkeypatch.setattr(capture_mod, "SLOW_ANALYSIS_S", 0.3)
    screen.set_state(CaptureStateChanged(CaptureState.ANALYSING))
    QApplication.processEvents()
    assert screen.hint() == "Looking at it…"
    paints.rects.clear()  # from here only the spinner's ring repaints, until the hint changes

    def whole_page_painted() -> bool:
        return any(r.height() >= screen.height() - 1 for r in paints.rects)

    qtbot.waitUntil(whole_page_painted, timeout=3000)
    assert screen.hint() == "Taking longer than it should\nWait, or Cancel and try again"
    assert any(b.text.startswith("Taking longer than it should") for b in screen.text_blocks)
    screen.set_state(CaptureStateChanged(CaptureState.REVIEW))
    screen.set_state(CaptureStateChanged(CaptureState.ANALYSING))  # the next shot starts its own clock
    assert screen.hint() == "Looking at it…"
