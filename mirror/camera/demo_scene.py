"""A synthetic mirror-camera scene: a room, and a garment raised, held still and lowered.

Why draw it rather than ship a video: the demo and the tests must run anywhere with no
camera and no files (nothing from ``../shared`` may be copied into the repository), and a
drawn scene is deterministic, resolution-free (the same scene at preview size and at full
resolution) and knows its own truth (which garment, which colour, where).

The scene is drawn in a 640×480 reference frame and scaled, so a still at 1640×1232 shows
exactly what the preview showed. It is made to look like a photo where that matters to
the models: shading and folds on the fabric, a collar and seams, hands holding the garment,
a lit wall, a floor with planks, a door, camera noise and softness, and motion blur while
the garment moves (so the sharpness picker has something to choose).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from mirror.imagetypes import Image

FloatImage = npt.NDArray[np.float32]
Mask = npt.NDArray[np.uint8]
Noise = npt.NDArray[np.int8]
Points = list[tuple[float, float]]

REF_W, REF_H = 640.0, 480.0
_SHIFT = 4  # fixed-point bits for sub-pixel polygon drawing
_SKIN = (120, 150, 205)  # BGR
_SKIN_SHADE = (100, 128, 182)
_HAIR = (35, 45, 62)
_SOFTNESS = 0.7  # camera blur sigma, reference pixels
_NOISE_SIGMA = 2.5  # sensor noise, grey levels
_NOISE_FRAMES = 6
_BAND_ROWS = 64  # rows of the room's float32 lighting computed at a time
_NOISE_CHUNK = 1 << 18  # noise values drawn at a time (2 MB of float64)


@dataclass(frozen=True)
class DemoGarment:
    """One garment of the demo's cycle: what it is, its colour name and its BGR fabric colour."""

    category: str
    basic: str
    bgr: tuple[int, int, int]


#: The garments the demo cycles through (categories and basic colours of the analyze contract).
GARMENTS: tuple[DemoGarment, ...] = (
    DemoGarment("t-shirt", "red", (40, 38, 185)),
    DemoGarment("dress", "blue", (165, 85, 35)),
    DemoGarment("pants", "green", (55, 125, 45)),
    DemoGarment("longsleeve", "yellow", (40, 195, 230)),
    DemoGarment("skirt", "pink", (170, 120, 235)),
)


@dataclass(frozen=True)
class Timeline:
    """Seconds of each phase of one cycle: empty room, raise, hold still, lower."""

    empty_s: float = 1.5
    raise_s: float = 1.0
    hold_s: float = 5.0
    lower_s: float = 1.0

    @property
    def cycle_s(self) -> float:
        return self.empty_s + self.raise_s + self.hold_s + self.lower_s


@dataclass(frozen=True)
class Pose:
    """Where the garment is at a moment: ``lift`` 0 (below the frame) .. 1 (held up), and its speed."""

    garment: DemoGarment
    lift: float
    speed: float  # reference pixels per second, vertical
    phase: str  # "empty", "raise", "hold" or "lower"


def _ease(x: float) -> float:
    """Smoothstep: people start and stop moving gently."""
    x = min(1.0, max(0.0, x))
    return x * x * (3 - 2 * x)


_TRAVEL = 420.0  # reference pixels between "below the frame" and "held up"


