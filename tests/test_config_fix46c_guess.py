"""94f5534 put difflib's guess before the key's real home: a key written under the wrong header is
told to become another key of that table, even one the table already sets two lines above."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, parse_config
from tests.conftest import site_toml

TARIFF = """
[[parking.tariffs]]
version = "t1"
effective_from = 2025-01-01

[parking.tariffs.car]
free_minutes = 30
period_minutes = 60
period_fen = 200
"""


def _fix_of(text: str, path: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "site.toml")
    said = info.value.render()
    lines = said.splitlines()
    at = next(i for i, line in enumerate(lines) if path in line)
    return lines[at + 1].strip()


@pytest.mark.parametrize(
    ("extra", "path", "home", "already_here"),
    [
        (
            '\n[parking.tariffs.car.night]\nhours = "22:00-07:00"\nperiod_fen = 100\ncap_fen = 1000\n'
            "daily_cap_fen = 3000\n",
            "car.night.daily_cap_fen",
            "[parking.tariffs.car]",
            "cap_fen",
        ),
        ("grace_minutes = 15\n", "car.grace_minutes", "[parking]", "free_minutes"),
    ],
)
def test_a_key_under_the_wrong_header_is_not_told_to_become_a_key_already_set_there(
    tmp_path: Path, extra: str, path: str, home: str, already_here: str
) -> None:
    """`daily_cap_fen = 3000` written after `[parking.tariffs.car.night]` (TOML puts it in the night
    rate) is told "did you mean 'cap_fen'?", though cap_fen is set two lines above: renamed, the
    file has a duplicate key, and the car's daily cap is still unset. Before 94f5534 (ab008ad) it
    was told to move it under [parking.tariffs.car], where it belongs; so should it be now."""
    text = site_toml(tmp_path / "data") + TARIFF + extra
    fix = _fix_of(text, path)
    assert f"did you mean {already_here!r}" not in fix, (
        f"told to rename it to {already_here}, which this table already sets: {fix}"
    )
    assert home in fix, f"not pointed to {home}: {fix}"


def test_a_key_of_another_table_is_sent_there_before_a_close_match_here(tmp_path: Path) -> None:
    """`session_hours` written under [alarms] (TOML's header above it) belongs to [http]; alarms'
    repair_hours is only a close spelling of it."""
    text = site_toml(tmp_path / "data") + "\n[alarms]\nsession_hours = 8\n"
    fix = _fix_of(text, "alarms.session_hours")
    assert "[http]" in fix and "did you mean" not in fix, fix


def test_a_key_written_before_any_header_is_not_told_to_become_a_longer_word(tmp_path: Path) -> None:
    """`port = 8883` at the top of the file is [mqtt]'s port ([http] sets its own), not a slip for
    `reports`: only a close match that holds the key's words whole (tls_cert_file for cert_file)
    comes first."""
    text = "port = 8883\n" + site_toml(tmp_path / "data")
    fix = _fix_of(text, ": port:")
    assert "did you mean" not in fix and "[mqtt]" in fix and "[http]" not in fix, fix


def test_a_slip_for_a_key_the_table_sets_already_is_told_to_go(tmp_path: Path) -> None:
    """`zoen = "main"` in a lane that sets zone already: renamed as told, the file has zone twice and
    does not load; the fix says it is set there, and to remove the key."""
    text = site_toml(tmp_path / "data").replace('direction = "exit"', 'direction = "exit"\nzoen = "main"')
    fix = _fix_of(text, "lanes[1].zoen")
    assert "set here already: remove the key" in fix, fix
