"""Train the garment segmenter (GPU machine), or run the tiny CPU smoke run.

python -m models.training.seg_train --data .carry/seg/train --out OUT --minutes 5.5
    data from ``seg_data train-pack``; writes OUT/seg_last.pt and OUT/train_log.txt
python -m models.training.seg_train --smoke --out /tmp/seg_smoke
    packs 4 photos per part from ../shared, one training step on the CPU, exports both
    int8 files with ``seg_export`` and loads them through ``mirror.inference``
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from models.training.seg_augment import Sample, garment_labels, make_sample
from models.training.seg_model import CLASSES, GARMENT_CLASSES, IGNORE, GarmentSegNet, upsample_logits

#: Model input (width, height): portrait, like the mirror and most photos of people.
INPUT_SIZE = (192, 256)
KINDS = ("ccp", "held", "photo", "empty")
#: 1.1.0: 8 % empty surfaces (no garment; about half fall back to the photo when the
#: garment leaves no free strip), taken from the others' share.
KIND_WEIGHTS = (0.37, 0.28, 0.27, 0.08)


def load_pack(data: Path) -> tuple[list[Sample], list[Sample]]:
    """(CCP people, single-garment photos) from a ``train-pack`` folder, decoded into memory."""
    people = [
        Sample(cv2.imread(str(p)), cv2.imread(str(p.with_suffix(".png")), cv2.IMREAD_GRAYSCALE))
        for p in sorted((data / "ccp/train").glob("*.jpg"))
    ]
    garments = []
    with (data / "clothing/groups.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["part"] != "train":
                continue
            stem = data / "clothing/train" / row["image"]
            mask = cv2.imread(str(stem.with_suffix(".png")), cv2.IMREAD_GRAYSCALE)
            garments.append(Sample(cv2.imread(str(stem.with_suffix(".jpg"))), garment_labels(mask, int(row["class"]))))
    return people, garments


class MirrorViewDataset(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Endless-ish stream of augmented samples (``length`` per epoch), mixed by ``KIND_WEIGHTS``."""

    def __init__(
        self,
        people: list[Sample],
        garments: list[Sample],
        length: int,
        size: tuple[int, int] = INPUT_SIZE,
        weights: tuple[float, ...] = KIND_WEIGHTS,
    ):
        self.people, self.garments, self.length, self.size = people, garments, length, size
        self.weights = np.asarray(weights, np.float64) / sum(weights)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng()  # fresh entropy: every epoch sees new augmentations
        kind = KINDS[int(rng.choice(len(KINDS), p=self.weights))]
        person = self.people[int(rng.integers(len(self.people)))]
        garment = self.garments[int(rng.integers(len(self.garments)))] if self.garments else None
        s = make_sample(kind, person, garment, self.size, rng)
        rgb = cv2.cvtColor(s.image, cv2.COLOR_BGR2RGB).astype(np.float32) / 127.5 - 1.0
        return torch.from_numpy(rgb.transpose(2, 0, 1).copy()), torch.from_numpy(s.labels.astype(np.int64))


