"""A blocked car, refused on its plate at the car entrance, and another visitor pass's QR shown for it
a moment later (a pass registered on foot, its QR forwarded by WeChat to the driver). Review 59k.

docs/guard-app.md (Visitors): a pass whose plate was blocked ("a driver who threatened a guard") ->
"its car is refused `blocked` at the car entrance and exit on its QR as on its plate".
docs/parking.md (One car, one passage): a car refused there (`blocked` ...) whose card or pass is
shown within 10 s of its plate "is decided afresh, never let through on the strength of the
refusal". The friend's QR, decided alone, opened the barrier for the blocked car as a visitor's,
its stay carrying no plate.
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
BLOCKED = "粤B12345"
STOLEN = "皖B33333"  # a resident's car (conftest), reported stolen


def _qr(gw: Gateway, name: str, plate: str | None = None) -> str:
    visit = NewPass("visitor", name, T0 - H, T0 + 4 * H, host_building="3栋", host_unit="2单元", plate=plate)
    return str(get_pass(gw.conn, create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1"))["qr"])


def _show(gw: Gateway, lane: str, kind: str, value: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, kind, value, 0.97, at, f"{lane}-{kind}"))  # type: ignore[arg-type]


def test_blocked_visitor_car_is_refused_on_a_friends_forwarded_qr(gw: Gateway) -> None:
    _qr(gw, "王五", plate=BLOCKED)  # yesterday's trouble-maker's pass
    friend_qr = _qr(gw, "李四")  # registered on foot; its QR forwarded to him
    set_blocked(gw.conn, T0 - H, "guard1", ("plate", BLOCKED), True, "威胁保安")
    plate = _show(gw, "car-in", "plate", BLOCKED, T0)
    assert (plate.admitted, plate.reason) == (False, "blocked")
    qr = _show(gw, "car-in", "qr", friend_qr, T0 + 2 * S)
    assert (qr.admitted, qr.reason, qr.flags) == (False, "blocked", ("refused_again",))
    assert open_stays(gw.conn) == []


def test_stolen_resident_car_is_refused_on_a_visitor_qr(gw: Gateway) -> None:
    friend_qr = _qr(gw, "李四")
    set_blocked(gw.conn, T0 - H, "guard1", ("plate", STOLEN), True, "公安协查")
    assert _show(gw, "car-in", "plate", STOLEN, T0).reason == "blocked"
    qr = _show(gw, "car-in", "qr", friend_qr, T0 + 2 * S)
    assert (qr.admitted, qr.reason, qr.flags) == (False, "blocked", ("refused_again",))
    assert open_stays(gw.conn) == []


def test_the_qr_is_its_own_again_once_the_blocked_car_is_long_gone(gw: Gateway) -> None:
    """Later than 10 s the QR is decided as itself: the friend's pass is not blocked, his car is."""
    friend_qr = _qr(gw, "李四")
    set_blocked(gw.conn, T0 - H, "guard1", ("plate", STOLEN), True, "公安协查")
    assert _show(gw, "car-in", "plate", STOLEN, T0).reason == "blocked"
    qr = _show(gw, "car-in", "qr", friend_qr, T0 + 15 * S)
    assert (qr.admitted, qr.reason) == (True, "visitor")
