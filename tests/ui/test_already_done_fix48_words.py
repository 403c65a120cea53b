"""409 already_done worded from what the gateway says of the thing now, in a real Chromium: 恢复 on a
lane nobody held open, and 立即禁用 typed for a card the same guard blocked, are not told that
another tablet did it (已由他人处理（另一台平板）): nobody else did anything (docs/guard-app.md)."""

from __future__ import annotations

import httpx2

from tests.ui.conftest import CARD, Site, bearer, block_on_lookup, script_errors
from tests.ui.test_guard_browser import PORTRAIT, browser, page_at, pytestmark  # noqa: F401

RELEASE = "#lane-car-in [data-lane-action=release]"


def _lane(url: str, site: Site, action: str) -> httpx2.Response:
    return httpx2.post(
        f"{url}/api/lanes/car-in/{action}", json={"reason": "车队"}, headers=bearer(site.guard_token)
    )


def test_release_of_a_lane_never_held_does_not_say_another_guard_did_it(
    fresh_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """A release of car-in, which nobody has held open (the page shows it normal, and no other
    tablet touched it), was told 已由他人处理（另一台平板）, which is false: the lane is not held
    open, so there is nothing to release. Sent as the page's 恢复 sends it, worded as it words any
    failure (the button itself is shown only on a lane held open: below)."""
    site, url = fresh_site
    page = page_at(browser, url, PORTRAIT)
    page.evaluate("api('POST', '/api/lanes/car-in/release', { reason: '车队已过' }).catch(failed)")
    page.wait_for_selector("#toast.bad")
    shown = page.inner_text("#toast")
    assert "他人" not in shown and "另一台平板" not in shown, shown
    assert "未处于常开状态" in shown, shown
    assert script_errors(page) == []


def test_release_is_offered_only_on_a_lane_held_open(
    fresh_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """恢复 showed on every lane with a relay, held or not: pressed on a lane not held, it could
    only be refused. It shows while the lane is held open (on this tablet or another), and goes
    once it is released."""
    site, url = fresh_site
    page = page_at(browser, url, PORTRAIT)
    assert page.is_hidden(RELEASE)
    assert page.is_visible("#lane-car-in [data-lane-action=hold]")
    assert _lane(url, site, "hold").status_code == 200
    page.wait_for_selector(RELEASE, state="visible")
    assert _lane(url, site, "release").status_code == 200
    page.wait_for_selector(RELEASE, state="hidden")
    page.reload()
    page.wait_for_selector("#lanes")
    assert page.is_hidden(RELEASE)
    assert script_errors(page) == []


def test_a_lane_held_when_the_page_is_drawn_offers_release(
    fresh_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    site, url = fresh_site
    assert _lane(url, site, "hold").status_code == 200
    page = page_at(browser, url, PORTRAIT)
    assert page.is_visible(RELEASE)
    page.click(RELEASE)
    page.wait_for_selector("#reason-dialog[open]")
    page.fill("#reason-input", "车队已过")
    page.click("#reason-ok")
    page.wait_for_selector("#toast:not(.bad)")
    page.wait_for_selector(RELEASE, state="hidden")


def test_blocking_by_number_a_card_the_same_guard_blocked_does_not_say_another_tablet(
    fresh_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """guard1 blocks card 0A1B2C3D4E (业主报失) and, a while later on the same tablet, types the same
    number into 立即禁用 again. He was told 已由他人处理（另一台平板）: nobody else did anything. He
    is told the card is blocked already."""
    site, url = fresh_site
    first = httpx2.post(
        f"{url}/api/credentials/block",
        json={"kind": "card", "value": CARD, "reason": "业主报失"},
        headers=bearer(site.guard_token),
    )
    assert first.status_code == 200, first.text
    page = page_at(browser, url, PORTRAIT)
    shown = block_on_lookup(page, "card", CARD, "业主报失")
    assert "他人" not in shown and "另一台平板" not in shown, shown
    assert "该卡已是禁用状态" in shown, shown
    assert script_errors(page) == []


def test_the_gateway_says_what_state_the_thing_is_in(
    fresh_site: tuple[Site, str],
) -> None:
    """The words come from the answer's `state` (the one error shape, data beside code, message
    and fix): a lane not held open, a credential blocked already, one not blocked."""
    site, url = fresh_site
    never = _lane(url, site, "release")
    assert (never.status_code, never.json()["error"]["state"]) == (409, "not_held"), never.text
    body = {"kind": "card", "value": CARD, "reason": "业主报失"}
    assert httpx2.post(f"{url}/api/credentials/block", json=body, headers=bearer(site.guard_token)).is_success
    again = httpx2.post(f"{url}/api/credentials/block", json=body, headers=bearer(site.guard_token))
    error = again.json()["error"]
    assert (again.status_code, error["code"], error["state"], error["kind"]) == (
        409,
        "already_done",
        "blocked",
        "card",
    ), again.text
    lift = {"kind": "card", "value": CARD, "reason": "找回"}
    admin = bearer(site.admin_token)
    assert httpx2.post(f"{url}/api/credentials/unblock", json=lift, headers=admin).is_success
    twice = httpx2.post(f"{url}/api/credentials/unblock", json=lift, headers=admin)
    assert (twice.status_code, twice.json()["error"]["state"]) == (409, "unblocked"), twice.text
