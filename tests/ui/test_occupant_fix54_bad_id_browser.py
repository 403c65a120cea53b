"""A mistyped ID or phone number on the visitor form, the visitor's own or a person's in her car, is
named by whose it is and said what it should be, in a real headless Chromium."""

from __future__ import annotations

import pytest

from tests.ui.conftest import ADMIN, Site, script_errors

pytest.importorskip("playwright.sync_api")

from tests.ui.test_guard_browser import (  # noqa: E402  (after the skip)
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    open_page,
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)

BAD_ID = "110101199003074478"  # the check character should be 7


def _fill_visitor_with_a_car_of_four(page) -> None:  # type: ignore[no-untyped-def]
    open_page(page, "visitors")
    page.fill("#f-name", "王五")
    page.fill("#f-phone", "13800138000")
    page.fill("#f-building", "3栋")
    page.fill("#f-unit", "2单元")
    page.fill("#f-plate", "浙A12345")
    for name, id_number in (
        ("王五", "11010519491231002X"),
        ("李四", "110101199003074477"),
        ("赵六", BAD_ID),
        ("钱七", ""),
    ):
        page.click("#occupant-add")
        row = page.locator("[data-occupant-row]").last
        row.locator('[data-field="name"]').fill(name)
        row.locator('[data-field="id_number"]').fill(id_number)


def _marked(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "[...document.querySelectorAll('#visitor-form [aria-invalid=true]')]"
        ".map((el) => el.id || (el.closest('[data-occupant-row]').querySelector('.occupant-role').textContent"
        " + ' ' + el.dataset.field))"
    )


def test_a_bad_id_of_the_third_person_in_the_car_names_him_and_the_id(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """The third person's ID had a wrong check character: the toast read only 以下项目填写有误：
    车上人员（驾驶人在前）, leaving the guard to check four people's numbers and names."""
    _, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    _fill_visitor_with_a_car_of_four(page)
    page.click("#visitor-submit")
    toast = page.locator("#toast.bad")
    toast.wait_for()
    said = toast.inner_text()
    assert "乘车人 3 证件号码" in said, said
    assert "身份证号应为18位（末位可为X），请核对证件重新输入" in said, said
    assert "车上人员" not in said, said
    assert _marked(page) == ["乘车人 3 id_number"]
    rows = page.locator("[data-occupant-row]")
    rows.nth(2).locator('[data-field="id_number"]').fill("110101199003074477")  # typed again: unmarked
    assert _marked(page) == []
    # The visitor's own phone mistyped: named, marked and said what it should be.
    page.fill("#f-phone", "138001")
    page.click("#visitor-submit")
    page.locator("#toast", has_text="电话号码应为7至20位数字").wait_for()
    assert "以下项目填写有误： 手机号" in page.inner_text("#toast")
    assert _marked(page) == ["f-phone"]
    assert page.url.endswith("/visitors")  # nothing registered
    assert script_errors(page) == []


def test_in_english_the_bad_id_names_the_passenger_and_says_what_it_should_be(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """The same mistake on an English page: Passenger 3 ID number, and what an ID number is."""
    _, url = browser_site
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    with page.expect_navigation(wait_until="load"):
        page.click("[data-lang=en]")
    _fill_visitor_with_a_car_of_four(page)
    page.locator("[data-occupant-row]").nth(1).locator('[data-field="phone"]').fill("12")
    page.click("#visitor-submit")
    toast = page.locator("#toast.bad")
    toast.wait_for()
    said = toast.inner_text()
    assert "Passenger 2 Phone" in said and "Passenger 3 ID number" in said, said
    assert "An ID card number has 18 characters (the last may be X)" in said, said
    assert "A phone number has 7 to 20 digits" in said, said
    assert sorted(_marked(page)) == ["Passenger 2 phone", "Passenger 3 id_number"]
    assert script_errors(page) == []
