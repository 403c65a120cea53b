"""The site config edited between restarts: a closed lane renamed, a tariff version taken out, a
zone renamed. What the store kept under the old config must not go on acting silently."""

from __future__ import annotations

import logging
import sqlite3
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.core import Presented
from gateway.errors import GatewayError
from gateway.parking.book import Rules, StayFacts, stay_charge
from gateway.parking.fees import Rate, Tariff, stay_fee
from gateway.runtime.gateway import Gateway
from gateway.sync.health import health_report
from tests.conftest import TARIFF_TOML
from tests.parking.conftest import TZ, parking_toml, pay, seed, show

H = timedelta(hours=1)


def site_text(data: Path) -> str:
    return parking_toml(data)


def test_a_lane_closed_then_renamed_in_the_config_is_not_reported_closed_for_ever(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The central server closed the exit lane; the installer then renames the lane's id in
    site.toml and restarts. The health report must not go on saying that a lane `car-out` is
    closed, which no command could ever set back to normal (no lane 'car-out'): its mode is dropped
    at start, on record, and the log says what to do."""
    caplog.set_level(logging.INFO, logger="gateway")  # whatever an earlier test set it to
    data = tmp_path / "data"
    cfg = parse_config(site_text(data), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    gw.start()
    try:
        gw.by_hand.set_lane_mode("car-out", "closed", "central", "barrier arm broken")
    finally:
        gw.stop()

    renamed = (
        site_text(data)
        .replace('id = "car-out"\n', 'id = "exit-north"\n')
        .replace('lane = "car-out"', 'lane = "exit-north"')
    )
    second = Gateway(parse_config(renamed, "site.toml"))
    second.start()
    try:
        modes = health_report(second, {}, 0, "test", second.now())["lane_modes"]
        with pytest.raises(GatewayError, match="no lane 'car-out'"):  # the lane is gone, as is its mode
            second.by_hand.set_lane_mode("car-out", "normal", "central", "repaired")
        trail = second.on_worker(
            lambda c: c.execute("SELECT action, actor, target FROM audit ORDER BY id DESC LIMIT 1").fetchall()
        ).result(60)
        on_record = second.on_worker(lambda c: c.execute("SELECT lane FROM lane_modes").fetchall()).result(60)
    finally:
        second.stop()
    assert modes == {}, f"health upstream says {modes}: a lane not in the config, closed for ever"
    assert trail == [("lane.reopen", "gateway", "car-out")] and on_record == []
    assert (
        "lane car-out no longer closed after the restart: no lane 'car-out' in the site config" in caplog.text
    )


def test_a_car_parked_under_a_tariff_taken_out_of_the_config_does_not_leave_free(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The property company publishes new prices; the installer replaces the [[parking.tariffs]]
    block with the new version (effective from yesterday) and restarts. A temporary car that came in
    two days ago, under the old prices, leaves now: it pays the oldest version it can (the new one)
    from its first day, not 0, its charge names that version, and the start warned of it."""
    caplog.set_level(logging.INFO, logger="gateway")  # whatever an earlier test set it to
    data = tmp_path / "data"
    cfg = parse_config(site_text(data), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    now = gw.now()
    assert show(gw, "car-in", "苏E12345", now - 49 * H).admitted
    gw.conn.close()

    new_day = (now - timedelta(days=1)).date()
    new_tariff = TARIFF_TOML.replace('version = "t1"', 'version = "t2"').replace(
        "effective_from = 2025-01-01", f"effective_from = {new_day.isoformat()}"
    )
    second = Gateway(parse_config(site_text(data).replace(TARIFF_TOML, new_tariff), "site.toml"))
    leaving = second.now()
    try:
        out = show(second, "car-out", "苏E12345", leaving)
        paid = pay(second, "苏E12345", out.fee_fen, leaving) if out.fee_fen else out
    finally:
        second.conn.close()
    with sqlite3.connect(data / "gateway.db") as c:
        charges = c.execute("SELECT kind, tariff_version, amount_fen FROM charges").fetchall()
    assert not out.admitted and out.reason == "payment_due", (
        f"a car parked 49 hours left free: {out.reason}, fee {out.fee_fen}; charges {charges}"
    )
    rate = second.parking.rules.tariffs[0].rate("car")
    assert rate is not None
    owed = stay_fee(rate, datetime.combine(new_day, time(0), TZ), leaving)  # from t2's first day
    assert paid.admitted and charges == [("exit", "t2", owed)] and owed == out.fee_fen
    assert "1 car(s) parked now came in before" in caplog.text and "(t2)" in caplog.text


def test_a_stay_that_began_before_the_first_prices_pays_for_the_time_after_them() -> None:
    """The estate parked free until the company started charging on 1 March. A temporary car in
    since 28 February 10:00 and leaving on 1 March at 10:00 owes 1 March's ten hours, at the
    prices of 1 March, not nothing for ever: the time before any published price is free."""
    rate = Rate(first_period_minutes=60, first_period_fen=500, period_minutes=60, period_fen=200)
    rules = Rules((Tariff("t1", date(2025, 3, 1), {"car": rate}),), timedelta(minutes=15), TZ)
    stay = StayFacts(
        1, "plate:苏E12345", "苏E12345", "car", "temporary", datetime(2025, 2, 28, 10, tzinfo=TZ)
    )

    charge = stay_charge(stay, rules, datetime(2025, 3, 1, 10, tzinfo=TZ))
    left_before = stay_charge(stay, rules, datetime(2025, 2, 28, 20, tzinfo=TZ))

    assert charge is not None and (charge.amount_fen, charge.tariff_version) == (500 + 9 * 200, "t1")
    assert charge.started_at == datetime(2025, 3, 1, tzinfo=TZ)  # billed from the first prices' day
    assert left_before is not None and (left_before.amount_fen, left_before.tariff_version) == (0, "t1")


def test_a_zone_renamed_in_the_config_is_said_at_start_and_in_the_health_reports(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The installer renames the car park's zone id (main -> garage) in site.toml and restarts. The
    residents' fixed slots (main/B001, main/B002) are still in the store under zone main, so their
    cars would come in as cars without a slot and pay. The start says so at ERROR, naming the zone,
    how many slots and what to do, and /api/health and the upstream health report show it, so that
    the installer and the central server see it; the lanes keep working meanwhile."""
    caplog.set_level(logging.INFO, logger="gateway")  # whatever an earlier test set it to
    data = tmp_path / "data"
    cfg = parse_config(site_text(data), "site.toml")
    seed(cfg, tmp_path)
    Gateway(cfg).conn.close()

    renamed = (
        site_text(data).replace('id = "main"', 'id = "garage"').replace('zone = "main"', 'zone = "garage"')
    )
    second = Gateway(parse_config(renamed, "site.toml"))
    try:
        upstream = health_report(second, {}, 0, "test", second.now())["slots_outside_zones"]
        local = TestClient(create_app(second)).get("/api/health").json()["slots_outside_zones"]
        came_in = second.handle(Presented("car-in", "plate", "苏E12345", 0.97, second.now(), "cam"))
    finally:
        second.conn.close()
    said = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any(
        "2 fixed slot(s) are in zone 'main'" in m and "give it its old id 'main'" in m for m in said
    ), said
    assert upstream == local == {"main": 2}
    assert came_in.admitted  # the lanes still work
