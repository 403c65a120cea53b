"""Modbus modules that misbehave on the wire: a short or mismatched reply, a request lost to noise,
a slow module, inputs far apart. One module's fault must never stop the other barriers on the same
RS-485 bus, nor leave a module 'online' that is not working.

A hand-written RTU responder stands on the far side of a real pty (the gateway's USB-RS485 adapter
is the pty slave behind a by-id style link), so the bytes are exactly what a module sends; pymodbus's
own server cannot be made to send a wrong reply.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drivers.relays.modbus import READ_COILS, READ_INPUTS, WRITE_COIL, ModbusBus, ModbusModule, input_map
from gateway.config import parse_config
from gateway.runtime.devices import Devices, build_devices
from tests.conftest import site_toml
from tests.drivers.conftest import PtyDevice, health, wait_for


def crc16(data: bytes) -> bytes:
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return bytes([crc & 0xFF, crc >> 8])


class Modules:
    """Every module on the bus, answering requests as real ones do unless told otherwise."""

    def __init__(self, adapter: PtyDevice):
        self.adapter = adapter
        self.short_units: set[int] = set()  # answer an input read with one data byte, whatever was asked
        self.wrong_units: set[int] = set()  # answer a coil write with an input read's reply
        self.drop_coil_writes = 0  # the next N coil writes are lost on the wire (noise): no reply
        self.delay: dict[int, float] = {}  # unit: how long it takes to answer
        self.off: set[int] = set()  # switched off, or wired to another bus: they never answer
        self.heard: list[int] = []  # the unit of every request, answered or not
        self.coil_writes: list[tuple[int, int, bool, float]] = []  # (unit, coil, on, when it came)
        self.input_reads: list[tuple[int, int, int]] = []  # (unit, first input, count)
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="rtu-modules", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        buf = b""
        while not self._stop.is_set():
            fd = self.adapter.master
            try:
                if not select.select([fd], [], [], 0.05)[0]:
                    continue
                buf += os.read(fd, 256)
            except OSError:
                continue
            while len(buf) >= 8:  # every request the gateway sends is 8 bytes (FC 01, 02, 05)
                request, buf = buf[:8], buf[8:]
                reply = self._answer(request)
                if reply is None:
                    continue
                time.sleep(self.delay.get(request[0], 0.0))
                os.write(fd, reply + crc16(reply))

    def _answer(self, request: bytes) -> bytes | None:
        unit, function = request[0], request[1]
        address = int.from_bytes(request[2:4], "big")
        value = int.from_bytes(request[4:6], "big")
        with self.lock:
            self.heard.append(unit)
            if unit in self.off:
                return None
            if function == WRITE_COIL:
                if self.drop_coil_writes > 0:
                    self.drop_coil_writes -= 1
                    return None
                self.coil_writes.append((unit, address, value == 0xFF00, time.monotonic()))
                if unit in self.wrong_units:
                    return bytes([unit, READ_INPUTS, 1, 0])
                return request[:6]
            if function == READ_INPUTS:
                self.input_reads.append((unit, address, value))
        if function in (READ_COILS, READ_INPUTS):
            size = 1 if function == READ_INPUTS and unit in self.short_units else (value + 7) // 8
            return bytes([unit, function, size]) + bytes(size)
        return None

    def writes(self, unit: int) -> list[bool]:
        with self.lock:
            return [on for u, _, on, _ in self.coil_writes if u == unit]

    def written_at(self, unit: int, on: bool) -> list[float]:
        """When each write of `on` to the unit's coil reached it."""
        with self.lock:
            return [at for u, _, state, at in self.coil_writes if u == unit and state == on]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


@pytest.fixture
def adapter(pty_device: Callable[[str], PtyDevice]) -> PtyDevice:
    return pty_device("ttyUSB-rs485")


@pytest.fixture
def modules(adapter: PtyDevice) -> Iterator[Modules]:
    found = Modules(adapter)
    yield found
    found.close()


def build(tmp_path: Path, devices: str) -> Devices:
    return build_devices(parse_config(site_toml(tmp_path / "data") + devices, "site.toml"))


def module_toml(device: str, lane: str, port: str, unit: int, settings: str) -> str:
    kind = "relay" if "coil" in settings else "sensor"
    return f"""
[[devices]]
id = "{device}"
lane = "{lane}"
kind = "{kind}"
driver = "modbus"
port = "{port}"
unit = {unit}
reconnect_max_s = 0.2
{settings}
"""


