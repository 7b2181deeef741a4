"""``smart-mirror doctor``: one line per check, OK / WARN / FAIL with the fix."""

from __future__ import annotations

import argparse

from mirror.cli import exitcodes
from mirror.config import ConfigError, Settings
from mirror.doctor import Finding, Outcome, run_checks

NAME = "doctor"
HELP = "check config, storage, models, camera, broker, display, clock and service; print OK / WARN / FAIL with fixes"
NEEDS_SETTINGS = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Exit code 0 when nothing FAILs (warnings allowed), 1 otherwise."


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    from mirror.doctor.checks import CHECKS  # the model and camera checks load numpy: not for --help

    findings: list[Finding] = []
    if settings is None:
        error: ConfigError = args.config_error
        findings += [
            # A problem that already says its fix (a missing file) is not given a second one.
            Finding(Outcome.FAIL, "config", problem, "" if "; " in problem else "edit the file; see docs/config.md")
            for problem in error.problems
        ]
        findings.append(Finding(Outcome.WARN, "config", "the checks below use built-in defaults"))
        settings = Settings()
    else:
        findings.append(Finding(Outcome.OK, "config", f"{settings.origin}: valid"))
    findings += run_checks(settings, CHECKS)
    for finding in findings:
        print(finding.line(), flush=True)
    failed = sum(f.status is Outcome.FAIL for f in findings)
    warned = sum(f.status is Outcome.WARN for f in findings)
    print(f"{len(findings)} checks: {failed} failed, {warned} warnings")
    return exitcodes.FAILED if failed else exitcodes.OK
