"""`gateway central-sink`: a reference consumer for the central side, writing events into SQL.

It subscribes to every gateway under a topic prefix with a persistent MQTT 5 session, stores each
event once (keyed by its event id, so a resent one is counted as a duplicate and not stored
again), and acknowledges a message only after the transaction holding it has committed: an event
is never lost between the broker and the database. Several sinks can share the load with a shared
subscription (--group); they may write into one database or into the central server's own.

The database is SQLite here so the whole path runs on one machine; the SQL is plain enough to
move to PostgreSQL or MySQL (INSERT ... ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import random
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.sync.backoff import retry_delay
from gateway.sync.client import (
    Connected,
    Connection,
    Lost,
    Received,
    Refused,
    Settings,
    Subscribed,
)
from gateway.sync.errors import LinkError
from gateway.sync.topics import site_of

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_site_seq ON events(site, seq);
CREATE TABLE IF NOT EXISTS sites (
    site TEXT PRIMARY KEY,
    max_seq INTEGER NOT NULL DEFAULT 0,
    events INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    out_of_order INTEGER NOT NULL DEFAULT 0,
    status TEXT, status_at TEXT,
    health TEXT, health_at TEXT,
    sync_state TEXT, sync_state_at TEXT
);
-- Seqs a site never delivered: quarantined ones are announced by an outbox_quarantined event.
CREATE VIEW IF NOT EXISTS site_gaps AS
SELECT s.site, s.max_seq - s.events - (
    SELECT count(*) FROM events q WHERE q.site = s.site AND q.type = 'outbox_quarantined'
    AND json_extract(q.payload, '$.quarantined_seq') <= s.max_seq) AS missing
FROM sites s;
"""
_EVENT_TOPICS = ("events/#", "cmd/reply", "sync/request", "sync/error")
_STATE_TOPICS = {"status": "status", "health": "health", "sync/state": "sync_state"}
_BATCH = 500
_BATCH_WAIT = 0.05


@dataclass(frozen=True, slots=True)
class SinkOptions:
    host: str
    port: int
    prefix: str
    db: Path
    client_id: str
    group: str | None = None
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    session_expiry: int = 86400


