"""A car with no plate (无牌车) as the guard, the driver and the accountant meet it: the ticket typed
back in Chinese punctuation mode, the ticket whole on an 8-character LED, and a ticket never given
again to a car that would be asked another car's debt on it."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from drivers.displays.serial_text import display_bytes
from gateway.core.tickets import as_ticket
from gateway.runtime.gateway import Gateway
from gateway.store import tickets
from gateway.store.retention import prune_access_records, prune_closed_stays
from tests.parking.test_api import serving
from tests.parking.test_no_plate_car import ENTRANCE_DISPLAY, T0, TICKET_1, TICKET_2, H, M, Site
from tests.parking.test_opened_by_hand import RELAY


@pytest.mark.parametrize("dash", ["—", "–", "―", "‐", "‑", "‒", "——", "－"])
def test_a_ticket_reads_the_dashes_of_a_chinese_keyboard(dash: str) -> None:
    assert as_ticket(f"无牌{dash}0303{dash}07") == "无牌-0303-07"


def test_ticket_typed_back_with_the_chinese_dash_is_found(make_gw: Callable[..., Gateway]) -> None:
    """At the exit the guard types the ticket off the paper in Chinese punctuation mode, where the
    dash key gives — (U+2014): 无牌—0303—01. He was told 422 "'无牌—0303—01' is not a Chinese
    licence plate ... type the plate as it is on the car" (for a car that has none), and the car
    was not held for its fee. The gateway reads the Chinese dashes as '-' in hours (core/windows.py)
    and now in a ticket: the car is decided on its ticket, held to pay, and the quote, the stays and
    the 车位 search find it too."""
    with serving(make_gw()) as served:
        s = Site(*served)
        assert s.typed("car-in", {"no_plate": True}).json()["plate"] == TICKET_1
        s.now = T0 + 2 * H
        out = s.typed("car-out", {"plate": "无牌—0303—01"})
        assert out.status_code == 200, out.text
        assert (out.json()["plate"], out.json()["reason"]) == (TICKET_1, "payment_due")
        quote = s.client.get("/api/parking/quote", params={"plate": "无牌–0303–01"}, headers=s.auth)
        assert quote.status_code == 200 and quote.json()["plate"] == TICKET_1, quote.text
        stays = s.client.get("/api/parking/stays", params={"plate": "无牌—0303—01"}, headers=s.auth)
        assert [st["plate"] for st in stays.json()] == [TICKET_1], stays.text


def test_a_ticket_typed_wrong_at_the_exit_is_told_the_tickets_inside(make_gw: Callable[..., Gateway]) -> None:
    """A ticket typed back short of its counter (无牌—0303) or with a letter for a digit was told
    it is not a Chinese licence plate and to type the plate on the car, which has none: it is an
    unknown ticket, the fix naming the tickets of the cars inside; nothing decided or recorded."""
    with serving(make_gw()) as served:
        s = Site(*served)
        s.typed("car-in", {"no_plate": True})
        logged = s.read("SELECT count(*) FROM access_log")
        for typed in ("无牌—0303", "无牌-0303-0l", "无牌 0303—1"):
            wrong = s.typed("car-out", {"plate": typed})
            assert wrong.status_code == 404, (typed, wrong.text)
            error = wrong.json()["error"]
            assert error["code"] == "unknown_ticket" and TICKET_1 in error["fix"], (typed, error)
        at_entrance = s.typed("car-in", {"plate": "无牌—0303"})
        assert at_entrance.json()["error"]["code"] == "ticket_at_entrance", at_entrance.text
        assert s.read("SELECT count(*) FROM access_log") == logged


def test_held_no_plate_car_sees_its_whole_ticket_on_a_narrow_led(
    make_gw: Callable[..., Gateway],
) -> None:
    """A no-plate car held at the exit on docs/hardware.md's LED (width = 8, in characters then:
    'a panel of three lines shows the fee and the plate'). The gateway sends 无牌车 请缴费 7元 /
    无牌-0303-01, which went out as 无牌车 请缴费 / 7元 / 无牌-0303- / 01: four lines, the
    counter the driver must check on a fourth line the panel does not have, and the ticket cut in
    two at the entrance too. A plate shows whole on such a line (the special plates were made to
    fit 8 characters); the ticket does too, as 无牌030301, which the exit reads back. Counted in
    cells (review 56e: a digit is half a Chinese character) a panel 8 wide shows 无牌-0303-01 as
    written; one 5 wide (80 dots) is where it must go without its dashes."""
    with serving(make_gw(extra=ENTRANCE_DISPLAY)) as served:
        s = Site(*served)
        s.typed("car-in", {"no_plate": True})
        s.now = T0 + 2 * H
        held = s.typed("car-out", {"plate": TICKET_1}).json()
        assert held["reason"] == "payment_due"
        for lane in ("car-in", "car-out"):
            lines = display_bytes(s.gw.devices.lanes[lane].displays[0].shown[-1], "gb18030", "lf", 5)
            shown = lines.decode("gb18030").splitlines()
            assert len(shown) <= 3, (lane, shown)
            assert "无牌030301" in shown and as_ticket("无牌030301") == TICKET_1, (lane, shown)


def test_a_ticket_fits_a_panel_as_it_is_where_it_can() -> None:
    """Only a line wider than the panel is shortened: a wide panel shows the ticket as written."""
    lines = ["无牌车 请缴费 7元", "无牌-0303-07"]
    assert display_bytes(lines, "utf-8", "lf", 16).decode().splitlines() == lines
    assert display_bytes(lines, "utf-8", "lf").decode().splitlines() == lines
    assert display_bytes(lines, "utf-8", "lf", 8).decode().splitlines() == [
        "无牌车 请缴费",
        "7元",
        "无牌-0303-07",  # 6 cells
    ]
    assert display_bytes(lines, "utf-8", "lf", 5).decode().splitlines() == [
        "无牌车",
        "请缴费 7元",
        "无牌030307",  # 5 cells
    ]


def _let_out_owing(s: Site) -> None:
    """The car on TICKET_1 held for 7元 and let out by hand: the 7元 carried, unpaid, on its ticket."""
    s.typed("car-in", {"no_plate": True})
    s.now = T0 + 2 * H
    assert s.typed("car-out", {"plate": TICKET_1}).json()["reason"] == "payment_due"
    opened = s.client.post("/api/lanes/car-out/open", headers=s.auth, json={"reason": "司机说回头再付"})
    assert opened.status_code == 200, opened.text
    until = time.monotonic() + 10
    while not s.read("SELECT 1 FROM charges") and time.monotonic() < until:
        time.sleep(0.05)
    assert s.read("SELECT plate, amount_fen FROM charges WHERE settled_at IS NULL") == [(TICKET_1, 700)]


@pytest.mark.parametrize("records_pruned", [False, True], ids=["records-kept", "records-past-retention"])
def test_a_ticket_given_again_a_year_later_is_not_asked_another_cars_fee(
    make_gw: Callable[..., Gateway], records_pruned: bool
) -> None:
    """policy.reentry = "charge". 3 March 2025: a no-plate car on 无牌-0303-01 is held for 7元 and
    the guard lets it out by hand: the 7元 is carried, unpaid, on its 'plate', the ticket (a car
    with no plate never comes back on the same ticket: each entry gives a new one). 3 March 2026:
    another car with no plate was given the same ticket, 无牌-0303-01 (the ticket has no year), and
    at its exit its driver was asked 12元: his 5元 and the stranger's 7元. A ticket is not given
    again while a record names it or a charge is owed on it (the access records of a year ago gone
    by retention, 180 days by default, the charge still is): the new car gets 无牌-0303-02 and
    pays its own 5元."""
    with serving(make_gw(reentry="charge", extra=RELAY)) as served:
        s = Site(*served)
        _let_out_owing(s)
        year_on = T0.replace(year=2026)
        if records_pruned:
            s.now = year_on - 2 * H  # a car of the day before: the newest record, which retention keeps
            s.show("car-in", "苏E12345")
            s.gw.on_worker(lambda c: prune_access_records(c, year_on - H, upstream=False)).result(10)
            s.gw.on_worker(lambda c: prune_closed_stays(c, year_on - H)).result(10)
            assert s.read("SELECT count(*) FROM access_log WHERE value = ?", TICKET_1) == [(0,)]
        s.now = year_on
        other = s.typed("car-in", {"no_plate": True}).json()
        assert other["plate"] == TICKET_2
        s.now = year_on + 40 * M
        quote = s.client.get("/api/parking/quote", params={"plate": other["plate"]}, headers=s.auth).json()
        assert (quote["fee_fen"], quote["carried_fen"], quote["due_fen"]) == (500, 0, 500), quote
        # The debt stays on record, on the ticket of the car that ran it up, for the accountant.
        assert s.read("SELECT plate, amount_fen FROM charges WHERE settled_at IS NULL") == [(TICKET_1, 700)]
        owed = s.client.get("/api/parking/quote", params={"plate": TICKET_1}, headers=s.auth).json()
        assert owed["carried_fen"] == 700, owed


def test_the_next_ticket_is_found_through_indexes(make_gw: Callable[..., Gateway]) -> None:
    """The numbers given on that day of every year, the cars inside and the charges owed are read
    in the entrance decision's transaction: through an index each, never a scan of the access
    log (a busy estate keeps about a million records) while the lanes wait."""
    conn = make_gw().conn
    span = {"lo": "无牌-0303-", "hi": "无牌-0303.", "start": "2025", "end": "2026"}
    for sql in (tickets._GIVEN_OF_DAY, tickets._STAYED_OF_DAY, tickets._OWED_OF_DAY):
        plan = " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", span))
        assert "USING" in plan and "INDEX" in plan, (sql, plan)
