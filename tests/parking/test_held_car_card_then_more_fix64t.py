"""A card or QR taken for the car held to pay at the exit (Review 64Rm, 4ab840de) is that car's
decision at the lane: the resident's own card tapped after it, and the entrance camera beside the
exit reading the car, see it. Review 64Rs.

4ab840de kept such a tap as the car's last decision only, not as its decision at the lane: a held car
that paid at the booth and was let out on the household's other card left a second time, with no
entry record, on its owner's card tapped 2 s later (the first beep not heard); and the entrance
camera beside the exit reading the held car after a neighbour's card was taken for it let it in as a
car coming in (already_inside) where, without the card, it is the neighbouring lane's car.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import open_stays
from gateway.store.registry_credentials import add_card
from tests.parking.conftest import T0, report_of_t0_day, show

S = timedelta(seconds=1)
H = timedelta(hours=1)
FIRST, SECOND = "皖A11111", "皖A22222"  # R1's two cars, both listed on B001 (conftest)
STRANGER = "苏E54321"
OWN, OTHER, NEIGHBOUR = "0000000001", "0000000002", "0000000004"


def _card(gw: Gateway, number: str, resident: str, plate: str | None) -> None:
    (rid,) = gw.conn.execute("SELECT id FROM residents WHERE ref = ?", (resident,)).fetchone()
    car = gw.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (plate,)).fetchone() if plate else None
    add_card(gw.conn, T0 - H, "admin", number, rid, car[0] if car else None, None, None, "", "")


def _tap(gw: Gateway, number: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented("car-out", "card", number, 1.0, at, "reader"))


def _inside(gw: Gateway) -> dict[str, str | None]:
    return {str(s["plate"]): s["slot"] for s in open_stays(gw.conn)}


@pytest.mark.parametrize("rule", ["guard", "charge", "open"])
def test_paid_held_car_let_out_on_the_other_card_then_own_card_is_that_exit_again(make_gw, rule) -> None:  # type: ignore[no-untyped-def]
    gw = make_gw(exit_without_entry=rule)
    _card(gw, OWN, "R1", None)
    _card(gw, OTHER, "R1", FIRST)
    show(gw, "car-in", FIRST, T0)
    show(gw, "car-in", SECOND, T0 + H)
    held = show(gw, "car-out", SECOND, T0 + 4 * H)
    assert (held.reason, held.fee_fen) == ("payment_due", 900)
    gw.parking.prepay(gw.conn, SECOND, 900, "cash", "", "booth", T0 + 4 * H + S)
    other = _tap(gw, OTHER, T0 + 4 * H + 3 * S)
    assert (other.value, other.admitted) == (SECOND, True)
    own = _tap(gw, OWN, T0 + 4 * H + 5 * S)
    assert "no_entry_record" not in own.flags and "again" in own.flags, own.flags
    assert _inside(gw) == {FIRST: "B001"}
    assert report_of_t0_day(gw, T0 + 5 * H)["vehicles"]["exits"]["total"] == 1


def test_unpaid_held_car_other_card_then_own_card_asks_the_fee_again(gw: Gateway) -> None:
    _card(gw, OWN, "R1", None)
    _card(gw, OTHER, "R1", FIRST)
    show(gw, "car-in", FIRST, T0)
    show(gw, "car-in", SECOND, T0 + H)
    assert show(gw, "car-out", SECOND, T0 + 4 * H).reason == "payment_due"
    other = _tap(gw, OTHER, T0 + 4 * H + 3 * S)
    assert (other.value, other.admitted, other.fee_fen) == (SECOND, False, 900)
    own = _tap(gw, OWN, T0 + 4 * H + 5 * S)
    assert (own.admitted, own.reason, own.fee_fen) == (False, "payment_due", 900)
    assert _inside(gw) == {FIRST: "B001", SECOND: None}


def test_entrance_camera_reading_the_held_car_after_a_card_taken_for_it_is_the_neighbouring_lanes(
    gw: Gateway,
) -> None:
    _card(gw, NEIGHBOUR, "R2", None)
    show(gw, "car-in", STRANGER, T0)
    assert show(gw, "car-out", STRANGER, T0 + 4 * H).reason == "payment_due"
    tap = _tap(gw, NEIGHBOUR, T0 + 4 * H + 3 * S)
    assert (tap.kind, tap.value, tap.reason, tap.fee_fen) == ("plate", STRANGER, "payment_due", 1100)
    before = _inside(gw)
    ghost = show(gw, "car-in", STRANGER, T0 + 4 * H + 5 * S)
    assert not ghost.admitted and "neighbour_lane" in ghost.flags, (ghost.reason, ghost.flags)
    assert _inside(gw) == before
