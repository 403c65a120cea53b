"""A long backlog of a topic nobody subscribes to (PUBACK 0x10) is not kept in memory record by
record (review 63f: with 300,000 records waiting so, the gateway's resident memory grew by some
60 MB and stayed there, against the 80 MB a Raspberry Pi gateway may take, docs/benchmarks.md).
What the uplink keeps, and what it hands paho, stays within its window, however many records wait;
the records still go up, each once and in order, once someone subscribes."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from typing import Any, TypeVar

import pytest
from conftest import SITE, running
from sync_helpers import Mosquitto, Subscriber, wait_for
from test_sync_uplink import CENTRE, outbox, produce, unsent

from gateway.config import SiteConfig
from gateway.store.outbox import first_pending_not_held
from gateway.store.set_aside import send_again
from gateway.sync import client, link_outbox, uplink
from gateway.sync.topics import Topics
from gateway.sync.uplink import _FETCH, Done, NoSubscriber, Row, Uplink

WINDOW = 10
WAITING = 6000
# Rows fetched and not yet looked at, in flight, acknowledged and not yet marked, and a few per
# held topic: a window's worth, whatever the backlog.
BOUND = _FETCH + 4 * WINDOW

T = TypeVar("T")


def kept(up: Uplink) -> int:
    """Entries of every set, dict, list and deque the uplink holds, its holds' own included: what
    it keeps in memory record by record."""
    return _read(lambda: _count(up))


def _read(look: Callable[[], T]) -> T:
    """What `look` reads of the uplink from the test's thread while the link's changes it."""
    for _ in range(100):
        try:
            return look()
        except RuntimeError:  # a set or dict changed size while it was read
            continue
    raise AssertionError("the uplink kept changing while it was read")


def _count(up: Uplink) -> int:
    entries = 0
    todo: list[Any] = list(vars(up).values())
    while todo:
        value = todo.pop()
        if isinstance(value, set | frozenset | list | deque | dict):
            entries += len(value)
            members = list(value.values() if isinstance(value, dict) else value)
            todo.extend(m for m in members if type(m).__module__ == uplink.__name__)
        elif type(value).__module__ == uplink.__name__ and hasattr(value, "__slots__"):
            todo.extend(getattr(value, name) for name in value.__slots__)
    return entries


def test_a_held_topics_backlog_is_read_through_without_keeping_each_record() -> None:
    """6,000 `test` records wait, two alarms among them; nobody subscribes to `test`. The uplink
    reads the backlog through again at each try (1 s, 2 s, ... later), yet never keeps more than
    a window's worth of records, nor hands more than its window to paho. Once the centre
    subscribes, every record goes up once, oldest first."""
    rows: dict[int, Row] = {
        seq: (seq, f"id-{seq}", "alarm" if seq in (7, 4000) else "test", json.dumps({"n": seq}))
        for seq in range(1, WAITING + 1)
    }
    sent: list[int] = []

    def fetch(after: int, limit: int) -> list[Row]:
        assert limit <= _FETCH
        return [rows[seq] for seq in sorted(rows) if seq > after][:limit]

    up = Uplink(Topics("estate", SITE), fetch, WINDOW, 10**6)
    up.start_session(65535, None)
    mids = iter(range(1, 10**6))
    subscribed = False
    most = 0

    def turn(now: float) -> None:
        nonlocal most
        messages, bad = up.take(up.room(), now)
        assert not bad
        for m in messages:
            up.sent(next(mids), m)
        assert len(up.in_flight) <= WINDOW, "more records handed to paho than the window"
        for mid, m in list(up.in_flight.items()):
            code = 0 if subscribed or m.topic.endswith("/alarm") else 0x10
            outcome = up.acked(mid, code, now)
            if isinstance(outcome, Done):
                sent.append(outcome.seq)
                del rows[outcome.seq]
                up.settled([outcome.seq])
            else:
                assert isinstance(outcome, NoSubscriber)
        most = max(most, kept(up))

    now = 0.0
    while now < 40.0:  # several tries of the topic, the backlog read through after each
        for _ in range(10):
            turn(now)
        now += 0.5
    assert sent == [7, 4000], "the alarms went up while the test records waited"
    assert up.held_topics() == {f"estate/{SITE}/events/test"}
    assert most <= BOUND, (
        f"the uplink kept {most} entries in memory with {WAITING} records waiting for a subscriber "
        f"(a window's worth is {BOUND}): its memory grows with the backlog"
    )
    subscribed = True
    while rows and now < 200.0:
        turn(now)
        now += 0.1
    assert sent == [7, 4000] + [seq for seq in range(1, WAITING + 1) if seq not in (7, 4000)]
    assert up.held_topics() == set() and kept(up) <= BOUND


def _behind(up: Uplink) -> tuple[int, set[int], list[tuple[int, list[str]]]]:
    return _read(lambda: (*up.behind(), up.held_spans()))


@contextmanager
def _paho_queue_watched(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The messages paho holds unacknowledged (its own queue) after each publish."""
    seen: list[int] = []
    publish = client.Connection.publish

    def watched(self: client.Connection, *args: Any, **kwargs: Any) -> int:
        mid = publish(self, *args, **kwargs)
        seen.append(len(self._client._out_messages))
        return mid

    monkeypatch.setattr(client.Connection, "publish", watched)
    yield seen


