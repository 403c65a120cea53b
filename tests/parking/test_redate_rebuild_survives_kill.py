"""Power cut between the NTP re-dating (committed) and the rebuild of the stale day's report
(review 56c).

The re-dating of this boot's rows is one committed transaction (boot_clock.redate); the days whose
reports must be rebuilt because they counted those rows on the stale dates were kept only in
memory, so a kill in between lost them: after the restart nothing rebuilt Saturday's report, which
kept the 5 yuan that Monday's report counts too. They are marked in the store in the re-dating's
transaction now (gateway/store/report_rebuilds.py).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from gateway.parking.operations import Operations
from tests.parking.conftest import T0
from tests.parking.stale_boot import STALE, H, M, booth_payment_on_a_stale_boot
from tests.parking.test_operations import ops
from tests.parking.test_redate_payment_upstream import _centre_days
from tests.rush_helpers import parking_gw


class PowerCut(BaseException):
    pass


def test_report_rebuild_survives_a_kill_right_after_the_redate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw = parking_gw(tmp_path)
    o, steady = booth_payment_on_a_stale_boot(gw)
    steady.s = 4 * 3600 + 5 * 60
    o.tick(STALE + 4 * H + 5 * M)  # "Sunday 00:05" on the stale clock: Saturday's report built

    # NTP sets the clock; the re-dating commits, then the power goes before the reports step.
    real_reports = Operations.reports

    def cut(self: Operations, now):  # type: ignore[no-untyped-def]
        raise PowerCut

    monkeypatch.setattr(Operations, "reports", cut)
    steady.s = 4 * 3600 + 10 * 60
    with pytest.raises(PowerCut):
        o.tick(T0 + 4 * H + 10 * M)
    monkeypatch.setattr(Operations, "reports", real_reports)

    # The service restarts (same boot, clock now right) and runs on to Tuesday.
    o2 = ops(gw, started=T0 + 4 * H + 11 * M, steady=steady)
    for seconds, now in (
        (4 * 3600 + 11 * 60, T0 + 4 * H + 11 * M),
        (24 * 3600, T0 + 24 * H),
        (24 * 3600 + 60, T0 + 24 * H + M),
    ):
        steady.s = seconds
        o2.tick(now)

    reports = {
        day: json.loads(body)["parking"]["revenue_fen"]
        for day, body in gw.conn.execute("SELECT day, body FROM daily_reports ORDER BY day")
    }
    centre = _centre_days(gw)
    assert sum(reports.values()) == 500, f"5 yuan taken once, reports count {reports}; centre books {centre}"


def test_a_report_deleted_by_retention_takes_its_rebuild_mark_with_it(tmp_path: Path) -> None:
    """A day whose report retention deletes before the rebuild is never built again, and its mark
    does not stay in the store for good."""
    from gateway.store.database import transaction
    from gateway.store.report_rebuilds import keep_rebuilds, reports_to_rebuild
    from gateway.store.retention import prune_reports

    gw = parking_gw(tmp_path)
    for day in ("2025-02-27", "2025-02-28"):
        gw.conn.execute(
            "INSERT INTO daily_reports (day, period_start, period_end, built_at, body) "
            "VALUES (?, '', '', '', '{}')",
            (day,),
        )
    with transaction(gw.conn):
        keep_rebuilds(gw.conn, [date(2025, 2, 27), date(2025, 2, 28)], T0)
    prune_reports(gw.conn, "2025-02-28")
    assert reports_to_rebuild(gw.conn) == [date(2025, 2, 28)]
    marks = gw.conn.execute("SELECT key FROM config_seen WHERE key LIKE 'report_rebuild:%'").fetchall()
    assert marks == [("report_rebuild:2025-02-28",)]
