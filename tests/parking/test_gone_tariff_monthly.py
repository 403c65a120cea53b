"""Review r2store: a monthly car pays the tariff version of its entry for the time past its period
(37a2a4a). When that version is taken out of site.toml while the car is parked, the start and the
health report do not count it among the cars that now pay another version's prices."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.timefmt import to_db
from tests.conftest import TARIFF_TOML
from tests.parking.conftest import T0, parking_toml, seed, show
from tests.parking.test_tariff_added_while_parked import MONDAY

H = timedelta(hours=1)
CAR = "皖C44444"  # R3's monthly car


def test_monthly_car_parked_under_a_version_taken_out_is_named_at_start_and_in_health(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """09:00 Monday, t2 in force (10元 the first hour, 4元 an hour after). 皖C44444, monthly until
    14:00 that day, comes in as a monthly car. The office deletes t2 from site.toml and restarts.
    docs/parking.md: the monthly car pays the version of its entry for the time past its period
    (t2), and a version taken out while cars parked under it are inside is said at start (the car
    and what it pays now) and named in the health report's tariffs_edited_in_place until put back.
    The car leaves at 17:00 and is charged t1 (another version than the one published when it
    came in), yet the start said nothing and the health report named no version: the count of
    cars parked under a gone version looks only at temporary and visitor stays."""
    data = tmp_path / "data"
    cfg = parse_config(parking_toml(data).replace(TARIFF_TOML, TARIFF_TOML + MONDAY), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = ?", (to_db(T0 + 5 * H), CAR))
    came = show(gw, "car-in", CAR, T0)
    assert (came.reason, came.billing) == ("monthly", "monthly"), came
    gw.conn.close()

    caplog.set_level(logging.INFO, logger="gateway")
    caplog.clear()
    gw = Gateway(parse_config(parking_toml(data), "site.toml"))  # t2 gone
    try:
        health = TestClient(create_app(gw)).get("/api/health").json()["tariffs_edited_in_place"]
        quote = gw.parking.quote(gw.conn, CAR, T0 + 8 * H)
    finally:
        gw.conn.close()
    warned = [r.getMessage() for r in caplog.records if "'t2' is gone from site.toml" in r.getMessage()]
    assert quote["tariff_version"] == "t1", quote  # it is repriced: t2 is no longer in the config
    assert health == ["t2"] and len(warned) == 1 and CAR in warned[0], (health, warned)