def pulsed(modules: Modules, unit: int) -> bool:
    """The unit's relay was closed and opened again (a whole pulse), within 10 s (a loaded CI box)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and modules.writes(unit)[-2:] != [True, False]:
        time.sleep(0.02)
    return modules.writes(unit)[-2:] == [True, False]


def test_a_short_input_reply_from_one_module_does_not_stop_the_other_barriers(
    adapter: PtyDevice, modules: Modules
) -> None:
    """A module whose firmware answers an input read with fewer inputs than asked: its lane shows
    offline with the reason, and the other lane's barrier on the same bus still opens."""
    modules.short_units = {1}
    # 1 s, not 0.3: on a loaded CI box a read timed out before the short reply came, and the lane
    # was offline for that instead.
    bus = ModbusBus(adapter.path, timeout_s=1.0, reconnect_max_s=0.2)
    gate = ModbusModule(bus, health("car-out-barrier", "relay", "car-out"), 2, coil=0, inputs=[])
    wait_for(lambda: gate.health.online, "the barrier module to answer")
    sensor = ModbusModule(
        bus, health("car-in-io", "sensor", "car-in"), 1, coil=None, inputs=input_map(0, None, 9), poll_s=0.05
    )
    try:
        short = "the reply holds 8 inputs, asked for 10"
        wait_for(lambda: short in (sensor.health.last_error or ""), "the odd module offline, saying why")
        gate.pulse(0.1)
        assert pulsed(modules, 2), (
            f"the car-out barrier's pulse never reached its module: {modules.writes(2)}"
        )
        assert not sensor.health.online
    finally:
        sensor.close()
        gate.close()
        bus.stop()


def test_a_reply_to_another_request_is_not_taken_as_the_relay_written(
    adapter: PtyDevice, modules: Modules
) -> None:
    """A module (or a second master on the bus) answering a relay write with some other reply: the
    gateway must not believe the barrier moved; the module shows offline, saying why."""
    modules.wrong_units = {1}
    bus = ModbusBus(adapter.path, timeout_s=0.3, reconnect_max_s=0.2)
    gate = ModbusModule(bus, health("car-in-barrier", "relay", "car-in"), 1, coil=0, inputs=[])
    try:
        error = wait_for(lambda: gate.health.last_error, "the module offline")
        assert not gate.health.online
        assert "function 2" in error, error
    finally:
        gate.close()
        bus.stop()


def test_modbus_inputs_far_apart_are_read_and_the_bus_keeps_working(
    tmp_path: Path, adapter: PtyDevice, modules: Modules
) -> None:
    """A module's inputs 0 and 2500 (a vendor numbering its contacts in blocks) pass the config
    check; Modbus reads at most 2000 inputs at once, so they are read in two requests, and the other
    lane's barrier on the bus still opens (asked for all 2501 at once, the bus thread died)."""
    devices = build(
        tmp_path,
        module_toml("car-out-module", "car-out", adapter.path, 2, "coil = 0")
        + module_toml(
            "car-in-io", "car-in", adapter.path, 1, "inputs = { car_present = 0, barrier_closed = 2500 }"
        ),
    )
    try:
        barrier = next(r for r in devices.lanes["car-out"].relays if r.health.device == "car-out-module")
        sensor = next(h for h in devices.health if h.device == "car-in-io")
        wait_for(lambda: barrier.health.online and sensor.online, "both modules to answer")
        barrier.pulse(0.1)
        assert pulsed(modules, 2), f"the car-out barrier never opened: {sensor.last_error!r}"
        with modules.lock:
            reads = {(first, count) for unit, first, count in modules.input_reads if unit == 1}
        assert reads == {(0, 1), (2500, 1)}
    finally:
        devices.close()


def test_a_slow_module_s_own_timeout_s_is_used(tmp_path: Path, adapter: PtyDevice, modules: Modules) -> None:
    """timeout_s is set per module: a slow module (it answers in 0.5 s) given timeout_s = 1.0 is
    online and its barrier opens, next to a quick one left at 0.3 s (the bus waited 0.3 s for every
    module, as the first module listed said)."""
    modules.delay = {2: 0.5}
    devices = build(
        tmp_path,
        module_toml("car-in-module", "car-in", adapter.path, 1, "coil = 0")
        + module_toml("car-out-module", "car-out", adapter.path, 2, "coil = 0\ntimeout_s = 1.0"),
    )
    try:
        slow = next(r for r in devices.lanes["car-out"].relays if r.health.device == "car-out-module")
        fast = next(h for h in devices.health if h.device == "car-in-module")
        wait_for(lambda: fast.online, "the quick module")
        time.sleep(2.0)  # a few read-backs of each
        assert slow.health.online, (
            f"the slow module with timeout_s = 1.0 is offline: {slow.health.last_error}"
        )
        slow.pulse(0.1)
        assert pulsed(modules, 2), f"the slow module's barrier never opened: {modules.writes(2)}"
    finally:
        devices.close()
