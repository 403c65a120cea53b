"""The audit trail: who changed what and when, written in the same transaction as the change."""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from datetime import datetime
from itertools import product
from typing import Any

from gateway.errors import Conflict
from gateway.store.database import transaction
from gateway.timefmt import from_db, to_db

__all__ = ["audit", "centre_operator", "done_already", "shown_actor", "transaction"]


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
# target; and, paging, those older than a row (`before`, an id) the page before ended at, or those
# from a row on (`start`). The person without regard to case, as user names are (Guard1 logs in as
# guard1), and as the principal that made the request: `token:booth for guard1`, a token that named
# the guard it acted for (api/parking.py), is the token's. User and token names have no spaces, so
# `X for ` is X's alone. The person is found by the display name the trail shows him by too (张师傅
# for guard1: `named`, _named), the one his account has now, as the rows show it. Each a term on
# the column, or on `x`, a value of it (_VALUES).
def _person(column: str) -> str:
    return (
        f"({column} = :actor COLLATE NOCASE "
        f"OR substr({column}, 1, length(:actor) + 5) COLLATE NOCASE = :actor || ' for ' "
        f"OR {column} IN (SELECT value FROM json_each(:named)))"
    )


def _named(conn: sqlite3.Connection, person: str | None) -> str:
    """The user names, as JSON, of the accounts whose display name is `person` (read as a user name
    is, NFKC and without regard to case: the page's filter reads what was typed so), as _NAME shows
    them on the rows; a few dozen accounts, compared here rather than by SQLite, which has no NFKC."""
    if person is None:
        return "[]"
    wanted = unicodedata.normalize("NFKC", person).strip().casefold()
    return json.dumps(
        [
            username
            for username, shown in conn.execute(
                "SELECT username, display_name FROM accounts WHERE display_name <> ''"
            )
            if unicodedata.normalize("NFKC", shown).strip().casefold() == wanted
        ]
    )


def _kind(column: str) -> str:
    return f"{column} LIKE :action || '%'"


# The person as the guard pages name them (the live page's lane history does so too); the actor
# stays the user name, which the filter reads.
_NAME = "(SELECT nullif(u.display_name, '') FROM accounts u WHERE u.username = audit.actor)"
# The values of a column the trail holds, without regard to case (a few dozen people, some sixty
# actions), read from its index one step each (migration 68: audit_actor, audit_action).
_VALUES = """
WITH RECURSIVE v(x) AS (
    SELECT min({c} COLLATE NOCASE) FROM audit
    UNION ALL
    SELECT (SELECT min({c} COLLATE NOCASE) FROM audit WHERE {c} > v.x COLLATE NOCASE)
    FROM v WHERE x IS NOT NULL
)
SELECT x FROM v WHERE {takes}
"""
_MANY = 100  # values, or pairs of them, to read one by one at most (a compound SELECT takes 500)
_TAKES = {"actor": _person, "action": _kind}


def _selects(
    conn: sqlite3.Connection, columns: str, params: dict[str, Any]
) -> tuple[list[str], dict[str, Any]]:
    """The filter in `params` as SELECTs of `columns` whose rows together are its rows, each read
    newest first (ORDER BY id DESC takes them merged): with a person or an action, one for each
    value of the actor (or action) it takes, each by its index; with both, one for each pair of
    them, by the index of both (migration 71). Those of few rows are found without reading the
    trail, those of many without sorting them all. Where the pairs are more than _MANY, one for
    each value of the person (or else of the action), the other a term on its rows. Where no row
    can match, none."""
    params = params | {"named": _named(conn, params["actor"])}
    terms = [
        term
        for term, key in (
            ("target = :target", "target"),
            ("id < :before", "before"),
            ("id >= :start", "start"),
        )
        if params[key] is not None
    ]
    given = [column for column in _TAKES if params[column] is not None]
    values = {
        column: [x for (x,) in conn.execute(_VALUES.format(c=column, takes=_TAKES[column]("x")), params)]
        for column in given
    }
    for by in [given, *([column] for column in given if len(given) > 1)]:
        keyed = list(product(*(values[column] for column in by)))
        if len(keyed) <= _MANY:
            break
    else:
        return [f"SELECT {columns} FROM audit{_where([*(_TAKES[c](c) for c in given), *terms])}"], params
    rest = [_TAKES[column](column) for column in given if column not in by]
    named = {f"v{i}_{c}": value for i, pair in enumerate(keyed) for c, value in zip(by, pair, strict=True)}
    return [
        f"SELECT {columns} FROM audit"
        + (f" INDEXED BY audit_{'_'.join(by)}" if by else "")
        + _where([*(f"{c} = :v{i}_{c} COLLATE NOCASE" for c in by), *rest, *terms])
        for i in range(len(keyed))
    ], params | named


