"""The plate snapshot on the guard's live panel, in a real Chromium: the event is pushed as soon as
it is decided, while its JPEG is still being written in the background (drivers/cameras/snapshots.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

import gateway.api.lanes as lanes_api
from drivers.cameras.frame import Frame
from drivers.cameras.snapshots import SnapshotWriter
from gateway.core import Presented
from tests.ui.conftest import PLATE, Site, bearer, make_config, served
from tests.ui.test_guard_browser import PORTRAIT, browser, page_at  # noqa: F401
from tests.ui.test_guard_browser import pytestmark as needs_chromium


@pytest.fixture
def live_site(tmp_path: Path) -> Iterator[tuple[Site, str]]:
    with served(make_config(tmp_path / "data")) as served_site:
        yield served_site


def _frame(seed: int) -> Frame:
    """A camera's 1080p frame (noise: a busy street scene encodes about as slowly)."""
    image = np.random.default_rng(seed).integers(0, 255, (1080, 1920, 3), dtype=np.uint8)
    return Frame(image, seed, time.monotonic(), time.time())


@needs_chromium
def test_the_live_panel_shows_the_snapshot_of_the_car_just_read_not_a_broken_image(
    live_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """Other lanes' events a moment before (the writer is one thread for every camera): this
    car's panel on the guard's tablet is pushed before its JPEG is on disk, the browser asks for
    it at once, gets 404 'no such snapshot / snapshots are kept for a week', and keeps a broken
    image there for good, though the file is written a fraction of a second later. The guard
    should see the car's picture (the page asking again, or the server waiting for a snapshot it
    is still writing)."""
    site, url = live_site
    gw = site.gw
    page = page_at(browser, url, PORTRAIT)
    ahead, ours = [_frame(k) for k in range(7)], _frame(99)
    # The gateway's writer for cameras with snapshots (the simulated camera here has no frames).
    gw.snapshots = writer = SnapshotWriter(gw.data_dir)
    try:
        for frame in ahead:  # the other lanes' cars, a moment before (the writer holds up to 8)
            assert writer.submit(frame, "car-out-camera", 85) is not None
        name = writer.submit(ours, "car-in-camera", 85)
        assert name is not None
        gw.on_worker(
            lambda c: gw.handle(Presented("car-in", "plate", PLATE, 0.99, gw.now(), "car-in-camera", name))
        ).result(10)
        img = page.wait_for_selector("#lane-car-in [data-latest] img")
        writer.flush()
        assert (gw.data_dir / name).is_file()  # the JPEG is on disk now
        time.sleep(1.0)  # time for any retry the page would make
        loaded = img.evaluate("(i) => i.complete && i.naturalWidth > 0")
    finally:
        gw.snapshots = None
        writer.close()
    assert loaded, "the live panel shows a broken image for the car just read"


def test_a_snapshot_still_being_written_is_served_once_written(client: TestClient, site: Site) -> None:
    """The same, as the API answers it: asked for while the writer still has it queued, the
    snapshot comes once written, not a 404."""
    gw = site.gw
    gw.snapshots = writer = SnapshotWriter(gw.data_dir)
    try:
        for frame in [_frame(k) for k in range(7)]:
            assert writer.submit(frame, "car-out-camera", 85) is not None
        name = writer.submit(_frame(99), "car-in-camera", 85)
        assert name is not None and not (gw.data_dir / name).is_file()
        image = client.get("/api/" + name, headers=bearer(site.guard_token))
    finally:
        gw.snapshots = None
        writer.close()
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"  # the whole JPEG
    assert image.content == (gw.data_dir / name).read_bytes()


class _CountingSleeps:
    """The route's asyncio, its sleeps (each a wait for the writer) noted in `waits`."""

    def __init__(self, waits: list[float]) -> None:
        self._waits = waits

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, seconds: float) -> None:
        self._waits.append(seconds)
        await asyncio.sleep(seconds)


def test_a_snapshot_the_writer_does_not_have_answers_404_at_once(
    client: TestClient, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiting is only for a snapshot still being written: a name the writer does not have and
    the disk does not hold is answered at once, as before."""
    gw = site.gw
    waits: list[float] = []
    monkeypatch.setattr(lanes_api, "asyncio", _CountingSleeps(waits))
    gw.snapshots = writer = SnapshotWriter(gw.data_dir)
    try:
        for frame in [_frame(k) for k in range(4)]:  # the writer busy with others
            assert writer.submit(frame, "car-out-camera", 85) is not None
        gone = "/api/snapshots/2024-05-01/080000-000000-car-in-camera-1.jpg"
        answer = client.get(gone, headers=bearer(site.guard_token))
    finally:
        gw.snapshots = None
        writer.close()
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "no such snapshot", answer.json()
    # Answered at once: the route never slept on the writer (checked so, not by timing the answer).
    assert waits == [], f"the route waited {len(waits)} times for a snapshot the writer does not have"


@needs_chromium
def test_a_snapshot_written_after_the_servers_wait_is_still_shown_on_the_live_panel(
    live_site: tuple[Site, str],
    browser: object,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A slow SD card: the car's JPEG is still queued behind other lanes' when the server's wait
    for it runs out (404 'still being written'). The page asks again and shows the car's picture
    rather than a broken image."""
    monkeypatch.setattr(lanes_api, "SNAPSHOT_WAIT_S", 0.0)  # the wait over before the JPEG lands
    site, url = live_site
    gw = site.gw
    page = page_at(browser, url, PORTRAIT)
    gw.snapshots = writer = SnapshotWriter(gw.data_dir)
    try:
        for frame in [_frame(k) for k in range(7)]:
            assert writer.submit(frame, "car-out-camera", 85) is not None
        name = writer.submit(_frame(99), "car-in-camera", 85)
        assert name is not None
        gw.on_worker(
            lambda c: gw.handle(Presented("car-in", "plate", PLATE, 0.99, gw.now(), "car-in-camera", name))
        ).result(10)
        page.wait_for_selector("#lane-car-in [data-latest] img")
        page.wait_for_function(
            "() => { const i = document.querySelector('#lane-car-in [data-latest] img');"
            " return i && i.complete && i.naturalWidth > 0; }",
            timeout=8000,
        )
    finally:
        gw.snapshots = None
        writer.close()
