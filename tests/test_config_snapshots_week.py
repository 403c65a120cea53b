"""REQUIREMENTS 7 (the estate management plans): camera footage is kept one week. A site config
with `retention.snapshots_days` below 7 was accepted without a word, and footage went after 3 days
with nobody told. It is still accepted (an estate may choose fewer, a small card may need it), but
the journal says so as the config loads, with how to keep the week."""

from __future__ import annotations

import logging
from pathlib import Path

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
