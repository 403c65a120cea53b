"""Upstream records set aside (quarantined by the MQTT link): listed, and put back in line.

A record the broker refuses for good (its ACL, its size limit, a connection it drops each time the
record is sent) is set aside so that the records behind it keep flowing (docs/mqtt.md). Once the
cause is fixed, an installer (`gateway outbox --send-again`), an admin (the alarms page) or the
central server (the `send_again` command) puts it back in line; a running gateway's link sends it
within seconds.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from gateway.store.alarms import end_alarm
from gateway.store.audit import audit
from gateway.store.database import transaction


@dataclass(frozen=True, slots=True)
class SetAside:
    seq: int
    record_type: str
    event_id: str
    set_aside_at: str  # stored UTC time ('' for a row set aside before the time was kept)
    reason: str


def set_aside(conn: sqlite3.Connection, limit: int = -1) -> list[SetAside]:
    """Quarantined rows, oldest first (the first `limit` of them; all by default)."""
    rows = conn.execute(
        "SELECT seq, topic, event_id, coalesce(quarantined_at, ''), quarantined FROM outbox "
        "WHERE quarantined IS NOT NULL ORDER BY seq LIMIT ?",
        (limit,),
    ).fetchall()
    return [SetAside(*row) for row in rows]


def send_again(conn: sqlite3.Connection, seqs: list[int] | None, at: datetime, actor: str) -> list[int]:
    """Put set-aside rows (all of them when `seqs` is None) back in line: the link sends them in
    their turn. Audited. A record type left with nothing set aside has its "record set aside" alarm
    cleared (upstream too). One transaction. Returns the seqs put back; a seq that is not set
    aside is left alone."""
    wanted = None if seqs is None else set(seqs)
    with transaction(conn):
        found = [row for row in set_aside(conn) if wanted is None or row.seq in wanted]
        conn.executemany(
            "UPDATE outbox SET quarantined = NULL, quarantined_at = NULL WHERE seq = ?",
            ((row.seq,) for row in found),
        )
        if not found:
            return []
        done = [row.seq for row in found]
        shown = ",".join(map(str, done))[:200]
        audit(conn, at, actor, "outbox.send_again", shown, json.dumps({"seqs": done}))
        still = {row.record_type for row in set_aside(conn)}
        for record_type in sorted({row.record_type for row in found} - still):
            end_alarm(conn, "outbox_quarantine", record_type, at)
    return done
