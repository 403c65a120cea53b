"""A resident at home longer than access records are kept, then deleted from the register: the
exit door still lets him out (docs/parking.md, *Nobody is kept in*, *Retention*)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store import retention as prune
from gateway.store.registry import delete_resident
from tests.parking.conftest import DOOR_OUT, T0
from tests.parking.test_operations import ops

D = timedelta(days=1)
CARD = "0000000001"
NEIGHBOUR = "0000000002"
LATER = T0 + 200 * D


def _at(gw: Gateway, lane: str, card: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, "card", card, 1.0, at, f"{lane}-reader"))


def _half_a_year_at_home(gw: Gateway) -> None:
    """张三 (R1) walks in through the door on his card on 3 March and stays at home (elderly, looked
    after by family) for 200 days; access records are kept 180 days. The estate goes on: 李四 (R2)
    comes home the day before the daily retention pass."""
    gw.conn.execute("INSERT INTO credentials (kind, value, resident_id) VALUES ('card', ?, 1)", (CARD,))
    gw.conn.execute("INSERT INTO credentials (kind, value, resident_id) VALUES ('card', ?, 2)", (NEIGHBOUR,))
    assert _at(gw, "door", CARD, T0).reason == "resident"
    _at(gw, "door", NEIGHBOUR, LATER - D)
    ops(gw).retention(LATER)  # access_records_days = 180


def test_a_resident_deleted_after_half_a_year_at_home_is_let_out_at_the_exit_door(
    make_gw: Callable[..., Gateway],
) -> None:
    """In September his household is deleted (he moves to a care home) and he taps his card at the
    exit door: it stayed shut, 未登记, as for a stranger: retention had deleted his only entry on
    foot while he was recorded inside."""
    gw = make_gw(extra=DOOR_OUT)
    _half_a_year_at_home(gw)
    delete_resident(gw.conn, LATER, "admin", 1)
    leaving = _at(gw, "door-out", CARD, LATER + timedelta(minutes=30))
    assert (leaving.admitted, leaving.reason) == (True, "resident"), (
        f"张三, deleted after 200 days at home, is kept in at the exit door: {leaving.reason} "
        f"(his entry on foot was deleted by retention while he was recorded inside)"
    )
    assert (leaving.flags, leaving.holder_id) == ((), 1)


def test_a_retention_pass_between_his_deletion_and_his_exit_keeps_him_let_out(
    make_gw: Callable[..., Gateway],
) -> None:
    """Deleted at 10:00, he leaves at 11:30, after the 11:00 pass: deleting him forgot that he was
    inside, so that pass deletes his entry on foot; the door lets him out on what was remembered as
    his card was struck off with him."""
    gw = make_gw(extra=DOOR_OUT)
    _half_a_year_at_home(gw)
    delete_resident(gw.conn, LATER, "admin", 1)
    ops(gw).retention(LATER + timedelta(hours=1))
    assert gw.conn.execute("SELECT count(*) FROM access_log WHERE value = ?", (CARD,)).fetchone() == (0,)
    leaving = _at(gw, "door-out", CARD, LATER + timedelta(minutes=90))
    assert (leaving.admitted, leaving.reason, leaving.flags, leaving.holder_id) == (True, "resident", (), 1)


def test_retention_keeps_only_the_latest_entry_on_foot_of_someone_inside(
    make_gw: Callable[..., Gateway],
) -> None:
    """His earlier passages, and those of a neighbour who walked out, go as any record does."""
    gw = make_gw(extra=DOOR_OUT)
    gw.conn.execute("INSERT INTO credentials (kind, value, resident_id) VALUES ('card', ?, 1)", (CARD,))
    gw.conn.execute("INSERT INTO credentials (kind, value, resident_id) VALUES ('card', ?, 2)", (NEIGHBOUR,))
    _at(gw, "door", CARD, T0)
    _at(gw, "door-out", CARD, T0 + timedelta(hours=1))
    latest = _at(gw, "door", CARD, T0 + timedelta(hours=2))
    _at(gw, "door", NEIGHBOUR, T0)
    _at(gw, "door-out", NEIGHBOUR, T0 + timedelta(hours=1))
    _at(gw, "door", NEIGHBOUR, LATER - D)  # the newest record, kept as a table's newest row is
    ops(gw).retention(LATER)
    kept = gw.conn.execute("SELECT event_id FROM access_log WHERE at < ? ORDER BY id", ("2025-06",))
    assert [r[0] for r in kept] == [latest.event_id]


def test_what_the_door_remembers_of_a_card_struck_off_goes_with_the_records_of_its_time(
    make_gw: Callable[..., Gateway],
) -> None:
    """Remembered as long as access records are kept (on the box's clock, as the register's trigger
    reads it): after that, his card is `unknown` at the exit door, as any card no longer known."""
    gw = make_gw(extra=DOOR_OUT)
    _half_a_year_at_home(gw)
    delete_resident(gw.conn, LATER, "admin", 1)
    assert gw.conn.execute("SELECT count(*) FROM struck_off_on_foot").fetchone() == (1,)
    prune.prune_access_records(gw.conn, datetime.now(UTC) + D, upstream=False)
    assert gw.conn.execute("SELECT count(*) FROM struck_off_on_foot").fetchone() == (0,)
    assert _at(gw, "door-out", CARD, LATER + timedelta(minutes=30)).reason == "unknown"


def test_the_entries_kept_for_people_inside_are_found_without_reading_the_log(gw: Gateway) -> None:
    """A batch still reads what it deletes (tests/test_retention_query_plans.py): the people inside
    through their index, their cards through the register's, each card's latest entry by them
    through the index of passages on foot by credential."""
    for sql in (prune._OLD, prune._DELIVERED):
        steps = gw.conn.execute(f"EXPLAIN QUERY PLAN {sql}", {"cutoff": "2025", "batch": prune.BATCH})
        plan = " ".join(str(step[-1]) for step in steps)
        assert "SCAN p USING INDEX presence_inside" in plan, plan
        assert "SEARCH e USING INDEX access_log_on_foot (kind=? AND value=?)" in plan, plan
        assert "SCAN e" not in plan and "SCAN a" not in plan, plan
