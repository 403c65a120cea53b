"""Pruning the outbox runs on the decision worker, between cards and plates: every decision adds an
outbox row, so a query that reads the whole outbox to find the few old alarm, payment and report
messages makes the lanes wait longer the longer the box has run. The query plans of the statements
the store really runs say which rows SQLite reads (no timing: the test machine's speed varies)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.store.database import open_database
from gateway.store.outbox import prune_sent
from gateway.store.retention import prune_access_records
from tests.conftest import query_plan

CUTOFF = datetime(2026, 1, 1, tzinfo=UTC)
PRUNES: dict[str, Callable[[sqlite3.Connection], object]] = {
    "sent messages kept a week": lambda conn: prune_sent(conn, CUTOFF),
    "retention, MQTT on": lambda conn: prune_access_records(conn, CUTOFF, upstream=True),
    "retention, MQTT off": lambda conn: prune_access_records(conn, CUTOFF, upstream=False),
}


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    db = open_database(tmp_path / "gateway.db")
    try:
        yield db.conn
    finally:
        db.conn.close()


@pytest.mark.parametrize("prune", PRUNES.values(), ids=PRUNES.keys())
def test_pruning_the_outbox_does_not_read_every_record_queued_upstream(
    conn: sqlite3.Connection, prune: Callable[[sqlite3.Connection], object]
) -> None:
    ran: list[str] = []
    conn.set_trace_callback(ran.append)  # the statements as run, their values filled in
    prune(conn)
    conn.set_trace_callback(None)
    deletes = [sql for sql in ran if sql.lstrip().startswith("DELETE FROM outbox WHERE seq IN")]
    assert deletes, f"no pruning of the outbox among {ran}"
    for sql in deletes:
        plan = query_plan(conn, sql)
        assert "SCAN outbox" not in plan, f"pruning reads the whole outbox on the decision worker: {plan}"
