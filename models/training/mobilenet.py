"""MobileNetV2 1.0 in plain PyTorch, initialised from the ImageNet int8 TFLite model.

Why: both the garment segmenter and the category classifier need an ImageNet backbone
small enough for the Pi. ``../shared/models/pretrained/mobilenet_v2_1.0_224_quant.tflite``
is the licensed starting point; its weights (batch-norm already folded into each conv) are
read back with the LiteRT interpreter, dequantised, and put into this module, with each
batch norm set to the identity carrying the folded bias so fine-tuning still has BN.

Stable API (used by the segmenter and the classifier):

- ``MobileNetV2(include_last=True)``: ``forward(x)`` -> last feature map (1280 channels at
  stride 32, or 320 with ``include_last=False``); ``stages(x)`` -> list of feature maps
  at strides 4, 8, 16, 32 (channels ``STAGE_CHANNELS``: 24, 32, 96, 320).
- ``load_tflite_weights(model, path) -> int``: copy the TFLite weights in (returns the
  number of convolutions loaded). Input normalisation is MobileNet's: RGB ``pixel/127.5-1``
  (``mirror.vision.preprocess.MOBILENET_MEAN/STD``).
- ``PRETRAINED_TFLITE``: default path of that file relative to the repository root.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

PRETRAINED_TFLITE = Path("../shared/models/pretrained/mobilenet_v2_1.0_224_quant.tflite")

# (expansion t, output channels c, repeats n, first stride s), as in Sandler et al. 2018.
_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
#: Channels of ``stages()`` outputs, strides 4, 8, 16, 32.
STAGE_CHANNELS = (24, 32, 96, 320)
# Index into ``features`` after which each stage's output is taken (0 is the stem).
_STAGE_ENDS = (3, 6, 13, 17)
_BN_EPS = 1e-3


class ConvBNReLU(nn.Sequential):
    """Conv (no bias) + BatchNorm + optional ReLU6: the unit TFLite folds into one conv."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1, act: bool = True):
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout, eps=_BN_EPS),
        ]
        if act:
            layers.append(nn.ReLU6(inplace=True))
        super().__init__(*layers)


class InvertedResidual(nn.Module):
    """Expand 1×1 -> depthwise 3×3 -> project 1×1, with a residual when shapes match."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(ConvBNReLU(cin, hidden, 1))
        layers += [ConvBNReLU(hidden, hidden, 3, stride, groups=hidden), ConvBNReLU(hidden, cout, 1, act=False)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    """MobileNetV2 1.0 feature extractor (no classifier head)."""

    def __init__(self, include_last: bool = True):
        super().__init__()
        layers: list[nn.Module] = [ConvBNReLU(3, 32, 3, 2)]
        cin = 32
        for t, c, n, s in _SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        if include_last:
            layers.append(ConvBNReLU(cin, 1280, 1))
            cin = 1280
        self.features = nn.Sequential(*layers)
        self.out_channels = cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps at strides 4, 8, 16, 32 (``STAGE_CHANNELS``)."""
        outs = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in _STAGE_ENDS:
                outs.append(x)
            if i >= _STAGE_ENDS[-1]:
                break
        return outs


def read_tflite_convs(path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """Dequantised (weight in torch OIHW layout, bias) of every conv, in graph order."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(path))
    interp.allocate_tensors()
    details = {d["index"]: d for d in interp.get_tensor_details()}

    def dequant(index: int) -> np.ndarray:
        d = details[index]
        scale, zero = d["quantization"]
        raw = interp.get_tensor(index).astype(np.float32)
        return (raw - zero) * scale if scale else raw

    convs = []
    for op in interp._get_ops_details():
        if op["op_name"] not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            continue
        w = dequant(int(op["inputs"][1]))
        b = dequant(int(op["inputs"][2]))
        # TFLite: conv [O, kh, kw, I]; depthwise [1, kh, kw, C]. Torch: [O, I/groups, kh, kw].
        w = w.transpose(3, 0, 1, 2) if op["op_name"] == "DEPTHWISE_CONV_2D" else w.transpose(0, 3, 1, 2)
        convs.append((np.ascontiguousarray(w), b))
    return convs


@torch.no_grad()
def load_tflite_weights(model: MobileNetV2, path: Path = PRETRAINED_TFLITE) -> int:
    """Copy the TFLite MobileNetV2's weights into ``model``; return how many convs were set."""
    convs = read_tflite_convs(path)
    units = [m for m in model.modules() if isinstance(m, ConvBNReLU)]
    if len(convs) < len(units):
        raise ValueError(f"{path}: {len(convs)} convolutions, model needs {len(units)}")
    for unit, (w, b) in zip(units, convs[: len(units)], strict=True):
        conv, bn = unit[0], unit[1]
        assert isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d)
        if tuple(conv.weight.shape) != w.shape:
            raise ValueError(f"{path}: conv shape {w.shape} does not fit {tuple(conv.weight.shape)}")
        conv.weight.copy_(torch.from_numpy(w))
        bn.weight.fill_(1.0)
        bn.bias.copy_(torch.from_numpy(b))
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - _BN_EPS)
    return len(units)
