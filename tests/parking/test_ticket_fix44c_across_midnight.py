"""A ticket is given once (docs/parking.md, *A ticket is given once*): "a ticket is never given
again while a record names it". next_ticket read the access records dated on the ticket's own
month-day only (and the stays that came in that day). A car given its ticket late on 3 March and
let out after midnight has its exit record on 4 March; retention deletes its entry record and its
closed stay while that exit record is kept: for good when it was never delivered to the centre
(docs/parking.md, Retention: "a record never delivered is never deleted"), or for the days of
retention from a delivery a day late. On 3 March a year on, the number went to another car while
the record still named it: the plate log, the centre's records and a search by ticket mixed two
cars. (From the reviewer's proof test, review_audit_retention/test_ticket_across_midnight.py.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.tickets import next_ticket
from gateway.timefmt import to_db
from tests.parking.conftest import T0, TZ
from tests.parking.test_api import serving
from tests.parking.test_no_plate_car import Site
from tests.parking.test_operations import ops
from tests.test_retention_query_plans import _fill_history, _vm_steps

M = timedelta(minutes=1)
D = timedelta(days=1)
IN_AT = datetime(2025, 3, 3, 23, 50, tzinfo=TZ)
OUT_AT = datetime(2025, 3, 4, 0, 10, tzinfo=TZ)  # within the free minutes: let out at once
YEAR_ON = datetime(2026, 3, 3, 23, 55, tzinfo=TZ)

# Keep a year, no centre: the records go by age alone; the entry (23:50) is past 365 days at
# 23:55 a year on, the exit (00:10) is not yet, and nor is its closed stay.
A_YEAR = "[retention]\naccess_records_days = 365\n"
# A centre that is never reached (nothing listens on port 9): the test marks what was delivered.
CENTRE = '[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = 9\n'


def _first_car_in_and_out(s: Site, came: datetime, left: datetime) -> tuple[str, str]:
    """A car with no plate in at `came`, out at `left` within the free minutes: its ticket and the
    event id of its exit."""
    s.now = came
    first = s.typed("car-in", {"no_plate": True}).json()
    ticket = first["plate"]
    assert ticket == f"无牌-{came:%m%d}-01", first
    s.now = left
    out = s.typed("car-out", {"plate": ticket}).json()
    assert out["admitted"], out
    return ticket, out["event_id"]


def _retention_then_next_car(s: Site, ticket: str, year_on: datetime) -> tuple[str, list[object], int]:
    """The hourly pass at `year_on` (another car came in the evening before, the newest record),
    then the next car with no plate: its ticket, the records still naming the first car's and how
    many of the first car's stays were kept."""
    s.now = year_on - 2 * 60 * M
    s.show("car-in", "苏E12345")
    s.gw.on_worker(lambda c: ops(s.gw).retention(year_on)).result(30)
    kept = s.read("SELECT direction, at FROM access_log WHERE value = ?", ticket)
    assert [d for d, _ in kept] == ["exit"], kept  # the exit record of 4 March still names it
    [(stays,)] = s.read("SELECT count(*) FROM stays WHERE plate = ?", ticket)
    s.now = year_on + M
    return s.typed("car-in", {"no_plate": True}).json()["plate"], kept, stays


@pytest.mark.parametrize("kept_by", ["a-year-of-records", "exit-never-delivered"])
def test_a_ticket_still_named_by_a_kept_exit_record_is_not_given_again(
    make_gw: Callable[..., Gateway], kept_by: str
) -> None:
    with serving(make_gw(extra=A_YEAR if kept_by == "a-year-of-records" else CENTRE)) as served:
        s = Site(*served)
        ticket, exit_id = _first_car_in_and_out(s, IN_AT, OUT_AT)
        if kept_by == "exit-never-delivered":
            # The centre confirmed every record but the exit's (the broker refused it: set aside).
            s.read("UPDATE outbox SET sent_at = created_at WHERE event_id IS NOT ?", exit_id)
        again, kept, _ = _retention_then_next_car(s, ticket, YEAR_ON)
        assert again != ticket, (
            f"{ticket} given to a second car while the first car's exit record {kept} still names it "
            "(docs/parking.md: never given again while a record names it)"
        )


