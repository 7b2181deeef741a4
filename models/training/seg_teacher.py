"""Teacher masks for the single-garment photos: IS-Net (uint8 ONNX) run by PyTorch.

Why PyTorch: the shared teacher is a dynamically quantised ONNX graph (ConvInteger) that
takes ~6.5 s a photo on the 2-core dev box. This module executes that same graph node by
node with torch ops (DynamicQuantizeLinear and ConvInteger emulated exactly in float32,
TF32 off), so it runs batched on a GPU in minutes and gives the ONNX Runtime result.

Commands:
  python -m models.training.seg_teacher run --model T.onnx[.xz] --images DIR --out masks.tar
      (GPU machine: every ``DIR/*.jpg`` -> soft mask PNG at the image's size, in a tar)
  python -m models.training.seg_teacher check --model T.onnx --image X.jpg
      (CPU: compare with ONNX Runtime on one photo)
"""

from __future__ import annotations

import argparse
import io
import lzma
import tarfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

TEACHER_SIZE = 1024


def _load_onnx(path: Path) -> Any:
    import onnx

    if path.suffix == ".xz":
        return onnx.load_from_string(lzma.decompress(path.read_bytes()))
    return onnx.load(str(path))


class OnnxTorchRunner:
    """Runs the teacher's ONNX graph with torch ops (only the ops IS-Net's graph uses)."""

    def __init__(self, path: Path, device: torch.device):
        from onnx import helper, numpy_helper

        model = _load_onnx(path)
        self.device = device
        self.consts = {
            i.name: torch.from_numpy(numpy_helper.to_array(i).astype(np.float32)).to(device)
            for i in model.graph.initializer
            if numpy_helper.to_array(i).dtype != np.int64
        }
        self.shapes = {
            i.name: [int(v) for v in numpy_helper.to_array(i)]
            for i in model.graph.initializer
            if numpy_helper.to_array(i).dtype == np.int64
        }
        self.nodes = [
            (n.op_type, list(n.input), list(n.output), {a.name: helper.get_attribute_value(a) for a in n.attribute})
            for n in model.graph.node
        ]
        self.input_name = model.graph.input[0].name
        self.output_name = model.graph.output[0].name

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        env: dict[str, torch.Tensor] = dict(self.consts)
        env[self.input_name] = x
        for op, ins, outs, attrs in self.nodes:
            args = [env.get(name) if name else None for name in ins]
            if op == "DynamicQuantizeLinear":
                v = args[0]
                assert v is not None
                dims = tuple(range(1, v.dim()))
                lo = torch.clamp(v.amin(dim=dims, keepdim=True), max=0.0)
                hi = torch.clamp(v.amax(dim=dims, keepdim=True), min=0.0)
                scale = (hi - lo) / 255.0
                scale = torch.where(scale == 0, torch.ones_like(scale), scale)
                zp = torch.clamp(torch.round(-lo / scale), 0, 255)
                env[outs[0]] = torch.clamp(torch.round(v / scale) + zp, 0, 255)
                env[outs[1]], env[outs[2]] = scale, zp
            elif op == "ConvInteger":
                xq, w, xz, wz = args
                assert xq is not None and w is not None and xz is not None
                w0 = w - (wz if wz is not None else 0)
                p = attrs.get("pads", [0, 0, 0, 0])
                env[outs[0]] = F.conv2d(
                    xq - xz,
                    w0,
                    None,
                    attrs.get("strides", [1, 1]),
                    (p[0], p[1]),
                    attrs.get("dilations", [1, 1]),
                    attrs.get("group", 1),
                )
            elif op == "Cast":
                env[outs[0]] = args[0]  # type: ignore[assignment]
            elif op == "Mul":
                env[outs[0]] = args[0] * args[1]  # type: ignore[operator]
            elif op == "Add":
                env[outs[0]] = args[0] + args[1]  # type: ignore[operator]
            elif op == "Reshape":
                data = args[0]
                assert data is not None
                env[outs[0]] = data.reshape(self.shapes[ins[1]])
            elif op == "Relu":
                env[outs[0]] = torch.relu(args[0])  # type: ignore[arg-type]
            elif op == "Sigmoid":
                env[outs[0]] = torch.sigmoid(args[0])  # type: ignore[arg-type]
            elif op == "Concat":
                env[outs[0]] = torch.cat([a for a in args if a is not None], dim=int(attrs["axis"]))
            elif op == "MaxPool":
                env[outs[0]] = F.max_pool2d(
                    args[0], attrs["kernel_shape"], attrs["strides"], ceil_mode=bool(attrs.get("ceil_mode", 0))
                )  # type: ignore[arg-type]
            elif op == "Resize":
                size = self.shapes[ins[3]][2:]
                env[outs[0]] = F.interpolate(args[0], size=size, mode="bilinear", align_corners=False)  # type: ignore[arg-type]
            else:
                raise NotImplementedError(f"teacher graph op {op} not supported")
            if outs[0] == self.output_name:
                return env[outs[0]]
        return env[self.output_name]


