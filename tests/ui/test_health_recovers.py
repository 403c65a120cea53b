"""A month without a restart: one passing fault must not leave /api/health degraded for ever."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gateway.core import Presented
from tests.ui.conftest import CARD, Site, fill_the_disk, free_the_disk


def test_health_is_ok_again_once_the_disk_has_room(client: TestClient, site: Site) -> None:
    """The disk filled for a moment and one card was refused storage_failed; the installer freed
    space as the log says. The monitoring that polls /api/health saw "degraded" for the rest of
    the month, so a later real fault looked the same as this old one."""
    gw = site.gw

    def tap() -> str:
        return (
            gw.on_worker(lambda c: gw.handle(Presented("door", "card", CARD, 1.0, gw.now(), "door-reader")))
            .result(10)
            .reason
        )

    assert client.get("/api/health").json()["status"] == "ok"
    fill_the_disk(site)
    assert tap() == "storage_failed"
    assert client.get("/api/health").json()["status"] == "degraded"  # true while the disk is full
    free_the_disk(site)
    assert tap() != "storage_failed"
    health = client.get("/api/health").json()
    assert health["status"] == "ok", health
    assert health["storage_failures"] == 1, "the count since the start still tells it happened"
