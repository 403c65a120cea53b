"""A transaction whose COMMIT fails leaves the connection usable (gateway/store/database.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.store.database import open_database, transaction


def test_a_commit_that_fails_leaves_the_connection_able_to_write_again(tmp_path: Path) -> None:
    """A COMMIT refused (here a deferred foreign key; on a box, a disk full at the commit) left the
    transaction open: every later write on that connection, the decision worker's own, was refused
    with "cannot start a transaction within a transaction" until the gateway restarted. The error
    of the COMMIT is raised, nothing of it is stored, and the next transaction goes through."""
    conn = open_database(tmp_path / "gateway.db").conn
    conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    conn.execute(
        "CREATE TABLE child (id INTEGER PRIMARY KEY, "
        "parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
    )
    with pytest.raises(sqlite3.IntegrityError), transaction(conn):
        conn.execute("INSERT INTO child (parent_id) VALUES (42)")  # refused only at COMMIT
    assert not conn.in_transaction
    with transaction(conn):
        conn.execute("INSERT INTO parent (id) VALUES (42)")
        conn.execute("INSERT INTO child (parent_id) VALUES (42)")
    assert conn.execute("SELECT count(*) FROM child").fetchone()[0] == 1
    conn.close()
