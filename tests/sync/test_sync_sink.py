"""The reference central consumer: each event once in SQL, resends counted, load shared."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as paho
from conftest import SITE, running
from paho.mqtt.enums import CallbackAPIVersion
from sync_helpers import Mosquitto, wait_for
from test_sync_uplink import produce

from gateway.config import SiteConfig
from gateway.sync.sink import Sink, SinkOptions


@contextmanager
def sink(
    broker: Mosquitto,
    db: Path,
    client_id: str = "sink-1",
    group: str | None = None,
    username: str | None = None,
    password: str | None = None,
) -> Iterator[Sink]:
    s = Sink(
        SinkOptions(
            "127.0.0.1",
            broker.port,
            "estate",
            db,
            client_id,
            group=group,
            username=username,
            password=password,
        )
    )
    stop = threading.Event()
    thread = threading.Thread(target=s.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for("the sink to subscribe", s.ready.is_set)
        yield s
    finally:
        stop.set()
        thread.join(10)
        s.db.close()


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_events_land_once_in_sql_with_the_sites_state(
    broker: Mosquitto, tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> None:
    db = tmp_path / "central.db"
    with sink(broker, db) as s, running(sync_cfg(broker.port)) as (gw, service):
        ids = produce(gw, 200)
        wait_for("200 events", lambda: s.stored >= 200)
    rows = query(db, "SELECT event_id, seq FROM events WHERE type = 'test' ORDER BY seq")
    assert [r[0] for r in rows] == ids
    (site,) = query(db, "SELECT site, out_of_order, duplicates, status FROM sites")
    # The gateway stopped first: its retained status says so.
    assert site[:3] == (SITE, 0, 0) and '"state": "offline", ' in str(site[3])
    assert query(db, "SELECT missing FROM site_gaps") == [(0,)]


def test_a_resent_event_is_counted_not_stored_twice(
    broker: Mosquitto, tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> None:
    db = tmp_path / "central.db"
    with sink(broker, db) as s, running(sync_cfg(broker.port)) as (gw, _):
        produce(gw, 20)
        wait_for("20 events", lambda: s.stored >= 20)
        wait_for(
            "the rows marked sent",
            lambda: gw.conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0] == 0,
        )
        # As after acknowledgements lost with a connection: the rows go out again after the
        # reconnect.
        gw.on_worker(lambda conn: conn.execute("UPDATE outbox SET sent_at = NULL")).result()
        broker.restart()
        wait_for("the duplicates", lambda: s.duplicates >= 20)
    assert query(db, "SELECT count(*) FROM events WHERE type = 'test'") == [(20,)]
    assert query(db, "SELECT duplicates FROM sites") == [(s.duplicates,)]


def test_a_shared_group_splits_the_load_and_loses_nothing(
    broker: Mosquitto, tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> None:
    db = tmp_path / "central.db"
    with (
        sink(broker, db, "sink-a", group="sinks") as a,
        sink(broker, db, "sink-b", group="sinks") as b,
        running(sync_cfg(broker.port)) as (gw, _),
    ):
        ids = produce(gw, 400)
        wait_for("400 events", lambda: a.stored + b.stored >= 400)
    assert sorted(r[0] for r in query(db, "SELECT event_id FROM events WHERE type = 'test'")) == sorted(ids)
    assert a.stored > 0 and b.stored > 0 and a.duplicates + b.duplicates == 0


def test_a_sink_that_was_down_gets_what_it_missed(
    broker: Mosquitto, tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> None:
    db = tmp_path / "central.db"
    with sink(broker, db):
        pass  # subscribed once: the broker keeps its session
    with running(sync_cfg(broker.port)) as (gw, _):
        ids = produce(gw, 50)  # the sink is down: its persistent session keeps them
        wait_for(
            "the outbox drained",
            lambda: gw.conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0] == 0,
        )
    with sink(broker, db) as s:
        wait_for("50 events", lambda: s.stored >= 50)
    assert sorted(r[0] for r in query(db, "SELECT event_id FROM events WHERE type = 'test'")) == sorted(ids)


@contextmanager
def publisher(broker: Mosquitto) -> Iterator[Callable[[str, bytes], None]]:
    """A gateway as the central side sees it, or a broken one: publishes raw payloads (QoS 1)."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="pub", protocol=paho.MQTTv5)
    client.connect("127.0.0.1", broker.port, 30)
    client.loop_start()

    def publish(topic: str, payload: bytes) -> None:
        client.publish(topic, payload, qos=1).wait_for_publish(10)

    try:
        yield publish
    finally:
        client.disconnect()
        client.loop_stop()


def event(seq: int, record_type: str = "access", **more: object) -> bytes:
    body = {"seq": seq, "site": "s1", "v": 1, "type": record_type, "event_id": f"e{seq}", **more}
    return json.dumps(body).encode()


def test_a_set_aside_record_sent_again_does_not_hide_a_missing_one(broker: Mosquitto, tmp_path: Path) -> None:
    db = tmp_path / "central.db"
    with sink(broker, db) as s, publisher(broker) as publish:
        # seq 2 refused by the broker and announced by seq 4; seq 3 never comes; seq 2 is sent
        # again once its cause is fixed (`gateway outbox --send-again`).
        publish("estate/s1/events/access", event(1))
        publish("estate/s1/events/outbox_quarantined", event(4, "outbox_quarantined", quarantined_seq=2))
        publish("estate/s1/events/access", event(5))
        publish("estate/s1/events/access", event(2))
        wait_for("4 events", lambda: s.stored >= 4)
    assert query(db, "SELECT site, missing FROM site_gaps") == [("s1", 1)]


def test_a_message_that_cannot_be_stored_is_set_aside_and_the_rest_flow(
    broker: Mosquitto, tmp_path: Path
) -> None:
    db = tmp_path / "central.db"

    def good(seq: int) -> bytes:
        return json.dumps({"seq": seq, "event_id": f"good-{seq}", "type": "access"}).encode()

    with sink(broker, db) as s, publisher(broker) as publish:
        # JSON that json.loads takes but the text column cannot hold; a seq beyond SQLite's range.
        publish(
            "estate/s1/events/access", json.dumps({"seq": 1, "event_id": "a", "type": "x"}).encode("utf-16")
        )
        publish("estate/s1/events/access", json.dumps({"seq": 2**64, "event_id": "b", "type": "x"}).encode())
        publish("estate/s2/events/access", good(1))
        wait_for("the good event from another site", lambda: s.stored >= 1)
    with sink(broker, db) as s, publisher(broker) as publish:  # acknowledged: not sent again
        publish("estate/s2/events/access", good(2))
        wait_for("the next good event, after a restart", lambda: s.stored >= 1)
        again = s.rejected
    assert sorted(r[0] for r in query(db, "SELECT event_id FROM events")) == ["good-1", "good-2"]
    rejected = query(db, "SELECT site, reason FROM rejected ORDER BY id")
    assert [site for site, _ in rejected] == ["s1", "s1"] and again == 0
    assert rejected[0][1].startswith("not UTF-8") and rejected[1][1].startswith("no seq")
