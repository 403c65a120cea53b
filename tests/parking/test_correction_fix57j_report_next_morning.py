"""Review 57j: an entry corrected the morning after its car left counted the day's fee in two daily
reports (found by the reviewer).

docs/parking.md (daily report): a charge a correction voided since is still counted by the report of
its day, so the reports sent add up to the charges that stand. The entry of 苏E12345 was misread as
苏E12346; 苏E12345 left at 11:00 with no entry record and paid a day's 30元. Monday's report (sent
at 06:00 Tuesday) counts that no_entry charge. At 08:00 Tuesday the office corrects the entry: the
no_entry charge is voided and the 30元 kept against a settled exit charge of the stay moved. Dated
at the correction, that charge was Tuesday's too: 60元 over the two reports for 30元 standing. It is
dated as the charge it stands for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.parking.report import build_report
from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0, pay, report_of_t0_day, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
GONE, PARKED = "苏E12345", "苏E12346"


def _charged(gw: Gateway, day_offset: int, built_at_h: int) -> int:
    if day_offset == 0:
        return int(report_of_t0_day(gw, T0 + built_at_h * H)["parking"]["charged_fen"])
    report = build_report(
        gw.conn,
        site_id=gw.site.config.site.id,
        lanes=gw.site.lanes,
        day=T0.date() + timedelta(days=1),
        hour=6,
        tz=gw.site.tz,
        built_at=T0 + built_at_h * H,
    )
    return int(report["parking"]["charged_fen"])


def test_entry_corrected_next_morning(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(exit_without_entry="charge")
    came = show(gw, "car-in", PARKED, T0)  # really 苏E12345, misread
    held = show(gw, "car-out", GONE, T0 + 2 * H)
    assert "no_entry_record" in held.flags
    assert pay(gw, GONE, held.fee_fen or 0, T0 + 2 * H + M).admitted
    monday = _charged(gw, 0, 21)  # as sent at 06:00 Tuesday
    correct_plate(gw.conn, came.event_id, GONE, "office1", T0 + 23 * H)  # 08:00 Tuesday
    tuesday = _charged(gw, 1, 45)
    standing = gw.conn.execute(
        "SELECT coalesce(sum(amount_fen), 0) FROM charges WHERE voided_at IS NULL"
    ).fetchone()[0]
    assert standing == 3000
    assert monday + tuesday == standing, f"Monday {monday} fen + Tuesday {tuesday} fen for {standing}"
