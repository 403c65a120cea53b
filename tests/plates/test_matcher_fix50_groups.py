"""The look-alike matcher's false-admission guard, where no other test pinned it down (review 50h, by
mutation). The property tests check admissions
against CONFUSABLE_GROUPS itself, so a wrong group passes them: these pin the groups docs/plates.md
lists (0/D/Q, 8/B, 2/Z, 5/S, 1/T, 津/沪/渝/湘/浙, 贵/青)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.runtime.plate_match import lookalike_of
from plates.matcher import PlateMatcher, Policy


@pytest.mark.parametrize(
    ("registered", "read"),
    [
        ("京A12345", "津A12345"),  # M07: 京 is in no group: a Tianjin car is not the Beijing one
        ("皖A12346", "皖A1234S"),  # 6 and S are not confusable (S is 5's)
    ],
)
def test_a_plate_one_unlisted_swap_away_is_not_admitted(registered: str, read: str) -> None:
    """At a lane with plate_match = "confusable",
    a car whose plate differs from a registered one by a swap the documented groups do not list is
    another car: the barrier must stay shut for it."""
    m = PlateMatcher([registered]).match(read, Policy.CONFUSABLE)
    assert not m.admitted, f"{read} admitted as {m.registered}"


def test_gui_and_qing_are_confusable() -> None:
    """docs/plates.md lists 贵/青: a registered 贵A12345 read
    as 青A12345 at a look-alike lane is that car."""
    assert PlateMatcher(["贵A12345"]).match("青A12345", Policy.CONFUSABLE).registered == "贵A12345"


def test_a_plate_struck_off_is_no_longer_matched_as_a_look_alike(tmp_path: Path) -> None:
    """A resident's car struck off the
    register must stop opening a look-alike lane for a car one confusable character off its plate
    at once, and a newly registered one must start."""
    conn = sqlite3.connect(tmp_path / "gateway.db")
    conn.execute("CREATE TABLE credentials (id INTEGER PRIMARY KEY, kind TEXT, value TEXT)")
    conn.execute("INSERT INTO credentials (kind, value) VALUES ('plate', '皖A12345')")
    assert lookalike_of(conn, "皖A1234S") == "皖A12345"
    conn.execute("DELETE FROM credentials")
    conn.execute("INSERT INTO credentials (kind, value) VALUES ('plate', '浙B12Z88')")
    assert lookalike_of(conn, "皖A1234S") is None, "a struck-off plate still opens the lane"
    assert lookalike_of(conn, "浙B12Z8B") == "浙B12Z88"
    conn.close()
