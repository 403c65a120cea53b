"""Review 64C: `timezone = "Etc/GMT+8"` was taken without a word, and it is UTC-8.

An installer who knows China's time as "GMT+8" writes the Etc name for it: the sign of those names
is the inverse of the offset (POSIX), so the site ran 16 hours behind Beijing, its opening hours,
closed-management days and fees by that clock. It is still a valid zone (a site may keep it), but
check-config and the start now say so as the config loads, with Asia/Shanghai as the fix."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import load_config
from tests.conftest import site_toml

ROOT = Path(__file__).resolve().parents[1]


def _config(tmp_path: Path, zone: str) -> Path:
    path = tmp_path / "site.toml"
    text = site_toml(tmp_path / "data")
    assert 'name = "测试小区"\n' in text
    path.write_text(
        text.replace('name = "测试小区"\n', f'name = "测试小区"\ntimezone = "{zone}"\n', 1), "utf-8"
    )
    return path


def said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "site.timezone" in r.getMessage()]


def test_etc_gmt_plus_8_loads_with_a_warning_that_it_is_16_hours_behind_beijing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.config.load"):
        cfg = load_config(_config(tmp_path, "Etc/GMT+8"))
    assert cfg.site.timezone == "Etc/GMT+8"  # a valid zone: taken
    (warning,) = said(caplog)
    assert "UTC-08:00" in warning and "16 hours behind Beijing time" in warning
    assert "inverse" in warning and "Etc/GMT-8" in warning  # why, and what GMT+8 is written
    assert 'timezone = "Asia/Shanghai"' in warning  # the fix


def test_etc_gmt_minus_8_is_beijing_time_and_is_said_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.config.load"):
        load_config(_config(tmp_path, "Etc/GMT-8"))
    (warning,) = said(caplog)
    assert "UTC+08:00" in warning and "Beijing time" in warning and "behind" not in warning
    assert 'timezone = "Asia/Shanghai"' in warning


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Urumqi", "UTC", "Etc/UTC", "Etc/GMT", "Etc/GMT+0"])
def test_other_zones_load_without_a_word(tmp_path: Path, caplog: pytest.LogCaptureFixture, zone: str) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.config.load"):
        load_config(_config(tmp_path, zone))
    assert said(caplog) == []


def test_check_config_says_it_and_still_says_ok(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "check-config", str(_config(tmp_path, "Etc/GMT+8"))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert ": ok (" in done.stdout
    lines = [ln for ln in (done.stdout + done.stderr).splitlines() if "site.timezone" in ln]
    assert len(lines) == 1 and "16 hours behind Beijing time" in lines[0], lines
