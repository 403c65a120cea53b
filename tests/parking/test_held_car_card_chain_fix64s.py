"""A car held to pay at the exit (or refused `blocked`), and a chain of cards tapped for it: the car's
own card first, then another. Also a neighbour tapping again after the 10 s. Review 64Rm.

e405f5a4 (Review 64H) made any card tapped within 10 s after a plate held there that plate shown
again. Two gaps: a card of the held car tapped first (the household's card that names no car, or
the car's own) became the car's last decision, so the household's other card tapped after it let
the held car out free as the car parked on the slot (its stay closed though it stayed parked, the
slot handed to the car that left); and a neighbour's tap taken for the held car was remembered as
the lane's last plate, so her taps kept her refused with the stranger's fee long past the 10 s.
docs/parking.md (*One car, one passage*): a card shown "within 10 s after the plate ... was held
there" is that plate; the car behind's driver "taps ... after 10 s".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import open_stays
from gateway.store.registry import set_blocked
from gateway.store.registry_credentials import add_card
from tests.parking.conftest import T0, pay, report_of_t0_day, show

S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
FIRST, SECOND = "皖A11111", "皖A22222"  # R1's two cars, both listed on B001 (conftest)
STRANGER = "苏E54321"
OWN, OTHER, NEIGHBOUR = "0000000001", "0000000002", "0000000004"


def _card(gw: Gateway, number: str, resident: str, plate: str | None) -> None:
    (rid,) = gw.conn.execute("SELECT id FROM residents WHERE ref = ?", (resident,)).fetchone()
    car = gw.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (plate,)).fetchone() if plate else None
    add_card(gw.conn, T0 - H, "admin", number, rid, car[0] if car else None, None, None, "", "")


def _tap(gw: Gateway, number: str, at: datetime, lane: str = "car-out") -> AccessEvent:
    return gw.handle(Presented(lane, "card", number, 1.0, at, "reader"))


def _inside(gw: Gateway) -> dict[str, str | None]:
    return {str(s["plate"]): s["slot"] for s in open_stays(gw.conn)}


def _second_car_held(gw: Gateway) -> None:
    show(gw, "car-in", FIRST, T0)
    show(gw, "car-in", SECOND, T0 + H)
    held = show(gw, "car-out", SECOND, T0 + 4 * H)
    assert (held.reason, held.fee_fen) == ("payment_due", 900)


def test_the_households_card_then_its_other_cars_card_still_ask_the_hold_fee(gw: Gateway) -> None:
    """张三's own card (no car) tapped for 皖A22222 held for 9元, then the card naming 皖A11111."""
    _card(gw, OWN, "R1", None)
    _card(gw, OTHER, "R1", FIRST)
    _second_car_held(gw)
    own = _tap(gw, OWN, T0 + 4 * H + 3 * S)
    assert (own.admitted, own.reason, own.fee_fen) == (False, "payment_due", 900)
    other = _tap(gw, OTHER, T0 + 4 * H + 6 * S)
    assert (other.admitted, other.reason, other.fee_fen) == (False, "payment_due", 900)
    assert "refused_again" in other.flags
    assert _inside(gw) == {FIRST: "B001", SECOND: None}  # 皖A11111 never moved off B001
    assert pay(gw, SECOND, 900, T0 + 4 * H + M).admitted
    assert _inside(gw) == {FIRST: "B001"}
    assert report_of_t0_day(gw, T0 + 5 * H)["held_for_payment"] == 1


def test_the_held_cars_own_card_then_the_other_cars_card(gw: Gateway) -> None:
    _card(gw, OWN, "R1", SECOND)
    _card(gw, OTHER, "R1", FIRST)
    _second_car_held(gw)
    assert (_tap(gw, OWN, T0 + 4 * H + 3 * S).fee_fen, _inside(gw)) == (900, {FIRST: "B001", SECOND: None})
    other = _tap(gw, OTHER, T0 + 4 * H + 6 * S)
    assert (other.admitted, other.reason, other.fee_fen) == (False, "payment_due", 900)
    assert _inside(gw) == {FIRST: "B001", SECOND: None}


def test_a_blocked_cars_own_card_then_a_neighbours_card(gw: Gateway) -> None:
    """皖B33333 (R2's, reported stolen) refused at the entrance; R2's card naming it, then 李四's."""
    _card(gw, OWN, "R2", "皖B33333")
    _card(gw, NEIGHBOUR, "R1", None)
    set_blocked(gw.conn, T0, "guard1", ("plate", "皖B33333"), True, "公安协查")
    assert show(gw, "car-in", "皖B33333", T0 + S).reason == "blocked"
    assert _tap(gw, OWN, T0 + 3 * S, "car-in").reason == "blocked"
    tap = _tap(gw, NEIGHBOUR, T0 + 6 * S, "car-in")
    assert (tap.admitted, tap.reason) == (False, "blocked")
    assert _inside(gw) == {}


def test_a_neighbours_taps_are_her_own_10s_after_the_held_cars_last_read(gw: Gateway) -> None:
    """李四 (R2, card naming no car) in the car behind taps at +5 s (refused with the stranger's
    11元, as documented), at +9 s (still within 10 s of the camera's hold) and at +12 s: her own."""
    _card(gw, NEIGHBOUR, "R2", None)
    show(gw, "car-in", STRANGER, T0)
    assert show(gw, "car-out", STRANGER, T0 + 4 * H).reason == "payment_due"
    assert (_tap(gw, NEIGHBOUR, T0 + 4 * H + 5 * S).reason, _inside(gw)) == ("payment_due", {STRANGER: None})
    assert _tap(gw, NEIGHBOUR, T0 + 4 * H + 9 * S).fee_fen == 1100
    late = _tap(gw, NEIGHBOUR, T0 + 4 * H + 12 * S)
    assert (late.admitted, late.reason, late.flags) == (True, "resident", ("no_entry_record",))
    assert _inside(gw) == {STRANGER: None}  # the stranger's stay still waits for its fee


def test_the_camera_reading_the_held_car_again_keeps_it_the_car_at_the_barrier(gw: Gateway) -> None:
    """The camera reads the stranger again at +8 s: a card at +14 s is 6 s after its last read."""
    _card(gw, NEIGHBOUR, "R2", None)
    show(gw, "car-in", STRANGER, T0)
    assert show(gw, "car-out", STRANGER, T0 + 4 * H).reason == "payment_due"
    assert _tap(gw, NEIGHBOUR, T0 + 4 * H + 5 * S).reason == "payment_due"
    assert show(gw, "car-out", STRANGER, T0 + 4 * H + 8 * S).reason == "payment_due"
    tap = _tap(gw, NEIGHBOUR, T0 + 4 * H + 14 * S)
    assert (tap.admitted, tap.reason, tap.fee_fen) == (False, "payment_due", 1100)
