"""What the person at the glass reads when something goes wrong.

Why a module of its own: these sentences are the product's voice (``Error.message``/``fix``,
``AnalysisFailed.reason``), written once here and read by the core and the UI alike, so the
screen and the core never drift apart. They are plain sentences: no paths, config keys or
exception text. The technical cause goes to the log and to ``Error.detail`` (shown on the
About screen), where an installer looks for it.
"""

from __future__ import annotations

from mirror.store import (
    DamagedRecordError,
    RecordNotFoundError,
    StoreCorruptError,
    StoreFullError,
    StoreReadOnlyError,
)

#: The shot held no garment the segmenter could find (``AnalysisFailed.reason``).
NO_GARMENT = "no garment found in the shot: hold it up flat, facing the mirror, and try again"
#: (message, fix) when the camera is missing or failed.
NO_CAMERA = ("No camera found", "check its cable, then restart the mirror")
#: (message, fix) when the closet's disk is below ``[store] min_free_mb``.
CLOSET_FULL = ("The closet is full", "delete garments you no longer have, or free space on its disk")
#: A shot while the models are still loading after start-up: nothing is broken.
STARTING_UP = "Still starting up · try again in a few seconds"
#: (message, fix) when the models could not be loaded; the closet still works without them.
NO_MODELS = ("The mirror can't recognise clothes right now", "it needs a software repair")
PHOTO_FAILED = "Something went wrong with that photo · try again"
#: How each part is named to the person when it cannot start.
PART_NAMES = {"camera": "camera", "models": "clothes recognition", "storage": "closet", "sync": "cloud backup"}


def store_problem(exc: Exception) -> tuple[str, str]:
    """The person-facing (message, fix) for a closet operation that failed with ``exc``."""
    if isinstance(exc, StoreFullError):
        return CLOSET_FULL[0], CLOSET_FULL[1] + " · nothing stored was lost"
    if isinstance(exc, StoreReadOnlyError):
        return "The closet can't be changed right now", "its memory card needs a check · nothing stored was lost"
    if isinstance(exc, StoreCorruptError):
        return "The closet is damaged", "it needs restoring from a backup · the pictures are kept"
    if isinstance(exc, DamagedRecordError):
        return "This garment can't be read", "the other garments are fine"
    if isinstance(exc, RecordNotFoundError):
        return "That garment is no longer in the closet", ""
    return "That did not work", "try again"
