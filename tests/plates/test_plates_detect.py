"""Detection in full frames: plates in paint of their own hue, level shapes only, several cars."""

from __future__ import annotations

import random

import numpy as np
import pytest
from plate_images import clean_crop

from plates.detect import find_candidates, tighten
from plates.recognizer import Recognizer
from plates.rectify import paste_into_quad
from plates.synth.render import render_plate
from plates.synth.scene import render_scene
from plates.synth.texts import PlateSpec

BLUE = PlateSpec("皖A6H268", "blue", 1, "standard")


def _on_dark_blue_car(spec: PlateSpec) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A blue plate on a dark blue car: a colour mask runs the plate into the paint."""
    frame = np.zeros((300, 600, 3), np.uint8)
    frame[:] = (95, 35, 10)  # dark blue paint, the plate's hue
    plate = render_plate(spec.text, spec.colour, spec.rows, spec.fmt, random.Random(3), px_per_mm=0.4)
    h, w = plate.shape[:2]
    x, y = 220, 130
    frame[y : y + h, x : x + w] = plate
    return frame, (x, y, w, h)


def _seen_at_an_angle(spec: PlateSpec, seed: int,
                     paint: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A plate whose left edge is half as tall as its right one (the car turned away from the
    camera), framed loosely on the car's paint; and its corners, tl tr br bl."""
    plate = render_plate(spec.text, spec.colour, spec.rows, spec.fmt, random.Random(seed))
    h, w = plate.shape[:2]
    py, px = int(h * 0.6), int(w * 0.25)
    crop = np.empty((h + 2 * py, w + 2 * px, 3), np.uint8)
    crop[:] = paint
    corners = np.float32([[px, py + h / 4], [px + w, py], [px + w, py + h], [px, py + h * 3 / 4]])
    paste_into_quad(crop, plate, corners)
    return crop, corners


# Before the detector followed a slanted plate's edges, it framed each of these with a rectangle
# or a skewed quad, a corner off by 0.16-0.31 of the plate's height, and the crop read with a
# wrong province.
SLANTED = [
    (PlateSpec("湘CK426E", "blue", 1, "standard"), 1, (140, 140, 140)),
    (PlateSpec("湘CJ3645", "blue", 1, "standard"), 33, (140, 140, 140)),
    (PlateSpec("鄂Z89675", "blue", 1, "standard"), 90, (20, 20, 20)),
]


@pytest.mark.parametrize(("spec", "seed", "paint"), SLANTED, ids=[c[0].text for c in SLANTED])
def test_a_plate_seen_at_an_angle_is_framed_by_its_own_corners(
    recognizer: Recognizer, spec: PlateSpec, seed: int, paint: tuple[int, int, int]
) -> None:
    crop, corners = _seen_at_an_angle(spec, seed, paint)
    height = corners[2, 1] - corners[1, 1]
    quads = [c.quad for c in find_candidates(crop, limit=3, max_share=1.0)]
    assert min(float(np.abs(q - corners).max()) for q in quads) <= 0.1 * height
    reading = recognizer.read_crop(crop)
    assert reading is not None and reading.text == spec.text


def test_tighten_trims_a_loose_box_to_the_plate() -> None:
    frame, (x, y, w, h) = _on_dark_blue_car(BLUE)
    loose = (x - 60, y - 8, w + 120, h + 16)  # an edge region that took in bumper and paint
    bx, by, bw, bh = tighten(frame, loose) or (0, 0, 0, 0)
    assert abs(bx - x) <= 0.08 * w and abs(bw - w) <= 0.12 * w
    assert abs(by - y) <= 0.25 * h and abs(bh - h) <= 0.35 * h


def test_tighten_leaves_white_and_black_plates_alone() -> None:
    white = clean_crop(PlateSpec("浙A1234警", "white", 1, "police"), seed=1)
    h, w = white.shape[:2]
    assert tighten(white, (0, 0, w, h)) is None


def test_a_plate_on_a_car_of_its_own_colour_is_read(recognizer: Recognizer) -> None:
    frame, _ = _on_dark_blue_car(BLUE)
    assert [r.text for r in recognizer.read_frame(frame)][:1] == [BLUE.text]


def test_upright_bars_are_not_plates() -> None:
    frame = np.full((400, 600, 3), 128, np.uint8)
    frame[100:300, 100:150] = (190, 70, 15)  # plate blue, but standing: a pillar, a sign post
    boxes = [c.box for c in find_candidates(frame)]
    assert all(w >= h for _, _, w, h in boxes)


