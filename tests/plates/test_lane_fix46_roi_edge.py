"""A car at the barrier whose plate's centre is inside the lane's region, its plate crossing the
region's edge (stopped a little to one side)."""

from __future__ import annotations

import random
import time

import pytest

from drivers.cameras.frame import Frame
from gateway.runtime.plate_reading import PlateReader, search_region
from plates.recognizer import Recognizer
from plates.synth.scene import render_scene
from plates.synth.texts import PlateSpec

PLATE = "皖A7K258"
# The lane as an installer draws it (docs/config.md `roi`): x 400..900, y 250..700.
LANE = [(400, 250), (900, 250), (900, 700), (400, 700)]


def test_a_plate_whose_centre_is_in_the_lane_is_read_though_it_crosses_the_lanes_edge(
    recognizer: Recognizer,
) -> None:
    """The car stopped at the barrier a little to the right: its plate's centre is 30 px inside the
    lane, its right end over the lane's line. Only plates whose centre is outside the region are
    ignored (docs/plates.md, LaneVoter rules; docs/config.md `roi`), so it is read and presented."""
    spec = PlateSpec(PLATE, "blue", 1, "standard")
    image, _, _, _ = render_scene(random.Random(2), 1280, 720, spec=spec, plate_w=160, centre=(870, 450))
    whole = recognizer.read_frame(image)
    assert [r.text for r in whole] == [PLATE]  # the frame shows the plate clearly
    bx, by, bw, bh = whole[0].box
    assert 400 < bx + bw / 2 < 900 and 250 < by + bh / 2 < 700  # its centre is in the lane
    reader = PlateReader(LANE, recognizer)
    presented = []
    for seq in range(1, 4):  # the car stands there, frame after frame
        presented += reader(Frame(image, seq, time.monotonic(), time.time()))
    assert [value for _, value, _ in presented] == [PLATE], f"the car is never read: {presented}"


def test_a_plate_whose_centre_is_outside_the_lane_is_still_ignored(recognizer: Recognizer) -> None:
    """The search reaches past the lane's line, the rule does not: a car standing beside the lane,
    its plate's centre 40 px outside it, is read there but never presented."""
    spec = PlateSpec(PLATE, "blue", 1, "standard")
    image, _, _, _ = render_scene(random.Random(2), 1280, 720, spec=spec, plate_w=160, centre=(940, 450))
    assert [r.text for r in recognizer.read_frame(image, search_region(LANE, image.shape))] == [PLATE]
    reader = PlateReader(LANE, recognizer)
    presented = []
    for seq in range(1, 4):
        presented += reader(Frame(image, seq, time.monotonic(), time.time()))
    assert presented == []


@pytest.mark.parametrize(
    ("lane", "shape", "searched"),
    [
        (LANE, (720, 1280, 3), (240, 170, 820, 550)),  # grown 160 px sideways, 80 px up, to the frame's foot
        ([(0, 0), (1280, 0), (1280, 720), (0, 720)], (720, 1280, 3), (0, 0, 1280, 720)),
        ([(-50, 600), (2000, 600), (2000, 900)], (720, 1280, 3), (0, 520, 1280, 200)),  # drawn past the frame
        ([(300, 200), (600, 200), (600, 400)], (1080, 1920, 3), (60, 80, 780, 440)),  # 1080p: 240 and 120 px
    ],
)
def test_the_search_is_the_lanes_rectangle_grown_by_a_plates_reach_within_the_frame(
    lane: list[tuple[int, int]], shape: tuple[int, int, int], searched: tuple[int, int, int, int]
) -> None:
    assert search_region(lane, shape) == searched
