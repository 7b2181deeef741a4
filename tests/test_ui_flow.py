"""The mirror's flow on the real window, service, store (and models), driven by keys like a person.

* The whole flow with the shipped models on the synthetic demo source: home → capture →
  result → keep → the closet shows the new garment under its category and colour filters
  → delete. Skipped (with the reason) while the models are not installed.
* The closet half on a closet that already holds demo garments (their truth comes from the
  demo scene, which knows what it drew): filters with counts, a correction through the
  picker, delete with its confirmation. Needs no models, so it always runs.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt

from mirror.camera.demo_scene import GARMENTS, Pose, garment_box, render
from mirror.events import Level
from mirror.store import ClosetStore, Color, GarmentDraft
from mirror.wording import ADDED
from tests.ui_harness import (
    MirrorUnderTest,
    grab,
    running_mirror,
    settings_for,
    wait_for_garment_result,
    wait_for_models,
)
from ui.buttons import ButtonRow
from ui.screen import Screen
from ui.vocab import category_noun

pytestmark = pytest.mark.usefixtures("qapp")


def press(qtbot, screen: Screen, *keys: Qt.Key) -> None:
    for key in keys:
        qtbot.keyClick(screen, key)


def tap(qtbot, screen: Screen, row: ButtonRow) -> None:
    """A finger on the touch frame, on the first button of ``row`` (the window is not rotated here)."""
    screen.repaint()  # buttons are placed when painted
    qtbot.mouseClick(screen, Qt.MouseButton.LeftButton, pos=row.rects[0].center())


def choose(qtbot, m: MirrorUnderTest, key: str) -> None:
    """Move the focus to ``key`` on the current screen and press Enter, as the arrows would."""
    screen = m.window.current()
    assert screen.focus_key(key), f"{key} is not on the {screen.name} screen"
    qtbot.keyClick(screen, Qt.Key.Key_Return)


def demo_draft(index: int) -> GarmentDraft:
    """A demo garment as the pipeline would hand it over, named with the scene's own truth."""
    garment = GARMENTS[index]
    pose = Pose(garment, 1.0, 0.0, "hold")
    frame = render(pose, 640, 480)
    box = garment_box(pose, 640, 480)
    assert box is not None
    x0, y0, x1, y1 = box
    ok, png = cv2.imencode(".png", frame[y0:y1, x0:x1])
    assert ok
    b, g, r = garment.bgr
    return GarmentDraft(
        category=garment.category,
        category_score=0.9,
        color=Color(garment.basic, garment.basic, f"#{r:02x}{g:02x}{b:02x}"),
        images={"cutout_png": png.tobytes()},
        group={"dress": "one-piece", "pants": "bottom"}.get(garment.category, "top"),
        box=box,
    )


def test_closet_filters_correct_and_delete(tmp_path: Path, qtbot) -> None:
    settings = settings_for(tmp_path)
    store = ClosetStore.open(settings.store.path(), "mirror-ui-test", min_free_mb=0)
    kept = [store.add(demo_draft(i)) for i in range(3)]  # red t-shirt, blue dress, green pants
    store.close()
    with running_mirror(settings) as m:
        w = m.window
        m.wait(lambda: w.home.status.storage.level == Level.OK and m.service.closet() != [], what="the closet")
        choose(qtbot, m, "closet")  # (the models may still be loading: then Closet has the focus already)
        assert w.current() is w.closet
        assert len(w.closet.items) == 3
        m.wait(lambda: all(i.thumbnail is not None for i in w.closet.items), what="thumbnails")
        shot = grab(w)
        assert shot[0, 0].max() == 0 and (shot.max(axis=2) == 0).mean() > 0.3  # black glass
        tile = w.closet.grid.rects[0]
        assert shot[tile.top() : tile.bottom(), tile.left() : tile.right()].max(axis=2).mean() > 20  # a picture

        choose(qtbot, m, "cat:dress")
        assert [i.record.category for i in w.closet.items] == ["dress"]
        assert next(b.badge for b in w.closet.categories.buttons if b.key == "cat:dress") == "1"
        choose(qtbot, m, "col:red")  # a red dress: there is none
        assert w.closet.items == []
        choose(qtbot, m, "cat:*")
        assert [i.record.category for i in w.closet.items] == ["t-shirt"]
        choose(qtbot, m, "col:*")
        assert len(w.closet.items) == 3

        # Correct the pants' colour through the picker: a new version, and the filters follow.
        pants = next(r for r in kept if r.category == "pants")
        choose(qtbot, m, f"item:{pants.id}")
        assert w.current() is w.detail
        choose(qtbot, m, "edit_colour")
        assert w.current() is w.picker
        choose(qtbot, m, "pick:brown")
        m.wait(lambda: w.detail.item is not None and w.detail.item.record.color.basic == "brown", what="the edit")
        assert w.detail.item is not None and w.detail.item.record.version == 2
        assert m.service.counts().basic_color.get("brown") == 1
        choose(qtbot, m, "edit_category")
        choose(qtbot, m, "pick:pants")  # the value it already has: no new version
        assert w.current() is w.detail and w.detail.message == ""
        assert [r.version for r in m.service.closet() if r.id == pants.id] == [2]

        # Delete asks first; Esc means no.
        choose(qtbot, m, "delete")
        assert w.detail.confirming
        press(qtbot, w.detail, Qt.Key.Key_Escape)
        assert not w.detail.confirming and len(m.service.closet()) == 3
        choose(qtbot, m, "delete")
        choose(qtbot, m, "confirm_delete")
        assert w.detail.deleting and w.detail.message == "Deleting…"
        press(qtbot, w.detail, Qt.Key.Key_Return)  # a second press on the same spot: not a second delete

        # The list and the counts are read one after the other: a screen read while the delete
        # lands may show one before the other, until the delete's own event refreshes both.
        def all_badge() -> str:
            return next(b.badge for b in w.closet.categories.buttons if b.key == "cat:*")

        m.wait(lambda: w.current() is w.closet and len(w.closet.items) == 2 and all_badge() == "2", what="the delete")
        assert pants.id not in {i.record.id for i in w.closet.items}
        assert w.home.notice == "", w.home.notice
        # By touch alone: the picker and the closet each have a Back to tap.
        choose(qtbot, m, f"item:{w.closet.items[0].record.id}")
        choose(qtbot, m, "edit_category")
        tap(qtbot, w.picker, w.picker.back)
        assert w.current() is w.detail
        press(qtbot, w.detail, Qt.Key.Key_Escape)
        tap(qtbot, w.closet, w.closet.back)
        assert w.current() is w.home


