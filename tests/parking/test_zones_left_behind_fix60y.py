"""Review 60y (found by reviewer 60q): site.toml edited on an estate already running, then the
service restarted. Lanes pointed at a new zone with the old one left in the file: the residents'
fixed slots stay in the old zone, and every resident paid for his own slot with nothing said. A
zone with no slots renamed with cars inside: they counted under the old id, and the car park took
as many cars more than it has room for, with nothing said either."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.sync.health import health_report
from tests.parking.conftest import parking_toml, seed, show

H = timedelta(hours=1)


def _said(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level]


def test_slots_in_a_zone_no_entrance_leads_to_any_more_are_said_at_start_and_in_health(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway")
    data = tmp_path / "data"
    cfg = parse_config(parking_toml(data), "site.toml")
    seed(cfg, tmp_path)  # slots main/B001 (皖A11111, 皖A22222) and main/B002 (皖B33333)
    first = Gateway(cfg)
    try:
        assert show(first, "car-in", "皖B33333", first.now()).reason == "resident"
    finally:
        first.conn.close()

    # The lanes moved to a new zone; the old zone left in the file, its slots in it.
    edited = parking_toml(data).replace('zone = "main"', 'zone = "garage"') + (
        '\n[[zones]]\nid = "garage"\nname = "地库"\ncapacity = { car = 6 }\n'
    )
    caplog.clear()
    second = Gateway(parse_config(edited, "site.toml"))
    try:
        health = health_report(second, {}, 0, "test", second.now())
        back = show(second, "car-in", "皖A11111", second.now())
    finally:
        second.conn.close()
    assert back.reason == "temporary" and "no_slot" in back.flags  # what the resident meets
    assert health["slots_outside_zones"] == {"main": 2}
    assert health["stays_outside_zones"] == {"main": 1}  # 皖B33333, parked on its slot in main
    errors = [m for m in _said(caplog, logging.ERROR) if "fixed slot" in m]
    assert len(errors) == 1
    assert "2 fixed slot(s) are in zone 'main', which no vehicle entrance" in errors[0]
    assert "set their zone back to 'main'" in errors[0] and "['garage']" in errors[0]


def test_cars_inside_a_zone_renamed_away_are_said_at_start_and_in_health(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway")
    data = tmp_path / "data"
    text = parking_toml(data, capacity=3)  # three spaces, no fixed slots (nothing imported)
    gw = Gateway(parse_config(text, "site.toml"))
    now = gw.now()
    try:
        for i, plate in enumerate(("苏E10001", "苏E10002", "苏E10003")):
            assert show(gw, "car-in", plate, now - (3 - i) * H).reason == "temporary"
    finally:
        gw.conn.close()

    renamed = text.replace('id = "main"', 'id = "garage"').replace('zone = "main"', 'zone = "garage"')
    caplog.clear()
    second = Gateway(parse_config(renamed, "site.toml"))
    try:
        health = health_report(second, {}, 0, "test", second.now())
    finally:
        second.conn.close()
    assert health["stays_outside_zones"] == {"main": 3} and health["slots_outside_zones"] == {}
    warned = [m for m in _said(caplog, logging.WARNING) if "parked now are counted in zone 'main'" in m]
    assert len(warned) == 1, _said(caplog, logging.WARNING)
    assert "3 vehicle(s)" in warned[0] and "['garage']" in warned[0] and "its old id 'main'" in warned[0]
