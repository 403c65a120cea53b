"""Review 66 G: while the link to the centre was down and a snapshot was owed (a new box's empty
register, a gap, a session lost), the gateway queued another sync_request every resync_interval_s:
after a day offline hundreds of identical requests waited in the outbox, all sent at once when the
link came back, and the centre answered each with a full snapshot. One unsent request waits; the
next is asked only once that one has gone up (the centre never answered it)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from contextlib import closing

import pytest
from conftest import running
from sync_helpers import Mosquitto, Subscriber, wait_for

from gateway.config import SiteConfig

_ASKING = "asking the central server for a snapshot"


def _requests(db: object, where: str = "1") -> int:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as c:
        return int(
            c.execute(f"SELECT count(*) FROM outbox WHERE topic = 'sync_request' AND {where}").fetchone()[0]
        )


def test_an_offline_gateway_keeps_one_snapshot_request_and_the_centre_gets_one(
    brokers: Callable[..., Mosquitto],
    sync_cfg: Callable[..., SiteConfig],
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = brokers()  # its port: nothing listens there until it starts
    cfg = sync_cfg(broker.port, gap_wait_s=0.05, resync_interval_s=0.05)
    with caplog.at_level(logging.DEBUG, logger="gateway.sync.directory"), running(cfg) as (gw, service):
        # The new box's request for its empty register, then the tick asking again, interval after
        # interval, while the link is down.
        wait_for(
            "five intervals of asking offline",
            lambda: sum(r.getMessage().startswith(_ASKING) for r in caplog.records) >= 5,
        )
        wait_for("the worker's writes", lambda: gw.on_worker(lambda c: True).result(10))
        assert service.link.state != "connected"
        assert _requests(gw.db_path) == 1, "the outbox piles up a sync_request each interval"
        # From here the centre never gets to answer within the interval: what it gets on the
        # reconnect is what the outbox held.
        service.directory.versions.resync_interval = 3600.0
        broker.start()
        central = Subscriber(broker, ["estate/+/sync/request"], client_id="central")
        try:
            wait_for("the request sent", lambda: _requests(gw.db_path, "sent_at IS NULL") == 0)
            wait_for("the request at the centre", lambda: central.payloads("/sync/request"))
            got = central.payloads("/sync/request")
        finally:
            central.client.disconnect()
            central.client.loop_stop()
    assert len(got) == 1 and str(got[0]["reason"]).startswith("the register is empty"), got
