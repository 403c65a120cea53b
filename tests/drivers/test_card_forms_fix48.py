"""One card at an estate with a mix of reader models (review 48k): one card, every reader.

The card: EM4100 id 0016363D4E. An EM4100 door reader with em4100_number = "decimal" gives the 10
digits printed on it, 0372653390; one left at "hex" all 10 hex digits; a Wiegand 26 converter the
low 24 bits as facility:card, 054:15694; Wiegand 34 the low 32 bits, 05686:15694. Real ptys for the
readers, the real gateway, `gateway check-config` in its own process.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from drivers.readers.frames import em4100_frame, wiegand_frame
from gateway.config import SiteConfig, parse_config
from gateway.core import Presented
from gateway.core.card_forms import CardId, agreed_bits, card_id, closest, derived_forms, spelled
from gateway.runtime.gateway import Gateway
from gateway.store.admin import ImportRejected, import_csv
from gateway.store.csv_rows import card_digits
from tests.conftest import site_toml, write_csv
from tests.drivers.conftest import PtyDevice, query, wait_for
from tests.parking.conftest import TZ

CARD_HEX = "0016363D4E"
PRINTED = "0372653390"  # what the decimal EM4100 reader gives, printed on the card
W26 = "054:15694"  # what a Wiegand 26 reader gives for the same card
W34 = "05686:15694"  # and a Wiegand 34 reader
W26_FRAME = f"{wiegand_frame(0x36, 0x3D4E, 26):X}\r\n".encode()

DOOR_READER = """
[[devices]]
id = "door-reader"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "{port}"
format = "em4100"
em4100_number = "decimal"
reconnect_max_s = 0.2
"""
LANE_READER = """
[[devices]]
id = "car-in-reader"
lane = "car-in"
kind = "reader"
driver = "serial-reader"
port = "{port}"
format = "wiegand"
wiegand_bits = {bits}
wiegand_encoding = "hex"
reconnect_max_s = 0.2
"""
HEX_DOOR_READER = """
[[devices]]
id = "door-reader-new"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "{port}"
format = "em4100"
reconnect_max_s = 0.2
"""


def _import(cfg: SiteConfig, tmp_path: Path, *cards: str) -> dict[str, int]:
    rows = "".join(f"{card},R{i},粤B1234{i}\n" for i, card in enumerate(cards, 1))
    residents = "".join(f"R{i},3栋,2单元,张{i}\n" for i in range(1, len(cards) + 1))
    vehicles = "".join(f"粤B1234{i},R{i}\n" for i in range(1, len(cards) + 1))
    slots = "".join(f"main,A-0{i},R{i},粤B1234{i}\n" for i in range(1, len(cards) + 1))
    return import_csv(
        cfg,
        [
            write_csv(tmp_path / "r.csv", "ref,building,unit,name\n" + residents),
            write_csv(tmp_path / "v.csv", "plate,resident_ref\n" + vehicles),
            write_csv(tmp_path / "s.csv", "zone,number,resident_ref,plates\n" + slots),
            write_csv(tmp_path / "c.csv", "card,resident_ref,plate\n" + rows),
        ],
    )


def _check_config(path: Path) -> str:
    """`gateway check-config FILE` as the installer runs it (its own process)."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from gateway.cli import main; sys.exit(main(sys.argv[1:]))",
         "check-config", str(path)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _decisions(gw: Gateway) -> list[tuple]:
    return query(gw, "SELECT device, value, admitted, reason FROM access_log ORDER BY id")


def _readers_online(gw: Gateway) -> None:
    wait_for(lambda: all(h.online for h in gw.devices.health if h.kind == "reader"), "readers online")


@pytest.mark.parametrize(
    ("value", "ten_digits", "expected"),
    [
        (CARD_HEX, "decimal", CardId("EM4100 hex", 0x0016363D4E)),
        (PRINTED, "decimal", CardId("EM4100 decimal", 0x16363D4E)),
        (PRINTED, "hex", CardId("EM4100 hex", 0x0372653390)),  # a hex reader's all-digit number
        ("9999999999", "decimal", CardId("EM4100 hex", 0x9999999999)),  # over 32 bits: only hex
        (W26, "decimal", CardId("Wiegand 26", 0x363D4E)),
        (W34, "decimal", CardId("Wiegand 34", 0x16363D4E)),
        ("300:00001", "decimal", CardId("Wiegand 34", 300 << 16 | 1)),  # no 8-bit facility
        ("054:99999", "decimal", None),  # no 16-bit card part
        ("372653390", "decimal", None),  # Excel's dropped zero: no card form
        ("CARD-7", "decimal", None),  # a line reader's own number
    ],
)
def test_what_a_card_number_says_of_the_card(value: str, ten_digits: str, expected: CardId | None) -> None:
    assert card_id(value, ten_digits) == expected  # type: ignore[arg-type]


