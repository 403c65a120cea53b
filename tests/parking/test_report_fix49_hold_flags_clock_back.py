"""Reviewing edcfb8c: a hold's rows are the hold's by record, not by time, as the clock is set back;
the day's report counts a hold's flags once, with the hold (gateway/parking/report.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.parking.report import build_report
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_report_figures import Clock, look, serving

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
CAR = "苏E12345"
STRANGER = "苏E99999"


def _report(gw: Gateway) -> dict:
    return build_report(
        gw.conn,
        site_id=gw.site.config.site.id,
        lanes=gw.site.lanes,
        day=T0.date(),
        hour=0,
        tz=gw.site.tz,
        built_at=T0 + 20 * H,
    )


def test_a_hold_paid_at_the_lane_after_the_clock_is_set_back_counts_its_flag_once(
    make_gw: Callable[..., Gateway],
) -> None:
    """A car with no entry record is held at the exit at 11:30 (flag no_entry_record); NTP sets the
    clock back 40 minutes and the guard takes its fee at the lane at once. The day's report sent to the
    centre counts two missed entry reads for this one car (the hold's and the let-out's, which repeats
    the hold's flags); it should count one, as it does without the step."""
    gw = make_gw(exit_without_entry="charge")
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        clock.at = T0 + 2 * H + 30 * M
        held = look(gw, "car-out", "plate", STRANGER, clock.at)
        assert (held.admitted, held.reason) == (False, "payment_due"), held
        assert "no_entry_record" in held.flags, held
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        clock.at -= 40 * M  # NTP sets the running clock back 40 minutes
        clock.at += 10 * S
        paid = client.post(
            "/api/parking/lanes/car-out/pay",
            headers=auth,
            json={"plate": STRANGER, "amount_fen": quote["due_fen"], "method": "cash"},
        )
        assert paid.status_code == 200 and paid.json()["admitted"], paid.text
        report = _report(gw)
    assert report["held_for_payment"] == 1, report
    missed = report["flags"].get("no_entry_record")
    assert missed == 1, f"one car's missed entry read counted {missed} times: {report['flags']}"
