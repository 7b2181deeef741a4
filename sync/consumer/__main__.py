"""``python -m sync.consumer`` = ``smart-mirror-consumer``."""

from sync.consumer.cli import entry_point

entry_point()
