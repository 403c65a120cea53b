"""The stuck-loop fallback of trigger mode (docs/hardware.md, read_mode), two faults of its first cut:

- A refused car left standing on the loop past a minute (a driver arguing at the barrier) was taken,
  at the fallback's first read, for a second car: the lane voter had let its plate go as unread for
  gone_after_s (trigger mode reads nothing once the car is decided), so it was decided as a new
  arrival, a second refusal upstream and in the daily report. It is the same car decided again, as a
  continuous camera decides a car standing at the barrier.
- On a lane with two loop detectors (an arming loop and a safety loop), the second going off told
  the camera the loop had gone off while the first was still stuck on: the stuck loop's note went
  and the next car on it was never read.

The camera driver, PlateReader and LaneVoter are the real ones, the loops report through the
gateway's own lane inputs (tests/lane_helpers.py: only the recognizer is fake, the clock the test's).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from drivers.base import InputEmit
from gateway.config import parse_config
from gateway.runtime.devices import Devices, LaneDevices
from gateway.runtime.gateway import Gateway
from gateway.runtime.lanes import LaneInputs
from tests.conftest import site_toml
from tests.lane_helpers import START, Lane

A, B, X = "皖A12345", "苏E77777", "豫Z99999"


def lane_inputs(lane: Lane) -> LaneInputs:
    devices = Devices(lanes={"car-out": LaneDevices(cameras=[lane.camera])}, health=[])

    def no_worker(fn: Any) -> Any:
        raise AssertionError("a loop report writes nothing")

    return LaneInputs(devices, no_worker, lambda: datetime.now(UTC))


def at(lane: Lane, t: float) -> None:
    lane.now = START + t


@pytest.fixture
def trigger_lane(monkeypatch: pytest.MonkeyPatch) -> Lane:
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.camera.health.set_online()  # its stream delivers frames
    return lane


def decisions(lane: Lane) -> list[tuple[float, str, bool]]:
    """Each plate the camera presents: when, and whether decided again (the same car, standing)."""
    decided: list[tuple[float, str, bool]] = []
    lane.on_present = lambda value: decided.append(
        (round(lane.now - START, 1), value, lane.reader.decided_again(value))
    )
    return decided


# A car standing on the loop past a minute


def test_a_car_standing_on_the_loop_past_a_minute_is_decided_again_not_as_a_new_car(
    trigger_lane: Lane,
) -> None:
    lane = trigger_lane
    decided = decisions(lane)
    lane.loop(0.0)  # A drives onto the loop and is read; refused, it stays there, the loop on
    lane.frames(0.0, 90.0, [A], step=0.5)
    assert decided[0] == (0.0, A, False), decided
    later = decided[1:]
    assert later, f"the stuck-loop fallback reads the standing car again: {decided}"
    fresh = [(t, v) for t, v, again in later if not again]
    assert not fresh, f"the car that never left the loop is decided as a new arrival at {fresh}: {decided}"


def test_a_car_first_seen_in_the_fallback_or_back_after_leaving_is_a_new_arrival(trigger_lane: Lane) -> None:
    """Only the cars the loop announced stand on it still: A, read at 0 s, drives off; the loop
    sticks on. B, first read by the fallback, and A coming back later are each a car that arrived."""
    lane = trigger_lane
    decided = decisions(lane)
    lane.loop(0.0)
    lane.frames(0.0, 5.0, [A])
    lane.frames(5.0, 100.0, [], step=0.5)  # A is gone; the loop stays on
    lane.frames(100.0, 105.0, [B])
    lane.frames(105.0, 150.0, [], step=0.5)
    lane.frames(150.0, 155.0, [A])
    assert [(v, again) for _, v, again in decided] == [(A, False), (B, False), (A, False)], decided
    assert [t for t, _, _ in decided[1:]] == pytest.approx([100.0, 150.0], abs=1.0)  # read within a second


def test_a_refused_car_arguing_on_a_stuck_trigger_loop_is_one_refusal_not_two(
    trigger_lane: Lane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the gateway: an unregistered car refused at the exit stands 90 s on the loop. Its
    records are one refusal and its repeats (refused_again), as at a continuous camera."""
    lane = trigger_lane
    gw = Gateway(parse_config(site_toml(tmp_path / "data"), "site.toml"))
    base = datetime(2026, 3, 2, 10, 0, tzinfo=gw.site.tz)
    monkeypatch.setattr(gw, "now", lambda: base + timedelta(seconds=lane.now - START))
    gw.devices.lanes["car-out"].plate_readers.append(lane.reader)
    gw.start()
    try:
        emit = gw._emitter("car-out", "car-out-camera")

        def present(value: str) -> None:
            emit("plate", value, 0.99)
            gw.on_worker(lambda c: None).result(10)  # decided by now

        lane.on_present = present
        lane.loop(0.0)
        lane.frames(0.0, 90.0, [X], step=0.5)
        gw.on_worker(lambda c: None).result(10)
        with sqlite3.connect(gw.db_path) as conn:
            rows = conn.execute(
                "SELECT admitted, flags FROM access_log WHERE value = ? ORDER BY id", (X,)
            ).fetchall()
    finally:
        gw.stop()
    assert len(rows) >= 2 and not any(admitted for admitted, _ in rows), rows
    assert "refused_again" not in (rows[0][1] or ""), rows
    assert all("refused_again" in (flags or "") for _, flags in rows[1:]), (
        f"the car that never left the loop is refused again as a new car: {rows}"
    )


