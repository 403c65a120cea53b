"""A plate reading older than the week snapshots are kept (retention.snapshots_days) is still in
the plate log (access records are kept 180 days): its snapshot, deleted by retention, must not
leave a broken picture behind. Nor must one the writer could not save (a full disk)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from drivers.cameras.frame import Frame
from drivers.cameras.snapshots import SnapshotWriter
from drivers.health import DeviceHealth
from gateway.api.app import create_app
from gateway.core import Presented
from tests.ui.conftest import GUARD, PLATE, Site, log_in, make_config, start_site


def _snapshot(gw_data: Path, wall: float) -> str:
    writer = SnapshotWriter(gw_data)
    try:
        frame = Frame(np.full((72, 128, 3), 100, np.uint8), 1, time.monotonic(), wall)
        name = writer.submit(frame, "car-in-camera", 85)
        writer.flush()
    finally:
        writer.close()
    assert name is not None
    return name


def _read(site: Site, name: str | None, days_ago: float = 0) -> None:
    gw = site.gw
    at = gw.now() - timedelta(days=days_ago)
    gw.on_worker(
        lambda c: gw.handle(Presented("car-in", "plate", PLATE, 0.99, at, "car-in-camera", name))
    ).result(10)


def _broken_pictures(client: TestClient, text: str) -> list[str]:
    pictures = re.findall(r'<img[^>]*src="(/api/snapshots/[^"]+)"', text)
    return [src for src in pictures if client.get(src).status_code != 200]


def test_the_plate_log_shows_no_broken_picture_for_a_reading_whose_snapshot_retention_deleted(
    client: TestClient, site: Site
) -> None:
    """Eight days ago a car was read at car-in, with its snapshot. Retention has deleted the
    snapshot (kept 7 days), as it should; the access record stays. The office opens 车牌记录 to
    check last week's readings: the row still carries <img src="/api/snapshots/..."> and a link
    to it, which answer 404, so the guard sees a broken image (and, tapping it, a JSON error in
    English). The row should say the snapshot is no longer kept (or show no picture), not link
    to a file that is gone."""
    gw = site.gw
    eight_days_ago = time.time() - 8 * 86400
    name = _snapshot(gw.data_dir, eight_days_ago)
    os.utime(gw.data_dir / name, (eight_days_ago, eight_days_ago))  # written then
    _read(site, name, days_ago=8)
    gw.operations.retention(gw.now())  # the hourly retention pass
    assert not (gw.data_dir / name).exists()  # the week is over: the snapshot is gone

    log_in(client, GUARD)
    page = client.get("/plates")
    assert page.status_code == 200
    assert PLATE in page.text  # the reading is listed, as it should be
    assert not _broken_pictures(client, page.text), "the plate log shows broken snapshots"
    assert "抓拍已过期/未保存" in page.text  # the row says why there is no picture


def test_a_snapshot_that_could_not_be_saved_shows_no_broken_picture_and_a_fresh_one_shows(
    client: TestClient, site: Site
) -> None:
    """A full disk: the snapshot's name went into the access record, but its JPEG was never
    written. The plate log says so rather than showing a broken picture; a reading whose
    snapshot is on the disk keeps its picture."""
    gw = site.gw
    _read(site, "snapshots/2024-05-01/080000-000000-car-in-camera-1.jpg")  # never written
    kept = _snapshot(gw.data_dir, time.time())
    _read(site, kept)

    log_in(client, GUARD)
    page = client.get("/plates")
    assert page.status_code == 200
    assert not _broken_pictures(client, page.text)
    assert len(re.findall(r'<img[^>]*src="/api/snapshots/', page.text)) == 1  # the one kept
    assert "抓拍已过期/未保存" in page.text


@pytest.fixture
def short_retention_client(tmp_path: Path) -> Iterator[TestClient]:
    site = start_site(make_config(tmp_path / "data", "\n[retention]\nsnapshots_days = 3\n"))
    try:
        with TestClient(create_app(site.gw)) as client:
            yield client
    finally:
        site.gw.stop()


def test_a_snapshot_that_is_gone_answers_with_the_retention_the_site_configured(
    short_retention_client: TestClient,
) -> None:
    """A link kept from before (a bookmark, an old tab) to a snapshot that is gone: the answer
    names how long this site keeps snapshots, not a week whatever the config says."""
    log_in(short_retention_client, GUARD)
    gone = short_retention_client.get("/api/snapshots/2024-05-01/080000-000000-car-in-camera-1.jpg")
    assert gone.status_code == 404
    assert "3 days" in gone.json()["error"]["fix"]
    assert "week" not in gone.text


def test_a_camera_whose_snapshots_cannot_be_saved_says_so_on_its_health(tmp_path: Path) -> None:
    """The snapshots folder cannot be made (a file is in the way): the access records
    keep naming snapshots that are never written. The camera's health (/api/health, where an
    installer looks) says its footage is not being kept, and stops saying so once a snapshot is
    saved again."""
    camera = DeviceHealth(device="car-in-camera", kind="camera", lane="car-in", driver="opencv")
    camera.set_online()
    (tmp_path / "snapshots").write_text("not a folder")  # mkdir fails, as on a full disk
    writer = SnapshotWriter(tmp_path, health_of={"car-in-camera": camera}.get)
    try:
        frame = Frame(np.full((72, 128, 3), 100, np.uint8), 1, time.monotonic(), time.time())
        assert writer.submit(frame, "car-in-camera", 85) is not None
        writer.flush()
        assert camera.online  # the camera itself still reads plates
        assert camera.counters["snapshots_failed"] == 1
        assert camera.last_error.startswith("snapshots not saved (1 since start)")
        assert f"fix: check the data directory {tmp_path}" in camera.last_error  # not a full disk

        (tmp_path / "snapshots").unlink()  # taken out of the way
        assert writer.submit(frame, "car-in-camera", 85) is not None
        writer.flush()
        assert camera.last_error == ""
    finally:
        writer.close()


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A real, small filesystem (tmpfs) filled to the last byte: what the snapshots disk is when
    full. Mounting one needs root: elsewhere the test is skipped, saying so."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a full disk is a tmpfs mounted for the test: that needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (a container without CAP_SYS_ADMIN?): {done.stderr!r}")
    try:
        fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * 4096)
        finally:
            os.close(fd)
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_plate_log_shows_a_broken_picture_for_a_snapshot_a_full_disk_could_not_save(
    client: TestClient, site: Site, full_disk: Path
) -> None:
    """The data disk is full. A car is read at car-in; its snapshot's name goes into the access
    record, and the writer fails (No space left on device). The office opens 车牌记录: the row
    showed a thumbnail that is a broken picture (the route answered 200 with an empty file), not
    抓拍已过期/未保存 as docs/guard-app.md promises for a snapshot a full disk never saved. The
    writer's failed write_bytes left a zero-length .jpg behind, and snapshot_url only asks
    whether the file exists."""
    gw = site.gw
    snapshots = gw.data_dir / "snapshots"
    if snapshots.exists():
        shutil.rmtree(snapshots)
    snapshots.symlink_to(full_disk)  # the snapshots live on the full disk
    writer = SnapshotWriter(gw.data_dir)
    try:
        image = np.random.default_rng(1).integers(0, 255, (720, 1280, 3), np.uint8)
        frame = Frame(image, 1, time.monotonic(), time.time())
        name = writer.submit(frame, "car-in-camera", 85)
        writer.flush()
    finally:
        writer.close()
    assert name is not None and writer.failed == 1  # No space left on device
    assert not [p.name for p in (gw.data_dir / name).parent.iterdir()]  # nothing half written left
    _read(site, name)

    log_in(client, GUARD)
    page = client.get("/plates")
    assert page.status_code == 200 and PLATE in page.text
    pictures = re.findall(r'<img[^>]*src="(/api/snapshots/[^"]+)"', page.text)
    served = [(src, client.get(src)) for src in pictures]
    broken = [src for src, r in served if r.status_code != 200 or not r.content.startswith(b"\xff\xd8")]
    assert not broken, f"broken pictures in the plate log: {[(s, len(r.content)) for s, r in served]}"
    assert "抓拍已过期/未保存" in page.text
