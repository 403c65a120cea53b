"""Review 64C: every earlier release's example config (config/example-estate.toml) had a live
closed-management period, 2026-12-01 to 2026-12-31, 07:00-21:00. Commit 97a5dc42 commented it out of
the example only: a site installed from it keeps the period, and the new version's check-config (the
step README's Upgrading gives before the restart) said "ok" and nothing of it, nor did the start.
From 1 December such a site turns every temporary car away (closed_management).

check-config and the start now warn of a period in force or starting within 30 days, naming it, its
dates and hours, what it refuses, and how to take it out if it is not meant."""

from __future__ import annotations

import logging
import re
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.cli import main
from gateway.config import parse_config
from gateway.config.closed_ahead import closed_management_ahead
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml
from tests.old_release import LAST_RELEASE, REPO

SH = ZoneInfo("Asia/Shanghai")
# The old example's period, as it stood in every release's config/example-estate.toml before 97a5dc42.
OLD_EXAMPLE_PERIOD = """
[[policy.closed_management]]
first_day = 2026-12-01
last_day = 2026-12-31
hours = ["07:00-21:00"]
temporary_vehicles = "refuse"
contractors = "refuse"
visitor_fields = [
    "id_number", "phone", "destination", "reason", "host_building", "host_unit", "passengers", "occupants",
]
"""


def _period(first: str, last: str, hours: str = '["07:00-21:00"]', extra: str = "") -> str:
    return f"\n[[policy.closed_management]]\nfirst_day = {first}\nlast_day = {last}\nhours = {hours}\n{extra}"


def test_the_old_example_is_the_period_warned_of() -> None:
    """The block above is the one the last release's example shipped (so the test is of what sites have)."""
    try:
        old = subprocess.run(
            ["git", "show", f"{LAST_RELEASE}:config/example-estate.toml"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no git history here (a source tarball): the old example cannot be read")
    lines = OLD_EXAMPLE_PERIOD.strip().splitlines()
    assert all(line in old.splitlines() for line in lines), old


@pytest.mark.parametrize(
    ("now", "when"),
    [
        (datetime(2026, 11, 26, 9, 0, tzinfo=SH), "begins in 5 days"),  # the review's today
        (datetime(2026, 11, 1, 0, 0, tzinfo=SH), "begins in 30 days"),
        (datetime(2026, 11, 30, 22, 0, tzinfo=SH), "begins tomorrow"),
        (datetime(2026, 12, 1, 6, 0, tzinfo=SH), "begins today"),
        (datetime(2026, 12, 15, 23, 0, tzinfo=SH), "is in force, to 2026-12-31"),
        (datetime(2026, 12, 31, 20, 59, tzinfo=SH), "is in force now, to 2026-12-31"),
    ],
)
def test_the_old_examples_december_is_warned_of(tmp_path: Path, now: datetime, when: str) -> None:
    cfg = parse_config(site_toml(tmp_path / "data") + OLD_EXAMPLE_PERIOD, "site.toml")
    (warning,) = closed_management_ahead(cfg, now)
    assert warning.startswith(
        "policy.closed_management[0]: closed management (封闭管理) from 2026-12-01 to 2026-12-31, "
        f"07:00-21:00 each day, {when}: "
    ), warning
    assert "temporary (unregistered) cars and contractors are refused (closed_management)" in warning, warning
    assert "id_number, phone, destination, reason, host_building, host_unit, passengers, occupants" in warning
    # Said where it comes from, and how to take it out.
    assert "the example config of releases before this one had this period live" in warning, warning
    assert "delete this [[policy.closed_management]] block from the site config" in warning, warning
    assert "sudo systemctl restart estate-gateway" in warning, warning


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 10, 31, 23, 59, tzinfo=SH),  # 31 days before: a month's notice is enough
        datetime(2027, 1, 1, 0, 0, tzinfo=SH),  # over
        datetime(2026, 12, 31, 16, 0, tzinfo=ZoneInfo("UTC")),  # over: 1 January, 00:00, in Shanghai
    ],
)
def test_a_period_far_off_or_over_is_not_warned_of(tmp_path: Path, now: datetime) -> None:
    cfg = parse_config(site_toml(tmp_path / "data") + OLD_EXAMPLE_PERIOD, "site.toml")
    assert closed_management_ahead(cfg, now) == []


