"""Review 65H: on a big estate the visitors page (访客登记 /visitors) drew every current visitor and
every one who left unseen in the past week, 850 rows and 405 KB, with no count of them and no way to
find one: a guard checking out 王芳 of 5栋 scrolled them all, and every check-out drew them again.
GET /api/visitors stopped at its limit and said nothing of the rest.

Now the page shows the first 100 as the API orders them (those overstaying first, in the places the
current passes leave, so a visitor registered now is always shown), says how many there are in all
(显示前 100 条，共 121 条), finds a visitor by name, host building and unit, a piece of the plate or the
phone's last four digits, and shows more on asking; the API says the whole count in X-Total-Count.
The contractors page lists its passes the same way."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, PassKind, create_pass
from gateway.timefmt import to_db
from tests.parking.conftest import DOOR_OUT
from tests.ui.conftest import ADMIN, GUARD, Site, bearer, log_in, make_config, start_site
from tests.ui.test_guard_browser import (  # noqa: F401
    CHROMIUM,
    LANDSCAPE,
    browser,
    browser_site,
    open_page,
    page_at,
)

in_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs the Debian chromium package")

CURRENT, OVERSTAYING = 60, 60  # with her: 121 on the list, 100 of them shown
HER: dict[str, Any] = {
    "name": "王芳",
    "phone": "13912345678",
    "host_building": "5栋",
    "host_unit": "2单元",
    "reason": "探亲",
    "plate": "苏E12345",
}


def _passes(gw: Gateway, kind: PassKind = "visitor", current: int = CURRENT, over: int = OVERSTAYING) -> int:
    """`over` who walked in days ago and were never seen leaving, `current` visiting now (3栋 2单元,
    on foot, no phone), then 王芳 (5栋 2单元, 苏E12345, 139****5678), registered last: her pass's id."""

    def write(conn: sqlite3.Connection) -> int:
        now = gw.now()
        for i in range(over + current):
            start = now - (timedelta(days=1 + i / 20) if i < over else timedelta(minutes=over + current - i))
            p = NewPass(
                kind, f"访客{i}", start, start + timedelta(hours=4), host_building="3栋", host_unit="2单元"
            )
            pid = create_pass(conn, gw.secrets, p, start, "guard1")
            if i < over:
                conn.execute(
                    "INSERT INTO presence (subject, inside, lane, at, people) VALUES (?, 1, 'door', ?, 1)",
                    (f"{kind}:{pid}", to_db(start + timedelta(minutes=5))),
                )
        her = NewPass(kind, valid_from=now, valid_to=now + timedelta(hours=4), **HER)  # type: ignore[arg-type]
        return create_pass(conn, gw.secrets, her, now, "guard1")

    return int(gw.on_worker(write).result(60))


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = start_site(make_config(tmp_path / "data", DOOR_OUT))  # an exit on foot: overstayers are listed
    yield s
    s.gw.stop()


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(create_app(site.gw)) as c:
        yield c


