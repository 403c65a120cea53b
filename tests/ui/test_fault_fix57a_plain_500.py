"""A fault of the gateway's own, and an error answer that is not the gateway's JSON (review 57a).

An exception no handler took was Starlette's plain-text 500 "Internal Server Error" (so would any
502/504 of something in between be), which the pages showed the Chinese guard as 操作失败: Internal
Server Error, in English, with nothing on whether it was done or what to do. The gateway answers
its faults in the one error shape (500 `internal_error`, the traceback in its log once), and the
pages word any 5xx that is not its JSON so too: it may have been done, look before doing it again."""

from __future__ import annotations

import logging
import re
from typing import Any, NoReturn

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, Site, bearer, log_in
from tests.ui.test_guard_browser import (  # noqa: F401
    PORTRAIT,
    browser,
    browser_site,
    open_page,
    page_at,
    pytestmark,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


def _a_bug(*args: object, **kwargs: object) -> NoReturn:
    raise RuntimeError("a bug in the alarms list")


def test_a_fault_is_answered_in_the_one_error_shape_and_logged_once(
    client: TestClient, site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The client raises what the app does not answer: it gets an answer here."""
    monkeypatch.setattr("gateway.api.site.recent_alarms", _a_bug)
    with caplog.at_level(logging.ERROR):
        r = client.get("/api/alarms", headers=bearer(site.guard_token))
    assert r.status_code == 500, r.text
    error = r.json()["error"]
    assert error["code"] == "internal_error" and error["fix"], error
    faults = [rec for rec in caplog.records if rec.levelno == logging.ERROR and rec.exc_info]
    assert len(faults) == 1 and "GET /api/alarms" in faults[0].getMessage(), caplog.text
    assert "a bug in the alarms list" in caplog.text  # its traceback, for the installer


def test_a_guard_page_that_fails_is_a_page_in_the_guards_language(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_in(client, GUARD)
    monkeypatch.setattr("gateway.api.pages.recent_alarms", _a_bug)
    r = client.get("/alarms", headers={"Accept": "text/html"})
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html"), r.text[:200]
    assert "网关出错" in r.text, r.text[:500]


def test_a_plain_500_is_said_in_chinese(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """Faked with a Chromium route: the gateway itself no longer answers so."""
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    open_page(page, "visitors")
    page.route(
        "**/api/visitors",
        lambda route: (
            route.fulfill(status=500, body="Internal Server Error", content_type="text/plain")
            if route.request.method == "POST"
            else route.continue_()
        ),
    )
    page.fill("#f-name", "吴十")
    page.click("#visitor-submit")
    page.wait_for_selector("#toast.bad")
    shown = page.inner_text("#toast")
    assert page.input_value("#f-name") == "吴十"  # what he typed is kept
    assert page.is_enabled("#visitor-submit")
    assert "Internal Server Error" not in shown, shown
    assert "网关出错" in shown and "不确定是否已办成" in shown, shown
    assert CJK.search(shown.split("：", 1)[-1].split(":", 1)[-1]), shown
    page.context.close()
