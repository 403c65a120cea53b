"""Review 61z: a gateway whose broker session was lost asks for a snapshot (review 61t), but with
[mqtt] session_expiry_s = 0 every reconnect of a flapping link loses its session, and each asked
for a full snapshot (100,000 residents each time). Now it asks at most once a resync_interval_s:
a session lost again soon after leaves the snapshot owed (need_snapshot), asked for once the
interval is over."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import running
from sync_helpers import wait_for, wait_listening
from test_session_lost_fix61t import _REQUESTS, Estate, register_v2
from test_sync_downlink import Site

from gateway.sync.messages import encode_snapshot
from gateway.sync.versions import Ignore, Request, Versions


def test_a_flapping_link_with_no_kept_session_asks_for_one_snapshot(
    brokers,  # noqa: ANN001
    sync_cfg,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    estate = Estate(brokers, sync_cfg, tmp_path)
    estate.cfg = sync_cfg(
        estate.broker.port, "site-a", username="site-a", password_file=tmp_path / "pw-a", session_expiry_s=0
    )
    try:
        estate.first_start_on_v1()
        with running(estate.cfg) as (gw, service):
            wait_listening(service)
            site = Site(gw, service, estate.central, estate.watch)

            def session_lost_requests() -> list[str]:
                reasons = [json.loads(p)["reason"] for (p,) in site.rows(_REQUESTS)]
                return [r for r in reasons if r.startswith("session lost")]

            # The connect finds no session (none is kept once offline): a snapshot is asked for, and in.
            wait_for("a snapshot asked for as the session was lost", session_lost_requests)
            for part in encode_snapshot(2, register_v2(), 4):
                estate.central.publish("sync/snapshot", part)
            site.wait_applied(2)
            assert service.status()["directory"]["need_snapshot"] is False
            # The link drops and comes back (the broker restarted): the session is lost again.
            estate.centre_down()
            estate.broker.stop()
            estate.broker.start()
            estate.centre_up()
            wait_for(
                "the reconnect's lost session taken in",
                lambda: service.status()["directory"]["need_snapshot"],
                timeout=60,
            )
            # A request of the operator's, queued after it: every request before it is written.
            service.directory.resync("marker")
            wait_for(
                "the marker's request written",
                lambda: [r for (r,) in site.rows(_REQUESTS) if json.loads(r)["reason"] == "marker"],
            )
            assert len(session_lost_requests()) == 1, session_lost_requests()
    finally:
        estate.centre_down()


def test_a_session_lost_within_the_resync_interval_leaves_the_snapshot_owed() -> None:
    versions = Versions(5, gap_wait=30.0, resync_interval=300.0)
    assert versions.session_lost("session lost", 100.0) == [Request("session lost")]
    versions.snapshot_done(6, 110.0)
    assert not versions.need_snapshot
    # Lost again a minute later: owed, not asked for again now, nor on the next ticks.
    assert isinstance(versions.session_lost("session lost", 160.0)[0], Ignore)
    assert versions.need_snapshot
    assert versions.tick(200.0) == []
    assert isinstance(versions.session_lost("session lost", 250.0)[0], Ignore)
    # The interval over, asked for once.
    assert versions.tick(400.0) == [Request("still waiting for a snapshot")]
    versions.snapshot_done(7, 410.0)
    # A session lost after a whole interval without a request is asked for at once, as the first.
    assert versions.session_lost("session lost", 800.0) == [Request("session lost")]
