"""REQUIREMENTS 7 (the estate management plans): camera footage is kept one week. A site config
with `retention.snapshots_days` below 7 was accepted without a word, and footage went after 3 days
with nobody told. It is still accepted (an estate may choose fewer, a small card may need it), but
the journal says so as the config loads, with how to keep the week."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.config import load_config
from tests.conftest import site_toml


def _config(tmp_path: Path, days: int | None) -> Path:
    path = tmp_path / "site.toml"
    retention = "" if days is None else f"\n[retention]\nsnapshots_days = {days}\n"
    path.write_text(site_toml(tmp_path / "data") + retention, encoding="utf-8")
    return path


def said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "snapshots_days" in r.getMessage()]


def test_snapshots_kept_less_than_a_week_load_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.config.load"):
        cfg = load_config(_config(tmp_path, 3))
    assert cfg.retention.snapshots_days == 3  # the estate's choice stands
    (warning,) = said(caplog)
    assert "kept 3 days" in warning and "one week" in warning
    assert "snapshots_days = 7" in warning and "[retention]" in warning  # how to keep the week


@pytest.mark.parametrize("days", [None, 7, 30])
def test_a_week_or_more_loads_without_a_word(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, days: int | None
) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.config.load"):
        load_config(_config(tmp_path, days))
    assert said(caplog) == []


def test_a_command_says_it_once_in_the_sites_time(tmp_path: Path) -> None:
    """The CLI reads the config to put its log in the site's zone, then the command loads it: every
    `gateway run` (each start of the service) and `gateway export` said the short retention twice,
    the first stamped in the box's zone (a Pi left on UTC: 8 hours off the site's). Said once now,
    in the site's time, as the service's other lines."""
    config = _config(tmp_path, 3)
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "export", "-c", str(config), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC"},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    said_here = [ln for ln in (done.stdout + done.stderr).splitlines() if "snapshots_days = 3" in ln]
    assert len(said_here) == 1, said_here
    site = datetime.now(ZoneInfo(load_config(config, warn=False).site.timezone))
    stamp = re.match(r"(\d\d):\d\d:\d\d ", said_here[0])
    assert stamp is not None, said_here
    assert (int(stamp[1]) - site.hour) % 24 in (0, 23), f"the site's time is {site:%H:%M}: {said_here[0]}"
