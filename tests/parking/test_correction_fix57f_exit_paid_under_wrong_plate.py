"""Review 57f/57j: a fee taken at the exit against the wrong plate, found out afterwards.

Two temporary cars inside: 苏E12345 (in 09:00) and 苏E12346 (in 10:00). At 11:00 苏E12345 is at the
exit and the camera reads 苏E12346; the lane holds "苏E12346 · 5元", the guard takes the 5元, the
barrier opens and 苏E12345 drives out. The guard corrects that reading (纠正车牌). Review 57j found
that moving the exit onto the car that left automatically (57f) went wrong: a correction corrected
back moved nothing back, a held reading of a car that backed away took the real car's later exit,
and the money moved to another car with no payment record. So an exit correction moves nothing:
the admin puts the two cars right by hand (docs/parking.md, *Misread plates*), and the corrected
exit no longer makes the misread plate's car `left_since`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.parking.inside import CarInside, record_inside
from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from gateway.store.parking import ParkingError
from tests.parking.conftest import T0, pay, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
GONE, PARKED = "苏E12345", "苏E12346"


def _paid_under_the_wrong_plate_then_corrected(gw: Gateway) -> tuple[str, str]:
    assert show(gw, "car-in", GONE, T0).admitted
    assert show(gw, "car-in", PARKED, T0 + H).admitted
    held = show(gw, "car-out", PARKED, T0 + 2 * H)  # really 苏E12345 at the barrier
    assert not held.admitted and held.reason == "payment_due"
    out = pay(gw, PARKED, held.fee_fen or 0, T0 + 2 * H + M)
    assert out.admitted
    correct_plate(gw.conn, held.event_id, GONE, "guard1", T0 + 2 * H + 10 * M)
    return held.event_id, out.event_id


def _inside(gw: Gateway) -> set[str]:
    return {r[0] for r in gw.conn.execute("SELECT plate FROM stays WHERE exited_at IS NULL")}


def _as_it_was(gw: Gateway) -> None:
    assert _inside(gw) == {GONE}, f"cars recorded inside: {_inside(gw)}"
    live = gw.conn.execute("SELECT plate, kind, amount_fen FROM charges WHERE voided_at IS NULL").fetchall()
    assert live == [(PARKED, "exit", 500)], live
    on = gw.conn.execute("SELECT s.plate FROM payments p JOIN stays s ON s.id = p.stay_id").fetchall()
    assert on == [(PARKED,)]
    changes = gw.conn.execute(
        "SELECT topic, json_extract(payload, '$.change') FROM outbox WHERE topic IN ('charge', 'stay')"
    ).fetchall()
    assert not [c for c in changes if c[1] in ("voided", "reopened")], changes


def test_an_exit_correction_moves_no_stay_and_no_money(gw: Gateway) -> None:
    _paid_under_the_wrong_plate_then_corrected(gw)
    _as_it_was(gw)


@pytest.mark.parametrize("then", [PARKED, "苏E12347"])
def test_corrected_back_or_again_it_still_moves_nothing(gw: Gateway, then: str) -> None:
    held, _ = _paid_under_the_wrong_plate_then_corrected(gw)
    correct_plate(gw.conn, held, then, "guard1", T0 + 2 * H + 11 * M)
    _as_it_was(gw)


def test_only_the_held_reading_corrected_the_exit_that_let_the_car_out_still_stands(gw: Gateway) -> None:
    _paid_under_the_wrong_plate_then_corrected(gw)
    with pytest.raises(ParkingError) as refused, gw.conn:
        record_inside(gw.conn, gw.site, CarInside(PARKED, T0 + H), "出口误识别已纠正", "admin1", T0 + 3 * H)
    assert refused.value.http_code == "left_since"


def test_the_admin_puts_the_two_cars_right_by_hand(gw: Gateway) -> None:
    _, out = _paid_under_the_wrong_plate_then_corrected(gw)
    correct_plate(gw.conn, out, GONE, "admin1", T0 + 3 * H)  # the row that let the car out, in the plate log
    gone = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL AND plate = ?", (GONE,))
    gone_stay = gone.fetchone()[0]
    with gw.conn:
        gw.parking.close_stay(gw.conn, gone_stay, "出口误识别，已于11:01离场", "admin1", T0 + 3 * H + M)
    with gw.conn:
        record_inside(
            gw.conn, gw.site, CarInside(PARKED, T0 + H), "出口误识别已纠正", "admin1", T0 + 3 * H + 2 * M
        )
    assert _inside(gw) == {PARKED}
    later = show(gw, "car-out", PARKED, T0 + 4 * H)
    assert "no_entry_record" not in later.flags, f"{later.reason} {later.flags}"
    assert later.fee_fen == 900  # its own 10:00-13:00 stay: the 5元 taken at 11:00 was the car that left


def test_a_car_with_no_stay_corrected_away_leaves_the_admin_free_to_record_the_other(gw: Gateway) -> None:
    """The car that left had no entry on record. Its exit corrected away (the row that let it
    out), the misread plate's car is recorded back inside by the admin, not refused left_since."""
    assert show(gw, "car-in", PARKED, T0 + H).admitted
    held = show(gw, "car-out", PARKED, T0 + 2 * H)
    out = pay(gw, PARKED, held.fee_fen or 0, T0 + 2 * H + M)
    assert out.admitted
    correct_plate(gw.conn, out.event_id, GONE, "guard1", T0 + 2 * H + 10 * M)
    with gw.conn:
        said = record_inside(
            gw.conn, gw.site, CarInside(PARKED, T0 + H), "出口误识别已纠正", "admin1", T0 + 3 * H
        )
    assert said["plate"] == PARKED
