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


def test_a_car_in_front_let_through_by_hand_does_not_end_the_next_cars_trigger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The camera never read the car in front (glare, or a recognizer seconds behind), so the guard
    let it through by hand (开闸). As it pulls away, nose to tail, the next car rolls onto the loop:
    the car in front is read now, but the car on the loop must still be read."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.loop(0.0)  # A arrives on the loop
    lane.frames(0.0, 3.0, [])  # glare: nothing read; the guard opens by hand at 3.0 s
    assert lane.presented == []
    read_before = lane.recognizer.calls
    lane.loop(4.0)  # A pulls away under the barrier; B, nose to tail, rolls onto the loop
    lane.frames(4.0, 4.3, [Reading(A, "blue", 0.99, LEAVING), Reading(B, "blue", 0.99, BEHIND)])
    lane.frames(4.3, 30.0, [B])  # A has gone; B stands at the barrier, plate clearly readable
    assert lane.times(A) == [4.0]  # decided as it is
    assert lane.times(B) == [4.1], (
        f"the car on the loop is never read (presented: {lane.presented}): the car in front, read as "
        "it pulled away, ended its trigger"
    )
    assert lane.recognizer.calls - read_before == 2, "the trigger went on once both cars were read"


def test_a_loop_that_fires_while_a_frame_is_read_keeps_its_trigger(monkeypatch: pytest.MonkeyPatch) -> None:
    """A recognizer takes a while (a Pi: hundreds of ms): the next car may reach the loop while the
    frame that reads the car in front is still being read. That reading must not end the new trigger."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.loop(0.0)
    read = lane.recognizer.read_frame

    def slow(image: object, roi: object = None) -> list[Reading]:
        if lane.recognizer.calls == 0:  # A is being read when B reaches the loop
            lane.loop(0.05)
        return read(image, roi)  # type: ignore[arg-type]

    monkeypatch.setattr(lane.recognizer, "read_frame", slow)
    lane.frames(0.0, 0.1, [A])
    lane.frames(0.1, 0.3, [A, Reading(B, "blue", 0.99, BEHIND)])
    lane.frames(0.3, 30.0, [B])
    assert [value for _, value in lane.presented] == [A, B]
