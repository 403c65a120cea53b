"""The accountant's daily report on a day with the new kinds of car (review s43report): a car with
no plate let out owing, a car recorded inside that took its slot from a later car, and cars parked
overnight at the period's start."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.parking.inside import CarInside, record_inside
from gateway.parking.report import build_report, report_csv
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, report_of_t0_day, show
from tests.parking.test_api import serving
from tests.parking.test_no_plate_car import TICKET_1, Site
from tests.parking.test_no_plate_review import _let_out_owing
from tests.parking.test_opened_by_hand import RELAY

H = timedelta(hours=1)
A, B = "皖A11111", "皖A22222"  # R1's two cars, both listed on its one slot B001


def test_quote_on_the_ticket_of_a_car_let_out_unpaid_asks_only_its_debt(
    make_gw: Callable[..., Gateway],
) -> None:
    """policy.reentry = "charge", exit_without_entry = "charge" (an estate charging a day's fee
    for a missed entry read). A car with no plate (无牌-0303-01, in 09:00) is held at 11:00 for
    7元 and the guard lets it out by hand: the 7元 stays owed on its ticket. docs/parking.md, *A ticket
    is given once*: "the quote on the ticket (GET /api/parking/quote?plate=无牌-0303-07) shows it, for
    the estate to take by hand if the driver comes back", and a ticket with no stay open "is never
    charged a day's fee". The driver comes back at 15:00 to settle: the quote asked 37元 (a day's fee
    of 30元, as for a stranger's plate with no entry record, plus the 7元), so the guard asked 30元
    the driver never owed. It asks the 7元 carried and nothing else (as it does under
    exit_without_entry = "guard")."""
    with serving(make_gw(reentry="charge", exit_without_entry="charge", extra=RELAY)) as served:
        s = Site(*served)
        _let_out_owing(s)
        s.now = T0 + 6 * H
        quote = s.client.get("/api/parking/quote", params={"plate": TICKET_1}, headers=s.auth).json()
        assert (quote["carried_fen"], quote["fee_fen"], quote["due_fen"]) == (700, 0, 700), quote


def test_second_car_re_decided_is_counted_as_what_it_came_in_as(gw: Gateway) -> None:
    """Day one. A has stood on B001 since 07:00 under the old system. B drives in at 09:00 and,
    the gateway not knowing A, takes the slot free (its entry record: resident). At 10:00 the admin
    records A inside since 07:00: A takes the slot and B "becomes the slot's second car from its own
    entry, decided again as that entry would have been" (temporary, shared_slot). A leaves at 11:00,
    B at 12:00 paying 09:00-11:00 as a temporary car.

    The report said one resident came in and one temporary car went out for B's single stay
    (entries resident 1 / temporary 0; B's exit temporary), and flagged no shared_slot car that day.
    docs/parking.md: "a shared slot's second car's exit `temporary` ... so the report's exits by
    kind match its entries". B's entry is counted as what it was decided again as, the slot's
    second car: a temporary entry flagged shared_slot, matching its temporary exit; the access
    record of B's entry itself is kept as it was written."""
    assert show(gw, "car-in", B, T0).reason == "resident"
    made = record_inside(
        gw.conn, gw.site, CarInside(A, T0 - 2 * H), "day one: parked before", "admin1", T0 + H
    )
    assert made["second_car"]["billing"] == "temporary"
    assert show(gw, "car-out", A, T0 + 2 * H).reason == "resident"
    b_out = show(gw, "car-out", B, T0 + 3 * H)
    assert (b_out.reason, b_out.fee_fen) == ("payment_due", 700)
    gw.decide_now(gw.parking.pay_at_lane("car-out", B, 700, "cash", "", "guard1", T0 + 3 * H))

    report = report_of_t0_day(gw, T0 + 24 * H)
    entries = report["vehicles"]["entries"]["by_kind"]
    exits = report["vehicles"]["exits"]["by_kind"]
    assert exits["temporary"] == 1  # B, paid as the second car
    assert (entries["resident"], entries["temporary"]) == (0, 1), (entries, exits)
    assert report["vehicles"]["entries"]["total"] == 1
    assert report["flags"]["shared_slot"] == 1, report["flags"]
    logged = gw.conn.execute(
        "SELECT reason, flags FROM access_log WHERE value = ? AND direction = 'entrance'", (B,)
    ).fetchall()
    assert logged == [("resident", "")], logged


def test_peak_reached_at_the_start_of_the_period_says_when(gw: Gateway) -> None:
    """Cars parked overnight (two in on the 3rd, one leaving at 10:00 on the 4th): the 4th's report
    (periods from midnight, the default) said peak_occupancy total 2, at null, and the CSV the
    accountant opens had `peak_occupancy.at,` empty beside a peak of 2. The most cars were inside at
    00:00, the period's start (on day one, the cars recorded inside since 07:00 under an estate's
    reports.hour = 8 give the same blank): the report gives that time, not nothing."""
    show(gw, "car-in", "苏E12345", T0)
    show(gw, "car-in", "苏E54321", T0 + H)
    show(gw, "car-out", "苏E54321", T0 + 25 * H)
    body = build_report(
        gw.conn,
        site_id=gw.site.config.site.id,
        lanes=gw.site.lanes,
        day=(T0 + 24 * H).date(),
        hour=0,
        tz=gw.site.tz,
        built_at=T0 + 48 * H,
    )
    peak = body["peak_occupancy"]
    assert peak["total"] == 2
    assert "peak_occupancy.at,\r\n" not in report_csv(body)
    assert peak["at"] == "2025-03-04T00:00:00+08:00", peak
