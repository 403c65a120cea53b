"""Review 57f: a misread entry corrected by the office after the car has left (docs/guard-app.md,
车牌记录 Plate log: "a misread nobody noticed at the lane ... is corrected there, with the same
effects as at the lane").

苏E12345 comes in at 09:00 read as 苏E12346 (a temporary stay opens under 苏E12346). At 11:00 it
leaves: read right, it has no entry record and (exit_without_entry = "charge") pays a day's fee,
30元, and drives out. At 15:00 the office sees the misread in the plate log and corrects the entry
to 苏E12345. The stay moves onto 苏E12345 and stays OPEN: the car, gone since 11:00, is counted
inside (a space taken), and when it comes back the next morning it is a re-entry that (with
policy.reentry = "charge") bills it for the whole night it was away, on top of the day's fee it
paid. The misread plate's stay is not closed at the car's real exit either.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0, pay, report_of_t0_day, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
REAL, MISREAD = "苏E12345", "苏E12346"


def _corrected_after_it_left(gw: Gateway) -> None:
    came = show(gw, "car-in", MISREAD, T0)
    assert came.admitted and came.reason == "temporary"
    held = show(gw, "car-out", REAL, T0 + 2 * H)
    assert not held.admitted and "no_entry_record" in held.flags
    assert pay(gw, REAL, held.fee_fen or 0, T0 + 2 * H + M).admitted
    correct_plate(gw.conn, came.event_id, REAL, "office1", T0 + 6 * H)


def test_a_car_gone_is_not_recorded_inside_after_the_office_corrects_its_entry(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(exit_without_entry="charge", reentry="charge")
    _corrected_after_it_left(gw)
    inside = gw.conn.execute("SELECT plate, entered_at FROM stays WHERE exited_at IS NULL").fetchall()
    assert inside == [], f"recorded inside after it paid and left at 11:00: {inside}"


def test_back_next_morning_it_is_not_billed_for_the_night_it_was_away(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(exit_without_entry="charge", reentry="charge")
    _corrected_after_it_left(gw)
    back = show(gw, "car-in", REAL, T0 + 24 * H)
    carried = gw.conn.execute(
        "SELECT coalesce(sum(amount_fen), 0) FROM charges WHERE kind = 'reentry' AND voided_at IS NULL"
    ).fetchone()[0]
    assert "already_inside" not in back.flags and carried == 0, (
        f"back at 09:00 next day: flags {back.flags}, {carried} fen carried for a stay it did not have"
    )


def test_the_days_fee_it_paid_is_its_stays_one_charge(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(exit_without_entry="charge", reentry="charge")
    _corrected_after_it_left(gw)
    live = gw.conn.execute(
        "SELECT kind, stay_id IS NOT NULL, amount_fen, settled_at IS NOT NULL FROM charges "
        "WHERE voided_at IS NULL"
    ).fetchall()
    assert live == [("exit", 1, 3000, 1)], f"one stay 09:00-11:00, paid 30元 at its exit: charges {live}"
    unlinked = gw.conn.execute("SELECT count(*) FROM payments WHERE charge_id IS NULL").fetchone()[0]
    assert unlinked == 0
    report = report_of_t0_day(gw, T0 + 24 * H)
    assert report["parking"]["paid_ahead_not_left_fen"] == 0
    sent = [
        r[0] for r in gw.conn.execute("SELECT payload FROM outbox WHERE topic LIKE '%charge' ORDER BY seq")
    ]
    assert any('"voided"' in p and '"no_entry"' in p for p in sent), sent
