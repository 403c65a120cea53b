"""A box whose plate recognizer is slower than the camera (a Raspberry Pi with several cameras): the
frame a plate is decided on, and the frame stored with an event, are never older than
`max_frame_age_s` (docs/config.md: "A frame older than this is never read or stored with an event"),
and the camera's health says how far behind the reading is, so an installer sees a box too slow.

The real runtime: a Gateway from a site config, an `opencv` camera on the tests' MJPEG server, the
real PlateReader (lane voter, annotate) with only the recognizer's network replaced by one slow on
purpose, an EM4100 reader on a real pty at the same lane, snapshots on."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivers.readers.frames import em4100_frame
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.runtime.plate_reading import PlateReader
from gateway.store.admin import import_csv
from plates.reading import Reading
from tests.conftest import site_toml, write_csv
from tests.drivers.conftest import MjpegCamera, PtyDevice, wait_for

MAX_AGE = 0.5
PLATE = Reading("皖A12345", "blue", 0.99, (40, 60, 60, 20))


class SlowRecognizer:
    """Where the plate network would be: takes `seconds` per frame, reports `in_view`."""

    def __init__(self) -> None:
        self.in_view: list[Reading] = []
        self.seconds = 1.5  # three times max_frame_age_s
        self.calls = 0

    def read_frame(self, image: np.ndarray, roi: object = None) -> list[Reading]:
        self.calls += 1
        time.sleep(self.seconds)
        return list(self.in_view)


def devices(camera_url: str, reader_port: str) -> str:
    return f"""
[[devices]]
id = "car-in-camera"
lane = "car-in"
kind = "camera"
driver = "opencv"
url = "{camera_url}"
plates = false
max_frame_age_s = {MAX_AGE}
read_mode = "continuous"
read_timeout_s = 2
reconnect_max_s = 0.3

[[devices]]
id = "car-in-reader"
lane = "car-in"
kind = "reader"
driver = "serial-reader"
port = "{reader_port}"
format = "em4100"
reconnect_max_s = 0.2
"""


class Lane:
    """The car lane's gateway, its slow recognizer, the card reader's far end and the camera."""

    def __init__(self, gw: Gateway, recognizer: SlowRecognizer, reader: PtyDevice) -> None:
        self.gw, self.recognizer, self.reader = gw, recognizer, reader

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.gw.on_worker(lambda conn: conn.execute(sql).fetchall()).result(timeout=10)

    def health(self) -> dict[str, Any]:
        return next(h.snapshot() for h in self.gw.devices.health if h.device == "car-in-camera")


@pytest.fixture
def lane(tmp_path: Path, mjpeg_camera: MjpegCamera, pty_device: Callable[[str], PtyDevice]) -> Iterator[Lane]:
    reader = pty_device("ttyUSB-car-in")
    cfg = parse_config(site_toml(tmp_path / "data") + devices(mjpeg_camera.url, reader.path), "site.toml")
    import_csv(
        cfg,
        [
            write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n"),
            write_csv(tmp_path / "c.csv", "card,resident_ref\n0102030405,R1\n"),
            write_csv(tmp_path / "v.csv", "plate,resident_ref\n皖A12345,R1\n"),
        ],
    )
    gw = Gateway(cfg)
    recognizer = SlowRecognizer()
    plate_reader = PlateReader(None, recognizer)  # type: ignore[arg-type]
    camera = gw.devices.lanes["car-in"].cameras[0]
    camera.attach(plate_reader, plate_reader.annotate)  # as gateway/runtime/devices.py does
    gw.devices.lanes["car-in"].plate_readers.append(plate_reader)
    gw.start()
    try:
        wait_for(lambda: camera.latest() is not None and recognizer.calls >= 2, "frames being read")
        wait_for(lambda: all(h.online for h in gw.devices.health if h.kind in ("reader", "camera")), "online")
        yield Lane(gw, recognizer, reader)
    finally:
        gw.stop()


EVENTS = "SELECT at, snapshot FROM access_log ORDER BY rowid"


def stored_age(at: str, snapshot: str) -> float:
    """How old the stored frame was at the event: SnapshotWriter names the JPEG by the frame's `wall`."""
    taken = datetime.strptime(
        f"{Path(snapshot).parent.name} {Path(snapshot).name[:13]}", "%Y-%m-%d %H%M%S-%f"
    )
    return (datetime.fromisoformat(at).astimezone().replace(tzinfo=None) - taken).total_seconds()


def test_a_recognizer_slower_than_max_frame_age_decides_nothing_on_old_frames_and_health_says_so(
    lane: Lane,
) -> None:
    """Each frame takes the recognizer three times max_frame_age_s: the car it shows has moved on by
    the time it is read. Before, the plate was decided on and stored with a frame 1.5 s old while
    health said frame_age_s 0.02; now nothing is decided, and health shows the box is too slow."""
    lane.recognizer.in_view = [PLATE]
    wait_for(lambda: lane.health()["counters"].get("stale_reads", 0) >= 2, "stale readings dropped")
    assert lane.rows("SELECT at, snapshot FROM access_log WHERE kind = 'plate'") == [], (
        "a plate was decided on a frame older than max_frame_age_s"
    )
    health = lane.health()
    assert health["frame_age_s"] is not None and health["frame_age_s"] <= MAX_AGE  # the camera is fine
    assert health["read_age_s"] >= lane.recognizer.seconds, (
        f"health does not say how far behind the reading is: {health}"
    )


def test_a_recognizer_within_max_frame_age_decides_on_and_stores_a_fresh_frame(lane: Lane) -> None:
    lane.recognizer.seconds = 0.1
    lane.recognizer.in_view = [PLATE]
    found = wait_for(
        lambda: lane.rows("SELECT at, snapshot FROM access_log WHERE kind = 'plate'"), "the plate"
    )
    at, snapshot = found[0]
    assert snapshot, "the plate event has no snapshot"
    assert stored_age(at, snapshot) <= MAX_AGE + 0.3
    assert lane.health()["read_age_s"] <= MAX_AGE


def test_a_card_event_at_a_camera_lane_gets_a_fresh_snapshot_not_the_recognizers_old_frame(
    lane: Lane,
) -> None:
    """Nothing in view (the recognizer reads nothing, slowly); cards are swiped at the car lane at
    different points of the recognizer's cycle. The snapshot is "the newest fresh frame"
    (docs/hardware.md): at most max_frame_age_s before the event."""
    ages = []
    for card in ("0102030405", "0102030406", "0102030407"):
        before = len(lane.rows("SELECT 1 FROM access_log"))
        lane.reader.write(em4100_frame(card))
        found = wait_for(lambda n=before: lane.rows(EVENTS)[n:], "the card")
        at, snapshot = found[-1]
        assert snapshot, "the card event has no snapshot"
        ages.append(stored_age(at, snapshot))
        time.sleep(0.6)
    assert max(ages) <= MAX_AGE + 0.3, (
        f"card events stored with frames {[round(a, 2) for a in ages]} s old (max_frame_age_s = {MAX_AGE})"
    )
