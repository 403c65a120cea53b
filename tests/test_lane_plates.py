"""A vehicle lane with a real camera stream and the shipped plate model: read, matched, decided once."""

from __future__ import annotations

import csv
import random
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.cameras.capture import OpenCvCamera
from drivers.cameras.frame import Frame
from drivers.cameras.snapshots import plate_crop_path
from drivers.health import DeviceHealth
from gateway.cli import main
from gateway.core import Presented
from gateway.errors import Refused
from gateway.runtime.gateway import Gateway
from gateway.runtime.plate_reading import PlateReader
from gateway.store.corrections import correct_plate
from gateway.store.plate_crops import export_plate_crops
from gateway.store.registry import add_vehicle, delete_vehicle
from plates.labels import read_labels
from plates.lane import LaneVoter
from plates.recognizer import Recognizer
from plates.synth.scene import render_scene
from plates.synth.texts import PlateSpec
from tests.conftest import registered_plates_site

PLATE = "皖A7K258"


def registered_site(tmp_path: Path, camera: str = "", plate_match: str = "exact") -> Gateway:
    return registered_plates_site(
        tmp_path,
        f"{PLATE},R1\n皖B12Z45,R2\n皖C1D345,R2\n皖C1Q345,R2\n",
        slots=f"main,B001,R1,{PLATE}\n",
        plate_match=plate_match,
        extra=camera,
    )


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
    stored = _image(snapshot)
    assert stored.shape == (720, 1280, 3)
    marked = stored[max(y - 8, 0) : y + h + 8, max(x - 8, 0) : x + w + 8]
    reds = (marked[..., 2] > 180) & (marked[..., 1] < 80) & (marked[..., 0] < 80)
    assert reds.sum() > 2 * (w + h)  # the plate's box is drawn on the stored picture
    crop = _image(snapshot.with_suffix(".plate.png"))  # and kept unmarked beside it
    assert w <= crop.shape[1] <= 1.3 * w and h <= crop.shape[0] <= 1.5 * h
    assert not ((crop[..., 2] > 180) & (crop[..., 1] < 80) & (crop[..., 0] < 80)).any()
    reading = Recognizer().read_crop(crop)
    assert reading is not None and reading.text == PLATE

    out = tmp_path / "crops"
    assert main(["export-plates", "-c", str(tmp_path / "site.toml"), str(out)]) == 0
    [labelled] = read_labels(out)
    assert (labelled.plate, labelled.kind) == (PLATE, "crop")
    assert np.array_equal(_image(labelled.path), crop)


def test_a_car_standing_at_the_barrier_is_read_again_when_the_loop_says_a_car_arrived(tmp_path: Path) -> None:
    """The camera decided the car as it came; it stands at the barrier (refused, say, or the
    barrier closed before it moved). The loop detector's next 'car present' reads it afresh,
    through the real camera driver, the real plate reader and the shipped model."""
    spec = PlateSpec(PLATE, "blue", 1, "standard")
    frame = render_scene(random.Random(2), 1280, 720, spec=spec, plate_w=160)[0]
    video = tmp_path / "standing.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 25.0, (1280, 720))
    for _ in range(50):
        writer.write(frame)
    writer.release()
    reader = PlateReader()
    health = DeviceHealth("car-in-camera", "camera", "car-in", "opencv")
    camera = OpenCvCamera(health, str(video), debounce_s=60)
    camera.attach(reader, reader.annotate)
    emitted: list[str] = []
    camera.start(lambda kind, value, confidence: emitted.append(value))
    try:
        deadline = time.monotonic() + 30
        while not emitted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert emitted == [PLATE]
        time.sleep(LaneVoter.rearm_after_s + 0.5)
        assert emitted == [PLATE]  # standing in view is not a new car
        camera.request_read()  # the loop: a car has arrived
        deadline = time.monotonic() + 10
        while len(emitted) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert emitted == [PLATE, PLATE]
    finally:
        camera.stop()


def _image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None, f"{path} is missing or not an image"
    return np.asarray(image)


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


def test_a_plate_a_guard_typed_is_taken_as_typed_even_where_look_alikes_match(tmp_path: Path) -> None:
    gw = registered_site(tmp_path, plate_match="confusable")
    read = gw.handle(Presented("car-in", "plate", "皖A7K25B", 0.9, gw.now(), "cam"))
    typed = gw.handle(Presented("car-in", "plate", "皖A7K25B", 1.0, gw.now(), "guard:guard1"))
    assert (read.reason, read.plate) == ("resident", PLATE)  # a camera's B may be an 8
    assert (typed.reason, typed.plate) == ("temporary", "皖A7K25B")  # a guard's B is a B
    assert "lookalike" not in typed.flags
    gw.conn.close()


def test_a_typed_plate_holds_the_lanes_cameras_so_they_do_not_decide_the_car_again(tmp_path: Path) -> None:
    gw = registered_site(tmp_path)
    entrance, exit_lane = PlateReader(), PlateReader()  # the lanes' plate cameras' readers
    gw.devices.lanes["car-in"].plate_readers.append(entrance)
    gw.devices.lanes["car-out"].plate_readers.append(exit_lane)
    gw.handle(Presented("car-in", "plate", PLATE, 1.0, gw.now(), "guard:guard1"))  # typed by the guard
    spec = PlateSpec(PLATE, "blue", 1, "standard")
    image = render_scene(random.Random(2), 1280, 720, spec=spec, plate_w=160)[0]
    frame = Frame(image, 1, time.monotonic(), time.time())  # the car, readable a moment later
    assert entrance(frame) == []  # no second decision for the car the guard let in
    assert [text for _, text, _ in exit_lane(frame)] == [PLATE]  # another lane's camera was not told
    gw.conn.close()


