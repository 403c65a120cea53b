"""Review 61q (after 4d3cf43): the guard presses 恢复 on a held vehicle lane while the convoy's
last car is on the loop. The release is on record at once, but its relays wait for the car to
leave, the lane still in HandLanes.held; a car the lane refused meanwhile (an unknown card) was
shown the hold's 请通行, though the hold had ended on record and the guard had ended it so that
the lane decides again. It is told its refusal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.config import parse_config
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml
from tests.drivers.conftest import gateways  # noqa: F401

LANE = "car-in"


def test_refused_car_while_release_waits_is_not_told_to_go(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    gw = gateways(Gateway(parse_config(site_toml(tmp_path / "data"), "site.toml")))
    gw.by_hand.hold_lane(LANE, "保安 王", "车队")
    loop = gw.lane_io.input_handler(LANE, "car-in-loop")
    loop("car_present", True)
    gw.by_hand.release_lane(LANE, "保安 王", "车队已过")
    assert gw.by_hand.car_under_arm(LANE)
    shown: list[Any] = []
    real = gw.boards.show

    def spy(lane: str, lines: list[str], **kw: Any) -> Any:
        shown.append((lane, list(lines)))
        return real(lane, lines, **kw)

    gw.boards.show = spy  # type: ignore[method-assign]
    p = Presented(LANE, "card", "9999999999", 1.0, gw.now(), "car-in-reader")
    ev = gw.on_worker(lambda _: gw.handle(p)).result(60)
    assert not ev.admitted, ev.reason
    said = [lines for lane, lines in shown if lane == LANE]
    assert said and "请通行" not in said[-1], f"a refused car told {said[-1]} after the guard's 恢复"
    loop("car_present", False)
