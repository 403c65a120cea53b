"""A booth payment taken while the Pi ran on fake-hwclock's stale time, then NTP set the clock: the
gateway re-dates the payment (docs/parking.md, Repairs), so its daily report counts the money on the
true day. The centre totals the day from the upstream `payment` records: they must say the same
day, or the accountant's totals from the centre and the box's reports disagree."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.timefmt import from_db
from tests.parking.conftest import T0, show
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)


def _centre_days(gw: Gateway) -> dict[str, int]:
    """The money of each day as the centre books it from the `payment` records, in the order sent:
    the newest record of a receipt holds (docs/mqtt.md, `payment`)."""
    payments: dict[str, dict[str, Any]] = {}
    for (payload,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'payment' ORDER BY seq"):
        record = json.loads(payload)
        payments[record["receipt"]] = record
    days: dict[str, int] = {}
    for record in payments.values():
        day = datetime.fromisoformat(record["at"]).astimezone(gw.site.tz).date().isoformat()
        days[day] = days.get(day, 0) + record["amount_fen"]
    return days


def test_a_payment_re_dated_by_ntp_is_on_the_same_day_upstream_as_in_the_report(
    make_gw: Callable[..., Gateway],
) -> None:
    """The box was off over the weekend; it boots on Monday 09:00 saying Saturday 20:00, with no
    network. A stranger's car comes in at once and pays 5元 ahead at the booth 40 minutes later.
    NTP sets the clock at 09:50: the centre books the 5元 on Monday, as the box's reports do, not on
    Saturday, whose report says no money was taken."""
    gw = make_gw()
    stale = T0 - 37 * H  # Saturday 1 March 20:00 on the Pi's clock
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    show(gw, "car-in", "苏E12345", stale + 10 * S)
    steady.s = 40 * 60
    receipt = gw.parking.prepay(gw.conn, "苏E12345", 500, "cash", "", "booth", stale + 40 * M)["receipt"]
    steady.s = 50 * 60
    o.tick(T0 + 50 * M)  # NTP has set the clock: this boot's stays and their payments are re-dated
    steady.s = 51 * 60
    o.tick(T0 + 51 * M)
    assert from_db(gw.conn.execute("SELECT at FROM payments").fetchone()[0]) == T0 + 40 * M
    reports = {
        day: json.loads(body)["parking"]["revenue_fen"]
        for day, body in gw.conn.execute("SELECT day, body FROM daily_reports")
    }
    saturday, monday = (T0 - 48 * H).date().isoformat(), T0.date().isoformat()
    assert reports[saturday] == 0
    assert _centre_days(gw) == {monday: 500}
    redated = json.loads(
        gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'payment' ORDER BY seq DESC").fetchone()[0]
    )
    assert (redated["change"], redated["receipt"], redated["plate"]) == ("redated", receipt, "苏E12345")
    assert datetime.fromisoformat(redated["previous_at"]) == stale + 40 * M
    assert datetime.fromisoformat(redated["at"]) == T0 + 40 * M


def test_a_payment_made_after_ntp_set_the_clock_is_not_sent_again(make_gw: Callable[..., Gateway]) -> None:
    """A car that came in on the stale clock and pays after NTP set it: its payment was dated right,
    and the centre gets it once."""
    gw = make_gw()
    stale = T0 - 37 * H
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    show(gw, "car-in", "苏E12345", stale + 10 * S)
    steady.s = 50 * 60
    o.tick(T0 + 50 * M)
    gw.parking.prepay(gw.conn, "苏E12345", 500, "cash", "", "booth", T0 + 55 * M)
    sent = [json.loads(p) for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'payment'")]
    assert [record.get("change") for record in sent] == [None]
