"""One card, every reader (review 48y): a card struck off, blocked at the booth, or read by a hex
reader in another form than registered, and a Wiegand card list without its leading zeros.

The card: EM4100 id 0016363D4E, printed 0372653390, Wiegand 26 054:15694 (tests/drivers/
test_card_forms_fix48.py). Real ptys for the readers where the running gateway is the point.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import SiteConfig, parse_config
from gateway.core import Presented
from gateway.core.card_forms import CardId, card_id, numbers_agreeing, spellings
from gateway.errors import Conflict, NotFound
from gateway.runtime.gateway import Gateway
from gateway.store.registry import add_card, delete_resident, set_blocked
from tests.conftest import site_toml
from tests.drivers.conftest import PtyDevice, query, wait_for
from tests.drivers.test_card_forms_fix48 import (
    CARD_HEX,
    DOOR_READER,
    HEX_DOOR_READER,
    LANE_READER,
    PRINTED,
    W26,
    W26_FRAME,
    W34,
    _import,
)
from tests.parking.conftest import TZ
from tests.ui.conftest import bearer, make_config, start_site

W26_READER = """
[[devices]]
id = "{id}"
lane = "{lane}"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyUSB-{id}"
format = "wiegand"
wiegand_bits = 26
wiegand_encoding = "hex"
"""
DECIMAL_READER = """
[[devices]]
id = "{id}"
lane = "{lane}"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyUSB-{id}"
format = "em4100"
em4100_number = "decimal"
"""
DOOR_OUT = """
[[lanes]]
id = "door-out"
gate = "north"
direction = "exit"
type = "pedestrian"
"""


def _at(lane: str, value: str, device: str, at: datetime | None = None) -> Presented:
    return Presented(lane, "card", value, 1.0, at or datetime.now(TZ), device)


def _r1(gw: Gateway) -> int:
    return int(gw.conn.execute("SELECT id FROM residents WHERE ref = 'R1'").fetchone()[0])


def _door_and_lane(tmp_path: Path) -> SiteConfig:
    return parse_config(
        site_toml(tmp_path / "data")
        + DOOR_READER.format(port="/dev/ttyUSB-door")
        + LANE_READER.format(port="/dev/ttyUSB-lane", bits=26),
        "site.toml",
    )


def _two_doors(tmp_path: Path) -> SiteConfig:
    """A decimal EM4100 door reader and one left at hex beside it."""
    return parse_config(
        site_toml(tmp_path / "data")
        + DOOR_READER.format(port="/dev/ttyUSB-door")
        + HEX_DOOR_READER.format(port="/dev/ttyUSB-door2"),
        "site.toml",
    )


# --- 1. A card struck off (its resident moved out), read at an exit in another form ---------------


def test_moved_out_residents_car_leaves_by_its_card_at_a_wiegand_26_exit(tmp_path: Path) -> None:
    """The car came in on the card at the Wiegand 26 car lane (recorded as the printed number); its
    resident moves out and is deleted while it is parked. docs/parking.md: a card the register no
    longer knows lets out the car it let in; it was held `unknown` as 054:15694, its stay open."""
    text = site_toml(tmp_path / "data")
    text += W26_READER.format(id="in-w26", lane="car-in") + W26_READER.format(id="out-w26", lane="car-out")
    cfg = parse_config(text, "site.toml")
    _import(cfg, tmp_path, PRINTED)
    gw = Gateway(cfg)
    try:
        now = datetime.now(TZ)
        came_in = gw.handle(_at("car-in", W26, "in-w26", now - timedelta(hours=3)))
        assert (came_in.admitted, came_in.value) == (True, PRINTED)
        delete_resident(gw.conn, now, "admin", _r1(gw))
        out = gw.handle(_at("car-out", W26, "out-w26", now))
        stays = gw.conn.execute("SELECT count(*) FROM stays WHERE exited_at IS NULL").fetchone()[0]
    finally:
        gw.conn.close()
    assert (out.admitted, out.reason, out.value) == (True, "resident", PRINTED), (
        f"the moved-out resident's car is held at the Wiegand exit: {out.reason} as {out.value}"
    )
    assert stays == 0


def test_moved_out_resident_walks_out_by_a_wiegand_26_exit_door(tmp_path: Path) -> None:
    """In through the door's decimal reader, deleted while at home, out through the exit door's
    Wiegand 26 reader with the same card: docs/parking.md lets the holder out; it stayed shut."""
    text = site_toml(tmp_path / "data") + DOOR_OUT
    text += DECIMAL_READER.format(id="door-dec", lane="door")
    text += W26_READER.format(id="out-w26", lane="door-out")
    cfg = parse_config(text, "site.toml")
    _import(cfg, tmp_path, PRINTED)
    gw = Gateway(cfg)
    try:
        now = datetime.now(TZ)
        came_in = gw.handle(_at("door", PRINTED, "door-dec", now - timedelta(hours=3)))
        assert (came_in.admitted, came_in.value) == (True, PRINTED)
        delete_resident(gw.conn, now - timedelta(hours=1), "admin", _r1(gw))
        out = gw.handle(_at("door-out", W26, "out-w26", now))
        # Another card, never registered, at the same exit: not taken for the struck-off one.
        stranger = gw.handle(_at("door-out", "054:15695", "out-w26", now))
    finally:
        gw.conn.close()
    assert (out.admitted, out.reason, out.value) == (True, "resident", PRINTED), (
        f"the moved-out resident is kept in at the Wiegand exit door: {out.reason} as {out.value}"
    )
    assert (stranger.admitted, stranger.reason, stranger.value) == (False, "unknown", "054:15695")


def test_moved_out_residents_car_at_the_wiegand_exit_with_real_readers(
    tmp_path: Path, pty_device: Callable[[str], PtyDevice], gateways: Callable[[Gateway], Gateway]
) -> None:
    """The same with real ptys and the running gateway: both car lanes have Wiegand 26 converters."""
    lane_in, lane_out = pty_device("ttyUSB-in"), pty_device("ttyUSB-out")
    exit_reader = LANE_READER.format(port=lane_out.path, bits=26).replace(
        'id = "car-in-reader"\nlane = "car-in"', 'id = "car-out-reader"\nlane = "car-out"'
    )
    cfg = parse_config(
        site_toml(tmp_path / "data") + LANE_READER.format(port=lane_in.path, bits=26) + exit_reader,
        "site.toml",
    )
    _import(cfg, tmp_path, PRINTED)
    gw = gateways(Gateway(cfg))
    wait_for(lambda: all(h.online for h in gw.devices.health if h.kind == "reader"), "readers online")
    decisions = lambda: query(gw, "SELECT device, value, admitted, reason FROM access_log ORDER BY id")  # noqa: E731
    lane_in.write(W26_FRAME)
    wait_for(lambda: len(decisions()) == 1, "the entrance's decision")
    gw.on_worker(lambda c: delete_resident(c, gw.now(), "admin", 1)).result(timeout=10)
    lane_out.write(W26_FRAME)
    wait_for(lambda: len(decisions()) == 2, "the exit's decision")
    assert decisions()[1] == ("car-out-reader", PRINTED, 1, "resident"), f"held at the exit: {decisions()}"
    assert query(gw, "SELECT count(*) FROM stays WHERE exited_at IS NULL") == [(0,)]


# --- 2. A card blocked (or unblocked) at the booth by another number it carries -----------------


def test_blocking_a_lost_card_by_its_wiegand_number_keeps_it_out(tmp_path: Path) -> None:
    """The guard types the lost card's Wiegand number (054:15694, printed on it too) to block it:
    he was told no such card is registered, "an unknown card is refused already", and the card
    kept opening the car lane. The registered card is blocked, on record under its number; the
    admin lifts the block by the same number."""
    cfg = _door_and_lane(tmp_path)
    _import(cfg, tmp_path, PRINTED)
    gw = Gateway(cfg)
    try:
        now = datetime.now(TZ)
        done = set_blocked(gw.conn, now, "guard1", ("card", W26), True, "lost", ten_digits="decimal")
        at_lane = gw.handle(_at("car-in", W26, "car-in-reader", now))
        at_door = gw.handle(_at("door", PRINTED, "door-reader", now))
        trail = gw.conn.execute("SELECT action, target FROM audit WHERE action LIKE 'credential.%'")
        trail = trail.fetchall()
        lifted = set_blocked(gw.conn, now, "admin", ("card", W34), False, "found", ten_digits="decimal")
        again = gw.handle(_at("car-in", W26, "car-in-reader", now + timedelta(minutes=1)))
    finally:
        gw.conn.close()
    assert done["blocked"] and not lifted["blocked"] and done["id"] == lifted["id"]
    assert (at_lane.admitted, at_lane.reason, at_lane.value) == (False, "blocked", PRINTED)
    assert (at_door.admitted, at_door.reason) == (False, "blocked")
    assert trail == [("credential.block", "card:******3390")]
    assert (again.admitted, again.value) == (True, PRINTED)


def test_a_typed_wiegand_26_number_two_cards_end_in_blocks_neither_and_says_so(tmp_path: Path) -> None:
    """Two registered cards with the same low 24 bits: 054:15694 names both. Nothing is blocked;
    the guard is told it is two cards (masked) and to type the printed number, not that an
    unknown card is refused already."""
    cfg = _door_and_lane(tmp_path)
    other = f"{0x01363D4E:010d}"
    _import(cfg, tmp_path, PRINTED, other)
    gw = Gateway(cfg)
    try:
        with pytest.raises(Conflict) as two:
            set_blocked(gw.conn, datetime.now(TZ), "guard1", ("card", W26), True, "lost")
        blocked = gw.conn.execute("SELECT count(*) FROM credentials WHERE blocked = 1").fetchone()[0]
        with pytest.raises(NotFound) as nobody:
            set_blocked(gw.conn, datetime.now(TZ), "guard1", ("card", "054:15695"), True, "lost")
    finally:
        gw.conn.close()
    said = f"{two.value.message} {two.value.fix}"
    assert "******3390" in said and f"******{other[-4:]}" in said and "printed" in said, said
    assert "refused already" not in said and blocked == 0
    assert "refused already" in nobody.value.fix  # a card no reader finds: so it is


def test_the_booth_blocks_a_hex_registers_card_by_its_wiegand_34_number(
    tmp_path: Path, pty_device: Callable[[str], PtyDevice]
) -> None:
    """Through the API, at a site of hex EM4100 readers (its register's 10 digits are hex, all-digit
    ones too): the card 0012345678 (hex) typed as its Wiegand 34 number 04660:22136 is blocked;
    read as a printed number, 0012345678 was another card and the guard was told it is unknown."""
    door = pty_device("ttyUSB-door2")
    site = start_site(make_config(tmp_path / "data", HEX_DOOR_READER.format(port=door.path)))
    try:
        rid = site.resident_id
        site.gw.on_worker(
            lambda c: add_card(c, site.gw.now(), "admin", "0012345678", rid, None, None, None, "")
        ).result(timeout=10)
        with TestClient(create_app(site.gw)) as client:
            block = {"kind": "card", "value": "04660:22136", "reason": "业主报失"}
            done = client.post("/api/credentials/block", json=block, headers=bearer(site.guard_token))
        blocked = query(site.gw, "SELECT value FROM credentials WHERE blocked = 1")
    finally:
        site.gw.stop()
    assert done.status_code == 200, done.text
    assert blocked == [("0012345678",)]


# --- 3. A hex reader's all-digit id that spells a registered printed number ----------------------


def test_an_unregistered_card_whose_hex_id_spells_a_printed_number_stays_out(tmp_path: Path) -> None:
    """A visitor's own card, id 0x0372653390, read by the hex door reader as 0372653390: the digits
    of R1's printed number (R1's id is 0x0016363D4E). It opened the door as R1. Refused `unknown`,
    recorded as its own printed number (its low 32 bits, 1919234960); R1's card opens both."""
    cfg = _two_doors(tmp_path)
    _import(cfg, tmp_path, PRINTED)
    gw = Gateway(cfg)
    try:
        visitor = gw.handle(_at("door", "0372653390", "door-reader-new"))
        r1_hex = gw.handle(_at("door", CARD_HEX, "door-reader-new"))
        r1_decimal = gw.handle(_at("door", PRINTED, "door-reader"))
    finally:
        gw.conn.close()
    assert (visitor.admitted, visitor.reason, visitor.value) == (False, "unknown", "1919234960"), (
        f"an unregistered card (hex id 0372653390) opened the door as {visitor.reason} {visitor.value}"
    )
    assert (r1_hex.admitted, r1_hex.value) == (True, PRINTED)
    assert (r1_decimal.admitted, r1_decimal.value) == (True, PRINTED)


