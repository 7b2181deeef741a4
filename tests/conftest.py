"""Shared fixtures: the repository root, ../shared, and an isolated environment per test."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Every Qt test draws offscreen. Set here, before any test module is imported, because pytest-qt's
# session-wide QApplication is made before a per-test fixture could set it, and a subset of the
# Qt tests must not depend on which module happens to be imported first.
os.environ["QT_QPA_PLATFORM"] = "offscreen"

# The product's entry points import the mirror package before OpenCV (it sets OpenCV's decoder
# pixel limit, read once when cv2 loads); so do the tests, whichever module pytest collects first.
import mirror  # noqa: F401

# Real servers for the sync tests: mosquitto, and PostgreSQL for the consumer's second backend.
pytest_plugins = ["tests.conftest_broker", "tests.conftest_postgres"]

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SMART_MIRROR_SHARED", ROOT.parent / "shared"))


def require_shared(*parts: str) -> Path:
    """The path under ../shared, or skip the test saying what is missing and why it matters."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the training/validation data beside the checkout); it is absent here")
    return path


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the machine's config or writes to the real closet."""
    monkeypatch.delenv("SMART_MIRROR_CONFIG", raising=False)
    monkeypatch.delenv("SMART_MIRROR_MQTT_PASSWORD", raising=False)
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.fixture(autouse=True)
def _isolated_logging() -> Iterator[None]:
    """The CLI, run in-process, installs its own root handler on the test's captured stderr (and
    replaces pytest's): put the root logger back after each test, so a thread of a later test
    (an in-process consumer, a broker watcher) never writes to a stream that is gone."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
