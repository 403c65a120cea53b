"""The lane: one decision per passage, re-armed for a car that stops or comes back."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import pytest

from plates.lane import LaneVoter
from plates.reading import Reading
from plates.recognizer import Recognizer
from plates.synth.scene import render_scene
from plates.synth.texts import PlateSpec

IN_LANE = (600, 400, 120, 40)
OUTSIDE = (50, 50, 120, 40)


def r(text: str, conf: float, box: tuple[int, int, int, int] = IN_LANE) -> Reading:
    return Reading(text, "blue", conf, box)


def decisions(voter: LaneVoter, frames: list[tuple[float, list[Reading]]]) -> list[str]:
    out = []
    for t, readings in frames:
        d = voter.add(readings, now=t)
        if d is not None:
            out.append(d.text)
    return out


def test_one_clear_frame_decides_at_once_and_only_once() -> None:
    frames = [(0.1 * i, [r("皖A12345", 0.99)]) for i in range(30)]
    assert decisions(LaneVoter(), frames) == ["皖A12345"]


def test_a_reading_under_the_single_frame_threshold_waits_for_a_second() -> None:
    voter = LaneVoter()
    assert voter.add([r("皖A12345", 0.97)], now=0.0) is None
    d = voter.add([r("皖A12345", 0.97)], now=0.1)
    assert d is not None and d.frames == 2


def test_weak_readings_add_up() -> None:
    voter = LaneVoter()
    assert voter.add([r("皖A12345", 0.4)], now=0.0) is None
    assert voter.add([r("皖A12345", 0.4)], now=0.1) is None
    d = voter.add([r("皖A12345", 0.4)], now=0.2)
    assert d is not None and d.text == "皖A12345" and d.frames == 3


def test_disagreeing_readings_wait_for_a_clear_lead() -> None:
    voter = LaneVoter()
    assert voter.add([r("皖A12345", 0.6)], now=0.0) is None
    assert voter.add([r("皖A1234S", 0.55)], now=0.1) is None  # 0.6 against 0.55: no lead
    d = voter.add([r("皖A12345", 0.7)], now=0.2)  # 1.3 against 0.55: a lead of 0.75
    assert d is not None and (d.text, d.frames) == ("皖A12345", 2)


def test_a_tie_never_decides() -> None:
    frames = [(0.1 * i, [r("皖A12345" if i % 2 else "皖A1234S", 0.6)]) for i in range(30)]
    assert decisions(LaneVoter(), frames) == []


def test_readings_outside_the_lane_are_ignored() -> None:
    voter = LaneVoter(roi=(400, 300, 500, 300))
    frames = [(0.1 * i, [r("京B99999", 0.99, OUTSIDE)]) for i in range(20)]
    assert decisions(voter, frames) == []
    polygon = [(400, 300), (900, 300), (900, 600), (400, 600)]
    assert decisions(LaneVoter(roi=polygon), frames) == []
    assert decisions(LaneVoter(roi=polygon), [(0.0, [r("京B99999", 0.99)])]) == ["京B99999"]


def test_car_stopped_at_the_barrier_is_decided_again() -> None:
    voter = LaneVoter(repeat_after_s=10.0)
    frames = [(0.5 * i, [r("皖A12345", 0.99)]) for i in range(45)]  # 22 s standing in view
    assert decisions(voter, frames) == ["皖A12345", "皖A12345", "皖A12345"]


def test_the_loop_rearms_a_car_standing_at_the_barrier_but_not_one_just_decided() -> None:
    voter = LaneVoter()
    assert decisions(voter, [(0.1 * i, [r("皖A12345", 0.99)]) for i in range(10)]) == ["皖A12345"]
    voter.rearm(now=1.0)  # the car drives onto the loop a second after it was decided
    standing = [(1.0 + 0.1 * i, [r("皖A12345", 0.99)]) for i in range(40)]  # and stands in view
    assert decisions(voter, standing) == []
    voter.rearm(now=5.0)  # the loop says a car has arrived (it backed off and came on again)
    assert decisions(voter, [(5.0 + 0.1 * i, [r("皖A12345", 0.99)]) for i in range(10)]) == ["皖A12345"]


def test_car_that_leaves_and_comes_back_is_decided_again() -> None:
    voter = LaneVoter(gone_after_s=3.0)
    first = [(0.1 * i, [r("皖A12345", 0.99)]) for i in range(10)]
    # 5 s with nothing in the lane
    gap: list[tuple[float, list[Reading]]] = [(1.0 + 0.5 * i, []) for i in range(10)]
    back = [(7.0 + 0.1 * i, [r("皖A12345", 0.99)]) for i in range(10)]
    assert decisions(voter, first + gap + back) == ["皖A12345", "皖A12345"]


def test_next_car_is_decided_while_the_first_is_held() -> None:
    voter = LaneVoter()
    frames = [
        (0.0, [r("皖A12345", 0.99)]),
        (0.1, [r("皖A12345", 0.99)]),
        (0.2, [r("沪C55555", 0.99)]),
        (0.3, [r("沪C55555", 0.99)]),
    ]
    assert decisions(voter, frames) == ["皖A12345", "沪C55555"]


@pytest.mark.parametrize("n_noise", [0, 3])
def test_recorded_frames_open_the_gate_once(tmp_path: Path, recognizer: Recognizer, n_noise: int) -> None:
    """A car approaching: frames rendered, written to disk, read back, recognized, voted."""
    spec = PlateSpec("皖A7K258", "blue", 1, "standard")
    rng = random.Random(4)
    for i in range(12):
        # The plate grows as the car approaches the camera.
        frame, _, _, _ = render_scene(
            rng, 1280, 720, spec=spec, plate_w=110 + 10 * i, centre=(640, 360 + 8 * i)
        )
        cv2.imwrite(str(tmp_path / f"frame_{i:03d}.jpg"), frame)
    for i in range(n_noise):  # a parked car outside the lane, seen the whole time
        frame, _, _, _ = render_scene(
            rng, 1280, 720, spec=PlateSpec("京B99999", "blue", 1, "standard"), plate_w=150, centre=(150, 150)
        )
        cv2.imwrite(str(tmp_path / f"parked_{i:03d}.jpg"), frame)
    voter = LaneVoter(roi=(300, 250, 700, 470))
    decided = []
    for n, path in enumerate(sorted(tmp_path.glob("*.jpg"))):
        recorded = cv2.imread(str(path))
        assert recorded is not None
        readings = recognizer.read_frame(recorded)
        d = voter.add(readings, now=0.1 * n)
        if d is not None:
            decided.append(d.text)
    assert decided == ["皖A7K258"]


def test_a_misread_of_the_held_plate_is_not_a_new_car() -> None:
    frames = [
        (0.0, [r("皖A12345", 0.99)]),
        (0.1, [r("皖A1234S", 0.99)]),
        (0.2, [r("皖A12345", 0.99)]),
        (0.3, [r("沪C55555", 0.99)]),
    ]
    assert decisions(LaneVoter(), frames) == ["皖A12345", "沪C55555"]


def test_a_plate_decided_elsewhere_is_held_until_the_car_has_gone() -> None:
    # A guard typed the plate the camera could not read; a moment later the camera reads it.
    voter = LaneVoter()
    voter.hold("皖A12345", now=0.0)
    still_there = [(0.1 * i, [r("皖A12345", 0.99)]) for i in range(1, 20)]
    assert decisions(voter, still_there) == []
    misread = [(2.0, [r("皖A1234S", 0.99)])]  # one character off: the same car
    assert decisions(voter, misread) == []
    # It leaves (not seen for gone_after_s) and comes back: a new passage.
    assert decisions(voter, [(6.0, []), (6.1, [r("皖A12345", 0.99)])]) == ["皖A12345"]


def test_misreads_left_in_the_window_are_not_decided_as_a_second_car() -> None:
    """The last glyph read as 8 and B in turn: once 皖A12348 leads, it is decided, and the
    皖A1234B readings still in the window (summed over the threshold) are the same car, not a
    next one. On a lane matching look-alikes they would admit the same car twice."""
    seq = ["皖A12348", "皖A1234B", "皖A12348", "皖A1234B", "皖A12348", "皖A12348", "皖A12348", None]
    frames = [(0.1 * i, [r(text, 0.5)] if text else []) for i, text in enumerate(seq)]
    assert decisions(LaneVoter(), frames) == ["皖A12348"]
    one_off = [(0.0, [r("皖A12345", 0.9)]), (0.1, [r("皖A12346", 0.99)])]
    one_off += [(0.2, [r("皖A12345", 0.9)]), (0.3, [r("皖A12345", 0.9)]), (0.4, []), (0.5, [])]
    assert decisions(LaneVoter(), one_off) == ["皖A12345"]


def test_a_car_seen_again_only_after_it_left_is_decided_again() -> None:
    """A caller that feeds only frames with readings (a recorded sequence, a camera that was
    stale while the car was away): the gap itself says the car left."""
    frames = [(0.0, [r("皖A12345", 0.99)]), (8.0, [r("皖A12345", 0.99)])]
    assert decisions(LaneVoter(), frames) == ["皖A12345", "皖A12345"]
