"""Review 64Rg: on a closed-management period's last day, once its hours were over (31 Dec 22:00 for
07:00-21:00), check-config and the start still said it "is in force, to 2026-12-31": nobody is kept
out any more, and an installer reading it would take out a period that has ended, or think it runs
on. Now such a period is said of no more, as the next morning; hours running past midnight on the
last day are still in force until they end."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.config import parse_config
from gateway.config.closed_ahead import closed_management_ahead
from tests.conftest import site_toml

SH = ZoneInfo("Asia/Shanghai")


def _warned(tmp_path: Path, hours: str, at: datetime) -> list[str]:
    period = (
        f"\n[[policy.closed_management]]\nfirst_day = 2026-12-01\nlast_day = 2026-12-31\nhours = {hours}\n"
    )
    return closed_management_ahead(parse_config(site_toml(tmp_path / "data") + period, "site.toml"), at)


@pytest.mark.parametrize(
    ("hours", "at"),
    [
        ('["07:00-21:00"]', datetime(2026, 12, 31, 22, 0, tzinfo=SH)),
        ('["07:00-12:00", "14:00-21:00"]', datetime(2026, 12, 31, 21, 0, tzinfo=SH)),
    ],
)
def test_a_period_whose_last_hours_are_over_is_not_said_in_force(
    tmp_path: Path, hours: str, at: datetime
) -> None:
    assert _warned(tmp_path, hours, at) == []


@pytest.mark.parametrize(
    ("hours", "at"),
    [
        ('["07:00-21:00"]', datetime(2026, 12, 31, 6, 0, tzinfo=SH)),  # its last day's hours to come
        ('["07:00-12:00", "14:00-21:00"]', datetime(2026, 12, 31, 13, 0, tzinfo=SH)),
        ('["22:00-06:00"]', datetime(2026, 12, 31, 21, 0, tzinfo=SH)),  # the last night to come
        ('["22:00-06:00"]', datetime(2027, 1, 1, 3, 0, tzinfo=SH)),  # the last night's end
    ],
)
def test_a_period_with_hours_still_to_come_is_said_in_force(tmp_path: Path, hours: str, at: datetime) -> None:
    (warning,) = _warned(tmp_path, hours, at)
    assert "to 2026-12-31" in warning
