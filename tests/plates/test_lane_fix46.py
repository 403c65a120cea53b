"""The lane voter, as a car stands at the barrier or drives away: a green plate whose 8th character
flickers is one car, and no plate is decided on frames after the car has left."""

from __future__ import annotations

import pytest

from plates.lane import LaneVoter
from plates.reading import Reading
from tests.lane_helpers import AT_BARRIER, Lane

GREEN = "浙K43880G"
DROPPED = "浙K43880"  # the same plate, its 8th character dropped: a valid 7-character plate
P, MISREAD = "皖A12345", "皖A1234S"


def _green(text: str) -> Reading:
    return Reading(text, "green", 0.99, AT_BARRIER)


def test_the_lane_presents_a_green_car_once_when_its_8th_character_flickers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new-energy car stands at the barrier; for three frames the camera drops its 8th character
    (docs/plates.md, *Green plates' 8th character*). Presented a second time as 浙K43880, a
    stranger's plate, an entrance would let in a temporary car that is not there."""
    lane = Lane(monkeypatch)
    lane.frames(0.0, 1.0, [_green(GREEN)])
    lane.frames(1.0, 1.3, [_green(DROPPED)])  # glare on the last character
    lane.frames(1.3, 5.0, [_green(GREEN)])
    assert lane.presented == [(0.0, GREEN)], f"presented: {lane.presented}"


def test_no_plate_is_decided_on_frames_after_the_car_has_left(monkeypatch: pytest.MonkeyPatch) -> None:
    """A car comes into the lane, read once as 皖A1234S and twice as 皖A12345 (no clear lead yet),
    then turns away: nothing of it is read again. Once its rival reading ages out of the window,
    皖A12345 must not be decided on a frame of the empty lane (the gate opening for nobody, the
    snapshot marking a plate on an empty road): it was not read for longer than gone_after_s."""
    lane = Lane(monkeypatch)
    lane.frames(0.0, 0.1, [Reading(MISREAD, "blue", 0.7, AT_BARRIER)])
    lane.frames(0.1, 0.3, [Reading(P, "blue", 0.6, AT_BARRIER)])  # 1.2 against 0.7: no lead
    lane.frames(0.3, 8.0, [])  # the car has gone: the lane is empty
    late = [(t, value) for t, value in lane.presented if t > 0.2 + LaneVoter.gone_after_s]
    assert late == [], f"presented with the lane empty since 0.3 s: {lane.presented}"


def _every(start: float, end: float, readings: list[Reading]) -> list[tuple[float, list[Reading]]]:
    return [(round(start + i * 0.1, 2), readings) for i in range(round((end - start) / 0.1))]


def _decisions(voter: LaneVoter, frames: list[tuple[float, list[Reading]]]) -> list[tuple[float, str]]:
    return [(t, d.text) for t, readings in frames if (d := voter.add(readings, now=t)) is not None]


def test_a_car_standing_at_the_barrier_is_decided_on_the_next_frame_that_reads_it() -> None:
    """A weak start, but the car stands at the barrier, its plate read now and then (a person
    walks past the camera): as the misread ages out (4.1 s) nothing is read; the plate is decided
    on the next frame that reads it, its box marked on a frame that shows it."""
    standing = Reading(P, "blue", 0.5, AT_BARRIER)
    frames = (
        [(0.0, [Reading(MISREAD, "blue", 0.9, AT_BARRIER)])]
        + _every(0.1, 0.3, [standing])
        + _every(0.3, 2.0, [])
        + [(2.0, [standing])]  # 1.5 against 0.9: still no lead
        + _every(2.1, 4.5, [])
        + _every(4.5, 6.0, [standing])
    )
    assert _decisions(LaneVoter(), frames) == [(4.5, P)]


def test_the_next_car_one_character_longer_is_decided_when_it_reaches_the_loop() -> None:
    """Like a fleet car one character off: 浙K43880G driving up behind a blue 浙K43880 is that car
    misread until the loop says a car has arrived and 浙K43880 itself is no longer read."""
    voter = LaneVoter()
    blue = Reading(DROPPED, "blue", 0.99, AT_BARRIER)
    frames = _every(0.0, 4.0, [blue]) + _every(4.0, 5.0, [_green(GREEN)])
    assert _decisions(voter, frames) == [(0.0, DROPPED)]
    voter.rearm(now=5.0)
    assert _decisions(voter, _every(5.0, 6.0, [_green(GREEN)])) == [(5.0, GREEN)]
