"""Training samples for the segmenter, augmented toward the mirror's view.

The mirror sees a person indoors holding a garment up in front of them, letterboxed into
a square. So samples are: CCP people (their own clothes labelled), CCP people with a
single-garment cut-out pasted over the torso ("held up", labelled with its group), and
single-garment photos on their own; each then gets a partial crop, a letterbox with random
zoom and offset, a mirror flip, indoor-light / white-balance shifts, blur and noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Sample:
    """A photo and its label map (our classes, or 0/255 garment mask + group for photos)."""

    image: np.ndarray  # BGR uint8
    labels: np.ndarray  # uint8 class per pixel


def garment_labels(mask: np.ndarray, group: int) -> np.ndarray:
    """Teacher mask (0/255) -> label map: the garment's group on the mask, background elsewhere."""
    return np.where(mask >= 128, group, 0).astype(np.uint8)


def paste_held_up(person: Sample, garment: Sample, rng: np.random.Generator) -> Sample:
    """Paste the garment's cut-out over the person's torso, as if held up to the mirror."""
    ys, xs = np.nonzero(garment.labels)
    if len(ys) == 0:
        return person
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    g_img, g_lab = garment.image[y0:y1, x0:x1], garment.labels[y0:y1, x0:x1]
    h, w = person.image.shape[:2]
    target_h = rng.uniform(0.35, 0.8) * h
    s = min(target_h / g_img.shape[0], 0.95 * w / g_img.shape[1])
    gw, gh = max(2, round(g_img.shape[1] * s)), max(2, round(g_img.shape[0] * s))
    g_img = cv2.resize(g_img, (gw, gh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    g_lab = cv2.resize(g_lab, (gw, gh), interpolation=cv2.INTER_NEAREST)
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.35, 0.65) * h
    px, py = int(np.clip(cx - gw / 2, 0, w - gw)), int(np.clip(cy - gh / 2, 0, h - gh))
    alpha = cv2.GaussianBlur((g_lab > 0).astype(np.float32), (3, 3), 0)[..., None]
    image, labels = person.image.copy(), person.labels.copy()
    region = image[py : py + gh, px : px + gw].astype(np.float32)
    image[py : py + gh, px : px + gw] = (alpha * g_img + (1 - alpha) * region).astype(np.uint8)
    labels[py : py + gh, px : px + gw] = np.where(g_lab > 0, g_lab, labels[py : py + gh, px : px + gw])
    return Sample(image, labels)


def empty_surface(garment: Sample, rng: np.random.Generator) -> Sample | None:
    """A crop of the photo's surroundings with no garment in it, labelled background.

    Why: the first segmenter called a plain beige wall "top" on ~40 % of an empty frame;
    it had never seen a frame without a garment. The strip beside the (dilated) teacher
    mask — wall, floor, bed, rug — is a real indoor surface with no garment on it. CCP
    people with the person masked out are not clean (shadows, other garments), so they are
    not used. ``None`` when no strip is at least 10 % of the photo (16 px) wide.
    """
    h, w = garment.labels.shape
    fg = cv2.dilate((garment.labels > 0).astype(np.uint8), np.ones((15, 15), np.uint8))
    ys, xs = np.nonzero(fg)
    if len(ys) == 0:
        return Sample(garment.image, np.zeros_like(garment.labels))
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    strips = [(0, h, 0, x0), (0, h, x1, w), (0, y0, 0, w), (y1, h, 0, w)]  # left, right, above, below
    ok = [t for t in strips if min(t[1] - t[0], t[3] - t[2]) >= max(16, 0.1 * min(h, w))]
    if not ok:
        return None
    a, b, c, d = ok[int(rng.integers(len(ok)))]
    # A portrait 3:4 piece of the strip, so the letterbox fills the frame with the surface.
    cw = min(d - c, round((b - a) * 0.75))
    ch = min(b - a, round(cw / 0.75))
    a += int(rng.integers(0, b - a - ch + 1))
    c += int(rng.integers(0, d - c - cw + 1))
    b, d = a + ch, c + cw
    return Sample(garment.image[a:b, c:d], np.zeros((b - a, d - c), np.uint8))


def crop_and_letterbox(s: Sample, size: tuple[int, int], rng: np.random.Generator) -> Sample:
    """Partial crop (half the time), then letterbox into ``size`` (w, h) with random zoom/offset."""
    size_w, size_h = size
    img, lab = s.image, s.labels
    h, w = img.shape[:2]
    if rng.random() < 0.5:
        ch, cw = int(h * rng.uniform(0.55, 1.0)), int(w * rng.uniform(0.55, 1.0))
        y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        img, lab = img[y0 : y0 + ch, x0 : x0 + cw], lab[y0 : y0 + ch, x0 : x0 + cw]
        h, w = ch, cw
    scale = min(size_w / w, size_h / h) * (rng.uniform(0.6, 1.0) if rng.random() < 0.4 else 1.0)
    nw, nh = max(1, min(size_w, round(w * scale))), max(1, min(size_h, round(h * scale)))
    img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    lab = cv2.resize(lab, (nw, nh), interpolation=cv2.INTER_NEAREST)
    ox, oy = int(rng.integers(0, size_w - nw + 1)), int(rng.integers(0, size_h - nh + 1))
    if rng.random() < 0.7:  # usually centred, as the runtime letterbox is
        ox, oy = (size_w - nw) // 2, (size_h - nh) // 2
    out_img = np.zeros((size_h, size_w, 3), np.uint8)
    out_lab = np.zeros((size_h, size_w), np.uint8)
    out_img[oy : oy + nh, ox : ox + nw] = img
    out_lab[oy : oy + nh, ox : ox + nw] = lab
    return Sample(out_img, out_lab)


def photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indoor light: white-balance gains, brightness/contrast, gamma, blur, sensor noise."""
    x = img.astype(np.float32)
    gains = rng.uniform(0.75, 1.25, 3)
    if rng.random() < 0.3:  # warm tungsten light
        gains *= np.array([0.8, 1.0, 1.2])  # BGR
    x *= gains / gains.mean()
    x = x * rng.uniform(0.6, 1.3) + rng.uniform(-30, 30)
    x = 255.0 * (np.clip(x, 0, 255) / 255.0) ** rng.uniform(0.7, 1.4)
    if rng.random() < 0.2:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.5, 1.5))
    if rng.random() < 0.3:
        x += rng.normal(0, rng.uniform(2, 8), x.shape)
    return np.clip(x, 0, 255).astype(np.uint8)


def make_sample(
    kind: str, person: Sample | None, garment: Sample | None, size: tuple[int, int], rng: np.random.Generator
) -> Sample:
    """``kind``: ``ccp`` (person), ``held`` (person + pasted garment), ``photo`` (garment alone)
    or ``empty`` (the surface beside the garment, no garment: background only; falls back to
    the photo when the garment leaves no strip free)."""
    empty = empty_surface(garment, rng) if kind == "empty" and garment is not None else None
    if empty is not None:
        base = empty
    elif kind == "held" and person is not None and garment is not None:
        base = paste_held_up(person, garment, rng)
    elif kind in ("photo", "empty") and garment is not None:
        base = garment
    else:
        assert person is not None
        base = person
    s = crop_and_letterbox(base, size, rng)
    img, lab = s.image, s.labels
    if rng.random() < 0.5:
        img, lab = img[:, ::-1], lab[:, ::-1]
    return Sample(photometric(np.ascontiguousarray(img), rng), np.ascontiguousarray(lab))


__all__ = [
    "Sample",
    "crop_and_letterbox",
    "empty_surface",
    "garment_labels",
    "make_sample",
    "paste_held_up",
    "photometric",
]
