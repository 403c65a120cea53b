"""A snapshot given up `not_staged` is owed until one is in, across a restart (review 60aa).

Its staging child killed three times (a box short of memory), a snapshot is given up and the centre
told "a snapshot is asked for again later". The wish was kept in memory only, and the retained
`sync/state` went on saying `need_snapshot: false` (unlike /api/health): a restart before
resync_interval_s (the OOM killer taking the gateway too, a reboot) forgot it, no request was ever
sent, and a household moved out in that snapshot was still let in while the centre waited.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from typing import Any

from conftest import SITE, running
from sync_helpers import Central, Mosquitto, Subscriber, wait_for, wait_listening
from test_snapshot_review60p_staging_killed import _door, _send, _two_versions, killing

from gateway.runtime.gateway import Gateway


def _retained_state(broker: Mosquitto) -> dict[str, Any]:
    late = Subscriber(broker, [f"estate/{SITE}/sync/state"], client_id=f"late-{time.monotonic_ns()}")
    try:
        msgs = wait_for("the retained sync/state", lambda: late.messages, timeout=10)
    finally:
        late.close()
    return dict(json.loads(msgs[-1][1]))


def _owed_at(gw: Gateway) -> str | None:
    row = gw.on_worker(lambda c: c.execute("SELECT snapshot_owed_at FROM sync_state").fetchone()).result(10)
    return None if row[0] is None else str(row[0])


def test_a_snapshot_given_up_not_staged_is_said_and_still_asked_for_after_a_restart(
    broker: Mosquitto, sync_cfg: Callable[..., Any]
) -> None:
    cfg = sync_cfg(broker.port, resync_interval_s=4)
    sub = Subscriber(broker, [f"estate/{SITE}/sync/#"], client_id="centre-watch")
    central = Central(broker, SITE)
    entries, entries2, moved_out = _two_versions()
    try:
        with running(cfg) as (gw, service):
            wait_listening(service)
            _send(central, 1, entries)
            wait_for("snapshot 1", lambda: service.directory.versions.applied == 1, timeout=120)
            with killing(signal.SIGKILL):  # the OOM killer, at every try
                _send(central, 2, entries2)
                wait_for("the sync error", lambda: sub.payloads("/sync/error"), timeout=60)
            given_up = time.monotonic()
            wait_for("a snapshot owed on record", lambda: _owed_at(gw), timeout=10)
            state_told = wait_for(
                "sync/state saying a snapshot is needed",
                lambda: (s := _retained_state(broker))["need_snapshot"] and s,
                timeout=10,
            )
        # Restarted well within resync_interval_s (the OOM killer took the gateway too, a reboot).
        asked_before = len(sub.payloads("/sync/request"))
        with running(cfg) as (gw, service):
            wait_listening(service)
            need_at_start = service.directory.status()["need_snapshot"]
            request = wait_for(
                "the snapshot asked for again after the restart",
                lambda: sub.payloads("/sync/request")[asked_before:],
                timeout=30,
            )
            waited = time.monotonic() - given_up
            _send(central, 2, entries2)
            wait_for("snapshot 2", lambda: service.directory.versions.applied == 2, timeout=60)
            reason = _door(gw, moved_out)
            owed_after = _owed_at(gw)
            need_after = service.directory.status()["need_snapshot"]
    finally:
        central.close()
        sub.close()
    assert state_told["need_snapshot"] and state_told["applied_version"] == 1
    assert need_at_start, "/api/health said no snapshot was needed after the restart"
    assert request[0]["have_version"] == 1 and request[0]["reason"] == "still waiting for a snapshot"
    assert waited >= 3.0, "asked for at once after the restart: a box short of memory is spared that"
    assert reason != "resident", "the household moved out in snapshot 2 still let in"
    assert owed_after is None and not need_after
