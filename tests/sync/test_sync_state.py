"""The retained sync/state tells the central server which version is applied, and since when."""

from __future__ import annotations

from collections.abc import Callable

from conftest import SITE, running
from sync_helpers import Central, Mosquitto, Subscriber, wait_for, wait_listening
from test_sync_downlink import directory_v1

from gateway.config import SiteConfig
from gateway.sync.messages import encode_snapshot


def test_sync_state_after_a_restart_still_says_when_the_version_was_applied(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    cfg = sync_cfg(broker.port)
    central = Central(broker, SITE)
    try:
        with running(cfg) as (_, service):
            wait_listening(service)
            for part in encode_snapshot(1, directory_v1(), 4):
                central.publish("sync/snapshot", part)
            wait_for("snapshot 1 applied", lambda: service.directory.versions.applied == 1)
            applied_at = service.directory.last_applied_at
        with running(cfg) as (_, service2):
            wait_listening(service2)
            sub = Subscriber(broker, [f"estate/{SITE}/sync/state"], client_id="late-central")
            try:
                state = wait_for("the retained sync state", lambda: sub.payloads("/sync/state"))[-1]
            finally:
                sub.close()
    finally:
        central.close()
    assert state["applied_version"] == 1
    assert state["applied_at"] is not None, state
    assert state["applied_at"] == applied_at  # the moment of the apply, as sent before it
