"""Review 57j: A car that did leave unseen and came back unseen, put right by the admin afterwards, gets the
fee it paid for its first stay taken off its second.

Both lane cameras are down (a switch failed) from 10:30 to 13:30, the barriers held open.
苏E12345 came in at 09:00 (seen), paid its 7元 at the booth at 11:00, drove out at 11:05 unseen
and came back at 12:00 unseen. At 14:00 the admin puts the records right, in the only order the
gateway takes (the car cannot be recorded inside while its old stay is open: already_inside):
已离场 on the old stay ("left unseen during the outage"), then records it inside since 12:00 (from
the CCTV). 12:00 is before the close's time (14:00, when the admin pressed it), so
inside.py _paid_before_close takes it for a car marked left by mistake: the first stay's 7元 charge
is voided upstream and the 7元 moves onto the new stay. At 15:00 the car is asked 9元 - 7元 = 2元
for a 12:00-15:00 stay: the estate loses the 7元 of the 09:00-11:05 stay, and the centre is told
that stay was never charged.
"""

from __future__ import annotations

from datetime import timedelta

from gateway.parking.inside import CarInside, record_inside
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, gw, make_gw, show  # noqa: F401  (fixtures)

H = timedelta(hours=1)
M = timedelta(minutes=1)
CAR = "苏E12345"


def _put_right_after_the_outage(gw: Gateway) -> int:  # noqa: F811
    assert show(gw, "car-in", CAR, T0).admitted
    due = gw.parking.quote(gw.conn, CAR, T0 + 2 * H)["due_fen"]
    assert due == 700
    with gw.conn:
        gw.parking.prepay(gw.conn, CAR, due, "qr", "WX4200001", "guard1", T0 + 2 * H)
    stay = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()[0]
    with gw.conn:  # 14:00: cameras back, the admin puts the outage right
        gw.parking.close_stay(gw.conn, stay, "停电期间未拍到离场", "admin1", T0 + 5 * H)
    with gw.conn:
        record_inside(
            gw.conn, gw.site, CarInside(CAR, T0 + 3 * H), "停电期间进场，录像核实", "admin1", T0 + 5 * H + M
        )
    return stay


def test_the_first_stays_fee_stays_charged(gw: Gateway) -> None:  # noqa: F811
    first = _put_right_after_the_outage(gw)
    kept = gw.conn.execute(
        "SELECT coalesce(sum(amount_fen), 0) FROM charges WHERE stay_id = ? AND voided_at IS NULL", (first,)
    ).fetchone()[0]
    assert kept == 700, f"the 09:00-11:05 stay paid 7元 at the booth; its charges standing: {kept} fen"


def test_the_second_stay_pays_its_own_fee(gw: Gateway) -> None:  # noqa: F811
    _put_right_after_the_outage(gw)
    out = show(gw, "car-out", CAR, T0 + 6 * H)  # 15:00, in since 12:00: 5元 + 2 x 2元
    assert out.fee_fen == 900, f"12:00-15:00 stay asked {out.fee_fen} fen"
