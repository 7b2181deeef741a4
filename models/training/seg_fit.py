"""Second check on the teacher masks: reject masks that hold only a print or a collar.

  python -m models.training.seg_fit score --ckpt seg_last.pt     # -> ../data/teacher_masks/fit.csv
  python -m models.training.seg_fit sheets                       # contact sheets by score band
  python -m models.training.seg_fit reject                       # -> REJECTED_FIT.txt (read by seg_data)

Why: on a plain garment with a large print (or a bright collar) the teacher sometimes keeps
only the print. Such a mask passes the first checks (it is compact, sure and not on the
border) but teaches the segmenter to cut the print out of the shirt, and in validation it
punishes the right outline. The first segmenter (trained on all accepted masks) finds
these garments well, so its own confident garment region is the reference: a teacher mask
is rejected when it covers only a small part of that region AND is much smaller than it.
Garments the model misses entirely are never rejected by this rule (it only removes masks
that are a small island inside a large confident garment region).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np
import torch

from mirror.vision.preprocess import prepare
from models.training import seg_data
from models.training.seg_model import GARMENT_CLASSES, GarmentSegNet

INPUT_SIZE = (192, 256)
#: Rule (set from the contact sheets, see the model card): reject when the teacher mask
#: covers < ``COVER`` of the model's confident garment region and its area is < ``RATIO``
#: of that region's area.
COVER = 0.5
RATIO = 0.5
FIT_CSV = seg_data.TEACHER_MASKS / "fit.csv"


def model_region(net: GarmentSegNet, img: np.ndarray) -> np.ndarray:
    """The model's confident garment region (p(garment) ≥ 0.8) at the photo's size, largest part."""
    x, box = prepare(img, INPUT_SIZE, layout="nchw")
    with torch.no_grad():
        prob = torch.softmax(net(torch.from_numpy(x)), 1)[0]
    garment = prob[list(GARMENT_CLASSES)].sum(0).numpy().astype(np.float32)
    p = box.to_source(cv2.resize(garment, (INPUT_SIZE[0], INPUT_SIZE[1]), interpolation=cv2.INTER_LINEAR))
    region = (p >= 0.8).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(region, connectivity=8)
    if n <= 1:
        return region.astype(bool)
    return np.asarray(labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])))


def score(ckpt: Path, masks: Path, out: Path) -> None:
    """Per accepted mask: teacher area / model area, share of the model region the teacher covers."""
    torch.set_num_threads(1)
    net = GarmentSegNet()
    net.load_state_dict(torch.load(ckpt, map_location="cpu")["model"])
    net.eval()
    rows = []
    for p in seg_data.read_clothing():
        path = masks / f"{p.image}.png"
        if p.label not in seg_data.CLOTHING_GROUPS or not path.is_file():
            continue
        img = cv2.imread(str(seg_data.CLOTHING / "images" / f"{p.image}.jpg"))
        teacher = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) >= 128
        region = model_region(net, img)
        m = max(1, int(region.sum()))
        rows.append((p.image, p.label, float(teacher.sum()) / m, float((teacher & region).sum()) / m, m / region.size))
    with out.open("w") as handle:
        handle.write("image,label,ratio,cover,model_fg\n")
        for r in rows:
            handle.write(f"{r[0]},{r[1]},{r[2]:.4f},{r[3]:.4f},{r[4]:.4f}\n")
    print(f"scored {len(rows)} masks -> {out}")


def read_fit(path: Path = FIT_CSV) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def rejected(rows: list[dict[str, str]]) -> list[str]:
    """Images whose teacher mask is a small island in the model's confident garment region."""
    return [r["image"] for r in rows if float(r["cover"]) < COVER and float(r["ratio"]) < RATIO]


def sheets(masks: Path, out_dir: Path) -> None:
    """Contact sheets: the rejected masks, and the band just above the rule (kept), for checking by eye."""
    rows = read_fit()
    rej = set(rejected(rows))
    near = [r for r in rows if r["image"] not in rej and float(r["cover"]) < COVER + 0.2 and float(r["ratio"]) < 0.8]
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, pick in (("rejected", [r for r in rows if r["image"] in rej]), ("near_kept", near)):
        items = []
        for r in pick[:64]:
            img = cv2.imread(str(seg_data.CLOTHING / "images" / f"{r['image']}.jpg"))
            mask = cv2.imread(str(masks / f"{r['image']}.png"), cv2.IMREAD_GRAYSCALE)
            items.append((img, mask, f"c{float(r['cover']):.2f} r{float(r['ratio']):.2f}"))
        if items:
            seg_data.contact_sheet(items, out_dir / f"fit_{name}.png")
        print(name, len(pick))


def reject(masks: Path) -> None:
    """Write ``REJECTED_FIT.txt`` beside the masks; ``seg_data.usable_clothing`` skips those photos."""
    names = rejected(read_fit())
    (masks / seg_data.REJECTED_FIT).write_text(
        f"# image: teacher mask covers < {COVER:.0%} of the first segmenter's confident garment region and is"
        f" < {RATIO:.0%} of its area (models/training/seg_fit.py)\n" + "\n".join(names) + "\n"
    )
    print(f"rejected {len(names)} of {len(read_fit())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cmd", choices=("score", "sheets", "reject"))
    parser.add_argument("--ckpt", type=Path, default=Path("../data/seg_runs/r2/seg_last.pt"))
    parser.add_argument("--masks", type=Path, default=seg_data.TEACHER_MASKS)
    parser.add_argument("--out", type=Path, default=Path("../data/teacher_sheets"))
    a = parser.parse_args()
    if a.cmd == "score":
        score(a.ckpt, a.masks, a.masks / "fit.csv")
    elif a.cmd == "sheets":
        sheets(a.masks, a.out)
    else:
        reject(a.masks)


if __name__ == "__main__":
    main()