def test_a_hex_read_gives_the_printed_number_and_both_wiegand_forms() -> None:
    read = card_id(CARD_HEX)
    assert read is not None
    assert [spelled(c) for c in derived_forms(read)] == [PRINTED, W34, W26]
    w26 = card_id(W26)
    assert w26 is not None and derived_forms(w26) == ()
    printed, other = card_id(PRINTED), card_id("0372653391")
    assert printed is not None and other is not None
    assert agreed_bits(w26, printed) == 24 and agreed_bits(w26, other) == 0
    # The registered number agreeing on the most bits is the card: the printed one, not a W26 one.
    assert closest(read, {PRINTED: printed, W26: w26}) == [PRINTED]


def test_a_wiegand_lane_reader_switches_off_the_excel_leading_zero_check_for_the_door_cards(
    tmp_path: Path, pty_device: Callable[[str], PtyDevice], gateways: Callable[[Gateway], Gateway]
) -> None:
    """A card list whose leading zero Excel dropped (372653390) is a bad row where the site's
    readers give 10 decimal digits, a Wiegand reader at the car lane (it only ever gives FFF:CCCCC,
    never an all-digit number) or not."""
    door, lane = pty_device("ttyUSB-door"), pty_device("ttyUSB-lane")
    cfg = parse_config(
        site_toml(tmp_path / "data")
        + DOOR_READER.format(port=door.path)
        + LANE_READER.format(port=lane.path, bits=26),
        "site.toml",
    )
    assert card_digits(cfg) == 10
    with pytest.raises(ImportRejected) as refused:
        _import(cfg, tmp_path, PRINTED.lstrip("0"))  # as Excel saved the column
    assert "372653390" in str(refused.value.problems) and PRINTED in str(refused.value.problems)


