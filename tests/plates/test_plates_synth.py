"""The generator renders every format and colour the recognizer must read."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from PIL import ImageFont

from plates.fonts import chinese_face, cjk_fonts, latin_fonts
from plates.grammar import SLOTS, is_plate
from plates.rectify import stitch_rows, to_input
from plates.synth.augment import camera_crop
from plates.synth.render import glyph_ink, render_plate
from plates.synth.texts import _MIX, random_spec, text_for


def test_fonts_are_found() -> None:
    assert cjk_fonts() and latin_fonts()


def test_font_collections_draw_the_mainland_forms() -> None:
    # Noto Sans CJK's collection (scripts/system-deps installs it) starts with its Japanese face,
    # which draws 沪 with the Japanese 戸 on top; plates carry the mainland's 户.
    noto = next(Path("/usr/share/fonts").rglob("NotoSansCJK-Regular.ttc"), None)
    assert noto, "install fonts-noto-cjk (scripts/system-deps does)"
    face = chinese_face(noto)
    assert ImageFont.truetype(str(noto), 12, index=face).getname()[0] == "Noto Sans CJK SC"
    drawn = glyph_ink("沪", noto)
    assert np.array_equal(drawn, glyph_ink("沪", noto, face=face))
    japanese = glyph_ink("沪", noto, face=0)
    assert drawn.shape != japanese.shape or not np.array_equal(drawn, japanese)
    wqy = next(Path("/usr/share/fonts").rglob("wqy-zenhei.ttc"), None)
    assert wqy, "install fonts-wqy-zenhei (scripts/system-deps does)"
    assert chinese_face(wqy) == 0  # a collection with no Simplified Chinese face: its first


@pytest.mark.parametrize(("fmt", "colour", "rows"), [(m[0], m[1], m[2]) for m in _MIX])
def test_every_kind_renders(fmt: str, colour: str, rows: int) -> None:
    rng = random.Random(0)
    text = text_for(fmt, rng)
    plate = render_plate(text, colour, rows, fmt, rng)
    h, w = plate.shape[:2]
    assert 1.8 < w / h < 3.6 and plate.dtype == np.uint8
    assert plate.std() > 20  # characters were drawn, not just a flat background
    crop = camera_crop(plate, rows, rng)
    assert to_input(crop).shape == (32, 96, 3)


def test_random_specs_are_plates() -> None:
    rng = random.Random(1)
    specs = [random_spec(rng) for _ in range(500)]
    assert all(is_plate(s.text) for s in specs)
    assert {s.colour for s in specs} == {"blue", "yellow", "green", "white", "black"}
    assert {s.rows for s in specs} == {1, 2}
    assert {s.fmt for s in specs} == set(SLOTS)


def test_stitched_two_row_plate_is_one_wide_row() -> None:
    plate = render_plate("鲁C2Z8B0", "yellow", 2, "standard", random.Random(0))
    row = stitch_rows(plate)
    assert row.shape[1] / row.shape[0] > 3.0
