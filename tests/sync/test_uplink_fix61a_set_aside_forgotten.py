"""Review 61a: a record set aside because the broker closed the connection each time it was sent
left its count of sends in the uplink for good (one entry a record, never pruned on a box that runs
for a year); the other ways a record settles forget it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway
from gateway.store.outbox import enqueue
from gateway.sync import link
from gateway.sync.uplink import POISON_LIMIT
from tests.sync.test_link_fix50_cut_off_publish_blamed import ClosedOverIt


def test_a_record_set_aside_after_closing_the_connection_leaves_no_count_behind(
    sync_cfg: Callable[..., SiteConfig],
) -> None:
    gw = Gateway(sync_cfg(1883))  # not started: the link is driven by hand
    try:
        enqueue(gw.conn, "test", {"pad": "x" * 5000}, gw.now())
        sync = link.SyncLink(gw)
        sync.outbox.reader = sqlite3.connect(f"file:{gw.db_path}?mode=ro", uri=True)
        up = sync.outbox.uplink
        for _ in range(POISON_LIMIT):
            up.start_session(100, None)
            sync.outbox.publish_window(ClosedOverIt())  # type: ignore[arg-type]
            last = up.end_session()
        sync.outbox.reader.close()
    finally:
        gw.conn.close()
    assert last is not None and last.poison is not None  # set aside
    assert up._attempts == {}, "the record set aside is still counted"
