"""``python -m mirror`` is the same as the ``smart-mirror`` command."""

from mirror.cli.main import entry_point

entry_point()
