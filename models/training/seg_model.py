"""The garment segmenter network and its class table.

MobileNetV2 (ImageNet, from the shared TFLite file) + a light FPN decoder: the four
backbone stages (strides 4-32) are projected to 64 channels, merged top-down, smoothed
by one depthwise-separable conv at stride 4 and classified per pixel. The network outputs
logits at stride 4 (a quarter of the input size); training upsamples them ×4 before the
loss, the runtime resizes them bilinearly to the photo (cheaper than doing it in int8).
Why this shape: every op (conv, depthwise conv, add, bilinear resize) quantises to int8
cleanly in both ONNX Runtime and LiteRT, and the whole thing is ~2.3 M parameters.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.training.mobilenet import STAGE_CHANNELS, MobileNetV2

#: Output classes, in channel order. ``accessory`` is kept apart so bags, belts etc. are
#: never called garments; it is not a garment group.
CLASSES = ("background", "person", "top", "outerwear", "bottom", "one-piece", "footwear", "headwear", "accessory")
GARMENT_CLASSES = tuple(range(2, 8))
IGNORE = 255


def _cbr(cin: int, cout: int, k: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, 1, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class GarmentSegNet(nn.Module):
    """NCHW normalised RGB (``pixel/127.5 - 1``) -> per-class logits at stride 4."""

    def __init__(self, n_classes: int = len(CLASSES), width: int = 64):
        super().__init__()
        self.backbone = MobileNetV2(include_last=False)
        self.lateral = nn.ModuleList([_cbr(c, width) for c in STAGE_CHANNELS])
        self.smooth = nn.Sequential(_cbr(width, width, 3, groups=width), _cbr(width, width))
        self.head = nn.Conv2d(width, n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.backbone.stages(x)
        y = self.lateral[3](feats[3])
        for i in (2, 1, 0):
            y = self.lateral[i](feats[i]) + F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False)
        return self.head(self.smooth(y))


def upsample_logits(logits: torch.Tensor) -> torch.Tensor:
    """Stride-4 logits -> input resolution (bilinear), as used for the training loss."""
    return F.interpolate(logits, scale_factor=4.0, mode="bilinear", align_corners=False)
