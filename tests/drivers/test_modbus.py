"""Modbus RTU modules against pymodbus's own RTU server, over a pair of real ptys (an RS-485 bus).

The server side simulates two modules on the bus; a third unit id is wired in the config but
absent, as when a module's address switches are set wrong.
"""

from __future__ import annotations

import asyncio
import os
import select
import threading
import tty
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pymodbus import FramerType
from pymodbus.server import ModbusSerialServer
from pymodbus.simulator import SimData, SimDevice
from pymodbus.simulator.simutils import DataType

from drivers.relays.modbus import ModbusBus, ModbusModule, input_map
from tests.drivers.conftest import PtyDevice, health, wait_for

COILS, DISCRETE_INPUTS = 5, 2  # Modbus function codes: write single coil, read discrete inputs


class Module:
    """What one simulated module was told (coil writes) and what its inputs read."""

    def __init__(self, unit: int):
        self.unit = unit
        self.inputs = [False] * 16
        self.writes: list[tuple[int, bool]] = []
        self.lock = threading.Lock()
        # Cleared, a read of its inputs is held unanswered (asked set) until it is set again: a
        # request under way for as long as a test needs.
        self.answering = threading.Event()
        self.answering.set()
        self.asked = threading.Event()

    def coil_writes(self, coil: int, collapse: bool = True) -> list[bool]:
        """The coil's states in order; a write repeated after a late reply counts once."""
        with self.lock:
            states = [on for address, on in self.writes if address == coil]
        if not collapse:
            return states
        return [on for i, on in enumerate(states) if i == 0 or states[i - 1] != on]

    async def action(
        self, function: int, start: int, address: int, count: int, registers: list[int], values: Any
    ) -> None:
        if function == DISCRETE_INPUTS and not self.answering.is_set():
            self.asked.set()
            while not self.answering.is_set():
                await asyncio.sleep(0.01)
        with self.lock:
            if function == COILS and values is not None:
                self.writes.append((address, bool(values[0])))
            if function == DISCRETE_INPUTS:
                # The simulator packs bits 16 to a register, lowest address in the lowest bit.
                registers[0] = sum(1 << i for i, on in enumerate(self.inputs) if on)
        return None

    def device(self) -> SimDevice:
        bits = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
        regs = [SimData(0, count=1, values=0, datatype=DataType.REGISTERS)]
        return SimDevice(id=self.unit, simdata=(bits, bits, regs, regs), action=self.action)


class Bus:
    """pty A (the gateway's USB-RS485 adapter, behind a by-id style link) wired to pty B (the
    modules' side, where the pymodbus server listens)."""

    def __init__(self, adapter: PtyDevice, modules: list[Module]):
        self.adapter = adapter
        self.modules = {m.unit: m for m in modules}
        self._far, far_slave = os.openpty()
        tty.setraw(far_slave)
        self._far_slave = far_slave
        self._stop = threading.Event()
        self._wire = threading.Thread(target=self._copy, name="rs485-wire", daemon=True)
        self._wire.start()
        self._loop = asyncio.new_event_loop()
        self._server: ModbusSerialServer | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="modbus-server", daemon=True)
        self._thread.start()
        self._ready.wait(5)

    def _serve(self) -> None:
        async def serve() -> None:
            self._server = ModbusSerialServer(
                [m.device() for m in self.modules.values()],
                framer=FramerType.RTU,
                port=os.ttyname(self._far_slave),
                baudrate=19200,
                ignore_missing_devices=True,
            )
            self._ready.set()
            await self._server.serve_forever()

        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(serve())

    def _copy(self) -> None:
        while not self._stop.is_set():
            near = self.adapter.master
            fds = [self._far] + ([near] if near >= 0 else [])
            try:
                ready, _, _ = select.select(fds, [], [], 0.05)
                for fd in ready:
                    data = os.read(fd, 4096)
                    target = self._far if fd == near else self.adapter.master
                    if target >= 0:
                        os.write(target, data)
            except OSError:
                continue  # the adapter was unplugged mid-copy

    def close(self) -> None:
        assert self._server is not None
        asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop).result(timeout=60)
        self._thread.join(timeout=5)
        self._loop.close()
        self._stop.set()
        self._wire.join(timeout=2)
        os.close(self._far)
        os.close(self._far_slave)


@pytest.fixture
def rs485(pty_device: Callable[[str], PtyDevice]) -> Iterator[Bus]:
    bus = Bus(pty_device("ttyUSB-rs485"), [Module(1), Module(2)])
    yield bus
    bus.close()


@pytest.fixture
def modbus_bus(rs485: Bus) -> Iterator[ModbusBus]:
    bus = ModbusBus(rs485.adapter.path, baudrate=19200, timeout_s=1.0, reconnect_max_s=0.2)
    yield bus
    bus.stop()