class Sink:
    def __init__(self, options: SinkOptions):
        self.o = options
        self.db = sqlite3.connect(options.db, isolation_level=None, timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        self.stored = 0
        self.duplicates = 0
        self._events: queue.Queue[Any] = queue.Queue()
        self._rng = random.Random()
        self.ready = threading.Event()  # subscribed (for tests and --stop-after runs)

    def filters(self) -> list[str]:
        share = f"$share/{self.o.group}/" if self.o.group else ""
        # Retained messages never reach a shared subscription (MQTT 5, 4.8.2): every sink takes
        # the small retained topics itself and keeps only the latest.
        return [f"{share}{self.o.prefix}/+/{t}" for t in _EVENT_TOPICS] + [
            f"{self.o.prefix}/+/{t}" for t in _STATE_TOPICS
        ]

    def run(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            settings = Settings(
                host=self.o.host,
                port=self.o.port,
                client_id=self.o.client_id,
                username=self.o.username,
                password=self.o.password,
                ca_file=self.o.ca_file,
                cert_file=self.o.cert_file,
                key_file=self.o.key_file,
                session_expiry=self.o.session_expiry,
                clean_start=False,
                manual_ack=True,
            )
            while not self._events.empty():  # left from the last connection, unacknowledged:
                self._events.get_nowait()  # the broker sends those again
            conn = Connection(settings, self._events.put)
            try:
                conn.open()
                first = self._events.get(timeout=30)
                if not isinstance(first, Connected):
                    raise LinkError(
                        first.error.message if isinstance(first, Refused) else "no answer from the broker"
                    )
                failures = 0
                log.info("central-sink connected to %s as %s", settings.broker, self.o.client_id)
                conn.subscribe(self.filters(), qos=1)
                self._serve(conn, stop)
            except (LinkError, queue.Empty) as exc:
                failures += 1
                log.warning("central-sink: %s", exc)
            finally:
                conn.close()
            stop.wait(retry_delay(max(failures, 1), 0.5, 30, self._rng))

    def _serve(self, conn: Connection, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                ev = self._events.get(timeout=0.2)
            except queue.Empty:
                continue
            if isinstance(ev, Lost):
                log.warning("central-sink: connection lost: %s", ev.reason)
                return
            if isinstance(ev, Subscribed):
                self.ready.set()
            if not isinstance(ev, Received):
                continue
            batch = [ev]
            deadline = time.monotonic() + _BATCH_WAIT
            while len(batch) < _BATCH and time.monotonic() < deadline:
                try:
                    more = self._events.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if isinstance(more, Lost):
                    self._store(batch, conn)
                    return
                if isinstance(more, Subscribed):
                    self.ready.set()
                elif isinstance(more, Received):
                    batch.append(more)
            self._store(batch, conn)

    def _store(self, batch: list[Received], conn: Connection) -> None:
        """One transaction for the batch, then the acknowledgements: no ack before its commit."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for msg in batch:
                self._one(msg, now)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        for msg in batch:
            if msg.qos > 0:
                conn.ack(msg.mid, msg.qos)

    def _one(self, msg: Received, now: str) -> None:
        site = site_of(self.o.prefix, msg.topic)
        if site is None:
            return
        rest = msg.topic[len(self.o.prefix) + len(site) + 2 :]
        try:
            body = json.loads(msg.payload)
        except (ValueError, UnicodeDecodeError):
            log.warning("central-sink: not JSON on %s", msg.topic)
            return
        self.db.execute("INSERT OR IGNORE INTO sites (site) VALUES (?)", (site,))
        if rest in _STATE_TOPICS:
            column = _STATE_TOPICS[rest]
            self.db.execute(
                f"UPDATE sites SET {column} = ?, {column}_at = ? WHERE site = ?",
                (msg.payload.decode(), now, site),
            )
            return
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("seq"), int)
            or not isinstance(body.get("event_id"), str)
        ):
            log.warning("central-sink: %s carries no seq and event_id", msg.topic)
            return
        seq = body["seq"]
        cur = self.db.execute(
            "INSERT INTO events (event_id, site, seq, type, topic, payload, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
            (
                body["event_id"],
                site,
                seq,
                str(body.get("type", "")),
                msg.topic,
                msg.payload.decode(),
                now,
            ),
        )
        if cur.rowcount == 0:
            self.duplicates += 1
            self.db.execute("UPDATE sites SET duplicates = duplicates + 1 WHERE site = ?", (site,))
            return
        self.stored += 1
        self.db.execute(
            "UPDATE sites SET events = events + 1, out_of_order = out_of_order + (? < max_seq), "
            "max_seq = max(max_seq, ?) WHERE site = ?",
            (seq, seq, site),
        )


def run_sink(args: Any) -> int:
    """The CLI's entry: runs until SIGTERM, Ctrl-C or --stop-after."""
    import signal

    password = args.password_file.read_text().strip() if args.password_file else None
    options = SinkOptions(
        host=args.host,
        port=args.port,
        prefix=args.prefix,
        db=args.db,
        client_id=args.client_id,
        group=args.group,
        username=args.username,
        password=password,
        ca_file=args.ca_file,
        cert_file=args.cert_file,
        key_file=args.key_file,
    )
    sink = Sink(options)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if args.stop_after is not None:
        threading.Timer(args.stop_after, stop.set).start()
    log.info("central-sink writing %s/+/events into %s", args.prefix, args.db)
    with contextlib.suppress(KeyboardInterrupt):
        sink.run(stop)
    log.info("central-sink stopped: %d events stored, %d duplicates", sink.stored, sink.duplicates)
    return 0
