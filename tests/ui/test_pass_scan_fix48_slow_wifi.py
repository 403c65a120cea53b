"""Pass checks scanned at the booth over a slow Wi-Fi: a scan while the last answer is still coming."""

from __future__ import annotations

import json

import httpx2
from playwright.sync_api import expect

from tests.ui.conftest import Site, bearer
from tests.ui.test_guard_browser import LANDSCAPE, browser, browser_site, page_at  # noqa: F401


def _pass(url: str, site: Site, name: str) -> dict:
    r = httpx2.post(f"{url}/api/visitors", json={"name": name, "host_building": "3栋", "host_unit": "2单元"},
                    headers=bearer(site.guard_token))
    assert r.status_code == 201, r.text
    return r.json()


def _to_visitors(page) -> None:  # type: ignore[no-untyped-def]
    with page.expect_navigation(wait_until="load"):
        page.focus("#nav-visitors")
        page.keyboard.press("Enter")


def _slow_checks(page, ms: int, slower: dict[str, int] | None = None) -> None:  # type: ignore[no-untyped-def]
    """Each check's answer comes back `ms` later over the booth Wi-Fi; a code in `slower` takes its own."""
    page.evaluate("""([ms, slower]) => { const f = window.fetch;
      window.fetch = (...a) => f(...a).then((r) => {
        if (!String(a[0]).includes('/api/passes/check')) return r;
        const code = JSON.parse(a[1].body).token;
        return new Promise((ok) => setTimeout(() => ok(r), code in slower ? slower[code] : ms)); }); }""",
                  [ms, slower or {}])


def _scan(page, code: str) -> None:  # type: ignore[no-untyped-def]
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_second_scan_while_first_answer_is_on_the_wifi(browser_site, browser) -> None:  # noqa: F811
    """Two visitors in one car: the guard scans one phone, then the other while the first answer is
    still coming over a weak booth Wi-Fi (answers take 1.5 s; second scan 1 s after the first). The
    second pass should be shown; its code was joined to the first in the field, its Enter was lost,
    and the first visitor's 有效 stayed under the joined code."""
    site, url = browser_site
    first, second = _pass(url, site, "孙一"), _pass(url, site, "周二")
    page = page_at(browser, url, LANDSCAPE)
    _to_visitors(page)
    _slow_checks(page, 1500)
    page.focus("input[name=token]")
    _scan(page, str(first["qr"]))
    page.wait_for_timeout(1000)
    _scan(page, str(second["qr"]))
    page.wait_for_timeout(2500)
    typed = page.input_value("input[name=token]")
    assert typed == str(second["qr"]), f"first {first['qr']!r}, second {second['qr']!r}"
    expect(page.locator("#pass-state")).to_contain_text(f"#{second['id']}", timeout=4000)
    expect(page.locator("#pass-state")).not_to_contain_text(f"#{first['id']} ")
    # Focus stays in the field, its code selected, for the next scan.
    assert page.evaluate("""() => { const el = document.activeElement;
        return el.name === 'token' && el.selectionStart === 0 && el.selectionEnd === el.value.length; }""")


def test_a_late_first_answer_is_not_drawn_over_the_second(browser_site, browser) -> None:  # noqa: F811
    """The first check's answer comes back after the second's (a retried packet): the second pass
    is shown, then the first visitor is drawn over it under the second code."""
    site, url = browser_site
    first, second = _pass(url, site, "吴三"), _pass(url, site, "郑四")
    page = page_at(browser, url, LANDSCAPE)
    _to_visitors(page)
    _slow_checks(page, 200, {str(first["qr"]): 2500})
    page.focus("input[name=token]")
    _scan(page, str(first["qr"]))
    page.wait_for_timeout(500)
    _scan(page, str(second["qr"]))
    expect(page.locator("#pass-state")).to_contain_text(f"#{second['id']}")
    page.wait_for_timeout(2800)  # the first answer has come and gone
    assert page.input_value("input[name=token]") == str(second["qr"])
    expect(page.locator("#pass-state")).to_contain_text(f"#{second['id']}")
    expect(page.locator("#toast.bad")).to_be_hidden()


def test_a_late_valid_answer_never_shows_under_a_code_that_failed(browser_site, browser) -> None:  # noqa: F811
    """A valid pass checked slowly, then a code that fails quickly: the failure hides the answer, and
    the first visitor's 有效 must not come back under the failed code when its answer arrives."""
    site, url = browser_site
    good = _pass(url, site, "冯五")
    page = page_at(browser, url, LANDSCAPE)
    _to_visitors(page)
    _slow_checks(page, 200, {str(good["qr"]): 2500})
    page.focus("input[name=token]")
    _scan(page, str(good["qr"]))
    page.wait_for_timeout(500)
    _scan(page, "NOTAPASS12345")
    expect(page.locator("#toast.bad")).to_be_visible()
    page.wait_for_timeout(2800)
    assert page.input_value("input[name=token]") == "NOTAPASS12345"
    shown = page.locator("#pass-state")
    assert not (shown.is_visible() and "有效" in shown.inner_text()), (
        f"under NOTAPASS12345 the page shows: {shown.inner_text()!r}")


def test_a_pass_checked_again_while_its_answer_is_out_is_sent_again(browser_site, browser) -> None:  # noqa: F811
    """A check changes nothing: Enter pressed again on the same code while its answer is out sends a
    second check (it was dropped: the button was off), and the pass is shown once both come back."""
    site, url = browser_site
    one = _pass(url, site, "陈六")
    page = page_at(browser, url, LANDSCAPE)
    _to_visitors(page)
    _slow_checks(page, 1000)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data or "{}").get("token", ""))
            if "/api/passes/check" in r.url else None)
    page.focus("input[name=token]")
    _scan(page, str(one["qr"]))
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    expect(page.locator("#pass-state")).to_contain_text(f"#{one['id']}")
    page.wait_for_timeout(1500)
    assert sent == [str(one["qr"])] * 2
    expect(page.locator("#pass-state")).to_contain_text(f"#{one['id']}")
