"""纠正车牌 on a misread car that has no plate: the guard taps or types 无牌车. At an entrance the
entry is given its ticket (Review 60i); at an exit it is refused in words of its own."""

from __future__ import annotations

from typing import Any

import httpx2

from gateway.core import Presented
from tests.ui.conftest import Site, bearer, stored
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at, pytestmark  # noqa: F401
from tests.ui.words_helpers import bad_toast, own_site  # noqa: F401


def test_an_entry_corrected_to_no_plate_shows_its_ticket(
    own_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The camera read a paper plate as 皖K7E2Q9 and let the car in; the guard taps 无牌车 in the
    correction dialog: the panel shows the ticket to hand the driver, under 无牌车 票号."""
    site, url = own_site
    page = page_at(browser, url, LANDSCAPE)
    site.gw.present(Presented("car-in", "plate", "皖K7E2Q9", 0.6, site.gw.now(), "cam"))
    page.wait_for_selector("#lane-car-in [data-latest] >> text=皖K7E2Q9")
    page.click("#lane-car-in [data-latest] [data-correct]")
    page.wait_for_selector("#plate-dialog[open]")
    page.click("#plate-none")
    page.wait_for_selector("#lane-car-in [data-latest] .ticket-label")
    ticket = stored(site, "SELECT plate FROM plate_corrections")
    latest = page.inner_text("#lane-car-in [data-latest]")
    assert "无牌车 票号" in latest and ticket[0][0] in latest, latest
    assert stored(site, "SELECT plate FROM stays WHERE exited_at IS NULL") == ticket


def test_an_exit_record_corrected_to_no_plate_is_told_to_leave_on_its_ticket(
    own_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """At an exit the car leaves on the ticket it was given: 无牌车 typed is not called a ticket, and
    the guard is told to type or pick it."""
    site, url = own_site
    page = page_at(browser, url, LANDSCAPE)
    site.gw.present(Presented("car-out", "plate", "皖K7E2Q9", 0.6, site.gw.now(), "cam"))
    page.wait_for_selector("#lane-car-out [data-latest] >> text=皖K7E2Q9")
    page.click("#lane-car-out [data-latest] [data-correct]")
    page.wait_for_selector("#plate-dialog[open]")
    assert page.is_hidden("#plate-none"), "an exit's correction offers 无牌车"
    page.fill("#plate-input", "无牌车")
    page.click("#plate-ok")
    told = bad_toast(page)
    assert "票号，不是车牌" not in told, f"无牌车 typed is called a ticket: {told}"
    assert "输入车牌" in told and "票号" in told, f"not told the car leaves on its ticket: {told}"


def test_the_answer_has_a_code_of_its_own(own_site: tuple[Site, str]) -> None:  # noqa: F811
    """422 `no_plate_not_a_plate` for 无牌车 (无牌, 无车牌) as a correction at an exit, nothing
    corrected; a ticket typed stays `ticket_not_a_plate`."""
    site, url = own_site
    site.gw.present(Presented("car-out", "plate", "皖K7E2Q9", 0.6, site.gw.now(), "cam"))
    event_id = stored(site, "SELECT event_id FROM access_log WHERE value = '皖K7E2Q9'")[0][0]
    guard = bearer(site.guard_token)
    for words in ("无牌车", "无牌", "无车牌"):
        answer = httpx2.post(f"{url}/api/events/{event_id}/plate", json={"plate": words}, headers=guard)
        refused = (answer.status_code, answer.json()["error"]["code"])
        assert refused == (422, "no_plate_not_a_plate"), answer.text
    ticket = httpx2.post(f"{url}/api/events/{event_id}/plate", json={"plate": "无牌-0303-07"}, headers=guard)
    assert (ticket.status_code, ticket.json()["error"]["code"]) == (422, "ticket_not_a_plate"), ticket.text
    assert stored(site, "SELECT count(*) FROM plate_corrections") == [(0,)]