def test_a_reading_equally_close_to_two_registered_plates_matches_neither(tmp_path: Path) -> None:
    gw = registered_site(tmp_path, plate_match="confusable")
    ev = gw.handle(Presented("car-in", "plate", "皖C10345", 0.9, gw.now(), "cam"))  # 0 for D or Q?
    assert ev.reason == "temporary" and ev.plate == "皖C10345" and "lookalike" not in ev.flags
    gw.conn.close()


def test_exported_crops_are_labelled_by_the_registered_plate_or_a_guards_correction(tmp_path: Path) -> None:
    gw = registered_site(tmp_path, plate_match="confusable")
    shown, events = {}, {}
    # exact, a look-alike of 皖A7K258, not registered (twice), exact (a car with no slot)
    for n, read in enumerate([PLATE, "皖A7K25B", "皖Z99999", "皖Z88888", "皖B12Z45"]):
        snapshot = f"snapshots/2026-11-21/car-{n}.jpg"
        if n < 4:  # the last one's crop was pruned
            shown[read] = np.full((30, 110, 3), 40 * n, np.uint8)
            crop = plate_crop_path(gw.data_dir / snapshot)
            crop.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(crop), shown[read])
        events[read] = gw.handle(Presented("car-in", "plate", read, 0.9, gw.now(), "cam", snapshot)).event_id
    # The guard saw that the first stranger was 豫Z99999 (an unregistered car: refused or temporary
    # cars are labelled only this way); the second stranger was left as read, so it has no label.
    correct_plate(gw.conn, events["皖Z99999"], "豫Z99999", "guard1", gw.now())

    out = tmp_path / "crops"
    done = export_plate_crops(gw.conn, gw.data_dir, out, None, "cli:guard", gw.now())
    assert (done.exported, done.corrected, done.by_guard, done.missing) == (3, 2, 1, 1)
    labelled = read_labels(out)  # the form `plates train --real` and `plates eval` read
    # 皖A7K25B was the registered 皖A7K258; 皖Z99999 was 豫Z99999 in the guard's eyes
    assert [lab.plate for lab in labelled] == [PLATE, PLATE, "豫Z99999"]
    with (out / "labels.csv").open(encoding="utf-8") as fh:
        table = [(row["read"], row["label"]) for row in csv.DictReader(fh)]
    assert table == [(PLATE, "registered"), ("皖A7K25B", "registered"), ("皖Z99999", "guard")]
    for lab, (read, _) in zip(labelled, table, strict=True):
        assert np.array_equal(_image(lab.path), shown[read])
    [(actor, action, target)] = gw.conn.execute(
        "SELECT actor, action, target FROM audit WHERE action = 'plates.export'"
    ).fetchall()
    assert (actor, action, target) == ("cli:guard", "plates.export", str(out))

    with pytest.raises(Refused, match="not an empty folder"):  # never mixed into an earlier export
        export_plate_crops(gw.conn, gw.data_dir, out, None, "cli:guard", gw.now())
    tomorrow = gw.now() + timedelta(days=1)
    assert export_plate_crops(gw.conn, gw.data_dir, tmp_path / "new", tomorrow, "x", gw.now()).exported == 0
    assert read_labels(tmp_path / "new") == []
    gw.conn.close()


def test_export_plates_says_what_to_do_for_a_bad_date_and_when_nothing_has_a_crop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gw = registered_site(tmp_path)
    gw.handle(Presented("car-in", "plate", PLATE, 0.99, gw.now(), "cam"))  # a camera without snapshots
    gw.conn.close()
    site = str(tmp_path / "site.toml")
    assert main(["export-plates", "-c", site, str(tmp_path / "o"), "--since", "1 Nov"]) == 1
    assert "give a date such as 2026-11-01" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    assert main(["export-plates", "-c", site, str(tmp_path / "o")]) == 0
    assert "crops are kept for plates the gateway reads from a camera" in capsys.readouterr().out


def test_a_plate_registered_in_place_of_another_is_matched_by_look_alike(tmp_path: Path) -> None:
    """A resident changes car: the newest plate is struck off and another registered, which
    SQLite may store under the same row id. Look-alike matching must follow the plates
    themselves, at once, not their count and highest id."""
    gw = registered_site(tmp_path, plate_match="confusable")
    gw.handle(Presented("car-in", "plate", "皖A7K25B", 0.9, gw.now(), "cam"))  # a plate decided before
    old = gw.conn.execute("SELECT id, resident_id FROM vehicles WHERE plate = '皖C1Q345'").fetchone()
    delete_vehicle(gw.conn, gw.now(), "admin", old[0])
    add_vehicle(gw.conn, gw.now(), "admin", "皖D44448", old[1], "car", None)
    ev = gw.handle(Presented("car-in", "plate", "皖D4444B", 0.9, gw.now(), "cam"))
    assert (ev.reason, ev.plate) == ("no_slot", "皖D44448") and "lookalike" in ev.flags
    gone = gw.handle(Presented("car-in", "plate", "皖C1Q34S", 0.9, gw.now(), "cam"))
    assert gone.plate == "皖C1Q34S" and "lookalike" not in gone.flags  # struck off: no longer matched
    gw.conn.close()
