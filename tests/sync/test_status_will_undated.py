"""The centre's desk shows when an estate's gateway went offline from the retained `status`
message (docs/mqtt.md: `offline` as the last will when the connection drops). The will is handed
to the broker as the link connects and published whenever the link drops: a will dated then would
tell the centre, after hours online, that the box went offline before the records it sent since.
The will carries no `at`; the centre dates the drop by the will's arrival."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest

from gateway.config import SiteConfig
from gateway.sync import client as client_module
from gateway.sync import link as link_module
from tests.sync.conftest import SITE, running
from tests.sync.sync_helpers import Mosquitto, Subscriber, wait_for


def test_the_last_will_is_not_dated_when_the_link_connected(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[client_module.Connection] = []
    real_init = client_module.Connection.__init__

    def keep(self, *a, **kw):  # type: ignore[no-untyped-def]
        real_init(self, *a, **kw)
        made.append(self)

    monkeypatch.setattr(client_module.Connection, "__init__", keep)
    assert link_module.Connection is client_module.Connection
    sub = Subscriber(broker, [f"estate/{SITE}/status", f"estate/{SITE}/events/#"], client_id="desk")
    cfg = sync_cfg(broker.port, reconnect_min_s=2, reconnect_max_s=3)
    with running(cfg) as (gw, service):
        wait_for("the link", lambda: service.link.state == "connected")
        time.sleep(3)  # the link has been up a while (hours, on a real site)
        health = gw.devices.lanes["door"].relays[0].health
        health.set_offline("USB relay unplugged")
        wait_for("the alarm at the centre", lambda: sub.payloads("events/alarm"))
        made[-1]._client.socket().shutdown(socket.SHUT_RDWR)  # the uplink's cable is cut
        wait_for(
            "the last will",
            lambda: [s for s in sub.payloads("status") if s["state"] == "offline"],
            10,
        )
        will = [s for s in sub.payloads("status") if s["state"] == "offline"][0]
    sub.close()
    assert will["reason"] == "connection lost"
    assert "at" not in will, (
        f"the centre is told the gateway went offline at {will['at']}, when the link connected, "
        "before the alarm record it sent on that same connection"
    )
