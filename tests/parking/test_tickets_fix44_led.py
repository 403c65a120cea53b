"""A no-plate car's ticket on a lane's LED on a busy day: past 99 the ticket's counter has three digits
(无牌-0303-100), past 999 four, and on a panel narrower than the ticket it must still never be
shown as another car's ticket, nor be one the exit cannot read back."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drivers.displays.serial_text import display_bytes
from gateway.core.tickets import as_ticket, half_cells
from gateway.runtime.gateway import Gateway
from gateway.timefmt import to_db
from tests.drivers.conftest import PtyDevice
from tests.parking.test_api import serving
from tests.parking.test_no_plate_car import T0, H, Site


def led_toml(lane: str, port: str, width: int = 8) -> str:
    # As docs/hardware.md's "Serial LED text displays" example (and config/example-estate.toml's).
    return f"""
[[devices]]
id = "{lane}-led"
lane = "{lane}"
kind = "display"
driver = "serial-display"
port = "{port}"
baudrate = 9600
encoding = "gb18030"
line_ending = "crlf"
width = {width}
"""


@pytest.fixture
def panels(tmp_path: Path) -> Iterator[dict[str, PtyDevice]]:
    """The far ends of the entrance's and the exit's LED cables."""
    made = {lane: PtyDevice(tmp_path / f"ttyUSB-{lane}") for lane in ("car-in", "car-out")}
    yield made
    for panel in made.values():
        panel.close()


def _shown(panel: PtyDevice, lines: int, timeout: float = 10.0) -> list[str]:
    """The next `lines` lines the driver sent the panel, as the panel shows them."""
    deadline = time.monotonic() + timeout
    out = b""
    while time.monotonic() < deadline and out.count(b"\r\n") < lines:
        out += panel.pending(0.1)
    return out.decode("gb18030").split("\r\n")[:lines]


def _car_inside_on(s: Site, ticket: str) -> None:
    """A no-plate car that came in earlier today on `ticket` and is still inside: the day's counter
    is there, and the next car with no plate gets the ticket after it."""
    sql = (
        "INSERT INTO stays (subject, plate, class, zone, billing, entered_at)"
        " VALUES (?, ?, 'car', 'main', 'temporary', ?)"
    )

    def insert(conn: sqlite3.Connection) -> None:
        conn.execute(sql, (f"plate:{ticket}", ticket, to_db(T0 - H)))

    s.gw.on_worker(insert).result(10)


def _not_another_ticket(lines: list[str], ticket: str) -> list[str]:
    """The lines a driver or a guard would read as a ticket other than `ticket`."""
    return [line for line in lines if as_ticket(line) not in (None, ticket)]


def test_the_hundredth_no_plate_car_sees_its_own_ticket_on_a_narrow_led(
    make_gw: Callable[..., Gateway], panels: dict[str, PtyDevice]
) -> None:
    """The 100th car with no plate of 3 March gets 无牌-0303-100. On the estate's LED (width = 8,
    counted in characters then) the entrance sent 无牌车 请入场 / 无牌030310 / 0, and the exit
    无牌车 请缴费 / 7元 / 无牌030310 / 0: 无牌030310 is the ticket of the 10th car, the 0 on a line
    a three-line panel does not have. The driver who reads it out, or the guard who copies it onto
    the paper ticket, gives the exit another car's ticket. Each line now reads as no ticket but this
    one, and the ticket's lines read together are what the exit takes typed back. Counted in cells
    (review 56e) a panel 8 wide shows the ticket whole (6.5 cells); one 5 wide (80 dots) must still
    break it."""
    extra = led_toml("car-in", panels["car-in"].path, 5) + led_toml("car-out", panels["car-out"].path, 5)
    with serving(make_gw(extra=extra)) as served:
        s = Site(*served)
        for lane in ("car-in", "car-out"):  # the start's idle line (Review 66L)
            assert _shown(panels[lane], 2) == ["一车一杆", "减速慢行"]
        _car_inside_on(s, "无牌-0303-99")
        came = s.typed("car-in", {"no_plate": True}).json()
        ticket = came["plate"]
        assert ticket == "无牌-0303-100", came
        at_entrance = _shown(panels["car-in"], 4)
        assert _not_another_ticket(at_entrance, ticket) == [], at_entrance
        assert at_entrance == ["无牌车", "请入场", "无牌-0303", "-100"]
        assert as_ticket(" ".join(at_entrance[2:])) == as_ticket("".join(at_entrance[2:])) == ticket

        s.now = T0 + 2 * H
        held = s.typed("car-out", {"plate": "".join(at_entrance[2:])}).json()
        assert (held["plate"], held["reason"]) == (ticket, "payment_due"), held
        at_exit = _shown(panels["car-out"], 4)
        assert _not_another_ticket(at_exit, ticket) == [], at_exit
        assert at_exit == ["无牌车", "请缴费 7元", "无牌-0303", "-100"]


MESSAGES = [[], ["无牌车 请入场"], ["无牌车 请缴费 7元"], ["禁止入内 不在通行时段"]]


@pytest.mark.parametrize("number", ["07", "99", "100", "999", "1000"])
@pytest.mark.parametrize("width", [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16])
def test_a_ticket_on_any_panel_width_reads_as_itself_only(width: int, number: str) -> None:
    """A site's panel may hold any width (config: width in cells, 0 for no limit). On each, whatever the
    message above it: no line is cut off (longer than the panel), no line reads as another
    ticket, and the ticket's own lines, read together with or without a space, are the ticket the
    exit takes."""
    ticket = f"无牌-0303-{number}"
    for message in MESSAGES:
        above = display_bytes(message, "utf-8", "lf", width).decode().splitlines()
        shown = display_bytes([*message, ticket], "utf-8", "lf", width).decode().splitlines()
        assert shown[: len(above)] == above, shown
        own = shown[len(above) :]
        assert not width or all(half_cells(line) <= 2 * width for line in shown), shown
        assert _not_another_ticket(shown, ticket) == [], shown
        assert as_ticket("".join(own)) == as_ticket(" ".join(own)) == ticket, own


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (7, ["无牌-0303-100"]),  # fits as written: 6.5 cells
        (6, ["无牌0303100"]),  # fits without its dashes: 5.5 cells
        (5, ["无牌-0303", "-100"]),  # broken at its dashes: no line is a ticket
        (4, ["无牌", "-0303", "-100"]),
        (2, ["无牌", "0303", "100"]),
    ],
)
def test_a_three_digit_ticket_is_shown_whole_or_broken_at_its_dashes(width: int, expected: list[str]) -> None:
    assert display_bytes(["无牌-0303-100"], "utf-8", "lf", width).decode().splitlines() == expected


def test_a_ticket_in_a_line_with_words_goes_on_lines_of_its_own() -> None:
    """A ticket within a line wider than the panel is not broken in the middle of the line's words."""
    shown = display_bytes(["请 无牌-0303-100 缴费"], "utf-8", "lf", 5).decode().splitlines()
    assert shown == ["请", "无牌-0303", "-100", "缴费"]


def test_the_thousandth_no_plate_car_gets_a_ticket_of_its_own_and_leaves_on_it(
    make_gw: Callable[..., Gateway],
) -> None:
    """Past 999 the counter has four digits (无牌-0303-1000), which the gateway did not take for a
    ticket: the next car with no plate was given 无牌-0303-1000 again, and at the exit the guard
    typing it was told 场内没有该票号的无牌车 (unknown_ticket), the car not let out on its ticket."""
    with serving(make_gw()) as served:
        s = Site(*served)
        _car_inside_on(s, "无牌-0303-999")
        first = s.typed("car-in", {"no_plate": True}).json()["plate"]
        second = s.typed("car-in", {"no_plate": True}).json()["plate"]
        assert (first, second) == ("无牌-0303-1000", "无牌-0303-1001")
        s.now = T0 + 2 * H
        for typed in ("无牌-0303-1000", "无牌03031000", "无牌 0303 1000", "无牌-0303 -1000"):
            held = s.typed("car-out", {"plate": typed})
            assert held.status_code == 200, (typed, held.text)
            assert (held.json()["plate"], held.json()["reason"]) == (first, "payment_due"), typed
