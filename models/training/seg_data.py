"""Data preparation for the garment segmenter: class table, splits, packing for the GPU.

Commands (run from the repository root with the training venv):
  python -m models.training.seg_data teacher-pack --out .carry/seg/teacher
      single-garment photos (long side 256) in two halves + the teacher (xz) for the GPU
  python -m models.training.seg_data teacher-unpack --soft DIR [--out DIR]
      soft masks (PNGs from seg_teacher run) -> QC -> ../data/teacher_masks/<image>.png
      + REJECTED.txt + stats.csv
  python -m models.training.seg_data teacher-sheets --soft DIR [--stats CSV] [--out DIR]
      contact sheets of the teacher masks: a random sample and each band of the 'unsure' score
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
#: Where ``teacher-unpack`` writes the accepted masks: beside the checkout, like ``../shared`` (they are
#: made from its photos, so they never go into the repository).
TEACHER_MASKS = Path("../data/teacher_masks")
#: Second-check rejections (print/collar-only masks) beside the masks, written by ``seg_fit reject``.
REJECTED_FIT = "REJECTED_FIT.txt"
SPLIT_SEED = 20261124
CCP_VAL_SHARE = 0.15
CLOTHING_VAL_SHARE = 0.15

# Our classes (models/training/seg_model.py CLASSES): 0 background, 1 person, 2 top,
# 3 outerwear, 4 bottom, 5 one-piece, 6 footwear, 7 headwear, 8 accessory.
#: CCP label -> our class. The model card prints this table.
CCP_GROUPS: dict[str, tuple[str, ...]] = {
    "background": ("null",),
    "person": ("skin", "hair"),
    "top": ("blouse", "bra", "intimate", "jumper", "shirt", "sweater", "sweatshirt", "t-shirt", "top", "hoodie"),
    "outerwear": ("blazer", "cape", "cardigan", "coat", "jacket", "suit", "vest", "scarf"),
    "bottom": ("jeans", "leggings", "pants", "panties", "shorts", "skirt", "stockings", "tights"),
    "one-piece": ("dress", "romper", "bodysuit", "swimwear"),
    "footwear": (
        "boots",
        "clogs",
        "flats",
        "heels",
        "loafers",
        "pumps",
        "sandals",
        "shoes",
        "sneakers",
        "socks",
        "wedges",
    ),
    "headwear": ("hat",),
    "accessory": (
        "accessories",
        "bag",
        "belt",
        "bracelet",
        "earrings",
        "glasses",
        "gloves",
        "necklace",
        "purse",
        "ring",
        "sunglasses",
        "tie",
        "wallet",
        "watch",
    ),
}
#: Single-garment photo label -> our class; labels not here (Not sure, Other, Skip) are not used.
CLOTHING_GROUPS: dict[str, str] = {
    "T-Shirt": "top",
    "Longsleeve": "top",
    "Shirt": "top",
    "Polo": "top",
    "Undershirt": "top",
    "Top": "top",
    "Blouse": "top",
    "Hoodie": "top",
    "Outwear": "outerwear",
    "Blazer": "outerwear",
    "Pants": "bottom",
    "Shorts": "bottom",
    "Skirt": "bottom",
    "Dress": "one-piece",
    "Body": "one-piece",
    "Shoes": "footwear",
    "Hat": "headwear",
}
CLASS_NAMES = ("background", "person", "top", "outerwear", "bottom", "one-piece", "footwear", "headwear", "accessory")


def ccp_lut(root: Path = CCP) -> np.ndarray:
    """256-entry lookup: CCP label index -> our class index (every CCP label is mapped)."""
    labels = (root / "labels.txt").read_text().split()
    by_name = {name: CLASS_NAMES.index(group) for group, names in CCP_GROUPS.items() for name in names}
    missing = set(labels) - set(by_name)
    if missing:
        raise ValueError(f"CCP labels without a class: {sorted(missing)}")
    lut = np.full(256, 255, np.uint8)
    for i, name in enumerate(labels):
        lut[i] = by_name[name]
    return lut


def ccp_split(root: Path = CCP) -> tuple[list[str], list[str]]:
    """(train, val) CCP photo ids, fixed seed."""
    ids = sorted(p.stem for p in (root / "images").glob("*.jpg"))
    random.Random(SPLIT_SEED).shuffle(ids)
    n_val = round(len(ids) * CCP_VAL_SHARE)
    return sorted(ids[n_val:]), sorted(ids[:n_val])


def clothing_split(photos: list[Photo]) -> tuple[list[Photo], list[Photo]]:
    """(train, val) single-garment photos, split by sender (no sender on both sides)."""
    senders = sorted({p.sender for p in photos})
    random.Random(SPLIT_SEED).shuffle(senders)
    val_senders = set(senders[: round(len(senders) * CLOTHING_VAL_SHARE)])
    return [p for p in photos if p.sender not in val_senders], [p for p in photos if p.sender in val_senders]


def fit_rejected(masks: Path) -> set[str]:
    """Images rejected by the second check (``seg_fit reject``), empty when it has not run."""
    fit = masks / REJECTED_FIT
    return {ln for ln in fit.read_text().split("\n") if ln and not ln.startswith("#")} if fit.is_file() else set()


def usable_clothing(masks: Path, root: Path = CLOTHING) -> list[Photo]:
    """Photos with a garment label we map and a teacher mask that passed the first check."""
    return [p for p in read_clothing(root) if p.label in CLOTHING_GROUPS and (masks / f"{p.image}.png").is_file()]


def checked_split(masks: Path, second_check: bool = True) -> tuple[list[Photo], list[Photo]]:
    """(train, val) usable photos; the print/collar-only masks dropped when ``second_check``.

    The sender split is drawn before the second check, so it is the split of 1.0.0 and
    the second check only removes photos from either side (``second_check=False``: the
    validation set 1.0.0 was measured on).
    """
    train, val = clothing_split(usable_clothing(masks))
    skip = fit_rejected(masks) if second_check else set()
    return [p for p in train if p.image not in skip], [p for p in val if p.image not in skip]


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


@dataclass(frozen=True)
class MaskCheck:
    """Automatic checks on one teacher mask (probabilities in 0-255)."""

    fg: float  # foreground share of the photo
    unsure: float  # pixels with 0.1 < p < 0.9, relative to the foreground
    border: float  # share of the photo's border pixels that are foreground
    main: float  # largest connected component's share of the foreground

    def reason(self, label: str) -> str:
        """Empty when the mask is usable, else a short reason (documented in the model card)."""
        if self.fg < 0.03:
            return "empty: foreground < 3% of the photo"
        if self.fg > 0.92:
            return "whole photo: foreground > 92%"
        if self.border > 0.60:
            return "background picked: > 60% of the border is foreground"
        if self.unsure > 0.35:
            return "unsure: > 35% of the foreground has 0.1 < p < 0.9"
        if self.main < (0.35 if label == "Shoes" else 0.6):
            return "fragmented: largest part < 60% of the foreground (35% for shoes)"
        return ""


def clean_mask(soft: np.ndarray) -> np.ndarray:
    """Binary mask (bool) of the teacher's parts that matter: p >= 0.5, speckles dropped.

    The teacher leaves salt-and-pepper specks on textured backgrounds; components smaller
    than 3% of the largest one (or 0.2% of the photo) are removed, after a 5×5 Gaussian
    blur that smooths the ragged fringe. Holes are kept.
    """
    fg = (cv2.GaussianBlur(soft, (5, 5), 0) >= 128).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if n <= 1:
        return fg.astype(bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.zeros(n, bool)
    keep[1:] = areas >= max(0.03 * areas.max(), 0.002 * fg.size)
    return keep[labels]


def check_mask(soft: np.ndarray) -> MaskCheck:
    """Scores of one soft mask; ``unsure`` ignores a 4-px band along the cleaned outline."""
    fg = clean_mask(soft)
    area = int(fg.sum())
    if area == 0:
        return MaskCheck(0.0, 0.0, 0.0, 0.0)
    band = cv2.dilate(fg.astype(np.uint8), np.ones((9, 9), np.uint8)) > cv2.erode(
        fg.astype(np.uint8), np.ones((9, 9), np.uint8)
    )
    unsure = float(((soft > 25) & (soft < 230) & ~band).sum()) / area
    border = np.concatenate([fg[0], fg[-1], fg[:, 0], fg[:, -1]])
    _, _, stats, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8), connectivity=8)
    main = float(stats[1:, cv2.CC_STAT_AREA].max()) / area
    return MaskCheck(area / fg.size, unsure, float(border.mean()), main)


def teacher_unpack(soft_dir: Path, out: Path) -> None:
    """Soft masks (downscaled) -> QC -> binary 0/255 masks at each photo's own size."""
    out.mkdir(parents=True, exist_ok=True)
    rejected = []
    stats = []
    for p in read_clothing():
        soft = cv2.imread(str(soft_dir / f"{p.image}.png"), cv2.IMREAD_GRAYSCALE)
        h, w = cv2.imread(str(CLOTHING / "images" / f"{p.image}.jpg")).shape[:2]
        soft = cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)
        chk = check_mask(soft)
        stats.append((p.image, p.label, chk))
        why = chk.reason(p.label)
        if why:
            rejected.append(f"{p.image}\t{why}")
            continue
        cv2.imwrite(str(out / f"{p.image}.png"), np.where(clean_mask(soft), 255, 0).astype(np.uint8))
    (out / "REJECTED.txt").write_text(
        "# image<TAB>reason: teacher masks failing the automatic checks (models/training/seg_data.py)\n"
        + "\n".join(rejected)
        + "\n"
    )
    with (out / "stats.csv").open("w") as handle:
        handle.write("image,label,fg,unsure,border,main\n")
        for image, label, c in stats:
            handle.write(f"{image},{label},{c.fg:.4f},{c.unsure:.4f},{c.border:.4f},{c.main:.4f}\n")
    print(f"{len(stats) - len(rejected)} masks written, {len(rejected)} rejected")


