"""Review 66 I2: a card number no reader of the site can ever give was imported without a word and
its resident refused at every reader, while the same number in [patrol] guard_cards was refused
"has 8 hex digits ... pad it with zeros to 10 digits (0016363D4E)". Where every card reader of the
site is an EM4100 reader (hex or decimal) or a Wiegand converter, a number of no card form (10 hex
digits, or facility:card) is refused by `gateway import` and the admin API with those words, as a
9-digit one was at a site of decimal readers only. A line reader's own numbers stay taken where
one is (docs/hardware.md, Line readers)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.errors import ImportRejected
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import site_toml, write_csv
from tests.ui.conftest import bearer, seed

DECIMAL_DOOR_AND_WIEGAND_LANE = """
[[devices]]
id = "door-card-reader"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyUSB-door"
format = "em4100"
em4100_number = "decimal"

[[devices]]
id = "car-in-reader"
lane = "car-in"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyUSB-lane"
format = "wiegand"
wiegand_bits = 26
wiegand_encoding = "hex"
"""
HEX_DOOR = """
[[devices]]
id = "door-card-reader"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyUSB-door"
format = "em4100"
"""
LINE_LANE = """
[[devices]]
id = "car-in-reader"
lane = "car-in"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyACM0"
format = "line"
"""


def _files(tmp_path: Path, card: str) -> list[Path]:
    return [
        write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n"),
        write_csv(tmp_path / "c.csv", f"card,resident_ref\n{card},R1\n"),
    ]


@pytest.mark.parametrize(
    ("devices", "card", "said"),
    [
        # the hex id 0016363D4E with its zeros lost: no reader gives 8 hex digits
        (DECIMAL_DOOR_AND_WIEGAND_LANE, "16363D4E", "has 8 hex digits where an EM4100 reader gives 10"),
        (HEX_DOOR, "16363D4E", "pad it with zeros to 10 digits (0016363D4E)"),
        # the printed 0372653390 with its zero lost, at a site of hex readers
        (HEX_DOOR, "372653390", "has 9 digits where an EM4100 reader gives 10"),
        (HEX_DOOR, "G0001", "is no number an EM4100 or Wiegand reader gives"),
        (DECIMAL_DOOR_AND_WIEGAND_LANE, "00372653390", "is no number an EM4100 or Wiegand reader gives"),
    ],
)
def test_a_card_no_reader_gives_is_a_bad_row(tmp_path: Path, devices: str, card: str, said: str) -> None:
    cfg = parse_config(site_toml(tmp_path / "data") + devices, "site.toml")
    with pytest.raises(ImportRejected) as refused:
        import_csv(cfg, _files(tmp_path, card))
    (problem,) = refused.value.problems
    assert problem.startswith(f"{tmp_path / 'c.csv'}:2: card: '{card}'") and said in problem, problem


def test_a_line_readers_own_number_is_still_taken(tmp_path: Path) -> None:
    cfg = parse_config(site_toml(tmp_path / "data") + HEX_DOOR + LINE_LANE, "site.toml")
    assert import_csv(cfg, _files(tmp_path, "16363D4E"))["cards"] == 1


def test_the_admin_api_refuses_it_too(tmp_path: Path) -> None:
    gw = Gateway(parse_config(site_toml(tmp_path / "data") + DECIMAL_DOOR_AND_WIEGAND_LANE, "site.toml"))
    gw.start()
    try:
        admin, _, rid, _ = seed(gw)
        with TestClient(create_app(gw)) as client:
            given = {"card": "16363D4E", "resident_id": rid}
            r = client.post("/api/cards", json=given, headers=bearer(admin))
    finally:
        gw.stop()
    assert r.status_code == 422, r.text
    assert "pad it with zeros to 10 digits (0016363D4E)" in r.json()["error"]["message"], r.text
