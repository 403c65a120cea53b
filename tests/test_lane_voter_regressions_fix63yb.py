"""Trigger mode (docs/hardware.md: the camera reads only the frames after the loop sees a car), nose to
tail: the car in front, still in the picture, pulls away as the next car rolls onto the loop. The
first car read that was not in the lane as the loop fired ends the trigger, so the car in front, read
as it pulls away, must not be taken for it; else the car on the loop is read only at the 15 s repeat,
its driver waiting at the arm. Two fixes regressed this (Review 63ya):

- 02643d0 let go of the held plates at each loop trigger while the camera did not see the lane, so a
  4 s stall or reconnect of the stream as the next car rolled on (or a camera flapping while the
  guard typed the car in front) dropped the car in front before the loop said who was there;
- 2880e64 took a plate not read for 25 s as the loop fired for no car in front, so a car that waited
  off the loop up to the arm for half a minute (read as it drove on) ended the next car's trigger.

The real camera driver, PlateReader, LaneVoter (tests/lane_helpers.py) and, for a typed plate, the
gateway (tests/rush_helpers.py). Review 63yb."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from gateway.core import TYPED_BY, Presented
from plates.reading import Reading
from tests.lane_helpers import BEHIND, START, Lane
from tests.rush_helpers import camera_lane, parking_gw

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=datetime.now().astimezone().tzinfo)
A, B = "皖A12345", "苏E77777"
LEAVING = (600, 330, 120, 40)  # a plate a little further up the picture, under the barrier
PULLING_AWAY = [Reading(A, "blue", 0.99, LEAVING), Reading(B, "blue", 0.99, BEHIND)]


def _live(lane: Lane, at: float) -> None:
    """The stream delivers a picture at `at` (s): the camera sees its lane."""
    lane.now = START + at
    lane.camera.health.set_online()
    lane.camera._keep(np.zeros((720, 1280, 3), np.uint8), lane.now)


@pytest.mark.parametrize("how", ["stalled", "offline"])
def test_the_car_behind_is_read_when_the_stream_stalls_as_it_rolls_onto_the_loop(
    monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.reader.watched_by(lane.camera)  # as gateway/runtime/devices.py does
    _live(lane, 0.0)
    lane.loop(0.0)  # A arrives on the loop
    lane.frames(0.0, 8.0, [A])  # read at once; it waits at the barrier (the guard checks it)
    _live(lane, 8.0)
    assert lane.times(A) == [0.0]
    # The stream stalls (an RTSP hiccup; or drops: offline) at 8 s. At 12 s A pulls away and B, nose
    # to tail, rolls onto the loop; at 12.5 s the stream is back.
    if how == "offline":
        lane.now = START + 10.0
        lane.camera.health.set_offline("stream dropped")
    read = lane.recognizer.calls
    lane.loop(12.0)
    _live(lane, 12.5)
    lane.frames(12.5, 12.7, PULLING_AWAY)
    lane.frames(12.7, 27.0, [B])  # A has gone; B stands at the barrier, its plate clearly readable
    assert lane.times(B) == [12.6], (
        f"B, on the loop, presented at {lane.times(B)} s (all: {lane.presented}): the car in front, "
        "read 12 s before and pulling away, was taken for the car that arrived because the camera "
        "did not see the lane the moment the loop fired, and it ended B's trigger"
    )
    assert lane.recognizer.calls - read == 2  # A pulling away, then B: the trigger ends on B


def test_the_car_behind_a_typed_car_is_read_as_the_camera_comes_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A parking entrance whose camera flaps (its stream drops and reconnects every few seconds). A
    car drives onto the loop while the camera is down; the guard types its plate and lets it in; as
    it pulls away the next car rolls onto the loop, the camera still down for a moment; it is back
    half a second later, the typed car still in the picture."""
    gw = parking_gw(tmp_path)
    try:
        lane, decided = camera_lane(monkeypatch, gw, "car-in", read_mode="trigger", trigger_frames=8)
        lane.reader.watched_by(lane.camera)  # as gateway/runtime/devices.py does
        assert not lane.reader.watching()  # the stream is down
        lane.loop(0.0)  # A drives onto the loop
        lane.now = START + 2.0
        gw.handle(Presented("car-in", "plate", A, 1.0, T0 + timedelta(seconds=2), f"{TYPED_BY}guard1"))
        lane.loop(6.0)  # A pulls away; B, nose to tail, rolls onto the loop; the camera still down
        _live(lane, 6.5)  # the stream is back
        lane.frames(6.5, 6.7, PULLING_AWAY)
        lane.frames(6.7, 21.0, [B])  # A has gone; B stands at the barrier, its plate clearly readable
        events = [(e.value, e.reason) for e in decided]
    finally:
        gw.conn.close()
    assert lane.times(B) == [6.6], (
        f"B, on the loop, presented at {lane.times(B)} s (camera: {lane.presented}; decided: {events}): "
        "the typed car in front, let go as B's loop fired while the camera was down, was taken for "
        "the car that arrived as it pulled away, and ended B's trigger; B waits 15 s at the arm"
    )


@pytest.mark.parametrize("waits", [30.0, 40.0])
def test_the_next_car_is_read_when_the_car_in_front_waited_off_the_loop(
    monkeypatch: pytest.MonkeyPatch, waits: float
) -> None:
    """The car in front stopped between the loop and the arm (docs/hardware.md: "a car that stops
    between the gateway's loop and the arm"), so its loop went off; read as it drove on, it waits
    there half a minute (the guard busy, the driver arguing). Then it is let through and the next car
    rolls onto the loop as it pulls away, still in the picture."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.loop(0.0)  # A drives onto the loop
    lane.frames(0.0, 2.0, [A])  # read at once
    lane.camera.loop_cleared()  # it rolls on up to the arm, off the loop
    lane.frames(2.0, waits, [A])  # and waits there, in the picture: trigger mode reads nothing
    read = lane.recognizer.calls
    lane.loop(waits)  # let through: A pulls away; B, nose to tail, rolls onto the loop
    lane.frames(waits, waits + 0.2, PULLING_AWAY)
    lane.frames(waits + 0.2, waits + 14.0, [B])  # A has gone; B stands at the barrier, clearly readable
    assert lane.times(B) == [round(waits + 0.1, 2)], (
        f"B, on the loop, presented at {lane.times(B)} s (all: {lane.presented}), not as it arrived: "
        f"A, read {waits:.0f} s before (over repeat_after_s + pulls_away_s = 25 s) and pulling away, "
        "was taken for the car that arrived and ended B's trigger; B waited at the arm for the 15 s repeat"
    )
    assert lane.recognizer.calls - read == 2  # A pulling away, then B: the trigger ends on B
