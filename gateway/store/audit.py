"""The audit trail: who changed what and when, written in the same transaction as the change."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from gateway.store.database import transaction
from gateway.timefmt import to_db

__all__ = ["audit", "transaction"]


def audit(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    action: str,
    target: str = "",
    detail: str = "",
) -> int:
    """Append one audit row; the caller owns the transaction. Never put phone or ID numbers here."""
    cur = conn.execute(
        "INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        (to_db(at), actor, action, target, detail[:500]),
    )
    return int(cur.lastrowid or 0)


# The rows a filter names: by person, by action (a prefix: `payment` takes `payment.take`), by
# target; and, paging back, those older than a row (`before`, an id) the page before ended at.
# The person without regard to case, as user names are (Guard1 logs in as guard1), and as the
# principal that made the request: `token:booth for guard1`, a token that named the guard it acted
# for (api/parking.py), is the token's. User and token names have no spaces, so `X for ` is X's alone.
_FILTER = """
WHERE (:actor IS NULL OR actor = :actor COLLATE NOCASE
       OR substr(actor, 1, length(:actor) + 5) COLLATE NOCASE = :actor || ' for ')
  AND (:action IS NULL OR action LIKE :action || '%')
  AND (:target IS NULL OR target = :target)
  AND (:before IS NULL OR id < :before)
"""

# The person as the guard pages name them (the live page's lane history does so too); the actor
# stays the user name, which the filter reads.
_NAME = "(SELECT nullif(u.display_name, '') FROM accounts u WHERE u.username = audit.actor)"


def recent_audit(
    conn: sqlite3.Connection,
    limit: int = 100,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    *,
    before: int | None = None,
) -> list[dict[str, Any]]:
    """Newest first, at most `limit`; with `before`, only rows older than that row id. Each with
    `name`, the display name of the account that is the actor (张师傅 for guard1), or None."""
    cur = conn.execute(
        f"SELECT id, at, actor, {_NAME} AS name, action, target, detail FROM audit {_FILTER} "
        "ORDER BY id DESC LIMIT :limit",
        _params(actor, action, target, before) | {"limit": limit},
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur]


def count_audit(
    conn: sqlite3.Connection,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    *,
    before: int | None = None,
) -> int:
    """How many rows recent_audit would list without its limit."""
    row = conn.execute(f"SELECT count(*) FROM audit {_FILTER}", _params(actor, action, target, before))
    return int(row.fetchone()[0])


def _params(actor: str | None, action: str | None, target: str | None, before: int | None) -> dict[str, Any]:
    return {"actor": actor, "action": action, "target": target, "before": before}
