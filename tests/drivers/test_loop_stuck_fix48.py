"""Trigger mode (docs/hardware.md, read_mode) with a loop detector stuck on: a welded relay, a metal
plate left over the loop. It fires once and never goes off and on again, so no later car makes an
edge. The camera must not go blind: past the minute a trigger looks again for, it reads a frame a
second for as long as the loop stays on, and its health says why, the camera staying online.

The loop's reports go through the gateway's own lane input handler (LaneInputs.input_handler, as a
sensor driver calls it); the camera driver, PlateReader and LaneVoter are the real ones
(tests/lane_helpers.py: only the recognizer is fake, and the clock is the test's)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from drivers.base import InputEmit
from gateway.runtime.devices import Devices, LaneDevices
from gateway.runtime.lanes import LaneInputs
from tests.lane_helpers import START, Lane

A, B, C = "皖A12345", "苏E77777", "沪B20250"


def loop_input(lane: Lane) -> InputEmit:
    """The lane's loop detector, wired to the test's camera through the gateway's lane inputs."""
    devices = Devices(lanes={"car-out": LaneDevices(cameras=[lane.camera])}, health=[])

    def no_worker(fn: Any) -> Any:
        raise AssertionError("a loop report writes nothing")

    inputs = LaneInputs(devices, no_worker, lambda: datetime.now(UTC))
    return inputs.input_handler("car-out", "car-out-loop")


def loop(lane: Lane, on_input: InputEmit, at: float, on: bool) -> None:
    lane.now = START + at
    on_input("car_present", on)


@pytest.fixture
def stuck_lane(monkeypatch: pytest.MonkeyPatch) -> tuple[Lane, InputEmit]:
    """A trigger-mode camera whose stream is up, and its loop: A arrives at 0 s and is read; the
    loop never goes off after it."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.camera.health.set_online()  # its stream delivers frames
    on_input = loop_input(lane)
    loop(lane, on_input, 0.0, True)
    lane.frames(0.0, 5.0, [A])  # read at once; the barrier rises and A drives off
    lane.frames(5.0, 100.0, [], step=0.5)  # the loop stays on: no car, no edge
    return lane, on_input


def test_cars_behind_a_loop_stuck_on_are_still_read(stuck_lane: tuple[Lane, InputEmit]) -> None:
    lane, _ = stuck_lane
    lane.frames(100.0, 110.0, [B])  # B stops at the shut barrier: the stuck loop makes no edge
    lane.frames(110.0, 200.0, [], step=0.5)
    lane.frames(200.0, 210.0, [C])
    assert [value for _, value in lane.presented] == [A, B, C], (
        f"cars behind a loop stuck on are never read (presented: {lane.presented}): every later car "
        "waits at a shut barrier"
    )
    assert lane.times(B)[0] - 100.0 <= 1.0 and lane.times(C)[0] - 200.0 <= 1.0  # read within a second


def test_a_loop_stuck_on_is_read_once_a_second_not_every_frame(stuck_lane: tuple[Lane, InputEmit]) -> None:
    """Trigger mode is for a Pi that cannot read every frame: the fallback reads as its retry does."""
    lane, _ = stuck_lane
    read_before = lane.recognizer.calls
    lane.frames(100.0, 110.0, [B])  # 100 frames, 10 s
    assert lane.recognizer.calls - read_before == 10


def test_a_loop_stuck_on_is_shown_in_the_cameras_health_which_stays_online(
    stuck_lane: tuple[Lane, InputEmit],
) -> None:
    lane, _ = stuck_lane
    lane.frames(100.0, 130.0, [], step=0.5)
    health = lane.camera.health.snapshot()
    assert health["online"], "the camera still reads: it is not offline"
    assert "loop detector on for 2 min" in health["last_error"], health["last_error"]
    assert "check the loop detector" in health["last_error"]


def test_once_the_loop_goes_off_the_note_clears_and_trigger_mode_reads_only_on_the_loop_again(
    stuck_lane: tuple[Lane, InputEmit],
) -> None:
    lane, on_input = stuck_lane
    loop(lane, on_input, 100.0, False)  # the plate over the loop is taken away
    assert lane.camera.health.last_error == ""
    read_before = lane.recognizer.calls
    lane.frames(100.0, 200.0, [B], step=0.5)  # B only passes in the street, never on the loop
    assert lane.recognizer.calls == read_before and lane.presented == [(0.0, A)]
    loop(lane, on_input, 200.0, True)
    lane.frames(200.0, 210.0, [C])
    assert lane.times(C) == [200.0]


def test_a_loop_on_for_less_than_a_minute_is_no_stuck_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """A car standing on the loop for 50 s (refused, waiting for the guard) is no stuck loop: read at
    once, then a frame a second from 15 s on (decided again as it stands there:
    tests/test_lane_fix54i_standing.py), nothing once the loop goes off, and no note."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.camera.health.set_online()
    on_input = loop_input(lane)
    loop(lane, on_input, 0.0, True)
    lane.frames(0.0, 15.0, [A])
    assert lane.recognizer.calls == 1
    lane.frames(15.0, 50.0, [A])
    assert lane.recognizer.calls == 1 + 35 and lane.times(A) == [0.0, 15.0, 30.0, 45.0]
    loop(lane, on_input, 50.0, False)
    lane.frames(50.0, 150.0, [A], step=0.5)
    assert lane.recognizer.calls == 1 + 35 and lane.camera.health.last_error == ""


def test_a_continuous_camera_is_not_told_of_a_stuck_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """It reads every frame: a loop stuck on blinds it to nothing, and its health says nothing."""
    lane = Lane(monkeypatch)
    lane.camera.health.set_online()
    loop(lane, loop_input(lane), 0.0, True)
    lane.frames(0.0, 100.0, [], step=0.5)
    lane.frames(100.0, 101.0, [B])
    assert lane.times(B) == [100.0] and lane.camera.health.last_error == ""
