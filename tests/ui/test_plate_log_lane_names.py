"""Lanes are named for the guard (北门车辆入口): the plate log calls them so, as the live page does,
not by the config's ids."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.core import Presented
from tests.conftest import site_toml
from tests.ui.conftest import DRIVEN, GUARD, Site, log_in, start_site

NAME = "北门车辆入口"


@pytest.fixture
def named_site(tmp_path: Path) -> Iterator[Site]:
    text = (site_toml(tmp_path / "data") + DRIVEN).replace(
        'id = "car-in"\n', f'id = "car-in"\nname = "{NAME}"\n', 1
    )
    s = start_site(parse_config(text, "site.toml"))
    yield s
    s.gw.stop()


def test_the_plate_log_names_the_lane_as_the_live_page_does(named_site: Site) -> None:
    """The plate log's 车道 column showed car-in where the live page says 北门车辆入口."""
    site = named_site
    site.gw.present(Presented("car-in", "plate", "鲁B12345", 0.99, site.gw.now(), "cam"))
    with TestClient(create_app(site.gw)) as client:
        log_in(client, GUARD)
        deadline = time.monotonic() + 5
        while "鲁B12345" not in (page := client.get("/plates").text) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert NAME in client.get("/").text  # the live page calls the lane by its name
        row = re.search(r'<tr class="[^"]*" data-event=.*?</tr>', page, re.S)
        assert row is not None, page
        cells = re.findall(r"<td>(.*?)</td>", row.group(0), re.S)
        assert cells[1] == NAME, f"the plate log's lane column shows {cells[1]!r}, not the lane's name"
