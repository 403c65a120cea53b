"""A double door whose leaves are on Modbus modules that report at their first poll, after the
gateway has started (drivers/relays/modbus.py watch(): "now, or at the first poll"): a held_open
alarm left by the run before is judged only once every leaf has reported (docs/hardware.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from drivers.base import InputEmit
from drivers.health import DeviceHealth
from gateway.alarm_texts import AlarmText
from gateway.runtime.devices import Devices, LaneDevices
from gateway.runtime.lanes import LaneInputs
from gateway.store.alarms import raise_alarm
from gateway.store.database import open_database

HELD_OPEN = "SELECT cleared_at FROM alarms WHERE kind = 'held_open'"


class FirstPollSensor:
    """A Modbus module's inputs: unknown until its first poll, then reported (as ModbusModule does)."""

    def __init__(self, device: str):
        self.health = DeviceHealth(device, "sensor", "door", "modbus")
        self.on_input: InputEmit | None = None

    def watch(self, on_input: InputEmit) -> None:
        self.on_input = on_input  # the first poll has not answered yet: nothing to report now

    def first_poll(self, barrier_open: bool, car_present: bool | None = None) -> None:
        """Every input wired, in the module's order: a loop before the contact."""
        assert self.on_input is not None
        if car_present is not None:
            self.on_input("car_present", car_present)
        self.on_input("barrier_open", barrier_open)

    def stop(self) -> None:
        self.on_input = None


@dataclass
class Door:
    leaf_a: FirstPollSensor
    leaf_b: FirstPollSensor
    held_open: Callable[[], list[tuple[str | None]]]  # cleared_at of the door's held_open alarms


@pytest.fixture
def restarted_door(tmp_path: Path) -> Iterator[Door]:
    """The door's held_open alarm left open by the run before; the gateway's lane inputs started
    again, neither leaf's module polled yet."""
    conn = open_database(tmp_path / "gateway.db").conn
    text = AlarmText("held_open", {"lane": "door", "device": "door-leaf-b", "seconds": 120})
    raise_alarm(conn, "held_open", "door", text, datetime.now(UTC) - timedelta(minutes=10))

    def on_worker(fn: Callable[[Any], Any]) -> Future[Any]:
        done: Future[Any] = Future()
        done.set_result(fn(conn))
        return done

    leaf_a, leaf_b = FirstPollSensor("door-leaf-a"), FirstPollSensor("door-leaf-b")
    devices = Devices(
        lanes={"door": LaneDevices(sensors=[leaf_a, leaf_b])},  # type: ignore[list-item]
        health=[leaf_a.health, leaf_b.health],
        held_open_s={"door": 120.0},
        barrier_contacts={"door"},
    )
    inputs = LaneInputs(devices, on_worker, lambda: datetime.now(UTC))
    inputs.start()
    try:
        yield Door(leaf_a, leaf_b, lambda: conn.execute(HELD_OPEN).fetchall())
    finally:
        inputs.stop()
        conn.close()


@pytest.mark.parametrize("loop_on_leaf_b", [False, True])
def test_a_shut_leaf_polled_first_does_not_clear_the_propped_leafs_alarm_after_a_restart(
    restarted_door: Door, loop_on_leaf_b: bool
) -> None:
    """Leaf B is still propped open; leaf A's module answers first, saying shut: the monitoring
    centre must not hear 'cleared' for a door still open."""
    restarted_door.leaf_a.first_poll(barrier_open=False)
    restarted_door.leaf_b.first_poll(barrier_open=True, car_present=False if loop_on_leaf_b else None)
    assert restarted_door.held_open() == [(None,)], "leaf B is still propped open but its alarm cleared"


def test_both_leaves_polled_shut_after_a_restart_clear_the_alarm(restarted_door: Door) -> None:
    """The propped leaf was shut while the gateway was down: once both modules answer, it clears."""
    restarted_door.leaf_a.first_poll(barrier_open=False)
    assert restarted_door.held_open() == [(None,)], "cleared before leaf B's module answered"
    restarted_door.leaf_b.first_poll(barrier_open=False, car_present=False)
    assert restarted_door.held_open() != [(None,)], "both leaves are shut but the alarm stayed"
