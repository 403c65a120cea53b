"""明码标价: a car pays the prices published when it came in. A new tariff version added to
site.toml (and the gateway restarted) while a car is parked, dated on or before the car's entry
day, must not reprice that car to prices nobody could read when it came in; the start says so.
A version taken out of the config while cars parked under it are still inside cannot be priced
any more: the start names those cars and what they pay now, and the health report names the
version until it is put back. A version published ahead of its day applies from that day. All
this holds when the start's clock is wrong (a Pi booting on fake-hwclock's stale time, a clock
typed a year ahead and set right at once), and the price table shows the version the fees charge."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.conftest import TARIFF_TOML
from tests.parking.conftest import T0, TZ, parking_toml, seed, show

H = timedelta(hours=1)

# t2: double prices (first hour 10元, then 4元 an hour).
T2 = """
[[parking.tariffs]]
version = "t2"
effective_from = {day}

[parking.tariffs.car]
free_minutes = 30
first_period_minutes = 60
first_period_fen = 1000
period_minutes = 60
period_fen = 400
daily_cap_fen = 6000
"""
MONDAY = T2.format(day="2025-03-03")  # the Monday T0 falls on


def _first_start(tmp_path: Path, tariffs: str = TARIFF_TOML) -> tuple[Path, Gateway]:
    data = tmp_path / "data"
    cfg = parse_config(parking_toml(data).replace(TARIFF_TOML, tariffs), "site.toml")
    seed(cfg, tmp_path)
    return data, Gateway(cfg)


def _restart(data: Path, tariffs: str) -> Gateway:
    return Gateway(parse_config(parking_toml(data).replace(TARIFF_TOML, tariffs), "site.toml"))


def _said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "tariff" in r.getMessage()
    ]


def test_a_version_added_while_the_car_is_parked_does_not_reprice_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """09:00 Monday: the price table shows t1 only (5元 the first hour, 2元 an hour after); a car
    comes in. Later the office adds t2 "from Monday" and restarts the gateway. At 14:00 the car
    leaves: it was published 5+2+2+2+2 = 13元 and is not asked t2's 26元; the start says why."""
    data, gw = _first_start(tmp_path)
    published = TestClient(create_app(gw)).get("/api/parking/prices").json()["tariffs"]
    assert [t["version"] for t in published] == ["t1"]
    show(gw, "car-in", "苏E12345", T0)
    gw.conn.close()

    caplog.set_level(logging.INFO, logger="gateway")
    caplog.clear()
    gw = _restart(data, TARIFF_TOML + MONDAY)
    try:
        held = show(gw, "car-out", "苏E12345", T0 + 5 * H)
        quote = gw.parking.quote(gw.conn, "苏E12345", T0 + 5 * H)
    finally:
        gw.conn.close()
    warned = _said(caplog)
    assert (held.reason, held.fee_fen, quote["tariff_version"]) == ("payment_due", 1300, "t1"), warned
    assert len(warned) == 1 and "'t2' is dated 2025-03-03" in warned[0] and "1 car(s)" in warned[0], warned