def contact_sheet(items: list[tuple[np.ndarray, np.ndarray, str]], out: Path, cols: int = 8, cell: int = 160) -> None:
    """Photos with their mask (green tint, red outline) and a caption, in a grid, for checking by eye."""
    tiles = []
    for img, mask, caption in items:
        s = cell / max(img.shape[:2])
        size = (max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s)))
        im = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        m = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST) >= 128
        tint = im.copy()
        tint[m] = (0.55 * tint[m] + 0.45 * np.array([0, 255, 0])).astype(np.uint8)
        contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(tint, contours, -1, (0, 0, 255), 1)
        tile = np.zeros((cell + 14, cell, 3), np.uint8)
        tile[: size[1], : size[0]] = tint
        cv2.putText(tile, caption[:26], (2, cell + 11), cv2.FONT_HERSHEY_SIMPLEX, 0.33, (255, 255, 255), 1)
        tiles.append(tile)
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.hstack(tiles[i : i + cols]) for i in range(0, len(tiles), cols)]
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), np.vstack(rows))


def teacher_sheets(soft_dir: Path, stats_csv: Path, out_dir: Path, per_sheet: int = 48) -> None:
    """Contact sheets of teacher masks: a random sample, and each band of the 'unsure' score."""
    rng = random.Random(SPLIT_SEED)
    with stats_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    bands = {
        "random": rows,
        "unsure_10_20": [r for r in rows if 0.1 <= float(r["unsure"]) < 0.2],
        "unsure_20_35": [r for r in rows if 0.2 <= float(r["unsure"]) < 0.35],
        "unsure_35_60": [r for r in rows if 0.35 <= float(r["unsure"]) < 0.6],
        "unsure_60_100": [r for r in rows if 0.6 <= float(r["unsure"]) < 1.0],
        "unsure_100_up": [r for r in rows if float(r["unsure"]) >= 1.0],
        "small_fg": [r for r in rows if float(r["fg"]) < 0.1],
        "border": [r for r in rows if float(r["border"]) > 0.3],
    }
    for name, band in bands.items():
        pick = rng.sample(band, min(per_sheet, len(band)))
        items = []
        for r in pick:
            img = cv2.imread(str(CLOTHING / "images" / f"{r['image']}.jpg"))
            soft = cv2.imread(str(soft_dir / f"{r['image']}.png"), cv2.IMREAD_GRAYSCALE)
            soft = cv2.resize(soft, (img.shape[1], img.shape[0]))
            soft = np.where(clean_mask(soft), 255, 0).astype(np.uint8)
            items.append((img, soft, f"{r['label']} u{float(r['unsure']):.2f} f{float(r['fg']):.2f}"))
        if items:
            contact_sheet(items, out_dir / f"teacher_{name}.png")
        print(name, len(band))


