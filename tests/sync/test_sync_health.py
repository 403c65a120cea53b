"""Health upstream, the outbox quota alarm, and personal data that never goes up in clear."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator

import pytest
from conftest import SITE, running
from sync_helpers import Mosquitto, Subscriber, free_port, wait_for
from test_sync_downlink import Site, _site
from test_sync_uplink import CENTRE, outbox, produce, unsent

from gateway.config import SiteConfig
from gateway.sync.messages import encode_snapshot


def open_alarms(db: object) -> list[tuple[str, str]]:
    with sqlite3.connect(str(db)) as conn:
        return conn.execute("SELECT kind, source FROM alarms WHERE cleared_at IS NULL").fetchall()


def test_health_is_sent_retained_with_devices_backlog_disk_and_uptime(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    with running(sync_cfg(broker.port, health_interval_s=0.2)) as (_, service):
        wait_for("the link", lambda: service.link.state == "connected")
        wait_for("a health report", lambda: service.link.retained(f"estate/{SITE}/health"))
        # At the broker, not only handed to the link: a CI run on a loaded machine stopped the
        # gateway before its first report had gone out, and the late subscriber got nothing.
        early = Subscriber(broker, [f"estate/{SITE}/health"], client_id="h1")
        wait_for("a health report at the broker", lambda: early.messages)
        early.close()
    late = Subscriber(broker, [f"estate/{SITE}/health"], client_id="h2")
    topic, payload, retained = wait_for("the retained health", lambda: late.messages)[0]
    late.close()
    health = json.loads(payload)
    assert retained and health["type"] == "health" and health["site"] == SITE
    assert {d["device"] for d in health["devices"]} == {"car-in-barrier", "door-lock"}
    assert {"free_mb", "total_mb", "db_mb"} <= set(health["disk"])
    assert health["uptime_s"] >= 0 and "pending" in health["backlog"]


def test_the_outbox_quota_alarm_rises_before_the_quota_and_nothing_is_dropped(
    brokers: Callable[..., Mosquitto], sync_cfg: Callable[..., SiteConfig]
) -> None:
    broker = brokers()  # started later: the link is down while records pile up
    cfg = sync_cfg(broker.port, outbox_quota_mb=0.1, outbox_alarm_percent=50)
    with running(cfg) as (gw, service):
        produce(gw, 200, size=200)  # about 70 KB: past half of the 100 KB quota
        wait_for("the quota check", lambda: service.link.outbox.check_quota()["pending"] >= 200)
        wait_for("the alarm", lambda: ("outbox_quota", "outbox") in open_alarms(gw.db_path))
        backlog = service.link.outbox.backlog
        broker.start()
        # Records the broker delivers to nobody are kept (PUBACK 0x10): the centre takes them.
        central = Subscriber(broker, CENTRE, client_id="central")
        wait_for("the backlog drained", lambda: unsent(gw) == 0)
        central.close()
        service.link.outbox.check_quota()
        wait_for("the alarm cleared", lambda: ("outbox_quota", "outbox") not in open_alarms(gw.db_path))
    assert backlog["pending"] >= 200 and backlog["quarantined"] == 0  # the alarm itself too


@pytest.fixture
def site(broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]) -> Iterator[Site]:
    with _site(broker, sync_cfg(broker.port)) as s:
        yield s


def test_error_replies_never_repeat_a_phone_or_id_number(site: Site) -> None:
    bad = [
        {
            "kind": "resident",
            "ref": "R1",
            "building": "1",
            "unit": "1",
            "name": "甲",
            "phone": "12-34",
        },
        {
            "kind": "pass",
            "ref": "P1",
            "pass_kind": "visitor",
            "name": "乙",
            "id_number": "1234",
            "valid_from": "2024-01-01",
            "valid_to": "2099-01-01",
        },
    ]
    for part in encode_snapshot(1, bad):
        site.central.publish("sync/snapshot", part)
    error = wait_for("the error reply", lambda: site.upstream("/sync/error"))[0]
    text = json.dumps(error, ensure_ascii=False)
    assert "phone: is not a valid phone" in text and "id_number: is not a valid id number" in text
    assert "12-34" not in text and "1234" not in text


def test_no_broker_configured_port_still_lets_the_lanes_work(
    sync_cfg: Callable[..., SiteConfig],
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from gateway.core import Presented

    with running(sync_cfg(free_port())) as (gw, service):
        p = Presented("door", "card", "UNKNOWN1", 1.0, datetime.now(ZoneInfo("Asia/Shanghai")))
        ev = gw.on_worker(lambda conn: gw.handle(p)).result(timeout=10)
        wait_for("the link to give up for now", lambda: service.link.last_error)
    assert ev.reason == "unknown" and len(outbox(gw, "topic = 'access' AND sent_at IS NULL")) == 1


def test_sent_rows_are_kept_for_a_while_then_pruned_and_unsent_ones_never(
    sync_cfg: Callable[..., SiteConfig],
) -> None:
    from datetime import timedelta

    from gateway.runtime.gateway import Gateway
    from gateway.store.outbox import enqueue, mark_sent, prune_sent

    gw = Gateway(sync_cfg(free_port()))
    now = gw.now()
    conn = gw.conn
    (base,) = conn.execute("SELECT max(seq) FROM outbox").fetchone()  # the stream's outbox_started
    old = [enqueue(conn, "test", {"n": i}, now) for i in range(3)]
    recent = enqueue(conn, "test", {"n": 3}, now)
    unsent_id = enqueue(conn, "test", {"n": 4}, now)
    access_id = enqueue(conn, "access", {"n": 5}, now)  # kept: retention deletes it with its record
    mark_sent(conn, [(base + n, 1) for n in (1, 2, 3, 6)], now - timedelta(days=8))
    mark_sent(conn, [(base + 4, 1)], now)
    assert prune_sent(conn, now - timedelta(days=7)) == 3
    left = [r[0] for r in conn.execute("SELECT event_id FROM outbox WHERE seq > ? ORDER BY seq", (base,))]
    conn.close()
    assert left == [recent, unsent_id, access_id] and not set(old) & set(left)
