"""Trigger mode (docs/hardware.md, read_mode): a car refused at the barrier that stays on the loop is
decided again as at a continuous camera, every repeat_after_s (15 s), not only once the loop has been
on a minute (the stuck-loop fallback). The camera driver, PlateReader and LaneVoter are the real ones
(tests/lane_helpers.py: only the recognizer is fake)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gateway.core import Presented
from gateway.events import AccessEvent
from tests.conftest import registered_plates_site
from tests.lane_helpers import START, Lane

A, B = "皖A11111", "皖A22222"


@pytest.mark.parametrize("mode", ["continuous", "trigger"])
def test_a_car_waiting_for_its_shared_slot_is_let_in_once_the_other_car_leaves(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mode: str
) -> None:
    """一位多车, shared = "refuse": B is refused (slot_occupied) while A, of its household, is
    parked, and waits at the barrier. A leaves by the exit 5 s later. The driver notices: at a
    trigger-mode camera B waited about a minute more, nothing read since its trigger, until the
    stuck-loop fallback read it again; now it is let in 15 s after it was refused (repeat_after_s),
    as at a continuous camera."""
    gw = registered_plates_site(
        tmp_path, f"{A},R1\n{B},R1\n", slots=f"main,B001,R1,{A};{B}\n", shared="refuse"
    )
    try:
        # A came in a minute ago: its exit read within SAME_PASSAGE of its entry would be the exit
        # camera seeing the car in the entrance lane beside it, no passage (docs/parking.md).
        came = gw.now() - timedelta(minutes=1)
        assert gw.handle(Presented("car-in", "plate", A, 0.99, came, "x")).reason == "resident"
        lane = Lane(monkeypatch, read_mode=mode)
        gw.devices.lanes["car-in"].plate_readers.append(lane.reader)
        emit = gw._emitter("car-in", "car-in-camera")
        decided: list[tuple[float, AccessEvent]] = []

        def present(p: Presented) -> bool:
            decided.append((lane.now - START, gw.handle(p)))
            return True

        monkeypatch.setattr(gw, "present", present)
        lane.on_present = lambda v: emit("plate", v, 0.99)
        lane.loop(0.0)
        lane.frames(0.0, 5.0, [B])
        assert [e.reason for _, e in decided] == ["slot_occupied"]
        assert gw.handle(Presented("car-out", "plate", A, 0.99, gw.now(), "x")).admitted  # A leaves
        lane.frames(5.0, 20.0, [B])  # B still standing at the barrier
        let_in = [at for at, e in decided if e.admitted]
        assert let_in and let_in[0] <= 15.1, (
            f"{mode}: B still waiting: {[(at, e.reason) for at, e in decided]}"
        )
    finally:
        gw.conn.close()


def test_a_refused_car_standing_on_the_loop_is_refused_again_every_15_s_not_as_a_stuck_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Read at once, then nothing until it is due again; from then a frame a second, decided again
    every 15 s as the same car (again); the stuck-loop note only once the loop has been on a minute."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.camera.health.set_online()
    lane.loop(0.0)
    lane.frames(0.0, 15.0, [B])
    assert lane.recognizer.calls == 1
    lane.frames(15.0, 60.0, [B])
    assert lane.times(B) == [0.0, 15.0, 30.0, 45.0]
    assert lane.reader.decided_again(B)
    assert lane.recognizer.calls == 1 + 45  # a frame a second, not every frame
    assert lane.camera.health.last_error == ""
    lane.frames(60.0, 62.0, [B])
    assert "loop detector on for 1 min" in lane.camera.health.last_error


def test_an_empty_lane_and_a_car_that_drove_on_cost_no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trigger mode's CPU saving is kept: nothing is read with no car on the loop, nor after the car
    that was read drove on (its loop went off), even with its plate still in view down the lane."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.frames(0.0, 30.0, [])
    assert lane.recognizer.calls == 0
    lane.loop(30.0)
    lane.frames(30.0, 33.0, [A])
    lane.camera.loop_cleared()  # let in, it drives on
    lane.frames(33.0, 90.0, [A])
    assert lane.recognizer.calls == 1 and lane.times(A) == [30.0]
