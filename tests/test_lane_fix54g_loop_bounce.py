"""A loop that fires twice for one car (a chattering loop detector, a high-chassis lorry whose axles
the loop sees apart) must not hand its second fire to the car queued behind it.

What a driver noticed: a resident queued behind another car, its plate read from afar as it waited,
drove onto the loop and stopped at the barrier, and the barrier stayed down for about ten seconds
before it rose (the repeat timer), with nothing on the guard's screen meanwhile. The loop had fired
twice for the car in front; the second fire was taken for an unread car and the resident behind,
decided from afar within 3 s, was counted as that car, so its own arrival decided nothing (review
54g, a regression of review 54a's "the loop fires once per car").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.simulated import SimulatedRelay
from gateway.core import Presented
from gateway.events import AccessEvent
from plates.lane import LaneVoter
from plates.reading import Reading
from tests.conftest import registered_plates_site
from tests.lane_helpers import AT_BARRIER, BEHIND, Lane

A, B = "皖A11111", "苏E77777"


def _run(voter: LaneVoter, start: float, end: float, plates: list[Reading]) -> list[tuple[float, str]]:
    out = []
    for i in range(round((end - start) / 0.1)):
        t = start + 0.1 * i
        decision = voter.add(plates, t)
        if decision is not None:
            out.append((round(t, 2), decision.text))
    return out


@pytest.mark.parametrize("chatter", [False, True])
@pytest.mark.parametrize("b_read_before_the_bounce", [False, True])
def test_the_car_behind_is_decided_on_its_own_arrival_after_the_loop_bounced_for_the_car_in_front(
    chatter: bool, b_read_before_the_bounce: bool
) -> None:
    """A drives onto the loop and is decided; the loop fires again for A 0.3 s later (or not); B,
    queued behind, is read from afar (before or after that second fire). A leaves; B drives onto
    the loop at 6 s and stops at the barrier: B is decided at once, as without the bounce."""
    voter = LaneVoter()
    a = Reading(A, "blue", 0.99, AT_BARRIER)
    b_far = Reading(B, "blue", 0.99, BEHIND)
    voter.rearm(0.0)  # A on the loop
    got = _run(voter, 0.0, 0.2, [a])
    got += _run(voter, 0.2, 0.3, [a, b_far] if b_read_before_the_bounce else [a])
    if chatter:
        voter.rearm(0.3)  # A's loop fires again
    got += _run(voter, 0.3, 4.0, [a, b_far])
    got += _run(voter, 4.0, 6.0, [b_far])  # A has gone
    voter.rearm(6.0)  # B drives onto the loop and stops at the barrier
    got += _run(voter, 6.0, 9.0, [Reading(B, "blue", 0.99, AT_BARRIER)])
    assert (6.0, B) in got, f"B at the barrier was not decided on its arrival: {got}"
    assert [t for t, text in got if text == A] == [0.0], got  # A decided once


@pytest.mark.parametrize("mode", ["continuous", "trigger"])
@pytest.mark.parametrize("chatter", [False, True])
def test_the_barrier_rises_for_the_resident_behind_when_the_loop_bounced_for_the_car_in_front(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, chatter: bool, mode: str
) -> None:
    """Residents A and B, the real camera driver and plate reader: A is let in, its loop firing
    twice (or once); B, read from afar behind A, drives onto the loop at 6 s and stops at the closed
    barrier. The barrier rises for B within the next 6 s (before the fix, only at the repeat timer,
    about 15 s after B was first read)."""
    gw = registered_plates_site(tmp_path, f"{A},R1\n{B},R2\n", slots=f"main,B001,R1,{A}\nmain,B002,R2,{B}\n")
    try:
        lane = Lane(monkeypatch, read_mode=mode)
        gw.devices.lanes["car-in"].plate_readers.append(lane.reader)
        emit = gw._emitter("car-in", "car-in-camera")
        decided: list[AccessEvent] = []

        def present(p: Presented) -> bool:
            decided.append(gw.handle(p))
            return True

        monkeypatch.setattr(gw, "present", present)
        lane.on_present = lambda v: emit("plate", v, 0.99)
        relay = gw.devices.lanes["car-in"].relays[0]
        assert isinstance(relay, SimulatedRelay)
        lane.loop(0.0)
        lane.frames(0.0, 0.3, [A])
        if chatter:
            lane.loop(0.3)  # A's loop fires again
        lane.frames(0.3, 4.0, [A, Reading(B, "blue", 0.99, BEHIND)])
        lane.frames(4.0, 6.0, [Reading(B, "blue", 0.99, BEHIND)])
        pulses_before = len(relay.pulses)
        lane.loop(6.0)  # B on the loop at the closed barrier
        lane.frames(6.0, 12.0, [B])
        seen = [(e.value, e.reason, e.admitted) for e in decided]
        assert len(relay.pulses) > pulses_before, f"no pulse for B at the barrier: {lane.presented} {seen}"
    finally:
        gw.conn.close()
