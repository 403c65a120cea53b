"""Words in the guard's language (Review 66 F4, F5): the audit page's handover row in yuan, beside
the fee rows' 7元 · 现金; the shift totals table's Cash; a difference that reads as a sentence of
the handover's; the first start's warning quoting the login page's own words; and the visitors'
search field's hint whole on a 7-inch tablet."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.web.audit_words import handover_detail
from gateway.web.i18n import translator
from tests.conftest import TARIFF_TOML, site_toml
from tests.ui.conftest import DRIVEN, GUARD, Site, log_in, make_config, served, start_site, stored
from tests.ui.test_guard_browser import (  # noqa: F401  (a fixture)
    CHROMIUM,
    browser,
    page_at,
)


@pytest.fixture
def english_site(tmp_path: Path) -> Iterator[tuple[Site, str]]:
    text = (site_toml(tmp_path / "data") + DRIVEN + TARIFF_TOML).replace(
        'name = "测试小区"\n', 'name = "测试小区"\nlanguage = "en"\n', 1
    )
    with served(parse_config(text, "site.toml")) as served_site:
        yield served_site


@pytest.fixture
def paying(tmp_path: Path) -> Iterator[Site]:
    s = start_site(make_config(tmp_path / "data", TARIFF_TOML))
    yield s
    s.gw.stop()


def _handover_row(client: TestClient) -> str:
    page = client.get("/audit?action=shift").text
    row = re.search(r"<tr><td>(?:(?!</tr>).)*shift\.handover.*?</tr>", page, re.S)
    assert row is not None, page
    return re.sub(r"\s*<[^>]+>\s*", "|", row.group(0))


def test_a_handover_on_the_audit_page_is_in_yuan_and_the_guards_words(paying: Site) -> None:
    """A guard took a 2-hour stay's fee in cash and handed over 0.50 yuan short: the audit row read
    "cash recorded 900 fen, counted 850 fen, difference -50 fen; 找零" in both languages."""
    site = paying
    p = Presented("car-in", "plate", "鲁B12345", 1.0, site.gw.now() - timedelta(hours=2), "car-in-camera")
    assert site.gw.on_worker(lambda _: site.gw.handle(p)).result(timeout=10).admitted
    with TestClient(create_app(site.gw)) as client:
        h = log_in(client, GUARD)  # Chinese by default
        due = client.get("/api/parking/quote", params={"plate": "鲁B12345"}, headers=h).json()["due_fen"]
        paid = {"plate": "鲁B12345", "amount_fen": due, "method": "cash", "receipt": "B-1"}
        assert client.post("/api/parking/prepay", json=paid, headers=h).status_code == 200
        counted = {"counted_cash_fen": due - 50, "note": "找零"}
        assert client.post("/api/shift/handover", json=counted, headers=h).status_code == 201
        yuan, short = f"{due / 100:g}", f"{(due - 50) / 100:g}"
        row = _handover_row(client)
        assert f"记录现金 {yuan}元 · 清点 {short}元 · 短款 0.5元 · 找零" in row, row
        assert "fen" not in row, row
        assert client.post("/api/me/language", json={"language": "en"}, headers=h).status_code == 204
        row = _handover_row(client)
        assert f"cash on record {yuan} yuan · counted {short} yuan · short by 0.5 yuan · 找零" in row, row
    # As stored, and as the centre reads it: unchanged.
    details = stored(site, "SELECT detail FROM audit WHERE action = 'shift.handover'")
    assert details == [(f"cash recorded {due} fen, counted {due - 50} fen, difference -50 fen; 找零",)]


@pytest.mark.parametrize(
    ("detail", "zh", "en"),
    [
        (
            "cash recorded 1000 fen, counted 1300 fen, difference +300 fen",
            "记录现金 10元 · 清点 13元 · 长款 3元",
            "cash on record 10 yuan · counted 13 yuan · over by 3 yuan",
        ),
        (
            "cash recorded 0 fen, counted 0 fen, difference +0 fen; 无收费; 交给李师傅",
            "记录现金 0元 · 清点 0元 · 账款相符 · 无收费; 交给李师傅",
            "cash on record 0 yuan · counted 0 yuan · cash matches · 无收费; 交给李师傅",
        ),
        ("a detail of another shape", "a detail of another shape", "a detail of another shape"),
    ],
)
def test_a_handovers_detail_is_worded_or_left_as_stored(detail: str, zh: str, en: str) -> None:
    assert handover_detail(detail, translator("zh")) == zh
    assert handover_detail(detail, translator("en")) == en


def test_the_handovers_difference_is_a_sentence_of_its_own_in_english() -> None:
    """Handed over at 10:00: …, counted 13.00 yuan, Over by 3.00 yuan: a capital mid-sentence."""
    t = translator("en")
    for said in ("shift.short", "shift.over", "shift.even"):
        done = t("shift.done").replace("{difference}", t(said).replace("{yuan}", "3.00"))
        assert re.search(r"\. [A-Z]", done) and not re.search(r", [A-Z]", done), done


def test_the_totals_name_each_way_of_paying_as_a_heading(paying: Site) -> None:
    """The totals table's first column read "cash" and "QR payment" (the audit's inline words)."""
    with TestClient(create_app(paying.gw)) as client:
        h = log_in(client, GUARD)
        assert client.post("/api/me/language", json={"language": "en"}, headers=h).status_code == 204
        page = client.get("/shift").text
    cells = dict(re.findall(r'<tr data-method="(cash|qr)"><td>([^<]*)</td>', page))
    assert cells == {"cash": "Cash", "qr": "QR payment"}, cells


def test_the_first_starts_warning_quotes_the_login_pages_words(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """On a site in English the warning said guards would see 用户名或密码错误; the page says
    Wrong user name or password."""
    for language, words in (("zh", "用户名或密码错误"), ("en", "Wrong user name or password")):
        text = site_toml(tmp_path / language).replace(
            'name = "测试小区"\n', f'name = "测试小区"\nlanguage = "{language}"\n', 1
        )
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            Gateway(parse_config(text, "site.toml")).conn.close()
        said = [r.getMessage() for r in caplog.records if "no accounts yet" in r.getMessage()]
        assert len(said) == 1 and f"({words} to any name" in said[0], said
        assert translator(language)("login.failed") == words


PLACEHOLDER_ROOM = """() => {
  const field = document.querySelector('#pass-q');
  const style = getComputedStyle(field);
  const pen = document.createElement('canvas').getContext('2d');
  pen.font = style.font;
  return {room: field.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
          words: pen.measureText(field.placeholder).width, placeholder: field.placeholder};
}"""


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs the Debian chromium package")
@pytest.mark.parametrize("path", ["visitors", "contractors"])
def test_the_lists_search_says_all_it_finds_by_on_the_7_inch_tablet(
    english_site: tuple[Site, str],
    browser: object,  # noqa: F811
    path: str,
) -> None:
    """At 600 px the search field read "Name, building and unit, plate or phone's last 4 dig"."""
    _, url = english_site
    page = page_at(browser, url, {"width": 600, "height": 1024})
    page.goto(f"{url}/{path}")
    field = page.evaluate(PLACEHOLDER_ROOM)
    assert field["words"] <= field["room"], field
