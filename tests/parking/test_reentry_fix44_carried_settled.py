"""reentry = "charge": a booth payment made on a stay that carried a charge from an earlier missed
exit paid that charge first, and only the rest of it paid the stay. When that stay's exit is missed
in turn, the car's re-entry settles the carried charge the payment covered and carries the stay's
fee less the rest only (docs/parking.md, *Missed reads*): the centre, filing each charge by its
newest record, has the paid one settled and no charge owing less than nothing, and the car is
asked at the exit what it still owes, and no more once it has paid that."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from gateway.parking.report import build_report
from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0, report_of_t0_day, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
CAR = "苏E12345"


def _charges(gw: Gateway) -> list[tuple[str, int, bool]]:
    rows = gw.conn.execute("SELECT kind, amount_fen, settled_at IS NOT NULL FROM charges ORDER BY id")
    return [(kind, amount, bool(settled)) for kind, amount, settled in rows.fetchall()]


def _adds_up(money: dict[str, int]) -> bool:
    return (
        money["charged_fen"] - money["unpaid_fen"] + money["paid_ahead_not_left_fen"] == money["revenue_fen"]
    )


def _owing(money: dict[str, int]) -> tuple[int, int, int]:
    """A report's charged, unpaid and paid-ahead-not-left figures."""
    return money["charged_fen"], money["unpaid_fen"], money["paid_ahead_not_left_fen"]


def _newest_upstream(gw: Gateway) -> dict[int, dict[str, Any]]:
    """Each charge as the centre files it: by its newest `charge` record."""
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'charge' ORDER BY seq").fetchall()
    return {record["charge_id"]: record for record in (json.loads(p) for (p,) in rows)}


def _report_to_14(gw: Gateway, built_at: datetime) -> dict[str, Any]:
    """The parking figures of a report whose period ended at 14:00 on T0's day."""
    report = build_report(
        gw.conn,
        site_id=gw.site.config.site.id,
        lanes=gw.site.lanes,
        day=T0.date() - timedelta(days=1),
        hour=14,
        tz=gw.site.tz,
        built_at=built_at,
    )
    assert report["period_end"] == (T0 + 5 * H).isoformat(), report["period_end"]
    return dict(report["parking"])


def _paid_at_the_booth_then_missed_again(gw: Gateway) -> str:
    """苏E12345 in at 09:00; its exit missed, in again at 12:00: 9元 (09:00-12:00) carried. At
    13:00 the driver pays at the booth the 14元 the quote asks (the 12:00 stay's 5元 and the 9元
    carried), then leaves while the exit camera is down, and comes in again at 15:00: the 12:00
    stay, billed to 15:00, is 9元, of which 5元 was paid at 13:00. The 15:00 entry's event id."""
    show(gw, "car-in", CAR, T0)
    show(gw, "car-in", CAR, T0 + 3 * H)
    quote = gw.parking.quote(gw.conn, CAR, T0 + 4 * H)
    assert (quote["fee_fen"], quote["carried_fen"], quote["due_fen"]) == (500, 900, 1400), quote
    with gw.conn:
        gw.parking.prepay(gw.conn, CAR, 1400, "cash", "", "booth", T0 + 4 * H)
    back = show(gw, "car-in", CAR, T0 + 6 * H)
    assert back.admitted and "already_inside" in back.flags
    return back.event_id


def test_the_carried_charge_a_booth_payment_paid_goes_upstream_settled_at_the_reentry(
    make_gw: Callable[..., Gateway],
) -> None:
    """What the accountant saw at the centre after the 15:00 re-entry: the 9元 charge paid at the
    booth still unsettled, owing 9元, and the 12:00 stay's 9元 charge owing -5元 (all 14元 put
    against it). What they should see: the first settled, the second paid 5元 and owing 4元; the
    car is asked those 4元 at its exit (its 15:00 stay is within its free 30 minutes)."""
    gw = make_gw(reentry="charge")
    _paid_at_the_booth_then_missed_again(gw)
    first, second = _newest_upstream(gw).values()
    assert (first["settled"], first["amount_fen"]) == (True, 900), first
    money = (second["settled"], second["amount_fen"], second["paid_fen"], second["owed_fen"])
    assert money == (False, 900, 500, 400), second
    assert _charges(gw) == [("reentry", 900, True), ("reentry", 900, False)], _charges(gw)
    owing = report_of_t0_day(gw, T0 + 6 * H + M)["parking"]
    assert (owing["charged_fen"], owing["revenue_fen"], owing["unpaid_fen"]) == (1800, 1400, 400), owing
    # A report whose period ended at 14:00, built now, says what it said then: the 9元 charge was
    # unpaid, and the 14元 paid ahead by a car not seen leaving.
    then = _report_to_14(gw, T0 + 6 * H + M)
    assert _owing(then) == (900, 900, 1400), then
    assert _adds_up(then), then
    out = show(gw, "car-out", CAR, T0 + 6 * H + 10 * M)
    assert (out.admitted, out.fee_fen) == (False, 400), (out.reason, out.fee_fen)


