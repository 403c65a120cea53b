"""A resident's two cards listed in one cell, 0372653390,0372653391 (or with a Chinese ，), as an
old system's export or an office clerk writes them. Before commit 00bd723 the row was refused
(',' is no card character: 'type the 10 digits printed on the card'). Now canonical's
facility,card rewrite, not anchored, turns the middle '53390,03726' into '53390:03726' and the row
is imported as the one card '0372653390:0372653391', which no reader ever gives: neither card
opens, and the import said nothing (README: a bad row is refused, 'Nothing is padded silently')."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.core.credentials import BadCredential, canonical
from gateway.store.admin import ImportRejected, import_csv
from tests.conftest import site_toml, write_csv


@pytest.mark.parametrize("typed", ["0372653390,0372653391", "0372653390，0372653391"])
def test_a_number_with_a_comma_that_is_no_wiegand_number_is_refused(typed: str) -> None:
    with pytest.raises(BadCredential):
        stored = canonical("card", typed)
        pytest.fail(f"card {typed!r} was taken, stored as {stored!r}: no reader gives that number")


def test_two_cards_in_one_cell_are_a_bad_row_not_one_bogus_card(tmp_path: Path) -> None:
    cfg = parse_config(site_toml(tmp_path / "data"), "site.toml")
    files = [
        write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n"),
        write_csv(tmp_path / "c.csv", 'card,resident_ref\n"0372653390,0372653391",R1\n'),
    ]
    try:
        counts = import_csv(cfg, files)
    except ImportRejected:
        return
    pytest.fail(f"the row giving two cards in one cell was imported as one card no reader gives: {counts}")