# A lane with two loops


@pytest.fixture
def two_loops(trigger_lane: Lane) -> tuple[Lane, InputEmit, InputEmit]:
    """The lane's arming loop, which sticks on under A at 0 s, and its safety loop under the arm,
    which A passes over (on at 5 s, off at 7 s)."""
    lane = trigger_lane
    inputs = lane_inputs(lane)
    arming = inputs.input_handler("car-out", "car-out-loop")
    safety = inputs.input_handler("car-out", "car-out-safety-loop")
    at(lane, 0.0)
    arming("car_present", True)
    lane.frames(0.0, 5.0, [A])
    at(lane, 5.0)
    safety("car_present", True)
    lane.frames(5.0, 7.0, [])
    at(lane, 7.0)
    safety("car_present", False)
    lane.frames(7.0, 100.0, [], step=0.5)
    return lane, arming, safety


def test_a_second_loop_going_off_does_not_blind_the_camera_to_a_first_loop_stuck_on(
    two_loops: tuple[Lane, InputEmit, InputEmit],
) -> None:
    lane, _, _ = two_loops
    note = lane.camera.health.last_error
    lane.frames(100.0, 110.0, [B])  # B stops on the arming loop, stuck on: no edge
    assert "loop detector on for" in note, f"the arming loop has been on for 100 s: {note!r}"
    assert B in [v for _, v in lane.presented], (
        f"B, on the stuck arming loop, is never read: {lane.presented}"
    )
    assert lane.times(B)[0] - 100.0 <= 1.0


def test_the_note_counts_from_when_the_stuck_loop_went_on_not_from_the_other_loops_edge(
    two_loops: tuple[Lane, InputEmit, InputEmit],
) -> None:
    """The safety loop's edge at 5 s (A passing) is a car read by its trigger; the arming loop has
    still been on since 0 s, and the note says so."""
    lane, _, _ = two_loops
    lane.frames(100.0, 122.0, [], step=0.5)  # 2 min after 0 s, not after 5 s
    assert "loop detector on for 2 min" in lane.camera.health.last_error, lane.camera.health.last_error


def test_once_the_lanes_last_loop_goes_off_the_note_clears_and_only_a_loop_asks_for_reads(
    two_loops: tuple[Lane, InputEmit, InputEmit],
) -> None:
    lane, arming, _ = two_loops
    at(lane, 100.0)
    arming("car_present", False)  # the relay is freed
    assert lane.camera.health.last_error == ""
    read_before = lane.recognizer.calls
    lane.frames(100.0, 200.0, [B], step=0.5)  # B passes in the street, never on a loop
    assert lane.recognizer.calls == read_before and B not in [v for _, v in lane.presented]
