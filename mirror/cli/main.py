"""Argument parsing and dispatch; every subcommand lives in ``mirror.cli.commands``.

Errors a user can meet end here as one line on stderr and an exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence

from mirror.cli import exitcodes
from mirror.cli.commands import COMMANDS
from mirror.config import ConfigError, load_settings
from mirror.lifecycle import interrupt_on_terminate
from mirror.logsetup import configure_logging
from mirror.version import describe

log = logging.getLogger("mirror")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smart-mirror",
        description="Smart-mirror closet: register garments held up to the mirror, on-device.",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $SMART_MIRROR_CONFIG, then /etc/smart-mirror/config.toml, else built-in defaults)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument("--version", action="version", version=f"%(prog)s {describe()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        child = sub.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.add_arguments(child)
        child.set_defaults(
            handler=command.run,
            needs_settings=getattr(command, "NEEDS_SETTINGS", True),
            handles_terminate=getattr(command, "HANDLES_TERMINATE", False),
        )
    return parser


def report_config_problems(exc: ConfigError) -> int:
    """Print a bad config's problems, one line each, and return the usage exit status."""
    for line in exc.problems:
        print(line, file=sys.stderr)
    print(f"{len(exc.problems)} configuration problem(s); see docs/config.md", file=sys.stderr)
    return exitcodes.USAGE


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        if not args.needs_settings:
            settings = None
            args.config_error = exc
        else:
            return report_config_problems(exc)
    try:
        # SIGTERM unwinds like Ctrl-C, so a command's open closet is closed on the way out (``run`` asks
        # for a stop instead, and shuts down in order).
        with contextlib.nullcontext() if args.handles_terminate else interrupt_on_terminate():
            return int(args.handler(args, settings))
    except KeyboardInterrupt:
        return exitcodes.INTERRUPTED
    except BrokenPipeError:
        # `smart-mirror analyze … | head -1`: the reader has all it wanted. Point stdout at
        # /dev/null so the interpreter's final flush does not raise again, and stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return exitcodes.PIPE_CLOSED


def entry_point() -> None:
    """Console-script entry: exit with :func:`main`'s code."""
    sys.exit(main())
