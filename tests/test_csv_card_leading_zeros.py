"""Day one: the residents' card list comes from the old system through Excel."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from drivers.readers.frames import em4100_frame, scan_em4100
from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from gateway.store.admin import ImportRejected, import_csv
from gateway.store.csv_rows import card_digits
from tests.conftest import site_toml, write_csv
from tests.parking.conftest import TZ

READER = """
[[devices]]
id = "door-reader"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0"
format = "em4100"
em4100_number = "{number}"
"""
LINE_READER = """
[[devices]]
id = "car-in-reader"
lane = "car-in"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyACM0"
format = "line"
"""
QR_SCANNER = """
[[devices]]
id = "door-qr"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyACM1"
format = "qr"
"""


def _files(tmp_path: Path, card: str) -> list[Path]:
    return [
        write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n"),
        write_csv(tmp_path / "c.csv", f"card,resident_ref\n{card},R1\n"),
    ]


def test_a_decimal_card_number_excel_saved_without_its_leading_zero_is_not_taken_silently(
    tmp_path: Path,
) -> None:
    """docs/hardware.md: with em4100_number = "decimal" the reader gives the 10 digits printed on
    the card (0372653390 here) and the card list is imported in that form. The card list comes
    from the old system through Excel, which saves a column of numbers without their leading zero
    (372653390), about one card in four. `gateway import` takes that row without a word, and on day
    one the resident's card is refused `unknown` at the door. Expected: the card opens the door, or
    the import refuses the row (a 9-digit card where the site's decimal readers give 10)."""
    cfg = parse_config(site_toml(tmp_path / "data") + READER.format(number="decimal"), "site.toml")
    hex_digits = "0016363D4E"  # low 32 bits 0x16363D4E = 372,653,390
    (read,) = scan_em4100(em4100_frame(hex_digits), "decimal").values
    assert read == "0372653390"  # what the reader stores, as the card's print shows
    with pytest.raises(ImportRejected) as refused:
        import_csv(cfg, _files(tmp_path, "372653390"))  # as Excel saved it
    (problem,) = refused.value.problems
    assert problem.startswith(f"{tmp_path / 'c.csv'}:2: card: '372653390' has 9 digits"), problem
    assert "format the card column as text" in problem and "0372653390" in problem, problem

    import_csv(cfg, _files(tmp_path, "0372653390"))  # the column formatted as text
    gw = Gateway(cfg)
    try:
        ev = gw.handle(
            Presented("door", "card", read, 1.0, datetime(2026, 1, 5, 8, 0, tzinfo=TZ), "door-reader")
        )
        assert ev.admitted, ev.reason
    finally:
        gw.conn.close()


@pytest.mark.parametrize(
    ("devices", "digits"),
    [
        (READER.format(number="decimal"), 10),
        (READER.format(number="decimal") + QR_SCANNER, 10),  # a QR scanner reads passes, not cards
        # a hex reader gives 10 hex digits, never 9 (Review 66 I2: it was None, and took 372653390)
        (READER.format(number="hex"), 10),
        (READER.format(number="decimal") + LINE_READER, None),  # a line reader may give 8 digits
        ("", None),
    ],
)
def test_the_rule_holds_only_where_every_card_reader_is_em4100_or_wiegand(
    tmp_path: Path, devices: str, digits: int | None
) -> None:
    cfg = parse_config(site_toml(tmp_path / "data") + devices, "site.toml")
    assert card_digits(cfg) == digits


def test_a_short_number_at_a_site_with_other_readers_is_taken(tmp_path: Path) -> None:
    """A line reader gives what the card's system wrote: an 8-digit number is a card there."""
    cfg = parse_config(
        site_toml(tmp_path / "data") + READER.format(number="decimal") + LINE_READER, "site.toml"
    )
    assert import_csv(cfg, _files(tmp_path, "00112233"))["cards"] == 1


def test_the_admin_api_refuses_a_card_number_without_its_leading_zero_too(tmp_path: Path) -> None:
    cfg = parse_config(site_toml(tmp_path / "data") + READER.format(number="decimal"), "site.toml")
    import_csv(cfg, _files(tmp_path, "0372653390"))
    gw = Gateway(cfg)
    _, token = create_token(gw.conn, gw.now(), "test", "admin-bot", "admin", None)
    (resident,) = gw.conn.execute("SELECT id FROM residents WHERE ref = 'R1'").fetchone()
    gw.start()
    try:
        client = TestClient(create_app(gw))
        auth = {"Authorization": f"Bearer {token}"}
        short = client.post("/api/cards", headers=auth, json={"card": "12345678", "resident_id": resident})
        whole = client.post("/api/cards", headers=auth, json={"card": "0012345678", "resident_id": resident})
    finally:
        gw.stop()
    assert short.status_code == 422, short.text
    assert "has 8 digits" in short.json()["error"]["message"]
    assert whole.status_code == 200, whole.text
