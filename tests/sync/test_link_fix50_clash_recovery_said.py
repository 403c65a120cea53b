"""A client id clash that ends (the second box taken away): what the journal says."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import paho.mqtt.client as paho
import pytest
from conftest import running
from paho.mqtt.enums import CallbackAPIVersion
from sync_helpers import Mosquitto, Subscriber, wait_for

from gateway.config import SiteConfig

CLASH = "is unique on the broker: another box may use it"


def test_the_journal_says_the_link_holds_again_once_the_second_box_is_gone(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], caplog: pytest.LogCaptureFixture
) -> None:
    """A second box uses the gateway's client id: the journal warns once to check the client id
    (docs/mqtt.md). The installer takes the other box away and the link connects and holds, but
    the journal never said so at INFO: its last mqtt line was still the clash warning, as if the
    link were still being kicked off (the reconnect itself is logged at DEBUG after the warning)."""
    sub = Subscriber(broker, ["estate/#"])  # the centre
    cfg = sync_cfg(broker.port, client_id="gw-gate", reconnect_min_s=0.5, reconnect_max_s=3.0)
    other = paho.Client(CallbackAPIVersion.VERSION2, client_id="gw-gate", protocol=paho.MQTTv5)
    other.reconnect_delay_set(0.2, 0.5)
    with caplog.at_level(logging.INFO), running(cfg) as (_, service):
        wait_for("connected", lambda: service.link.state == "connected")
        other.connect("127.0.0.1", broker.port, 30)
        other.loop_start()  # the second box: reconnects at once each time it is kicked off
        wait_for(
            "the clash warning",
            lambda: any(CLASH in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING),
            60,
        )
        other.loop_stop()  # the installer unplugs the second box
        other.disconnect()
        wait_for("connected again", lambda: service.link.state == "connected", 30)
        time.sleep(12)  # the connection holds (10 s)
        assert service.link.state == "connected" and service.link.last_error is None
        records = [r for r in caplog.records if r.name == "gateway.sync.link"]
    sub.close()
    warned = max(i for i, r in enumerate(records) if CLASH in r.getMessage() and r.levelno >= logging.WARNING)
    after = [r.getMessage() for r in records[warned + 1 :] if r.levelno >= logging.INFO]
    assert any("mqtt connected" in m and "holds again after" in m for m in after), (
        "the link is connected and holding, yet the journal's last word on it is the client id "
        f"clash warning; INFO lines after it: {after}"
    )
    assert sum("holds again" in m for m in after) == 1, after  # said once
