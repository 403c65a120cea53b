"""Snapshot parts and deltas the broker has handed over are not lost by a stop or a restart:
kept on disk on arrival, taken up again when the gateway starts."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime

from conftest import SITE, running
from sync_helpers import Central, Mosquitto, wait_for
from test_sync_downlink import TZ, card, directory_v1

from gateway.config import SiteConfig
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.sync.inbox import INBOX_NAME
from gateway.sync.messages import encode_delta, encode_snapshot
from gateway.sync.service import SyncService


def card_reason(gw: Gateway, number: str) -> str:
    p = Presented("door", "card", number, 1.0, datetime.now(TZ), "test")
    return gw.on_worker(lambda conn: gw.handle(p)).result(timeout=10).reason


def kept_deltas(gw: Gateway) -> int:
    with sqlite3.connect(f"file:{gw.data_dir / INBOX_NAME}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM inbox WHERE kind = 'delta'").fetchone()[0])


def test_a_delta_waiting_behind_a_snapshot_is_applied_after_a_restart(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    cfg = sync_cfg(broker.port)
    central = Central(broker, SITE)
    release = threading.Event()
    try:
        gw = Gateway(cfg)
        service = SyncService(gw)
        gw.start()
        service.start()
        try:
            wait_for("the link", lambda: service.link.state == "connected")
            # The decision worker held: the snapshot stops at its first step, the delta that
            # follows waits behind it, acknowledged to the broker.
            gw.on_worker(lambda conn: release.wait(30))
            for part in encode_snapshot(1, directory_v1(), 4):
                central.publish("sync/snapshot", part)
            central.publish("sync/delta", encode_delta(2, 1, [card("C0009", "R1")], []))
            wait_for("snapshot 1 being applied", lambda: service.directory.status()["applying"])
            wait_for("delta 2 received", lambda: kept_deltas(gw) == 1)
            service.directory.stop(timeout=0)  # the stop (systemctl restart) comes first
        finally:
            release.set()
            service.stop()
            gw.stop()
        with running(cfg) as (gw2, service2):
            wait_for("delta 2 applied", lambda: service2.directory.versions.applied == 2)
            reason = card_reason(gw2, "C0009")
    finally:
        central.close()
    assert reason == "resident"


def test_a_delta_held_for_the_one_before_it_survives_a_restart(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    cfg = sync_cfg(broker.port, gap_wait_s=3600)  # the gap is not given up on here
    central = Central(broker, SITE)
    try:
        with running(cfg) as (gw, service):
            wait_for("the link", lambda: service.link.state == "connected")
            for part in encode_snapshot(1, directory_v1(), 4):
                central.publish("sync/snapshot", part)
            wait_for("snapshot 1 applied", lambda: service.directory.versions.applied == 1)
            central.publish("sync/delta", encode_delta(3, 2, [card("C0033", "R3")], []))
            wait_for("delta 3 held", lambda: service.directory.status()["held_deltas"] == 1)
        with running(cfg) as (gw2, service2):
            wait_for("the link", lambda: service2.link.state == "connected")
            central.publish("sync/delta", encode_delta(2, 1, [card("C0022", "R2")], []))
            wait_for("delta 3 applied", lambda: service2.directory.versions.applied == 3)
            reasons = [card_reason(gw2, "C0022"), card_reason(gw2, "C0033")]
            wait_for("both deltas off the disk, done with", lambda: kept_deltas(gw2) == 0)
    finally:
        central.close()
    assert reasons == ["resident", "resident"]
