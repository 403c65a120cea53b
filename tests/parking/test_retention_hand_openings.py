"""Retention keeps nothing for ever (docs/parking.md, *Retention*): a guard's opening by hand that
let out a car held to pay (kept with its hold's last decision, schema migration 22) goes with the
access records, once that decision's record is past `retention.access_records_days`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from gateway.runtime.gateway import Gateway
from gateway.timefmt import to_db
from tests.parking.charge_record_helpers import DAY, LET_OUT, H, M, running
from tests.parking.test_operations import ops

D = timedelta(days=1)
LATER = DAY + 200 * D  # access_records_days 180 after the first opening


def _openings(gw: Gateway) -> list[str]:
    return [r[0] for r in gw.conn.execute("SELECT at FROM let_outs_by_hand ORDER BY id")]


def test_an_opening_by_hand_goes_with_the_access_records_it_ended(tmp_path: Path) -> None:
    with running(tmp_path) as (gw, clock, client, auth, look):
        for day, plate in ((DAY, "苏E10005"), (LATER - D, "苏E10006")):
            look("car-in", plate, day + 9 * H)
            assert look("car-out", plate, day + 11 * H).reason == "payment_due"
            clock.at = day + 11 * H + M
            r = client.post("/api/lanes/car-out/open", headers=auth, json=LET_OUT)
            assert r.status_code == 200, r.text
        look("car-in", "苏E10007", LATER + 8 * H)  # the newest record, kept however old
        assert len(_openings(gw)) == 2
        gw.on_worker(lambda _: ops(gw).retention(LATER + 9 * H)).result(timeout=30)
        gone = gw.conn.execute("SELECT count(*) FROM access_log WHERE at < ?", (to_db(DAY + D),)).fetchone()
        assert gone == (0,), "the first day's records are still there: retention did not run"
        assert len(_openings(gw)) == 1, "the first day's opening by hand is kept for ever"