def test_the_site_zone_decides_the_day(tmp_path: Path) -> None:
    """2026-11-30 17:00 UTC is already 1 December, 01:00, in Shanghai: the period begins today there."""
    cfg = parse_config(site_toml(tmp_path / "data") + OLD_EXAMPLE_PERIOD, "site.toml")
    (warning,) = closed_management_ahead(cfg, datetime(2026, 11, 30, 17, 0, tzinfo=ZoneInfo("UTC")))
    assert "07:00-21:00 each day, begins today:" in warning, warning


def test_a_period_of_the_sites_own_is_said_as_it_is(tmp_path: Path) -> None:
    """All day, night hours, cars admitted: what it does is said as configured, without the old
    example's note; one that refuses nobody and asks nothing of visitors says nothing."""
    text = (
        site_toml(tmp_path / "data")
        + _period(
            "2026-12-05", "2026-12-06", "[]", 'temporary_vehicles = "admit"\nvisitor_fields = ["phone"]\n'
        )
        + _period("2026-12-07", "2026-12-08", '["21:00-07:00"]', 'contractors = "admit"\n')
        + _period(
            "2026-12-09",
            "2026-12-09",
            "[]",
            'temporary_vehicles = "admit"\ncontractors = "admit"\nvisitor_fields = []\n',
        )
    )
    cfg = parse_config(text, "site.toml")
    first, second = closed_management_ahead(cfg, datetime(2026, 12, 1, 12, 0, tzinfo=SH))
    assert first.startswith(
        "policy.closed_management[0]: closed management (封闭管理) from 2026-12-05 to 2026-12-06, "
        "all day, begins in 4 days: contractors are refused (closed_management), and a visitor is let "
        "in only registered with phone; "
    ), first
    assert "temporary" not in first and "example config" not in first, first
    assert second.startswith(
        "policy.closed_management[1]: closed management (封闭管理) from 2026-12-07 to 2026-12-08, "
        "21:00-07:00 each day, begins in 6 days: temporary (unregistered) cars are refused"
    ), second
    assert "contractors" not in second, second
    # The night of its last day holds to 07:00 the next morning: still in force then.
    (late,) = closed_management_ahead(cfg, datetime(2026, 12, 9, 6, 30, tzinfo=SH))
    assert late.startswith("policy.closed_management[1]:") and "is in force now, to 2026-12-08" in late, late


def _site_closing_soon(tmp_path: Path) -> Path:
    """A site whose period begins three days from today in its zone: the check runs on the real clock."""
    today = datetime.now(SH).date()
    text = site_toml(tmp_path / "data") + _period(
        (today + timedelta(days=3)).isoformat(), (today + timedelta(days=33)).isoformat()
    )
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_config_warns_before_the_restart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = _site_closing_soon(tmp_path)
    capsys.readouterr()
    assert main(["check-config", str(site)]) == 0
    out = capsys.readouterr().out
    assert "  warning: policy.closed_management[0]: closed management (封闭管理) from " in out, out
    # 2 days where the test ran across the site's midnight
    assert re.search(
        r"07:00-21:00 each day, begins in [23] days: temporary \(unregistered\) cars and", out
    ), out


def test_the_start_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = parse_config(site_toml(tmp_path / "data") + OLD_EXAMPLE_PERIOD, "site.toml")
    monkeypatch.setattr(Gateway, "now", lambda self: datetime(2026, 11, 26, 9, 0, tzinfo=SH))
    with caplog.at_level(logging.WARNING):
        Gateway(cfg).conn.close()
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        line.startswith(
            "policy.closed_management[0]: closed management (封闭管理) from 2026-12-01 to 2026-12-31"
        )
        and "begins in 5 days" in line
        for line in said
    ), said
