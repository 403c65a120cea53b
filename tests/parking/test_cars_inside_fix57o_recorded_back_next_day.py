"""57o: the case efe8ef6 left alone. A car that paid 7元 at the booth at 11:00 is marked left by
mistake (标记离场 on the wrong row) at 11:01; the admin records it back inside at its true entry
(09:00) the next morning at 08:00. 40967a1 voids the close's kept 7元 charge and moves the payment
onto the new stay; the car leaves at 09:30 paying 28元 of a 35元 stay. Day one's report (sent,
and rebuilt: the void came after its end) charges 7元; day two's charges the whole 35元, the 7元
paid on day one in it. The reports add up to 42元 charged, 35元 taken, nothing unpaid: the fee
paid on day one is counted twice. Review 58a: day two's report takes the voided 7元 off (冲红:
`charges_reversed`, `reversed_fen`), day one's stays as sent."""

from __future__ import annotations

from datetime import timedelta

from gateway.parking.inside import CarInside, record_inside
from gateway.parking.report import build_report
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, pay, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
CAR = "苏E12345"


def _report(gw: Gateway, day_offset: int) -> dict:
    day = (T0 + timedelta(days=day_offset)).date()
    built = build_report(
        gw.conn,
        site_id=gw.site.config.site.id,
        lanes=gw.site.lanes,
        day=day,
        hour=6,
        tz=gw.site.tz,
        built_at=T0 + 48 * H,
    )
    return dict(built["parking"])


def test_reports_count_the_fee_once(gw: Gateway) -> None:
    assert show(gw, "car-in", CAR, T0).admitted
    due = gw.parking.quote(gw.conn, CAR, T0 + 2 * H)["due_fen"]
    with gw.conn:
        gw.parking.prepay(gw.conn, CAR, due, "qr", "WX4200001", "guard1", T0 + 2 * H)
    stay = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()[0]
    with gw.conn:
        gw.parking.close_stay(gw.conn, stay, "车已离场", "admin1", T0 + 2 * H + M)
    with gw.conn:  # next morning, 08:00
        record_inside(gw.conn, gw.site, CarInside(CAR, T0), "误点离场，恢复在场", "admin1", T0 + 23 * H)
    held = show(gw, "car-out", CAR, T0 + 24 * H + 30 * M)
    assert pay(gw, CAR, held.fee_fen or 0, T0 + 24 * H + 31 * M).admitted
    days = [_report(gw, 0), _report(gw, 1)]
    charged = sum(d["charged_fen"] for d in days)
    taken = sum(d["revenue_fen"] for d in days)
    unpaid = sum(d["unpaid_fen"] for d in days)
    assert charged == taken + unpaid, (
        f"day one charged {days[0]['charged_fen']}, day two {days[1]['charged_fen']}: "
        f"{charged} fen charged, {taken} taken, {unpaid} unpaid"
    )
    assert (days[0]["charged_fen"], days[1]["charges_reversed"], days[1]["reversed_fen"]) == (700, 1, 700)
