"""The retained sync/state tells the central server which version is applied, and since when."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

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
        # Listening from before the restart: the broker hands over what it retains at once (flagged
        # retained), and what the restarted gateway publishes as it comes (not flagged). Read from a
        # centre subscribing after the restart, the retained copy could still be the first run's,
        # from before its apply, while the restarted gateway's waited its turn on a loaded box.
        sub = Subscriber(broker, [f"estate/{SITE}/sync/state"], client_id="central-state")
        try:
            with running(cfg) as (_, service2):
                wait_listening(service2)
                state = wait_for("the restarted gateway's sync state", lambda: _published(sub))
        finally:
            sub.close()
    finally:
        central.close()
    assert state["applied_version"] == 1
    assert state["applied_at"] is not None, state
    assert state["applied_at"] == applied_at  # the moment of the apply, as sent before it


def _published(sub: Subscriber) -> dict[str, Any] | None:
    """The last sync/state published while `sub` listened (not the copy retained before)."""
    live = [json.loads(payload) for _, payload, retained in sub.messages if not retained]
    return live[-1] if live else None
