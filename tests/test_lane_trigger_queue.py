"""Trigger mode (docs/hardware.md: the camera reads only the frames after the loop sees a car) in a
nose-to-tail queue: the car in front is still in the picture, pulling away under the barrier, when the
next car rolls onto the loop. The camera driver, PlateReader and LaneVoter are the real ones (the Lane
helper of tests/test_lane_passages.py: only the recognizer is fake)."""

from __future__ import annotations

import pytest

from plates.reading import Reading
from tests.test_lane_passages import BEHIND, Lane

A, B = "皖A12345", "苏E77777"
LEAVING = (600, 330, 120, 40)  # A's plate a little further up the picture, under the barrier


def test_the_car_that_triggered_the_loop_is_read_even_with_the_car_in_front_still_in_view(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.loop(0.0)  # A arrives on the loop
    lane.frames(0.0, 4.0, [A])  # decided at once; the barrier rises, A waits for it
    assert lane.times(A) == [0.0]
    lane.loop(4.0)  # A pulls away; B, nose to tail, rolls onto the loop
    lane.frames(4.0, 4.2, [Reading(A, "blue", 0.99, LEAVING), Reading(B, "blue", 0.99, BEHIND)])
    lane.frames(4.2, 30.0, [B])  # A has gone; B stands at the barrier, plate clearly readable
    assert lane.times(B) == [4.1], (
        f"the car on the loop is never read (presented: {lane.presented}); the trigger's frames "
        "went to the car in front"
    )


def test_once_the_car_on_the_loop_is_read_the_trigger_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """Less CPU on a Pi is trigger mode's point: once the car that arrived is read, nothing more is,
    the car queued behind it included (it is read when it reaches the loop)."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.loop(0.0)
    lane.frames(0.0, 30.0, [A, Reading(B, "blue", 0.99, BEHIND)])  # A on the loop, B queued behind
    assert (lane.recognizer.calls, lane.presented) == (1, [(0.0, A)])
