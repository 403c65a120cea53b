"""Retained messages (status, health, sync state) and connections the broker closes: a retained
message the broker will not take holds up no record and gets none set aside; a connection that
drops right after it is made is retried with a growing wait, not in a tight loop."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import paho.mqtt.client as paho
import pytest
from conftest import SITE, running
from paho.mqtt.enums import CallbackAPIVersion
from sync_helpers import Mosquitto, Subscriber, wait_for
from test_sync_uplink import CENTRE, outbox, produce

from gateway.config import SiteConfig


def test_a_retained_message_the_broker_drops_the_link_over_sets_no_record_aside(
    brokers: Callable[..., Mosquitto], sync_cfg: Callable[..., SiteConfig]
) -> None:
    # mosquitto closes the connection over a message above message_size_limit. Here that is the
    # retained health report (it grows with the devices), sent again after every connect.
    broker = brokers(extra="message_size_limit 3000\n")
    broker.start()
    sub = Subscriber(broker, CENTRE)
    cfg = sync_cfg(broker.port, reconnect_min_s=0.05, reconnect_max_s=1)
    with running(cfg) as (gw, service):
        wait_for("the link", lambda: service.link.state == "connected")
        first = produce(gw, 5)
        wait_for("the first records", lambda: len(sub.payloads("/test")) >= 5)
        service.link.retain(service.link.topics.health, {"v": 1, "type": "health", "devices": "x" * 4000})
        rest = produce(gw, 5)
        wait_for(
            "every record sent or set aside",
            lambda: all(sent or why for _, _, sent, why in outbox(gw)),
        )
        wait_for("the records delivered", lambda: set(rest) <= {m["event_id"] for m in sub.payloads("/test")})
        rows = outbox(gw)
        error = service.link.status()["last_error"]
    sub.close()
    assert [(seq, why) for seq, _, _, why in rows if why] == []
    assert list(dict.fromkeys(m["event_id"] for m in sub.payloads("/test"))) == first + rest
    # What /api/health shows: the topic the broker would not take, held back for a while.
    assert f"estate/{SITE}/health" in error and "not sent again for" in error


def test_a_connection_dropped_right_after_connack_backs_off(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], caplog: pytest.LogCaptureFixture
) -> None:
    # A second box configured with the same client id (a copied config): each connect takes the
    # session from the other, so every connection drops right after the broker accepted it.
    twin = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"gw-{SITE}", protocol=paho.MQTTv5)
    twin.reconnect_delay_set(0.05, 0.05)
    cfg = sync_cfg(broker.port, reconnect_min_s=0.05, reconnect_max_s=30)
    pattern = re.compile(r"next attempt in ([0-9.]+) s \((\d+) failed in a row\)")

    def waits() -> list[tuple[float, int]]:
        found = (pattern.search(r.getMessage()) for r in list(caplog.records))
        return [(float(m[1]), int(m[2])) for m in found if m]

    with caplog.at_level(logging.DEBUG, logger="gateway.sync.link"), running(cfg) as (gw, service):
        wait_for("the link", lambda: service.link.state == "connected")
        twin.connect("127.0.0.1", broker.port, 30)
        twin.loop_start()
        try:
            wait_for("four drops in a row", lambda: any(n >= 4 for _, n in waits()))
        finally:
            twin.disconnect()
            twin.loop_stop()
    # reconnect_min_s doubling, with jitter of 50-100 %: the fourth wait is at least 4 times it.
    fourth = [delay for delay, n in waits() if n == 4]
    assert fourth and fourth[0] >= 4 * 0.05