def test_a_ticket_whose_exit_was_delivered_a_day_late_is_not_given_again_a_year_on(
    make_gw: Callable[..., Gateway],
) -> None:
    """A year of records with a centre, across 29 February 2028: at 23:55 on 3 March 2028 the
    entry (delivered at once) and the closed stay are past 365 days, the exit, delivered a day late
    (the link was down overnight), is not: its record is kept and names the ticket."""
    came, left = datetime(2027, 3, 3, 23, 50, tzinfo=TZ), datetime(2027, 3, 4, 0, 10, tzinfo=TZ)
    with serving(make_gw(extra=A_YEAR + CENTRE)) as served:
        s = Site(*served)
        ticket, exit_id = _first_car_in_and_out(s, came, left)
        s.read("UPDATE outbox SET sent_at = created_at WHERE event_id IS NOT ?", exit_id)
        s.read("UPDATE outbox SET sent_at = ? WHERE event_id = ?", to_db(left + D), exit_id)
        again, kept, stays = _retention_then_next_car(s, ticket, datetime(2028, 3, 3, 23, 55, tzinfo=TZ))
        assert stays == 0  # its closed stay is gone: only the exit record names the ticket
        assert again != ticket, (
            f"{ticket} given to a second car while the first car's exit record {kept} still names it "
            "(docs/parking.md: never given again while a record names it)"
        )


def _other_days_tickets(gw: Gateway, count: int) -> None:
    """`count` cars with no plate given January's tickets, each an access record and a closed stay
    on its ticket (copies of one real decision's record, dated 400 days before T0), and one given
    无牌-0303-05, whose number the next ticket of 3 March must pass, whatever its record's date."""
    ev = gw.handle(Presented("car-in", "plate", "皖A11111", 0.97, T0 - 400 * D, "cam"))
    gw.conn.execute("BEGIN")
    gw.conn.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
        INSERT INTO access_log (event_id, at, lane, device, kind, value, confidence, admitted, reason,
            billing, flags, direction, lane_type)
        SELECT printf('ticket-%09d', i), at, lane, device, kind,
               CASE WHEN i = :count THEN '无牌-0303-05'
                    ELSE printf('无牌-01%02d-%02d', 1 + i % 28, 1 + i / 28) END,
               confidence, admitted, reason, billing, 'no_plate', direction, lane_type
        FROM n, (SELECT * FROM access_log WHERE event_id = :ev)
        """,
        {"count": count, "ev": ev.event_id},
    )
    gw.conn.execute(
        """
        INSERT INTO stays (subject, plate, class, zone, billing, entered_at, entry_event, exited_at)
        SELECT 'plate:' || value, value, 'car', 'main', 'temporary', at, event_id, at
        FROM access_log WHERE event_id LIKE 'ticket-%'
        """
    )
    gw.conn.execute("COMMIT")


def _next_ticket_steps(gw: Gateway) -> tuple[str, int]:
    given: list[str] = []
    steps = _vm_steps(gw.conn, lambda: given.append(next_ticket(gw.conn, T0)))
    return given[0], steps


def test_the_next_ticket_costs_the_same_however_long_the_log(make_gw: Callable[..., Gateway]) -> None:
    """The next ticket is found in the entrance decision's transaction, while the lane waits: it
    must read the records of that month-day's tickets, not the log a busy estate keeps (about
    1,000,000 records), nor a busy day's, nor every other day's tickets. Counted in SQLite's
    steps, not timed."""
    small, big = 10_000, 100_000
    steps = {}
    for rows in (small, big):
        gw = make_gw()
        _fill_history(gw, rows)
        _other_days_tickets(gw, rows // 10)
        given, steps[rows] = _next_ticket_steps(gw)
        assert given == "无牌-0303-06"
    assert steps[big] < 2 * steps[small], (
        f"the next ticket took {steps[small]:,} SQLite steps with {small:,} access records and "
        f"{steps[big]:,} with {big:,}: a car with no plate waits at the entrance while it reads them"
    )
