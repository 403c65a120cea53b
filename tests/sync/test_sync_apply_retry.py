"""A delta the store cannot take for a while (a full disk, the database locked by another writer
past the busy timeout) is tried again, never dropped: docs/mqtt.md, "Nothing received is lost"."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sync_helpers import Mosquitto, wait_for
from test_sync_downlink import _site, card, directory_v1
from test_sync_inbox import kept_deltas
from test_sync_rollforward import FullDisk

from gateway.config import SiteConfig


def test_a_delta_that_fails_to_apply_is_tried_again_and_kept_across_a_restart(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = sync_cfg(broker.port, gap_wait_s=3600)
    full = threading.Event()
    with _site(broker, cfg) as site:
        site.snapshot(1, directory_v1())
        site.wait_applied(1)
        disk = FullDisk(monkeypatch, after=1, failing=full.is_set)
        full.set()
        site.delta(2, 1, upsert=[card("C0001", "R1", blocked=True)])  # R1 reports the card lost
        wait_for("the delta's first try", lambda: disk.failures >= 1)
        full.clear()  # room is made: the next try takes it
        site.wait_applied(2)
        assert site.card_reason("C0001") == "blocked"

        full.set()
        site.delta(3, 2, upsert=[card("C0002", "R2", blocked=True)])
        wait_for("the delta tried again", lambda: disk.failures >= 3)
    assert kept_deltas(site.gw) == 1  # stopped (an update) while it still failed: kept for the next run

    full.clear()
    with _site(broker, cfg) as again:
        again.wait_applied(3)
        assert again.card_reason("C0002") == "blocked"
        assert wait_for("the inbox emptied", lambda: kept_deltas(again.gw) == 0)
        assert again.upstream("/sync/error") == []
    assert site.asked() == [] and site.upstream("/sync/error") == []
