"""What the lane display tells the driver: 月租到期 only to a car whose monthly period has run out,
and no 请通行 / 一路平安 left on the board of a lane whose barrier came down again (恢复, 关闭通道)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from drivers.simulated import SimulatedDisplay
from gateway.config import parse_config
from gateway.errors import GatewayError
from gateway.runtime.gateway import Gateway
from gateway.store import registry
from tests.conftest import site_toml
from tests.drivers.conftest import gateways, no_leaked_threads, wait_for  # noqa: F401  (fixtures)
from tests.drivers.test_modbus_outcome_again import line  # noqa: F401  (fixture)
from tests.drivers.test_modbus_pulse_outcome import Client, exit_led, exit_on_modbus
from tests.parking.conftest import T0, make_gw, show  # noqa: F401  (fixtures)
from tests.parking.test_debt_follows_plate import DAY2, STRANGER, _owes_a_reentry_charge_and_left_unseen

H = timedelta(hours=1)
DAY = timedelta(days=1)
PAID_UP = "皖C44444"  # R3's monthly car, paid up to 2026-12-31 (tests/parking/conftest.py seed)
LAPSED = "皖D55555"  # R4's monthly car, paid up to 2025-01-31

IN_DEVICES = """
[[devices]]
id = "car-in-led"
lane = "car-in"
kind = "display"
driver = "simulated"
"""


def _board(gw: Gateway, lane: str) -> list[str]:
    display = gw.devices.lanes[lane].displays[0]
    assert isinstance(display, SimulatedDisplay)
    return list(display.shown[-1])


def _resident_id(gw: Gateway, ref: str) -> int:
    return int(gw.conn.execute("SELECT id FROM residents WHERE ref = ?", (ref,)).fetchone()[0])


# ---- 月租到期: only where the period ran out ------------------------------------------------------


def test_a_valid_monthly_car_held_for_a_carried_charge_is_not_told_its_pass_ended(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """A car left owing an 11元 re-entry charge (policy.reentry = "charge") is then registered as R3's
    monthly car, paid up for 300 days. Next day it leaves and is held to pay the 11元: the board
    read 月租到期 请缴费 11元, sending its driver to renew a pass that runs for months. It reads
    请缴费 11元, as for any resident's car (docs/hardware.md *Displays and voice*)."""
    gw = make_gw(reentry="charge")
    _owes_a_reentry_charge_and_left_unseen(gw, STRANGER)
    r3 = _resident_id(gw, "R3")
    registry.add_vehicle(gw.conn, T0 + 6 * H, "admin", STRANGER, r3, "car", T0 + 300 * DAY)
    assert show(gw, "car-in", STRANGER, DAY2).reason == "monthly"  # its pass is valid
    ev = show(gw, "car-out", STRANGER, DAY2 + 2 * H)
    assert (ev.reason, ev.billing, ev.fee_fen) == ("payment_due", "monthly", 1100)
    assert _board(gw, "car-out") == ["请缴费 11元", STRANGER]


def test_a_monthly_car_whose_period_ran_out_while_parked_is_still_told_so(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """R3's monthly car comes in paid up; its period is ended while it is parked (PATCH
    monthly_until null): at its exit it pays for the time after, and is told why, 月租到期."""
    gw = make_gw()
    assert show(gw, "car-in", PAID_UP, T0).reason == "monthly"
    vid = gw.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (PAID_UP,)).fetchone()[0]
    registry.update_vehicle(gw.conn, T0 + H, "admin", vid, {"monthly_until": None})
    ev = show(gw, "car-out", PAID_UP, T0 + 3 * H)
    assert (ev.reason, ev.billing) == ("payment_due", "monthly")
    assert _board(gw, "car-out")[0].startswith("月租到期 请缴费 ")


def test_a_lapsed_car_renewed_while_parked_is_not_sent_to_renew_again(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """R4's car, its month run out, comes in as a temporary car (月租到期 临时车 请入场) and is
    renewed while parked: it pays at its exit for the time before the renewal, asked as a
    resident's car is, not told 月租到期 about a pass renewed since."""
    gw = make_gw()
    assert "monthly_expired" in show(gw, "car-in", LAPSED, T0).flags
    vid = gw.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (LAPSED,)).fetchone()[0]
    registry.update_vehicle(gw.conn, T0 + 2 * H, "admin", vid, {"monthly_until": T0 + 300 * DAY})
    ev = show(gw, "car-out", LAPSED, T0 + 4 * H)
    assert (ev.reason, ev.billing) == ("payment_due", "temporary")
    assert _board(gw, "car-out") == [f"请缴费 {ev.fee_fen // 100}元", LAPSED]


