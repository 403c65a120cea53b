"""The morning rush at a barrier: cars nose to tail in the camera's view, the one in front refused or
held to pay, misread, or waved aside. Each car is decided as the camera reads it (docs/parking.md, *A
queue behind a car held or refused*), so the car at the barrier is never kept waiting on another. The
presentations come from the real camera driver and PlateReader/LaneVoter, through the gateway's own
emitter and decision batches (tests/rush_helpers.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from plates.reading import Reading
from tests.lane_helpers import AT_BARRIER, BEHIND
from tests.parking.conftest import show
from tests.rush_helpers import camera_lane, parking_gw, pulses

STRANGER = "苏E12345"  # parked two hours or more: owes a fee
STRANGER2 = "豫Z99999"  # another stranger, parked an hour and a half: owes a different fee
RESIDENT = "皖B33333"  # R2's car on its own slot B002: leaves free
MISREAD = "皖B33338"  # the resident's car, its last character misread: nobody's plate
FRONT = "皖A11111"  # R1's car
ASIDE = (1000, 380, 110, 38)  # a refused car pulled over beside the barrier, still in the picture


@pytest.mark.parametrize("with_loop", [False, True])
def test_a_resident_misread_then_read_right_at_the_barrier_is_let_in(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, with_loop: bool
) -> None:
    """No shared space: a stranger is refused zone_full. The resident's car stops at the barrier;
    glare makes the camera read its last character wrong for the first frames (a stranger: refused),
    then it reads the plate right. It is one car, not a car queued behind its own misread: it is let
    in, at the camera's 15 s repeat or at once when it edges onto the loop."""
    gw = parking_gw(tmp_path, capacity=2)
    before = pulses(gw, "car-in")
    lane, decided = camera_lane(monkeypatch, gw, "car-in")
    lane.frames(0.0, 0.3, [MISREAD])
    assert [(e.value, e.reason) for e in decided] == [(MISREAD, "zone_full")]
    lane.frames(0.3, 5.0, [RESIDENT])
    if with_loop:
        lane.loop(5.0)  # the driver edges forward onto the loop
    lane.frames(5.0, 40.0, [RESIDENT])
    got = [(e.value, e.reason) for e in decided]
    assert (RESIDENT, "resident") in got, f"the resident at the barrier is never let in: {got}"
    assert pulses(gw, "car-in") > before, "the barrier never opened for the resident"


