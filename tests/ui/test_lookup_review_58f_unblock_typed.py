"""Review 58f: a visitor's car blocked by a guard ("Block now" on its plate) is kept blocked past
visitors_days (Review 58c): "an admin unblocks it by typing the plate" (docs/parking.md, *Nobody
is kept in*), and the booth's refusal of a new visit with it says 请管理员在查询页解除
(err.plate_blocked). But the lookup page had no way to lift that block: its search lists
residents only, so no row with 解除禁用 shows the plate, and its typed form (立即禁用) only
blocked. The admin sent to the lookup page found nothing to press; the car stayed out for good
unless someone called POST /api/credentials/unblock by hand (noticed by the reviewer of 58c, who
proved it). The page now gives an admin a typed 解除禁用 form beside 立即禁用; a guard still gets
none, as the API lets only an admin lift a block."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, create_pass
from gateway.store.registry import set_blocked
from gateway.store.retention import prune_visitors
from tests.ui.conftest import ADMIN, GUARD, Site, app, client, log_in, site, stored  # noqa: F401  (fixtures)
from tests.ui.test_guard_browser import (
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    page_at,
)
from tests.ui.test_guard_browser import pytestmark as needs_chromium

CAR = "浙A99999"


def _kept_blocked_past_retention(gw: Gateway) -> None:
    """A one-day visit 41 days ago whose car a guard blocked; the retention pass since kept the
    pass bare, as the holder of the blocked plate (Review 58c)."""
    now = gw.now()
    start = now - timedelta(days=41)

    def setup(conn):  # type: ignore[no-untyped-def]
        visit = NewPass(
            kind="visitor", name="钱七", valid_from=start, valid_to=start + timedelta(days=1),
            host_building="3栋", host_unit="2单元", plate=CAR,
        )  # fmt: skip
        create_pass(conn, gw.secrets, visit, start, "guard1")
        set_blocked(conn, start + timedelta(hours=2), "guard1", ("plate", CAR), True, "威胁保安")
        prune_visitors(conn, now - timedelta(days=30))

    gw.on_worker(setup).result(timeout=10)
    kept = gw.on_worker(lambda c: c.execute("SELECT name, plate FROM passes").fetchall()).result(timeout=10)
    assert kept == [("", CAR)]


def test_an_admin_on_the_lookup_page_gets_a_typed_unblock_and_a_guard_does_not(
    site: Site,  # noqa: F811
    client: TestClient,  # noqa: F811
) -> None:
    _kept_blocked_past_retention(site.gw)
    log_in(client, ADMIN)
    admin_page = client.get("/lookup", params={"q": CAR}).text
    assert 'id="unblock-form"' in admin_page and 'data-api="/api/credentials/unblock"' in admin_page, (
        "the admin sent to the lookup page to lift the block on the visitor's car finds no 解除禁用"
    )
    client.post("/logout")
    client.cookies.clear()
    log_in(client, GUARD)
    guard_page = client.get("/lookup", params={"q": CAR}).text
    assert 'id="block-form"' in guard_page and "/api/credentials/unblock" not in guard_page
    # The API's rule, which the page follows: a guard blocks, only an admin lifts a block.
    refused = client.post("/api/credentials/unblock", json={"kind": "plate", "value": CAR, "reason": "误禁"})
    assert refused.status_code == 403, refused.text
    assert stored(site, "SELECT blocked FROM credentials WHERE value = ?", CAR) == [(1,)]


@needs_chromium
def test_an_admin_lifts_a_visitor_cars_block_by_typing_its_plate(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """In a real Chromium: the admin types the plate into 解除禁用 on the lookup page; the block is
    lifted, on record, and the next retention pass deletes what was kept of the visit."""
    live, url = browser_site
    _kept_blocked_past_retention(live.gw)
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    page.goto(f"{url}/lookup")
    form = page.locator("#unblock-form")
    form.locator("select[name=kind]").select_option("plate")
    form.locator("input[name=value]").fill(CAR)
    form.locator("input[name=reason]").fill("车主已道歉，解除")
    with page.expect_navigation(wait_until="load"):
        form.get_by_role("button", name="解除禁用").click()

    assert stored(live, "SELECT blocked FROM credentials WHERE value = ?", CAR) == [(0,)]
    unblocked = stored(live, "SELECT actor, target, detail FROM audit WHERE action = 'credential.unblock'")
    assert unblocked == [("admin", f"plate:{CAR}", "车主已道歉，解除")]
    now = live.gw.now()
    live.gw.on_worker(lambda c: prune_visitors(c, now - timedelta(days=30))).result(timeout=10)
    assert stored(live, "SELECT count(*) FROM passes WHERE plate = ?", CAR) == [(0,)]
    assert page.errors == []