def test_a_gateway_waiting_for_its_centre_keeps_a_window_not_its_backlog(
    brokers: Callable[..., Mosquitto],
    sync_cfg: Callable[..., SiteConfig],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The broker is back but the centre's consumer is not (it answers 0x10 for `test`), with
    5,000 records waiting and an alarm set aside among the older ones. While the gateway reads the
    backlog through, it keeps a window's worth, and paho's queue holds no more than the window.
    The installer puts the alarm back in line (`gateway outbox --send-again`): it goes up at once
    to the centre, which takes alarms; the test records then all go up, in order, once the centre
    subscribes to them."""
    caplog.set_level(logging.INFO, "gateway.sync.link_outbox")
    broker = brokers()
    with (
        _paho_queue_watched(monkeypatch) as paho_queue,
        running(sync_cfg(broker.port, inflight=WINDOW)) as (
            gw,
            service,
        ),
    ):
        (alarm,) = produce(gw, 1, "alarm")
        (seq,) = [row[0] for row in outbox(gw, f"event_id = '{alarm}'")]

        def refuse(conn: sqlite3.Connection) -> None:  # as a broker's ACL refusal had set it aside
            with conn:
                conn.execute(
                    "UPDATE outbox SET quarantined = 'refused by the broker: not authorized', "
                    "quarantined_at = created_at WHERE seq = ?",
                    (seq,),
                )

        gw.on_worker(refuse).result(timeout=10)
        ids = produce(gw, 5000)
        broker.start()
        alarms = Subscriber(broker, [f"estate/{SITE}/events/alarm"], client_id="alarms")
        up = service.link.outbox.uplink
        last = max(row[0] for row in outbox(gw))
        topic = f"estate/{SITE}/events/test"
        wait_for("the test records held for want of a subscriber", lambda: topic in _read(up.held_topics), 60)
        wait_for("the backlog read through", lambda: _behind(up)[0] >= last, 60)
        most = kept(up)
        # Nothing was put back in line: the look for such records finds none among those waiting
        # (looked at from the test's thread, a row may move between the uplink's reads: looked again).
        with closing(sqlite3.connect(f"file:{gw.db_path}?mode=ro", uri=True)) as reader:
            wait_for(
                "no waiting record taken for one put back in line",
                lambda: first_pending_not_held(reader, *_behind(up)) is None,
                20,
            )
        gw.on_worker(lambda conn: send_again(conn, [seq], gw.now(), "installer")).result(timeout=10)
        got = wait_for("the alarm put back in line at the centre", lambda: alarms.payloads("/alarm"), 30)
        assert [m["event_id"] for m in got] == [alarm]
        most = max(most, kept(up))
        assert most <= BOUND, (
            f"the uplink kept {most} entries in memory with 5,000 records waiting for a subscriber "
            f"(a window's worth is {BOUND}): its memory grows with the backlog"
        )
        assert paho_queue and max(paho_queue) <= WINDOW, "paho holds more than the window"
        # The records waiting for a subscriber are not taken, every look, for records put back (the
        # alarm itself may have been fetched again by a try of the held topics first).
        put_back = {r.getMessage() for r in caplog.records if "put back in line" in r.getMessage()}
        assert put_back <= {f"outbox records put back in line from seq={seq}: sending them again"}, put_back
        centre = Subscriber(broker, CENTRE, client_id="central")
        try:
            wait_for("every record marked sent", lambda: unsent(gw) == 0, 60)
            got = wait_for(
                "5,000 records at the centre",
                lambda: len(centre.payloads("/test")) >= 5000 and centre.payloads("/test"),
                30,
            )
        finally:
            centre.close()
            alarms.close()
    assert [m["event_id"] for m in got] == ids


def test_the_backlogs_look_leaves_no_connection_open(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The link looks at the backlog every 30 s for the outbox_quota alarm, reading every pending
    record's size. The connection it read them on was left to Python's collector (a connection is
    in a reference cycle since Python 3.11), keeping the 2 MB of pages it had read until a full
    collection: with a long backlog, the gateway's memory climbed by 2 MB a look. It is closed."""
    opened: list[sqlite3.Connection] = []
    open_read_only = link_outbox.open_read_only
    test = threading.get_ident()

    def watched(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = open_read_only(*args, **kwargs)
        if threading.get_ident() == test:  # not the link's own looks, which may be under way
            opened.append(conn)
        return conn

    monkeypatch.setattr(link_outbox, "open_read_only", watched)
    with running(sync_cfg(broker.port)) as (gw, service):
        produce(gw, 100)
        assert service.link.outbox.check_quota()["pending"] >= 100
        assert opened, "the backlog was not read on a connection of its own"
        for conn in opened:
            with pytest.raises(sqlite3.ProgrammingError, match="closed"):
                conn.execute("SELECT 1")
