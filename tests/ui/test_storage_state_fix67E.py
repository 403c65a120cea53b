"""Storage that takes no writes is told before a decision fails on it (Review 67 E1): a card gone
read-only at night was `ok` on /api/health, in the centre's health report and on the live page
while every write but a decision's failed, the operations step's failure a bare traceback in the
journal; after a decision, only a count. Every write the gateway makes anyway tells the storage
state now (no write is added to find out: an SD card wears with each), with the cause and fix."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.store.audit import audit, transaction
from gateway.sync.health import health_report
from tests.sdcard import site_on_card
from tests.ui.conftest import GUARD, Site, fill_the_disk, free_the_disk, log_in


def test_a_card_gone_read_only_is_told_without_a_decision(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with site_on_card(tmp_path / "data") as (site, card):
        gw = site.gw
        client = TestClient(create_app(gw))
        assert client.get("/api/health").json()["storage"] == {"state": "ok", "fix": None}
        card.fail()
        caplog.set_level(logging.INFO, logger="gateway.parking.operations")
        gw.operations.tick(gw.now())  # its next look: the heartbeat and the steps write

        health = client.get("/api/health").json()
        assert health["status"] == "degraded" and health["storage_failures"] == 0
        assert health["storage"]["state"] == "unwritable" and "replace or repair" in health["storage"]["fix"]
        centre = health_report(gw, {}, 0, "x", gw.now())
        assert centre["storage"] == health["storage"]
        # The operations step's line: the card's failure and its fix, not a traceback.
        said = [
            r for r in caplog.records if r.name == "gateway.parking.operations" and r.levelno >= logging.ERROR
        ]
        assert said and all(
            r.exc_info is None and "failed (will retry every 30 s): storage refused it" in r.getMessage()
            for r in said
        )
        assert all("replace or repair the card" in r.getMessage() for r in said)
        # The live page's banner: the status it is drawn from, and its words.
        log_in(client, GUARD)
        page = client.get("/").text
        assert 'id="storage-state"' in page
        found = re.search(r'<script type="application/json" id="boot">(.*?)</script>', page, re.S)
        assert found is not None
        boot = json.loads(found[1])
        assert boot["status"]["storage"] == "unwritable" and "live.storage.unwritable" in boot["texts"]


def test_a_full_disk_is_told_by_any_write_and_cleared_by_the_next_that_gets_through(site: Site) -> None:
    gw = site.gw

    def a_write(conn):  # type: ignore[no-untyped-def]
        with transaction(conn):
            audit(conn, gw.now(), "test", "test.write", "x")

    fill_the_disk(site)
    with pytest.raises(Exception, match="full"):
        gw.on_worker(a_write).result(10)
    assert gw.storage.report()["state"] == "full" and gw.storage_failing
    assert "free disk space" in gw.storage.report()["fix"]
    free_the_disk(site)
    gw.on_worker(a_write).result(10)
    assert gw.storage.report() == {"state": "ok", "fix": None} and not gw.storage_failing