# --- 4. A Wiegand card list without the leading zeros --------------------------------------------


def test_a_wiegand_list_without_leading_zeros_opens_every_reader_alike(tmp_path: Path) -> None:
    """The card registered as 54:15694 opened the decimal door reader but the hex one beside it
    refused it `unknown`: its read was compared only with the zero-padded 054:15694."""
    cfg = _two_doors(tmp_path)
    _import(cfg, tmp_path, "54:15694")
    gw = Gateway(cfg)
    try:
        now = datetime.now(TZ)
        decimal = gw.handle(_at("door", PRINTED, "door-reader", now))
        hex_read = gw.handle(_at("door", CARD_HEX, "door-reader-new", now))
    finally:
        gw.conn.close()
    # stored as the Wiegand reader spells it (review 51f): the list's 54:15694 is that card
    assert (decimal.admitted, decimal.value) == (True, "054:15694")
    assert (hex_read.admitted, hex_read.value) == (True, "054:15694"), (
        f"the hex door reader refused the registered card: {hex_read.reason} as {hex_read.value}"
    )


@pytest.mark.parametrize(
    ("card", "written"),
    [
        (CardId("Wiegand 26", 0x363D4E), ["054:15694", "54:15694"]),
        (CardId("Wiegand 26", 5 << 16 | 7), ["005:00007", "005:0007", "005:007", "005:07", "005:7",
                                              "05:00007", "05:0007", "05:007", "05:07", "05:7",
                                              "5:00007", "5:0007", "5:007", "5:07", "5:7"]),
        (CardId("Wiegand 34", 0x16363D4E), ["05686:15694", "5686:15694"]),
        (CardId("Wiegand 34", 54 << 16 | 15694), ["00054:15694", "0054:15694"]),  # 054: is W26's
        (CardId("Wiegand 34", 300 << 16 | 15694), ["00300:15694", "0300:15694", "300:15694"]),
        (CardId("EM4100 decimal", 0x16363D4E), [PRINTED]),
    ],
)
def test_every_way_of_writing_a_number_reads_back_as_the_card(card: CardId, written: list[str]) -> None:
    assert list(spellings(card)) == written
    assert all(card_id(number) == card for number in written)


