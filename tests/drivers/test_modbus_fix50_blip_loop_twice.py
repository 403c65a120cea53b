"""A car standing on a Modbus module's loop, or leaving it, while the module misses one poll."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from drivers.health import DeviceHealth
from drivers.relays.modbus import ModbusModule, input_map
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml
from tests.drivers.test_loop_stuck_fix48b import B as Y
from tests.drivers.test_loop_stuck_fix48b import X, at, lane_inputs, trigger_lane  # noqa: F401
from tests.drivers.test_modbus_fix49_loop_back import _Bus, _Client
from tests.lane_helpers import START, Lane

LOOP = "car-out-loop"


def test_a_refused_car_standing_on_the_loop_is_not_refused_as_a_new_car_after_one_lost_poll(
    trigger_lane: Lane,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An unregistered car is refused at the exit and stays on the loop (the driver argues with
    the guard). The loop's Modbus module misses one poll to line noise and answers the next, the
    loop still on: the car that never moved is decided as a new arrival, a second refusal in the
    records, upstream and the daily report. It should be the same car decided again
    (refused_again), as when the loop stays on without a lost poll (test_loop_stuck_fix48b)."""
    lane = trigger_lane
    inputs = lane_inputs(lane)
    gw = Gateway(parse_config(site_toml(tmp_path / "data"), "site.toml"))
    base = datetime(2026, 3, 2, 10, 0, tzinfo=gw.site.tz)
    monkeypatch.setattr(gw, "now", lambda: base + timedelta(seconds=lane.now - START))
    gw.devices.lanes["car-out"].plate_readers.append(lane.reader)
    gw.start()
    try:
        emit = gw._emitter("car-out", "car-out-camera")

        def present(value: str) -> None:
            emit("plate", value, 0.99)
            gw.on_worker(lambda c: None).result(10)

        lane.on_present = present
        client = _Client()
        health = DeviceHealth(LOOP, "sensor", "car-out", "modbus")
        health.on_change = lambda h, online: None if online else inputs.device_offline(h.lane, h.device)
        module = ModbusModule(_Bus(), health, unit=1, coil=None, inputs=input_map(0, None, None))  # type: ignore[arg-type]
        module.watch(inputs.input_handler("car-out", LOOP))

        at(lane, 0.0)
        client.loop_on = True  # X drives onto the loop and stops at the barrier
        assert module.service(client, poll=True)
        lane.frames(0.0, 20.0, [X], step=0.5)
        at(lane, 20.0)
        client.silent = True  # one poll lost to noise
        assert not module.service(client, poll=True)
        client.silent = False
        at(lane, 21.0)
        assert module.service(client, poll=True)  # answers again: the loop still on, X on it
        lane.frames(21.0, 30.0, [X], step=0.5)
        gw.on_worker(lambda c: None).result(10)
        with sqlite3.connect(gw.db_path) as conn:
            rows = conn.execute(
                "SELECT admitted, flags FROM access_log WHERE value = ? ORDER BY id", (X,)
            ).fetchall()
    finally:
        gw.stop()
    assert rows and not any(admitted for admitted, _ in rows), rows
    fresh = [flags for _, flags in rows if "refused_again" not in (flags or "")]
    assert len(fresh) == 1, (
        f"the car that never left the loop is refused {len(fresh)} times as a new car after its "
        f"loop module missed one poll: {rows}"
    )


def test_a_loop_found_off_once_its_module_is_back_has_the_next_car_read_as_an_arrival(
    trigger_lane: Lane,  # noqa: F811
) -> None:
    """X on the loop as its module misses a poll, gone by its first poll back (the loop off): the
    next car onto the loop, Y, is an arrival, read at once, not taken for X still standing there."""
    lane = trigger_lane
    inputs = lane_inputs(lane)
    client = _Client()
    health = DeviceHealth(LOOP, "sensor", "car-out", "modbus")
    health.on_change = lambda h, online: None if online else inputs.device_offline(h.lane, h.device)
    module = ModbusModule(_Bus(), health, unit=1, coil=None, inputs=input_map(0, None, None))  # type: ignore[arg-type]
    module.watch(inputs.input_handler("car-out", LOOP))

    at(lane, 0.0)
    client.loop_on = True
    assert module.service(client, poll=True)
    lane.frames(0.0, 5.0, [X], step=0.5)
    at(lane, 5.0)
    client.silent = True
    assert not module.service(client, poll=True)
    client.silent, client.loop_on = False, False  # X drove off meanwhile
    at(lane, 6.0)
    assert module.service(client, poll=True)
    at(lane, 20.0)
    client.loop_on = True  # Y drives onto the loop
    assert module.service(client, poll=True)
    lane.frames(20.0, 25.0, [Y], step=0.5)
    assert Y in [v for _, v in lane.presented], f"Y, a new car on the loop, was not read: {lane.presented}"