def _rows(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-pass="(\d+)"', page)]


def _csrf(page: str) -> str:
    return page.split('name="csrf" value="')[1].split('"')[0]


def test_the_page_shows_the_first_hundred_and_how_many_in_all(client: TestClient, site: Site) -> None:
    her = _passes(site.gw)
    log_in(client, GUARD)
    page = client.get("/visitors").text
    rows = _rows(page)
    assert len(rows) == 100, f"the visitors page draws {len(rows)} rows of 121"
    assert "显示前 100 条，共 121 条" in page
    # Those overstaying first (in the places the current ones leave), the one registered now shown.
    assert her in rows
    marks = re.findall(r'<tr class="state-\w+( overstaying)?"', page)
    assert marks[:39] == [" overstaying"] * 39 and " overstaying" not in marks[39:]  # 61 current
    assert 'id="pass-more"' in page


def test_more_shows_the_rest(client: TestClient, site: Site) -> None:
    _passes(site.gw)
    log_in(client, GUARD)
    page = client.get("/visitors").text
    more = client.post("/visitors", data={"csrf": _csrf(page), "shown": "200"}).text
    assert len(_rows(more)) == 121 and "共 121 条" not in more and 'id="pass-more"' not in more


@pytest.mark.parametrize(
    "typed",
    ["王芳", "芳", "5栋2单元", "5栋", "五栋二单元", "5-2", "苏E12345", "E123", "5678", "139 1234 5678"],
)
def test_a_search_finds_the_visitor_the_guard_wants(client: TestClient, site: Site, typed: str) -> None:
    her = _passes(site.gw, current=10, over=5)
    log_in(client, GUARD)
    page = client.get("/visitors").text
    assert re.search(r'<form method="post" action="/visitors"', page), "no search on the visitors page"
    found = client.post("/visitors", data={"csrf": _csrf(page), "q": typed})
    assert found.status_code == 200 and _rows(found.text) == [her], f"{typed!r} found {_rows(found.text)}"
    assert "data-search-again" in found.text  # a check-out sends the search again (app.js reloadPage)
    assert found.headers["cache-control"] == "no-store"


def test_a_search_that_finds_none_says_so_and_keeps_what_was_typed(client: TestClient, site: Site) -> None:
    _passes(site.gw, current=3, over=0)
    log_in(client, GUARD)
    page = client.get("/visitors").text
    found = client.post("/visitors", data={"csrf": _csrf(page), "q": "赵六"}).text
    assert _rows(found) == [] and "没有找到" in found and 'value="赵六"' in found


def test_a_search_from_another_site_is_not_run(client: TestClient, site: Site) -> None:
    _passes(site.gw, current=3, over=0)
    log_in(client, GUARD)
    r = client.post("/visitors", data={"csrf": "forged", "q": "王芳"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/visitors"


def test_the_api_says_how_many_in_all(client: TestClient, site: Site) -> None:
    her = _passes(site.gw)
    r = client.get("/api/visitors", params={"limit": 10}, headers=bearer(site.guard_token))
    assert r.status_code == 200 and len(r.json()) == 10 and r.headers.get("X-Total-Count") == "121"
    assert r.json()[0]["id"] == her  # the current ones keep their places, before any overstaying
    every = client.get(
        "/api/visitors", params={"current": False, "limit": 5}, headers=bearer(site.guard_token)
    )
    assert every.headers.get("X-Total-Count") == "121"


def test_the_contractors_page_is_listed_alike(client: TestClient, site: Site) -> None:
    crew = _passes(site.gw, "contractor", current=110, over=0)
    log_in(client, ADMIN)
    page = client.get("/contractors").text
    assert len(_rows(page)) == 100 and "显示前 100 条，共 111 条" in page
    found = client.post("/contractors", data={"csrf": _csrf(page), "q": "王芳"}).text
    assert _rows(found) == [crew]

    def company(conn: sqlite3.Connection) -> int:
        now = site.gw.now()
        p = NewPass("contractor", "李师傅", now, now + timedelta(days=30), company="美家装修")
        return create_pass(conn, site.gw.secrets, p, now, "admin")

    fitters = site.gw.on_worker(company).result(10)
    assert _rows(client.post("/contractors", data={"csrf": _csrf(page), "q": "美家"}).text) == [fitters]
    r = client.get("/api/contractors", params={"limit": 5}, headers=bearer(site.admin_token))
    assert r.headers.get("X-Total-Count") == "112"  # with the fitters


@in_chromium
def test_a_check_out_from_a_search_shows_the_search_again(browser, browser_site) -> None:  # noqa: F811
    """The guard finds 王芳 and checks her out: the page reloads with the same search (never every
    visitor, nor the browser's "confirm form resubmission"), and what he typed is not in the address."""
    site, url = browser_site
    her = _passes(site.gw, current=5, over=0)
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "visitors")
    page.fill("#pass-q", "王芳")
    with page.expect_navigation(wait_until="load"):
        page.press("#pass-q", "Enter")
    assert page.locator("[data-pass]").count() == 1
    with page.expect_navigation(wait_until="load"):
        page.click(f'[data-pass="{her}"] button[data-post]')
    assert page.url == f"{url}/visitors" and page.input_value("#pass-q") == "王芳"
    assert page.locator("[data-pass]").count() == 0  # checked out: off the list, the others not drawn
    page.reload(wait_until="load")  # the guard's own reload: every visitor afresh
    assert page.input_value("#pass-q") == "" and page.locator("[data-pass]").count() == 5
    assert page.errors == []
    page.context.close()
