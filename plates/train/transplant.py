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
    """Where each crop's province glyph is, for crops the shipped model reads right and whose
    letters can be measured; None for the rest (no transplant is done on them)."""
    from plates.model import PlateModel

    model = PlateModel()
    boxes: list[GlyphBox | None] = []
    for start in range(0, len(images), 64):
        batch = images[start : start + 64]
        logits = model.logits([to_input(im) for im in batch])
        for img, lg, text in zip(batch, logits, texts[start : start + 64], strict=True):
            second = second_char_centre(log_softmax(lg), text)
            boxes.append(None if second is None else province_cell(img, second))
    found = sum(b is not None for b in boxes)
    log.info("province glyph located in %d of %d real crops", found, len(images))
    return boxes


def second_char_centre(logp: np.ndarray, text: str) -> float | None:
    """Where the model sees the second character (the letter after the province), as a share of
    the crop's width; None when the model misreads the crop."""
    read, _ = greedy(logp)
    if read != text:
        return None
    best = logp.argmax(axis=1)
    cols = [t for t, k in enumerate(best) if k != 0]
    if len(cols) < 2:
        return None
    first = best[cols[0]]
    nxt = [t for t in cols if t > cols[0] and best[t] != first]
    if not nxt:
        return None
    run = [t for t in nxt if best[t] == best[nxt[0]] and t <= nxt[0] + 2]
    return (run[0] + run[-1] + 1) / 2 * _COLUMN / INPUT_W


def province_cell(img: np.ndarray, second_centre: float) -> GlyphBox | None:
    """The province's cell, measured from the letters: the ink of the letter nearest to where the
    model saw the second character gives the character height and the row band; the province
    cell lies one pitch (45 + 12 mm of a 90 mm character) to its left, 45 mm wide."""
    h, w = img.shape[:2]
    white = cv2.GaussianBlur(img.min(axis=2), (3, 3), 0)
    _, ink = cv2.threshold(white, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    letters = [s for s in stats[1:n]
               if 0.35 * h <= s[3] <= 0.95 * h and s[2] <= 0.9 * s[3] and s[1] > 0 and s[1] + s[3] < h]
    if len(letters) < 3:
        return None
    tall = max(s[3] for s in letters)
    letters = [s for s in letters if s[3] >= 0.8 * tall]
    char_h = float(np.median([s[3] for s in letters]))
    top = float(np.median([s[1] for s in letters]))
    centre = second_centre * w
    second = min(letters, key=lambda s: abs(s[0] + s[2] / 2 - centre))
    second_x = second[0] + second[2] / 2
    if abs(second_x - centre) > 0.5 * char_h:
        return None  # the alignment and the ink disagree
    cx = second_x - 57 / 90 * char_h
    half = 22.5 / 90 * char_h
    if cx - half < -0.05 * char_h:
        return None  # the province is cut off by the crop's edge
    # The glyph's own ink, where it reaches past the nominal cell, widens the cell (on the left
    # by a tenth of a character at most: the plate's frame line is not far beyond).
    band = ink[int(top) : int(top + char_h)]
    inked = band.sum(axis=0) >= max(1.0, 0.1 * char_h)
    x0 = _ink_edge(inked, max(0, round(cx - half)), -1, max(0, round(cx - half - 0.1 * char_h)), char_h)
    x1 = _ink_edge(inked, round(cx + half), 1, second[0] - 1, char_h)
    before = inked[max(0, round(x0 - 0.4 * char_h)) : max(0, round(x0 - 0.12 * char_h))]
    if before.size and before.mean() > 0.4:
        return None  # more glyph to the left: the letter taken for the second is the third
    return GlyphBox(x0 / w, (x1 + 1) / w, top / h, (top + char_h) / h)


def _ink_edge(inked: np.ndarray, start: int, step: int, limit: int, char_h: float) -> int:
    """From the cell's edge outwards: the last inked column before a gap wider than a stroke's
    spacing, going no further than limit."""
    gap_max = max(1, round(0.08 * char_h))
    edge, gap, x = start, 0, start + step
    while (x - limit) * step <= 0 and 0 <= x < len(inked):
        if inked[x]:
            edge, gap = x, 0
        else:
            gap += 1
            if gap > gap_max:
                break
        x += step
    return edge


def transplant(img: np.ndarray, text: str, box: GlyphBox, rng: random.Random,
               pool: str = PROVINCES) -> tuple[np.ndarray, str]:
    """The crop with a province drawn from pool drawn over its own, and the new text."""
    from plates.fonts import cjk_fonts
    from plates.synth.render import CJK_BOLD, glyph_ink

    h, w = img.shape[:2]
    x0, x1 = round(box.x0 * w), round(box.x1 * w)
    y0, y1 = round(box.y0 * h), round(box.y1 * h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return img, text
    # The old glyph is wiped a little beyond its cell (its blur), but not into the next letter.
    pad_x, pad_y = max(1, (y1 - y0) // 20), max(1, (y1 - y0) // 12)
    ex0, ex1 = max(0, x0 - pad_x), min(w, x1 + pad_x)
    ey0, ey1 = max(0, y0 - pad_y), min(h, y1 + pad_y)
    region = img[ey0:ey1, ex0:ex1].astype(np.float32)
    grey = region.mean(axis=2)
    ink = region[grey >= np.percentile(grey, 90)].mean(axis=0)
    paper = region[grey <= np.percentile(grey, 40)].mean(axis=0)
    if float(ink.mean() - paper.mean()) < 40:  # too dark or washed out to tell ink from paper
        return img, text
    province = rng.choice(pool)
    glyph = glyph_ink(province, rng.choice(cjk_fonts()), rng.choice(CJK_BOLD))
    alpha = np.zeros(region.shape[:2], np.float32)
    alpha[y0 - ey0 : y1 - ey0, x0 - ex0 : x1 - ex0] = cv2.resize(
        glyph, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    blur = rng.uniform(0.25, 0.6) * max(1.0, (y1 - y0) / 16)  # the camera's blur, to scale
    soft = cv2.GaussianBlur(alpha, (0, 0), blur)[..., None]
    # Plain paper first (the old glyph gone), with the crop's own grain, then the new ink.
    grain = np.random.default_rng(rng.randint(0, 2**31)).normal(0, 4, region.shape)
    out = img.astype(np.float32)
    out[ey0:ey1, ex0:ex1] = (paper + grain) * (1 - soft) + ink * soft
    return np.clip(out, 0, 255).astype(np.uint8), province + text[1:]
