"""``smart-mirror doctor``: is this mirror ready? One line per check, OK / WARN / FAIL + the fix."""

from mirror.doctor.report import Finding, Outcome, run_checks

__all__ = ["Finding", "Outcome", "run_checks"]
