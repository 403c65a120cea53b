"""A car held to pay at the exit, and a card or QR that is not its own tapped for it a moment later:
the household's other car's card, or a neighbour's handed through the window. Review 64H.

张三 (R1) has two cars on B001 and one card, naming 皖A11111, the car on the slot. 皖A22222, B001's
second car, was held for 9元; the driver tapped that card by habit (docs/parking.md, *One car, one
passage*) and the barrier opened as 皖A11111 leaving, free: the 9元 never taken, 皖A11111's stay
closed though it was still parked on B001, B001 handed to the car that had just driven out, whose
stay stayed open for good. A stranger held for 11元 went out the same way on a neighbour's card.
docs/parking.md: "A car held to pay stays one hold, its plate's".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import open_stays
from gateway.store.registry_credentials import add_card
from tests.parking.conftest import T0, pay, report_of_t0_day, show

S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
CARD = "0012345678"
FIRST, SECOND = "皖A11111", "皖A22222"  # R1's two cars, both listed on B001 (conftest)
STRANGER = "苏E54321"


def _tap(gw: Gateway, lane: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, "card", CARD, 1.0, at, "reader"))


def _card(gw: Gateway, resident: str, plate: str | None) -> None:
    (rid,) = gw.conn.execute("SELECT id FROM residents WHERE ref = ?", (resident,)).fetchone()
    car = gw.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (plate,)).fetchone() if plate else None
    add_card(gw.conn, T0 - H, "admin", CARD, rid, car[0] if car else None, None, None, "", "")


def _inside(gw: Gateway) -> dict[str, str | None]:
    return {str(s["plate"]): s["slot"] for s in open_stays(gw.conn)}


def test_the_second_car_held_is_not_let_out_on_the_card_of_the_car_parked_on_the_slot(gw: Gateway) -> None:
    _card(gw, "R1", FIRST)
    assert show(gw, "car-in", FIRST, T0).billing == "slot"
    assert "shared_slot" in show(gw, "car-in", SECOND, T0 + H).flags  # B001's second car: it pays
    held = show(gw, "car-out", SECOND, T0 + 4 * H)
    assert (held.admitted, held.reason, held.fee_fen) == (False, "payment_due", 900)

    tapped = _tap(gw, "car-out", T0 + 4 * H + 3 * S)
    assert (tapped.admitted, tapped.reason, tapped.fee_fen) == (False, "payment_due", 900)
    assert "refused_again" in tapped.flags  # one car held, not a second turned away
    again = _tap(gw, "car-out", T0 + 4 * H + 6 * S)  # the first beep not heard
    assert (again.admitted, again.fee_fen) == (False, 900)
    assert _inside(gw) == {FIRST: "B001", SECOND: None}  # 皖A11111 never moved off B001

    quote = gw.parking.lane_quote(gw.conn, "car-out", T0 + 4 * H + 10 * S)
    assert quote is not None and (quote["plate"], quote["due_fen"]) == (SECOND, 900), quote
    assert pay(gw, SECOND, 900, T0 + 4 * H + M).admitted
    assert _inside(gw) == {FIRST: "B001"}
    assert report_of_t0_day(gw, T0 + 5 * H)["held_for_payment"] == 1


def test_a_stranger_held_is_not_let_out_on_a_neighbours_card(gw: Gateway) -> None:
    """李四's card, naming no car, handed through the window 3 s after the stranger was held."""
    _card(gw, "R2", None)
    show(gw, "car-in", STRANGER, T0)
    held = show(gw, "car-out", STRANGER, T0 + 4 * H)
    assert (held.reason, held.fee_fen) == ("payment_due", 1100)
    tapped = _tap(gw, "car-out", T0 + 4 * H + 3 * S)
    assert (tapped.admitted, tapped.reason, tapped.fee_fen) == (False, "payment_due", 1100)
    assert "no_entry_record" not in tapped.flags
    assert pay(gw, STRANGER, 1100, T0 + 4 * H + M).admitted
    assert _inside(gw) == {}


def test_the_card_is_its_own_again_later_or_once_the_held_car_has_gone(gw: Gateway) -> None:
    """Later than 10 s after the car's last decision, or once the lane's camera has read another
    car at the barrier, the card is decided as itself (李四 leaving: no entry record, let out)."""
    _card(gw, "R2", None)
    show(gw, "car-in", STRANGER, T0)
    assert show(gw, "car-out", STRANGER, T0 + 4 * H).reason == "payment_due"
    late = _tap(gw, "car-out", T0 + 4 * H + 15 * S)
    assert (late.admitted, late.flags) == (True, ("no_entry_record",))
    assert show(gw, "car-out", STRANGER, T0 + 5 * H).reason == "payment_due"
    assert show(gw, "car-out", "皖B33333", T0 + 5 * H + 3 * S).flags == ("no_entry_record",)  # 李四's car
    behind = _tap(gw, "car-out", T0 + 5 * H + 5 * S)
    assert behind.admitted and behind.reason != "payment_due"


def test_a_car_held_with_no_entry_record_leaves_on_the_card_that_let_it_in(
    make_gw: Callable[..., Gateway],
) -> None:
    """李四 came in on his card alone in a friend's car (its plate unread: the stay carries none). At
    the exit the camera reads the friend's plate, a car with no entry record held for a day's fee;
    his card tapped then is the car it let in, as before: it names the stay the plate cannot."""
    gw = make_gw(exit_without_entry="charge")
    _card(gw, "R2", None)
    assert _tap(gw, "car-in", T0).admitted
    held = show(gw, "car-out", STRANGER, T0 + 20 * M)
    assert (held.reason, held.flags) == ("payment_due", ("no_entry_record",))
    tapped = _tap(gw, "car-out", T0 + 20 * M + 3 * S)
    assert tapped.admitted and "no_entry_record" not in tapped.flags
    assert open_stays(gw.conn) == []
