"""A visitor's QR forwarded by WeChat to a second car while the pass's car is parked. Review 59n.

f2d9739 (Review 59k) kept the first car's plate on the stay the second scan (already_inside)
opened, so the first car stayed listed; but that stay was a new one, entered at the second scan:
the first car's own stay, entered at 09:00, was closed as a `reentry` (a missed exit) and, under
the default policy.reentry = "void", its fee dropped. Parked 09:00 to 12:00 (3 h: 9元), it paid 7元
for 1.5 h, and the cars-inside list showed it in since 10:30. docs/parking.md (One car, one
passage): "the pass's car inside stays listed as it is", on its own stay and entry time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import open_stays
from gateway.store.passes import NewPass, create_pass, get_pass
from gateway.timefmt import from_db
from tests.parking.conftest import T0, pay

S = timedelta(seconds=1)
H = timedelta(hours=1)
FIRST, SECOND = "苏E99999", "苏E77777"
LATER = T0 + 90 * 60 * S  # 10:30: the QR forwarded to a friend


def _show(gw: Gateway, lane: str, kind: str, value: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, kind, value, 0.97, at, f"{lane}-{kind}"))  # type: ignore[arg-type]


def _entered(gw: Gateway, plate: str) -> datetime:
    (stay,) = [s for s in open_stays(gw.conn) if s["plate"] == plate]
    at = stay["entered_at"]
    entered = at if isinstance(at, datetime) else from_db(at)
    assert entered is not None
    return entered


def _first_car_in(gw: Gateway, pass_plate: str) -> tuple[str, datetime]:
    """The pass's car in at 09:00: on the QR, its plate read 2 s later (a pass registered on foot),
    or on the pass's own plate (registered with it); the pass's QR and the car's entry."""
    visit = NewPass(
        "visitor", "钱七", T0 - H, T0 + 24 * H, host_building="3栋", host_unit="2单元", plate=pass_plate
    )
    qr = str(get_pass(gw.conn, create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1"))["qr"])
    if not pass_plate:
        _show(gw, "car-in", "qr", qr, T0)
    _show(gw, "car-in", "plate", FIRST, T0 + 2 * S)
    return qr, T0 + 2 * S if pass_plate else T0


@pytest.mark.parametrize("pass_plate", ["", FIRST], ids=["on_foot", "with_its_plate"])
def test_first_car_keeps_its_entry_time_and_pays_its_whole_stay(gw: Gateway, pass_plate: str) -> None:
    qr, entered = _first_car_in(gw, pass_plate)
    assert _show(gw, "car-in", "qr", qr, LATER).flags == ("already_inside",)
    second = _show(gw, "car-in", "plate", SECOND, LATER + 2 * S)
    assert (second.admitted, second.reason) == (True, "temporary")
    assert _entered(gw, FIRST) == entered, "the first car listed as in since the second car's scan"
    assert _entered(gw, SECOND) == LATER + 2 * S

    first_out = _show(gw, "car-out", "plate", FIRST, T0 + 3 * H)  # 12:00: 3 h parked
    # The test tariff (tests/conftest.py TARIFF_TOML): 5元 the first hour, 2元 each hour after.
    assert (first_out.reason, first_out.fee_fen) == ("payment_due", 900), "billed from 10:30 only"
    assert pay(gw, FIRST, first_out.fee_fen, T0 + 3 * H + 30 * S).admitted
    second_out = _show(gw, "car-out", "plate", SECOND, LATER + 2 * H)
    assert (second_out.fee_fen, second_out.flags) == (700, ())  # 10:30 to 12:30, a temporary car
    assert pay(gw, SECOND, second_out.fee_fen, LATER + 2 * H + 30 * S).admitted
    assert open_stays(gw.conn) == []


def test_second_car_unread_is_a_car_with_no_entry_record(gw: Gateway) -> None:
    """The second car's plate not read: the QR's entry opens no stay over the first car's, so that
    car has none; the first car is still found, and paid for, on its plate."""
    qr, _ = _first_car_in(gw, "")
    assert _show(gw, "car-in", "qr", qr, LATER).flags == ("already_inside",)
    assert [s["plate"] for s in open_stays(gw.conn)] == [FIRST]
    first_out = _show(gw, "car-out", "plate", FIRST, T0 + 3 * H)
    assert (first_out.reason, first_out.fee_fen) == ("payment_due", 900)
    second_out = _show(gw, "car-out", "plate", SECOND, T0 + 4 * H)
    assert "no_entry_record" in second_out.flags