def train_pack(
    out: Path, masks: Path, ccp_long: int, clothing_long: int, limit: int, parts: tuple[str, ...], quality: int
) -> None:
    """Everything training needs, small enough to carry to the GPU machine.

    ``out/ccp/{train,val}/<id>.jpg|.png`` (mask already in our classes),
    ``out/clothing/{train,val}/<image>.jpg|.png`` (0/255 teacher mask) + ``groups.csv``,
    ``out/backbone.pt`` (the MobileNetV2 initial weights, read from the shared TFLite).
    ``limit`` > 0 keeps only that many photos per part (the CPU smoke run); ``parts``
    picks train and/or val (validation is measured here on full-size photos, so the GPU
    copy holds only ``train``); JPEG ``quality`` keeps the carry under 64 MiB.
    """
    import torch

    from models.training.mobilenet import MobileNetV2, load_tflite_weights

    lut = ccp_lut()
    ccp_train, ccp_val = ccp_split()
    for part, ids in (("train", ccp_train), ("val", ccp_val)):
        if part not in parts:
            continue
        folder = out / "ccp" / part
        folder.mkdir(parents=True, exist_ok=True)
        for i in ids[: limit or None]:
            img = _resize_long(cv2.imread(str(CCP / "images" / f"{i}.jpg")), ccp_long)
            mask = lut[cv2.imread(str(CCP / "masks" / f"{i}.png"), cv2.IMREAD_GRAYSCALE)]
            mask = cv2.resize(mask, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_NEAREST)
            cv2.imwrite(str(folder / f"{i}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, quality])
            cv2.imwrite(str(folder / f"{i}.png"), mask)
    train, val = checked_split(masks)
    rows = []
    for part, photos in (("train", train), ("val", val)):
        if part not in parts:
            continue
        folder = out / "clothing" / part
        folder.mkdir(parents=True, exist_ok=True)
        for p in photos[: limit or None]:
            img = _resize_long(cv2.imread(str(CLOTHING / "images" / f"{p.image}.jpg")), clothing_long)
            mask = cv2.imread(str(masks / f"{p.image}.png"), cv2.IMREAD_GRAYSCALE)
            mask = cv2.resize(mask, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_NEAREST)
            cv2.imwrite(str(folder / f"{p.image}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, quality])
            cv2.imwrite(str(folder / f"{p.image}.png"), mask)
            rows.append(f"{part},{p.image},{CLASS_NAMES.index(CLOTHING_GROUPS[p.label])}")
    (out / "clothing" / "groups.csv").write_text("part,image,class\n" + "\n".join(rows) + "\n")
    net = MobileNetV2(include_last=False)
    n = load_tflite_weights(net, SHARED / "models/pretrained/mobilenet_v2_1.0_224_quant.tflite")
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}, out / "backbone.pt")
    print(
        f"packed CCP {len(ccp_train)}/{len(ccp_val)}, clothing {len(train)}/{len(val)} (train/val), backbone {n} convs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    tp = sub.add_parser("teacher-pack")
    tp.add_argument("--out", type=Path, default=Path(".carry/seg/teacher"))
    tp.add_argument("--long-side", type=int, default=256)
    tu = sub.add_parser("teacher-unpack")
    tu.add_argument("--soft", type=Path, required=True, help="folder of soft mask PNGs from seg_teacher run")
    tu.add_argument("--out", type=Path, default=TEACHER_MASKS)
    ts = sub.add_parser("teacher-sheets")
    ts.add_argument("--soft", type=Path, required=True)
    ts.add_argument("--stats", type=Path, default=Path("../data/teacher_masks/stats.csv"))
    ts.add_argument("--out", type=Path, default=Path("../data/teacher_sheets"))
    tr = sub.add_parser("train-pack")
    tr.add_argument("--out", type=Path, default=Path(".carry/seg/train"))
    tr.add_argument("--masks", type=Path, default=Path("../data/teacher_masks"))
    tr.add_argument("--ccp-long-side", type=int, default=288)
    tr.add_argument("--clothing-long-side", type=int, default=240)
    tr.add_argument("--parts", default="train", help="comma-separated: train,val")
    tr.add_argument("--quality", type=int, default=78)
    tr.add_argument("--limit", type=int, default=0)
    a = parser.parse_args()
    if a.cmd == "teacher-pack":
        teacher_pack(a.out, a.long_side)
    elif a.cmd == "teacher-unpack":
        teacher_unpack(a.soft, a.out)
    elif a.cmd == "teacher-sheets":
        teacher_sheets(a.soft, a.stats, a.out)
    elif a.cmd == "train-pack":
        train_pack(a.out, a.masks, a.ccp_long_side, a.clothing_long_side, a.limit, tuple(a.parts.split(",")), a.quality)


if __name__ == "__main__":
    main()