def _where(terms: list[str]) -> str:
    return f" WHERE {' AND '.join(terms)}" if terms else ""


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
    selects, params = _selects(conn, "*", _params(actor, action, target, before, None))
    if not selects:
        return []
    cur = conn.execute(
        f"SELECT id, at, actor, {_NAME} AS name, action, target, detail "
        f"FROM ({' UNION ALL '.join(selects)} ORDER BY id DESC LIMIT :limit) AS audit ORDER BY id DESC",
        params | {"limit": limit},
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
    start: int | None = None,
    most: int | None = None,
) -> int:
    """How many rows recent_audit would list without its limit (with `start`, those from that row
    id on), counting no further than `most`: the work is the rows counted, not the trail's."""
    selects, params = _selects(conn, "1", _params(actor, action, target, before, start))
    if not selects:
        return 0
    cut = " LIMIT :most" if most is not None else ""
    row = conn.execute(f"SELECT count(*) FROM ({' UNION ALL '.join(selects)}{cut})", params | {"most": most})
    return int(row.fetchone()[0])


def _params(
    actor: str | None, action: str | None, target: str | None, before: int | None, start: int | None
) -> dict[str, Any]:
    return {"actor": actor, "action": action, "target": target, "before": before, "start": start}


# The monitoring centre as the guard pages name it, in Chinese and in English (the pages' words
# actor.centre and actor.centre.named, web/i18n.py): its commands' actor is `central:` and the name
# its operator signed them with (sync/command_verify.py verify).
CENTRE = ("监控中心", "Monitoring centre")
CENTRE_NAMED = ("监控中心（{operator}）", "Monitoring centre ({operator})")


def centre_operator(actor: str) -> str | None:
    """The operator of the centre's command `actor` is ("" where the command named none), None for
    anyone else: what a page's script names the centre by in its own words (app.js centreName)."""
    if not actor.startswith("central:"):
        return None
    operator = actor.removeprefix("central:")
    return "" if operator == "central" else operator


def shown_actor(conn: sqlite3.Connection, actor: str, language: str = "zh") -> str:
    """The name the pages show for an actor, as _NAME and the live page's lane history show it: an
    account's display name (张师傅), else its user name; a token by its own name; the centre's
    operator as 监控中心（zhang.wei） (Monitoring centre (zhang.wei) in English), or 监控中心 alone
    where the command named none."""
    if actor.startswith("token:"):
        return actor.removeprefix("token:")
    operator = centre_operator(actor)
    if operator is not None:
        index = 0 if language == "zh" else 1
        return CENTRE_NAMED[index].format(operator=operator) if operator else CENTRE[index]
    row = conn.execute(
        "SELECT nullif(display_name, '') FROM accounts WHERE username = ?", (actor,)
    ).fetchone()
    return str(row[0]) if row and row[0] else actor


def shown_by(conn: sqlite3.Connection, actor: str) -> dict[str, str]:
    """Who did something, as the pages' scripts name him: `by` (shown_actor, in Chinese), and for the
    centre `by_centre`, its operator, which the page words in its own language (app.js actorName)."""
    shown = {"by": shown_actor(conn, actor)}
    operator = centre_operator(actor)
    if operator is not None:
        shown["by_centre"] = operator
    return shown


def done_already(
    conn: sqlite3.Connection, what: str, by: str | None, done_at: str, actor: str, at: datetime
) -> Conflict:
    """409 already_done for a change pressed on its row (an alarm acknowledged, a pass checked out)
    that `by` made at `done_at` (stored UTC text). Its data names him (`by`, as the pages show him)
    and when (`at`, in the zone of `at`, the request's time: the site's), and where it was the
    account asking, `state` "same_account": not another's doing, but not known to be this tablet's
    either (one account may be logged in on two booth tablets). Only the page knows whether its own
    tap went unanswered (网关没有回应) and so was this one (app.js). `by` None (no record): no data.
    The message gives the time as `at` does: with the stored text, a centre's reply said 01:00+00:00
    beside its `done_at` 09:00+08:00 for one acknowledgement (review 64B)."""
    data: dict[str, str] = {}
    if by is not None:
        when = from_db(done_at) or at
        data = {**shown_by(conn, by), "at": when.astimezone(at.tzinfo).isoformat(timespec="seconds")}
        if by == actor:
            data["state"] = "same_account"
    done = f" by {by} at {data['at']}" if by is not None else ""
    return Conflict(f"{what} already{done}", fix="nothing to do", code="already_done", data=data)