def test_the_car_that_rolls_onto_the_loop_is_let_in_while_the_refused_car_waits_aside(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No shared space: the stranger at the barrier is refused zone_full. The guard waves it aside,
    still in the picture, to let the queue through; the resident behind rolls onto the loop at the
    barrier and is let in, not kept waiting for ever on the car standing aside."""
    gw = parking_gw(tmp_path, capacity=2)
    before = pulses(gw, "car-in")
    lane, decided = camera_lane(monkeypatch, gw, "car-in")
    lane.frames(0.0, 0.1, [STRANGER])
    lane.frames(0.1, 5.0, [STRANGER, Reading(RESIDENT, "blue", 0.99, BEHIND)])  # queued behind
    aside = Reading(STRANGER, "blue", 0.99, ASIDE)
    lane.frames(5.0, 8.0, [aside, Reading(RESIDENT, "blue", 0.99, BEHIND)])  # the stranger pulls aside
    lane.loop(8.0)  # the resident rolls onto the loop
    lane.frames(8.0, 60.0, [aside, RESIDENT])
    got = [(e.value, e.reason) for e in decided]
    assert (RESIDENT, "resident") in got, f"the resident on the loop is never let in: {got}"
    assert pulses(gw, "car-in") > before


def test_the_car_at_the_barrier_is_not_held_behind_the_car_queued_behind_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The exit in the rush: the resident's car at the barrier, a stranger who owes a fee nose to
    tail behind it, both in view from the first frame. The stranger's clean plate decides on the
    first frame (held to pay), the resident's, a little dirty, on the second: the resident at the
    barrier is let out all the same."""
    gw = parking_gw(tmp_path)
    assert show(gw, "car-in", STRANGER, gw.now() - timedelta(hours=2)).admitted
    assert show(gw, "car-in", RESIDENT, gw.now() - timedelta(hours=1)).admitted
    before = pulses(gw, "car-out")
    lane, decided = camera_lane(monkeypatch, gw, "car-out")
    at_barrier = Reading(RESIDENT, "blue", 0.98, AT_BARRIER)
    lane.frames(0.0, 30.0, [at_barrier, Reading(STRANGER, "blue", 0.99, BEHIND)])
    got = [(e.value, e.reason) for e in decided]
    assert (RESIDENT, "resident") in got, f"the resident at the barrier is never let out: {got}"
    assert pulses(gw, "car-out") > before


def test_trigger_mode_lets_in_the_car_on_the_loop_after_the_guard_let_the_refused_car_through(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A camera in trigger mode (docs/hardware.md). No shared space: a stranger is refused at the
    entrance; the guard waives it in with 开闸 (gw.by_hand.open_lane: a relay pulse and an audit row,
    no plate decision; left out here, as it needs the decision worker running). It pulls away under
    the barrier, still in the picture, as the resident behind it rolls onto the loop, nose to tail:
    the resident is read, let in, and the barrier opens for it."""
    gw = parking_gw(tmp_path, capacity=2)
    lane, decided = camera_lane(monkeypatch, gw, "car-in", read_mode="trigger", trigger_frames=8)
    lane.loop(0.0)  # the stranger arrives on the loop
    lane.frames(0.0, 20.0, [STRANGER])  # refused, and refused again as it stands there 15 s on
    assert [(e.value, e.reason, "refused_again" in e.flags) for e in decided] == [
        (STRANGER, "zone_full", False),
        (STRANGER, "zone_full", True),
    ]
    before = pulses(gw, "car-in")
    leaving = Reading(STRANGER, "blue", 0.99, (600, 330, 120, 40))
    lane.loop(20.0)  # the stranger pulls away; the resident rolls onto the loop
    lane.frames(20.0, 22.0, [leaving, Reading(RESIDENT, "blue", 0.99, AT_BARRIER)])
    lane.frames(22.0, 34.0, [RESIDENT])  # the stranger has gone; the resident waits at the barrier
    got = [(e.value, e.reason) for e in decided]
    assert (RESIDENT, "resident") in got, f"the resident on the loop is never let in: {got}"
    assert pulses(gw, "car-in") == before + 1  # the resident's


def test_an_ordinary_queue_of_admitted_cars_still_opens_car_by_car(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two residents nose to tail at the entrance: each decided as it is read, each opening."""
    gw = parking_gw(tmp_path)
    before = pulses(gw, "car-in")
    lane, decided = camera_lane(monkeypatch, gw, "car-in")
    lane.frames(0.0, 0.1, [FRONT])
    lane.frames(0.1, 3.0, [FRONT, Reading(RESIDENT, "blue", 0.99, BEHIND)])
    assert [(e.value, e.reason) for e in decided] == [(FRONT, "resident"), (RESIDENT, "resident")]
    assert pulses(gw, "car-in") == before + 2


def test_take_the_fee_quotes_the_car_at_the_barrier_not_the_one_queued_behind(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two paying cars queue at the exit: the camera holds both to pay. The guard presses 收费放行 for
    the car at the barrier: the tablet asks GET /api/parking/lanes/car-out/quote
    (ParkingDesk.lane_quote) and takes that car's fee, not the fee of the car held after it."""
    gw = parking_gw(tmp_path)
    assert show(gw, "car-in", STRANGER, gw.now() - timedelta(hours=3)).admitted
    assert show(gw, "car-in", STRANGER2, gw.now() - timedelta(minutes=90)).admitted
    lane, decided = camera_lane(monkeypatch, gw, "car-out")
    lane.frames(0.0, 0.1, [STRANGER])  # at the barrier: held to pay
    lane.frames(0.1, 3.0, [STRANGER, Reading(STRANGER2, "blue", 0.99, BEHIND)])  # the next one queues
    held = [(e.value, e.reason, e.fee_fen) for e in decided]
    assert [(plate, reason) for plate, reason, _ in held] == [
        (STRANGER, "payment_due"),
        (STRANGER2, "payment_due"),
    ], held
    quote = gw.parking.lane_quote(gw.conn, "car-out", gw.now())
    assert quote is not None
    assert (quote["plate"], quote["due_fen"]) == (STRANGER, held[0][2]), (
        f"the guard's tablet quotes {quote['plate']} {quote['due_text']} while {STRANGER} "
        f"({held[0][2]} fen) stands at the barrier: {held}"
    )


def test_take_the_fee_quotes_the_next_car_once_the_held_one_has_backed_away(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The stranger held to pay has no money and backs out of the lane; the next paying car drives
    up and is held. The quote is for the car now at the barrier."""
    gw = parking_gw(tmp_path)
    assert show(gw, "car-in", STRANGER, gw.now() - timedelta(hours=3)).admitted
    assert show(gw, "car-in", STRANGER2, gw.now() - timedelta(minutes=90)).admitted
    lane, decided = camera_lane(monkeypatch, gw, "car-out")
    lane.frames(0.0, 2.0, [STRANGER])
    lane.frames(2.0, 6.0, [])  # backed away out of the picture
    lane.frames(6.0, 8.0, [STRANGER2])
    assert [(e.value, e.reason) for e in decided] == [(STRANGER, "payment_due"), (STRANGER2, "payment_due")]
    quote = gw.parking.lane_quote(gw.conn, "car-out", gw.now())
    assert quote is not None and quote["plate"] == STRANGER2, quote


@pytest.mark.parametrize("anti_passback", ["hard", "soft"])
def test_a_resident_glimpsed_in_the_queue_is_not_refused_anti_passback_at_the_barrier(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, anti_passback: str
) -> None:
    """Nose to tail at the entrance. The camera catches the plate of the resident's car queued behind
    for a moment (decided then, as docs/plates.md says a queue is), then the car in front hides it
    while the barrier goes up and down; the resident's car rolls onto the loop and is read again:
    one car, let in once, not refused anti-passback (hard) or counted twice (soft)."""
    gw = parking_gw(tmp_path, anti_passback=anti_passback)
    lane, decided = camera_lane(monkeypatch, gw, "car-in")
    lane.frames(0.0, 0.1, [FRONT])  # the front car at the barrier
    lane.frames(0.1, 0.5, [FRONT, Reading(RESIDENT, "blue", 0.99, BEHIND)])  # a glimpse of the next one
    lane.frames(0.5, 5.0, [FRONT])  # the front car hides it; the barrier rises, the front car goes
    lane.frames(5.0, 6.0, [])
    lane.loop(6.0)  # the queued resident rolls onto the loop
    lane.frames(6.0, 10.0, [RESIDENT])
    mine = [(e.reason, e.flags) for e in decided if e.value == RESIDENT]
    assert mine == [("resident", ()), ("resident", ("again",))], f"the resident at the barrier: {mine}"
    entries = gw.conn.execute("SELECT count(*) FROM stays WHERE plate = ?", (RESIDENT,)).fetchone()[0]
    assert entries == 1, f"one car came in once; stays {entries}, decisions {mine}"
