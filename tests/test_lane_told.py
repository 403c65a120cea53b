"""What the lane's board tells the driver or walker: at a lane a guard holds open, and a monthly car
(月租车) whose paid-up period has ended."""

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
from tests.parking.conftest import T0, make_gw, show  # noqa: F401  (fixtures)

H = timedelta(hours=1)
LAPSED = "皖D55555"  # R4's monthly car, paid up to 2025-01-31 (tests/parking/conftest.py seed)

DOOR_LED = """
[[devices]]
id = "door-led"
lane = "door"
kind = "display"
driver = "simulated"
"""

ENTRANCE_LED = """
[[devices]]
id = "car-in-display"
lane = "car-in"
kind = "display"
driver = "simulated"
"""


def _board(gw: Gateway, lane: str) -> list[str]:
    display = gw.devices.lanes[lane].displays[0]
    assert isinstance(display, SimulatedDisplay)
    return display.shown[-1]


def test_board_stops_refusing_once_the_guard_holds_the_door_open(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """A card nobody registered is refused at the pedestrian door: the board reads 禁止入内 未登记.
    The guard then holds the door open (常开: a crowd for a community event, a removal crew). The
    lock is released and people walk through, but the board goes on telling every one of them
    禁止入内 未登记 until the next card is read. The guard's single opening replaces that text with
    请通行 precisely so the board "no longer reads 禁止入内" at a door opened for whoever is there
    (docs/hardware.md *Displays and voice*, docs/guard-app.md); a door held open is opened for
    whoever is there too and should read 请通行 likewise."""
    gw = gateways(Gateway(parse_config(site_toml(tmp_path / "data") + DOOR_LED, "site.toml")))
    display = gw.devices.lanes["door"].displays[0]
    assert isinstance(display, SimulatedDisplay)
    display.shown.clear()  # the start's idle line (Review 66L)
    gw.present(Presented("door", "card", "0909090909", 1.0, gw.now(), "reader"))
    wait_for(lambda: display.shown, "the refusal on the board")
    assert display.shown[-1] == ["禁止入内 未登记"]
    gw.by_hand.hold_lane("door", "保安 王", "社区活动 常开")
    assert gw.by_hand.held.get("door") == "保安 王"
    assert display.shown[-1] == ["请通行"], (
        f"the door is held open, yet the board still reads {display.shown[-1]}"
    )


def test_lapsed_monthly_car_is_told_its_month_ended_at_the_exit(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """A monthly car whose period ended last month comes in (admitted as temporary, flag
    monthly_expired) and is held at the exit for 7元. The board read just 请缴费 7元, so the driver,
    who believes he holds a monthly pass, was asked for money with no reason and argued with the
    guard. A monthly car whose period ended while it was parked is told 月租到期 请缴费 7元 at the
    same exit (docs/parking.md *Monthly*); the car whose period ended before it came in is just as
    much a monthly car past its period (the flag the guard and the centre get says so) and reads
    月租到期 too."""
    gw = make_gw()
    entry = show(gw, "car-in", LAPSED, T0)
    assert entry.reason == "temporary" and "monthly_expired" in entry.flags
    held = show(gw, "car-out", LAPSED, T0 + 2 * H)
    assert (held.reason, held.fee_fen) == ("payment_due", 700)
    assert _board(gw, "car-out") == ["月租到期 请缴费 7元", LAPSED]


def test_lapsed_monthly_car_is_told_its_month_ended_at_the_entrance(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The same lapsed monthly car at the entrance: the board greeted it 临时车 请入场 / 皖D55555,
    telling the driver he is a stranger's car (or that the camera misread him) rather than that
    his monthly period has ended and he will pay by time until it is renewed. The gateway knows
    (flag monthly_expired, 'the guard explains why it pays', docs/parking.md); the driver, who is
    the one to renew, is told at the board: 月租到期 临时车 请入场."""
    gw = make_gw(extra=ENTRANCE_LED)
    entry = show(gw, "car-in", LAPSED, T0)
    assert entry.admitted and "monthly_expired" in entry.flags
    assert _board(gw, "car-in") == ["月租到期 临时车 请入场", LAPSED]