def garment_iou(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Batch garment-vs-rest IoU (accessories and ignored pixels excluded), for the log."""
    pred = logits.argmax(1)
    garment = torch.tensor(GARMENT_CLASSES, device=labels.device)
    valid = (labels != IGNORE) & (labels != CLASSES.index("accessory"))
    p, t = torch.isin(pred, garment) & valid, torch.isin(labels, garment) & valid
    return float((p & t).sum()) / max(1.0, float((p | t).sum()))


def soft_garment_jaccard(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """1 − soft IoU of garment-vs-rest per image, averaged: the loss side of the IoU we are measured on.

    Cross-entropy weighs every pixel alike, so a garment's outline (few pixels) matters
    little; the per-image Jaccard term weighs each photo's garment outline as the
    single-garment figure does. Accessory and ignored pixels count neither way.
    """
    prob = torch.softmax(logits.float(), 1)[:, list(GARMENT_CLASSES)].sum(1)
    valid = ((labels != IGNORE) & (labels != CLASSES.index("accessory"))).float()
    truth = torch.isin(labels, torch.tensor(GARMENT_CLASSES, device=labels.device)).float() * valid
    prob = prob * valid
    inter = (prob * truth).sum((1, 2))
    union = (prob + truth - prob * truth).sum((1, 2))
    has = truth.sum((1, 2)) > 0  # empty surfaces: cross-entropy alone
    if not bool(has.any()):
        return logits.sum() * 0.0
    return (1.0 - inter[has] / union[has].clamp_min(1.0)).mean()


def build_model(backbone: Path | None, init: Path | None = None) -> GarmentSegNet:
    """ImageNet backbone, or (``init``) a whole earlier segmenter checkpoint to fine-tune."""
    model = GarmentSegNet()
    if init is not None:
        model.load_state_dict(torch.load(init, map_location="cpu")["model"])
    elif backbone is not None:  # the pack's ImageNet MobileNetV2 weights
        state = torch.load(backbone, map_location="cpu")
        model.backbone.load_state_dict({k: v.float() for k, v in state.items()})
    return model


def train(
    data: Path,
    out: Path,
    minutes: float,
    batch: int,
    lr: float,
    workers: int,
    max_steps: int = 0,
    device_name: str = "",
    init: Path | None = None,
    warmup: int = 300,
    iou_weight: float = 0.0,
    kind_weights: tuple[float, ...] = KIND_WEIGHTS,
) -> Path:
    """Train for ``minutes`` of wall time (or ``max_steps``); return the checkpoint path."""
    device = torch.device(device_name or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(0)
    people, garments = load_pack(data)
    model = build_model(data / "backbone.pt", init).to(device).to(memory_format=torch.channels_last)
    steps_per_epoch = 200
    loader = DataLoader(
        MirrorViewDataset(people, garments, steps_per_epoch * batch, weights=kind_weights),
        batch_size=batch,
        shuffle=False,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        drop_last=True,
        persistent_workers=workers > 0,
    )
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    # Steps are budgeted from a measured rate after the first epoch; the cosine uses an estimate.
    est_total = max_steps or 10_000
    out.mkdir(parents=True, exist_ok=True)
    log = (out / "train_log.txt").open("a")
    t0, step, done, t100 = time.time(), 0, False, 0.0
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    while not done:
        for x, y in loader:
            x = x.to(device, non_blocking=True).to(memory_format=torch.channels_last)
            y = y.to(device, non_blocking=True)
            warm = min(1.0, (step + 1) / warmup)
            for g in opt.param_groups:
                g["lr"] = lr * warm * 0.5 * (1 + math.cos(math.pi * min(1.0, step / est_total)))
            with autocast:
                logits = upsample_logits(model(x))
            loss = F.cross_entropy(logits.float(), y, ignore_index=IGNORE)
            if iou_weight:
                loss = loss + iou_weight * soft_garment_jaccard(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            elapsed = time.time() - t0
            if step == 100:
                t100 = elapsed
            if step == 2 * steps_per_epoch and not max_steps:  # rate measured past the start-up
                est_total = step + int((minutes * 60 - elapsed) * (step - 100) / (elapsed - t100))
            if step % 100 == 0 or step == 1:
                iou = garment_iou(logits, y)
                msg = f"step {step}/{est_total} {elapsed:.0f}s loss {loss.item():.4f} garmentIoU {iou:.3f}"
                print(msg, flush=True)
                log.write(msg + "\n")
            if (max_steps and step >= max_steps) or (not max_steps and step >= est_total):
                done = True
                break
    ckpt = out / "seg_last.pt"
    torch.save({"model": model.state_dict(), "steps": step, "classes": CLASSES, "input_size": INPUT_SIZE}, ckpt)
    log.close()
    return ckpt


def smoke(out: Path) -> None:
    """A few photos, one CPU step, export both int8 files, load them through the runtime."""
    from models.training import seg_data, seg_export

    data = out / "pack"
    seg_data.train_pack(
        data,
        _smoke_masks(out),
        288,
        240,
        4,
        ("train",),
        78,
    )
    ckpt = train(data, out, minutes=0, batch=2, lr=1e-3, workers=0, max_steps=1, device_name="cpu")
    seg_export.export(ckpt, out / "model", n_calibration=4, n_parity=2)
    from mirror.vision.segmenter import Segmenter

    photo = cv2.imread(str(next((data / "ccp/train").glob("*.jpg"))))
    for backend in ("onnx", "tflite"):
        groups = Segmenter(out / "model", backend).segment(photo)
        assert groups.shape == photo.shape[:2], groups.shape
        print(f"smoke ok: {backend} -> map {groups.shape}, classes {sorted(set(np.unique(groups).tolist()))}")


def _smoke_masks(out: Path) -> Path:
    """Stand-in masks (a centred ellipse) when the real teacher masks are absent (e.g. CI).

    The smoke run checks that the pipeline runs end to end, not mask quality; the teacher
    itself takes seconds a photo on a CPU.
    """
    from models.training import seg_data

    masks = out / "masks"
    masks.mkdir(parents=True, exist_ok=True)
    for p in seg_data.read_clothing()[:200]:
        h, w = cv2.imread(str(seg_data.CLOTHING / "images" / f"{p.image}.jpg")).shape[:2]
        mask = np.zeros((h, w), np.uint8)
        cv2.ellipse(mask, (w // 2, h // 2), (w // 3, h // 3), 0, 0, 360, 255, -1)
        cv2.imwrite(str(masks / f"{p.image}.png"), mask)
    return masks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(".carry/seg/train"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=5.5)
    parser.add_argument("--batch", type=int, default=48)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--workers", type=int, default=14)
    parser.add_argument("--init", type=Path, default=None, help="fine-tune from this seg_last.pt")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--iou-weight", type=float, default=0.0, help="add this × soft garment Jaccard loss")
    parser.add_argument("--kind-weights", default="", help="sampling shares of ccp,held,photo,empty")
    parser.add_argument("--smoke", action="store_true")
    a = parser.parse_args()
    if a.smoke:
        smoke(a.out)
    else:
        weights = tuple(float(v) for v in a.kind_weights.split(",")) if a.kind_weights else KIND_WEIGHTS
        train(
            a.data, a.out, a.minutes, a.batch, a.lr, a.workers, init=a.init, warmup=a.warmup,
            iou_weight=a.iou_weight, kind_weights=weights,
        )  # fmt: skip


if __name__ == "__main__":
    main()
