"""What the lane's LED display tells a driver, through the runtime: on a real pty as docs/hardware.md's
example display (width = 8), and on the simulated display the demo uses."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from drivers.displays.serial_text import display_bytes
from gateway.config import parse_config
from gateway.core import Presented
from gateway.core.tickets import half_cells
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.runtime.texts import REASONS, display_lines
from tests.conftest import TARIFF_TOML, site_toml
from tests.drivers.conftest import PtyDevice


def led_toml(port: str) -> str:
    # As docs/hardware.md's "Serial LED text displays" example, on the exit lane.
    return f"""
[[devices]]
id = "car-out-led"
lane = "car-out"
kind = "display"
driver = "serial-display"
port = "{port}"
baudrate = 9600
encoding = "gb18030"
line_ending = "crlf"
width = 8
"""


def simulated_led(lane: str) -> str:
    return f"""
[[devices]]
id = "{lane}-led"
lane = "{lane}"
kind = "display"
driver = "simulated"
"""


@pytest.fixture
def started(gateways: Callable[[Gateway], Gateway]) -> Callable[[str], Gateway]:
    """A gateway from a site file's text, started, and stopped after the test."""
    return lambda text: gateways(Gateway(parse_config(text, "site.toml")))


def _shown(panel: PtyDevice, lines: int, timeout: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout
    out = b""
    while time.monotonic() < deadline and out.count(b"\r\n") < lines:
        out += panel.pending(0.1)
    return out.decode("gb18030").split("\r\n")[:lines]


def _displayed(gw: Gateway, lane: str, timeout: float = 30.0) -> list[str]:
    display = gw.devices.lanes[lane].displays[0]
    deadline = time.monotonic() + timeout
    while len(display.shown) < 2 and time.monotonic() < deadline:  # after the start's idle line
        time.sleep(0.02)
    assert len(display.shown) > 1, "nothing was shown"
    return list(display.shown[-1])


def test_the_exit_display_shows_the_fee_a_held_car_must_pay(
    tmp_path: Path,
    started: Callable[[str], Gateway],
    pty_device: Callable[[str], PtyDevice],
) -> None:
    """docs/parking.md: 'the lane display shows 临时车 请缴费 7元 and the plate'. On the docs' own
    display (8 characters a line) the fee went over the edge and was cut off: the driver who must
    pay never saw how much. It goes on the next line, whole."""
    panel = pty_device("ttyUSB-led")
    gw = started(site_toml(tmp_path / "data") + TARIFF_TOML + led_toml(panel.path))
    assert _shown(panel, 2) == ["一车一杆", "减速慢行"]  # the start's idle line (Review 66L)
    now = gw.now()
    gw.present(Presented("car-in", "plate", "鲁B12345", 0.99, now - timedelta(hours=2), "cam"))
    gw.present(Presented("car-out", "plate", "鲁B12345", 0.99, now, "cam"))
    assert _shown(panel, 3) == ["临时车 请缴费", "7元", "鲁B12345"]


def _refused(reason: str) -> AccessEvent:
    return AccessEvent(
        "e1", datetime.now(UTC), "lane", "cam", "plate", "皖A12345", 0.99, False, reason, None, (), "",
        None, None, None, "", "", "", None, "car", "皖A12345", None, None, fee_fen=1050,
    )  # fmt: skip


@pytest.mark.parametrize("reason", sorted(REASONS))
@pytest.mark.parametrize("direction", ["entrance", "exit"])
def test_a_refusal_on_a_narrow_display_is_never_cut_mid_word(reason: str, direction: str) -> None:
    """禁止入内 不在通行时段 on an 8-character (128-dot) panel read 禁止入内 不在通: each word a driver
    is shown stays whole, on a line of its own where the line is too long."""
    lines = display_lines(_refused(reason), "zh", direction)
    shown = display_bytes(lines, "utf-8", "lf", width=8).decode().splitlines()
    assert all(half_cells(line) <= 16 for line in shown), shown
    assert " ".join(shown) == " ".join(lines), shown


def test_a_car_kept_in_at_the_exit_is_not_told_no_entry(
    tmp_path: Path, started: Callable[[str], Gateway]
) -> None:
    """exit_without_entry = "guard" (the default): a stranger's car at the exit with no entry record
    waits for the guard. The exit display told a driver who is trying to leave 禁止入内 (no entry)."""
    gw = started(site_toml(tmp_path / "data") + simulated_led("car-out"))
    gw.present(Presented("car-out", "plate", "鲁B54321", 0.99, gw.now(), "cam"))
    first = _displayed(gw, "car-out")[0]
    assert first.startswith("禁止通行") and "禁止入内" not in first, first


def test_closed_management_refusal_says_no_entry_once(
    tmp_path: Path, started: Callable[[str], Gateway]
) -> None:
    """A stranger's car at the entrance during closed management: the display read
    禁止入内 封闭管理期间 禁止入内 (the same 'no entry' twice), a line wasted on an LED panel."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()  # the test site's zone
    closed = f"""
[[policy.closed_management]]
first_day = {today}
last_day = {today}
"""
    gw = started(site_toml(tmp_path / "data") + simulated_led("car-in") + closed)
    gw.present(Presented("car-in", "plate", "鲁B54321", 0.99, gw.now(), "cam"))
    assert _displayed(gw, "car-in") == ["禁止入内 封闭管理中", "鲁B54321"]
