"""Trigger mode with a loop detector that chatters (two edges a fraction of a second apart) as the
next car rolls on, behind a car a guard let through by hand (开闸). docs/hardware.md: the car let
through by hand, read as it pulls away, does not end the next car's trigger for 10 s after the loop
fires; a second edge before any plate is read keeps those 10 s, neither ending nor extending them.
The camera driver, PlateReader and LaneVoter are the real ones (tests/lane_helpers.py)."""

from __future__ import annotations

import pytest

from drivers.cameras.capture import IN_FRONT_S
from plates.reading import Reading
from tests.lane_helpers import BEHIND, START, Lane
from tests.test_lane_trigger_queue import LEAVING, A, B, OpenByHand, open_by_hand  # noqa: F401 (fixture)


def test_a_chattering_loop_under_the_next_car_does_not_let_the_car_let_out_by_hand_end_its_trigger(
    monkeypatch: pytest.MonkeyPatch, open_by_hand: OpenByHand  # noqa: F811
) -> None:
    """The guard lets an unreadable car through by hand; as it pulls away the next car rolls onto
    the loop, whose contact bounces (on/off/on, 0.2 s apart). The car on the loop must be read, as
    it is with a clean edge (tests/test_lane_trigger_queue.py)."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.loop(0.0)  # A arrives on the loop
    lane.frames(0.0, 3.0, [])  # glare: nothing read
    open_by_hand(lane, 3.0)
    lane.loop(4.0)  # A pulls away; B rolls onto the loop ...
    lane.loop(4.2)  # ... and the loop's contact bounces: a second edge for the same car
    lane.frames(4.2, 4.5, [Reading(A, "blue", 0.99, LEAVING), Reading(B, "blue", 0.99, BEHIND)])
    lane.frames(4.5, 19.0, [B])  # A has gone; B stands at the barrier, plate clearly readable
    assert lane.times(A) == [4.2]
    assert lane.times(B) == [4.3], (
        f"the car on the loop is never read (presented: {lane.presented}): the loop's second edge "
        "for the same car dropped the car let out by hand, whose plate ended the trigger"
    )


def test_a_second_loop_edge_does_not_stretch_the_wait_for_the_car_let_out_by_hand(
    monkeypatch: pytest.MonkeyPatch, open_by_hand: OpenByHand  # noqa: F811
) -> None:
    """The car let through by hand had already left the picture; the next car, rocking to a stop,
    fires the loop twice 2 s apart and is read at once. The trigger looks for the car in front for
    IN_FRONT_S after the first edge, not after the second (less CPU on a Pi)."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.loop(0.0)
    lane.frames(0.0, 3.0, [])
    open_by_hand(lane, 3.0)
    lane.loop(4.0)
    lane.loop(6.0)
    read_at: list[float] = []
    lane.frames(6.0, 21.0, [B], while_read=lambda: read_at.append(lane.now - START))
    assert lane.times(B) == [6.0]
    assert max(read_at) <= 4.0 + IN_FRONT_S + 1.0, (  # the next look, once a second, ends it
        f"frames read until {max(read_at):.1f} s: the second loop edge restarted the {IN_FRONT_S:g} s "
        "wait for the car in front"
    )
