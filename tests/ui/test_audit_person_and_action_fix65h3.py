"""The audit page (操作记录 /audit) filtered by a person AND an action ("what lanes did guard2 open
by hand?", "which cards did guard3 block?") walked every row of that person the trail kept, a year's
worth, to find the few of that action and to count them: 21,395 SQLite steps on a trail of 10,000
rows, 201,395 on 100,000, ~200 ms on a busy estate's year, though docs/guard-app.md says a page
"costs the same however long the trail kept". Noticed by reviewer 65H.

Counted as tests/ui/test_audit_trail_fix64n.py counts, in SQLite's steps over the page's reads, on
its trail (a third of the rows are guard2's fees). The rows found stay those the filter names: the
person without regard to case, a token with the fees it took for guards, the action as a prefix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store import audit as audit_store
from gateway.store.audit import audit, count_audit, recent_audit
from gateway.store.database import transaction
from tests.parking.conftest import make_gw  # noqa: F401  (fixture)
from tests.parking.test_api import serving
from tests.ui.conftest import ADMIN, log_in
from tests.ui.test_audit_trail_fix64n import BIG, SMALL, a_trail, counted

# A busy person's rare actions (the reviewer's: none of guard2's rows is an opening by hand), a
# token's for its guards, and a busy person's common ones.
PAGES = (
    "/audit?actor=guard2&action=lane.open",
    "/audit?actor=Guard2&action=lane",
    "/audit?actor=token:booth&action=lane",
    "/audit?actor=guard3&action=visitor",
)


def _steps(make: Callable[..., Gateway], rows: int) -> dict[str, int]:
    with serving(make()) as (gw, client, _):
        a_trail(gw, rows)
        log_in(client, ADMIN)
        out = {}
        for path in PAGES:
            with counted(client, gw) as steps:
                page = client.get(path)
            assert page.status_code == 200, page.text
            out[path] = sum(steps)
        return out


def test_a_person_and_an_action_cost_the_same_however_long_the_trail(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    small, big = _steps(make_gw, SMALL), _steps(make_gw, BIG)
    grown = {p: (small[p], big[p]) for p in small if big[p] >= 2 * small[p]}
    assert not grown, (
        f"SQLite steps of each page on a trail of {SMALL} rows and of {BIG}: {grown}: "
        "the page walks each of the person's rows to find those of the action"
    )


ACTORS = ("guard1", "Guard1", "guard10", "token:booth", "token:booth for guard1", "token:booth for GUARD2")
ACTIONS = ("lane.open", "LANE.close", "lane_x", "lanes.add", "payment.take", "payment.method")


def _trail(gw: Gateway) -> list[tuple[int, str, str]]:
    """Every person with every action, three times over, newest last."""
    start = gw.now() - timedelta(days=1)
    rows = []
    with transaction(gw.conn) as conn:
        for i in range(3 * len(ACTORS) * len(ACTIONS)):
            actor, action = ACTORS[i % len(ACTORS)], ACTIONS[(i // len(ACTORS)) % len(ACTIONS)]
            rows.append((audit(conn, start + timedelta(minutes=i), actor, action, f"t:{i}"), actor, action))
    return rows


def _named(actor: str, by: str) -> bool:
    return actor.lower() == by.lower() or actor.lower().startswith(by.lower() + " for ")


@pytest.mark.parametrize("many", [100, 3, 0])
def test_a_person_and_an_action_find_the_rows_they_name_newest_first(
    make_gw: Callable[..., Gateway],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    many: int,
) -> None:
    """guard1 is Guard1 too, not guard10; token:booth has the fees it took for guards; `lane` is
    lane.open, LANE.close, lane_x and lanes.add, `lane.` the first two, as the action filter
    takes a prefix without regard to case; each listed newest first, paged and counted whole.
    So too where a filter takes more persons and actions than are read one pair at a time."""
    monkeypatch.setattr(audit_store, "_MANY", many)
    gw = make_gw()
    rows, conn = _trail(gw), gw.conn
    for by in ("guard1", "GUARD1", "token:booth", "guard2", "nobody"):
        for what in ("lane", "lane.", "LANE.OPEN", "payment", "lanes", "x"):
            want = [
                i
                for i, actor, action in reversed(rows)
                if _named(actor, by) and action.lower().startswith(what.lower())
            ]
            found = [r["id"] for r in recent_audit(conn, 1000, by, what)]
            assert found == want, (by, what)
            assert count_audit(conn, by, what) == len(want), (by, what)
            if len(want) > 2:
                older = recent_audit(conn, 1000, by, what, before=want[1])
                assert [r["id"] for r in older] == want[2:], (by, what)
                assert count_audit(conn, by, what, before=want[1], most=1) == 1
                assert count_audit(conn, by, what, start=want[1]) == 2
