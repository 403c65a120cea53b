"""A vehicle lane with a real camera stream and the shipped plate model: read, matched, decided once."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from gateway.config import parse_config
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from plates.synth.scene import render_scene
from plates.synth.texts import PlateSpec
from tests.conftest import site_toml, write_csv

PLATE = "皖A7K258"


def registered_site(tmp_path: Path, camera: str = "", plate_match: str = "exact") -> Gateway:
    text = (
        site_toml(tmp_path / "data").replace(
            'zone = "main"\n', f'zone = "main"\nplate_match = "{plate_match}"\n', 1
        )
        + camera
    )
    cfg = parse_config(text, "site.toml")
    import_csv(
        cfg,
        [
            write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\nR2,5栋,1单元,李四\n"),
            write_csv(
                tmp_path / "v.csv", f"plate,resident_ref\n{PLATE},R1\n皖B12Z45,R2\n皖C1D345,R2\n皖C1Q345,R2\n"
            ),
            write_csv(tmp_path / "s.csv", f"zone,number,resident_ref,plates\nmain,B001,R1,{PLATE}\n"),
        ],
    )
    return Gateway(cfg)


def test_a_passing_car_is_read_from_the_stream_and_opens_the_barrier_once(tmp_path: Path) -> None:
    spec = PlateSpec(PLATE, "blue", 1, "standard")
    frame, _, _, (x, y, w, h) = render_scene(random.Random(2), 1280, 720, spec=spec, plate_w=160)
    road = np.full_like(frame, 90)
    video = tmp_path / "lane.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 25.0, (1280, 720))
    for image in [road] * 10 + [frame] * 50 + [road] * 40:  # the car passes once in four seconds
        writer.write(image)
    writer.release()
    roi = [[x - w, y - 2 * h], [x + 2 * w, y - 2 * h], [x + 2 * w, y + 3 * h], [x - w, y + 3 * h]]
    camera = f"""
[[devices]]
id = "car-in-camera"
lane = "car-in"
kind = "camera"
driver = "opencv"
url = "{video}"
roi = {roi}
"""
    gw = registered_site(tmp_path, camera)
    gw.start()
    try:
        deadline = time.monotonic() + 30
        while not _rows(gw) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(4)  # the rest of the clip, and its replay: still the same car
    finally:
        gw.stop()
    rows = _rows(gw)
    assert [(r[0], r[1]) for r in rows] == [(PLATE, "resident")]
    snapshot = gw.data_dir / rows[0][2]
    image = cv2.imread(str(snapshot))
    assert image is not None and image.shape == (720, 1280, 3)
    marked = image[max(y - 8, 0) : y + h + 8, max(x - 8, 0) : x + w + 8]
    reds = (marked[..., 2] > 180) & (marked[..., 1] < 80) & (marked[..., 0] < 80)
    assert reds.sum() > 2 * (w + h)  # the plate's box is drawn on the stored picture


def _rows(gw: Gateway) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(gw.db_path)
    try:
        return conn.execute("SELECT value, reason, snapshot FROM access_log WHERE kind = 'plate'").fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("policy", "read", "expected"),
    [
        ("exact", "皖A7K25B", ("temporary", PLATE + "?")),  # no fuzzy matching unless the lane allows it
        ("confusable", "皖A7K25B", ("resident", PLATE)),  # B for 8: one look-alike away from one plate
        ("confusable", "皖A7K259", ("temporary", None)),  # 9 is no look-alike of 8
        ("confusable", "皖B12S45", ("temporary", None)),  # S->5 gives 皖B12545: not registered
        ("confusable", "皖B122Z5", ("temporary", None)),  # nothing near
        ("confusable", "皖B12Z45", ("no_slot", "皖B12Z45")),  # exact always wins (a car with no slot)
    ],
)
def test_lookalike_plates_match_only_where_the_lane_allows_and_only_one_plate_is_that_close(
    tmp_path: Path, policy: str, read: str, expected: tuple[str, str | None]
) -> None:
    gw = registered_site(tmp_path, plate_match=policy)
    ev = gw.handle(Presented("car-in", "plate", read, 0.9, gw.now(), "cam"))
    reason, plate = expected
    assert ev.reason == reason
    assert ev.plate == (plate if plate and not plate.endswith("?") else read)
    assert ("lookalike" in ev.flags) == (plate is not None and ev.plate != read)
    gw.conn.close()


def test_a_reading_equally_close_to_two_registered_plates_matches_neither(tmp_path: Path) -> None:
    gw = registered_site(tmp_path, plate_match="confusable")
    ev = gw.handle(Presented("car-in", "plate", "皖C10345", 0.9, gw.now(), "cam"))  # 0 for D or Q?
    assert ev.reason == "temporary" and ev.plate == "皖C10345" and "lookalike" not in ev.flags
    gw.conn.close()
