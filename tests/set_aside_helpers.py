"""A site's upstream records set aside as the MQTT link sets them aside: quarantined, with an alarm."""

from __future__ import annotations

import sqlite3

from gateway.alarm_texts import AlarmText
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import write_alarm
from gateway.store.database import transaction
from gateway.store.outbox import enqueue, quarantine

REASON = "refused by the broker: not authorized"


def set_aside_records(gw: Gateway, *record_types: str) -> list[int]:
    """One record of each type, set aside as the link does it; their seqs."""

    def run(conn: sqlite3.Connection) -> list[int]:
        seqs = []
        with transaction(conn):
            for record_type in record_types:
                event_id = enqueue(conn, record_type, {"n": len(seqs)}, gw.now())
                (seq,) = conn.execute("SELECT seq FROM outbox WHERE event_id = ?", (event_id,)).fetchone()
                quarantine(conn, seq, REASON, gw.now())
                words = {"record_type": record_type, "seq": seq, "reason": REASON}
                text = AlarmText("outbox_quarantine", words)
                write_alarm(conn, "outbox_quarantine", record_type, text, gw.now())
                seqs.append(seq)
        return seqs

    return gw.on_worker(run).result(timeout=10)


def open_quarantine_alarms(gw: Gateway) -> list[str]:
    """The record types whose "record set aside" alarm is open."""
    with sqlite3.connect(gw.db_path) as conn:
        rows = conn.execute(
            "SELECT source FROM alarms WHERE kind = 'outbox_quarantine' AND cleared_at IS NULL "
            "ORDER BY source"
        ).fetchall()
    return [source for (source,) in rows]
