"""明码标价: a tariff version taken out of site.toml and later put back does not reprice the cars
that came in while it was out (they were shown the other version's prices, on the price table and
in their quotes); the cars that came in under it before it was taken out pay it again. The start
that finds it back names the cars that came in meanwhile."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.runtime.gateway import Gateway
from tests.conftest import TARIFF_TOML
from tests.parking.conftest import T0, TZ, show
from tests.parking.test_tariff_added_while_parked import T2, _first_start, _restart, _said

H = timedelta(hours=1)
LAST_WEEK = T2.format(day="2025-02-24")  # t2: double prices, in force since the week before T0


def test_a_version_put_back_does_not_reprice_a_car_that_came_in_while_it_was_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """t1 and t2 in the config, t2 in force; the office takes t2 out and restarts, no car inside.
    A car comes in at 09:00 under t1 (the price table shows t1 only) and is quoted 13元 at 14:00.
    The office puts t2 back and restarts: the car still pays 13元 under t1, not t2's 26元, and the
    start names it."""
    data, gw = _first_start(tmp_path, TARIFF_TOML + LAST_WEEK)
    gw.conn.close()

    gw = _restart(data, TARIFF_TOML)
    try:
        published = TestClient(create_app(gw)).get("/api/parking/prices").json()["tariffs"]
        show(gw, "car-in", "苏E12345", T0)
        before = gw.parking.quote(gw.conn, "苏E12345", T0 + 5 * H)
    finally:
        gw.conn.close()
    assert [(t["version"], t["current"]) for t in published] == [("t1", True)]
    assert (before["due_fen"], before["tariff_version"]) == (1300, "t1")

    caplog.set_level(logging.INFO, logger="gateway")
    caplog.clear()
    gw = _restart(data, TARIFF_TOML + LAST_WEEK)
    try:
        after = gw.parking.quote(gw.conn, "苏E12345", T0 + 5 * H)
        held = show(gw, "car-out", "苏E12345", T0 + 5 * H)
    finally:
        gw.conn.close()
    assert (held.fee_fen, after["due_fen"], after["tariff_version"]) == (1300, 1300, "t1")
    warned = _said(caplog)
    assert len(warned) == 1 and "'t2' is back in site.toml" in warned[0], warned
    assert "苏E12345 (in 2025-03-03 09:00) pays 't1'" in warned[0], warned


def test_a_car_in_under_a_version_before_it_was_taken_out_pays_it_again_once_put_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Car A comes in under t2; the office takes t2 out (A pays t1 meanwhile: said, in health);
    car B comes in under t1; t2 is put back. A pays t2 (26元) as published when it came in, B
    pays t1 (13元); the start names B alone, and health is empty."""
    data, gw = _first_start(tmp_path, TARIFF_TOML + LAST_WEEK)
    show(gw, "car-in", "苏A11111", T0)
    gw.conn.close()

    gw = _restart(data, TARIFF_TOML)
    try:
        show(gw, "car-in", "苏B22222", T0 + H)
    finally:
        gw.conn.close()

    caplog.set_level(logging.INFO, logger="gateway")
    caplog.clear()
    gw = _restart(data, TARIFF_TOML + LAST_WEEK)
    try:
        health = TestClient(create_app(gw)).get("/api/health").json()["tariffs_edited_in_place"]
        a = show(gw, "car-out", "苏A11111", T0 + 5 * H)
        b = show(gw, "car-out", "苏B22222", T0 + 6 * H)
        quotes = [gw.parking.quote(gw.conn, plate, T0 + 6 * H) for plate in ("苏A11111", "苏B22222")]
    finally:
        gw.conn.close()
    assert (a.fee_fen, b.fee_fen, health) == (2600, 1300, [])
    assert [q["tariff_version"] for q in quotes] == ["t2", "t1"]
    warned = _said(caplog)
    assert len(warned) == 1 and "苏B22222" in warned[0] and "苏A11111" not in warned[0], warned


def test_a_version_found_gone_before_the_upgrade_on_a_stale_clock_still_prices_a_car_in_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Car A comes in at 09:00 under t2; a gateway before 7ed4444 (no tariff_gone_after kept) boots
    on fake-hwclock's stale 07:17 and finds t2 taken out. Upgraded, NTP set, t2 put back: the
    stretch t2 was out begins after A's entry, not at 07:17, so A pays t2 again (26元, not t1's
    13元) and the start does not name A as a car in while t2 was out."""
    monkeypatch.setattr(Gateway, "now", lambda self: T0 - timedelta(days=7))
    data, gw = _first_start(tmp_path, TARIFF_TOML + LAST_WEEK)
    show(gw, "car-in", "苏A11111", T0)
    gw.conn.close()

    monkeypatch.setattr(Gateway, "now", lambda self: datetime(2025, 3, 3, 7, 17, tzinfo=TZ))
    gw = _restart(data, TARIFF_TOML)
    with gw.conn:  # as kept before 7ed4444
        gw.conn.execute("DELETE FROM config_seen WHERE key = 'tariff_gone_after:t2'")
    gw.conn.close()

    monkeypatch.setattr(Gateway, "now", lambda self: T0 + 5 * H)
    caplog.set_level(logging.INFO, logger="gateway")
    caplog.clear()
    gw = _restart(data, TARIFF_TOML + LAST_WEEK)
    try:
        quote = gw.parking.quote(gw.conn, "苏A11111", T0 + 5 * H)
        held = show(gw, "car-out", "苏A11111", T0 + 5 * H)
    finally:
        gw.conn.close()
    assert (held.fee_fen, quote["due_fen"], quote["tariff_version"]) == (2600, 2600, "t2")
    assert not [w for w in _said(caplog) if "苏A11111" in w], _said(caplog)
