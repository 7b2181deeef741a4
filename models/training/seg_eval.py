"""Validation figures of the shipped (or any) segmenter, through the runtime code.

  python -m models.training.seg_eval --model models/segmenter --backend onnx
  python -m models.training.seg_eval --model models/segmenter --backend tflite --gallery docs/img

Runs ``mirror.vision.segmenter.Segmenter`` (the code the mirror runs) on full-size photos:
- CCP validation split: mean per-image garment IoU, garment = every CCP label except
  null, skin, hair and the accessories (which count neither way: ignored pixels);
- single-garment validation photos (split by sender): mean IoU of the most prominent
  garment instance (``mirror.vision.instances``) against the teacher mask, on three sets:
  the 193 whose teacher mask passed the blind by-eye review (``seg_review``, the headline
  figure: the review never saw a model's output), the 200 left by the model-based second
  check (``seg_fit``), and all 204 of 1.0.0's split;
- with ``--gallery``: the worst cases as contact sheets (docs/img/seg_fail_*.png).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from mirror.vision.instances import extract_instances
from mirror.vision.segmenter import Segmenter
from models.training import seg_data, seg_review

CCP_ACCESSORY = seg_data.CLASS_NAMES.index("accessory")


def ccp_garment_iou(seg: Segmenter, ids: list[str]) -> list[tuple[str, float]]:
    lut = seg_data.ccp_lut()
    garment_ids = np.array(seg.garment_ids)
    out = []
    for i in ids:
        img = cv2.imread(str(seg_data.CCP / "images" / f"{i}.jpg"))
        truth = lut[cv2.imread(str(seg_data.CCP / "masks" / f"{i}.png"), cv2.IMREAD_GRAYSCALE)]
        pred = seg.segment(img)
        valid = truth != CCP_ACCESSORY
        t = np.isin(truth, garment_ids) & valid
        p = np.isin(pred, garment_ids) & valid
        out.append((i, float((t & p).sum()) / max(1, int((t | p).sum()))))
    return out


def garment_photo_iou(seg: Segmenter, photos: list[seg_data.Photo], masks: Path) -> list[tuple[str, float]]:
    out = []
    for p in photos:
        img = cv2.imread(str(seg_data.CLOTHING / "images" / f"{p.image}.jpg"))
        truth = cv2.imread(str(masks / f"{p.image}.png"), cv2.IMREAD_GRAYSCALE) >= 128
        a = seg.analyse(img)
        found = extract_instances(a.classes, a.names, a.garment_ids, a.confidence)
        pred = found[0].mask if found else np.zeros_like(truth)
        out.append((p.image, float((truth & pred).sum()) / max(1, int((truth | pred).sum()))))
    return out


def gallery(seg: Segmenter, items: list[tuple[Path, str]], out: Path) -> None:
    """Photos with the predicted garment pixels tinted, for the model card's failure gallery."""
    tiles = []
    for path, caption in items:
        img = cv2.imread(str(path))
        classes = seg.segment(img)
        mask = np.where(np.isin(classes, np.array(seg.garment_ids)), 255, 0).astype(np.uint8)
        tiles.append((img, mask, caption))
    seg_data.contact_sheet(tiles, out, cols=6, cell=200)


def speed(folder: Path, backend: str, runs: int) -> dict[str, float]:
    """Median ms at one thread: the model alone, and the whole ``analyse`` on a CCP photo.

    Wall time and CPU time (``process_time``) both: on a shared machine the wall time
    includes waiting for a core, the CPU time of a one-thread run does not.
    """
    import time

    seg = Segmenter(folder, backend, threads=1)
    img = cv2.imread(str(seg_data.CCP / "images" / f"{seg_data.ccp_split()[1][0]}.jpg"))
    x = np.zeros(seg.model.input_shape, np.float32)
    wall: dict[str, list[float]] = {"model": [], "analyse": []}
    cpu: dict[str, list[float]] = {"model": [], "analyse": []}
    for k in range(runs + 3):
        for name, call in (("model", lambda: seg.model.run(x)), ("analyse", lambda: seg.analyse(img))):
            t0, c0 = time.perf_counter(), time.process_time()
            call()
            if k >= 3:
                wall[name].append((time.perf_counter() - t0) * 1000)
                cpu[name].append((time.process_time() - c0) * 1000)
    size = f"{img.shape[1]}x{img.shape[0]}"
    return {
        f"{backend}_model_wall_ms": round(float(np.median(wall["model"])), 1),
        f"{backend}_model_cpu_ms": round(float(np.median(cpu["model"])), 1),
        f"{backend}_analyse_{size}_wall_ms": round(float(np.median(wall["analyse"])), 1),
        f"{backend}_analyse_{size}_cpu_ms": round(float(np.median(cpu["analyse"])), 1),
    }


