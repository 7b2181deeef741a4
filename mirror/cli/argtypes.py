"""Argument types for numeric options: a bad value becomes argparse's own one-line usage error (exit 2)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

N = TypeVar("N", int, float)

#: ``mirror.inference.BACKENDS``, spelled out so that building the parser (on every ``smart-mirror``
#: call) does not import the inference package and numpy; tests/test_cli.py checks they match.
BACKENDS = ("tflite", "onnx")


def bounded(
    parse: Callable[[str], N],
    noun: str,
    lowest: N,
    highest: N | None = None,
    *,
    unit: str = "",
    lowest_ok: bool = False,
) -> Callable[[str], N]:
    """An argparse ``type``: ``parse`` the text, then require ``lowest <= value`` (or ``lowest < value``
    when ``highest`` is given: a stretch of time must be more than nothing, unless ``lowest_ok``, as for
    ``--retry 0``, never) and ``value <= highest``.

    NaN fails every comparison, so ``nan`` is refused too; ``inf`` fails a finite ``highest``.
    """

    def check(text: str) -> N:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        if highest is None:
            if not value >= lowest:
                raise argparse.ArgumentTypeError(f"must be {lowest:g} or more, got {value}")
        elif lowest_ok:
            if not lowest <= value <= highest:
                raise argparse.ArgumentTypeError(f"must be from {lowest:g} to {highest:g}{unit}, got {text}")
        elif not lowest < value <= highest:
            raise argparse.ArgumentTypeError(f"must be more than {lowest:g} and at most {highest:g}{unit}, got {text}")
        return value

    return check
