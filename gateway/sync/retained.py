"""The link's retained topics (status, sync state, health): the latest value of each, sent after
every connect and whenever it changes, one at a time.

At most one is in flight, so that a connection the broker closes while one is unacknowledged can
be put down to it; after a connect the outbox's rows wait until the retained topics are through.
A retained message the broker will not take (refused by its ACL, or one it drops the connection
over) is held back for RETAINED_HOLD_S, then tried again: the cause may have been fixed meanwhile.
One over the Maximum Packet Size the broker announced is not sent at all: the broker would only
close the connection over it. Each says why in the text returned, for /api/health, and an `Over`
with that text once the broker takes the topic again, so that /api/health stops showing it; until
then it stands (`standing`): the end of another fault (a reconnect) brings it back to /api/health.
Used on the link's thread only (but for `get`, a plain read of the latest value).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from gateway.sync.client import Acked, Connection
from gateway.sync.errors import LinkError, puback_text
from gateway.sync.uplink import CUT_OFF, POISON_LIMIT, PUBLISH_OVERHEAD

log = logging.getLogger(__name__)

# A retained topic the broker refused, or whose message made it close the connection
# POISON_LIMIT times in a row, is not sent for this long: the records behind it go up meanwhile.
RETAINED_HOLD_S = 600.0
_ACL_FIX = "let this gateway's account write it in the broker's ACL"


@dataclass(frozen=True, slots=True)
class Over:
    """A retained topic's fault is over (the broker took the topic): `text`, the last shown for
    it, is no longer true."""

    text: str


class RetainedTopics:
    def __init__(self) -> None:
        self._retained: dict[str, bytes] = {}
        self._retained_mids: dict[int, str] = {}  # mid -> retained topic, this connection
        self._retained_due: dict[str, None] = {}  # retained topics to send on this connection
        self.rows_wait = False  # after a connect, rows wait until the retained topics are through
        self._strikes: dict[str, int] = {}  # retained topic -> drops in a row while it was in flight
        self._held_until: dict[str, float] = {}  # retained topic -> not sent before (monotonic)
        self._max_bytes: int | None = None  # topic and payload, within the broker's packet size
        # retained topic -> (the fault logged at ERROR for it, the text last returned for it, when
        # returned: time.time()), until the broker takes the topic again
        self._told: dict[str, tuple[str, str, float]] = {}

    def get(self, topic: str) -> bytes | None:
        return self._retained.get(topic)

    def standing(self) -> list[tuple[float, str]]:
        """(when last returned, text) of each fault still in force: its topic not taken since. A
        refused topic held back stays one across reconnects (nothing was fixed)."""
        return [(at, shown) for _, shown, at in self._told.values()]

    def keep(self, topic: str, payload: bytes) -> None:
        """A value set while there is no connection: sent after the next connect."""
        self._retained[topic] = payload

    def update(self, topic: str, payload: bytes) -> None:
        """A value set while connected: sent in its turn; if not now, after the next connect."""
        self._retained[topic] = payload
        self._retained_due[topic] = None

    def room(self, topic: str) -> int | None:
        """The largest payload the broker takes on `topic` (None: it set no limit)."""
        return None if self._max_bytes is None else self._max_bytes - len(topic.encode())

    def start_session(self, status_topic: str, online: bytes, max_packet_size: int | None = None) -> None:
        """A connection is up: the status goes online, and every retained topic is due on it.
        `max_packet_size` is the broker's, from CONNACK."""
        self._max_bytes = max_packet_size - PUBLISH_OVERHEAD if max_packet_size else None
        self._retained[status_topic] = online
        self._retained_mids.clear()
        # The retained topics go first, one at a time, and the rows only once they are through:
        # a connection the broker closes then names the message that did it.
        self._retained_due = dict.fromkeys([status_topic, *self._retained])
        self.rows_wait = True

    def end_session(self) -> list[str]:
        """The connection went: the topics it left unacknowledged."""
        unacked = list(self._retained_mids.values())
        self._retained_mids.clear()
        return unacked

    def send_next(self, conn: Connection) -> str | None:
        """The next retained topic due, once the one before it is acknowledged: at most one in
        flight, so that a drop while one is unacknowledged can be put down to it. Returns what to
        show on /api/health if a message due is over the broker's packet size (not sent)."""
        if self._retained_mids:
            return None
        now = time.monotonic()
        shown = None
        for topic in list(self._retained_due):
            if self._held_until.get(topic, 0.0) > now:
                continue  # still due: sent once the hold is over
            del self._retained_due[topic]
            payload = self._retained[topic]
            room = self.room(topic)
            if room is not None and len(payload) > room:
                # The broker closes the connection over a packet above its limit (MQTT 5, 3.2.2.3.6):
                # the last will would tell the centre the gateway went offline, every time.
                shown = self._tell(
                    topic,
                    "too large",
                    f"{topic} not sent: {len(payload)} bytes, over the broker's Maximum Packet Size "
                    f"({room} bytes for this message); the records go up meanwhile",
                    "raise the broker's maximum packet size (mosquitto max_packet_size, EMQX "
                    "max_packet_size)",
                )
                continue
            try:
                self._retained_mids[conn.publish(topic, payload, retain=True)] = topic
            except LinkError:
                self._retained_mids[CUT_OFF] = topic  # perhaps written, and what the broker closed it over
                raise
            return shown
        self.rows_wait = False  # all through, or held back
        return shown

    def in_flight(self, mid: int) -> bool:
        return mid in self._retained_mids

    def acked(self, ev: Acked) -> str | Over | None:
        """The broker's answer to a retained message; returns what to show if it refused it, or
        that the fault shown for the topic is over if it takes it after one."""
        topic = self._retained_mids.pop(ev.mid)
        self._strikes.pop(topic, None)
        if not ev.refused:  # 0x10 (no subscriber) too: the broker keeps a retained message
            told = self._told.pop(topic, None)
            if told is None:
                return None
            log.info("the broker takes %s again", topic)
            return Over(told[1])
        # Held back a while, not for good: the installer may fix the ACL (mosquitto reloads it on
        # SIGHUP), and it is tried again then even if its value has not changed. Not sooner: a
        # refused retained message would otherwise go out after every connect, and some brokers
        # drop the connection over it.
        self._held_until[topic] = time.monotonic() + RETAINED_HOLD_S
        self._retained_due[topic] = None
        return self._tell(
            topic,
            "refused",
            f"the broker refuses {topic}: {puback_text(ev.code)}: tried again every "
            f"{RETAINED_HOLD_S / 60:.0f} min, the records go up meanwhile",
            _ACL_FIX,
        )

    def strike(self, topic: str) -> str | None:
        """The connection went while `topic` was unacknowledged: after POISON_LIMIT such drops in
        a row, the broker is taken to refuse that message, and it is held back for a while (the
        error returned says so)."""
        strikes = self._strikes.get(topic, 0) + 1
        if strikes < POISON_LIMIT:
            self._strikes[topic] = strikes
            log.info("mqtt connection lost while %s was unacknowledged (%d in a row)", topic, strikes)
            return None
        del self._strikes[topic]
        self._held_until[topic] = time.monotonic() + RETAINED_HOLD_S
        return self._tell(
            topic,
            "dropped",
            f"the broker closed the connection each of the {POISON_LIMIT} times {topic} was sent: "
            f"not sent again for {RETAINED_HOLD_S / 60:.0f} min, the records go up meanwhile",
            "raise the broker's message size limit (mosquitto message_size_limit, EMQX "
            f"max_packet_size) or {_ACL_FIX}",
        )

    def forgive(self) -> None:
        """The drops the retained topics were struck for were the connection's (a second box with
        the client id, a flapping network): none counts toward holding one back."""
        self._strikes.clear()

    def release(self, topic: str) -> Over | None:
        """A topic held back for drops that were the connection's, not its message's: sent again
        after the next connect. Returns the end of the fault shown for it."""
        self._held_until.pop(topic, None)
        told = self._told.get(topic)
        if told is None or told[0] != "dropped":
            return None
        del self._told[topic]
        return Over(told[1])

    def _tell(self, topic: str, fault: str, text: str, fix: str) -> str:
        """Log a fault of `topic` at ERROR with its fix the first time, then quietly until the
        broker takes the topic again; the text returned, fix included, is for /api/health (and is
        kept, to say which text is over then)."""
        shown = f"{text}; fix: {fix}"
        told = self._told.get(topic)
        self._told[topic] = (fault, shown, time.time())
        if told is None or told[0] != fault:
            log.error("%s fix=%s", text, fix)
        else:
            log.debug("%s", text)
        return shown
