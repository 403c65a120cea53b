"""The outbox on its way up: which rows are in flight, what an acknowledgement or a refusal means.

Rows go out oldest first, several in flight at once. A row counts as sent only when the broker
acknowledges it. After a reconnect everything not yet acknowledged is sent again from the oldest
(at least once; the central side drops duplicates by event id and checks order by seq).

A row the broker refuses is quarantined and the rows behind it carry on. So is a row the broker
cannot take at all: too large for it, or one that makes it close the connection every time it is
sent (some brokers disconnect on an ACL violation instead of refusing in PUBACK).

A row the broker acknowledges with "no matching subscribers" (0x10) was thrown away, not delivered:
a broker restarted without its saved sessions answers so until the centre's consumer subscribes
again. It stays pending, and its topic is held: its rows wait, and one of them is sent now and then
to see whether anyone subscribes yet; the other topics' rows carry on. Of the rows waiting so, the
uplink keeps only where they start and their record types, not the rows themselves (a week's
backlog is hundreds of thousands): the topic is tried with the first of them, fetched by itself
(its record types from there), while the other topics' rows go on from where they are; the rest
are fetched again from there once someone subscribes.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gateway.sync.errors import puback_text
from gateway.sync.topics import Topics

# Sessions in a row that ended with the same row the oldest unacknowledged, nothing acknowledged
# since the first of them, before that row is blamed for them and quarantined.
POISON_LIMIT = 3
_FETCH = 500
# PUBLISH overhead besides topic and payload: fixed header, topic length, packet id, properties.
PUBLISH_OVERHEAD = 12
# The packet id a message is kept under in flight when paho reported it not sent as the connection
# went: paho may have written it all the same (it queues the packet, its network thread writes it,
# reads the broker's close over it and ends, and publish() then answers "not connected"), so it is
# blamed for the drop as one in flight is. No PUBLISH has packet id 0 (MQTT 5, 2.2.1): no
# acknowledgement settles it.
CUT_OFF = 0
# PUBACK "no matching subscribers" (MQTT 5, 3.4.2.1): accepted, but a message that is not retained
# went to nobody and is gone.
NO_MATCHING_SUBSCRIBERS = 0x10
# A topic nobody subscribes to is tried again after these waits, doubling, one row at a time: the
# centre's consumer is usually back within seconds of a broker restart, and a topic it never
# subscribes to costs one small message a minute and no write to the SD card.
NO_SUBSCRIBER_RETRY_S = 1.0
NO_SUBSCRIBER_RETRY_MAX_S = 60.0
# Rows acknowledged whose sent mark is not yet committed that cost the window nothing: two writes
# of marks (link_outbox's batch of 256), one on the decision worker and the next gathering. Beyond
# them each counts against the window as a row in flight does, so that a backlog goes up no faster
# than the data disk marks it sent: let run ahead, the marks queued on the worker behind one
# another and a lane's decision waited seconds behind them on a slow SD card (review 67 F1).
UNMARKED_FREE = 512
# Rows of held topics looked past in one take(): a long backlog of one is read through over several
# turns of the link's loop (once a session: a try fetches the held topic's own rows), so that its
# acknowledgements are not kept waiting meanwhile.
_PASS_OVER = 2000

Row = tuple[int, str, str, str]  # seq, event_id, type, payload (as stored)
Fetch = Callable[[int, int], list[Row]]
# A held topic's own pending rows: (record types, first seq, last seq, limit), oldest first.
FetchHeld = Callable[[Sequence[str], int, int, int], list[Row]]


@dataclass(frozen=True, slots=True)
class Message:
    seq: int
    event_id: str
    topic: str
    body: bytes
    record_type: str


@dataclass(frozen=True, slots=True)
class Quarantine:
    seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class Done:
    seq: int
    attempts: int


@dataclass(frozen=True, slots=True)
class NoSubscriber:
    """A row acknowledged with 0x10: still pending; its topic is held for `retry_in` seconds."""

    seq: int
    topic: str
    retry_in: float
    first: bool  # the topic was not held before this answer


@dataclass(frozen=True, slots=True)
class Blamed:
    """The row a closed connection was put down to: the oldest unacknowledged. `poison` once it
    was so POISON_LIMIT times in a row, nothing acknowledged since the first: it is set aside."""

    seq: int
    poison: Quarantine | None


@dataclass(slots=True)
class _Hold:
    """A topic the broker said nobody subscribes to."""

    until: float  # monotonic: no row of it sent before
    misses: int = 0  # rows sent to try it answered 0x10, in a row
    probe: int | None = None  # the seq in flight to try it again
    # The oldest of its rows fetched and left pending meanwhile, and their record types. Every
    # pending row of those types from it up to the cursor is one of them: they are fetched again
    # from it, not kept one by one (a set of every seq grew with the backlog, and with it the look
    # for rows put back in line: some 60 MB more for 300,000 records waiting, review 63f).
    first: int | None = None
    types: set[str] = field(default_factory=set)

    def park(self, seq: int, record_type: str) -> None:
        self.first = seq if self.first is None else min(self.first, seq)
        self.types.add(record_type)

    def wait(self) -> float:
        return min(NO_SUBSCRIBER_RETRY_MAX_S, NO_SUBSCRIBER_RETRY_S * 2 ** min(self.misses - 1, 30))


def stream_of(streams: Sequence[tuple[int, str]], seq: int) -> str | None:
    """The stream a row belongs to, of `streams` ((first_seq, stream), oldest first): the last one
    started at or below its seq; None for a row written before the first (by an older gateway)."""
    i = bisect_right([first for first, _ in streams], seq)
    return streams[i - 1][1] if i else None


# An `outbox_started` record names its stream itself (gateway/store/outbox.py start_stream, as the
# outbox writes it: json.dumps of {"v", "type", ...}): given it again in front, the message held
# the key twice, which strict JSON readers refuse (a central server's Jackson or .NET parser).
_NAMES_ITS_STREAM = '{"v": 1, "type": "outbox_started"'


def body_of(seq: int, stream: str | None, site: str, payload: str) -> bytes:
    """The stored payload with the gateway's sequence number, its stream and the site id in front
    (a row from before streams goes up as an older gateway sent it, without one; an
    `outbox_started` record has its stream already).

    The outbox writes payloads with json.dumps of a dict, so each one is a JSON object: splicing
    the keys in costs far less than parsing and dumping it again at 5,000 records a second.
    """
    given = stream is not None and not payload.startswith(_NAMES_ITS_STREAM)
    named = ',"stream":' + json.dumps(stream) if given else ""
    return ('{"seq":' + str(seq) + named + ',"site":' + json.dumps(site) + "," + payload[1:]).encode()


def _no_stream(seq: int) -> str | None:
    return None


class Uplink:
    def __init__(
        self,
        topics: Topics,
        fetch: Fetch,
        window: int,
        max_bytes: int,
        stream: Callable[[int], str | None] = _no_stream,
        fetch_held: FetchHeld | None = None,
    ):
        self.topics = topics
        self._fetch = fetch
        self._fetch_held = fetch_held or self._held_by_fetch
        self._stream = stream  # a fetched row's stream, by its seq
        self._window_cfg = window
        self._max_bytes_cfg = max_bytes
        self.window = window
        self.max_bytes = max_bytes
        self.in_flight: dict[int, Message] = {}  # mid -> message
        self._buffer: deque[Row] = deque()
        self._cursor = 0
        self._exhausted = False
        # Rows acknowledged or quarantined whose database write has not committed yet: never resend.
        self.settling: set[int] = set()
        self._attempts: dict[int, int] = {}
        self._blame: dict[int, int] = {}
        self.probing = False
        self._holds: dict[str, _Hold] = {}  # topic -> held after "no matching subscribers"

    def start_session(self, receive_maximum: int, max_packet_size: int | None) -> None:
        self.window = max(1, min(self._window_cfg, receive_maximum))
        self.max_bytes = self._max_bytes_cfg
        if max_packet_size:
            self.max_bytes = min(self.max_bytes, max_packet_size - PUBLISH_OVERHEAD)
        self.in_flight.clear()
        self._buffer.clear()
        self._cursor = 0
        self._exhausted = False
        for hold in self._holds.values():  # fetched again from the first pending row
            hold.first = None
            hold.probe = None

    def wake(self) -> None:
        """New rows may be in the outbox: look again even if the last fetch came back empty."""
        self._exhausted = False

    def room(self) -> int:
        """Rows that may be published now: the window less the rows in flight, and less the rows
        acknowledged and not yet marked sent beyond UNMARKED_FREE."""
        if self.probing:
            return 0 if self.in_flight else 1
        unmarked = max(0, len(self.settling) - UNMARKED_FREE)
        return self.window - len(self.in_flight) - unmarked

    def held_topics(self) -> set[str]:
        """Topics held because the broker said nobody subscribes to them."""
        return set(self._holds)

    def take(self, n: int, now: float = 0.0) -> tuple[list[Message], list[Quarantine]]:
        """Up to n messages to publish now, oldest first, and rows that can never be sent.
        `now` (monotonic) says which held topics may be tried again."""
        out: list[Message] = []
        bad: list[Quarantine] = []
        flying = self._in_flight_seqs()  # after a rewind() the fetch may find them again
        self._try_again(n, now, flying, out, bad)
        passed = 0
        while len(out) < n and passed < _PASS_OVER:
            if not self._buffer and not self._refill():
                break
            seq, event_id, record_type, payload = self._buffer.popleft()
            if seq in self.settling or seq in flying:
                continue
            topic = self.topics.upstream(record_type)
            if topic is None:
                bad.append(Quarantine(seq, f"record type {record_type!r} cannot name a topic"))
                continue
            body = body_of(seq, self._stream(seq), self.topics.site, payload)
            if len(body) + len(topic.encode()) > self.max_bytes:
                bad.append(
                    Quarantine(
                        seq,
                        f"too large: {len(body)} bytes, the limit is "
                        f"{self.max_bytes} (max_message_bytes or the broker's)",
                    )
                )
                continue
            hold = self._holds.get(topic)
            if hold is not None:
                # Rows of it left pending before: the oldest of them tries it (_try_again).
                if hold.until > now or hold.probe is not None or hold.first is not None:
                    hold.park(seq, record_type)
                    passed += 1
                    continue
                hold.probe = seq  # sent alone: does anyone subscribe now?
            out.append(Message(seq, event_id, topic, body, record_type))
        for q in bad:
            self.settling.add(q.seq)
        return out, bad

    def _try_again(
        self, n: int, now: float, flying: set[int], out: list[Message], bad: list[Quarantine]
    ) -> None:
        """Held topics whose wait is over: the first of their rows left pending, fetched by itself
        (its record types from hold.first), is sent to try the topic. The cursor stays where it is:
        moved back to hold.first, every other topic's new rows waited for the held backlog to be
        read through again, at each try (review 63qa)."""
        for topic, hold in self._holds.items():
            if len(out) >= n:
                return
            if hold.until > now or hold.probe is not None or hold.first is None:
                continue
            after = hold.first - 1
            while hold.probe is None:
                rows = self._fetch_held(sorted(hold.types), after + 1, self._cursor, _FETCH)
                if not rows:  # none waits any more (sent again elsewhere): the cursor meets the next
                    hold.first = None
                    break
                after = rows[-1][0]
                for seq, event_id, record_type, payload in rows:
                    if seq in self.settling or seq in flying:
                        continue
                    body = body_of(seq, self._stream(seq), self.topics.site, payload)
                    if len(body) + len(topic.encode()) > self.max_bytes:
                        q = Quarantine(
                            seq,
                            f"too large: {len(body)} bytes, the limit is "
                            f"{self.max_bytes} (max_message_bytes or the broker's)",
                        )
                        bad.append(q)
                        self.settling.add(q.seq)
                        continue
                    hold.probe = seq  # sent alone: does anyone subscribe now?
                    out.append(Message(seq, event_id, topic, body, record_type))
                    break

    def _held_by_fetch(self, types: Sequence[str], first: int, last: int, limit: int) -> list[Row]:
        """fetch_held read from the fetch (an uplink given none: a test's outbox)."""
        found: list[Row] = []
        after = first - 1
        while len(found) < limit and after < last:
            rows = self._fetch(after, _FETCH)
            if not rows:
                break
            after = rows[-1][0]
            found += [row for row in rows if row[0] <= last and row[2] in types]
        return found[:limit]

    def _in_flight_seqs(self) -> set[int]:
        return {m.seq for m in self.in_flight.values()}

    def behind(self) -> tuple[int, set[int]]:
        """The cursor, and the rows at or before it this uplink holds one by one (in flight, waiting
        for their mark, fetched); with those left pending while their topic is held (held_spans), a
        pending row at or before the cursor that is none of them was put back in line (a
        quarantined record sent again) and is looked at with rewind()."""
        return self._cursor, self.settling | self._in_flight_seqs() | {row[0] for row in self._buffer}

    def held_spans(self) -> list[tuple[int, list[str]]]:
        """(first seq, record types) of the rows left pending while their topic is held: each
        pending row of those types from that seq up to the cursor is one of them."""
        return [(h.first, sorted(h.types)) for h in self._holds.values() if h.first is not None]

    def rewind(self, seq: int) -> None:
        """Fetch again from `seq` on: from the oldest row fetched and not yet handed out where that
        is older (a rewind that dropped them would send the rows after `seq` first, theirs only when
        look_behind found them again: out of their topic's order)."""
        if self._buffer:
            seq = min(seq, self._buffer[0][0])
        if seq <= self._cursor:
            self._cursor = seq - 1
            self._buffer.clear()
            self._exhausted = False

    def _refill(self) -> bool:
        if self._exhausted:
            return False
        rows = self._fetch(self._cursor, _FETCH)
        if not rows:
            self._exhausted = True
            return False
        self._cursor = rows[-1][0]
        self._buffer.extend(rows)
        return True

    def sent(self, mid: int, message: Message) -> None:
        self.in_flight[mid] = message
        self._attempts[message.seq] = self._attempts.get(message.seq, 0) + 1

    def acked(self, mid: int, code: int, now: float = 0.0) -> Done | Quarantine | NoSubscriber | None:
        message = self.in_flight.pop(mid, None)
        if message is None:
            return None  # from a connection that has since been replaced
        seq = message.seq
        hold = self._holds.get(message.topic)
        if code >= 0x80:
            self._attempts.pop(seq, None)
            self.settling.add(seq)
            if hold is not None and hold.probe == seq:
                hold.probe = None  # this row's own refusal: the next one tries the topic
            return Quarantine(seq, f"refused by the broker: {puback_text(code)}")
        self._blame.clear()
        self.probing = False
        if code == NO_MATCHING_SUBSCRIBERS:
            return self._nobody(message, hold, now)
        if hold is not None:  # someone subscribes again: the rows left pending go in their turn
            del self._holds[message.topic]
            if hold.first is not None:
                self.rewind(hold.first)
        self.settling.add(seq)
        return Done(seq, self._attempts.pop(seq, 1))

    def _nobody(self, message: Message, hold: _Hold | None, now: float) -> NoSubscriber:
        """Not delivered: the row stays pending (not settling), its topic held a while. Rows of it
        that were in flight with the first one only join the wait; the row sent to try the topic
        again doubles it."""
        first = hold is None
        if hold is None:
            hold = self._holds[message.topic] = _Hold(until=now)
        if first or hold.probe == message.seq:
            hold.misses += 1
            hold.until = now + hold.wait()
            hold.probe = None
        hold.park(message.seq, message.record_type)
        return NoSubscriber(message.seq, message.topic, max(0.0, hold.until - now), first)

    def settled(self, seqs: list[int]) -> None:
        """Their sent or quarantined mark is committed: the database itself now skips them."""
        self.settling.difference_update(seqs)

    def suspect(self) -> int | None:
        """The row a connection closed now would be put down to: the oldest unacknowledged. Rows
        acknowledged before it on the connection do not clear it: the broker answers in order,
        so it took those and closed the connection over the next (a second record it will not
        take, behind a good one). None with nothing in flight."""
        if not self.in_flight:
            return None
        return min(m.seq for m in self.in_flight.values())

    def forgive(self) -> None:
        """The drops the rows were blamed for were the connection's (a second box with the client
        id, a flapping network): none counts toward setting a row aside, and rows go as before."""
        self._blame.clear()
        self.probing = False

    def end_session(self, blame: bool = True) -> Blamed | None:
        """The connection is gone. Blame the oldest unacknowledged row (suspect), unless `blame`
        is False: the drop does not single it out (something else unacknowledged, a retained
        message, may have made the broker close it; or no answer had come back on the connection
        yet). Returns the row blamed, if one is."""
        blamed = None
        head = self.suspect() if blame else None
        if head is not None:
            poison = None
            self._blame[head] = self._blame.get(head, 0) + 1
            # Next time send that row alone, so that a closed connection says which row did it.
            self.probing = True
            if self._blame[head] >= POISON_LIMIT:
                poison = Quarantine(
                    head,
                    f"the broker closed the connection each of the {POISON_LIMIT} times this record was sent",
                )
                self.settling.add(head)
                del self._blame[head]
                self._attempts.pop(head, None)
                self.probing = False
            blamed = Blamed(head, poison)
        self.in_flight.clear()
        self._buffer.clear()
        return blamed
