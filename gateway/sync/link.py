"""The MQTT link of one gateway: connect with backoff, drain the outbox, report, take downlink.

One thread owns the link's state; paho's network thread only hands typed events over a queue
(client.py), except for messages an arrival handler takes (snapshot parts, deltas and commands):
paho acknowledges a message when its callback returns, so those are written to disk on that thread
first. Writes to the database go through the gateway's worker, in turn with decisions.
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
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from gateway.alarm_texts import AlarmText, Param
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import clear_alarm, raise_alarm, write_alarm
from gateway.store.database import transaction
from gateway.store.outbox import (
    backlog,
    enqueue,
    first_pending_not_held,
    mark_sent,
    pending,
    prune_sent,
    quarantine,
)
from gateway.sync.backoff import retry_delay
from gateway.sync.client import Acked, Connected, Connection, Lost, Received, Refused, Settings
from gateway.sync.errors import LinkError, LinkSetupError, puback_text
from gateway.sync.health import health_report
from gateway.sync.nonces import forget_used_ids
from gateway.sync.topics import Topics
from gateway.sync.uplink import POISON_LIMIT, Done, Quarantine, Uplink

log = logging.getLogger(__name__)

try:
    VERSION = version("estate-gateway")
except PackageNotFoundError:  # running from a source tree
    VERSION = "0+source"

_MARK_BATCH = 256  # acknowledged rows written as sent in one transaction
_MARK_DELAY = 0.05  # seconds an acknowledgement may wait for others before it is written
_POLL = 0.1  # seconds between looks for new outbox rows
_BEHIND_EVERY = 2.0  # seconds between looks for rows put back in line behind the cursor
_QUOTA_EVERY = 30.0
_PRUNE_EVERY = 600.0  # up to 2,000 sent rows each time
_REWRITE_AFTER = 5.0  # seconds before marks that could not be written (a full disk) are tried again
# A retained topic whose message made the broker close the connection POISON_LIMIT times in a row
# is not sent for this long: the records behind it go up meanwhile.
RETAINED_HOLD_S = 600.0


@dataclass(frozen=True, slots=True)
class Settled:
    """Sent or quarantined marks committed for these rows."""

    seqs: list[int]


@dataclass(frozen=True, slots=True)
class Unwritten:
    """Sent or quarantined marks whose write failed: `again` writes them once more."""

    again: Callable[[], None]


@dataclass(frozen=True, slots=True)
class Retain:
    """The latest value of a retained topic: sent now if connected, and again after each connect."""

    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Wake:
    pass


DownlinkHandler = Callable[[Received], None]
ArrivalHandler = Callable[[Received], bool]


class SyncLink:
    def __init__(self, gw: Gateway, *, rng: random.Random | None = None):
        self.gw = gw
        self.cfg = gw.site.config.mqtt
        site = gw.site.config.site.id
        self.topics = Topics(self.cfg.topic_prefix, site)
        self.client_id = self.cfg.client_id or f"gw-{site}"
        self.uplink = Uplink(self.topics, self._fetch, self.cfg.inflight, self.cfg.max_message_bytes)
        self._events: queue.Queue[Any] = queue.Queue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._rng = rng or random.Random()
        self._reader: sqlite3.Connection | None = None
        self._retained: dict[str, bytes] = {}
        self._retained_mids: dict[int, str] = {}  # mid -> retained topic, this connection
        self._retained_due: dict[str, None] = {}  # retained topics to send on this connection
        self._rows_wait = False  # after a connect, rows wait until the retained topics are through
        self._refused_topics: set[str] = set()  # retained topics the broker's ACL refuses
        self._strikes: dict[str, int] = {}  # retained topic -> drops in a row while it was in flight
        self._held_until: dict[str, float] = {}  # retained topic -> not sent before (monotonic)
        self._marks: list[Done] = []
        self._marks_since = 0.0
        self._rewrites: list[tuple[float, Callable[[], None]]] = []  # (when, write again)
        self._downlink: DownlinkHandler | None = None
        self._arrival: ArrivalHandler | None = None
        self._on_connect_hooks: list[Callable[[], None]] = []
        self._next: dict[str, float] = {}
        # What /api/health shows; plain attributes, read from other threads.
        self.state = "stopped"
        self.state_since = time.time()
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.next_attempt_at: float | None = None
        self.attempts = 0
        self.sent = 0
        self.quarantined = 0
        self.backlog: dict[str, Any] = {}
        self._error_logged: str | None = None

    # -- the outside: start, stop, status, hooks for the downlink side ---------------------------

    def start(self) -> None:
        self.gw.subscribe(lambda ev: self._events.put(Wake()))
        self._thread = threading.Thread(target=self._run, name="mqtt-link", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._events.put(Wake())
        if self._thread is not None:
            self._thread.join(timeout)

    def on_downlink(self, handler: DownlinkHandler) -> None:
        self._downlink = handler

    def on_arrival(self, handler: ArrivalHandler) -> None:
        """`handler` runs on paho's network thread for each message received, before paho
        acknowledges it to the broker; it returns True for a message it took (not passed on to
        the downlink handler). It must be quick and must not raise."""
        self._arrival = handler

    def on_connect(self, hook: Callable[[], None]) -> None:
        self._on_connect_hooks.append(hook)

    def retained(self, topic: str) -> bytes | None:
        """The latest value set for a retained topic (sent, or to be sent on connect)."""
        return self._retained.get(topic)

    def retain(self, topic: str, payload: dict[str, Any]) -> None:
        """Set a retained topic's value (thread-safe): status, sync state, health."""
        self._events.put(Retain(topic, json.dumps(payload, ensure_ascii=False).encode()))

    def status(self) -> dict[str, Any]:
        return {
            "enabled": True,
            "state": self.state,
            "since": _iso(self.state_since),
            "broker": f"{self.cfg.host}:{self.cfg.port}",
            "client_id": self.client_id,
            "tls": self.cfg.ca_file is not None,
            "last_error": self.last_error,
            "last_error_at": _iso(self.last_error_at),
            "next_attempt_in_s": round(max(0.0, self.next_attempt_at - time.time()), 1)
            if self.next_attempt_at and self.state != "connected"
            else None,
            "attempts": self.attempts,
            "sent": self.sent,
        }

    # -- the link thread -------------------------------------------------------------------------

    def _run(self) -> None:
        self._reader = sqlite3.connect(f"file:{self.gw.db_path}?mode=ro", uri=True, timeout=10)
        failures = 0
        try:
            while not self._stopping.is_set():
                outcome = self._session()
                if outcome == "stopped":
                    break
                if outcome == "refused":
                    delay = self.cfg.auth_retry_s * (0.75 + self._rng.random() / 4)
                    failures = 0
                else:
                    # "lost" is a connection that held (a minute, or a record went through);
                    # one dropped soon after CONNACK backs off as a failed attempt does.
                    failures = 0 if outcome == "lost" else failures + 1
                    delay = retry_delay(
                        max(failures, 1),
                        self.cfg.reconnect_min_s,
                        self.cfg.reconnect_max_s,
                        self._rng,
                    )
                log.debug(
                    "mqtt link %s; next attempt in %.2f s (%d failed in a row)", outcome, delay, failures
                )
                self.next_attempt_at = time.time() + delay
                self._idle(delay)
        finally:
            self._set_state("stopped")
            self._reader.close()

    def _session(self) -> str:
        """One connection from attempt to loss: 'stopped', 'refused', 'failed', 'dropped' (lost
        before it held) or 'lost'."""
        self.attempts += 1
        try:
            settings = self._settings()
        except LinkSetupError as exc:
            self._error("error", exc)
            return "refused"
        self._set_state("connecting")
        conn = Connection(settings, self._from_paho)
        try:
            conn.open()
        except LinkError as exc:
            self._error("offline", exc)
            return "failed"
        first = self._await_connack()
        if not isinstance(first, Connected):
            conn.close()
            if isinstance(first, Refused):
                # Only credentials wait auth_retry_s; a broker that is starting or busy, or limits
                # the rate of connections, takes the normal backoff.
                if first.error.credentials:
                    self._error("refused", first.error)
                    return "refused"
                self._error("offline", first.error)
                return "failed"
            self._error("offline", LinkError(first.reason if first else "no answer from the broker"))
            return "failed"
        self._connected(conn, first)
        began = time.monotonic()
        outcome = "lost"
        try:
            outcome = self._serve(conn)
        finally:
            held = self.uplink.acks_in_session > 0 or time.monotonic() - began >= self.cfg.reconnect_max_s
            # A retained message unacknowledged at the drop may be what the broker closed the
            # connection over: it is blamed, not the outbox's oldest row.
            unacked = list(self._retained_mids.values())
            self._retained_mids.clear()
            poison = self.uplink.end_session(blame=not unacked)
            if outcome == "lost":
                for topic in unacked:
                    self._strike(topic)
            if poison is not None:
                self._quarantine(poison)
            self._flush_marks(force=True)
            stopping = self._stopping.is_set()
            conn.close(
                last=(self.topics.status, self._status_payload("offline", "stopped")) if stopping else None
            )
        return "dropped" if outcome == "lost" and not held else outcome

    def _from_paho(self, ev: Any) -> None:
        """On paho's network thread: hand the event over, or to the arrival handler first."""
        if isinstance(ev, Received) and self._arrival is not None:
            try:
                if self._arrival(ev):
                    return
            except Exception:  # never into paho: it would end its network thread
                log.exception("downlink message on %s not kept on arrival", ev.topic)
        self._events.put(ev)

    def _await_connack(self) -> Connected | Refused | Lost | None:
        deadline = time.monotonic() + self.cfg.keepalive_s + 10
        while time.monotonic() < deadline and not self._stopping.is_set():
            try:
                ev = self._events.get(timeout=0.2)
            except queue.Empty:
                continue
            if isinstance(ev, Connected | Refused | Lost):
                return ev
            self._handle_local(ev)
        return None

    def _connected(self, conn: Connection, ev: Connected) -> None:
        if self.last_error is not None:
            log.info("mqtt connected broker=%s after %d attempt(s)", conn.settings.broker, self.attempts)
        else:
            log.info(
                "mqtt connected broker=%s session_present=%s",
                conn.settings.broker,
                ev.session_present,
            )
        self._error_logged = None
        self.attempts = 0
        self.next_attempt_at = None
        self.uplink.start_session(max(1, ev.receive_maximum - 2), ev.max_packet_size)
        self._retained[self.topics.status] = self._status_payload("online")
        self._retained_mids.clear()
        # The retained topics go first, one at a time, and the rows only once they are through:
        # a connection the broker closes then names the message that did it.
        self._retained_due = dict.fromkeys([self.topics.status, *self._retained])
        self._rows_wait = True
        try:
            conn.subscribe(self.topics.downlink(), qos=1)
            self._send_retained(conn)
        except LinkError as exc:
            log.debug("connection went down while starting: %s", exc)
        self._set_state("connected")
        for hook in self._on_connect_hooks:
            hook()

    def _serve(self, conn: Connection) -> str:
        while True:
            with contextlib.suppress(LinkError):  # going down: Lost follows
                self._send_retained(conn)
            self._publish_window(conn)
            try:
                ev = self._events.get(timeout=_MARK_DELAY if self._marks else _POLL)
            except queue.Empty:
                ev = None
            for _ in range(1000):  # take what is waiting before going back to publishing
                if ev is not None:
                    if isinstance(ev, Lost):
                        log.warning(
                            "mqtt connection lost broker=%s reason=%s",
                            conn.settings.broker,
                            ev.reason,
                        )
                        self._set_state("offline")
                        self.last_error, self.last_error_at = (
                            f"connection lost: {ev.reason}",
                            time.time(),
                        )
                        return "lost"
                    self._handle(ev, conn)
                try:
                    ev = self._events.get_nowait()
                except queue.Empty:
                    break
            self._flush_marks()
            self._tick(conn)
            if self._stopping.is_set():
                return "stopped"

    def _publish_window(self, conn: Connection) -> None:
        if self._rows_wait:
            return
        room = self.uplink.room()
        if room <= 0:
            return
        messages, bad = self.uplink.take(room)
        for q in bad:
            self._quarantine(q)
        for m in messages:
            try:
                mid = conn.publish(m.topic, m.body)
            except LinkError:
                return  # going down: Lost follows, and the row is still pending
            self.uplink.sent(mid, m)

    def _send_retained(self, conn: Connection) -> None:
        """The next retained topic due, once the one before it is acknowledged: at most one in
        flight, so that a drop while one is unacknowledged can be put down to it."""
        if self._retained_mids:
            return
        now = time.monotonic()
        for topic in list(self._retained_due):
            if topic in self._refused_topics:
                del self._retained_due[topic]
            elif self._held_until.get(topic, 0.0) <= now:
                del self._retained_due[topic]
                self._retained_mids[conn.publish(topic, self._retained[topic], retain=True)] = topic
                return
        self._rows_wait = False  # all through, or held back

    def _strike(self, topic: str) -> None:
        """The connection went while `topic` was unacknowledged: after POISON_LIMIT such drops in
        a row, the broker is taken to refuse that message, and it is held back for a while."""
        strikes = self._strikes.get(topic, 0) + 1
        if strikes < POISON_LIMIT:
            self._strikes[topic] = strikes
            log.info("mqtt connection lost while %s was unacknowledged (%d in a row)", topic, strikes)
            return
        del self._strikes[topic]
        self._held_until[topic] = time.monotonic() + RETAINED_HOLD_S
        text = (
            f"the broker closed the connection each of the {POISON_LIMIT} times {topic} was sent: "
            f"not sent again for {RETAINED_HOLD_S / 60:.0f} min, the records go up meanwhile"
        )
        log.error(
            "%s fix=raise the broker's message size limit (mosquitto message_size_limit, EMQX "
            "max_packet_size) or let this gateway's account write %s in the broker's ACL",
            text,
            topic,
        )
        self.last_error, self.last_error_at = text, time.time()

    def _handle(self, ev: Any, conn: Connection) -> None:
        if isinstance(ev, Acked) and ev.mid in self._retained_mids:
            topic = self._retained_mids.pop(ev.mid)
            self._strikes.pop(topic, None)
            if ev.refused:
                # Not sent again by this process: a refused retained message would otherwise go
                # out after every connect (and some brokers drop the connection over it).
                self._refused_topics.add(topic)
                log.error(
                    "the broker refuses %s: %s fix=let this gateway's account write it in the broker's ACL",
                    topic,
                    puback_text(ev.code),
                )
        elif isinstance(ev, Acked):
            outcome = self.uplink.acked(ev.mid, ev.code)
            if isinstance(outcome, Done):
                if not self._marks:
                    self._marks_since = time.monotonic()
                self._marks.append(outcome)
            elif isinstance(outcome, Quarantine):
                self._quarantine(outcome)
        elif isinstance(ev, Received):
            if self._downlink is not None:
                try:
                    self._downlink(ev)
                except Exception:  # a bad message must never take the link down
                    log.exception("downlink message on %s not handled", ev.topic)
        elif isinstance(ev, Retain):
            self._retained[ev.topic] = ev.payload
            self._retained_due[ev.topic] = None  # sent in its turn; if not now, after the next connect
        else:
            self._handle_local(ev)

    def _handle_local(self, ev: Any) -> None:
        """Events that need no connection."""
        if isinstance(ev, Settled):
            self.uplink.settled(ev.seqs)
        elif isinstance(ev, Unwritten):
            self._rewrites.append((time.monotonic() + _REWRITE_AFTER, ev.again))
        elif isinstance(ev, Retain):
            self._retained[ev.topic] = ev.payload
        elif isinstance(ev, Wake):
            self.uplink.wake()
        elif isinstance(ev, Received) and self._downlink is not None:
            self._downlink(ev)

    def _idle(self, delay: float) -> None:
        """Wait before the next attempt, still settling marks and checking the outbox quota."""
        until = time.monotonic() + delay
        while not self._stopping.is_set():
            left = until - time.monotonic()
            if left <= 0:
                return
            try:
                ev = self._events.get(timeout=min(left, 1.0))
                self._handle_local(ev)
            except queue.Empty:
                pass
            self._tick(None)

    def _tick(self, conn: Connection | None) -> None:
        now = time.monotonic()
        if self._due("poll", _POLL, now):
            self.uplink.wake()
        if self._due("quota", min(_QUOTA_EVERY, self.cfg.health_interval_s), now):
            self.check_quota()
        if conn is not None and self._due("health", self.cfg.health_interval_s, now):
            self.retain(self.topics.health, self.health())
        if self._due("prune", _PRUNE_EVERY, now):
            self._prune()
        if self._due("behind", _BEHIND_EVERY, now):
            self._look_behind()
        due = [again for at, again in self._rewrites if at <= now]
        if due:
            self._rewrites = [(at, again) for at, again in self._rewrites if at > now]
            for again in due:
                again()

    def _due(self, what: str, every: float, now: float) -> bool:
        if now < self._next.get(what, 0.0):
            return False
        self._next[what] = now + every
        return True

    # -- writes, through the gateway's worker ----------------------------------------------------

    def _flush_marks(self, force: bool = False) -> None:
        if not self._marks:
            return
        if (
            not force
            and len(self._marks) < _MARK_BATCH
            and time.monotonic() - self._marks_since < _MARK_DELAY
        ):
            return
        done, self._marks = self._marks, []
        self._write_marks([(d.seq, d.attempts) for d in done])

    def _write_marks(self, rows: list[tuple[int, int]]) -> None:
        at = self.gw.now()

        def write(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                mark_sent(conn, rows, at)
            self.sent += len(rows)

        self._after(self.gw.on_worker(write), [seq for seq, _ in rows], lambda: self._write_marks(rows))

    def _quarantine(self, q: Quarantine) -> None:
        log.error(
            "outbox record quarantined seq=%d reason=%s fix=look at the broker's ACL and "
            "limits; the record is kept in the outbox with its reason, and once the cause is fixed "
            "`gateway outbox -c CONFIG --send-again SEQ` sends it again",
            q.seq,
            q.reason,
        )
        self._write_quarantine(q)

    def _write_quarantine(self, q: Quarantine) -> None:
        at = self.gw.now()

        def write(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                row = quarantine(conn, q.seq, q.reason, at)
                if row is not None:
                    event_id, record_type = row
                    if record_type != "outbox_quarantined":
                        # The central side learns why this seq will never arrive.
                        enqueue(
                            conn,
                            "outbox_quarantined",
                            {
                                "at": at.isoformat(),
                                "quarantined_seq": q.seq,
                                "quarantined_event_id": event_id,
                                "record_type": record_type,
                                "reason": q.reason,
                            },
                            at,
                        )
                    words: dict[str, Param] = {
                        "record_type": str(record_type),
                        "seq": q.seq,
                        "reason": q.reason,
                    }
                    write_alarm(
                        conn, "outbox_quarantine", record_type, AlarmText("outbox_quarantine", words), at
                    )
            self.quarantined += 1

        self._after(self.gw.on_worker(write), [q.seq], lambda: self._write_quarantine(q))

    def _after(self, future: Future[Any], seqs: list[int], again: Callable[[], None]) -> None:
        def done(f: Future[Any]) -> None:
            if f.exception() is None:
                self._events.put(Settled(seqs))
            else:  # the rows stay settling (not sent again) until their marks are written
                log.error(
                    "outbox marks not written for %d row(s): %s; trying again in %.0f s "
                    "(fix: free disk space if the disk is full)",
                    len(seqs),
                    f.exception(),
                    _REWRITE_AFTER,
                )
                self._events.put(Unwritten(again))

        future.add_done_callback(done)

    def check_quota(self) -> dict[str, Any]:
        """Raise the outbox alarm well before the quota; clear it once the backlog has drained."""
        with sqlite3.connect(f"file:{self.gw.db_path}?mode=ro", uri=True, timeout=10) as conn:
            self.backlog = backlog(conn)
        used_mb = self.backlog["pending_bytes"] / 2**20
        quota = self.cfg.outbox_quota_mb
        at = self.gw.now()
        if used_mb >= quota * self.cfg.outbox_alarm_percent / 100:
            params = {"pending": self.backlog["pending"], "used_mb": used_mb, "quota_mb": quota}
            text = AlarmText("outbox_quota", {**params, "percent": 100 * used_mb / quota})
            self.gw.on_worker(lambda conn: raise_alarm(conn, "outbox_quota", "outbox", text, at))
        elif used_mb < quota * self.cfg.outbox_alarm_percent / 200:
            self.gw.on_worker(lambda conn: clear_alarm(conn, "outbox_quota", "outbox", at))
        return self.backlog

    def _prune(self) -> None:
        now = self.gw.now()
        before = now - timedelta(days=self.cfg.keep_sent_days)
        expired = now - timedelta(seconds=self.cfg.clock_skew_s)

        def run(conn: sqlite3.Connection) -> int:
            with transaction(conn):
                n = prune_sent(conn, before)
                forget_used_ids(conn, expired)
            return n

        self.gw.on_worker(run)

    # -- pieces ----------------------------------------------------------------------------------

    def _look_behind(self) -> None:
        """Rows put back in line behind the cursor (`gateway outbox --send-again`, from any process)
        are sent in their turn, without waiting for a reconnect. Not while offline: rows in flight
        when the connection went are pending behind the cursor too, and a reconnect starts from the
        first pending row anyway."""
        if self._reader is None or self.state != "connected":
            return
        back = first_pending_not_held(self._reader, *self.uplink.behind())
        if back is not None:
            log.info("outbox records put back in line from seq=%d: sending them again", back)
            self.uplink.rewind(back)

    def _fetch(self, after: int, limit: int) -> list[tuple[int, str, str, str]]:
        assert self._reader is not None
        return pending(self._reader, after, limit)

    def health(self) -> dict[str, Any]:
        applied = 0
        if self._reader is not None:
            applied = self._reader.execute("SELECT applied_version FROM sync_state").fetchone()[0]
        return health_report(self.gw, self.backlog, applied, VERSION, self.gw.now())

    def _settings(self) -> Settings:
        cfg = self.cfg
        password = None
        if cfg.password_file is not None:
            password = _read_secret(cfg.password_file, "password_file")
        for name in ("ca_file", "cert_file", "key_file"):
            path = getattr(cfg, name)
            if path is not None and not path.is_file():
                raise LinkSetupError(
                    f"[mqtt] {name} {path} does not exist",
                    fix=f"put the file there or correct [mqtt] {name}",
                )
        will = (self.topics.status, self._status_payload("offline", "connection lost"))
        return Settings(
            host=cfg.host,
            port=cfg.port,
            client_id=self.client_id,
            username=cfg.username,
            password=password,
            ca_file=cfg.ca_file,
            cert_file=cfg.cert_file,
            key_file=cfg.key_file,
            keepalive=cfg.keepalive_s,
            session_expiry=cfg.session_expiry_s,
            clean_start=False,
            inflight=cfg.inflight,
            will=will,
        )

    def _status_payload(self, state: str, reason: str = "") -> bytes:
        body = {
            "v": 1,
            "type": "status",
            "site": self.topics.site,
            "state": state,
            "at": self.gw.now().isoformat(),
            "version": VERSION,
        }
        if reason:
            body["reason"] = reason
        return json.dumps(body).encode()

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_since = time.time()

    def _error(self, state: str, exc: Exception) -> None:
        self._set_state(state)
        text = str(exc)
        self.last_error, self.last_error_at = text.split("\n")[0], time.time()
        # A repeated fault is logged once at WARNING (ERROR for a refusal), then quietly.
        if text != self._error_logged:
            level = logging.ERROR if state in ("refused", "error") else logging.WARNING
            log.log(level, "mqtt link %s: %s", state, text)
            self._error_logged = text
        else:
            log.debug("mqtt link %s: %s", state, text)


def _read_secret(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise LinkSetupError(
            f"cannot read [mqtt] {name} {path}: {exc.strerror}",
            fix="create the file, readable by the gateway user only (chmod 600)",
        ) from exc


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds") if ts else None
