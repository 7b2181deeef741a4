"""The window tells the core when the preview is on screen, so an idle mirror rests its camera loop
while nobody sees the preview (``mirror.capture.loop.IDLE_REST_FPS``): the real window and service."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui_harness import running_mirror, settings_for

pytestmark = [pytest.mark.usefixtures("qapp"), pytest.mark.slow]


def test_the_core_knows_whether_the_capture_screen_shows_the_preview(tmp_path: Path) -> None:
    with running_mirror(settings_for(tmp_path)) as m:
        w, watched = m.window, m.service._preview_watched
        m.wait(lambda: m.service._camera.loop is not None, what="the camera loop")
        loop = m.service._camera.loop
        assert loop is not None and loop.preview_watched is watched, "the flag the window sets is the loop's"
        assert w.current() is w.home and not watched.is_set()
        w.show_screen(w.capture)
        assert watched.is_set()
        w.show_screen(w.closet)
        assert not watched.is_set()
        w.show_screen(w.capture)
        w.show_screen(w.home)
        assert not watched.is_set()
