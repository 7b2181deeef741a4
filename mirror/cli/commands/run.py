"""``smart-mirror run``: the mirror app (fullscreen Qt UI over the capture pipeline).

The UI package is imported only here, when the app starts, so the rest of the core never
loads Qt.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mirror.cli import exitcodes
from mirror.cli.argtypes import bounded
from mirror.config import Settings
from mirror.instance import ClosetInUseError, claim_closet
from mirror.lifecycle import Lifecycle

NAME = "run"
#: It runs with a broken config too: under systemd it shows the problems on the glass (``run``).
NEEDS_SETTINGS = False
#: It handles SIGTERM itself (a stop request), so ``main`` does not turn it into an exception.
HANDLES_TERMINATE = True
HELP = "start the mirror (fullscreen UI, camera, capture, sync)"
MAX_DURATION_S = 86_400.0  # a demo or a test run, not the service (which has no --duration)
#: ``ui.app.OFFSCREEN_DEFAULT_DURATION_S``, spelled out so that ``--help`` does not import the UI;
#: tests/test_cli.py checks they match.
OFFSCREEN_DURATION_S = 20.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        choices=("auto", "picamera2", "v4l2", "replay", "demo"),
        help="override [camera] source (demo needs no camera)",
    )
    parser.add_argument("--windowed", action="store_true", help="open a window instead of fullscreen")
    parser.add_argument("--screenshots", metavar="DIR", help="write a PNG of each screen shown to DIR")
    parser.add_argument(
        "--duration",
        type=bounded(float, "a number of seconds", 0.0, MAX_DURATION_S, unit=" s"),
        metavar="S",
        help="quit after S seconds (for demos on machines with no display; default: never, "
        f"or {OFFSCREEN_DURATION_S:g} on Qt's offscreen platform)",
    )


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    if settings is None:
        return settings_problem(args)
    if args.screenshots:
        folder = Path(args.screenshots).expanduser()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(f"smart-mirror run: cannot create {folder} ({exc.strerror}); pick another --screenshots DIR",
                  file=sys.stderr)  # fmt: skip
            return exitcodes.USAGE
    try:
        claim = claim_closet(settings.store.path())
    except ClosetInUseError as exc:
        print(f"smart-mirror run: {exc}", file=sys.stderr)
        return exitcodes.FAILED
    # Before Qt is imported (seconds on a Pi): a SIGTERM from now on is a stop request, kept until the event
    # loop runs, and then a clean exit 0. Raised as an exception instead, it ended in status 130 (a unit
    # stopped on purpose left "failed", restarted by the retry timer) or broke Qt's own start-up.
    life = Lifecycle().install()
    from ui.app import run_app  # here, not at the top: the rest of the core never loads Qt

    with claim:
        return run_app(settings, args, life)


def settings_problem(args: argparse.Namespace) -> int:
    """A config that does not load: at a shell, its problems and exit 2; as the service (systemd's
    ``$NOTIFY_SOCKET``, on a display), the same problems on the glass until the file is fixed."""
    from mirror.cli.main import report_config_problems
    from mirror.config import ConfigError, find_config_file
    from mirror.notify import SystemdNotifier

    error: ConfigError = args.config_error
    notifier = SystemdNotifier.from_env()
    if not notifier.enabled:
        return report_config_problems(error)
    report_config_problems(error)  # the journal keeps them too
    try:
        config = find_config_file(args.config)
    except ConfigError:
        config = None
    from ui.settings_problem import run_settings_problem

    return run_settings_problem(error.problems, config, notifier, windowed=args.windowed)
