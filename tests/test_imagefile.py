"""What the image reader refuses before it reads: files no photo could be, which would hang or exhaust a Pi."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import mirror.imagefile
from mirror.imagefile import UnreadableImageError, read_image


def test_a_pipe_named_like_a_photo_is_refused_not_waited_on(tmp_path: Path) -> None:
    """analyze on a FIFO blocked for ever in the read."""
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    with pytest.raises(UnreadableImageError, match="not a regular file"):
        read_image(str(fifo))


def test_a_file_too_large_for_a_photo_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 3 GB sparse "photo" was read whole: an allocation failure here, the OOM killer on a Pi."""
    huge = tmp_path / "huge.jpg"
    with huge.open("wb") as out:
        out.truncate(mirror.imagefile.MAX_FILE_BYTES + 1)  # sparse: no disk used
    read: list[object] = []
    monkeypatch.setattr("mirror.imagefile.np.fromfile", lambda *args, **kw: read.append(args))
    with pytest.raises(UnreadableImageError, match=r"the file is 268 MB, too large for a photo"):
        read_image(str(huge))
    assert not read, "the file was read before its size was checked"
