"""One card written many ways (reviewer 51f): the printed 10 digits, its Wiegand 26 number with or
without leading zeros (054:15694, 54:15694), and as EM cards print it (054,15694). docs/hardware.md,
*Card numbers: one card, every reader*; README, *Card numbers and Excel*."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.config import parse_config
from gateway.core import Presented
from gateway.core.credentials import BadCredential, canonical
from gateway.runtime.gateway import Gateway
from gateway.store.admin import ImportRejected, import_csv
from gateway.store.schema import MIGRATIONS
from tests.conftest import site_toml, write_csv
from tests.parking.conftest import TZ
from tests.ui.conftest import Site, app, bearer, client, site, stored  # noqa: F401  (fixtures)

PRINTED = "0372653390"  # EM4100 id 0016363D4E: the 10 digits printed on the card
W26 = "054:15694"  # its Wiegand 26 number, as a Wiegand 26 converter gives it
AT = datetime(2026, 1, 5, 8, 0, tzinfo=TZ)

WIEGAND_LANE_READER = """
[[devices]]
id = "car-in-reader"
lane = "car-in"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyUSB0"
format = "wiegand"
wiegand_bits = 26
wiegand_encoding = "hex"
"""

EM4100_DOOR_READER = """
[[devices]]
id = "door-reader"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyUSB0"
format = "em4100"
em4100_number = "decimal"
"""


def test_excel_dropped_zero_at_a_wiegand_only_site_is_refused(tmp_path: Path) -> None:
    """README: one Excel saved without its leading zero (372653390) is a bad row. At an estate whose
    only card readers are Wiegand 26 converters the import took it silently, and the card's
    054:15694 was then refused `unknown` at the car lane: a Wiegand converter finds a card by its
    printed 10 digits too, so the 10 are required there."""
    cfg = parse_config(site_toml(tmp_path / "data") + WIEGAND_LANE_READER, "site.toml")
    files = [
        write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n"),
        write_csv(tmp_path / "c.csv", "card,resident_ref\n372653390,R1\n"),
    ]
    with pytest.raises(ImportRejected) as refused:
        import_csv(cfg, files)
    (problem,) = refused.value.problems
    assert "372653390" in problem and "0372653390" in problem and "format the card column as text" in problem


def test_a_wiegand_only_site_takes_the_printed_ten_digits_and_finds_the_card(tmp_path: Path) -> None:
    cfg = parse_config(site_toml(tmp_path / "data") + WIEGAND_LANE_READER, "site.toml")
    files = [
        write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n"),
        write_csv(tmp_path / "c.csv", f"card,resident_ref\n{PRINTED},R1\n"),
    ]
    assert import_csv(cfg, files)["cards"] == 1
    gw = Gateway(cfg)
    try:
        ev = gw.handle(Presented("car-in", "card", W26, 1.0, AT, "car-in-reader"))
    finally:
        gw.conn.close()
    assert ev.reason != "unknown", ev


def test_a_card_given_by_the_api_without_its_leading_zero_is_refused_at_a_wiegand_site(
    tmp_path: Path,
) -> None:
    """An estate whose only card reader is a Wiegand converter (its lane's): an admin giving a
    card by the API with Excel's number, a zero short, was answered 201, and the card never opened."""
    from gateway.api.app import create_app
    from tests.ui.conftest import start_site

    s = start_site(parse_config(site_toml(tmp_path / "data") + WIEGAND_LANE_READER, "site.toml"))
    try:
        with TestClient(create_app(s.gw)) as c:
            r = c.post(
                "/api/cards",
                json={"card": "372653390", "resident_id": s.resident_id},
                headers=bearer(s.admin_token),
            )
    finally:
        s.gw.stop()
    assert r.status_code == 422, r.text
    assert "0372653390" in r.json()["error"]["message"], r.text


def test_one_wiegand_card_listed_for_two_residents_is_a_repeated_row(tmp_path: Path) -> None:
    """docs/hardware.md: a Wiegand number is one card with or without its leading zeros. A card list
    giving it to 张三 as 054:15694 and to 李四 as 54:15694 was imported without a word, and the card
    then opened for neither at the EM4100 door (two cards it matches): the second row is a repeat."""
    cfg = parse_config(site_toml(tmp_path / "data") + EM4100_DOOR_READER, "site.toml")
    files = [
        write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\nR2,5栋,1单元,李四\n"),
        write_csv(tmp_path / "c.csv", "card,resident_ref\n054:15694,R1\n54:15694,R2\n"),
    ]
    with pytest.raises(ImportRejected) as refused:
        import_csv(cfg, files)
    (problem,) = refused.value.problems
    assert "c.csv:3" in problem and "054:15694 repeats line 2" in problem, problem


def test_the_api_refuses_a_wiegand_card_registered_with_its_zeros(client: TestClient, site: Site) -> None:  # noqa: F811
    admin = bearer(site.admin_token)
    made = client.post("/api/cards", json={"card": W26, "resident_id": site.resident_id}, headers=admin)
    assert made.status_code in (200, 201), made.text
    again = client.post(
        "/api/cards", json={"card": "54:15694", "resident_id": site.resident_id}, headers=admin
    )
    assert again.status_code == 409, again.text
    assert stored(site, "SELECT value FROM credentials WHERE value LIKE '%:15694'") == [(W26,)]


@pytest.mark.parametrize(
    ("typed", "stored_as"),
    [
        ("054:15694", "054:15694"),
        ("54:15694", "054:15694"),
        ("54:5694", "054:05694"),
        ("054,15694", "054:15694"),
        ("054，15694", "054:15694"),
        ("54：15694", "054:15694"),
        ("5686:15694", "05686:15694"),
        ("300:15694", "00300:15694"),
        ("00054:15694", "00054:15694"),
        ("054:99999", "054:99999"),  # no Wiegand number (card part over 16 bits): kept as typed
        ("AB-12:34", "AB-12:34"),
        (PRINTED, PRINTED),
    ],
)
def test_a_card_number_is_stored_as_its_reader_spells_it(typed: str, stored_as: str) -> None:
    assert canonical("card", typed) == stored_as


def test_a_refused_card_number_says_what_to_type() -> None:
    with pytest.raises(BadCredential) as refused:
        canonical("card", "054.15694")
    assert "10 digits printed on the card" in str(refused.value) and "facility:card" in str(refused.value)


def test_lost_card_blocked_by_the_wiegand_number_as_printed(client: TestClient, site: Site) -> None:  # noqa: F811
    """docs/hardware.md: the Wiegand number printed on a card blocks the card registered as printed.
    EM cards print it as facility,card (054,15694): typed so into 立即禁用 it was refused 号码格式不对
    ("type the number again"), and the lost card kept opening the gate."""
    made = client.post(
        "/api/cards",
        json={"card": PRINTED, "resident_id": site.resident_id},
        headers=bearer(site.admin_token),
    )
    assert made.status_code in (200, 201), made.text
    r = client.post(
        "/api/credentials/block",
        json={"kind": "card", "value": "054,15694", "reason": "业主报失"},
        headers=bearer(site.guard_token),
    )
    assert r.status_code == 200, r.text
    assert stored(site, "SELECT blocked FROM credentials WHERE kind = 'card' AND value = ?", PRINTED) == [
        (1,)
    ]


def test_a_card_number_refused_at_the_booth_says_what_to_type(client: TestClient, site: Site) -> None:  # noqa: F811
    r = client.post(
        "/api/credentials/block",
        json={"kind": "card", "value": "054.15694", "reason": "业主报失"},
        headers=bearer(site.guard_token),
    )
    assert r.status_code == 422, r.text
    assert "10 digits printed on the card" in r.json()["error"]["fix"], r.text


def test_lookup_by_the_wiegand_number_on_a_card_finds_its_resident(client: TestClient, site: Site) -> None:  # noqa: F811
    """docs/hardware.md: the Wiegand number printed on a card is the card registered as printed (a
    reader giving it opens for the resident, 立即禁用 typed with it blocks that card); typed into
    查询 it found nobody."""
    made = client.post(
        "/api/cards",
        json={"card": PRINTED, "resident_id": site.resident_id},
        headers=bearer(site.admin_token),
    )
    assert made.status_code in (200, 201), made.text
    guard = bearer(site.guard_token)
    for typed in (W26, "54:15694", "054,15694", PRINTED):
        found = client.get("/api/lookup", params={"q": typed}, headers=guard)
        assert found.status_code == 200, found.text
        assert [r["id"] for r in found.json()] == [site.resident_id], f"lookup of {typed}: {found.text}"


def test_wiegand_numbers_stored_without_their_zeros_are_respelled_by_the_upgrade(tmp_path: Path) -> None:
    """A register imported before this release keeps 54:15694 as typed; the upgrade stores it as
    the reader spells it (054:15694), so that an import, the API and the centre, which now write it
    so, name the same row. Where both spellings are stored already, the other is left as it is."""
    step = 50  # schema migration 51, the respelling (MIGRATIONS counts from 0)
    conn = sqlite3.connect(":memory:")
    conn.executescript(
        """
        CREATE TABLE credentials (id INTEGER PRIMARY KEY, kind TEXT, value TEXT, UNIQUE (kind, value));
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY, at TEXT, actor TEXT, action TEXT, target TEXT, detail TEXT
        );
        INSERT INTO credentials (id, kind, value) VALUES
            (1, 'card', '54:15694'), (2, 'card', '5686:15694'), (3, 'card', '0372653390'),
            (4, 'card', '7:1'), (5, 'card', '007:00001'), (6, 'card', '54:99999'), (7, 'plate', '粤B12345'),
            (8, 'card', '300:2');
        """
    )
    conn.executescript(MIGRATIONS[step])
    values = dict(conn.execute("SELECT id, value FROM credentials"))
    assert values == {
        1: "054:15694",
        2: "05686:15694",
        3: "0372653390",
        4: "7:1",  # 007:00001 is stored too: left, for the admin to delete one (import warns)
        5: "007:00001",
        6: "54:99999",
        7: "粤B12345",
        8: "00300:00002",
    }
    audited = conn.execute("SELECT actor, action, target FROM audit ORDER BY target").fetchall()
    assert audited == [
        ("gateway", "card.respell", "credential:1"),
        ("gateway", "card.respell", "credential:2"),
        ("gateway", "card.respell", "credential:8"),
    ]
