"""Tariffs: `first_period_fen = 500` with `first_period_minutes = 0` passed check-config, and the 500
was never charged (fees.py charges a first period of some minutes only): refused, saying what to
set. A tariff giving only `period_fen` gets a free first hour from the defaults (60 minutes at 0
fen); the defaults stay (sites charge by them), but check-config warns, naming first_period_fen."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import ConfigError, filecheck, parse_config
from tests.conftest import site_toml

TARIFF = """
[[parking.tariffs]]
version = "2026-01"
effective_from = 2026-01-01

[parking.tariffs.car]
{car}
period_fen = 200
"""


def _site(tmp_path: Path, car: str) -> str:
    return site_toml(tmp_path / "data") + TARIFF.format(car=car)


def test_a_first_period_price_without_a_first_period_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_site(tmp_path, "first_period_minutes = 0\nfirst_period_fen = 500"), "site.toml")
    said = info.value.render()
    assert "parking.tariffs[0].car.first_period_fen: first_period_fen = 500 is never charged" in said
    assert "set first_period_minutes to its length (60 for 首小时), or remove first_period_fen" in said


@pytest.mark.parametrize(
    "car",
    ["first_period_minutes = 0", "first_period_minutes = 0\nfirst_period_fen = 0", "first_period_fen = 500"],
)
def test_first_periods_that_mean_what_they_say_load(tmp_path: Path, car: str) -> None:
    cfg = parse_config(_site(tmp_path, car), "site.toml")
    assert not [w for w in filecheck.warnings(cfg) if "parking.tariffs" in w]


def _first_period_warnings(tmp_path: Path, car: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    path = tmp_path / "site.toml"
    path.write_text(_site(tmp_path, car), encoding="utf-8")
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: ok (" in out
    return [line for line in out.splitlines() if "parking.tariffs" in line]


def test_check_config_warns_of_a_first_hour_free_only_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warned = _first_period_warnings(tmp_path, "", capsys)
    assert warned == [
        "  warning: parking.tariffs[0].car (version 2026-01): the first 60 minutes cost nothing only "
        "because first_period_fen is not given (it defaults to 0): set first_period_fen to their price "
        "(500 for 首小时5元), or first_period_minutes = 0 to charge period_fen from the start, or "
        "first_period_fen = 0 if they are meant to be free"
    ]
    # A first period of another length, given, still free by default: said with its minutes.
    warned = _first_period_warnings(tmp_path, "first_period_minutes = 30", capsys)
    assert len(warned) == 1 and "the first 30 minutes cost nothing" in warned[0]


def test_a_first_period_given_as_free_is_not_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _first_period_warnings(tmp_path, "first_period_fen = 0", capsys) == []
