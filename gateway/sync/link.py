"""The MQTT link of one gateway: connect with backoff, drain the outbox, report, take downlink.

One thread owns the link's state; paho's network thread only hands typed events over a queue
(client.py), except for messages an arrival handler takes (snapshot parts, deltas and commands):
paho acknowledges a message when its callback returns, so those are written to disk on that thread
first. Writes to the database go through the gateway's worker, in turn with decisions.
This module holds the connections and the events; the outbox's rows are link_outbox.py's, the
retained topics retained.py's, the broker settings broker_settings.py's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.store.database import open_read_only
from gateway.sync.backoff import retry_delay
from gateway.sync.broker_settings import broker_settings
from gateway.sync.client import Acked, Connected, Connection, Lost, Received, Refused, Subscribed
from gateway.sync.errors import BrokerRefused, CertificateRefused, LinkError, LinkSetupError
from gateway.sync.health import health_report
from gateway.sync.link_outbox import MARK_DELAY, LinkOutbox, Settled, Unwritten
from gateway.sync.retained import Over, RetainedTopics
from gateway.sync.subscription import Subscription
from gateway.sync.topics import Topics
from gateway.sync.uplink import Quarantine

log = logging.getLogger(__name__)

try:
    VERSION = version("estate-gateway")
except PackageNotFoundError:  # running from a source tree
    VERSION = "0+source"

_POLL = 0.1  # seconds between looks for new outbox rows
_BEHIND_EVERY = 2.0  # seconds between looks for rows put back in line behind the cursor
_QUOTA_EVERY = 30.0
_PRUNE_EVERY = 600.0  # up to 2,000 sent rows each time
# A connection held once it lasted this long: one the broker closes sooner is a failed attempt, and
# the backoff grows, records acknowledged on it or not (a second box with the same client id takes
# the session over as soon as it connects, and gets its queued record through in milliseconds).
_HOLDS_AFTER_S = 10.0
# Drops in a row soon after connecting, none put down to a message the broker would not take, that
# suggest a second box with the client id.
_CLASH_AFTER = 3

Suspect = str | int  # a message a drop may be put down to: a retained topic, or an outbox record's seq


@dataclass(slots=True)
class DropRun:
    """The quick drops in a row (a connection that holds ends the run), and the message they single
    out. A message is poison only when the drops single it out: each time the broker closed the
    connection with it unacknowledged (sent alone after the first), on a connection a round trip
    had proved, with no drop put down to another message before it was set aside, nor to none once
    one was put down to a message. Drops that follow one another whatever is in flight (a second
    box with the client id, on a slow uplink before any answer comes back; a flapping network) are
    the connection's.

    A drop put down to a message is tried: the connections after it send no record until they
    have lasted twice as long as it did (`quiet_s`). A second box that takes the session over at
    the same time after each connect (on an uplink slow enough that an answer came back first)
    drops one with nothing in flight: the run is the connection's. One that outlives the wait says
    the drops were the message's (`cleared`), which is then sent alone.

    Once the run is found the connection's, a fresh run begins with no quiet wait: a flapping
    network may never let a connection last it, and no record went up while it flapped. Its drops
    may single out a message again: a retained message the broker will not take, sent first after
    every connect, is struck there (a run that never put anything down to a message again, until
    a connection held, left such a message in flight at every connect and the link dropping for
    good)."""

    suspect: Suspect | None = None  # the message the run's drops are put down to (until set aside)
    singled: bool = False  # a drop of this run was put down to a message
    set_aside: list[Suspect] = field(default_factory=list)  # for drops of this run
    quiet_s: float = 0.0  # how long a connection sends no record after connecting (0: none)
    cleared: Suspect | None = None  # a quiet connection outlived the drops put down to it

    def judge(self, suspect: Suspect | None) -> str:
        """A quick drop, with the message it may be put down to: 'blamed' (put down to it),
        'unexplained' (none: counts toward a client id clash) or 'connection' (the run's drops,
        and this one, were the connection's: they all count, and what they set aside goes back)."""
        if suspect is None:
            return "connection" if self.singled else "unexplained"
        if self.suspect not in (None, suspect):
            return "connection"
        self.suspect, self.singled = suspect, True
        return "blamed"

    def put_aside(self, suspect: Suspect) -> None:
        """Set aside after POISON_LIMIT drops: the next message may take the blame."""
        self.set_aside.append(suspect)
        self.suspect = None

    def quiet_after(self, suspect: Suspect, lasted: float) -> None:
        """A drop put down to `suspect`, `lasted` s after the connect: unless a quiet connection has
        outlived its drops already, the next ones wait twice as long before sending a record."""
        if suspect != self.cleared:
            self.quiet_s = min(2 * lasted, _HOLDS_AFTER_S)

    def outlived(self) -> None:
        """A connection lasted quiet_s with no record in flight: the drops single out their message."""
        self.cleared, self.quiet_s = self.suspect, 0.0


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
        self._events: queue.Queue[Any] = queue.Queue()
        self.outbox = LinkOutbox(gw, self.topics, self._events)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._rng = rng or random.Random()
        self._retained = RetainedTopics()
        self._subscription = Subscription(self.topics)
        self._downlink: DownlinkHandler | None = None
        self._arrival: ArrivalHandler | None = None
        self._on_connect_hooks: list[Callable[[], None]] = []
        self._on_session_lost_hooks: list[Callable[[str], None]] = []
        self._next: dict[str, float] = {}
        # What /api/health shows; plain attributes, read from other threads.
        self.state = "stopped"
        self.state_since = time.time()
        # The broker has answered this connection's subscription to the centre's topics: what the
        # centre publishes from now on reaches the gateway ("connected" is said as it is sent).
        self.listening = False
        # The link's fault while it lasts (None once it is over, unless an earlier one still
        # stands: _over); last_error_at is when it was shown, and stays when it is cleared.
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.next_attempt_at: float | None = None
        self.attempts = 0
        self._error_logged: str | None = None
        self._connection_error: str | None = None  # last_error's text from a failed or lost connection
        self._drops = 0  # connections in a row the broker closed before they held
        self._unexplained = 0  # of those, the drops not put down to a message (DropRun)
        self._clash_said = False  # the journal has warned of a client id clash in this run of drops
        self._drop_run = DropRun()  # the message this run of drops singles out, and what they set aside
        self._proven = False  # an answer (SUBACK, PUBACK) came back on this connection
        # The broker's alert refusing the client certificate, while nothing else has happened since:
        # a later attempt it closes before CONNACK is that refusal again, the alert lost (below).
        self._certificate_refusal: CertificateRefused | None = None

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

    def on_session_lost(self, hook: Callable[[str], None]) -> None:
        """`hook(why)` runs on the link's thread, once for each connect the broker answers with no
        session kept (session_present false): what it queued for the gateway while it was offline
        may be lost. It must be quick and must not raise."""
        self._on_session_lost_hooks.append(hook)

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
            "since": _iso(self.state_since, self.gw.site.tz),
            "broker": f"{self.cfg.host}:{self.cfg.port}",
            "client_id": self.client_id,
            "tls": self.cfg.ca_file is not None,
            "last_error": self.last_error,
            "last_error_at": _iso(self.last_error_at, self.gw.site.tz),
            "next_attempt_in_s": round(max(0.0, self.next_attempt_at - time.time()), 1)
            if self.next_attempt_at and self.state != "connected"
            else None,
            "attempts": self.attempts,
            "sent": self.outbox.sent,
        }

    # -- the link thread -------------------------------------------------------------------------

    def _run(self) -> None:
        reader = self.outbox.reader = open_read_only(self.gw.db_path, 10)
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
                    # "lost" is a connection that held (_HOLDS_AFTER_S); one dropped sooner after
                    # CONNACK backs off as a failed attempt does.
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
            reader.close()

    def _session(self) -> str:
        """One connection from attempt to loss: 'stopped', 'refused', 'failed', 'dropped' (lost
        before it held) or 'lost'."""
        self.attempts += 1
        try:
            will = (self.topics.status, self._status_payload("offline", "connection lost", dated=False))
            settings = broker_settings(self.cfg, self.client_id, will)
        except LinkSetupError as exc:
            self._error("error", exc)
            return "refused"
        self._set_state("connecting")
        conn = Connection(settings, self._from_paho)
        try:
            conn.open()
        except LinkError as exc:
            return self._failed(exc)
        first = self._await_connack()
        if not isinstance(first, Connected):
            conn.close()
            return self._failed(self._no_connack(first))
        self._connected(conn, first)
        began = time.monotonic()
        lost: Lost | None = Lost("the link's thread failed")
        try:
            lost = self._serve(conn, began)
        finally:
            unacked = self._retained.end_session()
            if lost is None:
                self.outbox.uplink.end_session(blame=False)
                ended = "stopped"
            else:
                ended = self._lost(conn.settings.broker, lost.reason, began, unacked)
            self.outbox.flush_marks(force=True)
            stopping = self._stopping.is_set()
            conn.close(
                last=(self.topics.status, self._status_payload("offline", "stopped")) if stopping else None
            )
        return ended

    def _no_connack(self, first: Refused | Lost | None) -> LinkError:
        """Why a connection attempt got no CONNACK."""
        if isinstance(first, Refused):
            return first.error
        if first is not None and self._certificate_refusal is not None:
            # The broker refused the client certificate last time, and now closes the connection
            # before answering: under TLS 1.3 its alert comes after the client's handshake, and is
            # lost when its close resets the connection (the CONNECT unread). Still that refusal.
            return self._certificate_refusal
        return LinkError(first.reason if first else "no answer from the broker")

    def _failed(self, error: LinkError) -> str:
        """An attempt that did not connect: 'refused' (credentials: auth_retry_s) or 'failed'."""
        self._certificate_refusal = error if isinstance(error, CertificateRefused) else None
        # Only credentials wait auth_retry_s; a broker that is starting or busy, or limits the rate
        # of connections, takes the normal backoff.
        if isinstance(error, BrokerRefused) and error.credentials:
            self._error("refused", error)
            return "refused"
        self._error("offline", error)
        return "failed"

    def _lost(self, broker: str, reason: str, began: float, unacked: list[str]) -> str:
        """A connection the broker closed: 'lost' once it held, else 'dropped', backing off. Drops
        right after connecting, again and again, are most often a second box with this client id:
        each connect takes the session over from the other. Said once in the journal. Not those
        put down to a message unacknowledged at the drop (the broker will not take it: quarantined
        or held back on the third; DropRun). `unacked`: the retained topics left unacknowledged."""
        lasted = time.monotonic() - began
        self._set_state("offline")
        self._check_held(broker, lasted)
        if lasted >= _HOLDS_AFTER_S:
            # A message the broker will not take closes the connection as it arrives, not once
            # the connection held: nothing is blamed.
            self.outbox.uplink.end_session(blame=False)
            log.warning("mqtt connection lost broker=%s reason=%s", broker, reason)
            self._connection_failed(f"connection lost: {reason}")
            return "lost"
        self._drops += 1
        suspect = self._suspect(unacked)
        verdict = self._drop_run.judge(suspect)
        put_down = verdict == "blamed"
        if put_down and suspect is not None:
            self._drop_run.quiet_after(suspect, lasted)
        if verdict == "connection":
            self._unexplained = self._drops  # the run's drops were all the connection's
        elif verdict == "unexplained":
            self._unexplained += 1
        text = f"connection lost {lasted:.1f} s after the broker accepted it: {reason}"
        if put_down or self._unexplained < _CLASH_AFTER:
            log.log(
                logging.WARNING if self._drops == 1 else logging.DEBUG,
                "mqtt connection lost broker=%s reason=%s",
                broker,
                reason,
            )
        else:
            text += (
                f" ({self._drops} times in a row): check that [mqtt] client_id {self.client_id} is "
                "unique on the broker: another box may use it"
            )
            level = logging.WARNING if not self._clash_said else logging.DEBUG
            self._clash_said = True
            log.log(level, "mqtt link: %s", text)
        # Said first: a retained topic struck, a record quarantined show their own error in its place.
        self._connection_failed(text)
        if put_down and suspect is not None:
            self._blame(suspect)
        else:
            self.outbox.uplink.end_session(blame=False)
        if verdict == "connection":
            self._forgive()
        return "dropped"

    def _suspect(self, unacked: list[str]) -> Suspect | None:
        """The message a quick drop may be put down to: one unacknowledged at it, on a connection
        an answer had proved (a SUBACK or PUBACK came back on it), so that the broker closed it
        after taking the message. A retained topic first: the rows wait for them after a connect.
        None before any answer: a second box that takes the session over on a slow uplink does so
        before the first one comes back, whatever was sent."""
        if not self._proven:
            return None
        if unacked:
            return unacked[0]
        return self.outbox.uplink.suspect()

    def _blame(self, suspect: Suspect) -> None:
        """A drop put down to `suspect`: struck (a retained topic) or blamed (a record, sent alone
        next time); set aside on the POISON_LIMIT-th."""
        if isinstance(suspect, str):
            self.outbox.uplink.end_session(blame=False)
            shown = self._retained.strike(suspect)
            self._show(shown)
            if shown is not None:
                self._drop_run.put_aside(suspect)
            return
        blamed = self.outbox.uplink.end_session(blame=True)
        if blamed is not None and blamed.poison is not None:
            self._quarantine_dropped(blamed.poison)
            self._drop_run.put_aside(suspect)

    def _forgive(self) -> None:
        """The run's drops were the connection's, not a message's: none counts toward setting one
        aside, what they set aside goes back in line (said in the journal), and a fresh run begins
        with no quiet wait (DropRun)."""
        self._retained.forgive()
        self.outbox.uplink.forgive()
        topics = [s for s in self._drop_run.set_aside if isinstance(s, str)]
        seqs = [s for s in self._drop_run.set_aside if isinstance(s, int)]
        self._drop_run = DropRun()  # a fresh run, with no quiet wait
        for topic in topics:
            self._show(self._retained.release(topic))
        if seqs:
            self.outbox.put_back(seqs)
        if topics or seqs:
            log.info(
                "mqtt link: the drops went on whatever was in flight (%d in a row): the connection's, "
                "not a message's; put back in line: %s",
                self._drops,
                ", ".join([*topics, *(f"outbox record seq={seq}" for seq in seqs)]),
            )

    def _check_held(self, broker: str, lasted: float) -> None:
        """A connection that lasted _HOLDS_AFTER_S holds: the run of quick drops before it is over.
        Said at INFO after a run the journal warned of as a client id clash (the connect itself was
        logged at DEBUG then), else its last word on the link would stay that warning."""
        if lasted < _HOLDS_AFTER_S or self._drops == 0:
            return
        if self._clash_said:
            log.info(
                "mqtt connected broker=%s: the connection holds again after %d quick drops in a row",
                broker,
                self._drops,
            )
        self._drops = self._unexplained = 0
        self._clash_said = False
        self._drop_run = DropRun()
        self._retained.forgive()  # what the run's drops counted against a message goes with it
        self.outbox.uplink.forgive()

    def _quarantine_dropped(self, poison: Quarantine) -> None:
        """A record the broker closed the connection over each time it was sent: set aside (the
        journal has the fix), and /api/health says so in place of the drop until the next connect."""
        self.outbox.quarantine(poison)
        self._connection_failed(
            f"outbox record seq={poison.seq} quarantined: {poison.reason}; fix: raise the broker's "
            "message size limit (mosquitto message_size_limit, EMQX max_packet_size) or let its ACL "
            f"take the record, then send it again (gateway outbox -c CONFIG --send-again {poison.seq})"
        )

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
        self._certificate_refusal = None
        self._proven = False
        if self._clash_said:  # the journal has said why the link keeps reconnecting
            log.debug("mqtt connected broker=%s after %d attempt(s)", conn.settings.broker, self.attempts)
        elif self.last_error is not None:
            log.info("mqtt connected broker=%s after %d attempt(s)", conn.settings.broker, self.attempts)
        else:
            log.info(
                "mqtt connected broker=%s session_present=%s",
                conn.settings.broker,
                ev.session_present,
            )
        self._error_logged = None
        self._over(self._connection_error)  # connected: that fault is over (a later one stays)
        self._connection_error = None
        self.attempts = 0
        self.next_attempt_at = None
        self.outbox.uplink.start_session(max(1, ev.receive_maximum - 2), ev.max_packet_size)
        self._retained.start_session(self.topics.status, self._status_payload("online"), ev.max_packet_size)
        try:
            self._subscription.asked_at_connect()
            conn.subscribe(self.topics.downlink(), qos=1)
            self._show(self._retained.send_next(conn))
        except LinkError as exc:
            log.debug("connection went down while starting: %s", exc)
        self._set_state("connected")
        if not ev.session_present:
            # Every connect asks to resume the session (clean_start false): none kept means the
            # downlink the broker held for the gateway while it was offline may be gone.
            for lost in self._on_session_lost_hooks:
                lost(self._session_lost_why())
        for hook in self._on_connect_hooks:
            hook()

    def _serve(self, conn: Connection, began: float) -> Lost | None:
        """Until the connection is lost (that Lost) or the link stops (None); `began` when the
        broker accepted it."""
        while True:
            with contextlib.suppress(LinkError):  # going down: Lost follows
                self._show(self._retained.send_next(conn))
            if not self._retained.rows_wait and not self._quiet(began):
                self.outbox.publish_window(conn)
            try:
                ev = self._events.get(timeout=MARK_DELAY if self.outbox.marks_waiting() else _POLL)
            except queue.Empty:
                ev = None
            for _ in range(1000):  # take what is waiting before going back to publishing
                if ev is not None:
                    if isinstance(ev, Lost):
                        return ev
                    self._handle(ev, conn)
                try:
                    ev = self._events.get_nowait()
                except queue.Empty:
                    break
            self.outbox.flush_marks()
            self._tick(conn)
            self._check_held(conn.settings.broker, time.monotonic() - began)
            if self._stopping.is_set():
                return None

    def _session_lost_why(self) -> str:
        """Why the broker kept no session, for the log and the centre (sync/request's reason)."""
        if self.cfg.session_expiry_s == 0:
            causes = "[mqtt] session_expiry_s is 0: the broker keeps nothing while the gateway is offline"
        else:
            causes = (
                "a broker restarted without persistence, the session expired after "
                f"session_expiry_s={self.cfg.session_expiry_s} s offline, or another client with "
                "this client id (a stolen box's credentials) connected with a clean start"
            )
        return (
            f"session lost: the broker kept no session for {self.client_id} ({causes}); the deltas "
            "sent while it was offline may be lost"
        )

    def _quiet(self, began: float) -> bool:
        """Whether this connection, accepted at `began`, still sends no record: it tries the drops
        put down to a message (DropRun). Once it has outlived them, the message goes alone."""
        run = self._drop_run
        if not run.quiet_s:
            return False
        if time.monotonic() - began < run.quiet_s:
            return True
        log.debug("mqtt link: connected %.1f s with no record in flight: records go again", run.quiet_s)
        run.outlived()
        return False

    def _show(self, shown: str | Over | None) -> None:
        """An error of the uplink's for /api/health (the log has had it already), or its end."""
        if isinstance(shown, Over):
            self._over(shown.text)
        elif shown is not None:
            self.last_error, self.last_error_at = shown, time.time()

    def _over(self, text: str | None) -> None:
        """The fault `text` said is over: /api/health stops showing it, else the installer takes a
        fix that worked for one that did not. A later error shown since stays: it may not be. The
        newest fault still in force takes its place, None only when none is: a reconnect ends the
        connection error, not a refusal of the broker's ACL that nothing fixed (the refused topic
        held back, not told again for minutes), which an installer reading null would leave broken."""
        if text is None or self.last_error != text:
            return
        standing = self._retained.standing() + self._subscription.standing()
        if self.outbox.no_subscriber is not None:
            standing.append((self.outbox.no_subscriber_at, self.outbox.no_subscriber))
        if standing:
            self.last_error_at, self.last_error = max(standing)
        else:
            self.last_error = None

    def _connection_failed(self, text: str) -> None:
        self.last_error, self.last_error_at = text, time.time()
        self._connection_error = text

    def _handle(self, ev: Any, conn: Connection) -> None:
        if isinstance(ev, Acked | Subscribed):
            self._proven = True
        if isinstance(ev, Subscribed):
            self.listening = not ev.refused
            self._show(self._subscription.answered(ev))
        if isinstance(ev, Acked) and self._retained.in_flight(ev.mid):
            self._show(self._retained.acked(ev))
        elif isinstance(ev, Acked):
            before = self.outbox.no_subscriber
            self._show(self.outbox.acked(ev.mid, ev.code))
            if self.outbox.no_subscriber is None:
                self._over(before)  # the centre subscribes again: no record waits for it
        elif isinstance(ev, Received):
            if self._downlink is not None:
                try:
                    self._downlink(ev)
                except Exception:  # a bad message must never take the link down
                    log.exception("downlink message on %s not handled", ev.topic)
        elif isinstance(ev, Retain):
            self._retained.update(ev.topic, ev.payload)  # sent in its turn, or after the next connect
        else:
            self._handle_local(ev)

    def _handle_local(self, ev: Any) -> None:
        """Events that need no connection."""
        if isinstance(ev, Settled):
            self.outbox.settled(ev)
        elif isinstance(ev, Unwritten):
            self.outbox.unwritten(ev)
        elif isinstance(ev, Retain):
            self._retained.keep(ev.topic, ev.payload)
        elif isinstance(ev, Wake):
            self.outbox.uplink.wake()
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
        if conn is not None and (refused := self._subscription.due()):
            with contextlib.suppress(LinkError):  # going down: Lost follows, and a connect asks
                conn.subscribe(refused, qos=1)
        if self._due("poll", _POLL, now):
            self.outbox.uplink.wake()
        if self._due("quota", min(_QUOTA_EVERY, self.cfg.health_interval_s), now):
            self.outbox.check_quota()
        if conn is not None and self._due("health", self.cfg.health_interval_s, now):
            report = self.health()
            room = self._retained.room(self.topics.health)
            self.retain(self.topics.health, report if room is None else fit_health(report, room))
        if self._due("prune", _PRUNE_EVERY, now):
            self.outbox.prune()
        if self._due("behind", _BEHIND_EVERY, now):
            self.outbox.look_behind(self.state == "connected")
        self.outbox.write_again_due(now)

    def _due(self, what: str, every: float, now: float) -> bool:
        if now < self._next.get(what, 0.0):
            return False
        self._next[what] = now + every
        return True

    # -- pieces ----------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        applied = 0
        if self.outbox.reader is not None:
            applied = self.outbox.reader.execute("SELECT applied_version FROM sync_state").fetchone()[0]
        return health_report(self.gw, self.outbox.backlog, applied, VERSION, self.gw.now())

    def _status_payload(self, state: str, reason: str = "", *, dated: bool = True) -> bytes:
        """The retained status. The last will is not `dated`: it is written as the link connects
        and published by the broker whenever the connection drops, so any time in it would be the
        connect's, older than the records sent since; the centre dates the drop by its arrival."""
        body = {"v": 1, "type": "status", "site": self.topics.site, "state": state}
        if dated:
            body["at"] = self.gw.now().isoformat()
        body["version"] = VERSION
        if reason:
            body["reason"] = reason
        return json.dumps(body).encode()

    def _set_state(self, state: str) -> None:
        if state != "connected":
            self.listening = False
        if state != self.state:
            self.state = state
            self.state_since = time.time()

    def _error(self, state: str, exc: Exception) -> None:
        self._set_state(state)
        text = str(exc)
        self._connection_failed(text.split("\n")[0])
        # A repeated fault is logged once at WARNING (ERROR for a refusal), then quietly.
        if text != self._error_logged:
            level = logging.ERROR if state in ("refused", "error") else logging.WARNING
            log.log(level, "mqtt link %s: %s", state, text)
            self._error_logged = text
        else:
            log.debug("mqtt link %s: %s", state, text)


