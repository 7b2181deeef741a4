"""What the person at the glass reads: what went wrong and what to do, and the closet's and backup's states.

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
#: (message, fix) when the camera is not set up: the config or an install step, not its cable.
CAMERA_NOT_SET_UP = ("The camera is not set up", "run smart-mirror doctor to see what to change")
#: (message, fix) when the closet's disk is below ``[store] min_free_mb``.
CLOSET_FULL = ("The closet is full", "delete garments you no longer have, or free space on its disk")
#: A shot while the models are still loading after start-up: nothing is broken.
STARTING_UP = "Still starting up · try again in a few seconds"
#: (message, fix) when the models could not be loaded; the closet still works without them.
NO_MODELS = ("The mirror can't recognise clothes right now", "it needs a software repair")
PHOTO_FAILED = "Something went wrong with that photo · try again"
#: How each part is named to the person when it cannot start.
PART_NAMES = {"camera": "camera", "models": "clothes recognition", "storage": "closet", "sync": "cloud backup"}

# One vocabulary for the cloud copy of the closet, on every screen: Home's status line says how
# backing up goes, a garment's detail whether it is backed up. "Backed up" throughout (the part is
# named "cloud backup" above), never "synced" or "in the cloud" beside it, so the person learns
# one word for one thing.
#: A garment the cloud has.
BACKED_UP = "Backed up"
#: A garment (or, on Home, the closet) the cloud does not have yet: it goes when the network is back.
NOT_BACKED_UP = "Not backed up yet"
#: ``[sync] enabled = false``: nothing leaves the mirror.
BACKUP_OFF = "Only on this mirror (backup is off)"
#: Backing up fails (not merely offline): the installer's detail is on the About screen.
BACKUP_FAILING = "Backup not working"

# A garment kept or not, said on Home the same way whether Keep was pressed or the mirror settled
# the result itself (one verb: "Added"), naming it as the person will find it in the closet.
#: Followed by ": " and the garment ("grey T-shirt").
ADDED = "Added to your closet"
#: After Keep: the mirror arms again only once this garment has left the view. ``{it}``: "it" or "them".
LOWER_FIRST = "lower {it}, then hold up the next"
#: An unsure result nobody answered is dropped. ``{claim}``: "it is a T-shirt", "they are shorts".
NOT_ADDED_UNSURE = "Not added: the mirror was unsure {claim}"


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
