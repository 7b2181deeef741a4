"""Step 2: fine-tune the ImageNet MobileNetV2 on garment cut-outs (GPU machine, or CPU smoke).

    # here (needs ai-edge-litert to read the TFLite weights): the starting weights, once
    python -m models.training.cls_train init --out .carry/cls/mobilenet_init.pt
    # on the GPU machine (.carry/cls from cls_prepare, carried):
    python -m models.training.cls_train train --data .carry/cls --init .carry/cls/mobilenet_init.pt \
        --out $OUT --epochs 30
    # smoke run on a CPU: --device cpu --steps 1 --limit 16

The network is ``models.training.mobilenet.MobileNetV2`` (initialised from
``../shared/models/pretrained/mobilenet_v2_1.0_224_quant.tflite``) with global average
pooling, dropout and a linear layer over the 10 categories. Training images are the stored
cut-outs with their outline grown or shrunk a few pixels, small affine and colour jitter,
then composited on black and letterboxed by the same functions the mirror uses
(``cls_data.model_input``). Label smoothing 0.1, AdamW, cosine schedule, bf16 autocast on
CUDA; batch norm frozen (``--freeze-bn``, see ``train``); the last epoch is kept (no checkpoint
picking on validation).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from mirror.vision.classifier import CATEGORIES
from models.training.cls_data import augment, load_cutout, model_input
from models.training.mobilenet import PRETRAINED_TFLITE, MobileNetV2, load_tflite_weights

INPUT_SIZE = 192


class GarmentNet(nn.Module):
    """MobileNetV2 features -> global average pool -> dropout -> 10 logits."""

    def __init__(self, dropout: float = 0.2) -> None:
        super().__init__()
        self.backbone = MobileNetV2(include_last=True)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.backbone.out_channels, len(CATEGORIES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.backbone(x).mean(dim=(2, 3))
        return self.head(self.dropout(features))


def load_index(data: Path, splits: set[str], limit: int = 0) -> list[tuple[str, int]]:
    """``(image, category index)`` rows of ``data/index.csv`` in ``splits``."""
    with (data / "index.csv").open(newline="", encoding="utf-8") as handle:
        rows = [(r["image"], CATEGORIES.index(r["category"])) for r in csv.DictReader(handle) if r["split"] in splits]
    return rows[:limit] if limit else rows


class CutoutSet(Dataset[tuple[torch.Tensor, torch.Tensor, int]]):
    """Stored cut-outs held in memory (JPEG bytes) and turned into model input per access.

    Each item is the input at ``size`` and, for distillation, the same augmented cut-out at
    ``teacher_size`` (an empty tensor when there is no teacher), so teacher and student see
    one picture.
    """

    def __init__(self, data: Path, rows: list[tuple[str, int]], train: bool, size: int, teacher_size: int = 0) -> None:
        self.rows = rows
        self.train = train
        self.size = size
        self.teacher_size = teacher_size
        self.jpeg = [(data / "img" / f"{i}.jpg").read_bytes() for i, _ in rows]
        self.alpha = [(data / "img" / f"{i}.png").read_bytes() for i, _ in rows]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, k: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        bgr, alpha = load_cutout(self.jpeg[k], self.alpha[k])
        if self.train:
            rng = np.random.default_rng()
            bgr, alpha = augment(bgr, alpha, rng)
        x = torch.from_numpy(np.ascontiguousarray(model_input(bgr, alpha, self.size)))
        t = (
            torch.from_numpy(np.ascontiguousarray(model_input(bgr, alpha, self.teacher_size)))
            if self.teacher_size
            else torch.empty(0)
        )
        return x, t, self.rows[k][1]


def evaluate(
    model: nn.Module, loader: DataLoader[tuple[torch.Tensor, torch.Tensor, int]], device: str
) -> tuple[float, list[int]]:
    """Top-1 accuracy and the predictions, in loader order."""
    model.eval()
    preds: list[int] = []
    labels: list[int] = []
    with torch.no_grad():
        for x, _, y in loader:
            preds += model(x.to(device)).argmax(1).cpu().tolist()
            labels += y.tolist()
    return float(np.mean(np.array(preds) == np.array(labels))) if labels else 0.0, preds


def train(args: argparse.Namespace) -> None:
    device = args.device
    torch.manual_seed(args.seed)
    train_rows = load_index(args.data, {"train", "extra"}, args.limit)
    val_rows = load_index(args.data, {"validation"}, args.limit)
    teacher = load_teacher(args.teacher, device) if args.teacher else None
    train_set = CutoutSet(args.data, train_rows, True, args.size, args.teacher_size if teacher else 0)
    val_set = CutoutSet(args.data, val_rows, False, args.size)
    workers = args.workers
    train_loader = DataLoader(
        train_set,
        args.batch,
        shuffle=True,
        num_workers=workers,
        drop_last=len(train_set) > args.batch,
        persistent_workers=workers > 0,
        pin_memory=device == "cuda",
    )
    val_loader = DataLoader(val_set, 128, num_workers=workers)

    model = GarmentNet()
    state = {k: v.float() if v.is_floating_point() else v for k, v in torch.load(args.init, map_location="cpu").items()}
    # Either the ImageNet backbone (``init``) or a whole trained classifier (a distillation
    # student starts from its teacher's weights: same network, smaller input).
    (model if "head.weight" in state else model.backbone).load_state_dict(state)
    model.to(device)
    head_params = list(model.head.parameters())
    optimiser = torch.optim.AdamW(
        [{"params": model.backbone.parameters(), "lr": args.lr}, {"params": head_params, "lr": args.lr * 5}],
        weight_decay=args.weight_decay,
    )
    total = args.steps or args.epochs * len(train_loader)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=[args.lr, args.lr * 5], total_steps=max(total, 1), pct_start=0.1
    )
    counts = np.bincount([c for _, c in train_rows], minlength=len(CATEGORIES)).astype(np.float64)
    log: list[dict[str, float]] = []
    step, started = 0, time.time()
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda")
    while step < total:
        model.train()
        if args.freeze_bn:
            # Batch norm keeps the folded statistics of the quantisation-aware-trained ImageNet model:
            # re-estimated statistics make activation ranges that int8 cannot represent (measured:
            # 0.63 float/int8 top-1 agreement with trained BN).
            for module in model.modules():
                if isinstance(module, nn.BatchNorm2d):
                    module.eval()
        seen, loss_sum = 0, 0.0
        for x, xt, y in train_loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with autocast:
                logits = model(x).float()
                loss = F.cross_entropy(logits, y, label_smoothing=0.1)
                if teacher is not None:
                    with torch.no_grad():
                        target = teacher(xt.to(device, non_blocking=True)).float()
                    soft = distillation_loss(logits, target, args.temperature)
                    loss = (1 - args.distill) * loss + args.distill * soft
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            seen += len(y)
            loss_sum += float(loss.detach()) * len(y)
            if step >= total:
                break
        acc, _ = evaluate(model, val_loader, device)
        log.append({"step": step, "loss": loss_sum / max(seen, 1), "val_top1": acc, "s": time.time() - started})
        print(json.dumps(log[-1]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    model.cpu().eval()
    torch.save(model.state_dict(), args.out / "cls_model.pt")
    acc = log[-1]["val_top1"] if log else 0.0
    summary = {
        "train_images": len(train_rows),
        "class_counts": counts.tolist(),
        "val_images": len(val_rows),
        "val_top1_teacher_cutouts": acc,
        "epochs_log": log,
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    (args.out / "cls_train.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")


def load_teacher(path: Path, device: str) -> GarmentNet:
    """A trained (larger-input) classifier whose soft outputs the student learns from."""
    teacher = GarmentNet()
    teacher.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in torch.load(path).items()})
    return teacher.to(device).eval()


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """Hinton's soft-target loss: KL(teacher ‖ student) at ``temperature``, scaled by T².

    Why: a smaller input (faster on the Pi) loses detail the 224-px model uses; matching its
    whole score distribution, not just the label, keeps the near-miss structure (shirt vs
    outwear) and gives calmer margins, which int8 rounding flips less often.
    """
    t = temperature
    kl = F.kl_div(F.log_softmax(student / t, 1), F.log_softmax(teacher / t, 1), log_target=True, reduction="batchmean")
    return kl * t * t


def init(args: argparse.Namespace) -> None:
    backbone = MobileNetV2(include_last=True)
    n = load_tflite_weights(backbone, args.tflite)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # float16 halves what travels to the GPU machine; the weights came from int8 anyway.
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in backbone.state_dict().items()}, args.out)
    print(f"{n} convolutions from {args.tflite} -> {args.out}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_init = sub.add_parser("init", help="dequantised ImageNet weights -> a torch state dict")
    p_init.add_argument("--tflite", type=Path, default=PRETRAINED_TFLITE)
    p_init.add_argument("--out", type=Path, default=Path(".carry/cls/mobilenet_init.pt"))
    p_train = sub.add_parser("train", help="fine-tune on the cut-outs")
    p_train.add_argument("--data", type=Path, default=Path(".carry/cls"))
    p_train.add_argument("--init", type=Path, default=Path(".carry/cls/mobilenet_init.pt"))
    p_train.add_argument("--out", type=Path, required=True)
    p_train.add_argument("--epochs", type=int, default=30)
    p_train.add_argument("--steps", type=int, default=0, help="stop after N steps (smoke runs)")
    p_train.add_argument("--limit", type=int, default=0, help="only the first N rows of each split (smoke runs)")
    p_train.add_argument("--batch", type=int, default=64)
    p_train.add_argument("--lr", type=float, default=4e-4)
    p_train.add_argument("--weight-decay", type=float, default=0.02)
    p_train.add_argument("--size", type=int, default=INPUT_SIZE)
    p_train.add_argument("--workers", type=int, default=12)
    p_train.add_argument("--seed", type=int, default=0)
    p_train.add_argument("--freeze-bn", action=argparse.BooleanOptionalAction, default=True)
    p_train.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p_train.add_argument("--teacher", type=Path, help="distil from this cls_model.pt (trained at --teacher-size)")
    p_train.add_argument("--teacher-size", type=int, default=224)
    p_train.add_argument("--distill", type=float, default=0.7, help="weight of the soft-target loss")
    p_train.add_argument("--temperature", type=float, default=2.0)
    args = parser.parse_args(argv)
    if args.command == "init":
        init(args)
    else:
        train(args)


if __name__ == "__main__":
    main()
