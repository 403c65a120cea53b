"""The link's retained topics (status, sync state, health): the latest value of each, sent after
every connect and whenever it changes, one at a time.

At most one is in flight, so that a connection the broker closes while one is unacknowledged can
be put down to it; after a connect the outbox's rows wait until the retained topics are through.
Used on the link's thread only (but for `get`, a plain read of the latest value).
"""

from __future__ import annotations

import logging
import time

from gateway.sync.client import Acked, Connection
from gateway.sync.errors import puback_text
from gateway.sync.uplink import POISON_LIMIT

log = logging.getLogger(__name__)

# A retained topic whose message made the broker close the connection POISON_LIMIT times in a row
# is not sent for this long: the records behind it go up meanwhile.
RETAINED_HOLD_S = 600.0


class RetainedTopics:
    def __init__(self) -> None:
        self._retained: dict[str, bytes] = {}
        self._retained_mids: dict[int, str] = {}  # mid -> retained topic, this connection
        self._retained_due: dict[str, None] = {}  # retained topics to send on this connection
        self.rows_wait = False  # after a connect, rows wait until the retained topics are through
        self._refused_topics: set[str] = set()  # retained topics the broker's ACL refuses
        self._strikes: dict[str, int] = {}  # retained topic -> drops in a row while it was in flight
        self._held_until: dict[str, float] = {}  # retained topic -> not sent before (monotonic)

    def get(self, topic: str) -> bytes | None:
        return self._retained.get(topic)

    def keep(self, topic: str, payload: bytes) -> None:
        """A value set while there is no connection: sent after the next connect."""
        self._retained[topic] = payload

    def update(self, topic: str, payload: bytes) -> None:
        """A value set while connected: sent in its turn; if not now, after the next connect."""
        self._retained[topic] = payload
        self._retained_due[topic] = None

    def start_session(self, status_topic: str, online: bytes) -> None:
        """A connection is up: the status goes online, and every retained topic is due on it."""
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

    def send_next(self, conn: Connection) -> None:
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
        self.rows_wait = False  # all through, or held back

    def in_flight(self, mid: int) -> bool:
        return mid in self._retained_mids

    def acked(self, ev: Acked) -> None:
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
        return text
