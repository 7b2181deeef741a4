"""The closet's size on disk, measured without listing every image every time (``mirror.store.usage``)."""

from __future__ import annotations

import os
from pathlib import Path

from mirror.store.closet import IMAGES_DIR
from mirror.store.usage import StorageMeter


def test_the_images_are_listed_again_only_when_their_folder_changes(tmp_path: Path) -> None:
    images = tmp_path / IMAGES_DIR / "ab"
    images.mkdir(parents=True)
    (images / "ab12.jpg").write_bytes(b"x" * 1000)
    (tmp_path / "closet.db").write_bytes(b"d" * 300)
    meter = StorageMeter(tmp_path)
    assert meter.measure() == 1300 and meter.image_walks == 1
    (tmp_path / "closet.db").write_bytes(b"d" * 500)  # the database grows in place: measured every time
    assert meter.measure() == 1500 and meter.image_walks == 1
    (tmp_path / IMAGES_DIR / "cd.jpg").write_bytes(b"y" * 70)  # a new image changes the folder
    stamp = (tmp_path / IMAGES_DIR).stat().st_mtime_ns
    os.utime(tmp_path / IMAGES_DIR, ns=(stamp + 10**9, stamp + 10**9))  # coarse-mtime filesystems
    assert meter.measure() == 1570 and meter.image_walks == 2


def test_a_closet_not_yet_created_holds_nothing(tmp_path: Path) -> None:
    assert StorageMeter(tmp_path / "not-yet").measure() == 0
