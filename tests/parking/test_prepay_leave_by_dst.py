"""Paying ahead at the booth gives the car the grace period (15 minutes) to leave, and the receipt's
`leave_by` says until when: 15 real minutes, also in the hour the clocks go back (an estate abroad,
on Europe/Berlin)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import parking_toml, seed, show

BERLIN = ZoneInfo("Europe/Berlin")
CAR = "苏E12345"


def berlin_gw(tmp: Path) -> Gateway:
    text = parking_toml(tmp / "data").replace(
        'name = "停车测试小区"\n', 'name = "停车测试小区"\ntimezone = "Europe/Berlin"\n', 1
    )
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp)
    return Gateway(cfg)


def test_a_driver_leaving_before_the_receipts_leave_by_owes_nothing_more(tmp_path: Path) -> None:
    """A temporary car pays at the booth at 02:50 summer time, ten minutes before the clocks go back
    to 02:00. Its receipt says leave by 02:05 winter time (15 minutes later), not 03:05 (75
    minutes), and leaving a minute before that it is let out without paying again."""
    gw = berlin_gw(tmp_path)
    try:
        assert show(gw, "car-in", CAR, datetime(2025, 10, 26, 1, 0, tzinfo=BERLIN)).reason == "temporary"
        paid = datetime(2025, 10, 26, 2, 50, tzinfo=BERLIN)
        due = gw.parking.quote(gw.conn, CAR, paid)["due_fen"]
        receipt = gw.parking.prepay(gw.conn, CAR, due, "cash", "", "booth", paid)
        leave_by = datetime.fromisoformat(receipt["leave_by"])
        assert receipt["leave_by"] == "2025-10-26T02:05:00+01:00"
        out = show(gw, "car-out", CAR, (leave_by.astimezone(UTC) - timedelta(minutes=1)).astimezone(BERLIN))
        assert (out.admitted, out.fee_fen) == (True, 0), f"paid at {paid}, told to leave by {leave_by}"
    finally:
        gw.conn.close()
