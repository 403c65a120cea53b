"""reentry = "charge": a booth payment made on a stay whose fee was lowered since (the office moved
its monthly period's end on), when that stay's exit is missed. What is left of the payment once the
carried charges it covered are settled is more than the stay's fee now: the money is kept, as there
is no refund, and the stay's charge is what was paid, as an exit charges it; owing nothing then,
it carries nothing and is kept as a settled charge (docs/parking.md, *Missed reads*, *Paid, then
free*). The centre never has a charge owing less than
nothing, the daily report's unpaid is never below nothing, and the car is not let off part of its
next stay's fee with the money. (A renewal to a day still ahead makes the stay owe nothing at all:
then nothing is carried, and the payment is kept as an admin's close keeps it.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.timefmt import to_db
from tests.parking.conftest import T0, pay, report_of_t0_day, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)
CAR = "皖C44444"  # R3's monthly car


def _newest_upstream(gw: Gateway) -> dict[int, dict[str, Any]]:
    """Each charge as the centre files it: by its newest `charge` record."""
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'charge' ORDER BY seq").fetchall()
    return {record["charge_id"]: record for record in (json.loads(p) for (p,) in rows)}


def _paid_then_fee_lowered_then_back(gw: Gateway) -> str:
    """皖C44444's month ran out yesterday; it comes in at 09:00 paying (monthly_expired). The office
    renews it at 10:00 (billing stops: 5元 for 09:00-10:00). Its exit missed, it is in again at
    12:00 as a monthly car: the 5元 is carried. At 13:00 the office ends its period (the owner gave
    the space up): it pays from then. At 15:00 the driver pays at the booth the 12元 the quote asks
    (7元 for 13:00-15:00 and the 5元 carried). At 15:05 the office finds the month was paid to
    15:00 and moves the period's end there. The car leaves unseen and is in again at 16:00: the
    12:00 stay's fee is 5元 (15:00-16:00), less than the 7元 left of the payment once the 5元
    carried is settled. The 16:00 entry's event id."""
    vid = int(gw.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (CAR,)).fetchone()[0])
    with gw.conn:
        gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE id = ?", (to_db(T0 - D), vid))
    came = show(gw, "car-in", CAR, T0)
    assert "monthly_expired" in came.flags, came
    registry.update_vehicle(gw.conn, T0 + H, "admin", vid, {"monthly_until": T0 + 31 * D})
    again = show(gw, "car-in", CAR, T0 + 3 * H)
    assert again.admitted and "already_inside" in again.flags and again.reason == "monthly", again
    registry.update_vehicle(gw.conn, T0 + 4 * H, "admin", vid, {"monthly_until": None})
    quote = gw.parking.quote(gw.conn, CAR, T0 + 6 * H)
    assert (quote["fee_fen"], quote["carried_fen"], quote["due_fen"]) == (700, 500, 1200), quote
    with gw.conn:
        gw.parking.prepay(gw.conn, CAR, 1200, "cash", "", "booth", T0 + 6 * H)
    registry.update_vehicle(gw.conn, T0 + 6 * H + 5 * M, "admin", vid, {"monthly_until": T0 + 6 * H})
    back = show(gw, "car-in", CAR, T0 + 7 * H)
    assert back.admitted and "already_inside" in back.flags, back
    return back.event_id


def test_the_charge_carried_from_a_stay_that_paid_more_than_its_fee_is_what_it_paid(
    make_gw: Callable[..., Gateway],
) -> None:
    """What the accountant saw at the centre after the 16:00 re-entry: the 12:00 stay's 5元 charge
    with 7元 paid against it, owing -2元, and the day's report's unpaid at -2元. What they should
    see: the 5元 carried charge settled, and the 12:00 stay's charge the 7元 it paid (no refund),
    settled, owing nothing; the report charges 12元, all of it paid."""
    gw = make_gw(reentry="charge")
    _paid_then_fee_lowered_then_back(gw)
    carried, stay = _newest_upstream(gw).values()
    assert (carried["settled"], carried["amount_fen"]) == (True, 500), carried
    # Owing nothing, the stay carries nothing (carry_reentry): the 7元 is kept against a settled
    # charge of what was paid, as an admin's close keeps it (docs/parking.md, *Missed reads*).
    money = (stay["kind"], stay["settled"], stay["amount_fen"])
    assert money == ("exit", True, 700), stay
    report = report_of_t0_day(gw, T0 + 7 * H + M)["parking"]
    figures = {k: report[k] for k in ("charged_fen", "unpaid_fen", "paid_ahead_not_left_fen", "revenue_fen")}
    assert figures == {
        "charged_fen": 1200,
        "unpaid_fen": 0,
        "paid_ahead_not_left_fen": 0,
        "revenue_fen": 1200,
    }, figures


def test_the_money_kept_is_not_taken_off_the_next_stays_fee(make_gw: Callable[..., Gateway]) -> None:
    """After the 16:00 re-entry (its period ended at 15:00, the car came in paying again) the car
    leaves at 17:20: its 16:00 stay is 7元 (16:00-17:20), and it owes nothing carried. What the
    driver saw: asked 5元, the 2元 paid beyond the 12:00 stay's fee given back off this one (no
    exit gives money back so). What they should see: 7元; the day's report adds up once paid."""
    gw = make_gw(reentry="charge")
    _paid_then_fee_lowered_then_back(gw)
    held = show(gw, "car-out", CAR, T0 + 8 * H + 20 * M)
    assert (held.admitted, held.fee_fen) == (False, 700), (held.reason, held.fee_fen)
    quote = gw.parking.quote(gw.conn, CAR, T0 + 8 * H + 20 * M)
    assert (quote["fee_fen"], quote["carried_fen"], quote["due_fen"]) == (700, 0, 700), quote
    out = pay(gw, CAR, 700, T0 + 8 * H + 21 * M)
    assert out.admitted, out.reason
    report = report_of_t0_day(gw, T0 + 24 * H)["parking"]
    figures = {k: report[k] for k in ("charged_fen", "unpaid_fen", "paid_ahead_not_left_fen", "revenue_fen")}
    assert figures == {
        "charged_fen": 1900,
        "unpaid_fen": 0,
        "paid_ahead_not_left_fen": 0,
        "revenue_fen": 1900,
    }, figures
