"""Refusals a guard reaches from a page, said in the page's words (review 56e). Under the one code
`refused`, a zh guard read 不允许此操作 followed by the English message and fix: registering a
visitor whose car is blocked showed "不允许此操作: 苏E66666 is blocked — an admin can unblock it on
the lookup page", recording materials for a unit nobody lives in "no resident lives in 9栋 9单元".
Each now has its own code, the values its words name, and zh and en words (err.<code>)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx2
from fastapi.testclient import TestClient

from gateway.web.i18n import js_texts
from tests.ui.conftest import Site, bearer
from tests.ui.test_guard_browser import LANDSCAPE, browser, open_page, page_at, pytestmark  # noqa: F401
from tests.ui.words_helpers import bad_toast, english_in, own_site  # noqa: F401

CAR = "苏E66666"
ZH = js_texts("zh")


def _block_car(post: Any, site: Site) -> None:
    """A visitor came with CAR, which a guard then blocked (stolen)."""
    visit = {"name": "孙五", "host_building": "3栋", "host_unit": "2单元", "plate": CAR}
    made = post("/api/visitors", json=visit, headers=bearer(site.guard_token))
    assert made.status_code == 201, made.text
    block = {"kind": "plate", "value": CAR, "reason": "车辆被盗"}
    r = post("/api/credentials/block", json=block, headers=bearer(site.guard_token))
    assert r.is_success, r.text


def _crew_for_no_unit(post: Any, site: Site) -> int:
    until = (site.gw.now() + timedelta(days=5)).isoformat()
    crew = {"name": "赵装修", "company": "好家装饰", "phone": "13711112222", "valid_to": until}
    made = post("/api/contractors", json=crew, headers=bearer(site.admin_token))
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def test_the_answers_carry_their_own_code_and_values(client: TestClient, site: Site) -> None:
    _block_car(client.post, site)
    guard = bearer(site.guard_token)
    visit = {"name": "钱七", "host_building": "3栋", "host_unit": "2单元", "plate": CAR}
    blocked = client.post("/api/visitors", json=visit, headers=guard)
    error = blocked.json()["error"]
    assert (blocked.status_code, error["code"], error["plate"]) == (422, "plate_blocked", CAR), blocked.text
    assert "is blocked" in error["message"]  # the English message stays, for API clients and the log
    typo = client.post(
        "/api/materials",
        json={"items": "旧沙发", "host_building": "9栋", "host_unit": "9单元"},
        headers=guard,
    )
    error = typo.json()["error"]
    assert (typo.status_code, error["code"], error["unit"]) == (422, "no_such_unit", "9栋 9单元"), typo.text
    nothing = client.post("/api/materials", json={"items": "旧沙发"}, headers=guard)
    assert nothing.json()["error"]["code"] == "unit_needed", nothing.text


def test_a_zh_guard_reads_the_refusals_in_chinese(
    own_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    site, url = own_site
    served = lambda path, **kw: httpx2.post(url + path, **kw)  # noqa: E731
    _block_car(served, site)
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "visitors")
    page.fill("#f-name", "钱七")
    page.fill("#f-building", "3栋")
    page.fill("#f-unit", "2单元")
    page.fill("#f-plate", CAR)
    page.click("#visitor-submit")
    told = bad_toast(page)
    assert ZH["err.plate_blocked"].replace("{plate}", CAR) in told, told
    assert not english_in(told), f"the zh page shows English: {told}"

    pass_id = _crew_for_no_unit(served, site)
    page.goto(f"{url}/passes/{pass_id}", wait_until="load")
    page.fill("#m-items", "旧橱柜 1 套")
    page.fill("#m-building", "9栋")
    page.fill("#m-unit", "9单元")
    page.click("#materials-submit")
    # A locator, not wait_for_function: a string predicate is eval'd in the page, which its CSP
    # refuses once the toast is not there at the first look (a loaded machine).
    page.locator("#toast", has_text="没有登记业主").wait_for()
    told = bad_toast(page)
    assert ZH["err.no_such_unit"].replace("{unit}", "9栋 9单元") in told, told
    assert not english_in(told), f"the zh page shows English: {told}"
