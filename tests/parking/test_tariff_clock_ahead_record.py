"""A version published ahead, seen by a start on a clock ahead, with a car recorded before the clock
is set right: the version still applies from its day (docs/parking.md, *Fees*)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.runtime.gateway import Gateway
from tests.conftest import TARIFF_TOML
from tests.parking.conftest import T0, TZ, show
from tests.parking.test_tariff_added_while_parked import MONDAY, _first_start, _restart

H = timedelta(hours=1)
AHEAD = datetime(2026, 3, 1, 10, 0, tzinfo=TZ)  # the installer's typo: a year ahead


def _clock(monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
    monkeypatch.setattr(Gateway, "now", lambda self: at)


def _current(gw: Gateway) -> list[str]:
    table = TestClient(create_app(gw)).get("/api/parking/prices").json()["tariffs"]
    return [t["version"] for t in table if t["current"]]


def test_prices_published_ahead_apply_from_their_day_after_a_clock_ahead_wrote_a_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saturday 1 March 2025 the office publishes t2 from Monday 3 March and restarts the gateway,
    whose clock reads a year ahead (2026). Before anyone notices, a resident drives in and is
    recorded at '2026-03-01 10:05'; then the clock is set right. Monday 09:00 the price table
    should show t2 in force and a car in at 09:00, out at 14:00, should pay t2's 26元 (docs: a start
    on a clock ahead, set right since, does not keep new prices published ahead from their day).
    Instead t2 counts as first seen in 2026: the table shows t1 (t2 is on no table at all) and the
    car pays t1's 13元 - for a year."""
    _clock(monkeypatch, T0 - timedelta(days=7))
    data, gw = _first_start(tmp_path)
    gw.conn.close()

    _clock(monkeypatch, AHEAD)
    gw = _restart(data, TARIFF_TOML + MONDAY)
    try:
        assert show(gw, "car-in", "皖B33333", AHEAD + timedelta(minutes=5)).admitted  # R2's car, on its slot
        _clock(monkeypatch, T0)  # set right
        current = _current(gw)
        show(gw, "car-in", "苏E12345", T0)
        held = show(gw, "car-out", "苏E12345", T0 + 5 * H)
    finally:
        gw.conn.close()
    assert (current, held.fee_fen) == (["t2"], 2600), (
        f"the table shows {current} current; the car was asked {held.fee_fen} fen"
    )


def test_the_car_in_on_the_clock_set_right_pays_the_same_after_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same start on a clock a year ahead, a car recorded on it, the clock set right. A car comes
    in Monday 09:00 under t2 (in force, on the table); the gateway is restarted at noon (no change
    to site.toml). The car leaves at 14:00: it is asked t2's 26元, as the table said when it came in,
    and the table still shows t2 - the records written on the clock ahead do not date t2 in 2026
    once the start is forgotten."""
    _clock(monkeypatch, T0 - timedelta(days=7))
    data, gw = _first_start(tmp_path)
    gw.conn.close()

    _clock(monkeypatch, AHEAD)
    gw = _restart(data, TARIFF_TOML + MONDAY)
    try:
        show(gw, "car-in", "皖B33333", AHEAD + timedelta(minutes=5))
        _clock(monkeypatch, T0)  # set right
        show(gw, "car-in", "苏E12345", T0)
    finally:
        gw.conn.close()

    _clock(monkeypatch, T0 + 3 * H)
    gw = _restart(data, TARIFF_TOML + MONDAY)
    try:
        held = show(gw, "car-out", "苏E12345", T0 + 5 * H)
        _clock(monkeypatch, T0 + 5 * H)
        current = _current(gw)
    finally:
        gw.conn.close()
    assert (held.fee_fen, current) == (2600, ["t2"]), (
        f"asked {held.fee_fen} fen after the restart; the table shows {current} current"
    )
