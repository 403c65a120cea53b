"""The lookup page, for a flat typed whole with its room (7栋4单元1201), where the central server sent
its residents with bare numbers (7 / 4 / 1201)."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient

from gateway.store import registry
from gateway.store.units import parse_flat, parse_unit
from tests.parking.test_unit_as_shown import guard_client, guard_site  # noqa: F401 (fixtures)
from tests.ui.conftest import Site, bearer


def _refs(site: Site, client: TestClient, q: str) -> list[str]:
    r = client.get("/api/lookup", params={"q": q}, headers=bearer(site.guard_token))
    assert r.status_code == 200, r.text
    return [x["ref"] for x in r.json()]


def _centre_residents(site: Site) -> None:
    def add(conn: sqlite3.Connection) -> None:
        for ref, room, name in (("C1201", "1201", "孙七"), ("C1202", "1202", "周八")):
            person = {"ref": ref, "building": "7", "unit": "4", "room": room, "name": name}
            registry.upsert_resident(conn, site.gw.secrets, site.gw.now(), "centre", person)

    site.gw.on_worker(add).result(timeout=30)


@pytest.mark.parametrize(
    "typed", ["7栋4单元1201", "7栋4单元 1201", "７号楼４单元１２０１室", "7栋4单元1201室"]
)
def test_a_flat_typed_with_its_room_finds_its_resident(
    guard_client: TestClient,  # noqa: F811
    guard_site: Site,  # noqa: F811
    typed: str,
) -> None:
    """A visitor tells the guard 7栋4单元1201, the way an address is said and written. 7栋4单元
    finds the whole unit (guard-app.md: a building and unit typed whole, also where the central
    server sent it as 7 / 4), and the page says to type more, a room number, to narrow it: but
    7栋4单元1201 (or with a space before the room) found nobody at all for the centre's residents,
    while the same address found a resident imported as 7栋 / 4单元. The guard gets the resident of
    room 1201 (and not the neighbour in 1202)."""
    _centre_residents(guard_site)
    assert sorted(_refs(guard_site, guard_client, "7栋4单元")) == ["C1201", "C1202"]  # the unit: found
    assert _refs(guard_site, guard_client, typed) == ["C1201"], f"{typed} finds nobody"


def test_a_flat_typed_with_its_room_still_finds_a_resident_stored_with_words(
    guard_client: TestClient,  # noqa: F811
    guard_site: Site,  # noqa: F811
) -> None:
    """The site's own resident R1 is stored as the pages show it (3栋 / 2单元): found by its flat
    too, and a room nobody lives in finds nobody."""
    site, client = guard_site, guard_client
    room = site.gw.on_worker(
        lambda conn: conn.execute("SELECT room FROM residents WHERE ref = 'R1'").fetchone()[0]
    ).result(timeout=10)
    assert "R1" in _refs(site, client, f"3栋2单元{room}")
    assert _refs(site, client, "3栋2单元9999") == []


@pytest.mark.parametrize(
    ("typed", "flat"),
    [
        ("7栋4单元", ("7", "4", None)),
        ("7栋4单元1201", ("7", "4", "1201")),
        ("7栋4单元 1201", ("7", "4", "1201")),
        ("７号楼 ４单元 １２０１室", ("7", "4", "1201")),
        ("A幢12单元B01", ("A", "12", "B01")),
        ("74", None),
        ("4单元1201", None),
    ],
)
def test_a_query_names_a_unit_and_maybe_its_room(
    typed: str, flat: tuple[str, str, str | None] | None
) -> None:
    """A building and unit typed whole, each with its word, then optionally a room (室 too); a
    unit typed alone is still the unit parse_unit gives."""
    found = parse_flat(typed)
    assert (None if found is None else (*found.unit, found.room)) == flat
    assert parse_unit(typed) == (flat[:2] if flat is not None and flat[2] is None else None)
