"""README: the config "never changes a value behind your back (`NO` -> false ...)", yet pydantic's lax
mode took `enabled = "NO"` as false, "yes" as true, `capacity = { car = "10" }` and
`pulse_seconds = "2"` as numbers. Values are taken only as TOML typed them: a quoted true/false or
number is refused, naming the key, with the fix to write it without quotes. A whole number for a
float key, strings for paths and choices, and TOML's own dates still load."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gateway.config import ConfigError, parse_config
from tests.conftest import site_toml


def _refused(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "site.toml")
    return info.value.render()


@pytest.mark.parametrize("value", ['"NO"', '"yes"', '"true"', "1"])
def test_a_boolean_in_quotes_or_as_a_number_is_refused(tmp_path: Path, value: str) -> None:
    said = _refused(site_toml(tmp_path / "data") + f'\n[mqtt]\nenabled = {value}\nhost = "broker"\n')
    assert "mqtt.enabled: Input should be a valid boolean" in said
    if value.startswith('"'):
        assert "fix: write true or false without quotes" in said


def test_a_capacity_in_quotes_is_refused(tmp_path: Path) -> None:
    text = site_toml(tmp_path / "data", capacity='"10"')
    said = _refused(text)
    assert "zones[0].capacity.car: Input should be a valid integer (found '10')" in said
    assert "fix: write a whole number without quotes" in said


def test_a_pulse_in_quotes_is_refused_and_a_whole_number_is_taken(tmp_path: Path) -> None:
    lane = '[[lanes]]\nid = "car-in"\n'
    text = site_toml(tmp_path / "data")
    assert lane in text
    said = _refused(text.replace(lane, lane + 'pulse_seconds = "2"\n'))
    assert "lanes[0].pulse_seconds: Input should be a valid number (found '2')" in said
    assert "fix: write a number without quotes" in said
    cfg = parse_config(text.replace(lane, lane + "pulse_seconds = 2\n"), "site.toml")
    assert cfg.lanes[0].pulse_seconds == 2.0 and isinstance(cfg.lanes[0].pulse_seconds, float)


def test_strings_for_paths_and_choices_and_native_dates_still_load(tmp_path: Path) -> None:
    text = site_toml(tmp_path / "data") + (
        '\n[mqtt]\nenabled = true\nhost = "broker"\nusername = "gw"\npassword_file = "mqtt.pass"\n'
        '\n[[parking.tariffs]]\nversion = "2026-01"\neffective_from = 2026-01-01\n'
        "[parking.tariffs.car]\nfirst_period_fen = 500\nperiod_fen = 200\n"
        '\n[[devices]]\nid = "cam"\nlane = "car-in"\nkind = "camera"\ndriver = "opencv"\n'
        'url = "usb:0"\nroi = [[0, 0], [640, 0], [640, 480]]\n'
    )
    cfg = parse_config(text, "site.toml", base_dir=tmp_path)
    assert cfg.site.data_dir == tmp_path / "data"
    assert cfg.mqtt.password_file == tmp_path / "mqtt.pass"
    assert cfg.policy.anti_passback == "soft"
    assert cfg.parking.tariffs[0].effective_from == date(2026, 1, 1)
    assert cfg.devices[-1].roi == [(0, 0), (640, 0), (640, 480)]  # type: ignore[union-attr]
    said = _refused(text.replace("[640, 480]]", '[640, "480"]]'))
    assert "roi[2][1]: Input should be a valid integer (found '480')" in said
