"""A lane camera is offline (dead, unplugged) for days; the guards type every car's plate at the lane
meanwhile. Each typed plate is held in the camera's lane voter (Gateway._act -> PlateReader.hold ->
LaneVoter.hold) so that the camera does not decide the car again as it reads it. The voter let go of
a held plate only on a frame, so with no frames every plate typed stayed held for good: one entry per
passage, copied and walked at each loop trigger; and once the camera was back, a car whose plate was
typed during the outage was taken, as it came back onto the loop, for the car in front pulling away
(trigger mode): the camera read on for a minute after it. Review 63u."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from gateway.core import TYPED_BY, Presented
from gateway.runtime.gateway import Gateway
from tests.lane_helpers import Lane
from tests.rush_helpers import camera_lane, parking_gw

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=datetime.now().astimezone().tzinfo)
EVERY_S = 30.0  # a car every 30 s at a busy estate's entrance


def _offline_lane(monkeypatch: pytest.MonkeyPatch, gw: Gateway, **camera: object) -> Lane:
    """The entrance's plate camera, its reader told of it as gateway/runtime/devices.py does; its
    stream never came up (offline)."""
    lane, _ = camera_lane(monkeypatch, gw, "car-in", **camera)
    lane.reader.watched_by(lane.camera)
    assert not lane.reader.watching()
    return lane


def _typed(gw: Gateway, lane: Lane, at: float, plate: str) -> None:
    """A car drives onto the loop at `at` (s) and the guard types its plate: the camera reads nothing."""
    lane.loop(at)
    when = T0 + timedelta(seconds=at)
    gw.handle(Presented("car-in", "plate", plate, 1.0, when, f"{TYPED_BY}guard1"))


@pytest.mark.parametrize("read_mode", ["continuous", "trigger"])
def test_plates_typed_at_a_lane_whose_camera_is_offline_are_let_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_mode: str
) -> None:
    gw = parking_gw(tmp_path)
    try:
        lane = _offline_lane(monkeypatch, gw, read_mode=read_mode)
        n = 300  # two and a half hours of typed plates
        for i in range(n):
            _typed(gw, lane, i * EVERY_S, f"苏E{i:05d}")
        held = len(lane.reader._voter._held)
    finally:
        gw.conn.close()
    # Each of those cars left the lane minutes ago (gone_after_s is 3 s): only the last may be held.
    assert held <= 2, (
        f"the lane voter still holds {held} of {n} plates typed over {n * EVERY_S / 3600:.1f} h with "
        "the camera offline; it should hold only the car still in the lane, not one entry per passage "
        "for as long as the camera is down"
    )


def test_a_car_typed_during_an_outage_is_the_car_that_arrived_when_it_comes_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trigger mode (docs/hardware.md): the camera reads only when the loop says a car arrived, and
    the first car read that was not in the lane as the loop fired ends the trigger. 苏E00000's plate
    was typed while the camera was down; hours later, the camera back, it comes in again: read at
    once, it ends the trigger, rather than being taken for a car in front pulling away, the camera
    then reading on, a frame a second for a minute."""
    gw = parking_gw(tmp_path)
    try:
        lane = _offline_lane(monkeypatch, gw, read_mode="trigger", trigger_frames=8)
        for i in range(20):
            _typed(gw, lane, i * EVERY_S, f"苏E{i:05d}")
        back = 6 * 3600.0
        lane.now += back
        lane.camera.health.set_online()  # the camera is back: its stream runs
        lane.camera._keep(np.zeros((720, 1280, 3), np.uint8), lane.now)
        assert lane.reader.watching()
        lane.loop(back + 1.0)  # 苏E00000 comes back onto the loop
        lane.frames(back + 1.0, back + 14.0, ["苏E00000"])  # at the barrier, clearly readable
        read, presented = lane.recognizer.calls, [value for _, value in lane.presented]
    finally:
        gw.conn.close()
    assert presented == ["苏E00000"]
    assert read == 1, (
        f"the camera read {read} frames for the one car that arrived: 苏E00000, typed during the "
        "outage, was taken for the car in front pulling away, and the trigger read on"
    )
