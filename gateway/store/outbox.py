"""The outbox: every record that goes upstream is queued here in the same transaction as the record."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.ids import uuid7
from gateway.store.id_streams import TABLES, named
from gateway.timefmt import to_db

PAYLOAD_VERSION = 1


def enqueue(
    conn: sqlite3.Connection,
    topic: str,
    payload: dict[str, Any],
    at: datetime,
    event_id: str | None = None,
) -> str:
    """Queue one upstream message; call inside the transaction that writes the record itself. Each
    gateway id it names that the centre keys by gets the stream it was made in beside it
    (gateway/store/id_streams.py)."""
    event_id = event_id or uuid7()
    _insert(conn, event_id, topic, _body(topic, event_id, named(conn, topic, payload)), at)
    return event_id


def enqueue_listing(
    conn: sqlite3.Connection, topic: str, payload: dict[str, Any], key: str, items: list[bytes], at: datetime
) -> str:
    """enqueue, the payload's `key` the list of `items`, each its JSON text already (an import's
    rows, serialised once to be packed by size: gateway/store/csv_records.py). `key` goes last."""
    event_id = uuid7()
    body = _body(topic, event_id, payload)
    _insert(conn, event_id, topic, f'{body[:-1]}, "{key}": [{b", ".join(items).decode()}]}}', at)
    return event_id


def _body(topic: str, event_id: str, payload: dict[str, Any]) -> str:
    body = {"v": PAYLOAD_VERSION, "type": topic, "event_id": event_id, **payload}
    return json.dumps(body, ensure_ascii=False)


def _insert(conn: sqlite3.Connection, event_id: str, topic: str, body: str, at: datetime) -> None:
    conn.execute(
        "INSERT INTO outbox (event_id, topic, payload, created_at) VALUES (?, ?, ?, ?)",
        (event_id, topic, body, to_db(at)),
    )


# The outbox's seqs come in streams (gateway/runtime/outbox_stream.py): a stream is one database's
# run of seqs, from the `outbox_started` record that opened it (its first_seq) to the next stream's.
_STREAMS = "SELECT first_seq, stream FROM outbox_streams ORDER BY first_seq"


def streams(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """(first_seq, stream) of each stream this database's outbox has run, the current one last.
    Rows below the first stream's first_seq were written by a gateway before streams."""
    return conn.execute(_STREAMS).fetchall()


