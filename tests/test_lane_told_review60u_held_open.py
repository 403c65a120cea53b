"""A lane a guard holds open (常开) reads 请通行 (一路平安 at an exit), and a refusal there no longer
turns it to 禁止入内 (Review 60u, noticed by reviewer 60n): someone tapping an unregistered card out
of habit at a door held wide open for an event switched the board and the voice to 禁止入内 未登记,
and it stayed so for everyone walking through after. The refusal is still recorded; a car held to pay
is still asked its fee, as a hold lets no car out on record (docs/hardware.md *Displays and voice*)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from drivers.simulated import SimulatedDisplay
from gateway.config import parse_config
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml
from tests.drivers.conftest import gateways, no_leaked_threads, wait_for  # noqa: F401  (fixtures)
from tests.parking.conftest import T0
from tests.test_display_fix48b import _board, _exit, _look
from tests.test_lane_told import DOOR_LED

H = timedelta(hours=1)


def test_a_card_refused_at_a_door_held_open_leaves_the_board_reading_go_ahead(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    gw = gateways(Gateway(parse_config(site_toml(tmp_path / "data") + DOOR_LED, "site.toml")))
    display = gw.devices.lanes["door"].displays[0]
    assert isinstance(display, SimulatedDisplay)
    gw.by_hand.hold_lane("door", "保安 王", "社区活动 常开")
    assert display.shown[-1] == ["请通行"]
    seen: list[str] = []
    gw.subscribe(lambda ev: seen.append(ev.reason))
    n = len(display.shown)
    gw.present(Presented("door", "card", "0909090909", 1.0, gw.now(), "reader"))
    wait_for(lambda: len(display.shown) > n and seen, "the card's decision")
    assert seen == ["unknown"]  # refused, on record and on the guard's panel
    assert gw.by_hand.held.get("door") == "保安 王"
    assert display.shown[-1] == ["请通行"], (
        f"the door is held wide open, yet the board reads {display.shown[-1]}"
    )


def test_a_car_refused_at_an_exit_held_up_reads_goodbye_and_is_told_its_refusal_at_the_release(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """A car with no entry record at the exit held up for a convoy: refused (禁止通行), but the arm is
    up for whoever is there; the board keeps the hold's 一路平安. Let down so that the car is dealt
    with, the lane tells it its refusal again."""
    gw = _exit(tmp_path, gateways)
    gw.now = lambda: T0  # type: ignore[method-assign]
    gw.by_hand.hold_lane("car-out", "保安 王", "车队")
    ev = _look(gw, "car-out", "苏E99999", T0 + 2 * H)
    assert not ev.admitted and ev.reason != "payment_due"
    assert _board(gw, "car-out").shown[-1] == ["一路平安"]
    gw.now = lambda: T0 + 2 * H + timedelta(seconds=8)  # type: ignore[method-assign]
    gw.by_hand.release_lane("car-out", "保安 王", "车队已过")
    assert _board(gw, "car-out").shown[-1][0].startswith("禁止通行"), _board(gw, "car-out").shown[-1]
