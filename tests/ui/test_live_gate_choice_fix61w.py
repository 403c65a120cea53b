"""One gateway serves all of an estate's gates, each with its own booth and tablet (review 61y): the
live page showed every lane of every gate to every booth, the guard at the north gate seeing the
south gate's cars and refusals flash red and looking for his own lanes among them. Now the tablet
shows the gate its guard chooses, kept on the tablet, all of them until he does, and says lanes are
hidden (docs/guard-app.md, live page)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.conftest import TARIFF_TOML
from tests.ui.conftest import GUARD, Site, log_in, make_config, served
from tests.ui.test_guard_browser import (  # noqa: F401  (fixtures, and the skip without chromium)
    PORTRAIT,
    browser,
    in_english,
    page_at,
    pytestmark,
)

# The test site's north gate (car-in, car-out, door) and a south gate of two lanes, one a door
# with a card reader the test drives.
SOUTH_GATE = """
[[gates]]
id = "south"
name = "南门"

[[lanes]]
id = "s-in"
gate = "south"
direction = "entrance"
type = "vehicle"
zone = "main"

[[lanes]]
id = "s-door"
gate = "south"
direction = "entrance"
type = "pedestrian"

[[devices]]
id = "s-door-reader"
lane = "s-door"
kind = "reader"
driver = "simulated"
per_minute = 6000
"""

NORTH = ("#lane-car-in", "#lane-car-out", "#lane-door")
SOUTH = ("#lane-s-in", "#lane-s-door")


@pytest.fixture
def two_gates(tmp_path: Path) -> Iterator[tuple[Site, str]]:
    with served(make_config(tmp_path / "data", TARIFF_TOML + SOUTH_GATE)) as served_site:
        yield served_site


def test_the_north_booth_shows_its_own_gate_and_keeps_the_choice(
    two_gates: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    site, url = two_gates
    page = page_at(browser, url, PORTRAIT)
    # Until the guard chooses, every lane of both gates, and nothing says any is hidden.
    for lane in NORTH + SOUTH:
        expect(page.locator(lane)).to_be_visible()
    expect(page.locator("#gate-only")).to_be_hidden()
    expect(page.locator("#gate-choice")).to_have_value("")

    page.select_option("#gate-choice", label="北门")
    for lane in NORTH:
        expect(page.locator(lane)).to_be_visible()
    for lane in SOUTH:
        expect(page.locator(lane)).to_be_hidden()
    expect(page.locator("#gate-only")).to_have_text("只显示 北门（3/5 个通道）")

    # Reloaded (the tablet restarted, the page opened again): still the north gate.
    page.reload(wait_until="load")
    page.wait_for_selector("#lanes")
    expect(page.locator("#gate-choice")).to_have_value("north")
    for lane in SOUTH:
        expect(page.locator(lane)).to_be_hidden()
    expect(page.locator("#lane-door")).to_be_visible()
    # A stranger refused at the south door does not show at the north booth.
    site.traffic.show("s-door-reader", "card", "C0FFEE01")
    page.locator("#lane-s-door [data-latest].refused").wait_for(state="attached")
    expect(page.locator("#lane-s-door")).to_be_hidden()
    # The choice is said in English too.
    in_english(page)
    expect(page.locator("#gate-only")).to_have_text("Showing 北门 only (3 of 5 lanes)")
    expect(page.locator("#lane-s-in")).to_be_hidden()

    # Back to every gate: all lanes again, the south door's refusal on its panel.
    page.select_option("#gate-choice", value="")
    for lane in NORTH + SOUTH:
        expect(page.locator(lane)).to_be_visible()
    expect(page.locator("#gate-only")).to_be_hidden()
    expect(page.locator("#lane-s-door [data-latest].refused")).to_be_visible()
    page.reload(wait_until="load")
    page.wait_for_selector("#lanes")
    expect(page.locator("#lane-s-in")).to_be_visible()
    assert page.errors == []


def test_a_site_of_one_gate_offers_no_choice(client: TestClient) -> None:
    log_in(client, GUARD)
    page = client.get("/")
    assert page.status_code == 200
    assert 'id="lane-car-in"' in page.text
    assert 'id="gate-choice"' not in page.text
