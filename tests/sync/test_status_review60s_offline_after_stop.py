"""A gateway stopped cleanly (systemctl stop, an upgrade) while a full window of records waited for
the broker's acknowledgements left its retained `status` saying `online` for good: the `offline`
message waited behind the window in paho and was never written, and the clean DISCONNECT then told
the broker to discard the last will. The centre's desk showed the box online while it was off.
Found by reviewer 60s (docs/mqtt.md, `status`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from slow_link import SlowLink
from test_sync_uplink import CENTRE, produce

from gateway.config import SiteConfig
from gateway.sync import client
from tests.sync.conftest import SITE, running
from tests.sync.sync_helpers import Mosquitto, Subscriber, wait_for


# The broker's answers reach the box `delay` s late (a congested 4G modem). Answered within the
# `wait` a stop gives the last message (client._LAST_WAIT_S, 2 s; 6 s here, so that a loaded
# machine's second or two cannot decide it), the `offline` status says `stopped`: sent at once,
# not after an ack frees a slot in the window (that wait took it to 2 x 3.5 s, past the 6 s, and
# made it `connection lost`). Answered later than the wait, the gateway leaves with its last will
# (`connection lost`, after the `stopped` the broker may have taken).
@pytest.mark.parametrize(
    ("delay", "wait", "reasons"), [(3.5, 6.0, {"stopped"}), (3.0, 2.0, {"stopped", "connection lost"})]
)
def test_a_stop_with_records_in_flight_leaves_the_status_offline(
    brokers: Callable[..., Mosquitto],
    sync_cfg: Callable[..., SiteConfig],
    monkeypatch: pytest.MonkeyPatch,
    delay: float,
    wait: float,
    reasons: set[str],
) -> None:
    monkeypatch.setattr(client, "_LAST_WAIT_S", wait)
    # Receive Maximum 1000: the gateway's own window ([mqtt] inflight, 100) is the whole of it
    broker = brokers(extra="max_inflight_messages 1000\n")
    broker.start()
    central = Subscriber(broker, CENTRE, client_id="central")
    slow = SlowLink(broker.port, delay)
    try:
        with running(sync_cfg(slow.port)) as (gw, service):
            produce(gw, 3000, size=100)
            wait_for("the link", lambda: service.link.state == "connected", timeout=30)
            wait_for("records going up", lambda: service.link.outbox.sent > 0, timeout=30)
            time.sleep(0.3)
        time.sleep(1.0)
        # a centre starting now reads the retained status
        late = Subscriber(broker, [f"estate/{SITE}/status"], client_id="late-centre")
        msgs = wait_for("the retained status", lambda: late.messages, timeout=10)
        late.close()
    finally:
        central.close()
        slow.close()
    status = json.loads(msgs[-1][1])
    assert status["state"] == "offline", f"the broker still says {status} after the gateway stopped"
    assert status["reason"] in reasons
