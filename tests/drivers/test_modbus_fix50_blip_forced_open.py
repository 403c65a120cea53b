"""A barrier contact on a Modbus module that misses one poll while the arm is legitimately up, or
while someone forces it up."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pymodbus.exceptions import ModbusIOException

from drivers.relays.modbus import ModbusBus
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml
from tests.drivers.conftest import gateways, open_alarms, wait_for  # noqa: F401
from tests.drivers.test_modbus_fix49_loop_back import _Reply

SIMULATED_BARRIER = 'id = "car-in-barrier"\nlane = "car-in"\nkind = "relay"\ndriver = "simulated"\n'
MODBUS_BARRIER = """id = "car-in-barrier"
lane = "car-in"
kind = "relay"
driver = "modbus"
port = "{port}"
unit = 1
coil = 0
inputs = {{ barrier_open = 2 }}
poll_s = 0.05
open_grace_s = 2
"""


class Module:
    """The car-in module on the RS-485 line: its coil drives the barrier, whose limit switch it
    reads on input 2. `lost_polls` input reads are lost to noise."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arm_up = False
        self.lost_polls = 0
        self.polls = 0

    def factory(self, *args: object, **kwargs: object) -> Module:
        return self

    def connect(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def write_coil(self, address: int, value: bool, device_id: int) -> _Reply:
        time.sleep(0.01)
        with self.lock:
            if value:
                self.arm_up = True  # the barrier rises on the pulse and stays up while a car is under it
        return _Reply(5, [value])

    def read_coils(self, address: int, count: int, device_id: int) -> _Reply:
        return _Reply(1, [False] * 8)

    def read_discrete_inputs(self, address: int, count: int, device_id: int) -> _Reply:
        time.sleep(0.01)
        with self.lock:
            self.polls += 1
            lost, self.lost_polls = self.lost_polls > 0, max(self.lost_polls - 1, 0)
            up = self.arm_up
        if lost:
            time.sleep(0.3)
            raise ModbusIOException("No response received after 0 retries")
        return _Reply(2, [up] + [False] * 15)  # input 2 asked alone (first=2)


@pytest.fixture
def module(monkeypatch: pytest.MonkeyPatch) -> Iterator[Module]:
    m = Module()
    defaults = dict(ModbusBus.__init__.__kwdefaults__ or {})
    monkeypatch.setattr(ModbusBus.__init__, "__kwdefaults__", {**defaults, "client_factory": m.factory})
    yield m


def _modbus_gateway(tmp_path: Path, gateways: Callable[[Gateway], Gateway]) -> Gateway:  # noqa: F811
    """The test site with car-in's barrier on a Modbus module (its coil, its limit switch), online."""
    port = tmp_path / "ttyUSB-rs485"
    port.write_text("")
    text = site_toml(tmp_path / "data")
    assert SIMULATED_BARRIER in text
    text = text.replace(SIMULATED_BARRIER, MODBUS_BARRIER.format(port=port))
    gw = gateways(Gateway(parse_config(text, "site.toml")))
    relay = gw.devices.lanes["car-in"].relays[0]
    wait_for(lambda: relay.health.online, "the module online")
    return gw


def _lose_one_poll(gw: Gateway, module: Module, meanwhile: Callable[[], None] = lambda: None) -> None:
    """The module misses one poll to line noise (offline), `meanwhile` happens, and it answers again."""
    relay = gw.devices.lanes["car-in"].relays[0]
    with module.lock:
        module.lost_polls = 1
    wait_for(lambda: not relay.health.online, "the lost poll")
    meanwhile()
    wait_for(lambda: relay.health.online, "the module answering again")
    time.sleep(0.5)


def test_a_barrier_opened_by_the_guard_is_not_alarmed_as_forced_after_one_lost_poll(
    tmp_path: Path,
    module: Module,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """The guard opens car-in (开闸); the arm stays up while a slow car passes under it. Its Modbus
    module misses one poll to line noise (hardware.md counts on such losses) and answers the next:
    the gateway raises 强行开门 forced_open, sent up to the centre, for an arm nobody forced. The
    arm's state did not change: no alarm should be raised."""
    gw = _modbus_gateway(tmp_path, gateways)
    gw.by_hand.open_lane("car-in", "保安 王", "救护车")
    wait_for(lambda: gw.lane_io.barriers.is_open("car-in"), "the arm reported up")
    assert open_alarms(gw, "forced_open") == [], "the guard's opening is not forced"
    time.sleep(2.5)  # the arm still up past open_grace_s: a car passing slowly under it
    _lose_one_poll(gw, module)
    assert open_alarms(gw, "forced_open") == [], (
        "the arm the guard opened never moved, yet one poll lost to noise raised a forced_open "
        "alarm (强行开门) for it"
    )


def test_a_barrier_forced_up_while_its_module_missed_a_poll_is_alarmed_once_it_answers(
    tmp_path: Path,
    module: Module,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """The arm down (known closed) as its module misses a poll; someone lifts it meanwhile, with no
    decision or guard command behind it: the module's first poll once back finds it open, a new
    opening, and forced_open is raised."""
    gw = _modbus_gateway(tmp_path, gateways)
    wait_for(lambda: module.polls >= 2, "the arm reported down")
    assert not gw.lane_io.barriers.is_open("car-in")

    def forced_up() -> None:
        with module.lock:
            module.arm_up = True

    _lose_one_poll(gw, module, forced_up)
    wait_for(lambda: open_alarms(gw, "forced_open") == ["car-in"], "forced_open raised")
