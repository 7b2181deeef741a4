"""Findings and the order checks run in."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mirror.config import Settings

log = logging.getLogger(__name__)


class Outcome(enum.Enum):
    """How one check came out (the word printed at the start of its line)."""

    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Finding:
    """One line of the report: what was checked, what was found, and the fix when not OK."""

    status: Outcome
    check: str
    message: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status.value:<4} {self.check}: {self.message}"
        return f"{text} — fix: {self.fix}" if self.fix and self.status is not Outcome.OK else text


Check = Callable[[Settings], Iterable[Finding]]


def run_checks(settings: Settings, checks: Iterable[Check]) -> list[Finding]:
    """Run every check; a check that crashes becomes a FAIL line instead of a traceback."""
    findings: list[Finding] = []
    for check in checks:
        name = check.__name__.removeprefix("check_").replace("_", " ")
        try:
            findings.extend(check(settings))
        except Exception as exc:  # a doctor must finish its report whatever it meets
            log.debug("check %s crashed", name, exc_info=True)
            findings.append(
                Finding(
                    Outcome.FAIL,
                    name,
                    f"the check itself failed ({exc})",
                    "run `smart-mirror --verbose doctor` and report what it logs",  # -v goes before the command
                )
            )
    return findings
