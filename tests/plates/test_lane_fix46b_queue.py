"""A queue seen together from the first frame whose plates are one character apart: the car at the
barrier and the one behind it are two cars, decided car by car, not rivals that block each other."""

from __future__ import annotations

from plates.lane import LaneVoter
from plates.reading import Reading
from tests.lane_helpers import AT_BARRIER, BEHIND

BLUE, GREEN = "浙AD1234", "浙AD12345"  # a blue standard plate and a green new-energy one
FLEET, NEXT = "皖A12345", "皖A12346"  # fleet cars with consecutive numbers
NEAR_BARRIER = (610, 405, 120, 40)  # overlaps AT_BARRIER: where the same plate is


def _read(text: str, box: tuple[int, int, int, int], conf: float = 0.99) -> Reading:
    return Reading(text, "green" if len(text) == 8 else "blue", conf, box)


def _every(start: float, end: float, readings: list[Reading]) -> list[tuple[float, list[Reading]]]:
    return [(round(start + i * 0.1, 2), readings) for i in range(round((end - start) / 0.1))]


def _decisions(voter: LaneVoter, frames: list[tuple[float, list[Reading]]]) -> list[tuple[float, str]]:
    return [(t, d.text) for t, readings in frames if (d := voter.add(readings, now=t)) is not None]


def test_a_queue_seen_together_whose_plates_differ_by_an_added_character_is_decided() -> None:
    """A blue 浙AD1234 stops at the barrier with a green 浙AD12345 queued nose to tail behind it, both
    plates read clearly (0.99) on every frame from the first. The barrier stayed shut for 20 s: the
    two plates blocked each other as 'rivals' although they are read in separate places. The car
    at the barrier is decided on the first frame, the one behind on the next (docs/plates.md: a
    queue seen together from the first frame is decided car by car), as before edit distance 1."""
    voter = LaneVoter(repeat_after_s=60.0)
    frames = _every(0.0, 20.0, [_read(BLUE, AT_BARRIER), _read(GREEN, BEHIND)])
    assert _decisions(voter, frames) == [(0.0, BLUE), (0.1, GREEN)]


def test_a_fleet_pair_queued_together_is_decided_car_by_car() -> None:
    """The same for fleet cars with consecutive numbers (one character changed), which blocked each
    other so before edit distance 1 too."""
    voter = LaneVoter(repeat_after_s=60.0)
    frames = _every(0.0, 20.0, [_read(FLEET, AT_BARRIER), _read(NEXT, BEHIND)])
    assert _decisions(voter, frames) == [(0.0, FLEET), (0.1, NEXT)]


def test_weak_readings_of_the_car_behind_still_count_once_the_car_in_front_is_decided() -> None:
    """The queued car is far and read at 0.4 a frame: its readings from the frames it was seen
    beside the car at the barrier are its own, not that car's misreads dropped with its decision."""
    voter = LaneVoter(repeat_after_s=60.0)
    frames = _every(0.0, 5.0, [_read(FLEET, AT_BARRIER), _read(NEXT, BEHIND, 0.4)])
    assert _decisions(voter, frames) == [(0.0, FLEET), (0.2, NEXT)]


def test_the_queued_car_one_character_off_is_decided_again_when_it_reaches_the_loop() -> None:
    """The car at the barrier is let in and drives off at 3 s; the green car, decided while it
    queued, rolls onto the loop at 4 s and is decided again there."""
    voter = LaneVoter()
    queue = _every(0.0, 3.0, [_read(BLUE, AT_BARRIER), _read(GREEN, BEHIND)])
    queue += _every(3.0, 4.0, [_read(GREEN, AT_BARRIER)])
    assert _decisions(voter, queue) == [(0.0, BLUE), (0.1, GREEN)]
    voter.rearm(now=4.0)
    assert _decisions(voter, _every(4.0, 6.0, [_read(GREEN, AT_BARRIER)])) == [(4.0, GREEN)]


def test_two_readings_of_one_plate_in_a_frame_are_still_rivals() -> None:
    """One green plate read twice in a frame where it is (boxes that overlap), once without its
    8th character: that is the car misread, never a second car."""
    voter = LaneVoter(repeat_after_s=60.0)
    frames = _every(0.0, 5.0, [_read(GREEN, AT_BARRIER), _read(BLUE, NEAR_BARRIER, 0.4)])
    assert _decisions(voter, frames) == [(0.0, GREEN)]
    tie = _every(0.0, 5.0, [_read(GREEN, AT_BARRIER), _read(BLUE, NEAR_BARRIER)])
    assert _decisions(LaneVoter(), tie) == []
