"""REQUIREMENTS 12 (guards recognise the owners): the live page's who-line names the owner's
building and unit. The central server sends them as docs/mqtt.md's example does
("building": "3", "unit": "2", "room": "301"); the page runs them together, so two different
units read the same and the guard cannot tell which household a card belongs to."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from gateway.core import Presented
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import Site, bearer, make_config, served
from tests.ui.test_guard_browser import LANDSCAPE, browser, in_english, page_at, pytestmark  # noqa: F401


@pytest.fixture
def owners_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    with served(make_config(tmp_path / "data", TARIFF_TOML)) as s:
        yield s


def _resident_with_card(
    url: str, site: Site, ref: str, name: str, building: str, unit: str, card: str, room: str = "101"
) -> None:
    admin = bearer(site.admin_token)
    r = httpx2.post(
        f"{url}/api/residents",
        json={"ref": ref, "name": name, "building": building, "unit": unit, "room": room},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    added = httpx2.post(f"{url}/api/cards", json={"card": card, "resident_id": r.json()["id"]}, headers=admin)
    assert added.status_code in (200, 201), added.text


def _tap(site: Site, card: str) -> None:
    p = Presented("door", "card", card, 1.0, site.gw.now(), "door-reader")
    site.gw.on_worker(lambda _: site.gw.handle(p)).result(timeout=10)


def test_two_households_in_different_units_are_told_apart_on_the_live_page(
    owners_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """What the guard sees: 张三 of building 3, unit 12 taps his card, then 张四 of building 31,
    unit 2 taps hers; both panels read "业主 张* 312". What he should see: two different
    addresses (3栋12单元 / 31栋2单元, or at least building and unit kept apart), since the
    who-line is how he recognises which household the card belongs to."""
    site, url = owners_site
    _resident_with_card(url, site, "R31", "张三", "3", "12", "00AA000001")
    _resident_with_card(url, site, "R32", "张四", "31", "2", "00AA000002")
    page = page_at(browser, url, LANDSCAPE)
    who = "#lane-door [data-latest] .who-line"
    _tap(site, "00AA000001")
    page.wait_for_selector("#lane-door [data-latest] >> text=0001")
    first = page.inner_text(who)
    _tap(site, "00AA000002")
    page.wait_for_selector("#lane-door [data-latest] >> text=0002")
    second = page.inner_text(who)
    assert first != second, f"building 3 unit 12 and building 31 unit 2 both read {first!r}"
    assert "3栋12单元" in first, first
    assert "31栋2单元" in second, second


def test_an_english_reading_guard_sees_building_and_unit_named(
    owners_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """What the guard sees on the English page: "Resident 王* 312", as on the Chinese one. What he
    should see: "Bldg 3 Unit 12"; a building stored with its own word (A座) is left as it is."""
    site, url = owners_site
    _resident_with_card(url, site, "R33", "王五", "3", "12", "00AA000003")
    _resident_with_card(url, site, "R34", "王五", "A座", "12", "00AA000004")
    page = page_at(browser, url, LANDSCAPE)
    in_english(page)
    who = "#lane-door [data-latest] .who-line"
    _tap(site, "00AA000003")
    page.wait_for_selector("#lane-door [data-latest] >> text=0003")
    assert page.inner_text(who) == "Resident 王* Bldg 3 Unit 12"
    _tap(site, "00AA000004")
    page.wait_for_selector("#lane-door [data-latest] >> text=0004")
    assert page.inner_text(who) == "Resident 王* A座 Unit 12"


def test_visitor_host_room_typed_in_unit_field_is_not_renamed_a_unit(
    owners_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """The guard registers a visitor for building 3, room 1201, typing "1201" into the
    单元/房号 (unit / room) field, as the form asks. The visitor's QR opens the door and the live
    panel read "访客 王* 3栋1201单元": a unit 1201 that does not exist. docs/guard-app.md (Live
    lanes): "a pass's host building and unit, typed at the booth as unit or room, are shown as
    typed, a space between them" (as the pass page and pass list do: "3 1201"). address() in
    app.js named every bare number a 单元 whoever held it."""
    site, url = owners_site
    # Room 1201 of building 3 is a resident's: a visit is for a place someone lives in.
    _resident_with_card(url, site, "R35", "王六", "3", "2", "00AA000005", room="1201")
    r = httpx2.post(
        f"{url}/api/visitors",
        json={"name": "王五", "host_building": "3", "host_unit": "1201", "destination": "送快递"},
        headers=bearer(site.guard_token),
    )
    assert r.status_code in (200, 201), r.text
    shown = httpx2.get(f"{url}/api/passes/{r.json()['id']}", headers=bearer(site.guard_token)).json()
    page = page_at(browser, url, LANDSCAPE)
    p = Presented("door", "qr", str(shown["qr"]), 1.0, site.gw.now(), "door-reader")
    ev = site.gw.on_worker(lambda _: site.gw.handle(p)).result(timeout=10)
    assert ev.admitted, ev
    page.wait_for_selector("#lane-door [data-latest] .who-line >> text=王")
    who = page.inner_text("#lane-door [data-latest] .who-line")
    assert "1201单元" not in who, f"a room typed as 1201 reads {who!r}"
    assert "3 1201" in who, who
