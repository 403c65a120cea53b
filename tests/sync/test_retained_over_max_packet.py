"""A retained message larger than the Maximum Packet Size the broker announced in CONNACK."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from conftest import SITE, running
from sync_helpers import Mosquitto, Subscriber, wait_for
from test_sync_uplink import CENTRE, produce, unsent

from gateway.config import SiteConfig
from gateway.sync.link import fit_health


def test_health_over_the_announced_packet_size_does_not_knock_the_gateway_offline(
    brokers: Callable[..., Mosquitto], sync_cfg: Callable[..., SiteConfig]
) -> None:
    """mosquitto `max_packet_size 3000` is announced in CONNACK (Maximum Packet Size), and the
    gateway already sets aside, unsent, any record over it. A health report over it was sent all
    the same: mosquitto closed the connection each time, the broker published the gateway's last
    will, and the centre saw the gateway go `offline` three times (then again every 10 min),
    though nothing was wrong with its link. The gateway holds that report back without sending it,
    and says so on /api/health, as it does for a record over the limit."""
    broker = brokers(extra="max_packet_size 3000\n")
    broker.start()
    central = Subscriber(broker, [f"estate/{SITE}/status", *CENTRE], client_id="central")
    with running(sync_cfg(broker.port, reconnect_min_s=0.05, reconnect_max_s=0.2)) as (gw, service):
        wait_for("the link", lambda: service.link.state == "connected")
        time.sleep(0.5)
        service.link.retain(service.link.topics.health, {"v": 1, "type": "health", "devices": "x" * 4000})
        produce(gw, 3)
        time.sleep(5)
        assert unsent(gw) == 0  # the records went up meanwhile
        error = service.link.status()["last_error"]
    central.close()
    broker.stop()
    states = [json.loads(p)["state"] for t, p, _ in central.messages if t.endswith("/status")]
    assert "offline" not in states[:-1], states  # the last one is the clean stop
    assert error and f"estate/{SITE}/health" in error and "Maximum Packet Size" in error, error


def test_a_health_report_over_the_limit_lists_fewer_open_alarms_to_fit() -> None:
    """A site with many open alarms: its health report would be over the broker's limit. It goes
    up listing only the newest alarms that fit, their count by kind whole, rather than not at all."""
    newest = [
        {"alarm_id": 100 - i, "kind": "device_offline", "source": f"cam-{i}", "raised_at": "x"}
        for i in range(50)
    ]
    alarms = {"count": 120, "by_kind": {"device_offline": 120}, "newest": newest}
    report: dict[str, Any] = {"v": 1, "type": "health", "alarms_open": alarms}
    whole = len(json.dumps(report, ensure_ascii=False).encode())
    assert fit_health(report, whole) is report
    fitted = fit_health(report, whole // 3)
    listed = fitted["alarms_open"]["newest"]
    assert len(json.dumps(fitted, ensure_ascii=False).encode()) <= whole // 3
    assert 0 < len(listed) < 50 and listed == newest[: len(listed)]  # the newest kept
    assert fitted["alarms_open"]["count"] == 120
    more = {**fitted, "alarms_open": {**fitted["alarms_open"], "newest": newest[: len(listed) + 1]}}
    assert len(json.dumps(more, ensure_ascii=False).encode()) > whole // 3  # as many as fit
    assert fit_health(report, 10)["alarms_open"]["newest"] == []  # held back later if still over