def teacher_input(bgr: np.ndarray) -> np.ndarray:
    """Photo -> 3×1024×1024 float RGB, ``pixel/255 - 0.5`` (the teacher's own recipe)."""
    rgb = cv2.cvtColor(cv2.resize(bgr, (TEACHER_SIZE, TEACHER_SIZE), interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)
    return (rgb.astype(np.float32) / 255.0 - 0.5).transpose(2, 0, 1)


def run_folder(model: Path, images: Path, out: Path, batch: int = 16, shards: int = 4) -> None:
    """Every ``images/*.jpg`` -> soft mask PNG (same size as the jpg) in ``shards`` tars ``out``-N.tar.

    Shards keep each returned file under the device tool's 16 MB per-file limit.
    """
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    runner = OnnxTorchRunner(model, device)
    files = sorted(images.glob("*.jpg"))
    t0 = time.time()
    tars = [
        tarfile.open(  # noqa: SIM115 - closed in the finally below
            out.with_name(f"{out.stem}-{k}.tar"), "w"
        )
        for k in range(shards)
    ]
    try:
        for start in range(0, len(files), batch):
            chunk = files[start : start + batch]
            photos = [cv2.imread(str(f)) for f in chunk]
            x = torch.from_numpy(np.stack([teacher_input(p) for p in photos])).to(device)
            prob = runner(x)[:, 0].float().cpu().numpy()
            for f, p, m in zip(chunk, photos, prob, strict=True):
                soft = cv2.resize(m, (p.shape[1], p.shape[0]), interpolation=cv2.INTER_LINEAR)
                png = cv2.imencode(".png", np.clip(soft * 255 + 0.5, 0, 255).astype(np.uint8))[1].tobytes()
                info = tarfile.TarInfo(f.stem + ".png")
                info.size = len(png)
                tars[hash(f.stem) % shards].addfile(info, io.BytesIO(png))
            if start % (batch * 20) == 0:
                print(f"{start + len(chunk)}/{len(files)} {time.time() - t0:.0f}s", flush=True)
    finally:
        for tar in tars:
            tar.close()
    print(f"done {len(files)} in {time.time() - t0:.0f}s", flush=True)


def check(model: Path, image: Path) -> None:
    """Compare the torch execution with ONNX Runtime on one photo (CPU; slow)."""
    import onnxruntime as ort

    x = teacher_input(cv2.imread(str(image)))[None]
    t0 = time.time()
    ours = OnnxTorchRunner(model, torch.device("cpu"))(torch.from_numpy(x))[0, 0].numpy()
    t1 = time.time()
    ref = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]).run(["output"], {"input": x})[0][0, 0]
    t2 = time.time()
    iou = np.logical_and(ours > 0.5, ref > 0.5).sum() / max(1, np.logical_or(ours > 0.5, ref > 0.5).sum())
    print(f"torch {t1 - t0:.1f}s ort {t2 - t1:.1f}s max|diff| {np.abs(ours - ref).max():.4f} IoU@0.5 {iou:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--model", type=Path, required=True)
    r.add_argument("--images", type=Path, required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--batch", type=int, default=16)
    r.add_argument("--shards", type=int, default=4)
    c = sub.add_parser("check")
    c.add_argument("--model", type=Path, required=True)
    c.add_argument("--image", type=Path, required=True)
    a = parser.parse_args()
    if a.cmd == "run":
        run_folder(a.model, a.images, a.out, a.batch, a.shards)
    else:
        check(a.model, a.image)


if __name__ == "__main__":
    main()
