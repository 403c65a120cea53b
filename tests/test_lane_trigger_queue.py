"""Trigger mode (docs/hardware.md: the camera reads only the frames after the loop sees a car) in a
nose-to-tail queue: the car in front is still in the picture, pulling away under the barrier, when the
next car rolls onto the loop. The camera driver, PlateReader and LaneVoter are the real ones (the Lane
helper of tests/lane_helpers.py: only the recognizer is fake)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drivers.cameras.capture import IN_FRONT_S
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from plates.reading import Reading
from tests.conftest import site_toml
from tests.lane_helpers import BEHIND, START, Lane

A, B = "皖A12345", "苏E77777"
LEAVING = (600, 330, 120, 40)  # A's plate a little further up the picture, under the barrier

OpenByHand = Callable[[Lane, float], None]


@pytest.fixture
def open_by_hand(tmp_path: Path) -> Iterator[OpenByHand]:
    """The guard's 开闸 (open once by hand) through the gateway's own HandLanes, at a lane whose
    camera is the test's Lane's."""
    gw = Gateway(parse_config(site_toml(tmp_path / "data"), "site.toml"))
    gw.start()

    def open_lane(lane: Lane, at: float) -> None:
        gw.devices.lanes["car-in"].cameras[:] = [lane.camera]
        lane.now = START + at
        gw.by_hand.open_lane("car-in", "保安 王", "车牌看不清")

    yield open_lane
    gw.stop()


def test_the_car_that_triggered_the_loop_is_read_even_with_the_car_in_front_still_in_view(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.loop(0.0)  # A arrives on the loop
    lane.frames(0.0, 4.0, [A])  # decided at once; the barrier rises, A waits for it
    assert lane.times(A) == [0.0]
    lane.loop(4.0)  # A pulls away; B, nose to tail, rolls onto the loop
    lane.frames(4.0, 4.2, [Reading(A, "blue", 0.99, LEAVING), Reading(B, "blue", 0.99, BEHIND)])
    lane.frames(4.2, 18.0, [B])  # A has gone; B stands at the barrier, plate clearly readable
    assert lane.times(B) == [4.1], (
        f"the car on the loop is never read (presented: {lane.presented}); the trigger's frames "
        "went to the car in front"
    )


def test_once_the_car_on_the_loop_is_read_the_trigger_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """Less CPU on a Pi is trigger mode's point: once the car that arrived is read, nothing more is,
    the car queued behind it included (it is read when it reaches the loop), until A, should it
    stand there on the loop, is due to be decided again (repeat_after_s, 15 s:
    tests/test_lane_fix54i_standing.py)."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.loop(0.0)
    lane.frames(0.0, 15.0, [A, Reading(B, "blue", 0.99, BEHIND)])  # A on the loop, B queued behind
    assert (lane.recognizer.calls, lane.presented) == (1, [(0.0, A)])