def test_relay_pulse_and_lane_inputs_through_a_real_rtu_server(rs485: Bus, modbus_bus: ModbusBus) -> None:
    module = rs485.modules[1]
    module.inputs[1] = True  # barrier down: its closed contact is made
    events: list[tuple[str, bool]] = []
    gate = ModbusModule(
        modbus_bus,
        health("gate", "relay"),
        unit=1,
        coil=0,
        inputs=input_map(car_present=0, barrier_open=None, barrier_closed=1),
        poll_s=0.02,
    )
    gate.watch(lambda name, active: events.append((name, active)))
    try:
        wait_for(lambda: gate.health.online, "the module to answer")
        wait_for(lambda: module.coil_writes(0) == [False], "the coil set to released on connect")
        # The first poll reports every input as it is (a barrier already up is watched from start).
        wait_for(lambda: len(events) == 2, "the inputs' first states")
        assert sorted(events) == [("barrier_open", False), ("car_present", False)]
        events.clear()
        gate.pulse(0.05)
        wait_for(lambda: module.coil_writes(0) == [False, True, False], "the coil on, then off")
        with module.lock:
            module.inputs[0] = True  # a car drives onto the loop
        wait_for(lambda: events == [("car_present", True)], "the loop input")
        with module.lock:
            module.inputs[1] = False  # the barrier leaves its closed position
        wait_for(lambda: events[-1:] == [("barrier_open", True)], "the barrier input")
        # Every poll answered would be errors == 0, but a CI box running four workers on two cores
        # can starve the simulated module's thread past the 1 s timeout for one of the hundreds of
        # 20 ms polls (one clean-clone run counted 1): that the module is online and each write and
        # input went through is what this test is about.
        wait_for(lambda: gate.health.online, "the module online after the inputs")
    finally:
        gate.close()


def test_modules_share_the_bus_and_a_silent_one_is_offline_alone(rs485: Bus, modbus_bus: ModbusBus) -> None:
    first = ModbusModule(modbus_bus, health("gate-a", "relay"), 1, coil=2, inputs=[])
    second = ModbusModule(modbus_bus, health("gate-b", "relay"), 2, coil=3, inputs=[])
    missing = ModbusModule(modbus_bus, health("gate-c", "relay"), 9, coil=0, inputs=[])
    try:
        wait_for(lambda: missing.health.last_error, "the absent unit to time out")
        assert "unit 9" in missing.health.last_error and "wiring" in missing.health.last_error
        wait_for(lambda: first.health.online and second.health.online, "both real modules")
        second.pulse(0.02)
        wait_for(lambda: rs485.modules[2].coil_writes(3) == [False, True, False], "unit 2 pulsed")
        assert rs485.modules[1].coil_writes(2) == [False]  # unit 1 untouched
    finally:
        for module in (first, second, missing):
            module.close()


def test_adapter_unplugged_and_back_resends_a_held_relay(rs485: Bus, modbus_bus: ModbusBus) -> None:
    gate = ModbusModule(modbus_bus, health("gate", "relay"), 1, coil=4, inputs=[])
    try:
        wait_for(lambda: gate.health.online, "the module")
        gate.hold()
        wait_for(lambda: rs485.modules[1].coil_writes(4) == [False, True], "held open")
        written = len(rs485.modules[1].coil_writes(4, collapse=False))
        rs485.adapter.unplug()
        wait_for(lambda: not gate.health.online, "the module to go offline with the adapter")
        assert "unplugged" in gate.health.last_error
        rs485.adapter.plug()
        wait_for(lambda: gate.health.online, "the module back")
        wait_for(
            lambda: set(rs485.modules[1].coil_writes(4, collapse=False)[written:]) == {True},
            "the held state written again after the replug",
        )
    finally:
        gate.close()


def test_a_held_relay_is_released_when_the_gateway_stops(rs485: Bus, modbus_bus: ModbusBus) -> None:
    gate = ModbusModule(modbus_bus, health("gate", "relay"), 1, coil=5, inputs=[])
    wait_for(lambda: gate.health.online, "the module")
    gate.hold()  # a guard holds the barrier open
    wait_for(lambda: rs485.modules[1].coil_writes(5) == [False, True], "held open")
    gate.close()  # what Devices.close() does on stop: the relays first, then the shared bus
    modbus_bus.stop()
    assert rs485.modules[1].coil_writes(5)[-1] is False, "the barrier stays up after the gateway stopped"


def test_a_missing_adapter_path_is_offline_with_the_fix(tmp_path: Path) -> None:
    bus = ModbusBus(str(tmp_path / "ttyUSB-none"), reconnect_max_s=0.2)
    module = ModbusModule(bus, health("gate", "relay"), 1, coil=0, inputs=[])
    try:
        wait_for(lambda: module.health.last_error, "the failed open")
        assert "not there" in module.health.last_error
    finally:
        module.close()
        bus.stop()


class _Reply:
    bits = [False] * 16

    def __init__(self, function_code: int):
        self.function_code = function_code

    def isError(self) -> bool:  # noqa: N802 - pymodbus's name
        return False


class _BusyBus:
    """A bus whose thread has not come round yet: nothing is written until service() is called."""

    port = "/dev/ttyUSB-busy"
    down = False

    def add(self, module: ModbusModule) -> None:
        pass

    def start(self) -> None:
        pass

    def poke(self) -> None:
        pass


def test_a_pulse_shorter_than_the_bus_is_busy_still_closes_the_relay() -> None:
    writes: list[bool] = []

    class Client:
        def write_coil(self, address: int, value: bool, device_id: int) -> _Reply:
            writes.append(value)
            return _Reply(5)

        def read_coils(self, address: int, count: int, device_id: int) -> _Reply:
            return _Reply(1)

    gate = ModbusModule(_BusyBus(), health("gate", "relay"), 1, coil=0, inputs=[])  # type: ignore[arg-type]
    try:
        gate.connected()
        gate.pulse(0.001)
        wait_for(lambda: not gate._control.wanted, "the pulse to be over")  # type: ignore[union-attr]
        gate.service(Client(), poll=False)
        assert writes == [True, False]
    finally:
        gate.close()
