"""Records go up: oldest first, marked sent only when acknowledged, kept while the broker is out."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from conftest import SITE, running
from fastapi.testclient import TestClient
from sync_helpers import Mosquitto, Subscriber, wait_for

from gateway.api.app import create_app
from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway
from gateway.store import outbox as outbox_store
from gateway.store.outbox import enqueue
from gateway.sync import link, link_outbox

# What the centre takes of a gateway's records (docs/mqtt.md, Topics): besides the tests' own, a new
# gateway queues an `outbox_started` (events/) and, its register empty, a `sync_request` as it starts.
CENTRE = [f"estate/{SITE}/events/#", f"estate/{SITE}/sync/request"]


def produce(gw: Gateway, n: int, record_type: str = "test", size: int = 0) -> list[str]:
    """n records queued through the worker, as the runtime queues its own."""

    def write(conn: sqlite3.Connection) -> list[str]:
        conn.execute("BEGIN IMMEDIATE")
        ids = [enqueue(conn, record_type, {"n": i, "pad": "x" * size}, gw.now()) for i in range(n)]
        conn.execute("COMMIT")
        return ids

    return gw.on_worker(write).result(timeout=10)


def outbox(gw: Gateway, where: str = "1") -> list[tuple[int, str, str | None, str | None]]:
    with sqlite3.connect(gw.db_path) as conn:
        return conn.execute(
            f"SELECT seq, event_id, sent_at, quarantined FROM outbox WHERE {where} ORDER BY seq"
        ).fetchall()


def unsent(gw: Gateway) -> int:
    return len(outbox(gw, "sent_at IS NULL AND quarantined IS NULL"))


def test_records_go_up_in_order_and_are_marked_sent(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    sub = Subscriber(broker, CENTRE)
    with running(sync_cfg(broker.port)) as (gw, _):
        ids = produce(gw, 300)
        got = wait_for("300 records", lambda: len(sub.payloads("/test")) >= 300 and sub.payloads("/test"))
        wait_for("every row marked sent", lambda: unsent(gw) == 0)
    sub.close()
    assert [m["event_id"] for m in got] == ids
    seqs = [m["seq"] for m in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == 300
    assert all(m["site"] == SITE and m["v"] == 1 and m["type"] == "test" for m in got)
    assert [row[0] for row in outbox(gw, "topic = 'test'")] == seqs


def test_backlog_waits_for_the_broker_and_goes_out_oldest_first(
    brokers: Callable[..., Mosquitto], tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> None:
    broker = brokers()
    broker.start()
    # A persistent session made before the outage: the broker keeps what comes for it even
    # before this subscriber is back.
    sub = Subscriber(broker, CENTRE, client_id="backlog", persistent=True)
    broker.stop()
    cfg = sync_cfg(broker.port)
    with running(cfg) as (gw, service):
        ids = produce(gw, 500)
        wait_for("the link to fail", lambda: service.link.last_error is not None)
        client = TestClient(create_app(gw, service))
        # And the start's two, the second of which the service may still be writing.
        wait_for("502 records waiting", lambda: client.get("/api/health").json()["outbox_pending"] >= 502)
        health = client.get("/api/health").json()
        assert health["outbox_pending"] == 500 + 2
        assert health["mqtt"]["state"] in ("offline", "connecting")
        assert "cannot connect" in health["mqtt"]["last_error"]
        broker.start()
        ids += produce(gw, 100)
        wait_for("all 600 records", lambda: len(sub.payloads("/test")) >= 600)
        wait_for("every row marked sent", lambda: unsent(gw) == 0)
        health = TestClient(create_app(gw, service)).get("/api/health").json()
    sub.close()
    broker.stop()
    got = [m["event_id"] for m in sub.payloads("/test")]
    assert got == ids
    assert health["outbox_pending"] == 0 and health["mqtt"]["state"] == "connected"


def test_status_is_retained_online_then_offline_on_a_clean_stop(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    with running(sync_cfg(broker.port)) as (_, service):
        wait_for("the link to connect", lambda: service.link.state == "connected")
        first = Subscriber(broker, [f"estate/{SITE}/status"], client_id="status-0")
        wait_for("the online status at the broker", lambda: first.messages)  # live or retained
        first.close()
        sub = Subscriber(broker, [f"estate/{SITE}/status"], client_id="status-1")
        online = wait_for("retained online status", lambda: sub.messages)
        sub.close()
    late = Subscriber(broker, [f"estate/{SITE}/status"], client_id="status-2")
    offline = wait_for("retained offline status", lambda: late.messages)
    late.close()
    assert online[0][2] is True and json.loads(online[0][1])["state"] == "online"
    assert offline[0][2] is True and json.loads(offline[0][1]) | {"at": None} == {
        "v": 1,
        "type": "status",
        "site": SITE,
        "state": "offline",
        "reason": "stopped",
        "at": None,
        "version": json.loads(offline[0][1])["version"],
    }


def test_sent_marks_that_could_not_be_written_are_written_later(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    failures: list[int] = []

    def mark_sent_once_full(conn: sqlite3.Connection, sent: list[tuple[int, int]], at: datetime) -> None:
        if not failures:
            failures.append(len(sent))
            raise sqlite3.OperationalError("database or disk is full")
        outbox_store.mark_sent(conn, sent, at)

    monkeypatch.setattr(link_outbox, "mark_sent", mark_sent_once_full)
    monkeypatch.setattr(link_outbox, "_REWRITE_AFTER", 0.2)
    sub = Subscriber(broker, CENTRE)
    with running(sync_cfg(broker.port)) as (gw, service):
        produce(gw, 50)
        wait_for("50 records", lambda: len(sub.payloads("/test")) >= 50)
        wait_for("every row marked sent", lambda: unsent(gw) == 0, 15)
        wait_for("every row counted as sent", lambda: service.link.outbox.sent == 50 + 2)  # the start's two
    sub.close()
    assert failures
    assert len(sub.payloads()) == 50 + 2  # the broker had them: written again, not sent again


def test_rows_in_flight_when_the_link_went_are_not_taken_for_rows_sent_again(
    sync_cfg: Callable[..., SiteConfig], caplog: pytest.LogCaptureFixture
) -> None:
    gw = Gateway(sync_cfg(1883))  # not started: the link is driven by hand
    try:
        for n in range(3):
            enqueue(gw.conn, "test", {"n": n}, gw.now())
        sync = link.SyncLink(gw)
        sync.outbox.reader = sqlite3.connect(f"file:{gw.db_path}?mode=ro", uri=True)
        up = sync.outbox.uplink
        up.start_session(100, None)
        messages, _ = up.take(3)
        for mid, m in enumerate(messages, 1):
            up.sent(mid, m)
        up.acked(1, 0)
        gw.conn.execute("UPDATE outbox SET sent_at = '2025-01-01' WHERE seq = ?", (messages[0].seq,))
        up.settled([messages[0].seq])
        up.end_session()  # the connection drops with two in flight: pending behind the cursor now
        with caplog.at_level("INFO", logger="gateway.sync.link_outbox"):
            sync._tick(None)  # the idle loop while offline
        sync.outbox.reader.close()
    finally:
        gw.conn.close()
    assert "put back in line" not in caplog.text  # was logged after every outage, though nobody had
