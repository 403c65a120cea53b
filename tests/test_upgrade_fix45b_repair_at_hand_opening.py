"""Schema migration 42 mending a re-entry charge written by a guard's opening by hand under the
old release: the charge is dated at the opening, its decision (access_event_id) is the hold's."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import parking_config
from tests.test_store import database_at


def _charge(
    conn: sqlite3.Connection, charge_id: int, amount_fen: int, at: str, ended_at: str, event: str
) -> None:
    conn.execute(
        "INSERT INTO charges (id, subject, plate, class, billing, kind, tariff_version, ended_at, "
        "amount_fen, event_id, at) VALUES (?, 'plate:苏E12345', '苏E12345', 'car', 'temporary', "
        "'reentry', 't1', ?, ?, ?, ?)",
        (charge_id, ended_at, amount_fen, event, at),
    )


def test_repair_of_a_charge_let_out_by_hand_is_dated_at_the_opening(tmp_path: Path) -> None:
    """Under the old release a car with 9元 carried paid 14元 at the booth, was held at the exit at
    23:58 on 3 March and let out by the guard's opening at 00:03 on 4 March (its 5元 fee carried,
    the charge dated at the opening as docs/mqtt.md says). After the upgrade the centre was told
    the 9元 was settled, and the charge repaired, at 23:58 on 3 March (the hold's access record,
    found by the charge's event_id), a day the daily report already closed: it is 00:03 on 4
    March, the charge's own time, as carry_reentry now dates the charges it settles."""
    cfg = parking_config(tmp_path / "data", reentry="charge")
    cfg.site.data_dir.mkdir(parents=True)
    conn = database_at(cfg.site.data_dir / "gateway.db", 35)
    _charge(conn, 1, 900, "2025-03-03T04:00:00.000000+00:00", "2025-03-03T04:00:00.000000+00:00", "e-12")
    # held 23:58 (15:58Z), opened by hand 00:03 (16:03Z): the charge at the opening, fee to the hold
    _charge(conn, 2, 500, "2025-03-03T16:03:00.000000+00:00", "2025-03-03T15:58:00.000000+00:00", "e-held")
    conn.execute(
        "INSERT INTO payments (id, subject, plate, at, fee_until, amount_fen, method, receipt, actor, "
        "charge_id, linked_at) VALUES (1, 'plate:苏E12345', '苏E12345', ?, ?, 1400, 'cash', 'R1', "
        "'booth', 2, ?)",
        (
            "2025-03-03T05:00:00.000000+00:00",
            "2025-03-03T05:00:00.000000+00:00",
            "2025-03-03T16:03:00.000000+00:00",
        ),
    )
    conn.execute(  # the hold's payment_due record, still in the outbox
        "INSERT INTO outbox (event_id, topic, payload, created_at, sent_at) "
        "VALUES ('e-held', 'access', ?, ?, ?)",
        (
            json.dumps({"at": "2025-03-03T23:58:00+08:00", "reason": "payment_due"}),
            "2025-03-03T15:58:00.000000+00:00",
            "2025-03-03T15:58:01.000000+00:00",
        ),
    )
    conn.close()
    gw = Gateway(cfg)
    try:
        rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'charge' ORDER BY seq").fetchall()
        got = [(json.loads(p)["change"], json.loads(p)["at"]) for (p,) in rows]
        assert got == [
            ("settled", "2025-03-04T00:03:00+08:00"),
            ("repaired", "2025-03-04T00:03:00+08:00"),
        ], f"the upgrade's records are dated at the hold, not at the charge's opening: {got}"
    finally:
        gw.conn.close()
