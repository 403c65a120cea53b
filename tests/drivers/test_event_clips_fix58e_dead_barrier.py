"""Review 58e: a barrier whose controller lost power: every pulse its relay takes is followed by
"barrier_no_response" (道闸未抬起). The alarm is open already, so the store raises nothing new
(INSERT OR IGNORE: one alarm per kind and source), but Gateway._barrier_alarm cuts a clip for every
raise handed over, each named by a time no alarm row has: footage no page lists (the alarm links
only the first), each one encoded on the Pi (6-8 s of a core) and taking a place in the writer's
queue of 8, from which the clips of real alarms are then dropped."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from fastapi.testclient import TestClient
from gpiozero.pins.mock import MockFactory

from gateway.api.app import create_app
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_account
from tests.drivers.conftest import open_alarms, start_gateway, wait_for
from tests.drivers.mjpeg_feed import FeedCamera
from tests.drivers.test_contact_flap_fix48 import GPIO_IO
from tests.drivers.test_event_clips_gateway import camera
from tests.ui.conftest import GUARD, log_in, password_hash


def test_each_clip_of_a_dead_barrier_is_on_the_alarm_list(
    tmp_path: Path, mock_pins: MockFactory, gateways: Callable[[Gateway], Gateway]
) -> None:
    feed = FeedCamera()
    try:
        io = GPIO_IO + "rise_within_s = 1.0\n"
        gw = gateways(start_gateway(tmp_path, io + camera(feed.url)))
        wait_for(lambda: all(h.online for h in gw.devices.health), "the barrier contact and camera online")
        guard = password_hash(GUARD[1])
        gw.on_worker(
            lambda c: create_account(c, gw.now(), "test", GUARD[0], "张师傅", "guard", guard)
        ).result(10)
        with TestClient(create_app(gw)) as client:
            headers = log_in(client, GUARD)
            time.sleep(2.0)  # the camera has kept its seconds
            for plate in ("苏E10001", "苏E10002", "苏E10003"):  # cars at the entry: the arm never rises
                car = Presented("car-in", "plate", plate, 0.99, gw.now(), "car-in-camera")
                assert gw.on_worker(partial(lambda p, c: gw.handle(p), car)).result(10).admitted
                wait_for(lambda: open_alarms(gw, "barrier_no_response") == ["car-in"], "道闸未抬起")
                time.sleep(2.5)
            gw.clips.writer.flush()
            time.sleep(5)
            gw.clips.writer.flush()
            alarms = client.get("/api/alarms", headers=headers).json()
            linked = {c["file"] for a in alarms if a["kind"] == "barrier_no_response" for c in a["clips"]}
            on_disk = {
                p.relative_to(gw.data_dir).as_posix()
                for p in (gw.data_dir / "snapshots").rglob("*-clip-barrier_no_response-*.webm")
            }
            rows = gw.conn.execute(
                "SELECT count(*) FROM alarms WHERE kind = 'barrier_no_response'"
            ).fetchone()[0]
            assert on_disk <= linked, (
                f"{rows} 道闸未抬起 alarm(s), {len(on_disk)} clips of it on the disk, {len(linked)} linked: "
                f"unlisted {sorted(on_disk - linked)}"
            )
    finally:
        feed.close()