def test_a_car_in_front_let_through_by_hand_does_not_end_the_next_cars_trigger(
    monkeypatch: pytest.MonkeyPatch, open_by_hand: OpenByHand
) -> None:
    """The camera never read the car in front (glare, or a recognizer seconds behind), so the guard
    let it through by hand (开闸). As it pulls away, nose to tail, the next car rolls onto the loop:
    the car in front is read now, but the car on the loop must still be read."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.loop(0.0)  # A arrives on the loop
    lane.frames(0.0, 3.0, [])  # glare: nothing read
    open_by_hand(lane, 3.0)
    assert lane.presented == []
    read_before = lane.recognizer.calls
    lane.loop(4.0)  # A pulls away under the barrier; B, nose to tail, rolls onto the loop
    lane.frames(4.0, 4.3, [Reading(A, "blue", 0.99, LEAVING), Reading(B, "blue", 0.99, BEHIND)])
    lane.frames(4.3, 19.0, [B])  # A has gone; B stands at the barrier, plate clearly readable
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
    lane.frames(0.0, 0.1, [A], while_read=lambda: lane.loop(0.05))  # B reaches the loop as A is read
    lane.frames(0.1, 0.3, [A, Reading(B, "blue", 0.99, BEHIND)])
    lane.frames(0.3, 15.0, [B])
    assert [value for _, value in lane.presented] == [A, B]


def test_a_car_in_front_let_through_by_hand_after_a_minute_does_not_end_the_next_cars_trigger(
    monkeypatch: pytest.MonkeyPatch, open_by_hand: OpenByHand
) -> None:
    """As above, but the guard came out to the unreadable car after 70 s (a driver arguing, a guard
    busy at the booth): past the minute the trigger looks again for, the next car is still read."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.loop(0.0)  # A arrives on the loop
    lane.frames(0.0, 70.0, [])  # glare: nothing read
    open_by_hand(lane, 70.0)
    lane.loop(71.0)  # A pulls away under the barrier; B, nose to tail, rolls onto the loop
    lane.frames(71.0, 71.3, [Reading(A, "blue", 0.99, LEAVING)])  # B's plate still hidden behind A
    lane.frames(71.3, 86.0, [B])  # A has gone; B stands at the barrier, plate clearly readable
    assert lane.times(A) == [71.0]  # decided as it is
    assert lane.times(B) == [71.3], (
        f"the car on the loop is never read (presented: {lane.presented}): the car in front, never "
        "read and let through by hand, ended its trigger"
    )


def test_after_a_loop_with_no_car_the_next_car_is_presented_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop fires with no plate to read (a motorbike with no front plate, an e-bike, a trolley);
    20 s later an unknown car arrives, is read and refused, and waits at the barrier for the guard.
    It is presented once, and the camera stops reading once it is read (until, still standing there,
    it is due to be decided again: repeat_after_s, 15 s, tests/test_lane_fix54i_standing.py)."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.loop(0.0)  # nothing with a plate
    lane.frames(0.0, 20.0, [])
    lane.loop(20.0)  # B arrives and waits at the barrier
    read_before = lane.recognizer.calls
    lane.frames(20.0, 35.0, [B])
    assert lane.times(B) == [20.0], f"B presented at {lane.times(B)} s: 'each plate is presented once'"
    assert lane.recognizer.calls - read_before == 1, (
        f"{lane.recognizer.calls - read_before} frames read after B was read at once; the trigger never ended"
    )


def test_a_loop_that_fires_twice_for_one_car_ends_its_trigger_once_the_car_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One car, two loop edges 0.3 s apart (a car rocking to a stop on the loop, a tow bar): one car
    announced twice, read at once. It is presented once, and the camera stops reading (until it is
    due to be decided again, 15 s on)."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.loop(0.0)
    lane.loop(0.3)
    read_before = lane.recognizer.calls
    lane.frames(0.3, 15.0, [A])  # A waits at the barrier (refused: an unknown car)
    assert lane.times(A) == [0.3], f"A presented at {lane.times(A)} s: 'each plate is presented once'"
    assert lane.recognizer.calls - read_before == 1, (
        f"{lane.recognizer.calls - read_before} frames read after A was read at once; the trigger never ended"
    )


def test_after_a_motorbike_let_through_by_hand_the_next_car_is_presented_once(
    monkeypatch: pytest.MonkeyPatch, open_by_hand: OpenByHand
) -> None:
    """No plate to read on the loop (a motorbike with no front plate), so the guard opens by hand;
    20 s later an unknown car arrives and waits at the barrier. The trigger may look a little longer
    for a car in front pulling away, but the car on the loop is presented once."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.loop(0.0)
    lane.frames(0.0, 5.0, [])
    open_by_hand(lane, 5.0)
    lane.frames(5.0, 20.0, [])
    lane.loop(20.0)
    read_before = lane.recognizer.calls
    lane.frames(20.0, 35.0, [B])
    assert lane.times(B) == [20.0], f"B presented at {lane.times(B)} s: 'each plate is presented once'"
    assert lane.recognizer.calls - read_before <= 8 + IN_FRONT_S, "the trigger read on past the car in front"
