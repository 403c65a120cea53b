"""A topic held for want of a subscriber (PUBACK 0x10) with a long backlog does not hold back the
other topics (review 63qa of 14d7189). Each try of the held topic moved the uplink's one cursor back
to the held topic's oldest row, and the backlog was read through again, 2,000 rows a turn of the
link's loop: an alarm recorded meanwhile waited for that read-through (up to 13 s with 100,000 rows
waiting; with 1.2 million, no other record went up at all), where docs/mqtt.md says "the other
topics' rows carry on meanwhile". A fake outbox stands in for the database, as
gateway/store/outbox.pending and pending_of give the rows."""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Sequence

from gateway.sync.topics import Topics
from gateway.sync.uplink import Done, NoSubscriber, Row, Uplink

SITE = "site-1"
WAITING = 50_000
WINDOW = 10


class Outbox:
    """Pending rows by seq; the shared fetch counts the rows of the held backlog it hands out."""

    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}
        self.seqs: list[int] = []
        self.backlog_reread = 0
        self.watching = False

    def add(self, record_type: str) -> int:
        seq = (self.seqs[-1] if self.seqs else 0) + 1
        self.rows[seq] = (seq, f"id-{seq}", record_type, json.dumps({"v": 1, "type": record_type}))
        self.seqs.append(seq)
        return seq

    def _from(self, after: int) -> list[int]:
        return self.seqs[bisect_right(self.seqs, after) :]

    def fetch(self, after: int, limit: int) -> list[Row]:
        out: list[Row] = []
        for seq in self._from(after):
            if len(out) >= limit:
                break
            if seq in self.rows:
                out.append(self.rows[seq])
        if self.watching:
            self.backlog_reread += sum(row[0] <= WAITING for row in out)
        return out

    def fetch_held(self, types: Sequence[str], first: int, last: int, limit: int) -> list[Row]:
        out: list[Row] = []
        for seq in self._from(first - 1):
            if seq > last or len(out) >= limit:
                break
            row = self.rows.get(seq)
            if row is not None and row[2] in types:
                out.append(row)
        return out


def test_an_alarm_goes_up_in_its_turn_while_a_held_topics_backlog_waits() -> None:
    """50,000 `test` records wait; the centre takes alarms but not `test` records. For five minutes
    (the held topic tried after 1, 2, 4 ... s, then every minute) an alarm is recorded every second:
    each one is handed to the broker at the first turn after it was recorded, and the backlog is
    not read again to try the held topic (its oldest record is what is sent to try it). Once the
    centre subscribes, every test record goes up once, in order."""
    box = Outbox()
    for _ in range(WAITING):
        box.add("test")
    up = Uplink(Topics("estate", SITE), box.fetch, WINDOW, 10**6, fetch_held=box.fetch_held)
    up.start_session(65535, None)
    mids = iter(range(1, 10**7))
    subscribed = False
    sent: list[int] = []
    tries: list[int] = []

    def turn(now: float) -> list[int]:
        """One turn of the link's loop: take, publish, the broker's answers. The seqs published."""
        messages, bad = up.take(up.room(), now)
        assert not bad
        for m in messages:
            up.sent(next(mids), m)
        for mid, m in list(up.in_flight.items()):
            code = 0 if subscribed or m.topic.endswith("/alarm") else 0x10
            outcome = up.acked(mid, code, now)
            if isinstance(outcome, Done):
                sent.append(outcome.seq)
                del box.rows[outcome.seq]
                up.settled([outcome.seq])
            else:
                assert isinstance(outcome, NoSubscriber)
                if box.watching:  # a try of the held topic
                    tries.append(outcome.seq)
        return [m.seq for m in messages]

    now = 0.0
    while now < 10.0:  # held, its backlog read through once
        turn(now)
        now += 0.1
    assert up.held_topics() == {f"estate/{SITE}/events/test"}
    box.watching = True
    late: list[tuple[float, int]] = []
    while now < 300.0:
        alarm = box.add("alarm")
        up.wake()
        turns = 1
        while alarm not in turn(now):
            now += 0.1
            turns += 1
            assert turns < 1000, "the alarm never went up"
        if turns > 1:
            late.append((round(now, 1), turns))
        for _ in range(10):
            now += 0.1
            turn(now)
    assert not late, (
        f"alarms waited for the held topic's backlog to be read again: (time, turns of the link's "
        f"loop before the alarm was handed to the broker) {late[:5]}"
    )
    assert box.backlog_reread == 0, f"{box.backlog_reread} rows of the held backlog read again"
    assert len(tries) >= 5 and set(tries) == {1}, f"the held topic tried with {sorted(set(tries))}"
    subscribed = True
    end = now + 10_000
    while any(seq <= WAITING for seq in box.rows) and now < end:
        turn(now)
        now += 0.1
    assert [seq for seq in sent if seq <= WAITING] == list(range(1, WAITING + 1))
    assert up.held_topics() == set()
