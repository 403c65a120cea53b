"""A blocked car, refused on its plate, and a card or QR that is not its own shown for it a moment
later, at the car entrance or the car exit. Review 59n.

6a24308 (Review 59k) refused a pass's QR scanned at an entrance within 10 s after a plate refused
`blocked`. The same stolen car still came in on a neighbour's resident card that names no car (let
in as a temporary car, its stay carrying no plate), and, refused at the exit, went out on a
forwarded visitor pass's QR (flagged no_entry_record, its own stay left open for good).
docs/parking.md (One car, one passage): a car refused there (`blocked` ...) whose card is shown
within 10 s "is decided afresh, never let through on the strength of the refusal"; docs/guard-app.md:
a blocked car is refused "at the car entrance and exit".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import open_stays
from gateway.store.passes import NewPass, create_pass, get_pass
from gateway.store.registry import set_blocked
from tests.parking.conftest import T0

S = timedelta(seconds=1)
H = timedelta(hours=1)
STOLEN = "皖B33333"  # R2's car (conftest)
CARD = "0012345678"  # R3's card, naming no car: lent to the thief, or cloned from a fob


def _show(gw: Gateway, lane: str, kind: str, value: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, kind, value, 0.97, at, f"{lane}-{kind}"))  # type: ignore[arg-type]


def _neighbours_card(gw: Gateway) -> str:
    (r3,) = gw.conn.execute("SELECT id FROM residents WHERE ref = 'R3'").fetchone()
    gw.conn.execute("INSERT INTO credentials (kind, value, resident_id) VALUES ('card', ?, ?)", (CARD, r3))
    gw.conn.commit()
    return CARD


def _visitor_qr(gw: Gateway) -> str:
    """A visitor's pass with her own car's plate, that car not inside: its QR forwarded to the thief."""
    visit = NewPass(
        "visitor", "李四", T0 - H, T0 + 4 * H, host_building="3栋", host_unit="2单元", plate="苏E55555"
    )
    return str(get_pass(gw.conn, create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1"))["qr"])


def _stolen(gw: Gateway, at: datetime) -> None:
    set_blocked(gw.conn, at, "guard1", ("plate", STOLEN), True, "公安协查")


def test_stolen_car_refused_on_its_plate_is_not_let_in_on_a_neighbours_card(gw: Gateway) -> None:
    card = _neighbours_card(gw)
    _stolen(gw, T0 - H)
    assert _show(gw, "car-in", "plate", STOLEN, T0).reason == "blocked"
    tap = _show(gw, "car-in", "card", card, T0 + 2 * S)
    assert (tap.admitted, tap.reason, tap.flags) == (False, "blocked", ("refused_again",))
    again = _show(gw, "car-in", "card", card, T0 + 4 * S)  # the first beep not heard
    assert (again.admitted, again.reason) == (False, "blocked")
    assert open_stays(gw.conn) == []


def test_a_card_after_the_qr_refused_with_the_stolen_car_is_still_that_car(gw: Gateway) -> None:
    card, qr = _neighbours_card(gw), _visitor_qr(gw)
    _stolen(gw, T0 - H)
    assert _show(gw, "car-in", "plate", STOLEN, T0).reason == "blocked"
    assert _show(gw, "car-in", "qr", qr, T0 + 2 * S).reason == "blocked"
    tap = _show(gw, "car-in", "card", card, T0 + 4 * S)
    assert (tap.admitted, tap.reason) == (False, "blocked")
    assert open_stays(gw.conn) == []


def test_stolen_car_refused_at_the_exit_is_not_let_out_on_a_visitor_qr(gw: Gateway) -> None:
    """R2's car parked at 08:00, reported stolen at 08:30 (公安协查: keep it in); at 09:00 the thief's
    plate is refused at the exit and 2 s later he scans a pass's QR forwarded to him."""
    assert _show(gw, "car-in", "plate", STOLEN, T0 - H).admitted
    qr = _visitor_qr(gw)
    _stolen(gw, T0 - H / 2)
    assert _show(gw, "car-out", "plate", STOLEN, T0).reason == "blocked"
    out = _show(gw, "car-out", "qr", qr, T0 + 2 * S)
    assert (out.admitted, out.reason, out.flags) == (False, "blocked", ("refused_again",))
    assert [s["plate"] for s in open_stays(gw.conn)] == [STOLEN]  # still inside, as the police asked


def test_stolen_car_refused_at_the_exit_is_not_let_out_on_a_neighbours_card(gw: Gateway) -> None:
    assert _show(gw, "car-in", "plate", STOLEN, T0 - H).admitted
    card = _neighbours_card(gw)
    _stolen(gw, T0 - H / 2)
    assert _show(gw, "car-out", "plate", STOLEN, T0).reason == "blocked"
    out = _show(gw, "car-out", "card", card, T0 + 2 * S)
    assert (out.admitted, out.reason) == (False, "blocked")
    assert [s["plate"] for s in open_stays(gw.conn)] == [STOLEN]


def test_the_card_is_its_own_again_once_the_blocked_car_is_gone(gw: Gateway) -> None:
    """Later than 10 s, or once the lane's camera has read the car behind, the card is decided as
    itself: R3 is not blocked, the stolen car is."""
    card = _neighbours_card(gw)
    _stolen(gw, T0 - H)
    assert _show(gw, "car-in", "plate", STOLEN, T0).reason == "blocked"
    late = _show(gw, "car-in", "card", card, T0 + 15 * S)
    assert late.reason != "blocked", (late.admitted, late.reason, late.flags)
    assert _show(gw, "car-in", "plate", STOLEN, T0 + H).reason == "blocked"
    assert _show(gw, "car-in", "plate", "皖C44444", T0 + H + 3 * S).admitted  # R3's own car behind it
    behind = _show(gw, "car-in", "card", card, T0 + H + 5 * S)
    assert behind.reason != "blocked", (behind.admitted, behind.reason, behind.flags)