def test_a_version_taken_out_while_the_car_is_parked_under_it_is_said_at_start_and_in_health(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """t2 was in force when the car came in (10元 the first hour); the office deletes the t2 table
    from site.toml (tidying up) and restarts. Its prices are gone from the config, so the car pays
    t1's 5元, stamped t1: the start's WARNING names the version, the car and what it pays, and the
    health report names t2 until the version is put back."""
    data, gw = _first_start(tmp_path, TARIFF_TOML + MONDAY)
    show(gw, "car-in", "苏E12345", T0)
    gw.conn.close()

    caplog.set_level(logging.INFO, logger="gateway")
    caplog.clear()
    gw = _restart(data, TARIFF_TOML)
    try:
        held = show(gw, "car-out", "苏E12345", T0 + H)
        health = TestClient(create_app(gw)).get("/api/health").json()["tariffs_edited_in_place"]
    finally:
        gw.conn.close()
    warned = _said(caplog)
    assert (held.fee_fen, health) == (500, ["t2"]), warned
    assert len(warned) == 1 and "'t2' is gone from site.toml" in warned[0], warned
    assert "苏E12345 (in 2025-03-03 09:00) pays 't1'" in warned[0], warned

    gw = _restart(data, TARIFF_TOML + MONDAY)  # put back: nothing more to say
    try:
        health = TestClient(create_app(gw)).get("/api/health").json()["tariffs_edited_in_place"]
    finally:
        gw.conn.close()
    assert health == []


def test_a_version_published_ahead_applies_from_its_day(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """t2 is added today, dated tomorrow: a car in today still pays t1 when it leaves tomorrow; a
    car in tomorrow pays t2. Prices published ahead, as they should be: the start says nothing."""
    data, gw = _first_start(tmp_path)
    today = gw.now().astimezone(TZ)
    show(gw, "car-in", "苏E12345", today - H)
    gw.conn.close()

    caplog.set_level(logging.INFO, logger="gateway")
    caplog.clear()
    tomorrow = today.date() + timedelta(days=1)
    gw = _restart(data, TARIFF_TOML + T2.format(day=tomorrow.isoformat()))
    nine = datetime.combine(tomorrow, time(9), TZ)
    try:
        show(gw, "car-in", "苏E54321", nine)
        quotes = [gw.parking.quote(gw.conn, p, nine + 2 * H) for p in ("苏E12345", "苏E54321")]
    finally:
        gw.conn.close()
    assert ([q["tariff_version"] for q in quotes], _said(caplog)) == (["t1", "t2"], [])


def test_a_box_that_kept_no_tariff_yet_charges_as_before(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A box upgraded from a gateway that kept no first-seen time for its tariffs: the versions it
    finds at that start are taken as published all along, so a car parked across the upgrade pays
    as it would have (t2, in force on its day), with no warning."""
    data, gw = _first_start(tmp_path, TARIFF_TOML + MONDAY)
    show(gw, "car-in", "苏E12345", T0)
    gw.conn.execute("DELETE FROM config_seen WHERE key LIKE 'tariff:%'")  # as before the upgrade
    gw.conn.close()

    caplog.set_level(logging.INFO, logger="gateway")
    caplog.clear()
    gw = _restart(data, TARIFF_TOML + MONDAY)
    try:
        held = show(gw, "car-out", "苏E12345", T0 + H)
    finally:
        gw.conn.close()
    assert (held.fee_fen, _said(caplog)) == (1000, [])


def _clock(monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
    monkeypatch.setattr(Gateway, "now", lambda self: at)


def test_a_version_added_after_the_car_came_in_does_not_reprice_it_when_the_pi_boots_on_a_stale_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installed the week before with t1. Monday 09:00 a car comes in (5元 the first hour, 2元 after).
    At 10:00 the office adds t2 "from Monday" to site.toml; the box is power-cycled and boots on
    fake-hwclock's last save, 07:17 (NTP sets it right a minute later). The car leaves at 14:00: it
    was published t1's 13元, and must not be asked t2's 26元."""
    _clock(monkeypatch, T0 - timedelta(days=7))
    data, gw = _first_start(tmp_path)
    show(gw, "car-in", "苏E12345", T0)
    gw.conn.close()

    _clock(monkeypatch, datetime(2025, 3, 3, 7, 17, tzinfo=TZ))  # the stale boot clock
    gw = _restart(data, TARIFF_TOML + MONDAY)
    _clock(monkeypatch, T0 + 5 * H)  # NTP has set it
    try:
        held = show(gw, "car-out", "苏E12345", T0 + 5 * H)
    finally:
        gw.conn.close()
    assert held.fee_fen == 1300, f"the car was charged {held.fee_fen} fen: t2, added after it came in"


def test_a_version_published_ahead_applies_from_its_day_after_a_start_on_a_clock_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saturday 1 March the office publishes t2 from Monday 3 March (ahead, as the docs ask) and
    restarts the gateway; its clock was typed a year ahead (2026 for 2025) and is set right at once.
    Monday 09:00 the price table shows t2 in force; a car comes in and leaves at 14:00: it pays t2,
    the prices published and in force when it came in, and the price table still shows t2."""
    _clock(monkeypatch, T0 - timedelta(days=7))
    data, gw = _first_start(tmp_path)
    gw.conn.close()

    _clock(monkeypatch, datetime(2026, 3, 1, 10, 0, tzinfo=TZ))  # the installer's typo
    gw = _restart(data, TARIFF_TOML + MONDAY)
    _clock(monkeypatch, T0)  # set right
    try:
        client = TestClient(create_app(gw))
        table = client.get("/api/parking/prices").json()["tariffs"]
        shown = [t["version"] for t in table if t["current"]]
        show(gw, "car-in", "苏E12345", T0)
        held = show(gw, "car-out", "苏E12345", T0 + 5 * H)
        quote = gw.parking.quote(gw.conn, "苏E12345", T0 + 5 * H)
        table_after = client.get("/api/parking/prices").json()["tariffs"]
        shown_after = [t["version"] for t in table_after if t["current"]]
    finally:
        gw.conn.close()
    assert shown == ["t2"]
    assert (held.fee_fen, quote["tariff_version"], shown_after) == (2600, "t2", ["t2"])
