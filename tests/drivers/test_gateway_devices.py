"""The runtime with real drivers: a reader on a pty deciding at a door, patrol checkpoints, lane
inputs (loop detector, barrier feedback) on gpiozero mock pins, a camera served over HTTP with
snapshots stored with the events, and a guard's manual commands."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import cv2
import pytest
from gpiozero.pins.mock import MockFactory

from drivers.cameras.frame import Frame
from drivers.readers.frames import em4100_frame
from drivers.simulated import SimulatedRelay
from gateway.errors import GatewayError
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import (
    MjpegCamera,
    PtyDevice,
    cleared_when_back_for_good,
    gpio_io,
    open_alarms,
    query,
    start_gateway,
    wait_for,
)


def reader_toml(port: str, role: str = "access") -> str:
    return f"""
[[devices]]
id = "door-reader"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "{port}"
format = "em4100"
role = "{role}"
reconnect_max_s = 0.2
"""


def test_card_on_the_wire_opens_the_door_and_an_unplugged_reader_raises_an_alarm(
    tmp_path: Path, pty_device: Callable[[str], PtyDevice], gateways: Callable[[Gateway], Gateway]
) -> None:
    reader = pty_device("ttyUSB-door")
    gw = gateways(start_gateway(tmp_path, reader_toml(reader.path)))
    wait_for(lambda: gw.devices.health[-1].online, "the reader online")
    reader.write(em4100_frame("0102030405"))
    wait_for(lambda: query(gw, "SELECT device, reason FROM access_log"), "the decision")
    assert query(gw, "SELECT device, kind, value, admitted, reason FROM access_log") == [
        ("door-reader", "card", "0102030405", 1, "resident")
    ]
    lock = gw.devices.lanes["door"].relays[0]
    assert isinstance(lock, SimulatedRelay) and len(lock.pulses) == 1

    reader.unplug()
    wait_for(lambda: open_alarms(gw, "device_offline") == ["door-reader"], "the offline alarm")
    message = query(gw, "SELECT message FROM alarms WHERE source = 'door-reader'")[0][0]
    assert "reader door-reader on lane door offline" in message and "unplugged" in message
    reader.plug()
    wait_for(lambda: cleared_when_back_for_good(gw) == [], "the alarm cleared on reconnect")
    topics = [r[0] for r in query(gw, "SELECT topic FROM outbox WHERE topic != 'registry' ORDER BY seq")]
    assert topics == ["outbox_started", "access", "alarm", "alarm"]  # the stream's first, then the door's


def test_a_patrol_checkpoint_records_taps_not_access_requests(
    tmp_path: Path, pty_device: Callable[[str], PtyDevice], gateways: Callable[[Gateway], Gateway]
) -> None:
    reader = pty_device("ttyUSB-patrol")
    gw = gateways(start_gateway(tmp_path, reader_toml(reader.path, role="patrol")))
    wait_for(lambda: gw.devices.health[-1].online, "the checkpoint online")
    reader.write(em4100_frame("0A0B0C0D0E") * 5)  # held on the reader: one tap
    wait_for(lambda: query(gw, "SELECT card FROM patrol_taps"), "the tap")
    assert query(gw, "SELECT checkpoint, lane, card FROM patrol_taps") == [
        ("door-reader", "door", "0A0B0C0D0E")
    ]
    assert query(gw, "SELECT count(*) FROM access_log") == [(0,)]
    payload = query(gw, "SELECT topic, payload FROM outbox WHERE topic NOT IN ('registry', 'outbox_started')")
    assert payload[0][0] == "patrol" and '"checkpoint": "door-reader"' in payload[0][1]
    lock = gw.devices.lanes["door"].relays[0]
    assert isinstance(lock, SimulatedRelay) and lock.pulses == []


GPIO_IO = gpio_io("{ car_present = 5, barrier_open = 6 }")
CAMERA = """
[[devices]]
id = "car-in-camera"
lane = "car-in"
kind = "camera"
driver = "opencv"
url = "URL"
read_mode = "trigger"
trigger_frames = 3
max_frame_age_s = 2.0
"""


def test_loop_detector_reads_the_plate_and_a_barrier_opened_by_hand_raises_forced_open(
    tmp_path: Path,
    mock_pins: MockFactory,
    mjpeg_camera: MjpegCamera,
    gateways: Callable[[Gateway], Gateway],
) -> None:
    gw = start_gateway(tmp_path, GPIO_IO + CAMERA.replace("URL", mjpeg_camera.url))
    camera = gw.devices.lanes["car-in"].cameras[0]
    read: list[int] = []

    def recognizer(frame: Frame) -> list[tuple[str, str, float]]:
        read.append(frame.seq)
        return [("plate", "皖A12345", 0.96)]

    camera.attach(recognizer)
    gateways(gw)
    wait_for(lambda: camera.latest(), "camera frames")
    loop, barrier = mock_pins.pin(5), mock_pins.pin(6)

    barrier.drive_low()  # the arm goes up and nothing told it to
    wait_for(lambda: open_alarms(gw, "forced_open") == ["car-in"], "the forced-open alarm")
    barrier.drive_high()
    wait_for(lambda: open_alarms(gw, "forced_open") == [], "the alarm cleared when it closed")
    assert read == []  # trigger mode: nothing read without a car

    loop.drive_low()  # a car drives onto the loop
    wait_for(lambda: query(gw, "SELECT value FROM access_log"), "the plate decision")
    row = query(gw, "SELECT kind, value, admitted, reason, device, snapshot FROM access_log")[0]
    assert row[:5] == ("plate", "皖A12345", 1, "temporary", "car-in-camera")
    assert gw.snapshots is not None
    gw.snapshots.flush()
    jpeg = cv2.imread(str(gw.data_dir / row[5]))
    assert jpeg is not None and jpeg.shape == (120, 160, 3)
    barrier_relay = next(r for r in gw.devices.lanes["car-in"].relays if r.health.device == "car-in-io")
    assert barrier_relay.health.counters["pulses"] == 1 and len(read) >= 1

    barrier.drive_low()  # now the barrier opens for the car that was let in
    barrier.drive_high()
    query(gw, "SELECT 1")
    assert open_alarms(gw, "forced_open") == []
    assert query(gw, "SELECT count(*) FROM alarms WHERE kind = 'forced_open'") == [(1,)]


def test_guard_commands_are_audited_and_drive_the_relays(
    tmp_path: Path, mock_pins: MockFactory, gateways: Callable[[Gateway], Gateway]
) -> None:
    gw = gateways(start_gateway(tmp_path, GPIO_IO))
    relay_pin, barrier = mock_pins.pin(17), mock_pins.pin(6)
    gw.by_hand.hold_lane("car-in", "保安 王", "车队")
    assert relay_pin.state is True
    barrier.drive_low()  # held open by the guard: expected, not forced
    gw.by_hand.release_lane("car-in", "保安 王", "车队已过")
    assert relay_pin.state is False
    barrier.drive_high()
    gw.by_hand.open_lane("car-in", "保安 王", "救护车")
    lane_audit = "SELECT actor, action, target, detail FROM audit WHERE action LIKE 'lane.%' ORDER BY id"
    assert query(gw, lane_audit) == [
        ("保安 王", "lane.hold", "car-in", "车队"),
        ("保安 王", "lane.release", "car-in", "车队已过"),
        ("保安 王", "lane.open", "car-in", "救护车"),
    ]
    assert open_alarms(gw, "forced_open") == []

    with pytest.raises(GatewayError, match="no lane 'car-inn'"):
        gw.by_hand.hold_lane("car-inn", "保安 王", "车队")
    with pytest.raises(GatewayError, match="has no relay"):
        gw.by_hand.open_lane("car-out", "保安 王", "救护车")
    assert len(query(gw, lane_audit)) == 3  # refused before anything is written


def test_gateway_stop_releases_every_device(
    tmp_path: Path, pty_device: Callable[[str], PtyDevice], mock_pins: MockFactory
) -> None:
    board = pty_device("ttyUSB-relay")
    gw = start_gateway(
        tmp_path,
        f"""