def pose_at(t: float, timeline: Timeline | None = None) -> Pose:
    """The garment's pose ``t`` seconds into the demo (cycles forever)."""
    timeline = timeline or Timeline()
    cycle = int(t // timeline.cycle_s)
    garment = GARMENTS[cycle % len(GARMENTS)]
    u = t - cycle * timeline.cycle_s
    if u < timeline.empty_s:
        return Pose(garment, 0.0, 0.0, "empty")
    u -= timeline.empty_s
    if u < timeline.raise_s:
        x = u / timeline.raise_s
        return Pose(garment, _ease(x), 6 * x * (1 - x) * _TRAVEL / timeline.raise_s, "raise")
    u -= timeline.raise_s
    if u < timeline.hold_s:
        return Pose(garment, 1.0, 0.0, "hold")
    u -= timeline.hold_s
    x = u / timeline.lower_s
    return Pose(garment, 1.0 - _ease(x), 6 * x * (1 - x) * _TRAVEL / timeline.lower_s, "lower")


# --- garment outlines, in reference pixels relative to the top centre (neck) -----------------


def _mirror(half: Points) -> Points:
    """A symmetric outline from its left half (listed top to bottom, ending on the centre line)."""
    right = [(-x, y) for x, y in reversed(half)]
    return half + right


def _tshirt(long_sleeves: bool) -> Points:
    if long_sleeves:
        sleeve = [(-88, 14), (-112, 60), (-128, 200), (-100, 208), (-84, 90)]
    else:
        sleeve = [(-88, 14), (-128, 58), (-140, 86), (-108, 104), (-82, 80)]
    return _mirror([(0, 20), (-16, 16), (-28, 6), (-34, 0), *sleeve, (-82, 160), (-84, 238), (0, 242)])[1:]


def _dress() -> Points:
    return _mirror([(0, 24), (-22, 6), (-30, 0), (-62, 8), (-74, 60), (-58, 128), (-86, 220), (-122, 322), (0, 330)])[
        1:
    ]


def _skirt() -> Points:
    return _mirror([(0, 0), (-72, 0), (-78, 44), (-100, 170), (-118, 262), (0, 270)])[1:]


def _pants() -> Points:
    return [(-76, 0), (76, 0), (84, 60), (96, 310), (30, 312), (4, 100), (-4, 100), (-30, 312), (-96, 310), (-84, 60)]


_OUTLINES: dict[str, Points] = {
    "t-shirt": _tshirt(False),
    "longsleeve": _tshirt(True),
    "dress": _dress(),
    "skirt": _skirt(),
    "pants": _pants(),
}
#: Where the hands hold each garment (left hand; the right mirrors it).
_GRIP: dict[str, tuple[float, float]] = {
    "t-shirt": (-70, 8),
    "longsleeve": (-70, 8),
    "dress": (-50, 6),
    "skirt": (-62, 2),
    "pants": (-62, 2),
}
_HELD_TOP = 112.0  # reference y of the garment's top when held up (the head is above it)


class _Canvas:
    """Maps reference coordinates to a frame of any size (centred, aspect kept by height)."""

    def __init__(self, width: int, height: int) -> None:
        self.w, self.h = width, height
        self.s = height / REF_H
        self.x_off = (width - REF_W * self.s) / 2

    def pts(self, points: Points) -> npt.NDArray[np.int32]:
        arr = np.array([(self.x_off + x * self.s, y * self.s) for x, y in points], dtype=np.float64)
        fixed: npt.NDArray[np.int32] = np.round(arr * (1 << _SHIFT)).astype(np.int32)
        return fixed

    def fill(self, img: Image, points: Points, colour: tuple[int, int, int]) -> None:
        cv2.fillPoly(img, [self.pts(points)], colour, cv2.LINE_AA, _SHIFT)

    def line(self, img: Image, points: Points, colour: tuple[int, int, int], width: float) -> None:
        thickness = max(1, round(width * self.s))
        cv2.polylines(img, [self.pts(points)], False, colour, thickness, cv2.LINE_AA, _SHIFT)

    def xy(self, x: float, y: float) -> tuple[int, int]:
        return round(self.x_off + x * self.s), round(y * self.s)


def _room(c: _Canvas) -> Image:
    """Wall lit from the upper left, skirting board, plank floor, a door and a framed picture.

    The light and the planks are computed in float32 a band of rows at a time: over a whole
    1640×1232 still at once that took ~95 MB of temporaries for an image kept as 6 MB of
    uint8. Every value is a function of its own pixel alone, so the bands give the same bytes.
    """
    out = np.empty((c.h, c.w, 3), np.uint8)
    rx = (np.arange(c.w, dtype=np.float32) - c.x_off) / c.s  # one row; broadcast against ry's column
    wall = np.array([178, 196, 210], np.float32)
    floor = np.array([62, 98, 142], np.float32)
    for y0 in range(0, c.h, _BAND_ROWS):
        ry = np.arange(y0, min(c.h, y0 + _BAND_ROWS), dtype=np.float32)[:, None] / c.s
        light = 1.0 - 0.35 * np.clip(np.hypot(rx - 120, ry + 60) / 700.0, 0, 1)
        img = np.empty((len(ry), c.w, 3), np.float32)
        is_floor = ry >= 336
        img[:] = wall
        img[is_floor[:, 0]] = floor
        img *= light[..., None]
        # planks: darker seams that converge a little towards the wall (perspective)
        plank = np.abs(((rx - 320) * (0.6 + (ry - 336) / 300.0)) % 70.0 - 35.0) < 0.8
        img[is_floor & plank] *= 0.72
        out[y0 : y0 + len(ry)] = np.clip(img, 0, 255, out=img)  # the assignment truncates, as astype did
    c.fill(out, [(-200, 326), (840, 326), (840, 338), (-200, 338)], (205, 212, 218))
    # door with frame, two panels and a knob
    c.fill(out, [(28, 82), (156, 82), (156, 327), (28, 327)], (120, 132, 140))
    c.fill(out, [(36, 90), (148, 90), (148, 327), (36, 327)], (196, 204, 210))
    for top, bottom in ((108, 196), (214, 306)):
        c.fill(out, [(50, top), (134, top), (134, bottom), (50, bottom)], (176, 184, 190))
        c.line(out, [(50, bottom), (134, bottom), (134, top)], (215, 222, 228), 1.5)
    cv2.circle(out, c.xy(138, 212), max(2, round(4 * c.s)), (60, 150, 190), -1, cv2.LINE_AA)
    # framed picture: dark frame, sky, hills
    c.fill(out, [(470, 112), (590, 112), (590, 196), (470, 196)], (40, 45, 52))
    c.fill(out, [(478, 120), (582, 120), (582, 188), (478, 188)], (215, 180, 140))
    c.fill(out, [(478, 188), (478, 160), (520, 140), (560, 158), (582, 150), (582, 188)], (80, 130, 90))
    return out


def _shading(c: _Canvas, inside: npt.NDArray[np.bool_], box: tuple[int, int, int, int], seed: int) -> FloatImage:
    """Light falloff, soft folds and darker edges inside ``box``: what makes a flat shape read as cloth.

    ``inside`` is the garment's mask over ``box``. The pixel grid is a row and a column
    broadcast against each other (the same values as a full grid, without two int64 copies of it).
    """
    x0, y0, x1, y1 = box
    rx = (np.arange(x0, x1, dtype=np.float32)[None, :] - x0) / c.s
    ry = (np.arange(y0, y1, dtype=np.float32)[:, None] - y0) / c.s
    rng = np.random.default_rng(seed)
    folds = np.zeros((y1 - y0, x1 - x0), np.float32)
    for _ in range(5):
        period = rng.uniform(28, 70)
        tilt = rng.uniform(-0.25, 0.25)
        folds += np.sin((rx + tilt * ry) * 2 * np.pi / period + rng.uniform(0, 6.28)) * rng.uniform(0.03, 0.07)
    gradient = 0.12 - 0.22 * np.clip((rx + ry) / 500.0, 0, 1)
    edge = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 3) / c.s
    rim = -0.22 * np.exp(-edge / 6.0)
    return np.asarray(1.0 + folds + gradient + rim, dtype=np.float32)


