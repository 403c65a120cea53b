"""Review 57f: a car marked left by mistake while still inside, put back by the admin's mirror
(record it inside again at its true entry), after it had paid ahead at the booth.

docs/parking.md *Admin correction*: the close keeps what the stay paid ahead (no refund), against a
settled exit charge. *Cars already inside*: the close is mirrored by POST /api/parking/stays, "may
then be recorded again at the true time, also one before the close". Nothing says the booth payment
follows: the driver who paid 7元 at 11:00 and drives to the exit at 11:05 (well within his grace)
is asked the whole fee again, and the day's report books the car's stay twice.
"""

from __future__ import annotations

from datetime import timedelta

from gateway.parking.inside import CarInside, record_inside
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, report_of_t0_day, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
CAR = "苏E12345"


def test_paid_car_marked_left_by_mistake_and_put_back_is_not_asked_again(gw: Gateway) -> None:
    came = show(gw, "car-in", CAR, T0)
    assert came.admitted and came.reason == "temporary"
    due = gw.parking.quote(gw.conn, CAR, T0 + 2 * H)["due_fen"]
    assert due > 0
    with gw.conn:
        gw.parking.prepay(gw.conn, CAR, due, "qr", "WX4200001", "guard1", T0 + 2 * H)
    stay = gw.conn.execute("SELECT id FROM stays WHERE plate = ? AND exited_at IS NULL", (CAR,)).fetchone()[0]
    # 11:01 the admin marks the wrong car as left (标记离场 on the wrong row), sees it at once and
    # records it back inside at its true entry, 09:00.
    with gw.conn:
        gw.parking.close_stay(gw.conn, stay, "车已离场", "admin1", T0 + 2 * H + M)
    with gw.conn:
        record_inside(
            gw.conn, gw.site, CarInside(CAR, T0), "误点离场，恢复在场", "admin1", T0 + 2 * H + 2 * M
        )
    # 11:05: the driver, who paid at 11:00, is at the exit within his grace.
    out = show(gw, "car-out", CAR, T0 + 2 * H + 5 * M)
    assert out.admitted and not out.fee_fen, (
        f"paid {due} fen at the booth at 11:00, asked again at 11:05: {out.reason} {out.fee_fen} fen"
    )


def test_the_days_report_charges_the_stay_once(gw: Gateway) -> None:
    came = show(gw, "car-in", CAR, T0)
    assert came.admitted
    due = gw.parking.quote(gw.conn, CAR, T0 + 2 * H)["due_fen"]
    with gw.conn:
        gw.parking.prepay(gw.conn, CAR, due, "qr", "WX4200001", "guard1", T0 + 2 * H)
    stay = gw.conn.execute("SELECT id FROM stays WHERE plate = ? AND exited_at IS NULL", (CAR,)).fetchone()[0]
    with gw.conn:
        gw.parking.close_stay(gw.conn, stay, "车已离场", "admin1", T0 + 2 * H + M)
    with gw.conn:
        record_inside(
            gw.conn, gw.site, CarInside(CAR, T0), "误点离场，恢复在场", "admin1", T0 + 2 * H + 2 * M
        )
    out = show(gw, "car-out", CAR, T0 + 2 * H + 5 * M)
    if not out.admitted:  # the guard takes what the lane asks, to clear the lane
        taken = gw.parking.pay_at_lane("car-out", CAR, out.fee_fen or 0, "cash", "", "guard1", out.at + M)
        assert gw.decide_now(taken).admitted
    paid = gw.conn.execute("SELECT coalesce(sum(amount_fen), 0) FROM payments").fetchone()[0]
    assert paid == due, f"one stay 09:00-11:05 of {due} fen, {paid} fen taken from the driver"
    report = report_of_t0_day(gw, T0 + 24 * H)
    assert report["parking"]["paid_ahead_not_left_fen"] == 0
