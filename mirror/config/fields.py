"""Declaring a setting once: its default, its meaning and its bounds.

The validator, ``docs/config.md`` and ``config.example.toml`` are all derived from these
declarations, so the three can never disagree.
"""

from __future__ import annotations

import dataclasses
from typing import Any

DOC = "doc"
BOUNDS = "bounds"
CHOICES = "choices"


def setting(
    default: Any,
    doc: str,
    *,
    bounds: tuple[float | None, float | None] | None = None,
    choices: tuple[object, ...] | None = None,
) -> Any:
    """A dataclass field carrying its documentation and constraints in ``metadata``."""
    metadata: dict[str, Any] = {DOC: doc}
    if bounds is not None:
        metadata[BOUNDS] = bounds
    if choices is not None:
        metadata[CHOICES] = choices
    if isinstance(default, (list, dict, tuple)):
        return dataclasses.field(default_factory=lambda: default, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)
