"""The import's speed, by what it reads, never by a clock: `gateway bench decide` imported 100,000
households in 85 s on a loaded 2-core machine (33 s of CPU), 20 s of that CPU in one read. Each
step of a cards file with a `blocked` column asked which of its cards the store has blocked
otherwise, and SQLite answered by reading every card in the store, by the staging file's index on
card numbers: the more cards in, the longer each step. It reads the step's own rows now, and the
blocks it sets or lifts are on record as before, in card order."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import gateway.store.csv_steps as csv_steps
from gateway.config import SiteConfig
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import parking_config

# A plan line that reads a store table whole, or all of its cards or plates, for a step's rows.
_WHOLE_TABLE = re.compile(
    r"^(SCAN (residents|vehicles|credentials|slots)\b|SEARCH \w+ USING (COVERING )?INDEX "
    r"sqlite_autoindex_credentials_1 \(kind=\?\)$)"
)


def _cards(tmp_path: Path, name: str, blocked: dict[int, int], backwards: bool = False) -> Path:
    """Cards 0 to 59 of residents R0 and R1, those in `blocked` blocked (1) or not (0); `backwards`:
    the file lists them from the highest number down."""
    numbers = sorted(range(60), reverse=backwards)
    rows = "".join(f"{0x0A00000000 + i * 7919:010X},R{i % 2},{blocked.get(i, 0)}\n" for i in numbers)
    return write_csv(tmp_path / name, "card,resident_ref,blocked\n" + rows)


@pytest.fixture
def cfg(tmp_path: Path) -> SiteConfig:
    residents = write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR0,1栋,1单元,甲\nR1,1栋,1单元,乙\n")
    config = parking_config(tmp_path / "data")
    import_csv(config, [residents])
    return config


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """(statement, plan line) of every statement the import's steps ran, planned where they ran
    (with the staging file attached). Steps of 7 rows: many steps, each after cards are in."""
    seen: list[tuple[str, str]] = []
    step = csv_steps._step

    def planned(conn: sqlite3.Connection, parts: list[Any], *rest: Any) -> None:
        ran: list[str] = []
        conn.set_trace_callback(ran.append)
        try:
            step(conn, parts, *rest)
        finally:
            conn.set_trace_callback(None)
        for sql in ran:
            if sql.lstrip().upper().startswith(("SELECT", "INSERT", "DELETE", "UPDATE", "WITH")):
                seen.extend((sql, line[3]) for line in conn.execute("EXPLAIN QUERY PLAN " + sql))

    monkeypatch.setattr(csv_steps, "_step", planned)
    monkeypatch.setattr(csv_steps, "STEP_ROWS", 7)
    monkeypatch.setattr(csv_steps, "MIN_STEP_ROWS", 7)
    monkeypatch.setattr(csv_steps, "MAX_STEP_ROWS", 7)
    yield seen


def _blocks_told(cfg: SiteConfig) -> list[tuple[str, str]]:
    """(op, card) of each block set or lifted, as the records to the centre give them, in order."""
    with sqlite3.connect(cfg.site.data_dir / "gateway.db") as conn:
        records = [json.loads(p) for (p,) in conn.execute("SELECT payload FROM outbox ORDER BY seq")]
    return [(r["op"], r["value"]) for r in records if r.get("op") in ("block", "unblock")]


def test_a_cards_step_reads_only_its_own_cards_of_the_store(
    cfg: SiteConfig, tmp_path: Path, plans: list[tuple[str, str]]
) -> None:
    """Imported once and again with blocks changed, in steps of 7 cards: no step's statement reads
    every card (or any store table whole) to find its own rows."""
    import_csv(cfg, [_cards(tmp_path, "c1.csv", {3: 1, 40: 1})])
    import_csv(cfg, [_cards(tmp_path, "c2.csv", {3: 0, 17: 1, 59: 1})])
    assert plans, "no step was planned"
    whole = [(" ".join(sql.split())[:200], line) for sql, line in plans if _WHOLE_TABLE.match(line)]
    assert not whole, whole


def test_blocks_an_import_sets_and_lifts_are_told_in_card_order(cfg: SiteConfig, tmp_path: Path) -> None:
    """A second import, its file from the highest card down, lifts two blocks and sets two in one
    step: four records (and audit rows), by card number as they were, not by the file's order."""
    import_csv(cfg, [_cards(tmp_path, "c1.csv", {3: 1, 40: 1})])
    before = len(_blocks_told(cfg))  # none: a card new to the store is not a block set
    import_csv(cfg, [_cards(tmp_path, "c2.csv", {3: 0, 17: 1, 59: 1}, backwards=True)])
    card = {i: f"{0x0A00000000 + i * 7919:010X}" for i in (3, 17, 40, 59)}
    told = [("unblock", card[3]), ("block", card[17]), ("unblock", card[40]), ("block", card[59])]
    assert _blocks_told(cfg)[before:] == told
