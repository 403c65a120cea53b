"""One visitor QR (a pass registered on foot) forwarded by WeChat to two friends who drive in one
after the other. Review 59k.

The first car comes in on the QR, its plate read (one car on the pass: docs/parking.md). An hour
later the second scans the same QR (admitted `already_inside`, soft anti-passback) and its plate is
read 2 s later (decided as itself, a temporary car). docs/parking.md: "a pass inside already, its
plate read first or after a QR that let the pass in again (`already_inside`: the pass's car inside
stays listed as it is)"; test_visitor_fix50b_own_car_inside.py holds it for a pass with a plate.
The first car's stay was closed as a re-entry and the new one carried no plate: it was gone from
the cars inside, held at its exit as no_entry_record, and a plateless stay stayed open for good.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import open_stays
from gateway.store.passes import NewPass, create_pass, get_pass
from tests.parking.conftest import T0, pay

S = timedelta(seconds=1)
H = timedelta(hours=1)
FIRST, SECOND = "苏E99999", "苏E77777"


def _show(gw: Gateway, lane: str, kind: str, value: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, kind, value, 0.97, at, f"{lane}-{kind}"))  # type: ignore[arg-type]


def test_second_car_on_a_forwarded_qr_does_not_erase_the_first(gw: Gateway) -> None:
    visit = NewPass("visitor", "钱七", T0 - H, T0 + 24 * H, host_building="3栋", host_unit="2单元")
    qr = str(get_pass(gw.conn, create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1"))["qr"])
    _show(gw, "car-in", "qr", qr, T0)
    _show(gw, "car-in", "plate", FIRST, T0 + 2 * S)  # one car on the pass, its plate known
    again = _show(gw, "car-in", "qr", qr, T0 + H)
    assert (again.admitted, again.flags) == (True, ("already_inside",))
    second = _show(gw, "car-in", "plate", SECOND, T0 + H + 2 * S)
    assert (second.admitted, second.reason) == (True, "temporary")
    assert sorted(str(s["plate"]) for s in open_stays(gw.conn)) == sorted([FIRST, SECOND])

    first_out = _show(gw, "car-out", "plate", FIRST, T0 + 3 * H)
    assert (first_out.reason, first_out.flags) == ("payment_due", ()), (first_out.reason, first_out.flags)
    assert pay(gw, FIRST, first_out.fee_fen, T0 + 3 * H + 30 * S).admitted
    second_out = _show(gw, "car-out", "plate", SECOND, T0 + 4 * H)
    assert "no_entry_record" not in second_out.flags
    assert pay(gw, SECOND, second_out.fee_fen, T0 + 4 * H + 30 * S).admitted
    assert open_stays(gw.conn) == []