def _limb(
    c: _Canvas,
    img: npt.NDArray[np.uint8],
    a: tuple[float, float],
    b: tuple[float, float],
    width: float,
    tone: tuple[int, ...],
) -> None:
    """A limb segment with rounded ends."""
    thickness = max(1, round(width * c.s))
    cv2.line(img, c.xy(*a), c.xy(*b), tone, thickness, cv2.LINE_AA)
    for end in (a, b):
        cv2.circle(img, c.xy(*end), max(1, thickness // 2), tone, -1, cv2.LINE_AA)


def _person(
    c: _Canvas,
    img: npt.NDArray[np.uint8],
    cx: float,
    top: float,
    hands: list[tuple[float, float]],
    tones: tuple[tuple[int, ...], ...],
) -> None:
    """The person behind the garment: head and hair above it, arms down behind it to the hands.

    Holding a garment up against yourself in front of a mirror looks like this: the elbows
    hang under the hands and the garment covers the arms, so only the hands show over its
    top edge. A segmenter trained on people expects the skin and hair around the garment.
    (Arms bent out beside a T-shirt, as the demo drew them before, are bare forearms next to
    the sleeves, which segmenter 1.2.0 takes for sleeve and the classifier then calls a long
    sleeve: ``models/README.md``, Segmenter, limits.)
    """
    skin, shade, hair = tones
    for hx, hy in hands:
        side = -1 if hx < cx else 1
        shoulder = (cx + side * 58, top + 18)
        elbow = (hx - side * 6, top + 130)  # under the hand, inside every outline
        _limb(c, img, shoulder, elbow, 26, shade)
        _limb(c, img, elbow, (hx, hy + 10), 21, skin)
    _limb(c, img, (cx, top - 30), (cx, top + 6), 24, shade)  # neck
    cv2.ellipse(img, c.xy(cx, top - 52), (round(25 * c.s), round(31 * c.s)), 0, 0, 360, skin, -1, cv2.LINE_AA)
    cv2.ellipse(img, c.xy(cx, top - 62), (round(27 * c.s), round(24 * c.s)), 0, 180, 360, hair, -1, cv2.LINE_AA)
    cv2.ellipse(img, c.xy(cx, top - 64), (round(27 * c.s), round(12 * c.s)), 0, 0, 180, hair, -1, cv2.LINE_AA)


def _layers(c: _Canvas, garment: DemoGarment, seed: int) -> tuple[Image, Mask]:
    """The held garment with arms and hands at the held pose, sharp: (BGR colour, alpha 0..255).

    Drawn in uint8 on the whole frame, so OpenCV draws every shape exactly where and how it
    always did (the float work, shading and blur, is confined to the garment's neighbourhood).
    """
    colour = np.zeros((c.h, c.w, 3), np.uint8)
    alpha = np.zeros((c.h, c.w), np.uint8)
    cx, top = 320.0, _HELD_TOP
    outline = [(cx + x, top + y) for x, y in _OUTLINES[garment.category]]
    gx, gy = _GRIP[garment.category]
    hands = [(cx + gx, top + gy), (cx - gx, top + gy)]
    for layer, tones in ((colour, (_SKIN, _SKIN_SHADE, _HAIR)), (alpha, ((255,) * 3,) * 3)):
        _person(c, layer, cx, top, hands, tones)
    mask_u8 = np.zeros((c.h, c.w), np.uint8)
    c.fill(mask_u8, outline, (255, 255, 255))
    bx, by, bw, bh = cv2.boundingRect(mask_u8)
    box = x0, y0, x1, y1 = bx, by, bx + bw, by + bh
    shade = _shading(c, mask_u8[y0:y1, x0:x1] > 127, box, seed)
    fabric = np.clip(np.array(garment.bgr, np.float32)[None, None, :] * shade[..., None], 0, 255)
    a = (mask_u8[y0:y1, x0:x1].astype(np.float32) / 255.0)[..., None]
    region = colour[y0:y1, x0:x1].astype(np.float32)
    colour[y0:y1, x0:x1] = np.clip(region * (1 - a) + fabric * a, 0, 255).astype(np.uint8)
    np.maximum(alpha, mask_u8, out=alpha)
    darker = (int(garment.bgr[0] * 0.68), int(garment.bgr[1] * 0.68), int(garment.bgr[2] * 0.68))
    if garment.category in ("t-shirt", "longsleeve", "dress"):
        neck = [(-34, 0), (-28, 6), (-16, 16), (0, 20), (16, 16), (28, 6), (34, 0)]
        c.line(colour, [(cx + x, top + y) for x, y in neck], darker, 5)
    else:
        c.line(colour, [(cx - 75, top + 12), (cx + 75, top + 12)], darker, 3)  # the waistband seam
        if garment.category == "skirt":  # pleats from the waistband
            for x in (-60, -36, -12, 12, 36, 60):
                c.line(colour, [(cx + x, top + 14), (cx + x * 1.55, top + 262)], darker, 1.5)
    hem_y = max(y for _, y in _OUTLINES[garment.category]) - 10
    c.line(colour, [(cx - 70, top + hem_y), (cx + 70, top + hem_y)], darker, 1.2)
    for hx, hy in hands:
        for layer, tone in ((colour, _SKIN), (alpha, (255, 255, 255))):
            cv2.ellipse(layer, c.xy(hx, hy), (round(17 * c.s), round(13 * c.s)), 0, 0, 360, tone, -1, cv2.LINE_AA)
            for k in range(4):  # fingers over the garment's edge
                finger = c.xy(hx - 10 + k * 6.5, hy + 12)
                axes = (max(1, round(3 * c.s)), max(1, round(7 * c.s)))
                cv2.ellipse(
                    layer, finger, axes, 0, 0, 360, tone if layer is alpha else (110, 140, 196), -1, cv2.LINE_AA
                )
    return colour, alpha


@dataclass(frozen=True)
class Sprite:
    """A blurred garment sprite, cropped to where it is not zero, and where the crop lies in its frame.

    Why cropped: the whole-frame float32 sprite is 16 bytes a pixel, and the garment, head
    and hands cover about 30 % of the frame; outside that, premultiplied colour and alpha are
    exactly zero, so the crop and its offset are the whole sprite (the five garments at the
    default still size took 154 MiB whole, 46 MiB cropped).
    """

    x: int
    y: int
    premult: FloatImage  # premultiplied BGR, h×w×3
    alpha: FloatImage  # 0..1, h×w

    def rows(self, r0: int, r1: int) -> tuple[FloatImage, FloatImage]:
        """Rows ``r0``..``r1`` of the whole-frame sprite over the crop's columns: views where the
        crop covers them, else a zero-padded copy (the motion blur smears into rows around it)."""
        h = self.alpha.shape[0]
        if self.y <= r0 and r1 <= self.y + h:
            return self.premult[r0 - self.y : r1 - self.y], self.alpha[r0 - self.y : r1 - self.y]
        premult = np.zeros((r1 - r0, *self.premult.shape[1:]), np.float32)
        alpha = np.zeros((r1 - r0, self.alpha.shape[1]), np.float32)
        s0, s1 = max(r0, self.y), min(r1, self.y + h)
        if s0 < s1:
            premult[s0 - r0 : s1 - r0] = self.premult[s0 - self.y : s1 - self.y]
            alpha[s0 - r0 : s1 - r0] = self.alpha[s0 - self.y : s1 - self.y]
        return premult, alpha


def _blur_reach(sigma: float) -> int:
    """How many pixels OpenCV's Gaussian blur of a float image reaches: its kernel is ``round(8σ + 1) | 1`` wide."""
    return (round(8 * sigma + 1) | 1) // 2


#: Zero pixels kept beyond the blur's reach when a sprite is blurred in a crop. The blur
#: reflects the crop's edge into its kernel, and what it reflects must be zeros, as the whole
#: frame had there: that takes one pixel more than the reach; the rest is margin (it costs a
#: few rows and columns of a temporary: the sprite is cut to its non-zero extent after).
_CROP_SLACK = 4


def _sprite(c: _Canvas, garment: DemoGarment, seed: int) -> Sprite:
    """The held garment with arms and hands, premultiplied and blurred like the camera, at the held pose.

    Rendered once per garment and frame size; moving it is then a shift and a blend, which
    keeps the demo at camera frame rates on a Pi. The float32 premultiply and blur run on the
    sharp layers' extent plus the blur's reach and a slack of zeros, not the whole frame: each
    blurred pixel sees the same inputs, so the crop equals the whole-frame sprite where that is
    not zero (``tests/test_camera.py`` compares them), at a fraction of the memory and time.
    """
    colour, alpha = _layers(c, garment, seed)
    sigma = _SOFTNESS * c.s
    pad = _blur_reach(sigma) + _CROP_SLACK
    bx, by, bw, bh = cv2.boundingRect(alpha)  # colour is zero where alpha is, once premultiplied
    x0, y0 = max(0, bx - pad), max(0, by - pad)
    x1, y1 = min(c.w, bx + bw + pad), min(c.h, by + bh + pad)
    a = alpha[y0:y1, x0:x1].astype(np.float32) / 255.0
    premult = colour[y0:y1, x0:x1].astype(np.float32) * a[..., None]
    premult = np.asarray(cv2.GaussianBlur(premult, (0, 0), sigma), dtype=np.float32)
    a = np.asarray(cv2.GaussianBlur(a, (0, 0), sigma), dtype=np.float32)
    nx, ny, nw, nh = cv2.boundingRect(((a > 0) | (premult.max(axis=2) > 0)).astype(np.uint8))
    # copies: a view would keep the padded crop alive
    return Sprite(x0 + nx, y0 + ny, premult[ny : ny + nh, nx : nx + nw].copy(), a[ny : ny + nh, nx : nx + nw].copy())


def garment_box(pose: Pose, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The garment's true box (x0, y0, x1, y1) in a ``width``×``height`` frame, or None when out of view."""
    if pose.phase == "empty":
        return None
    c = _Canvas(width, height)
    top = _HELD_TOP + (1.0 - pose.lift) * _TRAVEL
    pts = np.array([(320.0 + x, top + y) for x, y in _OUTLINES[pose.garment.category]])
    x0, y0 = c.xy(pts[:, 0].min(), pts[:, 1].min())
    x1, y1 = c.xy(pts[:, 0].max(), pts[:, 1].max())
    if y0 >= height:
        return None
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)


class Renderer:
    """Draws poses, caching the static parts (room, garment sprites, noise) per frame size.

    Why a cache: drawing the room and shading a garment takes ~100 ms at preview size and
    ~1 s at full resolution; composing cached layers takes a few milliseconds. Only the
    sprite's extent is blended (about 30 % of the frame): a synthetic camera should not take
    CPU a real one does not, or the preview and analysis figures measured on it suffer.

    The cache is kept small too, since the demo runs on 2 GB Pis: sprites are cropped to
    their extent (``Sprite``) and the noise is one int8 bank. At the default preview and
    still sizes, all five garments, it holds 100 MiB where whole-frame float32 sprites and
    uint8 noise pairs held 264 MiB (``tests/test_camera.py`` pins it).
    """

    def __init__(self) -> None:
        self._rooms: dict[tuple[int, int], Image] = {}
        self._sprites: dict[tuple[str, int, int], Sprite] = {}
        self._noise: dict[tuple[int, int], Noise] = {}

    def _room(self, width: int, height: int) -> Image:
        key = (width, height)
        if key not in self._rooms:
            c = _Canvas(width, height)
            self._rooms[key] = np.asarray(cv2.GaussianBlur(_room(c), (0, 0), _SOFTNESS * c.s), dtype=np.uint8)
        return self._rooms[key]

    def _sprite(self, garment: DemoGarment, width: int, height: int) -> Sprite:
        key = (garment.category, width, height)
        if key not in self._sprites:
            self._sprites[key] = _sprite(_Canvas(width, height), garment, GARMENTS.index(garment))
        return self._sprites[key]

    def _noise_bank(self, width: int, height: int) -> Noise:
        """``_NOISE_FRAMES`` frames of camera noise, frames×height×width×3, as whole grey levels.

        The noise is N(0, 2.5) truncated toward zero, drawn frame by frame and row by row from
        one seeded generator: drawing in chunks gives the same numbers in the same order as
        drawing a frame at once, without a float64 frame (48 MB at the still size) to hold them.
        One signed byte a value, where the saturating uint8 arithmetic it feeds used to keep an
        (add, subtract) pair: ``render_many`` adds it with int8 saturation instead. A draw past
        ±128 (51σ) would be clipped; it does not happen.
        """
        key = (width, height)
        if key not in self._noise:
            rng = np.random.default_rng(7)
            bank = np.empty((_NOISE_FRAMES, height, width, 3), np.int8)
            flat = bank.reshape(-1, width * 3)  # frames one after another, rows in order
            step = max(1, _NOISE_CHUNK // (width * 3))
            for r in range(0, len(flat), step):
                chunk = flat[r : r + step]
                chunk[...] = np.clip(rng.normal(0.0, _NOISE_SIGMA, size=chunk.shape), -128, 127)  # truncates
            self._noise[key] = bank
        return self._noise[key]

    def render(self, pose: Pose, width: int, height: int, seed: int = 0) -> Image:
        """The scene in ``pose`` as a ``width``×``height`` BGR frame; ``seed`` picks the camera noise."""
        return self.render_many(pose, width, height, (seed,))[0]

    def render_many(self, pose: Pose, width: int, height: int, seeds: tuple[int, ...]) -> list[Image]:
        """The same scene with different camera noise per seed (a burst): composed once, noised per frame.

        The noise is added with int8 saturation to the frame shifted by -128 (XOR 0x80 turns
        uint8 0..255 into int8 -128..127 and back): clip(pixel + noise, 0, 255) in one
        vectorised OpenCV add. Adding int8 noise to a uint8 frame directly is several times
        slower (OpenCV widens mixed types to int16 and back).
        """
        img = self._room(width, height).copy()
        if pose.phase != "empty":
            self._compose(img, pose, width, height)
        bank = self._noise_bank(width, height)
        signed = np.bitwise_xor(img, 0x80, out=img).view(np.int8)
        out = []
        for seed in seeds:
            frame = np.asarray(cv2.add(signed, bank[seed % _NOISE_FRAMES]), dtype=np.int8).view(np.uint8)
            out.append(np.bitwise_xor(frame, 0x80, out=frame))
        return out

    def _compose(self, img: Image, pose: Pose, width: int, height: int) -> None:
        """Blend the garment sprite, shifted down by how far it is lowered, blurred while moving."""
        c = _Canvas(width, height)
        sprite = self._sprite(pose.garment, width, height)
        h, w = sprite.alpha.shape
        x0, y0, x1, y1 = sprite.x, sprite.y, sprite.x + w, sprite.y + h
        shift = round((1.0 - pose.lift) * _TRAVEL * c.s)
        rows = height - shift  # sprite rows in view
        blur = round(pose.speed * c.s / 30.0)  # ~1/30 s exposure: the garment smears, the room does not
        # The smear (vertical only) reaches ``blur`` rows beyond the sprite; a margin of zero rows
        # that wide keeps the filter's border handling, so the crop gives the same pixels.
        margin = blur if blur >= 2 else 0
        r0, r1 = max(0, y0 - margin), min(rows, y1 + margin)
        if r0 >= r1 or x0 >= x1:
            return
        p, a = sprite.rows(r0, r1)
        if blur >= 2:
            kernel = np.full((blur, 1), 1.0 / blur, np.float32)
            p = np.asarray(cv2.filter2D(p, -1, kernel), dtype=np.float32)
            a = np.asarray(cv2.filter2D(a, -1, kernel), dtype=np.float32)
        view = img[shift + r0 : shift + r1, x0:x1]
        blended = view.astype(np.float32)
        blended *= (1.0 - a)[..., None]
        blended += p
        view[...] = np.clip(blended, 0, 255, out=blended)  # the assignment truncates, as astype did


_DEFAULT = Renderer()


def render(pose: Pose, width: int, height: int, seed: int = 0) -> Image:
    """The scene in ``pose`` as a ``width``×``height`` BGR frame (shared cache); ``seed`` picks the noise."""
    return _DEFAULT.render(pose, width, height, seed)
