"""Trigger mode (docs/hardware.md: the camera reads only the frames after the loop sees a car): a car
read at one trigger comes back at the next one, minutes later (it left by the other gate, or backed
away to let a lorry out and came back). The camera reads nothing in between, so its lane voter still
held the plate from the first trigger, and took the car for the car in front pulling away: the
trigger read on past it, a frame a second for a minute, as though the car on the loop were never
read. The camera driver, PlateReader and LaneVoter are the real ones (tests/lane_helpers.py: only the
recognizer is fake). Review 63y.

The same car back, alone in the picture, cannot be told on its first frame from the car in front
pulling away after it waited off the loop up to the arm half a minute (read as it drove on; its loop
went off) while the next car rolls onto the loop, not yet read (tests/test_lane_voter_regressions_
fix63yb.py): it is presented at once, and the trigger reads on until another car is read or IN_FRONT_S
has passed since the loop fired (Review 63yb). A car back minutes later costs those frames, no more:
the trigger's own and one a second for IN_FRONT_S; another car, one frame."""

from __future__ import annotations

import pytest

from drivers.cameras.capture import IN_FRONT_S, TRIGGER_RETRY_S
from plates.reading import Reading
from tests.lane_helpers import BEHIND, Lane

A, C = "皖A12345", "苏E77777"
LEAVING = (600, 330, 120, 40)  # a plate a little further up the picture, under the barrier
AWAY_S = 600.0  # ten minutes
TRIGGER_FRAMES = 8


def _read_at_a_trigger(lane: Lane, at: float, plate: str) -> int:
    """A car drives onto the loop at `at` (s) and stands at the barrier, its plate clearly readable,
    for 14 s (under repeat_after_s); then it drives off the loop and away. The frames the recognizer
    read for it."""
    before = lane.recognizer.calls
    lane.loop(at)
    lane.frames(at, at + 14.0, [plate])
    lane.camera.loop_cleared()
    lane.frames(at + 14.0, at + 20.0, [])  # the empty lane: frames come, none is read
    return lane.recognizer.calls - before


@pytest.mark.parametrize("who", [A, C], ids=["the same car back", "another car"])
def test_a_car_coming_back_at_the_next_trigger_is_read_as_any_arriving_car(
    monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=TRIGGER_FRAMES)
    assert _read_at_a_trigger(lane, 0.0, A) == 1
    lane.frames(20.0, AWAY_S, [], step=1.0)  # ten minutes of an empty lane, nothing read
    read = _read_at_a_trigger(lane, AWAY_S, who)
    assert lane.times(who)[-1] == AWAY_S, f"{who} presented at {lane.times(who)} s, not as it arrived"
    # The same car: it may be the car in front pulling away (see above), read on for IN_FRONT_S.
    most = 1 if who == C else TRIGGER_FRAMES + round(IN_FRONT_S / TRIGGER_RETRY_S) + 1
    assert read <= most, (
        f"the camera read {read} frames for the one car that arrived at the second trigger: {who}, "
        f"read at the trigger before, {AWAY_S / 60:.0f} minutes earlier, was taken for a car in front "
        f"pulling away, and the trigger read on (at most {most}: IN_FRONT_S after the loop fired)"
    )


def test_the_car_in_front_still_read_after_standing_at_the_barrier_does_not_end_the_next_trigger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The car in front was read as it arrived and stood at the barrier 12 s (the driver talking to the
    guard, under repeat_after_s: not read again); it pulls away as the next car rolls onto the loop,
    nose to tail. It is still the car in front: the next car is read."""
    lane = Lane(monkeypatch, read_mode="trigger", trigger_frames=8)
    lane.loop(0.0)
    lane.frames(0.0, 12.0, [A])
    lane.camera.loop_cleared()
    lane.loop(13.0)  # A pulls away under the barrier; C, nose to tail, rolls onto the loop
    lane.frames(13.0, 13.2, [Reading(A, "blue", 0.99, LEAVING), Reading(C, "blue", 0.99, BEHIND)])
    lane.frames(13.2, 28.0, [C])
    assert lane.times(C) == [13.1], (
        f"the car on the loop is never read (presented: {lane.presented}); the trigger's frames "
        "went to the car in front"
    )
