"""Review 61g: the guard's 查询 finds a resident by what the guard can read off the car or is told.

The seed's resident R1 张三丰 lives at 3栋 / 2单元 / 301 and drives 皖A12345 (tests/ui/conftest.py)."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient

from gateway.store import registry
from gateway.store.units import parse_flat, parse_unit
from plates.grammar import serial_as_digits
from tests.ui.conftest import GUARD, Site, bearer, log_in


def _refs(client: TestClient, site: Site, q: str) -> list[str]:
    r = client.get("/api/lookup", params={"q": q}, headers=bearer(site.guard_token))
    assert r.status_code == 200, r.text
    return [x["ref"] for x in r.json()]


def _add(site: Site, ref: str, building: str, unit: str, room: str, plate: str | None) -> None:
    def run(conn: sqlite3.Connection) -> None:
        now = site.gw.now()
        person = {"ref": ref, "building": building, "unit": unit, "room": room, "name": "李四"}
        rid = registry.upsert_resident(conn, site.gw.secrets, now, "test", person)
        if plate is not None:
            registry.add_vehicle(conn, now, "test", plate, rid, "car", None)

    site.gw.on_worker(run).result(timeout=30)


@pytest.mark.parametrize("q", ["A12345", "a12345", "A·12345", "a 12345", "A1234", "12345"])
def test_a_plate_typed_without_its_province_finds_its_owner(
    client: TestClient,
    site: Site,
    q: str,
) -> None:
    """Typing 皖 takes the Chinese input method; at the rush a guard types the letters and digits
    he reads off the car. It found nobody (没有找到); a piece of a plate finds its owner, and not a
    neighbour whose plate does not hold it."""
    _add(site, "R2", "3栋", "2单元", "302", "皖B67890")
    assert _refs(client, site, q) == ["R1"]


def test_the_page_shows_the_owner_of_a_plate_typed_without_its_province(
    client: TestClient,
    site: Site,
) -> None:
    log_in(client, GUARD)
    page = client.get("/lookup", params={"q": "A12345"}).text
    assert "没有找到" not in page and "皖A12345" in page


def test_a_short_piece_of_plates_lists_the_first_and_says_how_many(
    client: TestClient,
    site: Site,
) -> None:
    """A piece many plates hold is treated as a piece of a name is: the first 20 and the count."""
    for i in range(24):
        _add(site, f"C{i:02d}", "5栋", "1单元", f"{101 + i}", f"皖C{i:05d}")
    r = client.get("/api/lookup", params={"q": "C000"}, headers=bearer(site.guard_token))
    assert len(r.json()) == 20 and r.headers["X-Total-Count"] == "24"
    log_in(client, GUARD)
    assert "显示前 20 条，共 24 条" in client.get("/lookup", params={"q": "C000"}).text


@pytest.mark.parametrize("q", ["皖AI2345", "皖Al2345", "皖Ai2345", "AI2345"])
def test_a_letter_i_in_a_plates_serial_is_read_as_the_digit_one(
    client: TestClient,
    site: Site,
    q: str,
) -> None:
    """A Chinese plate's serial never holds I or O (GA 36), so 皖AI2345 can only be 皖A12345; it
    found nobody."""
    assert _refs(client, site, q) == ["R1"]


def test_a_letter_o_in_a_plates_serial_is_read_as_the_digit_zero(
    client: TestClient,
    site: Site,
) -> None:
    _add(site, "R3", "3栋", "2单元", "303", "皖A12305")
    assert _refs(client, site, "皖A123O5") == ["R3"]
    assert _refs(client, site, "A123O5") == ["R3"]


def test_l_typed_small_may_be_the_letter_l_too(
    client: TestClient,
    site: Site,
) -> None:
    """L is a serial's letter: 皖Al2345 lists the owner of 皖AL2345 as well as 皖A12345's."""
    _add(site, "R4", "4栋", "1单元", "101", "皖AL2345")
    assert sorted(_refs(client, site, "皖Al2345")) == ["R1", "R4"]
    assert _refs(client, site, "皖AL2345") == ["R4"]


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("皖AI2345", "皖A12345"),
        ("皖Al2345", "皖A12345"),
        ("粤OI234O", "粤O12340"),  # 粤O: O is an office letter
        ("AO1234", "A01234"),
        ("2O45", "2045"),
        ("使O30301", "使030301"),
        ("皖AL2345", "皖AL2345"),
    ],
)
def test_serial_as_digits(typed: str, read: str) -> None:
    assert serial_as_digits(typed) == read


@pytest.mark.parametrize("q", ["3-2-301", "3-2-301室", "3#2-301", "３－２－３０１", "3—2—301", "3 - 2 - 301"])
def test_a_flat_written_with_dashes_finds_its_resident(
    client: TestClient,
    site: Site,
    q: str,
) -> None:
    """3-2-301 is how couriers, visitors and the property office write 3栋2单元301: it found nobody.
    The flat only: not the neighbour in 302, nor a plate holding the digits."""
    _add(site, "R2", "3栋", "2单元", "302", "皖B32301")
    assert _refs(client, site, q) == ["R1"]


def test_a_flat_with_dashes_finds_a_resident_the_centre_sent_with_bare_numbers(
    client: TestClient,
    site: Site,
) -> None:
    _add(site, "C1201", "7", "4", "1201", None)
    assert _refs(client, site, "7-4-1201") == ["C1201"]


@pytest.mark.parametrize(
    ("typed", "flat"),
    [
        ("3-2-301", ("3", "2", "301")),
        ("3#2-301室", ("3", "2", "301")),
        ("A-12-B01", ("A", "12", "B01")),
        ("3-2", None),  # no room: could be anything (a ticket's number is 0303-1)
        ("139-1234-5678", None),  # a phone number written with dashes
        ("3-2-301-5", None),
    ],
)
def test_a_dashed_flat_is_read_with_its_room_only(typed: str, flat: tuple[str, str, str] | None) -> None:
    found = parse_flat(typed)
    assert (None if found is None else (*found.unit, found.room)) == flat
    assert parse_unit(typed) is None  # a unit alone is still written with its words
