"""Subcommands. Each module has NAME, HELP, add_arguments(parser) and run(args, settings) -> int.

A module that sets ``NEEDS_SETTINGS = False`` still runs when the config is invalid (it gets
``settings=None`` and ``args.config_error``), so ``doctor`` can report a broken config.
"""

from mirror.cli.commands import analyze, bench, closet, doctor, run, sync

COMMANDS = (run, analyze, bench, doctor, closet, sync)

__all__ = ["COMMANDS"]
