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

from gateway.errors import SetupError
from gateway.store.database import is_busy
from gateway.sync.backoff import retry_delay
from gateway.sync.client import (
    Connected,
    Connection,
    Lost,
    Received,
    Refused,
    Settings,
    Subscribed,
    tls_files_unusable,
)
from gateway.sync.errors import BrokerUnreachable, LinkError, TlsFailed
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
    received_at TEXT NOT NULL,
    stream TEXT NOT NULL DEFAULT ''
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
-- Messages that could not be stored as events or state (not UTF-8 JSON, no seq or event id, a
-- seq out of range): kept here and acknowledged, so that one of them never holds up the rest.
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload BLOB NOT NULL,
    received_at TEXT NOT NULL
);
"""
# A gateway's seqs come in streams (docs/mqtt.md, outbox_started): each database's run of seqs,
# named on each record beside its seq ('' for records of a gateway before streams). Order and
# completeness are counted per site and stream: a new box's seqs start at 1 again under the same site.
# Made by _upgrade (a database of an older sink has events without a stream).
STREAMS = """
CREATE TABLE streams (
    site TEXT NOT NULL,
    stream TEXT NOT NULL,
    max_seq INTEGER NOT NULL DEFAULT 0,
    events INTEGER NOT NULL DEFAULT 0,
    out_of_order INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, stream)
)"""
# The stream an older sink's event was sent in: the one its payload names (event_keys' rule), ''
# for none. Nested CASEs, evaluated in turn: json_type would stop the upgrade on a payload SQLite
# cannot read (Python's json took NaN).
_STREAM_OF_PAYLOAD = """CASE WHEN NOT json_valid(payload) THEN ''
    WHEN json_type(payload, '$.stream') = 'text' AND length(json_extract(payload, '$.stream')) <= 64
    THEN json_extract(payload, '$.stream') ELSE '' END"""
# An older sink's events counted per site and stream, as _one counts them: out of order, a seq
# below one stored before it (rowid: the order stored) in its own stream.
_STREAMS_OF_EVENTS = """INSERT INTO streams (site, stream, max_seq, events, out_of_order)
SELECT site, stream, max(seq), count(*), sum(late) FROM (
    SELECT site, stream, seq, coalesce(seq < max(seq) OVER (PARTITION BY site, stream ORDER BY rowid
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS late FROM events)
GROUP BY site, stream"""
# The seqs of a site's stream that went up under another site id: from the first_seq of a
# site_renamed record away from it (sent under the new id) to the next site_renamed of that stream
# into or out of it (next_seq, the first seq under it again; null: not back). A rename applies to
# the seqs of the stream it was sent in. Ranges of a site and stream never overlap: each ends where
# the next rename touching the site begins.
RENAMED_AWAY = """CREATE VIEW renamed_away AS
SELECT DISTINCT json_extract(m.payload, '$.from') AS site, m.stream,
    json_extract(m.payload, '$.first_seq') AS first_seq, (
    SELECT min(json_extract(n.payload, '$.first_seq')) FROM events n
    WHERE n.type = 'site_renamed' AND n.stream = m.stream
    AND (n.site = json_extract(m.payload, '$.from')
        OR json_extract(n.payload, '$.from') = json_extract(m.payload, '$.from'))
    AND json_extract(n.payload, '$.first_seq') > json_extract(m.payload, '$.first_seq')) AS next_seq
FROM events m WHERE m.type = 'site_renamed' AND json_extract(m.payload, '$.from') != m.site"""
# The site ids a site's stream s may have gone up under: its own, and for the stream of a gateway
# whose site id was changed (s.site among the ids its site_renamed events name), every id they name.
# A stream is one database's run of seqs: a record delivered under the old id just before the
# change, but not yet marked sent (at least once), goes up again under the new one and is dropped
# as a duplicate (event_id); the records after one held in the outbox at the change went up under
# the old. Not for '' (gateways before streams: each numbers from 1), nor for another box that drew
# the same random id (no rename of that stream names its site).
_RENAMED_IDS = """SELECT m.site FROM events m WHERE m.type = 'site_renamed' AND m.stream = s.stream
        UNION SELECT json_extract(m.payload, '$.from') FROM events m
        WHERE m.type = 'site_renamed' AND m.stream = s.stream"""
_SITES_OF_STREAM = f"""(SELECT s.site UNION SELECT n.site FROM ({_RENAMED_IDS}) n
        WHERE s.stream != '' AND s.site IN ({_RENAMED_IDS}))"""
# Seqs a site's stream holds: those delivered in it and those an outbox_quarantined event announced
# set aside in it, under any id the stream went up under, each once (a record set aside and later
# sent again, both present, does not hide another one that is missing); from lo to hi, the names of
# the enclosing query's bounds.
_HELD = f"""(SELECT count(*) FROM (
        SELECT e.seq FROM events e
        WHERE e.site IN {_SITES_OF_STREAM} AND e.stream = s.stream AND e.seq BETWEEN {{lo}} AND {{hi}}
        UNION
        SELECT json_extract(q.payload, '$.quarantined_seq') FROM events q
        WHERE q.site IN {_SITES_OF_STREAM} AND q.type = 'outbox_quarantined'
        AND CASE WHEN json_type(q.payload, '$.quarantined_stream') IS NULL THEN q.stream
            ELSE coalesce(json_extract(q.payload, '$.quarantined_stream'), '') END = s.stream
        AND json_extract(q.payload, '$.quarantined_seq') BETWEEN {{lo}} AND {{hi}}))"""
# Seqs from a stream's first to its max_seq a site never delivered in that stream, but for those
# that went up under another site id meanwhile (renamed_away: a site id changed and changed back)
# and those set aside. A stream counts from the first_seq its outbox_started record names; a site
# that is a gateway's new id (a site_renamed event: its records before went up under the old one)
# from the seq the first site_renamed into it in that stream names (in any stream, for a stream
# without one: the records still waiting at the rename, queued in an older stream); else from 1.
STREAM_GAPS = f"""CREATE VIEW stream_gaps AS
SELECT s.site, s.stream, max(0, s.max_seq - s.first + 1 - {_HELD.format(lo="s.first", hi="s.max_seq")}
    - coalesce((SELECT sum(a.hi - a.lo + 1 - {_HELD.format(lo="a.lo", hi="a.hi")}) FROM (
        SELECT max(r.first_seq, s.first) AS lo,
            min(coalesce(r.next_seq, s.max_seq + 1), s.max_seq + 1) - 1 AS hi
        FROM renamed_away r WHERE r.site = s.site AND r.stream = s.stream) a
        WHERE a.lo <= a.hi), 0)) AS missing
FROM (SELECT site, stream, max_seq, coalesce((
    SELECT min(json_extract(r.payload, '$.first_seq')) FROM events r
    WHERE r.site = streams.site AND r.type = 'outbox_started'
    AND json_extract(r.payload, '$.stream') = streams.stream), (
    SELECT min(json_extract(r.payload, '$.first_seq')) FROM events r
    WHERE r.site = streams.site AND r.type = 'site_renamed' AND r.stream = streams.stream), (
    SELECT min(json_extract(r.payload, '$.first_seq')) FROM events r
    WHERE r.site = streams.site AND r.type = 'site_renamed'), 1) AS first FROM streams) s"""
SITE_GAPS = """CREATE VIEW site_gaps AS
SELECT site, coalesce((SELECT sum(g.missing) FROM stream_gaps g WHERE g.site = sites.site), 0) AS missing
FROM sites"""
# Each made after the views it reads: renamed_away, stream_gaps, site_gaps.
_VIEWS = {"renamed_away": RENAMED_AWAY, "stream_gaps": STREAM_GAPS, "site_gaps": SITE_GAPS}
_EVENT_TOPICS = ("events/#", "cmd/reply", "sync/request", "sync/error")
_STATE_TOPICS = {"status": "status", "health": "health", "sync/state": "sync_state"}
_BATCH = 500
_BATCH_WAIT = 0.05
MAX_SEQ = 2**63 - 1  # a gateway's seqs are SQLite integers
MAX_PORT = 65535


class Unusable(ValueError):
    """A message that cannot be stored as an event or a state: why, in words."""


def read_message(payload: bytes) -> tuple[str, Any]:
    """The payload's text and its JSON. Strict UTF-8 (RFC 8259, 8.1): json.loads would also take
    UTF-16 or UTF-32 bytes, which the text column then could not hold."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unusable(f"not UTF-8: {exc.reason} at byte {exc.start}") from exc
    try:
        return text, json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise Unusable(f"not JSON: {str(exc)[:200]}") from exc


def event_keys(body: Any) -> tuple[int, str, str]:
    """The seq, event id and stream ('' when the record names none) of an event, checked."""
    if not isinstance(body, dict):
        raise Unusable("not a JSON object")
    seq, event_id, stream = body.get("seq"), body.get("event_id"), body.get("stream", "")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= MAX_SEQ:
        raise Unusable(f"no seq from 1 to 2^63-1: {str(seq)[:40]}")
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= 200:
        raise Unusable("no event_id (a string of 1 to 200 characters)")
    if not isinstance(stream, str) or len(stream) > 64:
        raise Unusable(f"a stream that is not a string of up to 64 characters: {str(stream)[:40]}")
    return seq, event_id, stream


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
        self.db = _connect(options.db)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(SCHEMA)
            self._upgrade()
        except sqlite3.Error as exc:
            self.db.close()
            raise _cannot_open(options.db, exc) from exc
        self.stored = 0
        self.duplicates = 0
        self.rejected = 0
        self._warned: set[str | None] = set()  # sites whose rejected messages were logged
        self._events: queue.Queue[Any] = queue.Queue()
        self._rng = random.Random()
        self.ready = threading.Event()  # subscribed (for tests and --stop-after runs)

    def _upgrade(self) -> None:
        """A database of an older sink brought to this one's: each of its events is filed under
        the stream its payload names ('' for none: an older gateway's), as this version stores it
        (the boxes may have been upgraded first), and each site's streams counted from its events;
        the views as this version counts them, replacing older ones (whose count was wrong, or by
        site alone)."""
        self.db.execute("BEGIN IMMEDIATE")  # sinks starting together on one database
        try:
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(events)")}
            if "stream" not in columns:
                self.db.execute("ALTER TABLE events ADD COLUMN stream TEXT NOT NULL DEFAULT ''")
            made = self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'streams'").fetchone()
            if made is None:
                self.db.execute(STREAMS)
                self.db.execute(f"UPDATE events SET stream = {_STREAM_OF_PAYLOAD}")
                self.db.execute(_STREAMS_OF_EVENTS)
                # A site of one stream keeps its counts as the older sink kept them, exact (and
                # whole, should the centre have pruned events); one of several (a box replaced)
                # has each stream's from its events, and out_of_order their sum, as _one counts.
                self.db.execute(
                    "INSERT OR REPLACE INTO streams (site, stream, max_seq, events, out_of_order) "
                    "SELECT site, coalesce((SELECT t.stream FROM streams t WHERE t.site = sites.site), ''), "
                    "max_seq, events, out_of_order FROM sites WHERE events > 0 "
                    "AND (SELECT count(*) FROM streams t WHERE t.site = sites.site) <= 1"
                )
                self.db.execute(
                    "UPDATE sites SET out_of_order = (SELECT sum(t.out_of_order) FROM streams t "
                    "WHERE t.site = sites.site) "
                    "WHERE (SELECT count(*) FROM streams t WHERE t.site = sites.site) > 1"
                )
            self.db.execute("CREATE INDEX IF NOT EXISTS events_site_stream_seq ON events(site, stream, seq)")
            # The views read a site's site_renamed events for each stream they count: a few rows,
            # found without reading the rest (an index of them alone costs other events nothing).
            self.db.execute(
                "CREATE INDEX IF NOT EXISTS events_renames ON events(site, stream) "
                "WHERE type = 'site_renamed'"
            )
            kept = dict(self.db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'").fetchall())
            if any(kept.get(name) != sql for name, sql in _VIEWS.items()):
                for name in _VIEWS:  # all dropped, then made in _VIEWS' order
                    self.db.execute(f"DROP VIEW IF EXISTS {name}")
                for sql in _VIEWS.values():
                    self.db.execute(sql)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

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
                tls_names=_TLS_OPTIONS,
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
                log.warning("central-sink: %s", in_sink_terms(exc))
            except Exception:  # the database: what was not acknowledged comes again after a reconnect
                failures += 1
                log.exception("central-sink: storing failed; reconnecting (fix: check the database's disk)")
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
        """One transaction for the batch, then the acknowledgements: no ack before its commit.

        Each message in a savepoint of its own: one that cannot be stored is rolled back alone,
        kept in `rejected` and acknowledged with the rest."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for msg in batch:
                self.db.execute("SAVEPOINT one")
                try:
                    self._one(msg, now)
                except Exception as exc:
                    self.db.execute("ROLLBACK TO one")
                    why = str(exc) if isinstance(exc, Unusable) else f"not stored: {exc!r}"[:300]
                    self._reject(msg, why, now)
                self.db.execute("RELEASE one")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        for msg in batch:
            if msg.qos > 0:
                conn.ack(msg.mid, msg.qos)

    def _reject(self, msg: Received, why: str, now: str) -> None:
        site = site_of(self.o.prefix, msg.topic)
        self.db.execute(
            "INSERT INTO rejected (site, topic, reason, payload, received_at) VALUES (?, ?, ?, ?, ?)",
            (site, msg.topic, why, msg.payload, now),
        )
        self.rejected += 1
        # Once per site at WARNING: a gateway that sends nothing but bad messages must not flood.
        level = logging.DEBUG if site in self._warned else logging.WARNING
        self._warned.add(site)
        log.log(
            level,
            "central-sink: message on %s kept in table rejected, not stored: %s "
            "(fix: the sender must publish UTF-8 JSON with a seq and an event_id)",
            msg.topic,
            why,
        )

    def _one(self, msg: Received, now: str) -> None:
        site = site_of(self.o.prefix, msg.topic)
        if site is None:
            return
        rest = msg.topic[len(self.o.prefix) + len(site) + 2 :]
        text, body = read_message(msg.payload)
        self.db.execute("INSERT OR IGNORE INTO sites (site) VALUES (?)", (site,))
        if rest in _STATE_TOPICS:
            column = _STATE_TOPICS[rest]
            self.db.execute(
                f"UPDATE sites SET {column} = ?, {column}_at = ? WHERE site = ?",
                (text, now, site),
            )
            return
        seq, event_id, stream = event_keys(body)
        cur = self.db.execute(
            "INSERT INTO events (event_id, site, seq, type, topic, payload, received_at, stream) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
            (
                event_id,
                site,
                seq,
                str(body.get("type", "")),
                msg.topic,
                text,
                now,
                stream,
            ),
        )
        if cur.rowcount == 0:
            self.duplicates += 1
            self.db.execute("UPDATE sites SET duplicates = duplicates + 1 WHERE site = ?", (site,))
            return
        self.stored += 1
        # Out of order within its stream only: another stream's seqs (a new box's) are not its.
        highest = self.db.execute(
            "SELECT max_seq FROM streams WHERE site = ? AND stream = ?", (site, stream)
        ).fetchone()
        late = int(highest is not None and seq < highest[0])
        self.db.execute(
            "INSERT INTO streams (site, stream, max_seq, events, out_of_order) VALUES (?, ?, ?, 1, ?) "
            "ON CONFLICT (site, stream) DO UPDATE SET events = events + 1, "
            "out_of_order = out_of_order + excluded.out_of_order, max_seq = max(max_seq, excluded.max_seq)",
            (site, stream, seq, late),
        )
        self.db.execute(
            "UPDATE sites SET events = events + 1, out_of_order = out_of_order + ?, "
            "max_seq = max(max_seq, ?) WHERE site = ?",
            (late, seq, site),
        )


def _connect(path: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    except sqlite3.Error as exc:
        raise _cannot_open(path, exc) from exc


def _cannot_open(path: Path, exc: sqlite3.Error) -> SetupError:
    """The sink's own database (--db) cannot be opened or made: named, with what to do. Not the
    gateway's (cli.py's words for that one speak of the site's data directory)."""
    folder = path.absolute().parent
    if not folder.is_dir():
        fix = f"make its folder first (mkdir -p {folder}), or give --db a file in a folder that exists"
    elif is_busy(exc):
        fix = "another sink holds it as it starts (it brings the tables up to date): start this one again"
    else:
        fix = (
            f"check that the user running the sink may write {folder} and the file, and that its disk "
            "has free space; a file that is not a sink's SQLite database: give --db another file"
        )
    return SetupError(f"--db {path}: cannot open the sink's database: {exc}", fix=fix)


def read_password(path: Path) -> str:
    """The broker password from --password-file, or a SetupError naming the file (exit 78)."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise SetupError(
            f"--password-file {path}: cannot read the broker password: {why or exc}",
            fix="put the sink's broker password in that file (one line, readable by the user running "
            "the sink only: chmod 600), or give --password-file the file that holds it",
        ) from exc


def in_sink_terms(exc: Exception) -> Exception:
    """The link's error with the fix in the sink's own options: the link words it for a gateway
    ("check [mqtt] host and port"), and the sink has no site config, only --host, --port and
    --ca-file, --cert-file and --key-file."""
    if isinstance(exc, BrokerUnreachable):
        return BrokerUnreachable(
            exc.message,
            fix="check --host and --port (1883, or 8883 with TLS) and that the broker runs; the sink "
            "tries again by itself, and the gateways keep every record until it is back",
        )
    if isinstance(exc, TlsFailed):
        return TlsFailed(
            exc.message,
            fix="check --ca-file (the CA that signed the broker's certificate), that the broker's "
            "certificate names the host given as --host, and --cert-file and --key-file",
        )
    return exc


# The sink's options, as its TLS files' errors name them.
_TLS_OPTIONS = {"ca_file": "--ca-file", "cert_file": "--cert-file", "key_file": "--key-file"}


def check_tls_files(ca_file: Path | None, cert_file: Path | None, key_file: Path | None) -> None:
    """--ca-file, --cert-file and --key-file load as the connection loads them, or a SetupError
    (exit 78) naming the option, its file and what to do: a missing CA file was Python's traceback
    from paho's tls_set, and a file that is no certificate a raw ssl.SSLError. A client certificate
    or key given without --ca-file (TLS off) was quietly left unused."""
    if ca_file is None:
        if cert_file is not None or key_file is not None:
            option, path = ("--cert-file", cert_file) if cert_file is not None else ("--key-file", key_file)
            raise SetupError(
                f"{option} {path}: a client certificate is used only over TLS, which --ca-file turns on",
                fix="give --ca-file the CA certificate that signed the broker's certificate as well "
                "(and --port 8883, the broker's TLS port), or leave the client certificate out",
            )
        return
    if cert_file is None and key_file is not None:
        raise SetupError(
            f"--key-file {key_file}: a key is used with its client certificate, and no --cert-file was given",
            fix="give --cert-file the sink's client certificate, the one this key belongs to",
        )
    problem = tls_files_unusable(ca_file, cert_file, key_file, _TLS_OPTIONS)
    if problem is not None:
        raise SetupError(problem.message, fix=problem.fix) from problem


def run_sink(args: Any) -> int:
    """The CLI's entry: runs until SIGTERM, Ctrl-C or --stop-after."""
    import signal

    if not 1 <= args.port <= MAX_PORT:  # else tried as a port of its own making, "refused" for ever
        raise SetupError(
            f"--port {args.port}: a port is 1 to {MAX_PORT}",
            fix="give the broker's port: 1883, or 8883 with TLS (--ca-file)",
        )
    password = read_password(args.password_file) if args.password_file else None
    check_tls_files(args.ca_file, args.cert_file, args.key_file)
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
    # A daemon, cancelled at the stop: a SIGTERM before it fired otherwise left the process
    # waiting for it after "central-sink stopped", for the rest of --stop-after.
    timer = None
    if args.stop_after is not None:
        timer = threading.Timer(args.stop_after, stop.set)
        timer.daemon = True
        timer.start()
    log.info("central-sink writing %s/+/events into %s", args.prefix, args.db)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            sink.run(stop)
    finally:
        if timer is not None:
            timer.cancel()
    log.info("central-sink stopped: %d events stored, %d duplicates", sink.stored, sink.duplicates)
    return 0
