"""An estate whose sign says the first 30 minutes are free and only the time beyond is charged
(超出部分计费) sets `free_deducted = true` in site.toml: a driver staying 90 minutes pays for one
hour (5元), not for the free half hour as well (7元), and the published price table says so.

The tests of free_deducted built their Rate by hand, so the setting could be dropped on its way
from the config (gateway/parking/tariffs.py) unnoticed (found by the reviewer of round 58d)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from gateway.config import parse_config
from gateway.parking.fees import stay_fee
from gateway.parking.tariffs import price_lines, tariffs_from_config
from tests.conftest import site_toml
from tests.parking.conftest import T0

DEDUCTED = """
[parking]
grace_minutes = 15

[[parking.tariffs]]
version = "t1"
effective_from = 2025-01-01

[parking.tariffs.car]
free_minutes = 30
free_deducted = true
first_period_minutes = 60
first_period_fen = 500
period_minutes = 60
period_fen = 200
"""


def test_free_minutes_deducted_in_site_toml_are_not_charged_and_the_price_table_says_so(
    tmp_path: Path,
) -> None:
    cfg = parse_config(site_toml(tmp_path / "data") + DEDUCTED, "site.toml")
    (tariff,) = tariffs_from_config(cfg.parking)
    rate = tariff.rate("car")
    assert rate is not None
    assert stay_fee(rate, T0, T0 + timedelta(minutes=90)) == 500  # 30 free, then the first hour
    assert "30分钟内免费（超出部分计费）" in price_lines(rate, "zh")
