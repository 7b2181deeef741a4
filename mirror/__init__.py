"""Smart-mirror closet: the core (config, camera sources, vision, closet store, CLI).

Nothing in this package imports Qt: the UI in ``ui/`` talks to it through queues and
callbacks, so the core runs headless in ``analyze``, ``bench`` and the tests.
"""

import os

__version__ = "0.1.0"

MAX_IMAGE_PIXELS = 100_000_000
"""Larger images are refused before decoding: 100 megapixels is 300 MB as BGR before any
processing (a Pi 4 may have 2 GB), several times a phone or Pi HQ camera photo (12–50 MP)."""

# OpenCV reads its decoder limit once, when it is first imported (its default is 2^30 pixels:
# a 5 KB WebP may declare 11000×11000 and take 740 MB to decode). Every entry point imports
# this package before OpenCV, so set it here; mirror.imagefile also checks PNG and JPEG headers.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_IMAGE_PIXELS))
# OpenCV's own warnings (a missing /dev/videoN, retried every few seconds while the camera is
# unplugged) go straight to stderr, past Python logging: one line per retry for days. The mirror
# says what is wrong once, in its own words.
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
os.environ.setdefault("LIBCAMERA_LOG_LEVELS", "*:ERROR")  # libcamera's INFO lines at every open, likewise
