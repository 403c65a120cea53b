"""What was paid at the booth for a charge carried from a missed exit (policy reentry = "charge"),
when the stay it was paid on ends with no exit to settle it: an admin's close, or the car back in
again with nothing owed on that stay (docs/parking.md, *Admin correction*, *Missed reads*, *Paid,
then free*). The payment settles the carried charges it covered, and only the rest is kept against
a charge of the stay: the car is not asked them again, and the day's report adds up."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.timefmt import to_db
from tests.parking.conftest import T0, report_of_t0_day, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
CAR = "苏E12345"


def _charges(gw: Gateway) -> list[tuple[str, int, bool]]:
    rows = gw.conn.execute("SELECT kind, amount_fen, settled_at IS NOT NULL FROM charges ORDER BY id")
    return [(kind, amount, bool(settled)) for kind, amount, settled in rows.fetchall()]


def _settled_upstream(gw: Gateway) -> list[dict[str, object]]:
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'charge' ORDER BY seq").fetchall()
    return [r for r in (json.loads(p) for (p,) in rows) if r.get("change") == "settled"]


def _adds_up(money: dict[str, int]) -> bool:
    return (
        money["charged_fen"] - money["unpaid_fen"] + money["paid_ahead_not_left_fen"] == money["revenue_fen"]
    )


def test_carried_charge_paid_at_the_booth_is_not_asked_again_after_an_admin_close(
    make_gw: Callable[..., Gateway],
) -> None:
    """reentry = "charge". 苏E12345 is in at 09:00; its exit is missed and it comes in again at 12:00:
    9元 (09:00-12:00) is carried to its next exit. At 13:00 the driver pays at the booth what the
    quote asks: 14元 (this stay's 5元 and the 9元 carried). The car leaves while the exit camera is
    down; the admin closes its stay at 13:10. Next morning it comes in at 09:00 and leaves at
    09:10, inside the free 30 minutes.

    What the driver saw: held at the barrier for 9元 again, the carried charge it paid at the
    booth the day before (the admin's close kept all 14元 against a 14元 charge of the 12:00 stay
    and left the 9元 charge unsettled; the day's report said 9元 unpaid). What they should see:
    the barrier opens (nothing owed: the booth payment covered the carried charge; parking.md
    *Paid, then free*: what was paid stands against this stay's charge "less what the charges
    carried ... owed", and a kept payment is kept, not counted twice)."""
    gw = make_gw(reentry="charge")
    show(gw, "car-in", CAR, T0)
    back = show(gw, "car-in", CAR, T0 + 3 * H)
    assert back.admitted and "already_inside" in back.flags
    quote = gw.parking.quote(gw.conn, CAR, T0 + 4 * H)
    assert (quote["fee_fen"], quote["carried_fen"], quote["due_fen"]) == (500, 900, 1400), quote
    with gw.conn:
        gw.parking.prepay(gw.conn, CAR, 1400, "cash", "", "booth", T0 + 4 * H)
    stay = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()[0]
    with gw.conn:
        gw.parking.close_stay(
            gw.conn, stay, "exit camera down, car seen leaving", "admin1", T0 + 4 * H + 10 * M
        )
    # The 9元 carried is settled by the payment; the 5元 left is kept against the stay's exit charge.
    assert _charges(gw) == [("reentry", 900, True), ("exit", 500, True)]
    assert [(r["kind"], r["amount_fen"], r["owed_fen"]) for r in _settled_upstream(gw)] == [
        ("reentry", 900, 900)
    ]
    money = report_of_t0_day(gw, T0 + 24 * H)["parking"]
    assert (money["charged_fen"], money["revenue_fen"], money["unpaid_fen"]) == (1400, 1400, 0), money
    assert _adds_up(money), money
    next_day = T0 + 24 * H
    show(gw, "car-in", CAR, next_day)
    out = show(gw, "car-out", CAR, next_day + 10 * M)
    assert (out.admitted, out.fee_fen) == (True, 0), (
        f"asked {out.fee_fen} fen again ({out.reason}) for the charge paid at the booth; "
        f"the day's report: {money}"
    )


def test_carried_charge_paid_at_the_booth_is_not_asked_again_after_a_free_reentry(
    make_gw: Callable[..., Gateway],
) -> None:
    """reentry = "charge". 苏E12345 is in at 09:00 and, its exit missed, in again at 12:00: 9元
    carried. At 12:10 the driver pays at the booth the 9元 the quote asks (the 12:00 stay is still
    within its free 30 minutes). Its exit is missed again and it comes in at 12:20: the 12:00 stay
    owes nothing, so nothing is carried from it. It leaves at 12:30, free.

    What the driver saw: held at the barrier for the 9元 it paid at 12:10 (the re-entry kept the
    9元 against a 9元 exit charge of the 12:00 stay and left the carried charge unsettled). What
    they should see: the barrier opens; the payment settled the carried charge, and nothing else
    was charged."""
    gw = make_gw(reentry="charge")
    show(gw, "car-in", CAR, T0)
    show(gw, "car-in", CAR, T0 + 3 * H)
    quote = gw.parking.quote(gw.conn, CAR, T0 + 3 * H + 10 * M)
    assert (quote["fee_fen"], quote["carried_fen"], quote["due_fen"]) == (0, 900, 900), quote
    with gw.conn:
        gw.parking.prepay(gw.conn, CAR, 900, "cash", "", "booth", T0 + 3 * H + 10 * M)
    again = show(gw, "car-in", CAR, T0 + 3 * H + 20 * M)
    assert again.admitted and "already_inside" in again.flags
    assert _charges(gw) == [("reentry", 900, True)]
    assert [(r["kind"], r["amount_fen"], r["access_event_id"]) for r in _settled_upstream(gw)] == [
        ("reentry", 900, again.event_id)
    ]
    out = show(gw, "car-out", CAR, T0 + 3 * H + 30 * M)
    assert (out.admitted, out.fee_fen) == (True, 0), (out.reason, out.fee_fen)
    money = report_of_t0_day(gw, T0 + 24 * H)["parking"]
    assert (money["charged_fen"], money["revenue_fen"], money["unpaid_fen"]) == (900, 900, 0), money
    assert _adds_up(money), money


def test_a_carried_charge_the_booth_payment_did_not_cover_is_still_owed_after_an_admin_close(
    make_gw: Callable[..., Gateway],
) -> None:
    """reentry = "charge". 苏E12345 is in at 09:00 and pays its 5元 at the booth at 10:00 (nothing
    carried yet). A charge from before then comes onto the plate (a stay of the car's given back,
    its 9元 carried: written here as the store holds one). The admin closes the stay at 10:10.

    The 5元 covered no carried charge: it is kept against the stay (a 5元 exit charge), and the
    9元, not paid, is still asked at the car's next exit."""
    gw = make_gw(reentry="charge")
    show(gw, "car-in", CAR, T0)
    with gw.conn:
        gw.parking.prepay(gw.conn, CAR, 500, "cash", "", "booth", T0 + H)
    subject = gw.conn.execute("SELECT subject FROM stays WHERE plate = ?", (CAR,)).fetchone()[0]
    with gw.conn:
        gw.conn.execute(
            "INSERT INTO charges (subject, plate, class, billing, kind, tariff_version, ended_at, "
            "amount_fen, at) VALUES (?, ?, 'car', 'temporary', 'reentry', 't1', ?, 900, ?)",
            (subject, CAR, to_db(T0 + 30 * M), to_db(T0 + 30 * M)),
        )
    stay = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()[0]
    with gw.conn:
        gw.parking.close_stay(gw.conn, stay, "exit camera down", "admin1", T0 + H + 10 * M)
    assert _charges(gw) == [("reentry", 900, False), ("exit", 500, True)]
    show(gw, "car-in", CAR, T0 + 2 * H)
    out = show(gw, "car-out", CAR, T0 + 2 * H + 10 * M)
    assert (out.admitted, out.fee_fen) == (False, 900), (out.reason, out.fee_fen)
