"""docs/config.md, [visitors] default_hours: "Hours a visitor pass is valid when the guard does not
give an end time; at most visitor_max_days days." visitor_max_days goes up to 366, yet the model
caps default_hours at 168 whatever visitor_max_days says (gateway/config/models.py, Visitors)."""

from __future__ import annotations

from pathlib import Path

from gateway.config import ConfigError, parse_config
from tests.conftest import site_toml


def test_a_ten_day_default_pass_is_taken_where_passes_may_last_thirty_days(tmp_path: Path) -> None:
    text = site_toml(tmp_path / "data") + "\n[visitors]\nvisitor_max_days = 30\ndefault_hours = 240\n"
    try:
        cfg = parse_config(text, "site.toml")
    except ConfigError as exc:
        raise AssertionError(
            "config.md says default_hours is 'at most visitor_max_days days' (30 here, 720 hours), "
            f"but 240 is refused: {exc.render()}"
        ) from None
    assert cfg.visitors.default_hours == 240