def test_two_cars_in_one_frame_are_both_read(recognizer: Recognizer) -> None:
    left_spec = PlateSpec("皖A7K258", "blue", 1, "standard")
    right_spec = PlateSpec("鲁C2Z8B0", "yellow", 2, "standard")
    left, *_ = render_scene(random.Random(4), 640, 720, spec=left_spec, plate_w=150)
    right, *_ = render_scene(random.Random(5), 640, 720, spec=right_spec, plate_w=130)
    readings = recognizer.read_frame(np.hstack([left, right]))
    assert {r.text for r in readings} >= {left_spec.text, right_spec.text}
    two_row = next(r for r in readings if r.text == right_spec.text)
    assert two_row.rows == 2 and two_row.box[0] >= 640


def _faded_green_plate_on_silver_car(spec: PlateSpec) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A new-energy plate whose upper part has faded to near white, as the real gradient plates
    look in sun: only its lower part is green enough for a colour mask."""
    frame = np.full((300, 600, 3), (172, 170, 168), np.uint8)  # silver paint
    plate = render_plate(spec.text, spec.colour, spec.rows, spec.fmt, random.Random(3),
                         px_per_mm=0.4).astype(np.float32)
    h, w = plate.shape[:2]
    fade = np.clip(1.5 - np.arange(h) / (0.5 * h), 0.0, 1.0)[:, None, None] * 0.98
    paper = plate.min(axis=2, keepdims=True) > 60  # the plate's ground, not the black ink
    plate = np.where(paper, plate * (1 - fade) + 245 * fade, plate)
    x, y = 200, 120
    frame[y : y + h, x : x + w] = plate.astype(np.uint8)
    return frame, (x, y, w, h)


def test_a_green_plate_faded_white_at_the_top_is_read_whole(recognizer: Recognizer) -> None:
    spec = PlateSpec("皖AD11166", "green", 1, "new_energy_small")
    frame, (x, y, w, h) = _faded_green_plate_on_silver_car(spec)
    greens = [c.box for c in find_candidates(frame) if c.source == "green"]
    assert greens and all(by > y + 0.3 * h for _, by, _, _ in greens)  # the mask saw the bottom
    readings = recognizer.read_frame(frame)
    assert [r.text for r in readings][:1] == [spec.text]
    bx, by, bw, bh = readings[0].box
    assert by <= y + 0.15 * h  # the reading's box reaches the plate's faded top


def test_two_row_plates_are_read_whole_where_their_bottom_row_looks_like_a_plate(
        recognizer: Recognizer) -> None:
    # The big glyphs of a two-row plate's bottom row make the densest edge region, a one-row
    # shape: it used to crowd out the whole plate's blob, or to be trimmed to itself alone.
    # These scenes were each missed that way.
    spec = PlateSpec("京Y325S8", "yellow", 2, "standard")
    for seed in (1, 8, 27, 33, 37, 39):
        frame, *_ = render_scene(random.Random(seed), 1280, 720, spec=spec, plate_w=200)
        readings = recognizer.read_frame(frame)
        assert [(r.text, r.rows) for r in readings][:1] == [(spec.text, 2)], seed


def test_a_two_row_plate_on_paint_of_its_own_hue_is_trimmed_with_its_top_row() -> None:
    frame = np.full((360, 640, 3), 128, np.uint8)
    frame[60:330, 60:580] = (110, 190, 200)  # khaki: the yellow mask runs plate and car together
    plate = render_plate("辽H1468T", "yellow", 2, "standard", random.Random(0), px_per_mm=0.45)
    h, w = plate.shape[:2]
    x, y = 240, 200
    frame[y : y + h, x : x + w] = plate
    bottom_row = (x, y + int(0.42 * h), w, int(0.5 * h))  # what the edge mask finds
    bx, by, bw, bh = tighten(frame, bottom_row) or (0, 0, 0, 0)
    assert by <= y + 0.1 * h and bh >= 0.85 * h  # the top row is in


def test_a_large_new_energy_plate_is_read_with_its_yellow_part(recognizer: Recognizer) -> None:
    # Province and letter stand on the yellow left part, which the green mask does not see.
    spec = PlateSpec("青Y45314F", "green", 1, "new_energy_large")
    frame = np.full((360, 640, 3), (170, 85, 85), np.uint8)  # a blue-violet car
    plate = render_plate(spec.text, spec.colour, spec.rows, spec.fmt, random.Random(0), px_per_mm=0.45)
    h, w = plate.shape[:2]
    x, y = 200, 180
    frame[y : y + h, x : x + w] = plate
    greens = [c.box for c in find_candidates(frame) if c.source == "green"]
    assert greens and all(gx > x + 0.2 * w for gx, _, _, _ in greens)  # the mask saw the green part
    readings = recognizer.read_frame(frame)
    assert [r.text for r in readings][:1] == [spec.text]
    assert readings[0].box[0] <= x + 0.05 * w
