"""What the lane display says when the guard opens the barrier by hand."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from gateway.config import parse_config
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.conftest import TARIFF_TOML, site_toml
from tests.drivers.conftest import gateways, no_leaked_threads, wait_for  # noqa: F401  (fixtures)

EXIT_DEVICES = """
[[devices]]
id = "car-out-barrier"
lane = "car-out"
kind = "relay"
driver = "simulated"

[[devices]]
id = "car-out-led"
lane = "car-out"
kind = "display"
driver = "simulated"
"""


def test_display_stops_asking_for_the_fee_once_the_guard_lets_the_held_car_out(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """A temporary car is held at the exit: the board reads 临时车 请缴费 7元 / 鲁B12345. The guard
    lets it out by hand ("open once": docs/guard-app.md / parking.md, the car held there leaves by
    it and its stay closes). The barrier rises, but the board still says 请缴费 7元 to the driver
    driving out (and to the next car): nothing tells the lane the car was let out. It should no
    longer ask for money once the barrier opened for it (e.g. 一路平安, as a car let out by a
    fee taken at the lane gets)."""
    gw = gateways(
        Gateway(parse_config(site_toml(tmp_path / "data") + TARIFF_TOML + EXIT_DEVICES, "site.toml"))
    )
    now = gw.now()
    gw.present(Presented("car-in", "plate", "鲁B12345", 0.99, now - timedelta(hours=2), "cam"))
    gw.present(Presented("car-out", "plate", "鲁B12345", 0.99, now, "cam"))
    display = gw.devices.lanes["car-out"].displays[0]
    relay = gw.devices.lanes["car-out"].relays[0]
    wait_for(lambda: display.shown[1:], "the fee on the board")  # the start's idle line (Review 66L)
    assert display.shown[-1] == ["临时车 请缴费 7元", "鲁B12345"]
    gw.by_hand.open_lane("car-out", "保安 王", "车主已线下付款")
    wait_for(lambda: relay.pulses, "the barrier to open")
    time.sleep(0.3)
    assert "请缴费" not in " ".join(display.shown[-1]), (
        f"the barrier opened but the board still reads {display.shown[-1]}"
    )
    assert display.shown[-1] == ["一路平安", "鲁B12345"]


DOOR_LED = """
[[devices]]
id = "door-led"
lane = "door"
kind = "display"
driver = "simulated"
"""


def test_display_stops_refusing_a_walker_the_guard_lets_in(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """A visitor's card nobody registered is refused at the pedestrian door (禁止入内 未登记); the
    guard, told by the host, opens the door by hand. The board must not go on reading 禁止入内 as
    the door opens for him."""
    gw = gateways(Gateway(parse_config(site_toml(tmp_path / "data") + DOOR_LED, "site.toml")))
    gw.present(Presented("door", "card", "0909090909", 1.0, gw.now(), "reader"))
    display = gw.devices.lanes["door"].displays[0]
    wait_for(lambda: display.shown[1:], "the refusal on the board")  # the start's idle line (Review 66L)
    assert display.shown[-1] == ["禁止入内 未登记"]
    gw.by_hand.open_lane("door", "保安 王", "业主来电 访客")
    assert display.shown[-1] == ["请通行"]
