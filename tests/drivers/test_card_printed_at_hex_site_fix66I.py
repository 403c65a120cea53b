"""Review 66 I1: at a site whose EM4100 readers are left at em4100_number = "hex" (the default), the
10 digits printed on a card worked almost nowhere. The guard typing the printed 0372653390 into
立即禁用 was told "an unknown card is refused already" while the card (registered 0016363D4E) kept
opening the door; 查询 by the printed digits found nobody; an admin registering the printed number
got 200 without a word, and the door refused the card; the import said nothing either.

The card: EM4100 id 0016363D4E, printed 0372653390 (its low 32 bits). Real ptys, the real gateway.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from drivers.readers.frames import em4100_frame
from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.store.admin import import_csv
from tests.conftest import site_toml, write_csv
from tests.drivers.conftest import PtyDevice, query, wait_for
from tests.ui.conftest import bearer, seed

HEX_ID = "0016363D4E"
PRINTED = "0372653390"  # HEX_ID's low 32 bits in decimal, as printed on the card
READER = """
[[devices]]
id = "door-card-reader"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "{port}"
format = "em4100"
reconnect_max_s = 0.2
debounce_s = 0
"""
DECIMAL = 'em4100_number = "decimal"\n'


class HexSite:
    def __init__(self, gw: Gateway, door: PtyDevice, client: TestClient) -> None:
        self.gw, self.door, self.client = gw, door, client
        self.admin, self.guard, self.resident, _ = seed(gw)

    def resident_with(self, ref: str, card: str) -> int:
        def run(conn):  # type: ignore[no-untyped-def]
            now = self.gw.now()
            rid = registry.upsert_resident(
                conn,
                self.gw.secrets,
                now,
                "test",
                {"ref": ref, "building": "5栋", "unit": "1单元", "name": ref},
            )
            registry.add_card(conn, now, "test", card, rid, None, None, None, "", ten_digits="hex")
            return rid

        return int(self.gw.on_worker(run).result(timeout=10))

    def tap(self, card_hex: str) -> tuple[str, int, str]:
        before = len(query(self.gw, "SELECT 1 FROM access_log"))
        wait_for(lambda: all(h.online for h in self.gw.devices.health if h.kind == "reader"), "online")
        self.door.write(em4100_frame(card_hex))
        wait_for(lambda: len(query(self.gw, "SELECT 1 FROM access_log")) > before, "decision")
        return query(self.gw, "SELECT value, admitted, reason FROM access_log ORDER BY rowid DESC LIMIT 1")[0]

    def lookup(self, q: str) -> list[str]:
        r = self.client.get("/api/lookup", params={"q": q}, headers=bearer(self.guard))
        assert r.status_code == 200, r.text
        return sorted(resident["ref"] for resident in r.json())

    def block(self, card: str) -> tuple[int, dict]:  # type: ignore[type-arg]
        body = {"kind": "card", "value": card, "reason": "业主报失"}
        r = self.client.post("/api/credentials/block", json=body, headers=bearer(self.guard))
        return r.status_code, r.json()


@pytest.fixture
def hex_site(tmp_path: Path, pty_device: Callable[[str], PtyDevice]) -> Iterator[HexSite]:
    door = pty_device("ttyUSB-door")
    gw = Gateway(parse_config(site_toml(tmp_path / "data") + READER.format(port=door.path), "site.toml"))
    gw.start()
    try:
        with TestClient(create_app(gw)) as client:
            yield HexSite(gw, door, client)
    finally:
        gw.stop()


def test_the_guard_finds_and_blocks_a_hex_registered_card_by_its_printed_number(hex_site: HexSite) -> None:
    hex_site.resident_with("R2", HEX_ID)
    assert hex_site.tap(HEX_ID)[1:] == (1, "resident")

    assert hex_site.lookup(PRINTED) == ["R2"], "查询 by the digits printed on the card found nobody"
    status, body = hex_site.block(PRINTED)
    assert status == 200, body
    assert query(hex_site.gw, "SELECT value FROM credentials WHERE blocked = 1") == [(HEX_ID,)]
    value, admitted, _ = hex_site.tap(HEX_ID)
    assert (value, admitted) == (HEX_ID, 0), "the lost card still opened the door after 立即禁用"


def test_ten_digits_that_are_two_cards_block_neither(hex_site: HexSite) -> None:
    """R2's card printed 0372653390 (id 0016363D4E), R3's card whose hex id is 0372653390: the ten
    digits typed are both; nothing is blocked, the guard is told so, and 查询 shows both."""
    hex_site.resident_with("R2", HEX_ID)
    hex_site.resident_with("R3", PRINTED)

    assert hex_site.lookup(PRINTED) == ["R2", "R3"]
    status, body = hex_site.block(PRINTED)
    assert status == 409, body
    error = body["error"]
    assert error["code"] == "card_ambiguous" and error["cards"] == 2, error
    said = f"{error['message']} {error['fix']}"
    assert "printed" in said and "hex" in said and "resident's page" in said, said
    assert query(hex_site.gw, "SELECT value FROM credentials WHERE blocked = 1") == []


def test_an_unknown_ten_digit_number_is_refused_saying_how_this_site_reads_it(hex_site: HexSite) -> None:
    status, body = hex_site.block("0123456789")
    assert status == 404, body
    fix = body["error"]["fix"]
    assert "printed" in fix and "hex" in fix, fix


def test_the_admin_registering_a_printed_number_at_a_hex_site_is_warned(hex_site: HexSite) -> None:
    auth = bearer(hex_site.admin)
    given = {"card": PRINTED, "resident_id": hex_site.resident}
    r = hex_site.client.post("/api/cards", json=given, headers=auth)
    assert r.status_code == 200, r.text  # a hex id may be all digits: taken, not refused
    warning = r.json().get("warning") or ""
    assert 'em4100_number = "decimal"' in warning and "printed" in warning, r.text
    # the door reads this card (printed 0372653390) as 0016363D4E: refused, as the warning says
    assert hex_site.tap(HEX_ID)[1] == 0

    other = {"card": "00A1B2C3D4", "resident_id": hex_site.resident}
    r = hex_site.client.post("/api/cards", json=other, headers=auth)
    assert r.status_code == 200 and r.json().get("warning") is None, r.text


def _cards(tmp_path: Path, *cards: str) -> list[Path]:
    residents = "".join(f"R{i},3栋,2单元,张{i}\n" for i in range(1, len(cards) + 1))
    rows = "".join(f"{card},R{i}\n" for i, card in enumerate(cards, 1))
    return [
        write_csv(tmp_path / "r.csv", "ref,building,unit,name\n" + residents),
        write_csv(tmp_path / "c.csv", "card,resident_ref\n" + rows),
    ]


def test_a_printed_card_list_imported_at_a_hex_site_is_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = parse_config(site_toml(tmp_path / "data") + READER.format(port="/dev/ttyUSB-door"), "site.toml")
    with caplog.at_level(logging.WARNING):
        assert import_csv(cfg, _cards(tmp_path, PRINTED, "3808980205"))["cards"] == 2
    said = [r.getMessage() for r in caplog.records if "em4100_number" in r.getMessage()]
    assert len(said) == 1, caplog.text
    assert 'em4100_number = "decimal"' in said[0] and "c.csv:2" in said[0] and "c.csv:3" in said[0], said
    assert "c.csv:2 ******3390" in said[0] and "3808980205" not in said[0], said  # numbers masked


def test_the_same_list_at_a_site_of_decimal_readers_is_not_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = site_toml(tmp_path / "data") + READER.format(port="/dev/ttyUSB-door") + DECIMAL
    with caplog.at_level(logging.WARNING):
        import_csv(parse_config(text, "site.toml"), _cards(tmp_path, PRINTED, "3808980205"))
    assert "em4100_number" not in caplog.text
