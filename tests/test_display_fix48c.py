"""The exit's board after a release by hand (review of 9eed845): a car held to pay before the hold
is asked its fee again once the arm is down, a car that paid at the booth meanwhile is asked
nothing, and a close refused because the relay did not take the release still tells the board
once the release is written later."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from sqlite3 import Connection

import pytest

from gateway.errors import GatewayError
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import gateways, wait_for  # noqa: F401  (fixture)
from tests.drivers.test_modbus_outcome_again import line  # noqa: F401  (fixture)
from tests.drivers.test_modbus_pulse_outcome import Client
from tests.parking.conftest import T0
from tests.test_display_fix48b import IDLE, MODBUS_RELAY, STRANGER, _board, _exit, _look

H = timedelta(hours=1)


def test_a_car_held_to_pay_before_the_hold_is_asked_its_fee_again_after_the_release(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """A temporary car is held at the exit to pay (请缴费 7元); the guard holds the lane (一路平安) and
    releases it seconds later before the car moved. The arm is down, the car still owes 7元, but the
    board kept the hold's 一路平安 (the release left the board alone for a car being asked). It asks
    the fee again."""
    gw = _exit(tmp_path, gateways)
    _look(gw, "car-in", STRANGER, T0)
    ev = _look(gw, "car-out", STRANGER, T0 + 2 * H)
    assert ev.reason == "payment_due"
    asked = list(_board(gw, "car-out").shown[-1])
    assert asked == ["临时车 请缴费 7元", STRANGER], asked
    gw.by_hand.hold_lane("car-out", "保安 王", "救护车")
    assert _board(gw, "car-out").shown[-1] == ["一路平安"]
    gw.now = lambda: T0 + 2 * H + timedelta(seconds=8)  # type: ignore[method-assign]
    gw.by_hand.release_lane("car-out", "保安 王", "救护车已过")
    held = gw.on_worker(lambda c: gw.parking.car_at_barrier(c, "car-out", gw.now())).result(timeout=10)
    assert held is not None and held[0].plate == STRANGER  # still held there, still owing
    shown = list(_board(gw, "car-out").shown[-1])
    assert shown == asked, f"board after the release reads {shown} at a lowered arm, car owes 7元"


def test_a_car_that_paid_at_the_booth_is_not_asked_to_pay_after_the_release(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """The exit held for a convoy, a temporary car behind it held to pay (请缴费 7元); the driver
    pays 7元 at the booth; the guard releases the lane. The board still said 请缴费 7元 to a driver
    who has paid (any car still held was taken for one being asked). It asks no fee: the arm is
    down, so the idle line, until the car's next decision lets it out."""
    gw = _exit(tmp_path, gateways)
    _look(gw, "car-in", STRANGER, T0)
    gw.by_hand.hold_lane("car-out", "保安 王", "车队")
    ev = _look(gw, "car-out", STRANGER, T0 + 2 * H)
    assert ev.reason == "payment_due"
    assert list(_board(gw, "car-out").shown[-1]) == ["临时车 请缴费 7元", STRANGER]
    paid_at = T0 + 2 * H + timedelta(minutes=1)

    def booth(conn: Connection) -> object:
        with conn:
            return gw.parking.prepay(conn, STRANGER, 700, "cash", "", "booth", paid_at)

    gw.on_worker(booth).result(timeout=10)
    gw.now = lambda: paid_at + timedelta(seconds=20)  # type: ignore[method-assign]
    quote = gw.on_worker(lambda c: gw.parking.lane_quote(c, "car-out", gw.now())).result(timeout=10)
    assert quote is not None and quote["due_fen"] == 0, quote  # paid up, still at the barrier
    gw.by_hand.release_lane("car-out", "保安 王", "车队已过")
    shown = list(_board(gw, "car-out").shown[-1])
    assert shown == IDLE, f"board after the release reads {shown}"
    again = _look(gw, "car-out", STRANGER, paid_at + timedelta(seconds=35))  # read again: let out
    assert again.admitted and list(_board(gw, "car-out").shown[-1]) == ["一路平安", STRANGER]


def test_a_refused_close_whose_release_is_written_later_does_not_leave_the_hold_words(
    tmp_path: Path,
    line: Client,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """The exit is held (一路平安); the guard presses 关闭通道 while the Modbus adapter is unplugged:
    the close is refused (relay_failed), the lane not closed. Plugged back, the relay writes the
    release and the arm comes down, but the board kept 一路平安 over the lowered arm for good (the
    close's release told nothing, and the close that would have never came). It reads the idle
    line, as any release written later does."""
    port = tmp_path / "ttyUSB-rs485"
    port.write_text("")
    gw = _exit(tmp_path, gateways, MODBUS_RELAY.format(port=port))
    relay = gw.devices.lanes["car-out"].relays[0]
    wait_for(lambda: relay.health.online, "the module online")
    gw.now = lambda: T0  # type: ignore[method-assign]
    gw.by_hand.hold_lane("car-out", "保安 王", "车队")
    assert _board(gw, "car-out").shown[-1] == ["一路平安"]
    port.unlink()
    wait_for(lambda: not relay.health.online, "the unplugged adapter to be found")
    with pytest.raises(GatewayError):
        gw.by_hand.set_closed("car-out", True, "保安 王", "封路施工")
    assert gw.by_hand.lane_modes.get("car-out") != "closed"  # the close was refused
    port.write_text("")
    wait_for(lambda: not gw.by_hand.held, "the release written", timeout=30)
    wait_for(lambda: list(_board(gw, "car-out").shown[-1]) == IDLE, "the idle line on the board")


@pytest.mark.parametrize(
    "plate, came_in",
    [
        pytest.param("皖D55555", True, id="a monthly car past its period: 月租到期"),
        pytest.param("苏E99999", False, id="a car with no entry record, refused: 禁止通行"),
    ],
)
def test_the_release_tells_the_car_at_the_barrier_what_its_decision_told_it(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
    plate: str,
    came_in: bool,
) -> None:
    """The words told again after the hold are its decision's, rebuilt from the car the desk finds
    at the barrier: a monthly car whose period ran out is asked 月租到期 请缴费, not 临时车; a car
    refused a moment ago is told its refusal again, not asked a fee nor shown the idle line."""
    gw = _exit(tmp_path, gateways)
    if came_in:
        _look(gw, "car-in", plate, T0)
    _look(gw, "car-out", plate, T0 + 2 * H)
    told = list(_board(gw, "car-out").shown[-1])
    assert told[0].startswith("月租到期 请缴费" if came_in else "禁止通行"), told
    gw.by_hand.hold_lane("car-out", "保安 王", "救护车")
    assert _board(gw, "car-out").shown[-1] == ["一路平安"]
    gw.now = lambda: T0 + 2 * H + timedelta(seconds=8)  # type: ignore[method-assign]
    gw.by_hand.release_lane("car-out", "保安 王", "救护车已过")
    assert list(_board(gw, "car-out").shown[-1]) == told
