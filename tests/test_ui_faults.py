"""The window when the closet fails under it: the real window, service and store on real disks.

Each fault is what a person can meet, made for real where the kernel allows it: the card turning
read-only under the running mirror (a delete or a correction then fails), its disk filling up while
a result waits to be kept, a garment whose cut-out is gone or was never stored, a closet that
cannot be read. The screen must say what happened and offer its actions again, never hang at
"Deleting…" or crash the GUI thread.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from mirror.events import Level
from mirror.store import ClosetStore, GarmentDraft
from tests.disks import ext4_that_fails, fill_to_the_last_byte, tiny_tmpfs
from tests.test_ui_flow import choose, demo_draft, press
from tests.ui_harness import MirrorUnderTest, running_mirror, settings_for, wait_for_garment_result, wait_for_models
from ui import detail as detail_mod

pytestmark = pytest.mark.usefixtures("qapp")
READ_ONLY = "The closet can't be changed right now · its memory card needs a check · nothing stored was lost"


def closet_with(settings_path: Path, drafts: list[GarmentDraft]) -> list[str]:
    """A closet holding ``drafts`` (oldest first), as a mirror that ran before left it; their ids."""
    with ClosetStore.open(settings_path, "mirror-ui-test", min_free_mb=0) as store:
        return [str(store.add(draft).id) for draft in drafts]


def open_item(qtbot, m: MirrorUnderTest, record_id: str) -> None:
    """Home → Closet → the garment, by keys."""
    w = m.window
    m.wait(lambda: w.home.status.storage.level == Level.OK and m.service.closet() != [], what="the closet")
    choose(qtbot, m, "closet")  # (Closet has the focus already while the models are still loading)
    assert w.current() is w.closet
    choose(qtbot, m, f"item:{record_id}")
    assert w.current() is w.detail


def offered(m: MirrorUnderTest) -> list[str]:
    return [button.key for button in m.window.detail.buttons.buttons]


def test_a_correction_or_delete_on_a_card_gone_read_only_says_so_and_offers_its_actions_again(
    tmp_path: Path, qtbot
) -> None:
    with ext4_that_fails(tmp_path / "card") as (card, fail):
        settings = settings_for(card)
        red, _blue = closet_with(settings.store.path(), [demo_draft(0), demo_draft(1)])
        with running_mirror(settings) as m:
            w = m.window
            open_item(qtbot, m, red)
            fail()  # the card turns read-only while the garment is on screen

            choose(qtbot, m, "edit_colour")
            choose(qtbot, m, "pick:brown")
            assert w.current() is w.detail and w.detail.message == "Saving…"
            m.wait(lambda: w.detail.message != "Saving…", what="the correction's answer")
            assert w.detail.message == w.home.notice, "the error under the garment is the one on the home screen"
            assert w.detail.message == READ_ONLY, "said in words, with what to do"
            assert "read-only file system" in w.about.problem, "the technical cause is kept for the installer"
            assert offered(m) == [detail_mod.EDIT_CATEGORY, detail_mod.EDIT_COLOUR, detail_mod.DELETE, "back_to_closet"]
            assert w.detail.item is not None and w.detail.item.record.color.basic == "red"

            choose(qtbot, m, "delete")
            choose(qtbot, m, "confirm_delete")
            assert w.detail.deleting and w.detail.message == "Deleting…"
            m.wait(lambda: not w.detail.deleting, what="the delete's answer")
            assert w.current() is w.detail, "a failed delete stays on the garment"
            assert w.detail.message == w.home.notice == READ_ONLY, w.detail.message
            assert detail_mod.DELETE in offered(m), "Delete is offered again"
            assert {r.id for r in m.service.closet()} >= {w.detail.item.record.id}
            choose(qtbot, m, "delete")  # and asks again, as the first time
            assert w.detail.confirming


def test_a_garment_whose_cut_out_is_missing_is_still_listed(tmp_path: Path, qtbot) -> None:
    """One garment's cut-out file is gone (a bad card) and one was stored without one: both list,
    without a picture, and every other garment gets its thumbnail."""
    settings = settings_for(tmp_path)
    ok, photo = cv2.imencode(".jpg", np.full((48, 64, 3), 90, np.uint8))
    assert ok
    photo_only = GarmentDraft("pants", 0.9, demo_draft(2).color, images={"photo_jpg": photo.tobytes()}, group="bottom")
    red, blue, no_cutout = closet_with(settings.store.path(), [demo_draft(0), demo_draft(1), photo_only])
    with ClosetStore.open(settings.store.path(), "mirror-ui-test", min_free_mb=0) as store:
        lost = store.get(blue)
        assert lost is not None
        store.image_path(lost, "cutout_png").unlink()
    with running_mirror(settings) as m:
        w = m.window
        m.wait(lambda: len(m.service.closet()) == 3, what="the closet")
        choose(qtbot, m, "closet")
        assert w.current() is w.closet
        assert [str(i.record.id) for i in w.closet.items] == [no_cutout, blue, red]  # newest first

        def thumbs() -> dict[str, QImage | None]:
            return {str(i.record.id): i.thumbnail for i in w.closet.items}

        m.wait(lambda: thumbs()[red] is not None and thumbs()[blue] is not None, what="the thumbnails")
        shown, gone = thumbs()[red], thumbs()[blue]
        assert shown is not None and not shown.isNull(), "the garment after the two without a picture gets its own"
        assert gone is not None and gone.isNull(), "a cut-out file that is gone gives an empty picture"
        assert thumbs()[no_cutout] is None, "nothing to load for a garment stored without a cut-out"
        assert w.home.notice == ""
        choose(qtbot, m, f"item:{no_cutout}")
        assert w.current() is w.detail and w.detail.item is not None and w.detail.item.thumbnail is None


def test_a_closet_that_cannot_be_read_is_said_on_the_home_screen(tmp_path: Path, qtbot) -> None:
    settings = settings_for(tmp_path)
    closet_with(settings.store.path(), [demo_draft(0)])
    with running_mirror(settings) as m:
        w = m.window
        m.wait(lambda: m.service.closet() != [], what="the closet")
        store = m.service._closet.store
        assert store is not None
        store.close()  # the fault: every read of the closet fails from here on
        choose(qtbot, m, "closet")
        assert w.current() is w.closet and w.closet.items == []  # shown, empty, not a crash
        assert w.home.notice == "The closet can't be read right now · the mirror keeps trying", w.home.notice
        assert "closed" in w.about.problem.lower(), w.about.problem
        assert w.home.notice_about == "storage"


def test_keep_on_a_full_disk_says_so_and_can_be_retried(
    tmp_path: Path, qtbot, caplog: pytest.LogCaptureFixture
) -> None:
    """The disk fills (a runaway log) while the result is on screen: Keep says so, naming the fix,
    and the result stays to be kept later; nobody there, the mirror goes home with the notice."""
    with tiny_tmpfs(tmp_path / "fs", "4m") as fs:
        settings = settings_for(fs)
        closet = settings.store.path()
        full_line = re.compile(
            re.escape(
                "The closet is full · delete garments you no longer have, or free space on its disk"
                " · nothing stored was lost"
            )
        )
        with running_mirror(settings) as m, caplog.at_level(logging.WARNING):
            w = m.window
            wait_for_models(m)
            m.wait(lambda: m.service.status().camera.level == Level.OK, what="the demo camera")
            m.wait(lambda: w.capture.frame is not None and w.capture.frame.box is not None, 30, "a garment in view")
            press(qtbot, w.current(), Qt.Key.Key_Space)
            wait_for_garment_result(m)
            fill_to_the_last_byte(fs)  # the disk fills while the result is on screen
            press(qtbot, w.result, Qt.Key.Key_Return)  # Keep
            m.wait(lambda: w.result.message not in ("", "Saving…"), what="the keep's answer")
            assert full_line.fullmatch(w.result.message), w.result.message
            assert str(closet) in w.about.problem, "the path is for the installer, on About"
            assert w.current() is w.result and w.review is not None  # nothing lost: it can be kept later
            assert m.service.closet() == []
            # The person walks away: the timeout tries once more, then the mirror goes home with
            # the notice instead of holding the result (and the camera) for good.
            w.set_result_timeout(0.5)
            w._unattended.start()
            m.wait(lambda: w.current() is w.home, timeout_s=10, what="home after the unattended retry")
            assert full_line.fullmatch(w.home.notice), w.home.notice
            assert m.service.closet() == []
        logged = [r.getMessage() for r in caplog.records]
        assert not [line for line in logged if "closet operation failed" in line], logged
