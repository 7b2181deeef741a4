"""Failure galleries: equal-sized tiles laid out in a grid and written as one PNG."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def save_grid(tiles: list[np.ndarray], path: Path, columns: int = 6) -> None:
    """Write ``tiles`` (same shape) row by row, padding the last row with black; nothing if empty."""
    if not tiles:
        return
    tiles = tiles + [np.zeros_like(tiles[0])] * (-len(tiles) % columns)
    grid = np.vstack([np.hstack(tiles[r : r + columns]) for r in range(0, len(tiles), columns)])
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), grid)
