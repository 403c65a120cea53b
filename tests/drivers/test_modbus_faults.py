"""Modbus bus faults that pymodbus's server cannot be made to show: a fake client stands in for
pymodbus at the hardware edge (an adapter that opens but fails, a unit that never answers), and
the real ModbusBus thread drives it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from pymodbus.exceptions import ConnectionException, ModbusIOException

from drivers.relays.modbus import ModbusBus, ModbusModule, input_map
from tests.drivers.conftest import health, wait_for

TIMEOUT_S = 0.3  # the bus's default timeout_s: what a silent unit costs per request


class Reply:
    bits = [False] * 16

    def __init__(self, function_code: int):
        self.function_code = function_code

    def isError(self) -> bool:  # noqa: N802 - pymodbus's name
        return False


class Client:
    """What pymodbus's ModbusSerialClient does on a bus: `up` says whether the adapter opens,
    `broken` makes every request fail as a failing serial write does, `silent` units time out."""

    def __init__(self) -> None:
        self.up = True
        self.broken = False
        self.silent: set[int] = set()
        self.connects = 0
        self.writes: list[tuple[int, bool]] = []  # (unit, state)
        self.requests: dict[int, int] = {}  # unit: requests sent to it
        self.log: list[tuple[int, bool | None]] = []  # (unit, coil state written or None), as sent
        self.lock = threading.Lock()

    def factory(self, *args: object, **kwargs: object) -> Client:
        return self

    def connect(self) -> bool:
        self.connects += 1
        return self.up

    def close(self) -> None:
        pass

    def _ask(self, function: int, unit: int, state: bool | None = None) -> Reply:
        with self.lock:
            self.requests[unit] = self.requests.get(unit, 0) + 1
            self.log.append((unit, state))
        if self.broken:
            raise ConnectionException("write failed: [Errno 5] Input/output error")
        if unit in self.silent:
            time.sleep(TIMEOUT_S)
            raise ModbusIOException("no response received")
        return Reply(function)

    def write_coil(self, address: int, value: bool, device_id: int) -> Reply:
        reply = self._ask(5, device_id, value)
        with self.lock:
            self.writes.append((device_id, value))
        return reply

    def read_coils(self, address: int, count: int, device_id: int) -> Reply:
        return self._ask(1, device_id)

    def read_discrete_inputs(self, address: int, count: int, device_id: int) -> Reply:
        return self._ask(2, device_id)

    def states(self, unit: int) -> list[bool]:
        with self.lock:
            return [on for u, on in self.writes if u == unit]


@pytest.fixture
def adapter(tmp_path: Path) -> str:
    path = tmp_path / "ttyUSB-rs485"
    path.write_text("")  # the bus checks the adapter's path is there
    return str(path)


def test_pulses_asked_for_while_the_bus_is_down_are_not_replayed(adapter: str) -> None:
    client = Client()
    client.up = False  # the adapter does not open
    bus = ModbusBus(adapter, reconnect_max_s=0.1, client_factory=client.factory)
    gate = ModbusModule(bus, health("gate", "relay"), 1, coil=0, inputs=[])
    try:
        wait_for(lambda: gate.health.last_error, "the bus to fail to open")
        for _ in range(5):  # cars admitted meanwhile: each pulse is long over
            gate.pulse(0.01)
            time.sleep(0.03)
        wait_for(lambda: gate._control is not None and not gate._control.wanted, "the pulses to end")
        client.up = True
        wait_for(lambda: gate.health.online, "the bus back")
        time.sleep(0.3)
        assert client.states(1) == [False]  # the state wanted now, not five stale openings
    finally:
        gate.close()
        bus.stop()


def test_a_silent_unit_costs_one_timeout_a_second_not_one_every_pass(adapter: str) -> None:
    client = Client()
    client.silent = {9}
    bus = ModbusBus(adapter, timeout_s=TIMEOUT_S, client_factory=client.factory)
    dead = ModbusModule(bus, health("gate-dead", "relay"), 9, coil=0, inputs=[])
    gate = ModbusModule(
        bus,
        health("gate", "relay"),
        1,
        coil=2,
        inputs=input_map(car_present=0, barrier_open=None, barrier_closed=None),
        poll_s=0.05,
    )
    try:
        wait_for(lambda: dead.health.last_error and gate.health.online, "the silent unit offline")
        since = len(client.log)

        def sent() -> list[int]:
            with client.lock:
                return [unit for unit, _ in client.log[since:]]

        wait_for(lambda: sent().count(9) >= 3, "the silent unit asked 3 times", timeout=60)
        units = sent()
        asked = [i for i, unit in enumerate(units) if unit == 9][:3]
        between = [units[a:b].count(1) for a, b in zip(asked, asked[1:], strict=False)]
        # Counted in requests, not seconds (a loaded machine's bus thread is late): one retry a
        # second for the silent unit, the healthy one polled near its poll_s meanwhile (about 20).
        # Retrying the silent unit on every pass polled the healthy one once between its retries.
        assert max(between) >= 3, f"the healthy module was polled {between} times between the retries"
    finally:
        dead.close()
        gate.close()
        bus.stop()


def test_an_adapter_that_opens_but_fails_every_request_is_retried_with_backoff(adapter: str) -> None:
    client = Client()
    client.broken = True
    bus = ModbusBus(adapter, reconnect_max_s=0.4, client_factory=client.factory)
    gate = ModbusModule(bus, health("gate", "relay"), 1, coil=0, inputs=[])
    try:
        wait_for(lambda: gate.health.last_error, "the bus to fail")
        before = client.connects
        time.sleep(2.0)
        # waits of 0.1, 0.2, 0.4, 0.4 ... s: about 6 reopens in 2 s (it reopened in a tight loop)
        assert client.connects - before <= 10
        client.broken = False
        wait_for(lambda: gate.health.online, "the adapter working again")
    finally:
        gate.close()
        bus.stop()


def test_a_pulse_goes_before_the_retries_of_silent_units(adapter: str) -> None:
    client = Client()
    client.silent = {7, 8, 9}
    bus = ModbusBus(adapter, timeout_s=TIMEOUT_S, client_factory=client.factory)
    dead = [ModbusModule(bus, health(f"gate-dead-{u}", "relay"), u, coil=0, inputs=[]) for u in (7, 8, 9)]
    gate = ModbusModule(bus, health("gate", "relay"), 1, coil=0, inputs=[])
    try:
        wait_for(lambda: all(d.health.last_error for d in dead) and gate.health.online, "three silent units")
        for _ in range(3):
            _quiet(client, dead)
            start = len(client.log)
            for d in dead:
                d.next_poll = 0.0  # all due for their once-a-second retry as the pulse comes
            gate.pulse(0.05)
            wait_for(lambda start=start: (1, True) in client.log[start:], "the gate's relay closed")
            before = client.log[start : client.log.index((1, True), start)]
            # Serviced in the order listed, the three retries went first: 0.9 s with the car waiting.
            assert [u for u, _ in before if u in client.silent] == [], before
    finally:
        for module in (*dead, gate):
            module.close()
        bus.stop()


def _quiet(client: Client, dead: list[ModbusModule]) -> None:
    """Until no request to a silent unit is on the wire and none is due."""
    while True:
        for d in dead:
            d.next_poll = float("inf")
        seen = len(client.log)
        time.sleep(TIMEOUT_S + 0.05)
        if all(u not in client.silent for u, _ in client.log[seen:]):
            return
