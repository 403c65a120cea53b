"""Review 57f: a fee taken at the exit against the wrong plate, found out afterwards.

Two temporary cars inside: 苏E12345 (in 09:00) and 苏E12346 (in 10:00). At 11:00 苏E12345 is at the
exit and the camera reads 苏E12346; the lane holds "苏E12346 · 5元", the guard takes the 5元, the
barrier opens and 苏E12345 drives out. Looking at the snapshot the guard sees the misread and uses
纠正车牌 on that exit record (docs/guard-app.md: "a misread nobody noticed at the lane ... is corrected
there, with the same effects as at the lane"). Afterwards the records still say 苏E12346 left and
苏E12345 is parked: the car really inside is met with 无入场记录 at its exit, the car really gone
stays on the occupancy for good, and the admin's mirror (record 苏E12346 inside at its true 10:00)
is refused `left_since` because of the very exit that was corrected. Nobody can put it right.
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


def _paid_under_the_wrong_plate_then_corrected(gw: Gateway) -> str:
    assert show(gw, "car-in", GONE, T0).admitted
    assert show(gw, "car-in", PARKED, T0 + H).admitted
    held = show(gw, "car-out", PARKED, T0 + 2 * H)  # really 苏E12345 at the barrier
    assert not held.admitted and held.reason == "payment_due"
    out = pay(gw, PARKED, held.fee_fen or 0, T0 + 2 * H + M)
    assert out.admitted
    correct_plate(gw.conn, held.event_id, GONE, "guard1", T0 + 2 * H + 10 * M)
    return held.event_id


def _inside(gw: Gateway) -> set[str]:
    return {r[0] for r in gw.conn.execute("SELECT plate FROM stays WHERE exited_at IS NULL")}


def test_after_the_correction_the_records_say_which_car_is_inside(gw: Gateway) -> None:
    _paid_under_the_wrong_plate_then_corrected(gw)
    assert _inside(gw) == {PARKED}, f"cars recorded inside after the correction: {_inside(gw)}"


def test_the_car_still_parked_is_found_on_its_stay_at_its_exit(gw: Gateway) -> None:
    _paid_under_the_wrong_plate_then_corrected(gw)
    later = show(gw, "car-out", PARKED, T0 + 3 * H)
    assert "no_entry_record" not in later.flags, (
        f"苏E12346, parked since 10:00, is refused at 12:00: {later.reason} {later.flags}"
    )


def test_the_parked_car_is_inside_on_its_own_stay_not_left_since(gw: Gateway) -> None:
    _paid_under_the_wrong_plate_then_corrected(gw)
    with pytest.raises(ParkingError) as refused, gw.conn:
        record_inside(gw.conn, gw.site, CarInside(PARKED, T0 + H), "出口误识别已纠正", "admin1", T0 + 3 * H)
    assert refused.value.http_code == "already_inside"  # its stay is open again: nothing to record


def test_what_was_paid_is_the_car_that_left(gw: Gateway) -> None:
    _paid_under_the_wrong_plate_then_corrected(gw)
    live = gw.conn.execute(
        "SELECT plate, kind, amount_fen, settled_at IS NOT NULL FROM charges WHERE voided_at IS NULL"
    ).fetchall()
    assert live == [(GONE, "exit", 500, 1)], live
    on = gw.conn.execute("SELECT s.plate FROM payments p JOIN stays s ON s.id = p.stay_id").fetchall()
    assert on == [(GONE,)]
    stays = gw.conn.execute(
        "SELECT plate, exit_event IS NOT NULL FROM stays WHERE exited_at IS NOT NULL"
    ).fetchall()
    assert stays == [(GONE, 1)]


def test_a_car_with_no_stay_corrected_away_leaves_the_admin_free_to_record_the_other(gw: Gateway) -> None:
    """The car that left had no entry on record: nothing to move the exit onto. The misread
    plate's car is recorded back inside by the admin, not refused left_since for an exit that is
    another car's."""
    assert show(gw, "car-in", PARKED, T0 + H).admitted
    held = show(gw, "car-out", PARKED, T0 + 2 * H)
    assert pay(gw, PARKED, held.fee_fen or 0, T0 + 2 * H + M).admitted
    correct_plate(gw.conn, held.event_id, GONE, "guard1", T0 + 2 * H + 10 * M)
    with gw.conn:
        said = record_inside(
            gw.conn, gw.site, CarInside(PARKED, T0 + H), "出口误识别已纠正", "admin1", T0 + 3 * H
        )
    assert said["plate"] == PARKED
