"""Review 61r: 查询's piece of a plate (61g) missed a green car's plate typed without its province,
and took a surname that is also a province (苏, 鲁) for a piece of every local car's plate.

The seed's resident R1 张三丰 lives at 3栋 / 2单元 / 301 and drives 皖A12345 (tests/ui/conftest.py)."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient

from gateway.store import registry
from tests.ui.conftest import GUARD, Site, bearer, log_in


def _found(client: TestClient, site: Site, q: str) -> tuple[list[str], str]:
    r = client.get("/api/lookup", params={"q": q}, headers=bearer(site.guard_token))
    assert r.status_code == 200, r.text
    return [x["ref"] for x in r.json()], r.headers["X-Total-Count"]


def _add(site: Site, ref: str, name: str, plate: str | None) -> None:
    def run(conn: sqlite3.Connection) -> None:
        now = site.gw.now()
        person = {"ref": ref, "building": "5栋", "unit": "1单元", "room": ref[-3:], "name": name}
        rid = registry.upsert_resident(conn, site.gw.secrets, now, "test", person)
        if plate is not None:
            registry.add_vehicle(conn, now, "test", plate, rid, "car", None)

    site.gw.on_worker(run).result(timeout=30)


@pytest.mark.parametrize("q", ["AD12345", "ad12345", "AD·12345", "AD 12345"])
def test_a_green_plate_typed_without_its_province_finds_its_owner(
    client: TestClient, site: Site, q: str
) -> None:
    """Without its province, 皖AD12345 reads as a whole army plate (two letters, five digits), and a
    whole plate turned the piece search off: the guard got 没有找到."""
    _add(site, "E101", "李四", "皖AD12345")
    _add(site, "E102", "李五", "皖AD67890")
    assert _found(client, site, q) == (["E101"], "1")


def test_the_page_shows_the_owner_of_a_green_plate_typed_without_its_province(
    client: TestClient, site: Site
) -> None:
    _add(site, "E101", "李四", "皖AD12345")
    log_in(client, GUARD)
    page = client.get("/lookup", params={"q": "AD12345"}).text
    assert "没有找到" not in page and "皖AD12345" in page


def test_an_army_plate_typed_whole_comes_first_then_the_plates_holding_it(
    client: TestClient, site: Site
) -> None:
    _add(site, "E101", "李四", "皖AD12345")
    _add(site, "M101", "赵六", "AD12345")
    assert _found(client, site, "AD12345") == (["M101", "E101"], "2")


def test_a_plate_typed_whole_with_its_province_names_its_car_alone(client: TestClient, site: Site) -> None:
    """皖A12345D (a large green car) holds 皖A12345, but the guard typed a whole plate."""
    _add(site, "E101", "李四", "皖A12345D")
    assert _found(client, site, "皖A12345") == (["R1"], "1")


@pytest.mark.parametrize("surname", ["苏", "鲁"])
def test_a_surname_that_is_a_province_finds_that_family_only(
    client: TestClient, site: Site, surname: str
) -> None:
    """Typing 苏 to find 老苏 in a Jiangsu estate listed the 苏 family, then every resident whose car
    has a 苏 plate (共 19938 条 on a register of 20,000)."""
    _add(site, "S101", f"{surname}明", None)
    for i in range(5):
        _add(site, f"W10{i + 2}", "王五", f"{surname}E1234{i}")
    assert _found(client, site, surname) == (["S101"], "1")
    log_in(client, GUARD)
    page = client.get("/lookup", params={"q": surname}).text
    assert f"{surname}E12340" not in page


def test_a_province_with_a_letter_is_still_a_piece_of_plates(client: TestClient, site: Site) -> None:
    _add(site, "S101", "苏明", None)
    for i in range(3):
        _add(site, f"W10{i + 2}", "王五", f"苏E1234{i}")
    assert _found(client, site, "苏E") == (["W102", "W103", "W104"], "3")
