"""Data preparation for the garment segmenter: class table, splits, packing for the GPU.

Commands (run from the repository root with the training venv):
  python -m models.training.seg_data teacher-pack --out .carry/seg/teacher
      single-garment photos (long side 256) in two halves + the teacher (xz) for the GPU
  python -m models.training.seg_data teacher-unpack --tars A.tar B.tar
      soft masks -> QC -> /work/data/teacher_masks/<image>.png + REJECTED.txt + DONE
  python -m models.training.seg_data train-pack --out .carry/seg/train
      CCP (mapped to our classes) + accepted single-garment photos, at training size
"""

from __future__ import annotations

import argparse
import csv
import lzma
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

SHARED = Path("../shared")
CLOTHING = SHARED / "data/clothing"
CCP = SHARED / "data/ccp"
TEACHER = SHARED / "models/teacher/isnet_general_small_uint8.onnx"
SPLIT_SEED = 20261124


@dataclass(frozen=True)
class Photo:
    """One single-garment photo from ``images.csv``."""

    image: str
    sender: str
    label: str


def read_clothing(root: Path = CLOTHING) -> list[Photo]:
    with (root / "images.csv").open(newline="") as handle:
        return [Photo(r["image"], r["sender_id"], r["label"]) for r in csv.DictReader(handle)]


def _resize_long(img: np.ndarray, long_side: int) -> np.ndarray:
    s = long_side / max(img.shape[:2])
    if s >= 1:
        return img
    return cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_AREA)


def teacher_pack(out: Path, long_side: int) -> None:
    """Two halves of downscaled photos + the xz-compressed teacher, each half ≤ ~55 MB with it."""
    photos = read_clothing()
    for half in ("a", "b"):
        (out / half).mkdir(parents=True, exist_ok=True)
    for i, p in enumerate(photos):
        img = cv2.imread(str(CLOTHING / "images" / f"{p.image}.jpg"))
        small = _resize_long(img, long_side)
        cv2.imwrite(str(out / ("a" if i % 2 == 0 else "b") / f"{p.image}.jpg"), small, [cv2.IMWRITE_JPEG_QUALITY, 85])
    model = out / "teacher.onnx.xz"
    if not model.exists():
        model.write_bytes(lzma.compress(TEACHER.read_bytes(), preset=6))
    print(f"packed {len(photos)} photos into {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    tp = sub.add_parser("teacher-pack")
    tp.add_argument("--out", type=Path, default=Path(".carry/seg/teacher"))
    tp.add_argument("--long-side", type=int, default=256)
    a = parser.parse_args()
    if a.cmd == "teacher-pack":
        teacher_pack(a.out, a.long_side)


if __name__ == "__main__":
    main()
