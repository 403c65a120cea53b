"""docs/parking.md, *At the exit lane*: a receipt number is a payment sent again only for the same
car, amount and stay: the car back another day, owing the same fee, with an old receipt number
typed by mistake, is answered `receipt_used` and still owes it. A visitor's car on a pass
registered without a plate (its stay carries the plate the camera read as it came in) was
answered `already_paid` ("nothing is owed ... take nothing again") instead, held at the barrier
owing 9元."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gateway.core import Presented
from gateway.store.parking import ParkingError
from gateway.store.passes import NewPass, create_pass
from tests.parking.conftest import T0

H = timedelta(hours=1)
S = timedelta(seconds=1)
M = timedelta(minutes=1)
PLATE = "苏E77777"
RECEIPT = "QR-TXN-0001"


def _show(gw: Any, lane: str, kind: str, value: str, at: Any) -> Any:
    return gw.handle(Presented(lane, kind, value, 0.97, at, f"{lane}-{kind}"))


def test_old_receipt_typed_for_a_pass_car_back_another_day_is_receipt_used(make_gw: Any) -> None:
    """The car pays 9元 at the exit with receipt QR-TXN-0001 and comes back the next day on the
    same pass; held for 9元 again, the guard types yesterday's receipt number: it is refused as a
    number already used, and the car still owes its 9元."""
    gw = make_gw()
    visit = NewPass("visitor", "钱七", T0 - H, T0 + 72 * H, host_building="3栋", host_unit="2单元")
    pid = create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1")
    qr = gw.conn.execute(
        "SELECT value FROM credentials WHERE kind = 'qr' AND pass_id = ?", (pid,)
    ).fetchone()[0]
    for day in (0, 1):
        start = T0 + day * 24 * H
        assert _show(gw, "car-in", "qr", qr, start).admitted
        assert _show(gw, "car-in", "plate", PLATE, start + 2 * S).admitted  # the same passage
        held = _show(gw, "car-out", "qr", qr, start + 3 * H - 2 * M)
        assert held.reason == "payment_due" and held.fee_fen == 900, held
        take = gw.parking.pay_at_lane(
            "car-out", "", 900, "cash", RECEIPT, "guard1", start + 3 * H, pass_id=pid
        )
        if day == 0:
            assert gw.decide_now(take).admitted
            continue
        with pytest.raises(ParkingError) as refused:
            gw.decide_now(take)
        assert refused.value.http_code == "receipt_used", (str(refused.value), refused.value.fix)
    owing = gw.conn.execute(
        "SELECT count(*) FROM stays WHERE subject = ? AND exited_at IS NULL", (f"visitor:{pid}",)
    ).fetchone()[0]
    assert owing == 1
