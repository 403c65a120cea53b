"""The public price table (明码标价, /prices) as a driver's phone shows it, in a real Chromium.

Every page of the gateway is served with a strict Content-Security-Policy (style-src 'self': no
inline style), which the price table must live with: its layout comes from a file of the gateway's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.conftest import TARIFF_TOML
from tests.ui.conftest import Site, make_config, served
from tests.ui.test_guard_browser import browser, pytestmark  # noqa: F401

PHONE = {"width": 1280, "height": 800}  # wide enough that the table's own width shows


@pytest.fixture
def paying_site(tmp_path: Path) -> Iterator[tuple[Site, str]]:
    with served(make_config(tmp_path / "data", TARIFF_TOML)) as served_site:
        yield served_site


def prices_page(chromium: Any, url: str) -> tuple[Any, list[str]]:
    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30000)  # a loaded CI machine, not a speed check
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
    page.goto(f"{url}/prices")
    page.wait_for_load_state("load")
    return page, refused


def test_the_price_table_is_laid_out_as_designed(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """What a driver saw scanning the sign's QR code: the prices across the whole screen in the
    browser's default serif type, headings unruled (the page's inline <style> refused by the
    page's own CSP, Chromium saying so on its console). He should get the table as designed: a
    readable column, its versions ruled off."""
    site, url = paying_site
    page, refused = prices_page(browser, url)
    assert "停车收费标准" in page.inner_text("h1")
    body = page.evaluate("['maxWidth', 'fontFamily'].map((k) => getComputedStyle(document.body)[k])")
    assert body == ["640px", "sans-serif"], f"the price table's body is styled {body}: no style applied"
    ruled = page.evaluate("getComputedStyle(document.querySelector('h2')).borderBottomStyle")
    assert ruled == "solid", ruled
    assert [e for e in refused if "Content Security Policy" in e] == [], refused


def test_the_price_table_keeps_the_strict_policy(paying_site: tuple[Site, str]) -> None:
    """The fix is not a weaker policy: no inline style, the stylesheet the gateway's own."""
    site, url = paying_site
    answer = httpx2.get(f"{url}/prices")
    policy = answer.headers["content-security-policy"]
    assert "style-src 'self';" in policy and "unsafe-inline" not in policy, policy
    assert "<style" not in answer.text and " style=" not in answer.text, answer.text[:400]
