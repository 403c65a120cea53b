"""The live lanes in English on the booth's 10" tablet in landscape (1280x800, Review 66 F1): each
lane's eight newest decisions are seen without scrolling, as in Chinese, and the top bar stays one
row for the admin of an estate with a real name. In a real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.config import parse_config
from gateway.core import Presented
from tests.conftest import TARIFF_TOML, site_toml
from tests.ui.conftest import ADMIN, DRIVEN, GUARD, Site, served, stored
from tests.ui.test_guard_browser import (  # noqa: F401  (fixtures, and the skip without chromium)
    LANDSCAPE,
    browser,
    page_at,
    pytestmark,
)

# A site in English (site.language) named as estates are, longer than the tests' 测试小区.
NAME = "阳光花园小区"


@pytest.fixture
def english_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    text = (site_toml(tmp_path / "data") + DRIVEN + TARIFF_TOML).replace(
        'name = "测试小区"\n', f'name = "{NAME}"\nlanguage = "en"\n', 1
    )
    with served(parse_config(text, "site.toml")) as served_site:
        yield served_site


ROWS = """(lane) => {
  const list = document.querySelector(`#lane-${lane} [data-recent]`);
  const bottom = Math.min(list.getBoundingClientRect().bottom, window.innerHeight);
  return [...list.querySelectorAll('li')].map((li) => ({
    text: li.innerText.replace(/\\s+/g, ' '),
    seen: li.getBoundingClientRect().bottom <= bottom + 1,
    high: Math.round(li.getBoundingClientRect().height),
    cut: [...li.children].filter((s) => s.scrollWidth > s.clientWidth + 1).map((s) => s.textContent),
  }));
}"""


def test_the_eight_newest_rows_of_each_lane_are_seen_whole_in_english(
    english_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """Eight strangers' cars let in at the car entrance and eight unknown cards refused at the
    door: in English each row read 苏E12347 / Not / registered · Admitted · temporary / vehicle,
    three or four lines, and the guard saw two or three of each lane's eight. Each is one line
    now, words whole, all eight in sight without scrolling the page or the list."""
    site, url = english_site
    gw = site.gw
    for i in range(8):
        gw.present(Presented("car-in", "plate", f"苏E1234{i}", 0.99, gw.now(), "cam"))
        gw.present(Presented("door", "card", f"C0FFEE0{i}", 0.99, gw.now(), "door-reader"))
    stored(site, "SELECT 1")
    page = page_at(browser, url, LANDSCAPE)
    for lane in ("car-in", "door"):
        page.wait_for_selector(f"#lane-{lane} [data-recent] li:nth-child(8)")
    for lane in ("car-in", "door"):
        rows = page.evaluate(ROWS, lane)
        assert len(rows) == 8
        assert [r for r in rows if not r["seen"] or r["high"] > 40 or r["cut"]] == [], rows
    assert "Admitted" in page.inner_text("#lane-car-in [data-latest]")  # the panel's words stay whole
    assert page.evaluate("() => document.documentElement.scrollHeight") <= LANDSCAPE["height"]


@pytest.mark.parametrize("who", [GUARD, ADMIN], ids=["guard", "admin"])
def test_the_top_bar_is_one_row_in_english_on_the_landscape_tablet(
    english_site: tuple[Site, str],
    browser: object,  # noqa: F811
    who: tuple[str, str],
) -> None:
    """The admin's bar (his 管理 Admin link the tenth) took two rows, 110 px of the 800, in English."""
    _, url = english_site
    page = page_at(browser, url, LANDSCAPE, who=who)
    assert page.inner_text(".brand") == NAME
    high = page.evaluate("() => document.querySelector('header.top').getBoundingClientRect().height")
    assert high <= 64, f"the top bar is {high} px high: it took a second row"
