"""Review 66 I3: the centre's or the supplier's card list in hex (10 hex digits, as an EM4100 reader
set to hex gives them) imported at a site whose EM4100 readers give the printed decimal number was
taken without a word. Its numbers with A-F are found by their low 32 bits; its all-digit ones are
read as printed numbers, other cards: R2 (hex 0012345678) is refused, and a stranger whose card is
printed 0012345678 is let in as R2. The import now warns, naming the all-digit rows."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.readers.frames import em4100_frame
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import site_toml, write_csv
from tests.drivers.conftest import PtyDevice, query, wait_for

READER = """
[[devices]]
id = "door-card-reader"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "{port}"
format = "em4100"
em4100_number = "decimal"
reconnect_max_s = 0.2
"""
RESIDENTS = "ref,building,unit,name\nR1,3栋,2单元,张三\nR2,3栋,2单元,李四\nR3,5栋,1单元,王五\n"
HEX_LIST = "card,resident_ref\n0016363D4E,R1\n0012345678,R2\n00A1B2C3D4,R3\n"


def test_a_hex_list_at_a_decimal_site_is_warned_naming_its_all_digit_rows(
    tmp_path: Path,
    pty_device: Callable[[str], PtyDevice],
    gateways: Callable[[Gateway], Gateway],
    caplog: pytest.LogCaptureFixture,
) -> None:
    door = pty_device("ttyUSB-door")
    cfg = parse_config(site_toml(tmp_path / "data") + READER.format(port=door.path), "site.toml")
    files = [write_csv(tmp_path / "r.csv", RESIDENTS), write_csv(tmp_path / "c.csv", HEX_LIST)]
    with caplog.at_level(logging.WARNING):
        assert import_csv(cfg, files)["cards"] == 3  # taken: a decimal list holds all-digit numbers
    said = [r.getMessage() for r in caplog.records if "hex ids" in r.getMessage()]
    assert len(said) == 1, caplog.text
    assert "c.csv:3 ******5678" in said[0] and "c.csv:2" not in said[0], said  # the all-digit row
    assert "0372653390" in said[0] and "delete them" in said[0], said  # what to import instead

    # What the warning is about, at the real door: R2's card refused, a stranger's let in as R2.
    gw = gateways(Gateway(cfg))
    wait_for(lambda: all(h.online for h in gw.devices.health if h.kind == "reader"), "online")
    for n, card in enumerate(("0012345678", "5500BC614E"), 1):  # R2's; printed 0012345678
        door.write(em4100_frame(card))
        wait_for(lambda n=n: len(query(gw, "SELECT 1 FROM access_log")) == n, card)
    rows = query(gw, "SELECT value, admitted FROM access_log ORDER BY rowid")
    assert rows == [("0305419896", 0), ("0012345678", 1)], rows


def test_a_printed_list_at_a_decimal_site_is_not_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = parse_config(site_toml(tmp_path / "data") + READER.format(port="/dev/ttyUSB-door"), "site.toml")
    printed = "card,resident_ref\n0372653390,R1\n0012345678,R2\n012:34567,R3\n"
    files = [write_csv(tmp_path / "r.csv", RESIDENTS), write_csv(tmp_path / "c.csv", printed)]
    with caplog.at_level(logging.WARNING):
        import_csv(cfg, files)
    assert "hex ids" not in caplog.text
