"""Whether a remote command can be carried out now, and if not, why: the refusal codes of the
command contract (``docs/sync.md``), decided from a snapshot of the capture flow.

A pure function over that snapshot, so the whole table of codes is tested directly rather than
by driving a live mirror into each state; ``MirrorService.command`` takes the snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mirror.events import STORAGE_FULL, CaptureState

BUSY_SHOT = "busy: a shot is being taken or analysed; wait for its result"
BUSY_RESULT = "busy: a result is showing; send keep, retake or cancel first"
BUSY_COUNTDOWN = "busy: a capture is in progress; send cancel first"
NO_CAMERA = "no_camera: no camera to capture with; connect the camera"
DISK_FULL = f"{STORAGE_FULL}: the closet's disk is full; free space or delete garments first"
NOTHING_TO_CANCEL = "nothing_to_do: no capture in progress and no result showing"
NO_RESULT = "nothing_to_do: no result is showing"
CLOSET_CLOSED = "unavailable: the closet is not open"


@dataclass(frozen=True)
class FlowNow:
    """The capture flow as a remote command sees it at one moment."""

    state: CaptureState
    showing: bool = False
    """A result is on the screen, waiting for keep or retake."""
    camera: bool = True
    """A capture loop is running (a camera is open)."""
    storage_full: bool = False
    closet_open: bool = True
    """The closet is open and readable (a garment shot now could be kept)."""


def refusal(name: str, now: FlowNow, record_id: str = "", has_record: Callable[[str], bool] | None = None) -> str:
    """``""`` when ``name`` can be carried out now, else the reason as ``code: one line``.

    ``has_record`` answers whether the closet holds ``record_id`` (for ``delete``); ``None`` when
    the closet is not open.
    """
    shooting = now.state in (CaptureState.CAPTURING, CaptureState.ANALYSING)
    if name == "capture":
        if not now.camera:
            return NO_CAMERA
        if now.storage_full:
            return DISK_FULL
        if not now.closet_open:
            return CLOSET_CLOSED
        return BUSY_SHOT if shooting else BUSY_RESULT if now.showing else ""
    if name == "show":
        return BUSY_COUNTDOWN if shooting or now.state is CaptureState.COUNTDOWN else BUSY_RESULT if now.showing else ""
    if name == "cancel":
        idle = now.state in (CaptureState.IDLE, CaptureState.NO_CAMERA)
        return NOTHING_TO_CANCEL if idle and not now.showing else ""
    if name in ("keep", "retake"):
        return "" if now.showing else BUSY_SHOT if shooting else NO_RESULT
    if name == "delete":
        if has_record is None:
            return CLOSET_CLOSED
        return "" if has_record(record_id) else f"unknown_record: no garment {record_id} in the closet"
    return f"unknown_command: {name}"