def fit_health(report: dict[str, Any], room: int) -> dict[str, Any]:
    """The health report within `room` bytes (the broker's Maximum Packet Size) if it can be: the
    open alarms it lists are cut to the newest that fit. Their count by kind stays whole, and a
    short report beats none: the broker closes the connection over a packet above its limit, so a
    report that still does not fit is held back (retained.py) rather than sent."""
    alarms = report.get("alarms_open")
    if _size(report) <= room or not isinstance(alarms, dict) or not alarms.get("newest"):
        return report
    newest = list(alarms["newest"])

    def cut(n: int) -> dict[str, Any]:
        return {**report, "alarms_open": {**alarms, "newest": newest[:n]}}

    fits, over = 0, len(newest)  # the most alarms listed that fit: cut(fits) may not, cut(over) does not
    while over - fits > 1:
        mid = (fits + over) // 2
        if _size(cut(mid)) <= room:
            fits = mid
        else:
            over = mid
    return cut(fits)


def _size(report: dict[str, Any]) -> int:
    return len(json.dumps(report, ensure_ascii=False).encode())  # as retain() encodes it


def _iso(ts: float | None, tz: tzinfo) -> str | None:
    """A wall-clock time as the API gives times: in the site's zone, whatever the box's own is."""
    return datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds") if ts else None
