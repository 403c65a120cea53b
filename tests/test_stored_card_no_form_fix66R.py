"""Review 66 fix R1: a card held from before that no reader of the site gives (taken while a line
reader was at the door, its register kept when an EM4100 reader replaced it) is said by `gateway
import` (one WARNING, masked, with the fix), as the start says it; nothing was said of it before."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.store.admin import import_csv
from tests.conftest import site_toml, write_csv
from tests.test_card_never_read_fix66I import HEX_DOOR, LINE_LANE


def test_import_says_a_stored_card_no_reader_gives(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    line_site = parse_config(site_toml(tmp_path / "data") + HEX_DOOR + LINE_LANE, "site.toml")
    residents = write_csv(
        tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\nR2,3栋,2单元,李四\n"
    )
    import_csv(line_site, [residents, write_csv(tmp_path / "c.csv", "card,resident_ref\nG0001,R1\n")])

    hex_site = parse_config(site_toml(tmp_path / "data") + HEX_DOOR, "site.toml")  # the line reader gone
    caplog.set_level(logging.WARNING)
    import_csv(hex_site, [write_csv(tmp_path / "c2.csv", "card,resident_ref\n0016363D4E,R2\n")])
    said = [r.getMessage() for r in caplog.records if "no card reader of this site gives" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("1 stored card(s)") and "*0001" in said[0], said
    assert "G0001" not in said[0] and "printed on the card" in said[0]
