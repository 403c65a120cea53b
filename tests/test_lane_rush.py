"""The morning rush at a barrier: the car in front is held to pay or refused, and the car queued
behind it is in view. The barrier stays shut until the car in front is dealt with, and the car behind
is decided when it reaches the barrier. The presentations come from the real camera driver and
PlateReader/LaneVoter, through the gateway's own emitter and decision batches (tests/rush_helpers.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gateway.core import Presented
from plates.reading import Reading
from tests.parking.conftest import pay
from tests.rush_helpers import camera_lane, parking_gw, pulses
from tests.test_lane_passages import BEHIND

STRANGER = "苏E12345"  # parked two hours or more: owes a fee
STRANGER2 = "豫Z99999"  # another stranger, parked an hour and a half: owes a different fee
RESIDENT = "皖B33333"  # R2's car on its own slot B002: leaves free
FRONT = "皖A11111"  # R1's car


def _parked(gw, plate: str, ago: timedelta) -> None:  # type: ignore[no-untyped-def]
    assert gw.handle(Presented("car-in", "plate", plate, 0.99, gw.now() - ago, "cam")).admitted


def _inside(gw, plate: str) -> int:  # type: ignore[no-untyped-def]
    return gw.conn.execute(
        "SELECT count(*) FROM stays WHERE plate = ? AND exited_at IS NULL", (plate,)
    ).fetchone()[0]


def test_the_barrier_stays_shut_for_the_car_held_to_pay_when_the_car_behind_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A stranger's car is held to pay at the exit; a resident's car queues behind it, its plate in
    view. Opening for the resident would let the stranger drive out unpaid, and record the resident
    out while it is still inside."""
    gw = parking_gw(tmp_path)
    _parked(gw, STRANGER, timedelta(hours=2))
    _parked(gw, RESIDENT, timedelta(hours=1))
    before = pulses(gw, "car-out")
    lane, decided = camera_lane(monkeypatch, gw, "car-out")
    lane.frames(0.0, 0.1, [STRANGER])  # the stranger reaches the barrier: held to pay
    assert [e.reason for e in decided] == ["payment_due"]
    lane.frames(0.1, 20.0, [STRANGER, Reading(RESIDENT, "blue", 0.99, BEHIND)])  # the resident queues
    reasons = [(e.value, e.reason) for e in decided]
    assert pulses(gw, "car-out") == before, f"barrier opened while {STRANGER} is held to pay: {reasons}"
    assert _inside(gw, RESIDENT) == 1, f"{RESIDENT} recorded out while queued behind the held car: {reasons}"
    assert RESIDENT not in [e.value for e in decided], reasons


def test_the_car_behind_is_let_out_once_the_held_car_has_paid_and_gone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The guard takes the stranger's fee: the barrier opens for it. The resident then rolls onto the
    loop and is decided as the car at the barrier: let out, its stay closed."""
    gw = parking_gw(tmp_path)
    _parked(gw, STRANGER, timedelta(hours=2))
    _parked(gw, RESIDENT, timedelta(hours=1))
    lane, decided = camera_lane(monkeypatch, gw, "car-out")
    lane.frames(0.0, 0.1, [STRANGER])
    lane.frames(0.1, 20.0, [STRANGER, Reading(RESIDENT, "blue", 0.99, BEHIND)])
    held = decided[0]
    paid = pay(gw, STRANGER, held.fee_fen, gw.now())  # "收费放行": the barrier opens for it
    assert paid.admitted
    opened = pulses(gw, "car-out")
    lane.frames(20.0, 21.0, [Reading(RESIDENT, "blue", 0.99, BEHIND)])  # the stranger has driven off
    lane.loop(21.0)  # the resident rolls onto the loop
    lane.frames(21.0, 25.0, [RESIDENT])
    mine = [(e.reason, e.flags) for e in decided if e.value == RESIDENT]
    assert mine == [("resident", ())], mine
    assert pulses(gw, "car-out") == opened + 1
    assert _inside(gw, RESIDENT) == 0


def test_without_a_loop_the_car_behind_is_decided_once_the_car_in_front_has_gone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No loop detector: the car behind does not wait for the camera's 15 s repeat once the held car
    has paid and left the picture."""
    gw = parking_gw(tmp_path)
    _parked(gw, STRANGER, timedelta(hours=2))
    _parked(gw, RESIDENT, timedelta(hours=1))
    lane, decided = camera_lane(monkeypatch, gw, "car-out")
    lane.frames(0.0, 0.1, [STRANGER])
    lane.frames(0.1, 10.0, [STRANGER, Reading(RESIDENT, "blue", 0.99, BEHIND)])
    assert pay(gw, STRANGER, decided[0].fee_fen, gw.now()).admitted
    lane.frames(10.0, 20.0, [RESIDENT])  # the stranger has gone; the resident moves up
    assert lane.times(RESIDENT) == [0.1, 13.0], lane.presented  # 3 s after the stranger was last seen
    assert [e.reason for e in decided if e.value == RESIDENT] == ["resident"]


def test_the_barrier_stays_shut_for_a_refused_car_when_the_resident_behind_it_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The same at the entrance: the zone's shared spaces are full, so a stranger is refused
    (zone_full) at the barrier; the resident queued behind it has its own slot. Once the stranger has
    backed away, the resident at the barrier is let in."""
    gw = parking_gw(tmp_path, capacity=2)  # 2 car spaces, both fixed slots: no shared space
    before = pulses(gw, "car-in")
    lane, decided = camera_lane(monkeypatch, gw, "car-in")
    lane.frames(0.0, 0.1, [STRANGER])
    assert [(e.value, e.reason) for e in decided] == [(STRANGER, "zone_full")]
    lane.frames(0.1, 3.0, [STRANGER, Reading(RESIDENT, "blue", 0.99, BEHIND)])
    reasons = [(e.value, e.reason) for e in decided]
    assert pulses(gw, "car-in") == before, f"barrier opened in front of the refused {STRANGER}: {reasons}"
    lane.frames(3.0, 8.0, [Reading(RESIDENT, "blue", 0.99, BEHIND)])  # the stranger backs away
    lane.loop(8.0)
    lane.frames(8.0, 10.0, [RESIDENT])
    assert [(e.value, e.reason) for e in decided][1:] == [(RESIDENT, "resident")]
    assert pulses(gw, "car-in") == before + 1


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
    """Two paying cars queue at the exit. The guard presses 收费放行 for the car at the barrier: the
    tablet asks GET /api/parking/lanes/car-out/quote (ParkingDesk.lane_quote) and takes that fee."""
    gw = parking_gw(tmp_path)
    _parked(gw, STRANGER, timedelta(hours=3))
    _parked(gw, STRANGER2, timedelta(minutes=90))
    lane, decided = camera_lane(monkeypatch, gw, "car-out")
    lane.frames(0.0, 0.1, [STRANGER])  # at the barrier: held to pay
    lane.frames(0.1, 3.0, [STRANGER, Reading(STRANGER2, "blue", 0.99, BEHIND)])  # the next one queues
    # The guard types the plate of the car behind on the live page (POST /api/lanes/car-out/plate):
    # a guard's decision, taken whatever the queue. It is held to pay too.
    typed = gw.handle(Presented("car-out", "plate", STRANGER2, 1.0, gw.now(), "guard:guard1"))
    held = [(e.value, e.reason, e.fee_fen) for e in [*decided, typed]]
    assert [r for _, r, _ in held] == ["payment_due", "payment_due"], held
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
    _parked(gw, STRANGER, timedelta(hours=3))
    _parked(gw, STRANGER2, timedelta(minutes=90))
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
