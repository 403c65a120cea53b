"""One physical card given to two residents in two forms by a card list, not by the API (stop 53's
known gap): `POST /api/cards` refuses 054:15694 (the Wiegand 26 number of the card printed
0372653390) for R2 while 0372653390 is R1's, but a CSV import and the central server's snapshot
or delta stored both. Read as 10 digits the card let R1 in, read by a Wiegand reader R2, and
blocking one number left the other opening. Expected: the list is refused, the row named with what
to do; one resident's card in two forms (the office moving its list from Wiegand numbers to the
printed digits) is taken and the import says so."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gateway.config import SiteConfig, parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.admin import ImportRejected, import_csv
from gateway.store.database import DB_NAME
from gateway.sync.messages import encode_snapshot
from gateway.sync.staging import STAGING_NAME, open_staging, save_part, site_job, stage
from tests.conftest import site_toml, write_csv
from tests.parking.directory_exit_helpers import stage_delta

PRINTED = "0372653390"  # id 0x0016363D4E
WIEGAND = "054:15694"  # its low 24 bits: 0x36 = 54, 0x3D4E = 15694
WIEGAND_34 = "05686:15694"  # its low 32 bits: 0x1636 = 5686, 0x3D4E = 15694
OTHER_CARD = "0372653391"

RESIDENTS = "ref,building,unit,name\nR1,3栋,2单元,张三\nR2,5栋,1单元,李四\n"


def _site(tmp_path: Path) -> SiteConfig:
    return parse_config(site_toml(tmp_path / "data"), "site.toml")


def _cards(cfg: SiteConfig) -> list[tuple[str, str]]:
    conn = sqlite3.connect(cfg.site.data_dir / DB_NAME)
    try:
        return conn.execute(
            "SELECT c.value, r.ref FROM credentials c JOIN residents r ON r.id = c.resident_id "
            "WHERE c.kind = 'card' ORDER BY c.value"
        ).fetchall()
    finally:
        conn.close()


def _import(tmp_path: Path, cfg: SiteConfig, cards: str) -> dict[str, Any]:
    return import_csv(
        cfg,
        [
            write_csv(tmp_path / "r.csv", RESIDENTS),
            write_csv(tmp_path / "c.csv", f"card,resident_ref\n{cards}"),
        ],
    )


def test_an_import_giving_a_registered_card_to_another_resident_in_another_form_is_refused(
    tmp_path: Path,
) -> None:
    cfg = _site(tmp_path)
    _import(tmp_path, cfg, f"{PRINTED},R1\n")
    with pytest.raises(ImportRejected) as refused:
        _import(tmp_path, cfg, f"{OTHER_CARD},R1\n{WIEGAND},R2\n")
    (problem,) = refused.value.problems
    assert problem.startswith(f"{tmp_path / 'c.csv'}:3: card: card {WIEGAND} of R2 is card {PRINTED}"), (
        problem
    )
    assert "registered to R1" in problem and f"delete {PRINTED} on its resident's page first" in problem
    assert _cards(cfg) == [(PRINTED, "R1")]  # all or nothing: the other row waits too


def test_an_import_giving_one_card_in_two_forms_to_two_residents_is_refused(tmp_path: Path) -> None:
    cfg = _site(tmp_path)
    with pytest.raises(ImportRejected) as refused:
        _import(tmp_path, cfg, f"{PRINTED},R1\n{WIEGAND_34},R2\n")
    (problem,) = refused.value.problems
    assert f"card {WIEGAND_34} of R2 is card {PRINTED} read another way, given in this list to R1" in problem
    assert "keep one of the two" in problem
    assert _cards(cfg) == []


def test_an_import_moving_one_residents_card_to_the_printed_digits_is_taken_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/hardware.md tells an office holding Wiegand 26 numbers to import the printed digits."""
    cfg = _site(tmp_path)
    _import(tmp_path, cfg, f"{WIEGAND},R1\n")
    with caplog.at_level(logging.WARNING):
        _import(tmp_path, cfg, f"{PRINTED},R1\n")
    assert _cards(cfg) == [(PRINTED, "R1"), (WIEGAND, "R1")]
    said = [
        r.getMessage() for r in caplog.records if f"card {PRINTED} of R1 is card {WIEGAND}" in r.getMessage()
    ]
    assert said and f"delete {WIEGAND} on the resident's page" in said[0], caplog.text


def _snapshot(gw: Gateway, entries: list[dict[str, Any]]) -> dict[str, Any]:
    conn = open_staging(gw.data_dir / STAGING_NAME)
    (body,) = encode_snapshot(1, entries, per_part=len(entries))
    save_part(conn, 1, 1, 1, len(entries), body)
    conn.close()
    return stage(site_job(gw.site.config, gw.data_dir, gw.db_path, "snapshot", 1))


CENTRE_RESIDENTS = [
    {"kind": "resident", "ref": "R1", "building": "3栋", "unit": "2单元", "name": "张三"},
    {"kind": "resident", "ref": "R2", "building": "5栋", "unit": "1单元", "name": "李四"},
]


def test_a_centre_snapshot_giving_one_card_to_two_residents_in_two_forms_is_rejected(tmp_path: Path) -> None:
    gw = Gateway(_site(tmp_path))
    try:
        cards = [
            {"kind": "card", "card": PRINTED, "resident": "R1"},
            {"kind": "card", "card": WIEGAND, "resident": "R2"},
        ]
        meta = _snapshot(gw, CENTRE_RESIDENTS + cards)
        assert meta["status"] == "rejected"
        assert any(
            p.startswith(f"card {WIEGAND}: card {WIEGAND} of R2 is card {PRINTED}") for p in meta["problems"]
        ), meta
        one_each = [cards[0], {"kind": "card", "card": OTHER_CARD, "resident": "R2"}]
        assert _snapshot(gw, CENTRE_RESIDENTS + one_each)["status"] == "staged"
    finally:
        gw.conn.close()


def test_a_centre_delta_giving_a_stored_card_to_another_resident_in_another_form_is_rejected(
    tmp_path: Path,
) -> None:
    cfg = _site(tmp_path)
    _import(tmp_path, cfg, f"{PRINTED},R1\n")
    gw = Gateway(cfg)
    try:
        given = [{"kind": "card", "card": WIEGAND, "resident": "R2"}]
        meta = stage_delta(gw, 2, 1, given)
        assert meta["status"] == "rejected"
        assert any(
            "registered to R1" in p and f"delete {PRINTED} in the same change" in p for p in meta["problems"]
        )
        # Moved as the problem says: the old number deleted in the same change.
        moved = stage_delta(gw, 3, 1, given, [{"kind": "card", "card": PRINTED}])
        assert moved["status"] == "staged", moved.get("problems")
    finally:
        gw.conn.close()


def test_a_wiegand_26_number_is_refused_as_one_card_to_that_reader_not_said_to_be_the_same_card(
    tmp_path: Path,
) -> None:
    """A Wiegand 26 number carries 24 bits of the id: it names the printed card or another card
    ending in the same 24 bits, one card to such a reader either way. The office is told so, not
    that the two are surely one card."""
    cfg = _site(tmp_path)
    with pytest.raises(ImportRejected) as refused:
        _import(tmp_path, cfg, f"{PRINTED},R1\n{WIEGAND},R2\n")
    (problem,) = refused.value.problems
    assert f"card {WIEGAND} of R2 is card {PRINTED} to a Wiegand 26 reader" in problem, problem
    assert "read another way" in problem and "or one it cannot tell from it" in problem, problem