def highest_seq(conn: sqlite3.Connection) -> int:
    """The highest seq this database has handed out, its rows pruned since or not (0: none yet)."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
    (newest,) = conn.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()
    return max(int(row[0]) if row else 0, int(newest))


def seqs_before_streams(conn: sqlite3.Connection) -> int:
    """The highest seq handed out before the database had streams (schema step 29), on a box
    upgraded from an older gateway; 0 on a database made with streams."""
    row = conn.execute("SELECT value FROM config_seen WHERE key = 'outbox_before_streams'").fetchone()
    return int(row[0]) if row else 0


def start_stream(
    conn: sqlite3.Connection,
    stream: str,
    previous: str | None,
    reason: str,
    at: datetime,
    *,
    above: int = 0,
    first_seq: int | None = None,
) -> int:
    """Open the stream `stream` with its `outbox_started` record, which takes the next seq above
    both this database's and `above` (seqs the box handed out from a database since lost or
    replaced: never handed out again). The stream starts at that record, or at `first_seq` (rows
    queued before it, on a new database, are the stream's too). Returns the stream's first_seq.
    The caller owns the transaction.

    A database's first stream is the stream of the rows made before it (id_streams.py): a gateway's
    from before streams, or those of a new database's import, have none kept, and are named by it
    for good, whatever streams follow."""
    if not streams(conn):
        for table in TABLES:
            conn.execute(f"UPDATE {table} SET id_stream = ? WHERE id_stream IS NULL", (stream,))
    conn.execute(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox', 0 "
        "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'outbox')"
    )
    conn.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'outbox'", (above,))
    first = first_seq if first_seq is not None else highest_seq(conn) + 1  # AUTOINCREMENT's next
    told = {"at": at.isoformat(), "stream": stream, "first_seq": first, "previous_stream": previous}
    enqueue(conn, "outbox_started", {**told, "reason": reason}, at)
    conn.execute(
        "INSERT INTO outbox_streams (first_seq, stream, previous_stream, reason, started_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (first, stream, previous, reason, to_db(at)),
    )
    return first


_PENDING = """
SELECT seq, event_id, topic, payload FROM outbox
WHERE sent_at IS NULL AND quarantined IS NULL AND seq > ? ORDER BY seq LIMIT ?
"""


def pending(conn: sqlite3.Connection, after_seq: int, limit: int) -> list[tuple[int, str, str, str]]:
    """Unsent rows after `after_seq`, oldest first: (seq, event_id, type, payload)."""
    return conn.execute(_PENDING, (after_seq, limit)).fetchall()


def pending_of(
    conn: sqlite3.Connection, types: Sequence[str], first: int, last: int, limit: int
) -> list[tuple[int, str, str, str]]:
    """Unsent rows of these record types from `first` to `last`, oldest first: a topic's rows
    left pending while it waited for a subscriber, fetched by themselves to try it again (the
    other topics' rows in between are not read again). As pending() gives them."""
    sql = (
        "SELECT seq, event_id, topic, payload FROM outbox WHERE sent_at IS NULL AND quarantined IS NULL "
        f"AND seq BETWEEN ? AND ? AND topic IN ({', '.join('?' * len(types))}) ORDER BY seq LIMIT ?"
    )
    return conn.execute(sql, (first, last, *types, limit)).fetchall()


def first_pending_not_held(
    conn: sqlite3.Connection,
    cursor: int,
    held: set[int],
    spans: Sequence[tuple[int, Sequence[str]]] = (),
) -> int | None:
    """The first unsent row at or before `cursor` that is not among `held` (the rows an uplink has
    in flight, waiting for their marks, or fetched) nor in `spans` ((first seq, record types): the
    rows of those types from that seq on, left pending while their topic waits for a subscriber):
    one put back in line behind it."""
    sql = "SELECT seq FROM outbox WHERE sent_at IS NULL AND quarantined IS NULL AND seq <= ?"
    params: list[object] = [cursor]
    for first, types in spans:
        sql += f" AND NOT (seq >= ? AND topic IN ({', '.join('?' * len(types))}))"
        params += [first, *types]
    rows = conn.execute(sql + " ORDER BY seq LIMIT ?", (*params, len(held) + 1)).fetchall()
    return next((seq for (seq,) in rows if seq not in held), None)


def first_unsent(conn: sqlite3.Connection, topic: str) -> int | None:
    """The seq of the oldest row of record type `topic` still waiting to go up (not sent, not set
    aside), or None."""
    row = conn.execute(
        "SELECT min(seq) FROM outbox WHERE topic = ? AND sent_at IS NULL AND quarantined IS NULL", (topic,)
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def mark_sent(conn: sqlite3.Connection, sent: list[tuple[int, int]], at: datetime) -> None:
    """Rows the broker acknowledged: (seq, attempts). The caller owns the transaction."""
    when = to_db(at)
    conn.executemany(
        "UPDATE outbox SET sent_at = ?, attempts = attempts + ? WHERE seq = ? AND sent_at IS NULL",
        ((when, attempts, seq) for seq, attempts in sent),
    )


def quarantine(conn: sqlite3.Connection, seq: int, reason: str, at: datetime) -> tuple[str, str] | None:
    """Set a row aside with its reason so it no longer holds up the rows behind it.

    Returns (event_id, type) of the row, or None if it was already sent or set aside.
    """
    row = conn.execute(
        "SELECT event_id, topic FROM outbox WHERE seq = ? AND sent_at IS NULL AND quarantined IS NULL",
        (seq,),
    ).fetchone()
    if row is None:
        return None
    conn.execute(
        "UPDATE outbox SET quarantined = ?, quarantined_at = ?, attempts = attempts + 1 WHERE seq = ?",
        (reason, to_db(at), seq),
    )
    return row[0], row[1]


def backlog(conn: sqlite3.Connection) -> dict[str, Any]:
    """What waits to go upstream: counts, bytes and the oldest unsent record's time."""
    count, size, oldest = conn.execute(
        "SELECT count(*), coalesce(sum(length(payload)), 0), min(created_at) FROM outbox "
        "WHERE sent_at IS NULL AND quarantined IS NULL"
    ).fetchone()
    return {
        "pending": count,
        "pending_bytes": size,
        "oldest_pending_at": oldest,
        "quarantined": count_set_aside(conn),
    }


def count_set_aside(conn: sqlite3.Connection) -> int:
    """Records the broker refused for good, set aside (gateway/store/set_aside.py)."""
    return int(conn.execute("SELECT count(*) FROM outbox WHERE quarantined IS NOT NULL").fetchone()[0])


def prune_sent(conn: sqlite3.Connection, before: datetime, limit: int = 2000) -> int:
    """Delete up to `limit` rows sent before `before` (kept that long for audit).

    Access records' rows stay: their sent_at is the proof of delivery that retention needs before
    it may delete the access record itself (gateway/store/retention.py deletes both together).
    """
    cur = conn.execute(
        "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE sent_at IS NOT NULL "
        "AND sent_at < ? AND topic != 'access' ORDER BY seq LIMIT ?)",
        (to_db(before), limit),
    )
    return cur.rowcount
