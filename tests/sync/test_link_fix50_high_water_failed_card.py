"""The SD card fails in service (README, *A failing SD card*): records already queued keep going up
to the centre, and before each goes up the link writes outbox-stream.json on the card."""

from __future__ import annotations

import logging
import queue
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.core import Presented
from gateway.store.database import open_read_only
from gateway.sync.link_outbox import LinkOutbox
from gateway.sync.topics import Topics
from tests.sdcard import Card, site_on_card
from tests.ui.conftest import CARD, Site


@pytest.fixture
def on_card(tmp_path: Path) -> Iterator[tuple[Site, Card]]:
    with site_on_card(tmp_path / "data") as both:
        yield both


def test_link_on_a_failed_card_does_not_tell_the_installer_to_free_disk_space(
    on_card: tuple[Site, Card], caplog: pytest.LogCaptureFixture
) -> None:
    """A card the kernel took off writes, records still queued for the centre: the link's ERROR
    line about outbox-stream.json said "fix: give the data directory ... to the gateway's user, free
    disk space". README promises the journal then says the data disk takes no writes (see dmesg;
    replace or repair the card), not to free disk space, which only a full disk needs."""
    site, card = on_card
    gw = site.gw
    seen = Presented("door", "card", CARD, 1.0, gw.now(), "door-reader")
    gw.on_worker(lambda c: gw.handle(seen)).result(10)  # a record queued for the centre
    outbox = LinkOutbox(gw, Topics("estate", "test-site"), queue.Queue())
    outbox.reader = open_read_only(gw.db_path, 10)
    try:
        rows = outbox._fetch(0, 100)  # what the link reads before it publishes
        assert rows, "no record queued upstream"
        card.fail()
        with caplog.at_level(logging.DEBUG, logger="gateway.sync.link_outbox"):
            outbox._vouch(rows[-1][0])  # before the record goes up
    finally:
        outbox.reader.close()
    [line] = [r.getMessage() for r in caplog.records if "outbox-stream.json" in r.getMessage()]
    assert "free disk space" not in line and "takes no writes" in line, line