[[devices]]
id = "door-relay"
lane = "door"
kind = "relay"
driver = "lcus"
port = "{board.path}"
"""
        + GPIO_IO,
    )
    gw.start()
    gw.by_hand.hold_lane("door", "保安 王", "搬家")
    gw.by_hand.hold_lane("car-in", "保安 王", "车队")
    gw.stop()
    assert board.read(12) == bytes.fromhex("A00100A1 A00101A2 A00100A1")  # released on the way out
    assert mock_pins.pin(17).state is False
    with pytest.raises(sqlite3.ProgrammingError):
        gw.conn.execute("SELECT 1")


def test_start_settles_alarms_left_by_the_last_run_and_raises_for_missing_devices(
    tmp_path: Path, gateways: Callable[[Gateway], Gateway]
) -> None:
    gw = start_gateway(tmp_path, reader_toml(str(tmp_path / "ttyUSB-never-plugged")))
    gw.conn.execute(
        "INSERT INTO alarms (kind, source, message, raised_at) "
        "VALUES ('device_offline', 'door-lock', 'left open by the last run', '2026-01-01 00:00:00')"
    )
    assert gw.backlog() == 0  # nothing queued before start
    gateways(gw)
    # door-lock, there at the start, clears once it has stayed ([alarms] clear_after_s)
    wait_for(lambda: cleared_when_back_for_good(gw) == ["door-reader"], "the alarms settled")
    message = query(gw, "SELECT message FROM alarms WHERE source = 'door-reader'")[0][0]
    assert "not there (unplugged?)" in message
