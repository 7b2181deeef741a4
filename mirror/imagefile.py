"""Image files from disk, read defensively: the one reader for ``analyze``, ``bench`` and replay.

Why one module: a photo folder is user input. A pixel bomb (a small PNG that declares
60000×60000) must be refused from its header before it is decoded, and a truncated file
(a copy cut short, a card pulled out mid-write) must be named, not half-decoded: libjpeg
fills the missing part with grey and prints "Premature end of JPEG file" with no file name,
on every read, so a replay folder with one such file repeated the noise on every loop.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from mirror import MAX_IMAGE_PIXELS
from mirror.imagetypes import Image

MAX_PIXELS = MAX_IMAGE_PIXELS
#: The largest file read at all: far above any photo (a 100-megapixel JPEG is ~30 MB), far below what
#: a Pi can hold twice over (the file and its decoded pixels).
MAX_FILE_BYTES = 256 * 1024 * 1024

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI, _JPEG_SOS, _JPEG_EOI = b"\xff\xd8", b"\xff\xda", b"\xff\xd9"


class UnreadableImageError(ValueError):
    """A path that is not a readable image; the message says why, without the path."""


def read_image(path: str) -> Image:
    """The image at ``path`` as BGR (EXIF orientation applied), or :class:`UnreadableImageError`."""
    p = Path(path)
    if not p.exists():
        raise UnreadableImageError("no such file")
    if p.is_dir():
        raise UnreadableImageError("is a folder, not an image")
    if not p.is_file():  # a pipe would block the read for ever, a device never end
        raise UnreadableImageError("not a regular file (a device or a pipe)")
    try:
        size_bytes = p.stat().st_size
        if size_bytes > MAX_FILE_BYTES:
            raise UnreadableImageError(f"the file is {size_bytes // 1_000_000} MB, too large for a photo")
        data = np.fromfile(p, dtype=np.uint8)
    except OSError as exc:
        raise UnreadableImageError(f"cannot read the file ({exc.strerror or exc})") from None
    raw = data.tobytes()
    size = declared_size(raw[:65536])
    too_large = f"more than {MAX_PIXELS // 1_000_000} megapixels; scale it down first"
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        raise UnreadableImageError(f"image is {size[0]}×{size[1]} pixels, {too_large}")
    damage = truncation(raw)
    if damage is not None:
        raise UnreadableImageError(damage)
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except cv2.error as exc:  # OpenCV's own limit (any format: WebP, TIFF, a JPEG with long headers)
        if "CV_IO_MAX_IMAGE_PIXELS" in str(exc):
            raise UnreadableImageError(f"image is {too_large}") from None
        image = None
    if image is None:
        raise UnreadableImageError("not a readable image (unsupported format or damaged file)")
    return np.asarray(image, dtype=np.uint8)


def declared_size(head: bytes) -> tuple[int, int] | None:
    """Width and height a PNG or JPEG header declares (read before decoding), else None."""
    if head[:8] == _PNG_SIGNATURE and len(head) >= 24:
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if head[:2] != _JPEG_SOI:
        return None
    i = 2
    while i + 9 < len(head) and head[i] == 0xFF:
        marker, length = head[i + 1], int.from_bytes(head[i + 2 : i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):  # SOFn
            return int.from_bytes(head[i + 7 : i + 9], "big"), int.from_bytes(head[i + 5 : i + 7], "big")
        i += 2 + length
    return None


def truncation(data: bytes) -> str | None:
    """Why a PNG or JPEG is visibly cut short, or None (other formats are left to the decoder).

    A JPEG's image data (after its last start-of-scan marker) must be followed by the
    end-of-image marker; inside the data every 0xFF byte is stuffed, so the pair cannot occur
    by chance, and an EXIF thumbnail's own markers come before the main scan. A PNG must hold
    its closing IEND chunk.
    """
    if data[:2] == _JPEG_SOI:
        scan = data.rfind(_JPEG_SOS)
        if scan < 0 or data.find(_JPEG_EOI, scan + 2) < 0:
            return "truncated JPEG (the end of the file is missing); copy it again"
    elif data[:8] == _PNG_SIGNATURE and data.rfind(b"IEND") < 0:
        return "truncated PNG (the end of the file is missing); copy it again"
    return None