def test_what_the_booth_asks_after_the_reentry_once_paid_is_not_asked_again(
    make_gw: Callable[..., Gateway],
) -> None:
    """After the 15:00 re-entry the booth asks the 4元 still owed, and the driver pays it at 15:05.
    The exit camera is down again; the admin closes the stay at 15:10. Next morning the car comes
    in at 09:00 and leaves at 09:10, inside its free 30 minutes.

    What the driver saw: held at the barrier for 4元 again (the 4元 paid settled nothing: the first
    carried charge, still unsettled, owed 9元, more than it, and the second owed -5元). What they
    should see: the barrier opens; every charge is settled and the day's report owes nothing."""
    gw = make_gw(reentry="charge")
    _paid_at_the_booth_then_missed_again(gw)
    quote = gw.parking.quote(gw.conn, CAR, T0 + 6 * H + 5 * M)
    assert (quote["fee_fen"], quote["carried_fen"], quote["due_fen"]) == (0, 400, 400), quote
    with gw.conn:
        gw.parking.prepay(gw.conn, CAR, 400, "qr", "WX-2", "booth", T0 + 6 * H + 5 * M)
    stay = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()[0]
    with gw.conn:
        gw.parking.close_stay(gw.conn, stay, "exit camera down", "admin1", T0 + 6 * H + 10 * M)
    next_day = T0 + 24 * H
    show(gw, "car-in", CAR, next_day)
    out = show(gw, "car-out", CAR, next_day + 10 * M)
    assert (out.admitted, out.fee_fen) == (True, 0), (
        f"asked {out.fee_fen} fen again ({out.reason}) for the charges paid at the booth"
    )
    # The day's report, as things stood at its end (before that exit): nothing owed.
    money = report_of_t0_day(gw, next_day + H)["parking"]
    assert (money["charged_fen"], money["revenue_fen"], money["unpaid_fen"]) == (1800, 1800, 0), money
    assert _charges(gw)[:2] == [("reentry", 900, True), ("reentry", 900, True)], _charges(gw)


def test_a_misread_reentry_corrected_gives_the_stay_back_what_the_carried_charge_did_not_take(
    make_gw: Callable[..., Gateway],
) -> None:
    """The 15:00 entry was another car's, 苏E12346, misread: the guard corrects it at 15:02, and
    苏E12345's 12:00 stay is open again, its 15:00 charge undone, its 14元 booth payment back with
    it. The 9元 carried charge that payment paid stays paid (the driver paid it at 13:00). At its
    exit at 15:10 the car pays the stay's 11元 (12:00-15:10) less the 5元 left of the 14元: 6元.
    The day's report as it stood before that exit adds up: 14元 taken, 9元 of it for a charge
    settled, 5元 paid ahead by a car not seen leaving."""
    gw = make_gw(reentry="charge")
    back = _paid_at_the_booth_then_missed_again(gw)
    correct_plate(gw.conn, back, "苏E12346", "guard1", T0 + 6 * H + 2 * M)
    money = report_of_t0_day(gw, T0 + 6 * H + 5 * M)["parking"]
    assert _owing(money) == (900, 0, 500), money
    assert _adds_up(money), money
    out = show(gw, "car-out", CAR, T0 + 6 * H + 10 * M)
    assert (out.admitted, out.fee_fen) == (False, 600), (out.reason, out.fee_fen)


def test_a_misread_reentry_corrected_back_is_restored_upstream_with_its_own_figures(
    make_gw: Callable[..., Gateway],
) -> None:
    """The guard corrects the 15:00 entry to 苏E12346 at 15:02, then sees the snapshot was
    苏E12345 after all and corrects it back at 15:04: the 12:00 stay's charge stands again, and the
    centre is sent it as the entry sent it: 9元, 5元 paid ahead against it, 4元 owed (not the
    whole 14元 paid, owing -5元: 9元 of it paid the carried charge, settled at 15:00)."""
    gw = make_gw(reentry="charge")
    back = _paid_at_the_booth_then_missed_again(gw)
    correct_plate(gw.conn, back, "苏E12346", "guard1", T0 + 6 * H + 2 * M)
    correct_plate(gw.conn, back, CAR, "guard1", T0 + 6 * H + 4 * M)
    first, second = _newest_upstream(gw).values()
    assert (first["settled"], first["amount_fen"]) == (True, 900), first
    money = (second.get("change"), second["amount_fen"], second["paid_fen"], second["owed_fen"])
    assert money == ("restored", 900, 500, 400), second
    out = show(gw, "car-out", CAR, T0 + 6 * H + 10 * M)
    assert (out.admitted, out.fee_fen) == (False, 400), (out.reason, out.fee_fen)
