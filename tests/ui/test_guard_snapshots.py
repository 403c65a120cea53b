"""The snapshot a camera stores with a plate event opens from the guard's page."""

from __future__ import annotations

import time

import numpy as np
from fastapi.testclient import TestClient

from drivers.cameras.frame import Frame
from drivers.cameras.snapshots import SnapshotWriter
from gateway.api.views import from_event
from gateway.core import Presented
from tests.ui.conftest import PLATE, Site, bearer


def test_the_snapshot_stored_with_a_plate_event_opens_from_the_guard_page(
    client: TestClient, site: Site
) -> None:
    gw = site.gw
    writer = SnapshotWriter(gw.data_dir)  # the writer the gateway keeps for cameras with snapshots
    try:
        frame = Frame(np.full((72, 128, 3), 100, np.uint8), 1, time.monotonic(), time.time())
        name = writer.submit(frame, "car-in-camera", 85)  # the name the access log keeps
        writer.flush()
    finally:
        writer.close()
    assert name is not None
    live = gw.on_worker(
        lambda c: gw.handle(Presented("car-in", "plate", PLATE, 0.99, gw.now(), "car-in-camera", name))
    ).result(10)
    guard = bearer(site.guard_token)
    [logged] = [e for e in client.get("/api/live/recent", headers=guard).json() if e["kind"] == "plate"]
    assert logged["snapshot"] is not None
    assert from_event(gw, live)["snapshot"] == logged["snapshot"]  # the live push links the same
    image = client.get(logged["snapshot"], headers=guard)
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"  # the JPEG itself
