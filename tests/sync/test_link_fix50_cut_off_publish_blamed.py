"""A message paho reports not sent as the connection goes may have gone out, and be what the broker
closed the connection over: it is blamed for the drop as one in flight is."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest

from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway
from gateway.store.outbox import enqueue
from gateway.sync import link
from gateway.sync.errors import LinkError
from gateway.sync.retained import RetainedTopics
from gateway.sync.uplink import POISON_LIMIT


class ClosedOverIt:
    """The connection as paho leaves it when the broker closes it over the message being published
    (seen against mosquitto's message_size_limit): paho logs 'Sending PUBLISH', queues the packet,
    its network thread writes it, reads the broker's close and ends, and publish() then answers
    MQTT_ERR_NO_CONN for the message it has written."""

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> int:
        raise LinkError(f"publish on {topic} not sent: The client is not currently connected.")


def test_a_record_reported_not_sent_as_the_connection_went_is_blamed_for_the_drop(
    sync_cfg: Callable[..., SiteConfig],
) -> None:
    """It was not: the drop looked like one with nothing unacknowledged (a second box with the
    client id, from the third), and the record that did it took more drops to be set aside."""
    gw = Gateway(sync_cfg(1883))  # not started: the link is driven by hand
    try:
        enqueue(gw.conn, "test", {"pad": "x" * 5000}, gw.now())
        sync = link.SyncLink(gw)
        sync.outbox.reader = sqlite3.connect(f"file:{gw.db_path}?mode=ro", uri=True)
        up = sync.outbox.uplink
        blamed = []
        for _ in range(POISON_LIMIT):
            up.start_session(100, None)
            sync.outbox.publish_window(ClosedOverIt())  # type: ignore[arg-type]
            blamed.append(up.end_session())
        head = sync.outbox.reader.execute("SELECT min(seq) FROM outbox").fetchone()[0]
        sync.outbox.reader.close()
    finally:
        gw.conn.close()
    assert all(b is not None and b.seq == head for b in blamed), blamed
    last = blamed[-1]
    assert last is not None and last.poison is not None and last.poison.seq == head


def test_a_retained_message_reported_not_sent_as_the_connection_went_is_blamed_for_the_drop() -> None:
    retained = RetainedTopics()
    retained.start_session("estate/s/status", b"{}")
    with pytest.raises(LinkError):
        retained.send_next(ClosedOverIt())  # type: ignore[arg-type]
    assert retained.end_session() == ["estate/s/status"]
