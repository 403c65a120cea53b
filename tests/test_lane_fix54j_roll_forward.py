"""A car standing on the loop rolls forward a metre (its loop goes off and on again) while another
car queues behind it: that fire is the standing car moving, not the car behind arriving.

What a driver noticed: a resident queued behind a car refused at the barrier (its household's slot
taken) or a resident chatting with the guard, read from afar as it waited; the car in front edged
up to the barrier, then left; the resident drove onto the loop, stopped at the barrier, and it
stayed down for about ten seconds (the repeat timer), nothing on the guard's screen meanwhile. The
re-fire, over 3 s after the standing car's own, was counted as the resident's arrival. At a
trigger-mode camera, the refused car, whose slot had freed meanwhile, was let in 25 s after it was
refused rather than 15 s: the re-fire's trigger, ended by reading the resident behind, put its
next reading off by 15 s from then (review 54j).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.simulated import SimulatedRelay
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from plates.lane import LaneVoter
from plates.reading import Reading
from tests.conftest import registered_plates_site
from tests.lane_helpers import AT_BARRIER, BEHIND, START, Lane

A, B, C = "皖A11111", "皖A22222", "苏E77777"
Decided = list[tuple[float, str, str, tuple[str, ...]]]


def _site(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mode: str
) -> tuple[Gateway, Lane, Decided, SimulatedRelay]:
    """A and B share resident R1's one slot (a second car refused), A parked inside; C is R2's."""
    gw = registered_plates_site(
        tmp_path,
        f"{A},R1\n{B},R1\n{C},R2\n",
        slots=f"main,B001,R1,{A};{B}\nmain,B002,R2,{C}\n",
        shared="refuse",
    )
    assert gw.handle(Presented("car-in", "plate", A, 0.99, gw.now(), "x")).reason == "resident"
    lane = Lane(monkeypatch, read_mode=mode)
    gw.devices.lanes["car-in"].plate_readers.append(lane.reader)
    emit = gw._emitter("car-in", "car-in-camera")
    decided: Decided = []

    def present(p: Presented) -> bool:
        e = gw.handle(p)
        decided.append((round(lane.now - START, 2), e.value, e.reason, e.flags))
        return True

    monkeypatch.setattr(gw, "present", present)
    lane.on_present = lambda v: emit("plate", v, 0.99)
    relay = gw.devices.lanes["car-in"].relays[0]
    assert isinstance(relay, SimulatedRelay)
    return gw, lane, decided, relay


def _roll(lane: Lane, at: float) -> None:
    """The car on the loop rolls forward a metre: the loop goes off, and on again 0.3 s later."""
    lane.now = START + at
    lane.camera.loop_cleared()
    lane.loop(at + 0.3)


def _standing_car_rolls_then_leaves(lane: Lane, standing: str) -> None:
    """`standing` on the loop from 0 s, C queued behind from 5 s; `standing` rolls forward at 10 s
    and leaves at 14 s; C is read behind until 15 s."""
    c_far = Reading(C, "blue", 0.99, BEHIND)
    lane.loop(0.0)
    lane.frames(0.0, 5.0, [standing])
    lane.frames(5.0, 10.0, [standing, c_far])
    _roll(lane, 10.0)
    lane.frames(10.3, 14.0, [standing, c_far])
    lane.now = START + 14.0
    lane.camera.loop_cleared()  # it leaves the loop
    lane.frames(14.0, 15.0, [c_far])


@pytest.mark.parametrize("mode", ["continuous", "trigger"])
def test_the_car_behind_a_refused_car_that_rolled_forward_is_let_in_on_its_arrival(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mode: str
) -> None:
    """B, refused (slot_occupied), stands on the loop and edges forward a metre at 10 s, then gives
    up and reverses away; resident C drives onto the loop at 15 s: the barrier rises for C at once,
    not ten seconds later."""
    gw, lane, decided, relay = _site(monkeypatch, tmp_path, mode)
    try:
        _standing_car_rolls_then_leaves(lane, B)
        before = len(relay.pulses)
        lane.loop(15.0)  # C on the loop at the closed barrier
        lane.frames(15.0, 18.0, [C])
        assert len(relay.pulses) > before, f"{mode}: no pulse for C at the barrier within 3 s: {decided}"
        assert [d for d in decided if d[1] == B] == [(0.0, B, "slot_occupied", ())], decided
    finally:
        gw.conn.close()


@pytest.mark.parametrize("mode", ["continuous", "trigger"])
def test_the_car_behind_a_chatting_resident_that_rolled_forward_is_let_in_on_its_arrival(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mode: str
) -> None:
    """Resident A, let in at 0 s, stands on the loop chatting with the guard, edges forward at 10 s,
    drives in at 14 s; resident C drives onto the loop at 15 s: it is decided and let in within a
    second, and A is not let in a second time."""
    gw, lane, decided, relay = _site(monkeypatch, tmp_path, mode)
    try:
        assert gw.handle(Presented("car-out", "plate", A, 0.99, gw.now(), "x")).admitted  # A outside
        _standing_car_rolls_then_leaves(lane, A)
        before = len(relay.pulses)
        lane.loop(15.0)
        lane.frames(15.0, 30.0, [C])
        later = [d for d in decided if d[0] >= 15.0]
        assert len(relay.pulses) > before and later and later[0][:2] == (15.0, C), f"{mode}: {decided}"
        assert [d for d in decided if d[1] == A] == [(0.0, A, "resident", ())], decided
    finally:
        gw.conn.close()


@pytest.mark.parametrize("mode", ["continuous", "trigger"])
def test_a_refused_car_that_rolled_forward_is_let_in_15s_after_it_was_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mode: str
) -> None:
    """B, refused at 0 s, stands on the loop; C queues behind from 5 s; A leaves by the exit at 5 s,
    freeing the slot; B edges forward a metre at 10 s: B is let in at 15 s (repeat_after_s after it
    was refused), as without the roll, not at 25 s."""
    gw, lane, decided, relay = _site(monkeypatch, tmp_path, mode)
    try:
        c_far = Reading(C, "blue", 0.99, BEHIND)
        lane.loop(0.0)
        lane.frames(0.0, 5.0, [B])
        lane.frames(5.0, 10.0, [B, c_far])
        assert gw.handle(Presented("car-out", "plate", A, 0.99, gw.now(), "x")).admitted  # the slot frees
        _roll(lane, 10.0)
        lane.frames(10.3, 30.0, [B, c_far])
        let_in = [d for d in decided if d[1] == B and d[2] == "resident"]
        assert let_in and let_in[0][0] <= 15.1, f"{mode}: B let in only at {let_in[:1]}: {decided}"
    finally:
        gw.conn.close()


def _run(voter: LaneVoter, start: float, end: float, plates: list[Reading]) -> list[tuple[float, str]]:
    out = []
    for i in range(round((end - start) / 0.1)):
        t = start + 0.1 * i
        decision = voter.add(plates, t)
        if decision is not None:
            out.append((round(t, 2), decision.text))
    return out


@pytest.mark.parametrize("off_s", [0.3, 2.0])
def test_voter_a_fire_a_moment_after_the_loop_went_off_counts_no_car(off_s: float) -> None:
    """The voter alone: B stands on the loop from 0 s, C is read behind from 5 s. The loop goes off
    at 10 s and fires again after `off_s`. Under refire_gap_s (1 s) that is B moving: C, arriving
    at 15 s, is decided then. Off longer, a car did come onto the loop, the first one read not yet
    counted (C, in this picture): C is not decided again on its fire at 15 s."""
    voter = LaneVoter()
    b = Reading(B, "blue", 0.99, AT_BARRIER)
    c_far = Reading(C, "blue", 0.99, BEHIND)
    voter.rearm(0.0)
    got = _run(voter, 0.0, 5.0, [b])
    got += _run(voter, 5.0, 10.0, [b, c_far])
    voter.rearm(10.0 + off_s, loop_off_s=off_s)
    got += _run(voter, 10.0 + off_s, 14.0, [b, c_far])
    got += _run(voter, 14.0, 15.0, [c_far])
    voter.rearm(15.0, loop_off_s=1.0)
    got += _run(voter, 15.0, 17.0, [Reading(C, "blue", 0.99, AT_BARRIER)])
    assert ((15.0, C) in got) == (off_s < voter.refire_gap_s), got
    assert [t for t, text in got if text == B] == [0.0], got
