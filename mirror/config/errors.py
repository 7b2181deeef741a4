"""The one exception configuration problems travel in."""

from __future__ import annotations


class ConfigError(Exception):
    """One or more configuration problems, each a complete one-line message.

    The CLI prints ``problems`` one per line and exits with code 2.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
