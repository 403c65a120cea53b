"""Review 58a: a charge an earlier daily report counted, voided later, is taken off the report of
the period it was voided in (冲红), and put back on the report of the period a correction restored
it in: the reports sent, each left as sent, add up to the charges that stand (docs/parking.md,
*Daily report*).

Monday 12:00 a north car, really 苏E12345, is misread as 苏E1234S, parked at the south gate since
11:00: the entry closes the south car's stay as a missed exit, 5元 carried. Monday's report counts
it. Tuesday the guard corrects the plate (the 5元 voided); Wednesday he corrects it back (the
camera was right after all: the 5元 stands again)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from gateway.runtime.gateway import Gateway
from tests.parking.charge_record_helpers import DAY, H, reports_sent, running
from tests.parking.test_report_figures import Clock

REAL, LOOKALIKE = "苏E12345", "苏E1234S"


def _sent_for(gw: Gateway, clock: Clock, days: int) -> dict[str, Any]:
    """The report of Monday + `days`, built and sent at 00:05 the day after, its parking figures."""
    clock.at = DAY + (days + 1) * 24 * H + timedelta(minutes=5)
    gw.operations.build_report((DAY + timedelta(days=days)).date(), clock.at)
    return dict(reports_sent(gw)[-1]["parking"])


def _correct(client: TestClient, auth: dict[str, str], clock: Clock, event_id: str, plate: str) -> None:
    r = client.post(f"/api/events/{event_id}/plate", headers=auth, json={"plate": plate})
    assert r.status_code == 200, r.text


def test_a_void_is_taken_off_the_day_it_happened_and_a_restore_put_back(tmp_path: Path) -> None:
    with running(tmp_path) as (gw, clock, client, auth, look):
        look("car-in-b", LOOKALIKE, DAY + 11 * H)
        north = look("car-in", LOOKALIKE, DAY + 12 * H)
        monday = _sent_for(gw, clock, 0)
        clock.at = DAY + 33 * H  # Tuesday 09:00
        _correct(client, auth, clock, north.event_id, REAL)
        tuesday = _sent_for(gw, clock, 1)
        clock.at = DAY + 57 * H  # Wednesday 09:00
        _correct(client, auth, clock, north.event_id, LOOKALIKE)
        wednesday = _sent_for(gw, clock, 2)
        standing = gw.conn.execute(
            "SELECT coalesce(sum(amount_fen), 0) FROM charges WHERE voided_at IS NULL"
        ).fetchone()[0]
    days = (monday, tuesday, wednesday)
    assert [(d["charged_fen"], d["charges_reversed"], d["reversed_fen"]) for d in days] == [
        (500, 0, 0),
        (-500, 1, 500),
        (500, 0, 0),
    ]
    assert sum(d["charged_fen"] for d in days) == standing == 500
