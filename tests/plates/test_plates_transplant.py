"""Province transplant (training augmentation): a new province drawn in, the rest untouched."""

from __future__ import annotations

import random

import numpy as np

from plates.decode import log_softmax
from plates.grammar import ALPHABET, PROVINCES
from plates.recognizer import Recognizer
from plates.synth.render import render_plate
from plates.train.transplant import GlyphBox, province_cell, second_char_centre, transplant

# Where the province sits on a flat one-row plate (cell 15.5-60.5 mm of 440, rows 25-115 of 140).
PROVINCE_CELL = GlyphBox(0.03, 0.145, 0.15, 0.85)


def test_transplant_draws_another_province_and_keeps_the_rest() -> None:
    plate = render_plate("皖A6H268", "blue", 1, "standard", random.Random(1), px_per_mm=0.5)
    out, text = transplant(plate, "皖A6H268", PROVINCE_CELL, random.Random(3))
    assert text[0] in PROVINCES and text[1:] == "A6H268"
    w = plate.shape[1]
    right = int(0.16 * w)
    assert np.array_equal(out[:, right:], plate[:, right:])
    assert np.abs(out[:, : right].astype(int) - plate[:, : right].astype(int)).mean() > 5


def test_transplanted_plate_reads_as_its_new_province(recognizer: Recognizer) -> None:
    plate = render_plate("皖A6H268", "blue", 1, "standard", random.Random(1), px_per_mm=0.5)
    hits = 0
    for seed in range(6):
        out, text = transplant(plate, "皖A6H268", PROVINCE_CELL, random.Random(seed))
        reading = recognizer.read_crop(np.pad(out, ((6, 6), (10, 10), (0, 0)), constant_values=110))
        hits += reading is not None and reading.text == text
    assert hits >= 4  # the new glyph, not the old one, is what the plate now says


def test_second_letter_is_placed_from_the_alignment() -> None:
    logits = np.full((24, len(ALPHABET) + 1), -5.0, np.float32)
    logits[:, 0] = 5.0  # blank everywhere...
    for t, ch in ((1, "皖"), (2, "皖"), (5, "A"), (9, "6"), (12, "H"), (15, "2"), (18, "6"), (21, "8")):
        logits[t, 0], logits[t, ALPHABET.index(ch) + 1] = -5.0, 5.0
    centre = second_char_centre(log_softmax(logits), "皖A6H268")
    assert centre is not None and 5 / 24 < centre < 6 / 24
    assert second_char_centre(log_softmax(logits), "浙A6H268") is None  # misread: no transplant


def test_province_cell_is_measured_from_the_letters() -> None:
    plate = render_plate("皖A6H268", "blue", 1, "standard", random.Random(1), px_per_mm=0.5)
    # The letter A's cell is 72.5-117.5 mm of the 440 mm plate; the alignment is a little off.
    cell = province_cell(plate, 97 / 440)
    assert cell is not None
    assert abs(cell.x0 - PROVINCE_CELL.x0) < 0.02 and abs(cell.x1 - PROVINCE_CELL.x1) < 0.02
    assert abs(cell.y0 - PROVINCE_CELL.y0) < 0.06 and abs(cell.y1 - PROVINCE_CELL.y1) < 0.06


def test_no_cell_when_the_province_is_cut_off() -> None:
    plate = render_plate("皖A6H268", "blue", 1, "standard", random.Random(1), px_per_mm=0.5)
    w = plate.shape[1]
    cut = plate[:, int(0.1 * w) :]  # the province glyph mostly outside the crop
    assert province_cell(cut, (95 / 440 - 0.1) / 0.9) is None


def test_transplant_draws_its_province_from_the_pool_it_is_given() -> None:
    plate = render_plate("皖A6H268", "blue", 1, "standard", random.Random(1), px_per_mm=0.5)
    drawn = {transplant(plate, "皖A6H268", PROVINCE_CELL, random.Random(seed), pool="豫苏")[1][0]
             for seed in range(12)}
    assert drawn == {"豫", "苏"}