def test_the_numbers_a_read_may_be_registered_as_are_listed_where_few() -> None:
    w26, printed = card_id(W26), card_id(PRINTED)
    assert w26 is not None and printed is not None
    assert numbers_agreeing(printed, ["EM4100 decimal"]) == [PRINTED]
    assert numbers_agreeing(printed, ["Wiegand 26"]) == ["054:15694", "54:15694"]
    in_decimal = numbers_agreeing(w26, ["EM4100 decimal"])
    assert in_decimal is not None and len(in_decimal) == 256 and PRINTED in in_decimal
    # A W26 read of a register holding hex or W34 numbers: too many to list, the cards are read.
    assert numbers_agreeing(w26, ["EM4100 hex"]) is None and numbers_agreeing(w26, ["Wiegand 34"]) is None


# --- The common case reads no card but by its number ---------------------------------------------


def _scans(conn: sqlite3.Connection, act: Callable[[], object]) -> list[str]:
    """The statements `act` ran on `conn` that read every registered card."""
    ran: list[str] = []
    conn.set_trace_callback(ran.append)
    try:
        act()
    finally:
        conn.set_trace_callback(None)
    every_card = []
    for sql in ran:
        if "credentials" not in sql or not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        plan = [str(row[-1]) for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
        # By kind alone (kind=?) or by nothing: every card is read; by value or id, only those.
        every = r"SCAN credentials\b|SEARCH credentials USING .*\(kind=\?\)$"
        if any(re.match(every, step) for step in plan):
            every_card.append(f"{sql} -> {plan}")
    return every_card


def test_an_unknown_card_at_a_printed_digits_register_reads_no_other_card(tmp_path: Path) -> None:
    """A stranger's card at the decimal door and at the Wiegand 26 lane: looked up by the numbers
    it may be registered as, not by reading every card (review 48y: p99 10 ms at 50,000 cards).
    A card in another form added since (Wiegand 34) is found all the same."""
    cfg = _door_and_lane(tmp_path)
    _import(cfg, tmp_path, PRINTED)
    gw = Gateway(cfg)
    try:
        now = datetime.now(TZ)
        door = gw.handle(_at("door", "0999999999", "door-reader", now))
        assert _scans(gw.conn, lambda: gw.handle(_at("door", "0999999998", "door-reader", now))) == []
        assert _scans(gw.conn, lambda: gw.handle(_at("car-in", "099:09999", "car-in-reader", now))) == []
        car = gw.conn.execute("SELECT id FROM vehicles WHERE resident_id = ?", (_r1(gw),)).fetchone()[0]
        add_card(gw.conn, now, "admin", "00099:09999", _r1(gw), car, None, None, "")
        lane = gw.handle(_at("car-in", "099:09999", "car-in-reader", now + timedelta(minutes=1)))
    finally:
        gw.conn.close()
    assert (door.admitted, door.reason) == (False, "unknown")
    assert (lane.admitted, lane.value) == (True, "00099:09999")
    assert card_id(W34) is not None
