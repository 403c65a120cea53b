"""Review 60x: a pass registered for several people (人数 4: a family, a crew) lets four in through
the doors on its one QR (docs/parking.md, *One pass, several people on foot*), but nothing the guard
or the visitor saw said so: the printed pass, the booth's pass check (核验通行证) and the current
visitors list showed a pass for four exactly like a pass for one. Now each says 人数 4 / · 4人
(in English People 4 / · 4 people); a pass for one is shown as before."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from gateway.web.i18n import js_texts
from tests.ui.conftest import ADMIN, Site, bearer, log_in

pytest.importorskip("playwright.sync_api")
from tests.ui.test_guard_browser import (  # noqa: E402,F401
    LANDSCAPE,
    browser,
    browser_site,
    in_english,
    open_page,
    page_at,
    pytestmark,
)


def _qr(site: Site, pass_id: int) -> str:
    sql = "SELECT value FROM credentials WHERE kind = 'qr' AND pass_id = ?"
    return site.gw.on_worker(lambda c: c.execute(sql, (pass_id,)).fetchone()[0]).result(timeout=10)


def _check(page, qr: str) -> str:  # type: ignore[no-untyped-def]
    page.fill("input[name=token]", qr)
    page.keyboard.press("Enter")
    page.wait_for_selector("#pass-state:not([hidden])")
    return page.inner_text("#pass-state")


def test_a_pass_for_four_says_so_printed_checked_and_listed(browser, browser_site: tuple[Site, str]) -> None:  # noqa: F811
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "visitors")
    page.fill("#f-name", "赵师傅")
    page.fill("#f-building", "3栋")
    page.fill("#f-unit", "2单元")
    page.fill("#f-passengers", "4")
    page.click("#visitor-submit")
    page.wait_for_url(re.compile(r"/passes/\d+$"))
    page.wait_for_load_state("load")
    pid = int(page.url.rsplit("/", 1)[1])
    # The printed pass: the crew leader sees it covers his crew.
    printed = page.inner_text("#pass")
    assert re.search(r"人数\s+4\b", printed), printed
    # The booth's pass check: the guard scanning the QR is told how many it is good for.
    qr = _qr(site, pid)
    open_page(page, "visitors")
    assert "· 4人 3栋" in _check(page, qr)
    # The current visitors list.
    row = page.inner_text(f"tr[data-pass='{pid}']")
    assert "· 4人" in row, row
    # In English too.
    in_english(page)
    assert "· 4 people" in _check(page, qr)
    assert "· 4 people" in page.inner_text(f"tr[data-pass='{pid}']")
    page.goto(f"{url}/passes/{pid}")
    assert re.search(r"People\s+4\b", page.inner_text("#pass"))
    assert not page.errors, page.errors


def test_a_pass_for_one_is_shown_as_before(client: TestClient, site: Site) -> None:
    """No 人数 1 on every visitor's pass: the count is shown only where it is more than one."""
    visit = {"name": "钱七", "host_building": "3栋", "host_unit": "2单元"}
    made = client.post("/api/visitors", json=visit, headers=bearer(site.guard_token))
    assert made.status_code == 201, made.text
    log_in(client, ADMIN)
    pass_page = client.get(f"/passes/{made.json()['id']}").text
    listed = client.get("/visitors").text
    start = listed.index(f'data-pass="{made.json()["id"]}"')
    row = listed[start : listed.index("</tr>", start)]
    assert 'id="pass-people"' not in pass_page
    assert js_texts("zh")["pass.people"].replace("{n}", "1") not in row, row
    assert "pass-people" not in row, row
