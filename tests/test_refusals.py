"""The remote-command refusal table (``mirror.refusals``), state by state, and its codes in the contract."""

from __future__ import annotations

import re

import pytest

from mirror.events import CaptureState as S
from mirror.refusals import FlowNow, refusal
from tests.conftest import ROOT

IDLE = FlowNow(S.IDLE)
RESULT = FlowNow(S.REVIEW, showing=True)


@pytest.mark.parametrize(
    ("name", "now", "code"),
    [
        ("capture", IDLE, ""),
        ("capture", FlowNow(S.COUNTDOWN), ""),  # a capture asked for during a countdown shoots now
        ("capture", FlowNow(S.IDLE, camera=False), "no_camera"),
        ("capture", FlowNow(S.IDLE, camera=False, storage_full=True), "no_camera"),  # the first fix first
        ("capture", FlowNow(S.IDLE, storage_full=True), "storage_full"),
        ("capture", FlowNow(S.IDLE, closet_open=False), "unavailable"),  # a shot that could not be kept
        ("capture", FlowNow(S.CAPTURING), "busy"),
        ("capture", FlowNow(S.ANALYSING), "busy"),
        ("capture", RESULT, "busy"),
        ("show", IDLE, ""),
        ("show", FlowNow(S.COUNTDOWN), "busy"),
        ("show", FlowNow(S.ANALYSING), "busy"),
        ("show", RESULT, "busy"),
        ("cancel", IDLE, "nothing_to_do"),
        ("cancel", FlowNow(S.NO_CAMERA), "nothing_to_do"),
        ("cancel", FlowNow(S.COUNTDOWN), ""),
        ("cancel", FlowNow(S.ANALYSING), ""),
        ("cancel", RESULT, ""),
        ("keep", RESULT, ""),
        ("retake", RESULT, ""),
        ("keep", IDLE, "nothing_to_do"),
        ("retake", FlowNow(S.ANALYSING), "busy"),
        ("reboot", IDLE, "unknown_command"),
    ],
)
def test_each_command_in_each_state(name: str, now: FlowNow, code: str) -> None:
    reason = refusal(name, now)
    assert reason.partition(":")[0] == code, reason
    assert "\n" not in reason and (not code or reason.startswith(f"{code}: "))


def test_delete_asks_the_closet() -> None:
    known = {"r1"}.__contains__
    assert refusal("delete", IDLE, "r1", known) == ""
    assert refusal("delete", RESULT, "r1", known) == ""  # a delete does not disturb a capture
    assert refusal("delete", IDLE, "r2", known).startswith("unknown_record: no garment r2")
    assert refusal("delete", IDLE, "r1", None).startswith("unavailable: ")


def test_every_refusal_code_is_in_the_contract() -> None:
    source = (ROOT / "mirror" / "refusals.py").read_text()
    codes = set(re.findall(r'"([a-z_]+): ', source)) | {"storage_full"}
    contract = (ROOT / "docs" / "sync.md").read_text()
    missing = {code for code in codes if f"`{code}`" not in contract}
    assert not missing, f"refusal codes not documented in docs/sync.md: {missing}"


def test_every_command_the_contract_allows_is_decided() -> None:
    """A name the schema accepts must never fall through to ``unknown_command``: the schema, the
    sync worker's list and this table are kept in step."""
    from sync.commands import COMMANDS, SCREENS
    from sync.contract import load_schema

    properties = load_schema("command")["properties"]
    assert list(COMMANDS) == properties["command"]["enum"]
    assert list(SCREENS) == properties["screen"]["enum"]
    for name in COMMANDS:
        for now in (IDLE, RESULT, FlowNow(S.ANALYSING)):
            assert not refusal(name, now, "r1", {"r1"}.__contains__).startswith("unknown_command"), name
