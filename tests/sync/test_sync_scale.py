"""Many gateways on one broker: per-gateway credentials and ACLs (docs/examples/mosquitto.acl),
persistent sessions, and central consumers sharing the load."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as paho
from conftest import running
from paho.mqtt.enums import CallbackAPIVersion
from sync_helpers import Mosquitto, wait_for
from test_sync_sink import query, sink
from test_sync_uplink import produce

from gateway.config import SiteConfig

ACL = Path(__file__).parents[2] / "docs" / "examples" / "mosquitto.acl"


def refused_publish(broker: Mosquitto, user: str, password: str, topic: str) -> int:
    """The PUBACK reason code a client logged in as `user` gets for a publish on `topic`."""
    codes: list[int] = []
    done = threading.Event()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"{user}-probe", protocol=paho.MQTTv5)
    client.username_pw_set(user, password)
    client.on_publish = lambda c, u, mid, rc, p: (codes.append(int(rc.value)), done.set())
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    client.publish(topic, b"{}", qos=1)
    done.wait(10)
    client.disconnect()
    client.loop_stop()
    return codes[0]


def test_two_gateways_each_confined_to_its_own_topics(
    brokers: Callable[..., Mosquitto], tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> None:
    broker = brokers(users={"site-a": "pa", "site-b": "pb", "central": "pc"}, acl=ACL.read_text())
    broker.start()
    for name, pw in (("a", "pa"), ("b", "pb")):
        (tmp_path / f"pw-{name}").write_text(pw)
    cfg_a = sync_cfg(broker.port, "site-a", username="site-a", password_file=tmp_path / "pw-a")
    cfg_b = sync_cfg(broker.port, "site-b", username="site-b", password_file=tmp_path / "pw-b")
    db = tmp_path / "central.db"
    options = {"username": "central", "password": "pc"}
    with (
        sink(broker, db, "sink-1", group="central", **options) as s1,
        sink(broker, db, "sink-2", group="central", **options) as s2,
        running(cfg_a) as (gw_a, _),
        running(cfg_b) as (gw_b, _),
    ):
        ids = produce(gw_a, 100) + produce(gw_b, 100)
        wait_for("200 events", lambda: s1.stored + s2.stored >= 200)
        # Gateway A's account cannot speak for B, nor command it.
        assert refused_publish(broker, "site-a", "pa", "estate/site-b/events/access") == 0x87
        assert refused_publish(broker, "site-a", "pa", "estate/site-a/cmd") == 0x87
        assert refused_publish(broker, "site-a", "pa", "estate/site-a/events/access") < 0x80
    stored = query(db, "SELECT site, count(*) FROM events WHERE type = 'test' GROUP BY site")
    assert stored == [("site-a", 100), ("site-b", 100)]
    assert sorted(r[0] for r in query(db, "SELECT event_id FROM events WHERE type = 'test'")) == sorted(ids)
    # Shared consumers commit in their own order, so arrival order says nothing here; the seqs
    # in the table are what the central side checks: none missing.
    assert query(db, "SELECT site, missing FROM site_gaps ORDER BY site") == [
        ("site-a", 0),
        ("site-b", 0),
    ]
