"""The barrier rise check (Review 57e) put back cars that drove out under a working arm (Review 57i,
found by the reviewer): an arm that reached its `barrier_open` limit switch (on only once fully up)
a little after the 3 s then allowed, the gateway seeing it rise and clearing its own alarm, left its
car inside on record, the driver shown 道闸故障 as the arm went up; and an exit whose contact is on a
Modbus input module that is offline put back every car let out there. Now the default is 8 s, and a
lane whose contact cannot be heard does not wait for it. Real gpio driver on gpiozero mock pins, a
Modbus bus that never answers, real gateway and SQLite."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero import Device as GpioBase
from gpiozero.pins.mock import MockFactory
from pymodbus.exceptions import ModbusIOException

from drivers.relays.modbus import ModbusBus
from tests.parking.test_exit_fix57e_arm_never_rose import ALARMS, CAR, OPEN_STAY, _decide, _query
from tests.rush_helpers import parking_gw

ENTRANCE = """
[[devices]]
id = "car-in-barrier"
lane = "car-in"
kind = "relay"
driver = "simulated"
"""
# docs/hardware.md's Raspberry Pi example (bounce 0 for the mock pins), rise_within_s left default.
GPIO_EXIT = """
[[devices]]
id = "car-out-io"
lane = "car-out"
kind = "relay"
driver = "gpio"
pin = 17
inputs = { barrier_open = 6 }
bounce_s = 0
"""
# The relay on the Pi, the loop and the contact on a Modbus input module.
MODULE_EXIT = """
[[devices]]
id = "car-out-relay"
lane = "car-out"
kind = "relay"
driver = "gpio"
pin = 17

[[devices]]
id = "car-out-inputs"
lane = "car-out"
kind = "sensor"
driver = "modbus"
port = "{port}"
unit = 3
inputs = {{ car_present = 0, barrier_open = 2 }}
poll_s = 0.1
rise_within_s = 1.5
"""


class DeadModule:
    """The input module's side of the bus (its adapter unplugged): never answers."""

    def factory(self, *a: object, **k: object) -> DeadModule:
        return self

    def connect(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def read_discrete_inputs(self, *a: object, **k: object) -> object:
        time.sleep(0.05)
        raise ModbusIOException("No response received after 0 retries")

    read_coils = write_coil = read_discrete_inputs


@pytest.fixture
def mock_pins(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockFactory]:
    dead = DeadModule()
    defaults = dict(ModbusBus.__init__.__kwdefaults__ or {})
    monkeypatch.setattr(ModbusBus.__init__, "__kwdefaults__", {**defaults, "client_factory": dead.factory})
    factory = MockFactory()
    GpioBase.pin_factory = factory
    yield factory
    factory.reset()
    GpioBase.pin_factory = None


def _shown(gw: object) -> str:
    return "".join(gw.devices.lanes["car-out"].displays[0].shown[-1])  # type: ignore[attr-defined]


def test_an_arm_up_a_moment_after_three_seconds_lets_its_car_out(
    tmp_path: Path, mock_pins: MockFactory
) -> None:
    gw = parking_gw(tmp_path, extra=ENTRANCE + GPIO_EXIT)
    gw.start()
    try:
        contact = mock_pins.pin(6)
        assert _decide(gw, "car-in")
        assert _decide(gw, "car-out")
        time.sleep(3.6)
        contact.drive_low()  # fully up 3.6 s after the pulse: the car drives out
        time.sleep(1.0)
        contact.drive_high()
        time.sleep(0.5)
        gw.on_worker(lambda c: None).result(10)
        assert _query(gw, OPEN_STAY) == [], f"{CAR} left under the raised arm but is inside on record"
        assert _query(gw, "SELECT kind FROM alarms") == []
        assert "道闸故障" not in _shown(gw)
    finally:
        gw.stop()


def test_an_offline_contact_module_puts_back_no_car_let_out(tmp_path: Path, mock_pins: MockFactory) -> None:
    port = tmp_path / "ttyUSB-rs485"
    port.write_text("")
    gw = parking_gw(tmp_path, extra=ENTRANCE + MODULE_EXIT.format(port=port))
    gw.start()
    try:
        time.sleep(1.0)
        [module] = gw.devices.lanes["car-out"].sensors
        assert not module.health.online  # the guard's page shows it offline
        assert _decide(gw, "car-in")
        assert _decide(gw, "car-out")
        assert mock_pins.pin(17).state, "the relay took the pulse: the arm rises, the car drives out"
        time.sleep(2.5)  # past rise_within_s
        gw.on_worker(lambda c: None).result(10)
        assert _query(gw, OPEN_STAY) == [], f"{CAR} put back; display {_shown(gw)!r}"
        assert ("barrier_no_response", "car-out") not in _query(gw, ALARMS)
        assert "道闸故障" not in _shown(gw)
    finally:
        gw.stop()
