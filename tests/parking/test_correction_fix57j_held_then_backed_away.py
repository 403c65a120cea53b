"""Review 57j: A held decision corrected moved an exit of ANOTHER hold onto the corrected car.

gateway/store/corrections.py _CLOSED_AT_CORRECTED_EXIT takes, for a corrected `payment_due`
decision, any admitted exit of the misread plate at that lane within the hour after it as "the
decision that let the car out", though a hold ends when the car has not been held there for
HOLD_GAP (30 min: it backed away; back at the barrier it is held anew, gateway/store/holds.py).

苏E12345 (in 09:00) drives to the exit at 11:00, is read as 苏E12346 and held for 苏E12346's fee;
the driver backs away and parks again. At 11:45 苏E12346 itself comes to the exit, is held, pays
and leaves. At 15:00 the office sees in the plate log that the 11:00 reading was 苏E12345 and
corrects it. That 11:00 decision let nobody out, yet the correction reopens 苏E12346's stay (a car
gone is counted inside again), closes 苏E12345's (a car parked, met with 无入场记录 at its exit),
voids 苏E12346's paid exit charge and rewrites its 11:45 exit record as 苏E12345's.
"""

from __future__ import annotations

from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0, gw, make_gw, pay, show  # noqa: F401  (fixtures)

H = timedelta(hours=1)
M = timedelta(minutes=1)
PARKED, LEFT = "苏E12345", "苏E12346"


def _office_corrects_the_held_reading(gw: Gateway) -> str:  # noqa: F811
    assert show(gw, "car-in", PARKED, T0).admitted
    assert show(gw, "car-in", LEFT, T0 + H).admitted
    misread = show(gw, "car-out", LEFT, T0 + 2 * H)  # really 苏E12345; it backs away unpaid
    assert not misread.admitted and misread.reason == "payment_due"
    own = show(gw, "car-out", LEFT, T0 + 2 * H + 45 * M)  # 苏E12346 itself, a new hold
    assert not own.admitted and own.reason == "payment_due"
    out = pay(gw, LEFT, own.fee_fen or 0, T0 + 2 * H + 46 * M)
    assert out.admitted
    correct_plate(gw.conn, misread.event_id, PARKED, "office1", T0 + 6 * H)
    return out.event_id


def test_the_car_that_left_stays_left_and_the_parked_car_stays_inside(gw: Gateway) -> None:  # noqa: F811
    _office_corrects_the_held_reading(gw)
    inside = {r[0] for r in gw.conn.execute("SELECT plate FROM stays WHERE exited_at IS NULL")}
    assert inside == {PARKED}, f"苏E12346 paid and left at 11:46, 苏E12345 parked: inside on record {inside}"


def test_the_other_cars_exit_record_is_not_rewritten(gw: Gateway) -> None:  # noqa: F811
    exit_event = _office_corrects_the_held_reading(gw)
    rewritten = gw.conn.execute(
        "SELECT plate FROM latest_plate_corrections WHERE event_id = ?", (exit_event,)
    ).fetchone()
    assert rewritten is None, f"苏E12346's own exit at 11:46 now says {rewritten[0]}"


def test_the_fee_paid_stays_with_the_car_that_paid_it(gw: Gateway) -> None:  # noqa: F811
    _office_corrects_the_held_reading(gw)
    live = gw.conn.execute("SELECT plate FROM charges WHERE voided_at IS NULL AND kind = 'exit'").fetchall()
    assert live == [(LEFT,)], f"the exit charges standing: {live}"
