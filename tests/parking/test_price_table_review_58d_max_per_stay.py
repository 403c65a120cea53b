"""明码标价: the published price table (/prices, the booth's printout) states a rate's most per stay
(`max_per_stay_fen`), since the gateway charges no more: a driver reads 单次停车最高 50元.

No price-table test used a rate with a maximum, so the line could go missing unnoticed (found by
the reviewer of round 58d)."""

from __future__ import annotations

from pathlib import Path

from gateway.config import parse_config
from gateway.parking.tariffs import price_lines, tariffs_from_config
from tests.conftest import site_toml

CAPPED = """
[parking]
grace_minutes = 15

[[parking.tariffs]]
version = "t1"
effective_from = 2025-01-01

[parking.tariffs.car]
free_minutes = 30
period_minutes = 60
period_fen = 200
max_per_stay_fen = 5000
"""


def test_the_price_table_states_the_most_a_stay_costs(tmp_path: Path) -> None:
    cfg = parse_config(site_toml(tmp_path / "data") + CAPPED, "site.toml")
    (tariff,) = tariffs_from_config(cfg.parking)
    rate = tariff.rate("car")
    assert rate is not None
    assert "单次停车最高 50元" in price_lines(rate, "zh")
    assert "At most 50 yuan per stay" in price_lines(rate, "en")
