"""An English-reading guard at an exit lane, in a real Chromium: the fee dialog and its toast give
the fee in English, not as 7元."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import TARIFF_TOML
from tests.ui.conftest import Site, make_config, script_errors, served
from tests.ui.test_guard_browser import browser, pytestmark  # noqa: F401
from tests.ui.test_guard_fee_words_browser import _held_to_pay


@pytest.fixture
def paying_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    with served(make_config(tmp_path / "data", TARIFF_TOML)) as served_site:
        yield served_site


def test_english_fee_dialog_and_toast_give_the_fee_in_english(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """The pay dialog read '鲁B12345 · 7元' and the toast 'Fee taken 7元' on the English page."""
    site, url = paying_site
    page = _held_to_pay(site, url, browser, "鲁B12345", "en")
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#pay-dialog[open]")
    assert page.inner_text("#pay-summary") == "鲁B12345 · 7 yuan"
    page.click("#pay-cash")
    page.wait_for_selector("#toast >> text=Fee taken")
    shown = page.inner_text("#toast")
    assert shown.startswith("Fee taken 7 yuan · 鲁B12345") and "元" not in shown, shown
    assert script_errors(page) == []
