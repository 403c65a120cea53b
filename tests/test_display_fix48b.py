"""The lane display after a release or a close by hand (review of 8abadcd): a car held at an exit to
pay is still asked to pay once the lane's hold is let down, and a lane closed or held open by hand
says one thing, not the idle line first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from drivers.simulated import SimulatedDisplay
from gateway.config import parse_config
from gateway.core import Presented
from gateway.errors import GatewayError
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml
from tests.drivers.conftest import gateways, wait_for  # noqa: F401  (fixture)
from tests.drivers.test_modbus_outcome_again import line  # noqa: F401  (fixture)
from tests.drivers.test_modbus_pulse_outcome import Client
from tests.parking.conftest import T0, parking_toml, seed
from tests.parking.test_opened_by_hand import RELAY

H = timedelta(hours=1)
STRANGER = "苏E12345"
IDLE = ["一车一杆 减速慢行"]

IN_DEVICES = """
[[devices]]
id = "car-in-led"
lane = "car-in"
kind = "display"
driver = "simulated"
"""

MODBUS_RELAY = """
[[devices]]
id = "car-out-barrier"
lane = "car-out"
kind = "relay"
driver = "modbus"
port = "{port}"
unit = 1
coil = 0
"""


def _exit(tmp_path: Path, started: Callable[[Gateway], Gateway], devices: str = RELAY) -> Gateway:
    cfg = parse_config(parking_toml(tmp_path / "data", extra=devices), "site.toml")
    seed(cfg, tmp_path)
    return started(Gateway(cfg))


def _board(gw: Gateway, lane: str) -> SimulatedDisplay:
    display = gw.devices.lanes[lane].displays[0]
    assert isinstance(display, SimulatedDisplay)
    return display


def _look(gw: Gateway, lane: str, plate: str, at: datetime) -> AccessEvent:
    gw.now = lambda: at  # type: ignore[method-assign]  # the gateway's clock: the hand actions' too
    p = Presented(lane, "plate", plate, 0.97, at, "cam")
    return gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)


def _held_to_pay_behind_a_convoy(gw: Gateway) -> list[str]:
    """The exit held open (常开) for a convoy; a temporary car behind it is held to pay: what the
    board asks of it."""
    _look(gw, "car-in", STRANGER, T0)
    gw.by_hand.hold_lane("car-out", "保安 王", "车队")
    assert _board(gw, "car-out").shown[-1] == ["一路平安"]
    ev = _look(gw, "car-out", STRANGER, T0 + 2 * H)
    assert ev.reason == "payment_due"
    asked = list(_board(gw, "car-out").shown[-1])
    assert asked == ["临时车 请缴费 7元", STRANGER], asked
    return asked


def test_a_release_does_not_wipe_the_fee_asked_of_the_car_held_at_the_exit(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """The guard releases the exit (恢复) so that the car held behind the convoy pays: the arm comes
    down, and the board turned to 一车一杆 减速慢行 as if nobody were being decided; the driver who
    still owes was no longer told to pay. It keeps asking the fee."""
    gw = _exit(tmp_path, gateways)
    asked = _held_to_pay_behind_a_convoy(gw)
    gw.now = lambda: T0 + 2 * H + timedelta(seconds=10)  # type: ignore[method-assign]
    gw.by_hand.release_lane("car-out", "保安 王", "让临时车缴费")
    held = gw.on_worker(lambda c: gw.parking.car_at_barrier(c, "car-out", gw.now())).result(timeout=10)
    assert held is not None and held[0].plate == STRANGER  # still held there to pay
    assert _board(gw, "car-out").shown[-1] == asked


def test_a_release_with_nobody_held_still_shows_the_idle_line(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """The exit held and released with no car held there to pay reads the idle line, not 一路平安."""
    gw = _exit(tmp_path, gateways)
    gw.now = lambda: T0  # type: ignore[method-assign]
    gw.by_hand.hold_lane("car-out", "保安 王", "车队")
    gw.by_hand.release_lane("car-out", "保安 王", "车队已过")
    assert _board(gw, "car-out").shown[-1] == IDLE


def test_a_release_written_later_does_not_wipe_the_fee_asked_either(
    tmp_path: Path,
    line: Client,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """The same on a Modbus barrier whose adapter is knocked out as the guard presses 恢复: the
    release is written once the adapter is back (_down_later), and the board still asks the car
    held there for its fee, not the idle line."""
    port = tmp_path / "ttyUSB-rs485"
    port.write_text("")  # the adapter is plugged in
    gw = _exit(tmp_path, gateways, MODBUS_RELAY.format(port=port))
    relay = gw.devices.lanes["car-out"].relays[0]
    wait_for(lambda: relay.health.online, "the module online")
    asked = _held_to_pay_behind_a_convoy(gw)
    gw.now = lambda: T0 + 2 * H + timedelta(seconds=10)  # type: ignore[method-assign]
    port.unlink()  # the adapter unplugged
    wait_for(lambda: not relay.health.online, "the unplugged adapter to be found")
    with pytest.raises(GatewayError):
        gw.by_hand.release_lane("car-out", "保安 王", "让临时车缴费")
    port.write_text("")  # plugged back
    wait_for(lambda: not gw.by_hand.held, "the release written", timeout=30)
    gw.on_worker(lambda c: None).result(timeout=10)  # the held car looked for by now
    assert _board(gw, "car-out").shown[-1] == asked


def test_closing_a_held_lane_says_only_that_it_is_closed(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """A held entrance is closed (关闭通道: its hold let down first). The board and voice said
    一车一杆 减速慢行 and then 禁止入内 通道已关闭: two prompts, the first inviting cars to a lane
    that refuses everyone. Only the closed line is said."""
    gw = gateways(Gateway(parse_config(site_toml(tmp_path / "data") + IN_DEVICES, "site.toml")))
    display = _board(gw, "car-in")
    gw.by_hand.hold_lane("car-in", "保安 王", "车队")
    before = len(display.shown)
    gw.by_hand.set_closed("car-in", True, "保安 王", "封路施工")
    assert [list(x) for x in display.shown[before:]] == [["禁止入内 通道已关闭"]]


def test_a_held_lane_set_back_to_normal_still_reads_idle(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """set_lane_mode normal on a held lane (not closed) lets its hold down: told once, the idle line."""
    gw = gateways(Gateway(parse_config(site_toml(tmp_path / "data") + IN_DEVICES, "site.toml")))
    display = _board(gw, "car-in")
    gw.by_hand.hold_lane("car-in", "保安 王", "车队")
    before = len(display.shown)
    gw.by_hand.set_lane_mode("car-in", "normal", "保安 王", "车队已过")
    assert [list(x) for x in display.shown[before:]] == [IDLE]


def test_holding_a_closed_lane_does_not_say_the_idle_line_first(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """A closed entrance is held open for an ambulance (常开: reopened first). The voice said
    一车一杆 减速慢行 and then 请通行; only 请通行 is said."""
    gw = gateways(Gateway(parse_config(site_toml(tmp_path / "data") + IN_DEVICES, "site.toml")))
    display = _board(gw, "car-in")
    gw.by_hand.set_closed("car-in", True, "保安 王", "封路施工")
    before = len(display.shown)
    gw.by_hand.hold_lane("car-in", "保安 王", "救护车")
    assert [list(x) for x in display.shown[before:]] == [["请通行"]]