def backend_parity(folder: Path, masks: Path) -> dict[str, float]:
    """Mean IoU of the two backends' garment masks (what the mirror cuts out), per validation set."""
    onnx, tflite = Segmenter(folder, "onnx", threads=2), Segmenter(folder, "tflite", threads=2)
    garment = np.array(onnx.garment_ids)
    _, photos_val = seg_data.checked_split(masks)
    sets = {
        "ccp": [seg_data.CCP / "images" / f"{i}.jpg" for i in seg_data.ccp_split()[1]],
        "photos": [seg_data.CLOTHING / "images" / f"{p.image}.jpg" for p in photos_val],
    }
    out = {}
    for name, paths in sets.items():
        scores = []
        for path in paths:
            img = cv2.imread(str(path))
            a, b = np.isin(onnx.segment(img), garment), np.isin(tflite.segment(img), garment)
            scores.append(float((a & b).sum()) / max(1, int((a | b).sum())))
        out[f"{name}_garment_mask_iou"] = round(float(np.mean(scores)), 4)
    return out


def empty_room(folder: Path, backend: str, frames: int = 5) -> dict[str, float]:
    """Garment pixels and instances on the demo camera's empty room (no one, no garment).

    The mirror segments every still frame it captures; on an empty room it should find
    nothing. Measured on the first ``frames`` frames of the demo's ``empty`` phase.
    """
    from mirror.camera import Pacer
    from mirror.camera.demo import DemoSource

    seg = Segmenter(folder, backend, threads=2)
    source = DemoSource((320, 240), (800, 600), 10, pacer=Pacer(0))
    shares, counts = [], []
    for _ in range(500):
        frame = source.read()
        if frame is None or source.pose().phase != "empty":
            continue
        a = seg.analyse(frame)
        shares.append(float(np.isin(a.classes, np.array(a.garment_ids)).mean()))
        counts.append(len(extract_instances(a.classes, a.names, a.garment_ids, a.confidence)))
        if len(shares) == frames:
            break
    return {
        f"{backend}_empty_room_garment_share": round(float(np.mean(shares)), 4),
        f"{backend}_empty_room_instances": float(np.mean(counts)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=Path("models/segmenter"))
    parser.add_argument("--backend", default="onnx")
    parser.add_argument("--masks", type=Path, default=Path("../data/teacher_masks"))
    parser.add_argument("--gallery", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--speed", type=int, default=0, help="only time N runs per backend at one thread")
    parser.add_argument("--empty-room", action="store_true", help="only garment pixels on the demo's empty room")
    parser.add_argument("--parity", action="store_true", help="only the backends' garment-mask agreement")
    a = parser.parse_args()
    if a.parity:
        print(json.dumps(backend_parity(a.model, a.masks), indent=2))
        return
    if a.empty_room:
        print(json.dumps({k: v for b in ("onnx", "tflite") for k, v in empty_room(a.model, b).items()}, indent=2))
        return
    if a.speed:
        print(json.dumps({k: v for b in ("onnx", "tflite") for k, v in speed(a.model, b, a.speed).items()}, indent=2))
        return
    seg = Segmenter(a.model, a.backend, threads=2)
    _, ccp_val = seg_data.ccp_split()
    # Validation split of 1.0.0 (first mask check only; the sender split does not depend on
    # the masks' rejections, so the second check only removes photos from it).
    _, photos_val = seg_data.checked_split(a.masks, second_check=False)
    ccp = ccp_garment_iou(seg, ccp_val[: a.limit or None])
    photos_all = garment_photo_iou(seg, photos_val[: a.limit or None], a.masks)
    skip = seg_data.fit_rejected(a.masks)
    photos = [(i, v) for i, v in photos_all if i not in skip]
    wrong = seg_review.reviewed_wrong()
    reviewed = [(i, v) for i, v in photos_all if i not in wrong]
    report = {
        "backend": a.backend,
        "ccp_val_images": len(ccp),
        "ccp_mean_garment_iou": round(float(np.mean([v for _, v in ccp])), 4),
        "photo_val_images_reviewed": len(reviewed),
        "photo_mean_prominent_iou_reviewed": round(float(np.mean([v for _, v in reviewed])), 4),
        "photo_median_prominent_iou_reviewed": round(float(np.median([v for _, v in reviewed])), 4),
        "photo_val_images": len(photos),
        "photo_mean_prominent_iou": round(float(np.mean([v for _, v in photos])), 4),
        "photo_median_prominent_iou": round(float(np.median([v for _, v in photos])), 4),
        "photo_val_images_first_check_only": len(photos_all),
        "photo_mean_prominent_iou_first_check_only": round(float(np.mean([v for _, v in photos_all])), 4),
    }
    print(json.dumps(report, indent=2))
    if a.gallery:
        worst_ccp = sorted(ccp, key=lambda t: t[1])[:12]
        worst_photos = sorted(reviewed, key=lambda t: t[1])[:12]
        gallery(
            seg,
            [(seg_data.CCP / "images" / f"{i}.jpg", f"CCP {i} IoU {v:.2f}") for i, v in worst_ccp],
            a.gallery / "seg_fail_ccp.png",
        )
        gallery(
            seg,
            [(seg_data.CLOTHING / "images" / f"{i}.jpg", f"IoU {v:.2f}") for i, v in worst_photos],
            a.gallery / "seg_fail_photos.png",
        )


if __name__ == "__main__":
    main()
