"""Enter in the 纠正车牌 dialog, in a real Chromium: a guard types the plate and presses Enter on
the tablet's keyboard (its 前往/Go key) rather than reaching for 确定.

docs/guard-app.md: "The correction never opens the barrier or re-decides the entry by itself";
纠正并重新判断 is the dialog's second button, shown for a refused car only. Enter is 确定.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.core import Presented
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import PLATE, Site, make_config, script_errors, served, stored
from tests.ui.test_guard_browser import PORTRAIT, browser, page_at, pytestmark  # noqa: F401

MISREAD = "渝A12345"  # the resident's 皖A12345, its province misread


@pytest.fixture
def paying_site(tmp_path: Path) -> Iterator[tuple[Site, str]]:
    with served(make_config(tmp_path / "data", TARIFF_TOML)) as served_site:
        yield served_site


def decisions_at(site: Site, lane: str) -> int:
    return int(stored(site, "SELECT count(*) FROM access_log WHERE lane = ?", lane)[0][0])


def test_enter_corrects_a_car_already_let_in_without_deciding_it_again(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """A resident's car let in as a stranger (临时车) under a misread province. The guard corrects
    the plate and presses Enter. What he saw: the lane decided the car again (a second entry on
    record, 皖A12345 · 放行 instead of 已纠正), because Enter took the hidden 纠正并重新判断, the
    form's first submit button. He should see the record corrected, and nothing decided."""
    site, url = paying_site
    page = page_at(browser, url, PORTRAIT)
    site.traffic.show("car-in-camera", "plate", MISREAD)
    page.wait_for_selector(f"#lane-car-in [data-latest].admitted >> text={MISREAD}")
    page.click("#lane-car-in [data-latest] [data-correct]")
    page.wait_for_selector("#plate-dialog[open]")
    assert page.is_hidden("#plate-decide")  # let in: only a correction is offered
    page.fill("#plate-input", PLATE)
    page.press("#plate-input", "Enter")
    page.wait_for_selector("#toast:not([hidden])")
    said = page.inner_text("#toast")
    assert "已纠正" in said, f"Enter in the correction of a car let in: the toast says {said!r}"
    assert decisions_at(site, "car-in") == 1, "the car was decided again at the entrance"
    assert stored(site, "SELECT count(*) FROM audit WHERE action = 'lane.plate'") == [(0,)]
    assert stored(site, "SELECT plate FROM plate_corrections") == [(PLATE,)]
    assert script_errors(page) == []


def test_enter_on_a_refused_car_corrects_only_as_confirm_does(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """A refused car's dialog shows both buttons: Enter is 确定, the correction alone (the docs:
    the correction never re-decides by itself); deciding again is the guard's tap on 纠正并重新判断."""
    site, url = paying_site
    page = page_at(browser, url, PORTRAIT)
    now = site.gw.now()
    site.gw.present(Presented("car-in", "plate", PLATE, 0.99, now - timedelta(hours=1), "cam"))
    site.gw.present(Presented("car-out", "plate", "皖A12346", 0.99, now, "cam"))
    page.wait_for_selector("#lane-car-out [data-latest].refused >> text=皖A12346")
    page.click("#lane-car-out [data-latest] [data-correct]")
    page.wait_for_selector("#plate-dialog[open]")
    assert page.is_visible("#plate-decide")
    page.fill("#plate-input", PLATE)
    page.press("#plate-input", "Enter")
    page.wait_for_selector("#toast:not([hidden])")
    said = page.inner_text("#toast")
    assert "已纠正" in said, f"Enter in the correction of a refused car: the toast says {said!r}"
    assert decisions_at(site, "car-out") == 1, "Enter decided the car again: that is 纠正并重新判断's"
    assert stored(site, "SELECT plate FROM plate_corrections") == [(PLATE,)]
    assert script_errors(page) == []


def test_the_confirm_button_stays_at_the_end_of_the_row(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """确定 made the form's first submit button is still where the guard's thumb finds it: right of
    纠正并重新判断, last in the row."""
    site, url = paying_site
    page = page_at(browser, url, PORTRAIT)
    site.gw.present(Presented("car-out", "plate", "皖A12346", 0.99, site.gw.now(), "cam"))
    page.wait_for_selector("#lane-car-out [data-latest].refused >> text=皖A12346")
    page.click("#lane-car-out [data-latest] [data-correct]")
    page.wait_for_selector("#plate-dialog[open]")
    left = {
        b: page.locator(b).bounding_box()["x"]  # type: ignore[index]
        for b in ("#plate-cancel", "#plate-decide", "#plate-ok")
    }
    assert left["#plate-cancel"] < left["#plate-decide"] < left["#plate-ok"], left
