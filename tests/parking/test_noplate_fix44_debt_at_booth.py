"""A car with no plate let out by hand unpaid (policy.reentry = "charge") leaves its fee owed on its
ticket. Its driver comes back to the booth to pay: the quote on the ticket asks the 7元, and the
booth takes them, settling the charge as an exit would."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from gateway.parking.report import build_report
from gateway.runtime.gateway import Gateway
from tests.parking.test_api import serving
from tests.parking.test_no_plate_car import T0, TICKET_1, H, Site
from tests.parking.test_no_plate_review import _let_out_owing
from tests.parking.test_opened_by_hand import RELAY


def test_the_debt_on_a_ticket_is_taken_at_the_booth_when_the_driver_comes_back(
    make_gw: Callable[..., Gateway],
) -> None:
    """docs/parking.md, *A ticket is given once*: the fee stays owed on the ticket, "and the quote on
    the ticket (GET /api/parking/quote?plate=无牌-0303-07) shows it, for the estate to take by hand
    if the driver comes back"; and *Paying ahead at the booth*: "POST /api/parking/prepay records
    the fee due now ... GET /api/parking/quote asks the same". The next day the driver is back with
    the 7元 the quote asks: the booth refused them (409 refused, "无牌-0303-01 is not recorded
    inside", fix "take the fee at the exit lane when the car leaves", which a ticket never does).
    The money could not be recorded, the charge stayed unsettled for ever (the daily report's
    unpaid, the centre's charge) and the cash in the drawer matched no payment."""
    with serving(make_gw(reentry="charge", extra=RELAY)) as served:
        s = Site(*served)
        _let_out_owing(s)
        charge_id = s.read("SELECT id FROM charges")[0][0]
        s.now = T0 + 26 * H
        quote = s.client.get("/api/parking/quote", params={"plate": TICKET_1}, headers=s.auth).json()
        assert quote["due_fen"] == 700, quote
        body = {"plate": TICKET_1, "amount_fen": quote["due_fen"], "method": "cash"}
        paid = s.client.post("/api/parking/prepay", headers=s.auth, json=body)
        assert paid.status_code == 200, f"the booth refuses the 7元 the quote asks: {paid.text}"
        answer = paid.json()
        assert (answer["plate"], answer["amount_fen"], answer["leave_by"]) == (TICKET_1, 700, None)
        assert answer["charges_settled"] == [charge_id] and answer["receipt"], answer
        after = s.client.get("/api/parking/quote", params={"plate": TICKET_1}, headers=s.auth).json()
        assert after["due_fen"] == 0, after
        assert s.read("SELECT count(*) FROM charges WHERE settled_at IS NULL") == [(0,)]
        # Paid again (a second tablet, the quote read before): nothing is owed.
        again = s.client.post("/api/parking/prepay", headers=s.auth, json=body)
        assert again.status_code == 409, again.text

        # The centre hears the charge settled, as at an exit; the payment stands against it.
        rows = s.read("SELECT payload FROM outbox WHERE topic = 'charge' ORDER BY seq")
        told = json.loads(rows[-1][0])
        assert (told["charge_id"], told["settled"], told["change"]) == (charge_id, True, "settled"), told
        assert s.read("SELECT plate, lane, amount_fen, charge_id FROM payments") == [
            (TICKET_1, "booth", 700, charge_id)
        ]
        # The day's report: the 7元 taken, none of it paid ahead by a car not seen leaving.
        day = (T0 + 26 * H).date()
        report = s.gw.on_worker(
            lambda c: build_report(
                c,
                site_id=s.gw.site.config.site.id,
                lanes=s.gw.site.lanes,
                day=day,
                hour=6,
                tz=s.gw.site.tz,
                built_at=T0 + 26 * H + timedelta(days=1),
            )
        ).result(10)
        money = report["parking"]
        assert (money["revenue_fen"], money["paid_ahead_not_left_fen"]) == (700, 0), money


def test_a_ticket_owing_nothing_is_still_refused_at_the_booth(make_gw: Callable[..., Gateway]) -> None:
    """A ticket that owes nothing and has no car inside: nothing to take, as before."""
    with serving(make_gw()) as served:
        s = Site(*served)
        body = {"plate": TICKET_1, "amount_fen": 700, "method": "cash"}
        paid = s.client.post("/api/parking/prepay", headers=s.auth, json=body)
        assert paid.status_code == 409 and "not recorded inside" in paid.json()["error"]["message"], paid.text
        assert s.read("SELECT count(*) FROM payments") == [(0,)]
