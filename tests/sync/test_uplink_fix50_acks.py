"""The uplink's acknowledgement handling, where no other test pinned it down (review 50h, by
mutation). A fake outbox stands in for the database: the
rows a fetch returns are the pending ones after the cursor, as gateway/store/outbox.pending."""

from __future__ import annotations

import json

from gateway.sync.topics import Topics
from gateway.sync.uplink import Done, Quarantine, Uplink


class Outbox:
    def __init__(self, n: int, record_type: str = "access") -> None:
        self.rows = {
            seq: (seq, f"e{seq}", record_type, json.dumps({"v": 1, "type": record_type, "n": seq}))
            for seq in range(1, n + 1)
        }
        self.sent: set[int] = set()

    def fetch(self, after: int, limit: int) -> list[tuple[int, str, str, str]]:
        return [row for seq, row in sorted(self.rows.items()) if seq > after and seq not in self.sent][:limit]


def uplink(box: Outbox, window: int = 10, max_bytes: int = 10_000) -> Uplink:
    up = Uplink(Topics("estate", "site-1"), box.fetch, window, max_bytes)
    up.start_session(65535, None)
    return up


def publish(up: Uplink, n: int, first_mid: int = 1) -> dict[int, int]:
    """Take up to n rows and publish them; returns seq -> mid."""
    messages, bad = up.take(n)
    assert not bad
    mids = {}
    for i, m in enumerate(messages):
        up.sent(first_mid + i, m)
        mids[m.seq] = first_mid + i
    return mids


def test_a_puback_unspecified_error_keeps_the_record() -> None:
    """A broker answering PUBACK 0x80 "Unspecified error"
    did not take the record: it must be set aside with that reason, not marked sent and lost to
    the centre."""
    up = uplink(Outbox(1))
    mids = publish(up, 1)
    outcome = up.acked(mids[1], 0x80)
    assert isinstance(outcome, Quarantine), f"PUBACK 0x80 taken as delivered: {outcome!r}"
    assert outcome.seq == 1


def test_no_more_records_in_flight_than_the_broker_receives() -> None:
    """A broker that says it takes 2
    unacknowledged messages at a time (MQTT 5 CONNACK Receive Maximum) drops a client that sends a
    third (protocol error 0x93): the gateway must keep to 2 in flight, whatever `inflight` says."""
    up = Uplink(Topics("estate", "site-1"), Outbox(20).fetch, 10, 10_000)
    up.start_session(2, None)
    assert up.room() == 2
    assert len(publish(up, up.room())) == 2
    assert up.room() == 0


def _sized_outbox(total: int, topic: str) -> Outbox:
    """One access row whose message body plus topic is `total` bytes."""
    from gateway.sync.uplink import body_of

    box = Outbox(1)
    pad = 0
    while True:
        payload = json.dumps({"v": 1, "type": "access", "pad": "x" * pad})
        size = len(body_of(1, None, "site-1", payload)) + len(topic.encode())
        if size == total:
            box.rows[1] = (1, "e1", "access", payload)
            return box
        pad += 1


def test_a_record_the_brokers_packet_limit_cannot_hold_is_set_aside_before_sending() -> None:
    """A record whose
    body and topic come to 4 bytes under the broker's 1,000-byte packet limit makes a PUBLISH of
    more than 1,000 bytes (fixed header, lengths, packet id, properties): the broker would close
    the connection each time it is sent. It must be set aside at once, naming the limit."""
    topic = Topics("estate", "site-1").upstream("access")
    assert topic is not None
    box = _sized_outbox(996, topic)
    up = Uplink(Topics("estate", "site-1"), box.fetch, 10, 256 * 1024)
    up.start_session(65535, 1000)
    messages, bad = up.take(10)
    assert [m.seq for m in messages] == [], "a PUBLISH larger than the broker's packet limit is sent"
    assert [q.seq for q in bad] == [1] and "too large" in bad[0].reason


def test_the_topic_counts_towards_the_brokers_packet_limit() -> None:
    """The topic travels in the same
    PUBLISH as the body: a record whose body alone fits the broker's 1,000-byte packet limit but
    whose body and topic do not must be set aside as too large, not sent for the broker to close
    the connection on it."""
    topics = Topics("estate", "site-1")
    topic = topics.upstream("access")
    assert topic is not None
    box = _sized_outbox(1000 - 12 + 5, topic)  # 5 bytes over with the topic, the body alone under
    up = Uplink(topics, box.fetch, 10, 256 * 1024)
    up.start_session(65535, 1000)
    messages, bad = up.take(10)
    assert [m.seq for m in messages] == [], "a PUBLISH larger than the broker's packet limit is sent"
    assert [q.seq for q in bad] == [1] and "too large" in bad[0].reason


def test_the_last_record_fetched_put_back_in_line_is_sent_again() -> None:
    """The broker refused the newest record
    (set aside); once the ACL is fixed the installer puts it back in line (`gateway outbox
    --send-again SEQ`, which the link finds with look_behind and rewinds to): it must go up now,
    not wait for the next reconnect."""
    box = Outbox(3)
    up = uplink(box)
    mids = publish(up, 3)
    assert isinstance(up.acked(mids[1], 0), Done)
    assert isinstance(up.acked(mids[2], 0), Done)
    assert isinstance(up.acked(mids[3], 0x87), Quarantine)  # not authorized: set aside
    box.sent |= {1, 2}
    up.settled([1, 2, 3])  # marks written; row 3 is then put back in line: pending again
    cursor, held = up.behind()
    assert (cursor, 3 in held) == (3, False)
    up.rewind(3)
    messages, _ = up.take(10)
    assert [m.seq for m in messages] == [3], "the record put back in line is not sent"