def test_whole_flow_home_capture_result_keep_closet_delete(tmp_path: Path, qtbot) -> None:
    with running_mirror(settings_for(tmp_path)) as m:
        w = m.window
        wait_for_models(m)
        m.wait(lambda: m.service.status().camera.level == Level.OK, what="the demo camera")
        press(qtbot, w.home, Qt.Key.Key_Return)  # Capture (focused first)
        assert w.current() is w.capture
        m.wait(lambda: w.capture.frames_painted > 2, what="the live preview")
        # Wait until the demo scene holds a garment up, then shoot (Space) as a person would.
        m.wait(
            lambda: w.capture.frame is not None and w.capture.frame.box is not None,
            timeout_s=30,
            what="a garment in view",
        )
        press(qtbot, w.capture, Qt.Key.Key_Space)
        wait_for_garment_result(m)
        garment = w.result.garment
        assert garment is not None
        shot = grab(w)
        assert shot[0, 0].max() == 0 and (shot.max(axis=2) == 0).mean() > 0.3  # black glass
        upper = shot[: shot.shape[0] // 2]
        assert (upper.max(axis=2) > 60).mean() > 0.05  # the cut-out is visible
        # As if the colour step had doubted its answer: once the category is settled (one question at
        # a time), one press takes its runner-up, and the kept record carries the person's colour (the
        # demo's own colours are never in doubt).
        other = next(c for c in ("purple", "orange") if c != garment.color.basic)
        w.result.show_garment(dataclasses.replace(garment, color=dataclasses.replace(garment.color, alternative=other)))
        corrected = next(c for c in ("hat", "shoes") if c != garment.category)
        choose(qtbot, m, "category")
        choose(qtbot, m, f"pick:{corrected}")
        assert w.current() is w.result and w.result.shown_category == corrected
        choose(qtbot, m, "colour-alternative")
        assert w.current() is w.result and w.result.shown_colour == other
        category, colour = w.result.shown_category, w.result.shown_colour

        choose(qtbot, m, "keep")  # Keep (or "Yes, keep it" when unsure)
        m.wait(lambda: w.current() is w.home, timeout_s=20, what="the record saved")
        assert w.home.note.startswith(f"{ADDED}: {other} {category_noun(corrected)} · ")  # as the person named it
        m.wait(lambda: [r.category for r in m.service.closet()] == [corrected], what="the correction stored")

        press(qtbot, w.home, Qt.Key.Key_Right, Qt.Key.Key_Return)  # Closet
        assert w.current() is w.closet and len(w.closet.items) == 1
        choose(qtbot, m, f"cat:{category}")
        assert len(w.closet.items) == 1
        choose(qtbot, m, f"col:{colour}")
        assert len(w.closet.items) == 1
        record = w.closet.items[0].record
        assert (record.category, record.color.basic) == (category, colour)
        other = next(c for c in ("hat", "shoes") if c != category)
        choose(qtbot, m, f"cat:{other}")
        assert w.closet.items == []
        choose(qtbot, m, f"cat:{category}")

        choose(qtbot, m, f"item:{record.id}")
        choose(qtbot, m, "delete")
        choose(qtbot, m, "confirm_delete")
        m.wait(lambda: w.current() is w.closet and w.closet.items == [], what="the delete")
        assert m.service.closet() == []
        assert np.all(grab(w)[0, 0] == 0)
