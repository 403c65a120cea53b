"""The visitor form in Chinese takes a passport or a permit for the ID number, the visitor's and each
person's in her car, in a real headless Chromium (review 54h)."""

from __future__ import annotations

import re
import sqlite3

import pytest

from tests.ui.conftest import Site, script_errors

pytest.importorskip("playwright.sync_api")

from tests.ui.test_guard_browser import (  # noqa: E402  (after the skip)
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    open_page,
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)


def test_a_foreign_visitor_and_a_hong_kong_passenger_are_registered_by_their_documents(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "visitors")
    kinds = page.locator("#f-id-kind option").all_inner_texts()
    assert kinds == ["身份证", "护照", "回乡证（港澳居民来往内地通行证）", "台胞证", "外国人永久居留证"]
    assert page.input_value("#f-id-kind") == "resident_id"  # 身份证 unless the guard picks another
    page.fill("#f-name", "John Smith")
    page.fill("#f-phone", "13800138000")
    page.fill("#f-building", "3栋")
    page.fill("#f-unit", "2单元")
    page.fill("#f-plate", "苏E77777")
    page.select_option("#f-id-kind", "passport")
    page.fill("#f-id", "E12")  # too short for a passport
    page.click("#occupant-add")
    row = page.locator("[data-occupant-row]").last
    assert row.locator('[data-field="id_kind"]').input_value() == "resident_id"
    row.locator('[data-field="name"]').fill("陈大文")
    row.locator('[data-field="id_kind"]').select_option("hk_macau_permit")
    row.locator('[data-field="id_number"]').fill("12345678")  # the H is missing
    page.click("#visitor-submit")
    toast = page.locator("#toast.bad")
    toast.wait_for()
    said = toast.inner_text()
    assert "证件号码" in said and "驾驶人 1 证件号码" in said, said
    assert "护照号码应为5至17位字母和数字" in said, said
    assert "港澳通行证号码应为H或M加8位或10位数字" in said, said
    assert "身份证号应为18位" not in said, said
    page.fill("#f-id", "E12345678")
    row.locator('[data-field="id_number"]').fill("H12345678")
    page.click("#occupant-add-visitor")  # the visitor rides along: his passport copied with its kind
    copied = page.locator("[data-occupant-row]").last
    assert copied.locator('[data-field="id_kind"]').input_value() == "passport"
    page.click("#visitor-submit")
    page.wait_for_url(re.compile(r"/passes/\d+$"))
    listed = page.inner_text("#pass-occupants")
    assert "回乡证（港澳居民来往内地通行证） *****5678" in listed and "护照 *****5678" in listed, listed
    pass_id = int(page.url.rsplit("/", 1)[1])
    with sqlite3.connect(site.gw.db_path) as conn:
        own = conn.execute("SELECT id_kind, id_masked FROM passes WHERE id = ?", (pass_id,)).fetchone()
        people = conn.execute(
            "SELECT id_kind, id_masked FROM pass_people WHERE pass_id = ? ORDER BY position", (pass_id,)
        ).fetchall()
    assert own == ("passport", "*****5678")
    assert people == [("hk_macau_permit", "*****5678"), ("passport", "*****5678")]
    assert script_errors(page) == []
