"""A wrong look-alike match corrected on the guard pages, in a real Chromium."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from gateway.config import parse_config
from tests.conftest import site_toml
from tests.ui.conftest import DRIVEN, PLATE, Site, script_errors, served
from tests.ui.test_guard_browser import PORTRAIT, browser, open_page, page_at, pytestmark  # noqa: F401

STRANGER = "皖A1234S"  # one look-alike character (5/S) away from the resident's 皖A12345


@pytest.fixture
def lookalike_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    text = site_toml(tmp_path / "data") + DRIVEN
    text = text.replace('id = "car-in"\n', 'id = "car-in"\nplate_match = "confusable"\n', 1)
    with served(parse_config(text, "site.toml")) as served_site:
        yield served_site


def test_a_stranger_taken_for_a_residents_look_alike_can_be_corrected_to_its_own_plate(
    lookalike_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """The camera reads 皖A1234S and the lane (plate_match = "confusable") takes it for the
    resident's 皖A12345. The guard sees a stranger's car: 纠正车牌 shows what the camera read
    (not the match), and confirming it is stored as the car's plate (a guard's word outranks a
    match), so export-plates labels the crop with it."""
    site, url = lookalike_site
    page = page_at(browser, url, PORTRAIT)
    site.traffic.show("car-in-camera", "plate", STRANGER)
    page.wait_for_selector(f"#lane-car-in [data-latest] >> text={PLATE}")
    assert f"识别为 {STRANGER}" in page.inner_text("#lane-car-in [data-latest]")
    page.click("#lane-car-in [data-latest] [data-correct]")
    page.wait_for_selector("#plate-dialog[open]")
    assert page.inner_text("#plate-read") == STRANGER
    assert page.input_value("#plate-input") == STRANGER  # what the camera read, to confirm or change
    page.click("#plate-ok")
    page.wait_for_selector("#toast >> text=已纠正")
    latest = page.inner_text("#lane-car-in [data-latest]")
    assert STRANGER in latest and "未登记" in latest, latest  # not the resident any more
    with sqlite3.connect(site.gw.db_path) as conn:
        stored = conn.execute("SELECT plate, previous FROM plate_corrections").fetchall()
        label = conn.execute("SELECT plate FROM latest_plate_corrections").fetchall()  # export-plates'
        detail = conn.execute("SELECT detail FROM audit WHERE action = 'plates.correct'").fetchall()
    assert stored == [(STRANGER, PLATE)] and label == [(STRANGER,)]
    assert detail == [(f"car-in: read {STRANGER}, was {PLATE}, is {STRANGER}",)]
    # The plate log says what the camera read too.
    open_page(page, "plates")
    assert f"{STRANGER} (识别为 {STRANGER}" in page.inner_text("#plate-list tbody tr")
    assert script_errors(page) == []


def test_the_plate_log_shows_a_look_alike_match_with_what_the_camera_read(
    lookalike_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """An uncorrected look-alike match on the plate log: the plate decided on, and beside it the
    camera's own reading, which 纠正车牌 offers; typing the decided plate again changes nothing."""
    site, url = lookalike_site
    page = page_at(browser, url, PORTRAIT)
    site.traffic.show("car-in-camera", "plate", STRANGER)
    page.wait_for_selector(f"#lane-car-in [data-latest] >> text={PLATE}")
    open_page(page, "plates")
    row = "#plate-list tbody tr"
    assert f"{PLATE} (识别为 {STRANGER})" in page.inner_text(f"{row} [data-shown]")
    page.click(f"{row} [data-correct]")
    page.wait_for_selector("#plate-dialog[open]")
    assert page.inner_text("#plate-read") == STRANGER and page.input_value("#plate-input") == STRANGER
    page.fill("#plate-input", PLATE)
    page.click("#plate-ok")
    page.wait_for_selector("#toast.bad >> text=记录已是该车牌")
    with sqlite3.connect(site.gw.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM plate_corrections").fetchone()[0] == 0
    assert script_errors(page) == []