def test_a_car_on_its_own_slot_held_for_a_carried_charge_is_not_told_its_month_ended(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """A stranger's car leaves owing 11元, is then registered as R2's car with a monthly period long
    over and a slot of its own (B009). Next day it parks on its slot, free (billing slot), and is
    held at the exit for the 11元 alone: the board read 月租到期 请缴费 11元, though the lapsed month
    costs it nothing on its own slot. It reads 请缴费 11元."""
    gw = make_gw(reentry="charge")
    _owes_a_reentry_charge_and_left_unseen(gw, STRANGER)
    r2 = _resident_id(gw, "R2")
    registry.add_vehicle(gw.conn, T0 + 6 * H, "admin", STRANGER, r2, "car", T0 - 30 * DAY)
    registry.add_slot(gw.conn, T0 + 6 * H, "admin", "main", "B009", r2, [STRANGER])
    assert show(gw, "car-in", STRANGER, DAY2).billing == "slot"
    ev = show(gw, "car-out", STRANGER, DAY2 + 2 * H)
    assert (ev.reason, ev.billing, ev.fee_fen) == ("payment_due", "slot", 1100)
    assert _board(gw, "car-out") == ["请缴费 11元", STRANGER]


# ---- a lane whose barrier is down again by hand ---------------------------------------------------

IDLE = ["一车一杆 减速慢行"]  # texts.idle_lines: a vehicle lane with nobody being decided


def _entrance(tmp_path: Path, started: Callable[[Gateway], Gateway]) -> tuple[Gateway, SimulatedDisplay]:
    gw = started(Gateway(parse_config(site_toml(tmp_path / "data") + IN_DEVICES, "site.toml")))
    display = gw.devices.lanes["car-in"].displays[0]
    assert isinstance(display, SimulatedDisplay)
    gw.by_hand.hold_lane("car-in", "保安 王", "车队")
    wait_for(lambda: display.shown, "the hold on the board")
    assert display.shown[-1] == ["请通行"]
    return gw, display


def test_a_released_lane_no_longer_tells_drivers_to_go_ahead(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """The guard holds the car entrance open for a convoy (常开): the board reads 请通行. The convoy
    has passed and the guard releases it (恢复): the barrier comes down, yet the board went on
    reading 请通行 to the next car driving up to the lowered arm. It reads the lane's idle line."""
    gw, display = _entrance(tmp_path, gateways)
    gw.by_hand.release_lane("car-in", "保安 王", "车队已过")
    assert display.shown[-1] == IDLE


def test_a_held_lane_closed_reads_closed_and_reopened_reads_idle(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """A held lane closed (set_lane_mode closed: its hold let down first) read 请通行 at a barrier
    that refuses everyone; it reads what its decisions say, 禁止入内 通道已关闭, and once reopened no
    longer tells drivers it is closed."""
    gw, display = _entrance(tmp_path, gateways)
    gw.by_hand.set_lane_mode("car-in", "closed", "保安 王", "封路施工")
    assert display.shown[-1] == ["禁止入内 通道已关闭"]
    gw.by_hand.set_lane_mode("car-in", "normal", "保安 王", "施工结束")
    assert display.shown[-1] == IDLE


def test_a_release_written_later_shows_the_idle_line_once_the_arm_is_down(
    tmp_path: Path,
    line: Client,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """car-out held open on a Modbus barrier reads 一路平安. The adapter is knocked out and the guard
    presses 恢复: the release fails, the arm is still up, and the board still reads 一路平安. Once
    the adapter is back the release is written and the arm comes down: the board went on wishing
    the next driver 一路平安 at the lowered arm. It reads the idle line then."""
    port = tmp_path / "ttyUSB-rs485"
    gw = gateways(exit_on_modbus(tmp_path))
    relay = gw.devices.lanes["car-out"].relays[0]
    wait_for(lambda: relay.health.online, "the module online")
    gw.by_hand.hold_lane("car-out", "保安 王", "车队通过")
    assert exit_led(gw).shown[-1] == ["一路平安"]
    port.unlink()  # the adapter unplugged
    wait_for(lambda: not relay.health.online, "the unplugged adapter to be found")
    with pytest.raises(GatewayError):
        gw.by_hand.release_lane("car-out", "保安 王", "车队已过")
    assert exit_led(gw).shown[-1] == ["一路平安"]  # the arm is still up
    port.write_text("")  # plugged back
    wait_for(lambda: not gw.by_hand.held, "the release written", timeout=30)
    wait_for(lambda: exit_led(gw).shown[-1] == IDLE, "the idle line on the board")
