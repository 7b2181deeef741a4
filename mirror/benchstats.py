"""The percentiles every bench report gives, computed one way for all of them.

``smart-mirror bench`` (the pipeline), ``bench --ui`` and ``bench --sync`` each report a median
and a tail (p90 or p95) of their timings. They used to work the tail out three different ways
(numpy's interpolation and two different nearest-sample picks), so the p90 of one report could
not be set beside another's. All three now use :func:`summary`.

The method is ``statistics.quantiles(method="inclusive")``: linear interpolation between the two
samples either side (numpy's default, Hyndman and Fan's type 7). Chosen because it is what the
pipeline bench already reported (its figures stay comparable with older reports), its 50th
percentile is the median the reports also give, it never leaves the range of the samples (a
p90 of five shots is not an extrapolation), and it needs no numpy, which the sync bench does
not load.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

#: What a summary of no samples says: not a number (the reports' JSON writes NaN).
NOTHING = float("nan")


@dataclass(frozen=True)
class Summary:
    """``n`` samples: their largest, and the value at each percentile asked for (``at[90]``: p90)."""

    n: int
    max: float
    at: dict[int, float]


def percentile(values: Sequence[float], q: int) -> float:
    """The ``q``-th percentile (1 to 99) of ``values``, interpolated as the module docstring says."""
    if not 1 <= q <= 99:
        raise ValueError(f"percentile {q} is not between 1 and 99")
    if not values:
        return NOTHING
    if len(values) == 1:  # statistics.quantiles wants two samples (before Python 3.13)
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summary(values: Sequence[float], quantiles: Sequence[int] = (50, 90)) -> Summary:
    """How many ``values``, their largest, and each of ``quantiles`` (unrounded; NaN for no values)."""
    return Summary(
        n=len(values),
        max=max(values) if values else NOTHING,
        at={q: percentile(values, q) for q in quantiles},
    )