def test_a_wiegand_form_card_list_at_a_site_of_printed_digit_readers_opens_the_door(
    tmp_path: Path,
    pty_device: Callable[[str], PtyDevice],
    gateways: Callable[[Gateway], Gateway],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """EM cards carry two numbers (0372653390 and 054,15694); an installer copies the Wiegand
    column. The door's decimal reader reads 32 bits of the card: its low 24 are that Wiegand 26
    number, so the card is found, and recorded as registered. The import takes the row and says
    the form carries 24 bits only, advising the printed digits."""
    door = pty_device("ttyUSB-door")
    cfg = parse_config(site_toml(tmp_path / "data") + DOOR_READER.format(port=door.path), "site.toml")
    with caplog.at_level(logging.WARNING):
        _import(cfg, tmp_path, W26)
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "Wiegand 26 form, which no reader of this site gives: 1 (*****5694)" in said, said
    assert "printed" in said, said
    gw = gateways(Gateway(cfg))
    _readers_online(gw)
    door.write(em4100_frame(CARD_HEX))
    wait_for(lambda: _decisions(gw), "the door's decision")
    assert _decisions(gw) == [("door-reader", W26, 1, "resident")]


def test_the_printed_list_opens_the_door_and_the_wiegand_car_lane_alike(
    tmp_path: Path, pty_device: Callable[[str], PtyDevice], gateways: Callable[[Gateway], Gateway]
) -> None:
    """Decimal EM4100 door readers, a Wiegand 26 reader at the car lane, the supplier's printed
    list: the card is known at the lane, recorded (and sent up) as the registered number."""
    door, lane = pty_device("ttyUSB-door"), pty_device("ttyUSB-lane")
    cfg = parse_config(
        site_toml(tmp_path / "data")
        + DOOR_READER.format(port=door.path)
        + LANE_READER.format(port=lane.path, bits=26),
        "site.toml",
    )
    _import(cfg, tmp_path, PRINTED)
    gw = gateways(Gateway(cfg))
    _readers_online(gw)
    door.write(em4100_frame(CARD_HEX))
    wait_for(lambda: len(_decisions(gw)) == 1, "the door's decision")
    lane.write(W26_FRAME)
    wait_for(lambda: len(_decisions(gw)) == 2, "the lane's decision")
    assert _decisions(gw) == [
        ("door-reader", PRINTED, 1, "resident"),
        ("car-in-reader", PRINTED, 1, "resident"),
    ]
    # The stay its entry opened is the registered car's, and the record for the centre names the card.
    assert query(gw, "SELECT subject FROM stays WHERE exited_at IS NULL") == [("vehicle:1",)]
    upstream = query(gw, "SELECT payload FROM outbox WHERE topic = 'access' ORDER BY seq")
    at_door, at_lane = (json.loads(row[0])["credential"]["value"] for row in upstream)
    assert at_lane == at_door, upstream


def test_a_second_em4100_door_reader_left_at_hex_opens_for_the_printed_cards_and_check_config_warns(
    tmp_path: Path, pty_device: Callable[[str], PtyDevice], gateways: Callable[[Gateway], Gateway]
) -> None:
    """A door reader added later without em4100_number (hex) next to the decimal one: its read's
    low 32 bits are the printed number, so the card opens it; check-config still says the two
    readers give one card in two forms, naming each."""
    old, new = pty_device("ttyUSB-door"), pty_device("ttyUSB-door2")
    text = (
        site_toml(tmp_path / "data")
        + DOOR_READER.format(port=old.path)
        + HEX_DOOR_READER.format(port=new.path)
    )
    cfg = parse_config(text, "site.toml")
    _import(cfg, tmp_path, PRINTED)
    gw = gateways(Gateway(cfg))
    _readers_online(gw)
    old.write(em4100_frame(CARD_HEX))
    wait_for(lambda: len(_decisions(gw)) == 1, "the old reader's decision")
    new.write(em4100_frame(CARD_HEX))
    wait_for(lambda: len(_decisions(gw)) == 2, "the new reader's decision")
    assert _decisions(gw) == [
        ("door-reader", PRINTED, 1, "resident"),
        ("door-reader-new", PRINTED, 1, "resident"),
    ]
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    said = _check_config(path)
    assert "em4100_number" in said and "door-reader-new" in said and "door-reader " in said, said


def _at(lane: str, value: str, device: str) -> Presented:
    return Presented(lane, "card", value, 1.0, datetime.now(TZ), device)


def test_a_wiegand_26_read_two_registered_cards_end_in_is_refused_and_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two cards whose ids differ only above the low 24 bits are one card to a Wiegand 26 reader:
    the import says so, and the lane refuses the read `unknown` (warned once, naming the cards
    masked) rather than let one resident in as the other."""
    cfg = parse_config(
        site_toml(tmp_path / "data")
        + DOOR_READER.format(port="/dev/ttyUSB-door")
        + LANE_READER.format(port="/dev/ttyUSB-lane", bits=26),
        "site.toml",
    )
    other = f"{0x01363D4E:010d}"  # the same low 24 bits as PRINTED
    with caplog.at_level(logging.WARNING):
        _import(cfg, tmp_path, PRINTED, other)
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "Wiegand 26" in said and "******3390" in said and f"******{other[-4:]}" in said, said
    assert PRINTED not in said and other not in said  # masked
    gw = Gateway(cfg)
    caplog.clear()
    try:
        with caplog.at_level(logging.WARNING):
            first = gw.handle(_at("car-in", W26, "car-in-reader"))
            again = gw.handle(_at("car-in", W26, "car-in-reader"))
        w34 = gw.handle(_at("door", W34, "door-reader"))  # 32 bits tell them apart
    finally:
        gw.conn.close()
    assert (first.reason, first.value, again.reason) == ("unknown", W26, "unknown")
    warned = [r.getMessage() for r in caplog.records if "matches 2 registered cards" in r.getMessage()]
    assert len(warned) == 1 and "Wiegand 26" in warned[0] and "******3390" in warned[0], warned
    assert (w34.admitted, w34.value) == (True, PRINTED)


def test_a_hex_register_is_found_by_decimal_and_wiegand_reads(tmp_path: Path) -> None:
    """A site of hex EM4100 readers keeps the hex numbers (10 digits read as hex, all-digit ones
    too); a Wiegand 34 lane reader added later reads the same cards by their low 32 bits."""
    cfg = parse_config(
        site_toml(tmp_path / "data")
        + HEX_DOOR_READER.format(port="/dev/ttyUSB-door")
        + LANE_READER.format(port="/dev/ttyUSB-lane", bits=34),
        "site.toml",
    )
    digits_only = "0012345678"  # hex 0x0012345678: low 32 bits 0x12345678 = 04660:22136 in W34
    _import(cfg, tmp_path, CARD_HEX, digits_only)
    gw = Gateway(cfg)
    try:
        ours = gw.handle(_at("car-in", W34, "car-in-reader"))
        theirs = gw.handle(_at("car-in", "04660:22136", "car-in-reader"))
        # Typed at the booth as printed: 10 digits read as the register's (hex), not this card.
        printed = gw.handle(_at("door", f"{0x12345678:010d}", "guard:desk"))
    finally:
        gw.conn.close()
    assert (ours.admitted, ours.value) == (True, CARD_HEX)
    assert (theirs.admitted, theirs.value) == (True, digits_only)
    assert (printed.admitted, printed.reason) == (False, "unknown")
