"""A driver pays at the booth and is told `leave_by` (15 minutes of grace). The installer then lowers
parking.grace_minutes to 5 and restarts. The driver, leaving at minute 10, before the leave_by on
his receipt, is asked to pay again."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_toml, seed, show

CAR = "苏E12345"


def test_a_car_paid_ahead_keeps_the_leave_by_its_receipt_gave_across_a_grace_change(tmp_path: Path) -> None:
    data = tmp_path / "data"
    text = parking_toml(data)
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        assert show(gw, "car-in", CAR, T0).reason == "temporary"
        paid = T0 + timedelta(hours=3)
        due = gw.parking.quote(gw.conn, CAR, paid)["due_fen"]
        receipt = gw.parking.prepay(gw.conn, CAR, due, "cash", "", "booth", paid)
    finally:
        gw.conn.close()
    leave_by = datetime.fromisoformat(receipt["leave_by"])
    assert leave_by == paid + timedelta(minutes=15)

    lowered = text.replace("grace_minutes = 15", "grace_minutes = 5")
    assert lowered != text
    second = Gateway(parse_config(lowered, "site.toml"))
    try:
        out = show(second, "car-out", CAR, paid + timedelta(minutes=10))
    finally:
        second.conn.close()
    assert (out.admitted, out.fee_fen) == (True, 0), (
        f"paid at {paid:%H:%M}, receipt says leave by {leave_by:%H:%M}; "
        f"at {paid + timedelta(minutes=10):%H:%M} "
        f"the exit asks {out.fee_fen} fen more ({out.reason}) after grace_minutes was lowered"
    )
