"""Thunderstorm at the lane: the power to a Modbus RTU relay module flickers. The module restarts
(its coils come up off, as relay modules do) within a fraction of a second and answers every request
again; the gateway reads its coil back once a second (docs/hardware.md, Modbus)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from drivers.relays.modbus import READ_COILS, ModbusBus, ModbusModule
from tests.drivers.conftest import PtyDevice, health, wait_for
from tests.drivers.test_modbus import COILS, Bus, Module


class RebootingModule(Module):
    """A simulated module whose coils are what it was last told, until its power flickers."""

    def __init__(self, unit: int):
        super().__init__(unit)
        self.coils = [False] * 16
        self.reads = 0
        self.stuck = False  # a relay that no longer switches: writes answered, the coil stays off

    async def action(
        self, function: int, start: int, address: int, count: int, registers: list[int], values: Any
    ) -> None:
        await super().action(function, start, address, count, registers, values)
        with self.lock:
            if function == COILS and values is not None and not self.stuck:
                self.coils[address] = bool(values[0])
            if function == READ_COILS:
                self.reads += 1
                registers[0] = sum(1 << i for i, on in enumerate(self.coils) if on)
        return None

    def power_flicker(self) -> None:
        with self.lock:
            self.coils = [False] * 16  # restarted: every relay off, the barrier comes down


@pytest.fixture
def rs485(pty_device: Callable[[str], PtyDevice]) -> Iterator[Bus]:
    bus = Bus(pty_device("ttyUSB-rs485"), [RebootingModule(1)])
    yield bus
    bus.close()


@pytest.fixture
def modbus_bus(rs485: Bus) -> Iterator[ModbusBus]:
    bus = ModbusBus(rs485.adapter.path, baudrate=19200, timeout_s=1.0, reconnect_max_s=0.2)
    yield bus
    bus.stop()


def test_a_held_barrier_whose_module_restarted_in_a_power_flicker_is_held_again(
    rs485: Bus, modbus_bus: ModbusBus
) -> None:
    """A guard holds the entrance open (常开, e.g. for a wedding convoy). Lightning makes the power
    flicker; the relay module restarts with its coil off and the barrier comes down on the convoy,
    while the guard page still says held. The gateway reads the coil back every second and sees it
    off, yet never writes it on again: the lane stays down until the guard notices. Expected: the
    state wanted (held: on) is written again, as after an adapter replug ("a held barrier opens
    again", docs/hardware.md) and as an LCUS board gets ("a barrier held open stays open after a
    replug")."""
    module: RebootingModule = rs485.modules[1]  # type: ignore[assignment]
    gate = ModbusModule(modbus_bus, health("gate", "relay"), 1, coil=4, inputs=[])
    try:
        wait_for(lambda: gate.health.online, "the module")
        gate.hold()
        wait_for(lambda: module.coils[4], "held open")
        module.power_flicker()
        reads = module.reads
        wait_for(lambda: module.reads >= reads + 3, "three read-backs of the coil after the flicker")
        assert module.coils[4], (
            "the module read back its coil off while the lane is held, and the gateway left the "
            f"barrier down (writes: {module.coil_writes(4, collapse=False)})"
        )
    finally:
        gate.close()


def test_a_pulse_read_back_midway_is_left_alone(rs485: Bus, modbus_bus: ModbusBus) -> None:
    """A slow barrier given a long pulse: the coil's read-backs during it find it on as written, and
    the pulse is neither written again nor cut short."""
    module: RebootingModule = rs485.modules[1]  # type: ignore[assignment]
    gate = ModbusModule(modbus_bus, health("gate", "relay"), 1, coil=4, inputs=[])
    try:
        wait_for(lambda: gate.health.online, "the module")
        reads = module.reads
        gate.pulse(2.5)
        wait_for(
            lambda: module.coil_writes(4, collapse=False)[-1:] == [False] and module.reads >= reads + 2,
            "the pulse over, read back during it",
        )
        assert module.coil_writes(4, collapse=False) == [False, True, False]
        assert gate.health.counters["coil_mismatches"] == 0
    finally:
        gate.close()


def test_a_pulse_the_module_dropped_midway_is_not_written_again(rs485: Bus, modbus_bus: ModbusBus) -> None:
    """The power flickers while a car's pulse holds the relay closed: the barrier was already
    triggered, and the module comes back with the coil off. Closing it again would trigger the
    barrier a second time (a barrier that toggles on each contact would come down on the car): the
    pulse is over, and nothing more is written."""
    module: RebootingModule = rs485.modules[1]  # type: ignore[assignment]
    gate = ModbusModule(modbus_bus, health("gate", "relay"), 1, coil=4, inputs=[])
    try:
        wait_for(lambda: gate.health.online, "the module")
        gate.pulse(3.0)
        wait_for(lambda: module.coils[4], "the pulse on")
        module.power_flicker()
        wait_for(lambda: gate.health.counters["coil_mismatches"] == 1, "the read-back to find it off")
        time.sleep(3.0)  # past the pulse's end, a read-back or two
        assert module.coil_writes(4, collapse=False) == [False, True]
        assert not module.coils[4]
    finally:
        gate.close()


def test_a_relay_that_does_not_switch_is_warned_about_once(
    rs485: Bus, modbus_bus: ModbusBus, caplog: pytest.LogCaptureFixture
) -> None:
    """A held barrier whose module answers its writes yet keeps the coil off (a burnt relay): the
    held state is written again after each read-back, and the log says so once, not every second."""
    module: RebootingModule = rs485.modules[1]  # type: ignore[assignment]
    gate = ModbusModule(modbus_bus, health("gate", "relay"), 1, coil=4, inputs=[])
    try:
        wait_for(lambda: gate.health.online, "the module")
        with module.lock:
            module.stuck = True
        with caplog.at_level(logging.WARNING, logger="drivers.relays.modbus"):
            gate.hold()
            wait_for(lambda: gate.health.counters["coil_mismatches"] >= 3, "three read-backs found it off")
        warned = [r for r in caplog.records if "read back off" in r.getMessage()]
        assert len(warned) == 1, warned
        assert module.coil_writes(4, collapse=False)[-3:] == [True] * 3  # written again each time
    finally:
        gate.close()
