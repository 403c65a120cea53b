"""Draw a clean, flat plate (GA 36-2018 layout) from text, colour and row count.

Glyphs are rendered once per font with Pillow and stretched into the character cells, which is
how the narrow plate typeface looks; several fonts are mixed so the recognizer does not learn
one font's quirks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from plates.fonts import chinese_face, cjk_fonts, latin_fonts, latin_thin_fonts
from plates.grammar import DIGITS, LETTERS

# Background (BGR) and ink colours per plate colour.
_BG: dict[str, tuple[int, int, int]] = {
    "blue": (190, 70, 15),
    "yellow": (20, 185, 240),
    "white": (235, 235, 235),
    "black": (25, 25, 25),
    "green": (110, 200, 90),
}
_INK: dict[str, tuple[int, int, int]] = {
    "blue": (245, 245, 245),
    "yellow": (20, 20, 20),
    "white": (20, 20, 20),
    "black": (240, 240, 240),
    "green": (20, 20, 20),
}
_RED = (30, 30, 200)
_GLYPH_H = 96
# Extra stroke width for Chinese glyphs, in pixels of the 96-px glyph, drawn at random.
CJK_BOLD = (0, 3, 5, 7)


@dataclass(frozen=True, slots=True)
class Cell:
    x: float
    y: float
    w: float
    h: float


def _is_latin(ch: str) -> bool:
    return ch in LETTERS or ch in DIGITS


@cache
def glyph_ink(ch: str, font: Path, bold: int = 0, face: int | None = None) -> np.ndarray:
    """The ink of one character, cropped to its bounding box, as float32 in [0, 1].

    bold thickens the strokes by that many pixels (of the 96-px glyph): the plate typeface's
    Chinese characters are heavier than any system font's. face picks a face of a font
    collection; by default its Simplified Chinese one (chinese_face).
    """
    from PIL import Image, ImageDraw, ImageFont  # Pillow is only needed to render

    index = chinese_face(font) if face is None else face
    pil_font = ImageFont.truetype(str(font), _GLYPH_H, index=index)
    canvas = Image.new("L", (_GLYPH_H * 2, _GLYPH_H * 2), 0)
    ImageDraw.Draw(canvas).text((_GLYPH_H // 2, _GLYPH_H // 4), ch, fill=255, font=pil_font)
    ink = np.asarray(canvas, dtype=np.float32) / 255.0
    if bold:
        ink = np.asarray(cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (bold, bold))),
                         np.float32)
    ys, xs = np.nonzero(ink > 0.1)
    if len(xs) == 0:
        raise ValueError(f"font {font.name} has no glyph for {ch!r}")
    return ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def fonts_for(ch: str) -> list[Path]:
    return latin_fonts() if _is_latin(ch) else cjk_fonts()


def layout(n_chars: int, rows: int) -> tuple[tuple[float, float], list[Cell]]:
    """Plate size and character cells in millimetres."""
    if rows == 2:
        top = [Cell(110, 15, 80, 60), Cell(250, 15, 80, 60)]
        bottom = [Cell(27.5 + 80 * i, 90, 65, 110) for i in range(n_chars - 2)]
        return (440, 220), top + bottom
    if n_chars == 8:
        xs = [15.5 + 52 * i + (40 if i >= 2 else 0) for i in range(8)]
        return (480, 140), [Cell(x, 25, 43, 90) for x in xs]
    xs = [15.5 + 57 * i + (22 if i >= 2 else 0) for i in range(n_chars)]
    return (440, 140), [Cell(x, 25, 45, 90) for x in xs]


def _background(colour: str, fmt: str, w: int, h: int, rng: random.Random) -> np.ndarray:
    jitter = np.array([rng.randint(-25, 25) for _ in range(3)])
    base = np.clip(np.array(_BG[colour]) + jitter, 0, 255)
    img = np.empty((h, w, 3), np.float32)
    img[:] = base
    if colour == "green" and fmt == "new_energy_large":
        # Large new-energy plates: yellow left part, green right part.
        img[:, : int(w * 0.27)] = _BG["yellow"]
    elif colour == "green":
        # Small new-energy plates fade from near white to green.
        ramp = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
        if rng.random() < 0.2:
            ramp = ramp[::-1]
        light = np.array([235, 250, 235], np.float32)
        img = light * (1 - ramp) + img * ramp
    return img


def render_plate(
    text: str, colour: str, rows: int, fmt: str, rng: random.Random, px_per_mm: float = 0.5
) -> np.ndarray:
    """A flat BGR plate image, (220 x 70 px at the default 0.5 px/mm for one row)."""
    (wmm, hmm), cells = layout(len(text), rows)
    w, h = round(wmm * px_per_mm), round(hmm * px_per_mm)
    img = _background(colour, fmt, w, h, rng)
    ink = np.array(_INK[colour], np.float32) + rng.randint(-15, 15)
    border = rng.random() < 0.85
    if border:
        t = max(1, round(1.5 * px_per_mm))
        m = max(1, round(rng.uniform(2.0, 4.5) * px_per_mm))
        cv2.rectangle(img, (m, m), (w - 1 - m, h - 1 - m), ink.tolist(), t, cv2.LINE_AA)
    thin = rng.random() < (0.7 if colour == "green" else 0.1)
    latin = rng.choice(latin_thin_fonts() if thin else latin_fonts())
    cjk = rng.choice(cjk_fonts())
    xstretch = rng.uniform(0.75, 1.25)
    weight = 0 if thin else rng.choice((0, 0, 0, 1, 2))
    cjk_bold = 0 if thin else rng.choice(CJK_BOLD)
    for i, (ch, cell) in enumerate(zip(text, cells, strict=True)):
        glyph = glyph_ink(ch, latin) if _is_latin(ch) else glyph_ink(ch, cjk, cjk_bold)
        cw, ch_px = cell.w * px_per_mm, cell.h * px_per_mm
        gh = ch_px
        gw = min(cw, glyph.shape[1] * gh / glyph.shape[0] * xstretch)
        if not _is_latin(ch):
            gw = cw  # Chinese glyphs fill their cell
        gw_i, gh_i = max(1, round(gw)), max(1, round(gh))
        g = cv2.resize(glyph, (gw_i, gh_i), interpolation=cv2.INTER_AREA)
        if weight and gh_i > 20:
            g = cv2.dilate(g, np.ones((weight, weight), np.uint8))
        x0 = round(cell.x * px_per_mm + (cw - gw_i) / 2 + rng.uniform(-0.5, 0.5))
        y0 = round(cell.y * px_per_mm + rng.uniform(-0.5, 0.5))
        x0, y0 = max(0, min(x0, w - gw_i)), max(0, min(y0, h - gh_i))
        colour_ink = np.array(_RED, np.float32) if _red(ch, colour, i) else ink
        region = img[y0 : y0 + gh_i, x0 : x0 + gw_i]
        a = g[..., None]
        img[y0 : y0 + gh_i, x0 : x0 + gw_i] = region * (1 - a) + colour_ink * a
    if rows == 1 and len(text) < 8:  # new-energy plates have a gap, no dot
        # The separator dot between the issuing-office letter and the serial.
        gap_x = (cells[1].x + cells[1].w + cells[2].x) / 2 * px_per_mm
        r = max(1, round(5 * px_per_mm))
        cv2.circle(img, (round(gap_x), h // 2), r, ink.tolist(), -1, cv2.LINE_AA)
    return np.clip(img, 0, 255).astype(np.uint8)


def _red(ch: str, colour: str, index: int) -> bool:
    return (colour == "white" and ch == "警") or (colour == "black" and ch == "使" and index == 0)
