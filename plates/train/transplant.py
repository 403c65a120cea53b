"""Province transplant: real crops with their province glyph replaced by another province's.

The real training crops come from a few provinces (皖, 浙, 沪, 京 are 90 % of them), so on
real-looking plates the model learns those four and reads a rare province as one of them.
Rendered plates carry every province, but on a rendered background. Transplanting a rendered
glyph of a random province into a real crop shows every province in real surroundings.

Where the glyph is comes from the shipped model's own alignment: the columns in which it emits
the first character of a crop it reads right.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

import cv2
import numpy as np

from plates.decode import greedy, log_softmax
from plates.grammar import PROVINCES
from plates.rectify import INPUT_W, to_input

log = logging.getLogger(__name__)
_COLUMN = INPUT_W / 24  # input pixels per output column of the network


@dataclass(frozen=True, slots=True)
class GlyphBox:
    x0: float  # share of the crop's width
    x1: float
    y0: float  # share of the crop's height
    y1: float


def locate_provinces(images: list[np.ndarray], texts: list[str]) -> list[GlyphBox | None]:
    """Where each crop's province glyph is, for crops the shipped model reads right; None for
    the rest (no transplant is done on them)."""
    from plates.model import PlateModel

    model = PlateModel()
    boxes: list[GlyphBox | None] = []
    for start in range(0, len(images), 64):
        batch = images[start : start + 64]
        logits = model.logits([to_input(im) for im in batch])
        for lg, text in zip(logits, texts[start : start + 64], strict=True):
            boxes.append(_province_box(log_softmax(lg), text))
    found = sum(b is not None for b in boxes)
    log.info("province glyph located in %d of %d real crops", found, len(images))
    return boxes


def _province_box(logp: np.ndarray, text: str) -> GlyphBox | None:
    read, _ = greedy(logp)
    if read != text:
        return None
    best = logp.argmax(axis=1)
    cols = [t for t, k in enumerate(best) if k != 0]
    if len(cols) < 2:
        return None
    first = best[cols[0]]
    run = [t for t in cols if best[t] == first and t <= cols[0] + 3]
    nxt = next((t for t in cols if t > run[-1] and best[t] != first), None)
    if nxt is None:
        return None
    centre = (run[0] + run[-1] + 1) / 2 * _COLUMN
    pitch = (nxt + 0.5) * _COLUMN - centre
    half = 0.5 * pitch * 0.95
    if half < 3:
        return None
    x0, x1 = max(0.0, centre - half), min(INPUT_W, centre + half)
    return GlyphBox(x0 / INPUT_W, x1 / INPUT_W, 0.14, 0.86)


def transplant(img: np.ndarray, text: str, box: GlyphBox,
               rng: random.Random) -> tuple[np.ndarray, str]:
    """The crop with a random province drawn over its own, and the new text."""
    from plates.fonts import cjk_fonts
    from plates.synth.render import _glyph

    h, w = img.shape[:2]
    x0, x1 = round(box.x0 * w), round(box.x1 * w)
    y0, y1 = round(box.y0 * h), round(box.y1 * h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return img, text
    region = img[y0:y1, x0:x1].astype(np.float32)
    grey = region.mean(axis=2)
    ink = region[grey >= np.percentile(grey, 85)].mean(axis=0)
    paper = region[grey <= np.percentile(grey, 35)].mean(axis=0)
    province = rng.choice(PROVINCES)
    if float(ink.mean() - paper.mean()) < 40:  # too dark or washed out to tell ink from paper
        return img, text
    glyph = _glyph(province, rng.choice(cjk_fonts()), rng.choice((0, 2, 4)))
    gw, gh = x1 - x0, y1 - y0
    alpha = cv2.resize(glyph, (gw, gh), interpolation=cv2.INTER_AREA)
    sharp = max(0.4, min(2.0, w / 120))
    alpha = cv2.GaussianBlur(alpha, (0, 0), sharp * 0.4)[..., None]
    # Plain paper first (the old glyph gone), with the crop's own grain, then the new ink.
    grain = np.random.default_rng(rng.randint(0, 2**31)).normal(0, 4, region.shape)
    out = img.astype(np.float32)
    out[y0:y1, x0:x1] = (paper + grain) * (1 - alpha) + ink * alpha
    return np.clip(out, 0, 255).astype(np.uint8), province + text[1:]
