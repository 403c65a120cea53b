"""A tariff version edited in place in site.toml between restarts (new numbers, the same `version`):
docs/parking.md promises a stay pays the version in force when it began, stamped on its charge. The
gateway cannot know the old numbers from the config any more, so the start says so, loudly, and the
health reports name the version until the installer puts it right."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.conftest import TARIFF_TOML
from tests.parking.conftest import parking_toml, seed

DOUBLED = TARIFF_TOML.replace("first_period_fen = 500", "first_period_fen = 1000")
NEW_VERSION = TARIFF_TOML + DOUBLED.split("[parking]\ngrace_minutes = 15\n", 1)[1].replace(
    'version = "t1"', 'version = "t2"'
).replace("effective_from = 2025-01-01", "effective_from = 2025-06-01")


def _restarted_with(
    tmp_path: Path, tariffs: str, caplog: pytest.LogCaptureFixture
) -> tuple[list[str], object]:
    data = tmp_path / "data"
    cfg = parse_config(parking_toml(data), "site.toml")
    seed(cfg, tmp_path)
    Gateway(cfg).conn.close()  # the box charged by t1 as first published
    caplog.set_level(logging.INFO, logger="gateway")
    caplog.clear()
    gw = Gateway(parse_config(parking_toml(data).replace(TARIFF_TOML, tariffs), "site.toml"))
    try:
        health = TestClient(create_app(gw)).get("/api/health").json()["tariffs_edited_in_place"]
    finally:
        gw.conn.close()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR" and "tariff" in r.getMessage()]
    return errors, health


def test_a_tariff_version_edited_in_place_is_said_at_start_and_in_the_health_report(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The installer doubles t1's first hour in place: cars parked under the published 5元 would pay
    10元 on a charge still stamped t1. The start's ERROR names the version and the fix."""
    errors, health = _restarted_with(tmp_path, DOUBLED, caplog)
    assert health == ["t1"]
    assert len(errors) == 1 and "'t1'" in errors[0] and "new [[parking.tariffs]] version" in errors[0], errors


def test_new_prices_added_as_a_new_version_are_not_an_edit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The documented way to change prices (a new version from a later day) says nothing."""
    errors, health = _restarted_with(tmp_path, NEW_VERSION, caplog)
    assert (errors, health) == ([], [])
