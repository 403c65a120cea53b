"""A card reported lost and blocked, then struck off (a new one issued): the block is not forgotten
once its owner is struck off the register too (schema migration 47). And an exit door that lets a
card struck off out as its former holder tells whether that holder walked out since on any of their
cards (their new one), not on that card alone (docs/parking.md, *Nobody is kept in*)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.lookup import _LET_IN_ON_FOOT
from gateway.store.registry import add_card, delete_credential, delete_resident, set_blocked
from tests.old_release import OldRelease, old_release
from tests.parking.conftest import DOOR_OUT_WITH_LOCK, T0, make_gw, parking_config  # noqa: F401  (fixtures)

M = timedelta(minutes=1)
WEEK = 7 * 24 * 60
LOST = "0000000001"
NEW = "0000000002"
# The release this one upgrades (schema version 46), whose trigger remembered a blocked card too.
SCHEMA_46 = "8a20579"


def _at(gw: Gateway, lane: str, card: str, minutes: int) -> AccessEvent:
    return gw.handle(Presented(lane, "card", card, 1.0, T0 + minutes * M, f"{lane}-reader"))


def _card_id(gw: Gateway, card: str) -> int:
    row = gw.conn.execute("SELECT id FROM credentials WHERE kind = 'card' AND value = ?", (card,)).fetchone()
    return int(row[0])


def _lost_and_replaced(gw: Gateway, *, blocked: bool) -> None:
    """张三 walks in on his card at 09:00 and loses it; at 10:00 it is blocked (or not: the office
    only strikes it off), at 10:10 struck off and a new card issued."""
    add_card(gw.conn, T0 - M, "admin", LOST, 1, None, None, None, "")
    assert _at(gw, "door", LOST, 0).admitted
    if blocked:
        set_blocked(gw.conn, T0 + 60 * M, "guard1", ("card", LOST), True, "挂失")
        assert _at(gw, "door-out", LOST, 65).reason == "blocked"
    delete_credential(gw.conn, T0 + 70 * M, "admin", _card_id(gw, LOST))
    add_card(gw.conn, T0 + 70 * M, "admin", NEW, 1, None, None, None, "")


def test_a_blocked_lost_card_does_not_open_the_exit_door_once_its_owner_moved_out(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """He walks out on the new card; a week later he moves out and is deleted. Whoever picked up the
    lost card taps it at the exit door: it opened, recording that 张三 left. It stays shut, as it
    was the moment before he was deleted."""
    gw = make_gw(extra=DOOR_OUT_WITH_LOCK)
    _lost_and_replaced(gw, blocked=True)
    assert _at(gw, "door-out", LOST, 80).admitted is False  # struck off, owner registered: unknown
    assert _at(gw, "door-out", NEW, 120).admitted
    delete_resident(gw.conn, T0 + WEEK * M, "admin", 1)
    found = _at(gw, "door-out", LOST, WEEK + 30)
    assert not found.admitted, (
        f"the lost card, blocked then struck off, opened the exit door once its owner was deleted: "
        f"{found.reason} as {found.holder_kind} {found.holder_id}, flags {found.flags}"
    )


def test_a_blocked_card_deleted_with_its_resident_stays_shut(make_gw: Callable[..., Gateway]) -> None:  # noqa: F811
    """A card blocked while its resident is at home keeps the exit door shut (a block is the one
    thing that does); deleting the resident with it does not open the door for it."""
    gw = make_gw(extra=DOOR_OUT_WITH_LOCK)
    add_card(gw.conn, T0 - M, "admin", LOST, 1, None, None, None, "")
    assert _at(gw, "door", LOST, 0).admitted
    set_blocked(gw.conn, T0 + 60 * M, "guard1", ("card", LOST), True, "挂失")
    assert _at(gw, "door-out", LOST, 61).reason == "blocked"
    delete_resident(gw.conn, T0 + 120 * M, "admin", 1)
    assert not _at(gw, "door-out", LOST, 121).admitted


def test_a_struck_off_card_tapped_after_its_owner_walked_out_on_his_new_one_is_flagged(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The lost card only struck off (not blocked), its owner walks out on his new card and moves
    out. The lost card still opens the exit door (nobody is kept in), but its owner is out already:
    the exit is flagged no_entry_record, not recorded as his plain exit."""
    gw = make_gw(extra=DOOR_OUT_WITH_LOCK)
    _lost_and_replaced(gw, blocked=False)
    assert _at(gw, "door-out", NEW, 120).admitted
    delete_resident(gw.conn, T0 + WEEK * M, "admin", 1)
    found = _at(gw, "door-out", LOST, WEEK + 30)
    assert (found.admitted, found.holder_id, found.flags) == (True, 1, ("no_entry_record",)), (
        f"张三 walked out on his new card; the lost card's exit after he moved out: {found.reason} "
        f"flags {found.flags}"
    )


def test_a_struck_off_card_of_someone_back_in_on_his_new_card_is_a_plain_exit(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """In and out on his old card, the office swaps it for a new one, he comes back in on the new
    card and is deleted at home. His old card at the exit door lets him out as the resident who is
    inside (his last passage on foot was in), not flagged as one with no entry."""
    gw = make_gw(extra=DOOR_OUT_WITH_LOCK)
    add_card(gw.conn, T0 - M, "admin", LOST, 1, None, None, None, "")
    assert _at(gw, "door", LOST, 0).admitted
    assert _at(gw, "door-out", LOST, 30).admitted
    delete_credential(gw.conn, T0 + 40 * M, "admin", _card_id(gw, LOST))
    add_card(gw.conn, T0 + 40 * M, "admin", NEW, 1, None, None, None, "")
    assert _at(gw, "door", NEW, 60).admitted
    delete_resident(gw.conn, T0 + 120 * M, "admin", 1)
    leaving = _at(gw, "door-out", LOST, 130)
    assert (leaving.admitted, leaving.holder_id, leaving.flags) == (True, 1, ())


def test_the_door_reads_the_holders_passages_through_an_index(make_gw: Callable[..., Gateway]) -> None:  # noqa: F811
    """The log is months of passages: the holder's are read through their index, not the log."""
    gw = make_gw()
    steps = gw.conn.execute(f"EXPLAIN QUERY PLAN {_LET_IN_ON_FOOT}", {"kind": "card", "value": LOST})
    plan = " ".join(str(step[-1]) for step in steps)
    assert "access_log_on_foot_by_holder" in plan and "SCAN o" not in plan, plan


# Under 8a20579 (schema 46): 张三's lost card is blocked and struck off, a new one issued, he walks
# out on it and moves out; 李四's card is struck off (not blocked) and she is deleted while at home;
# 王五's card is blocked, unblocked (found again), struck off, and he is deleted while at home.
OLD_LOST = """
from datetime import timedelta
from pathlib import Path
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.registry import add_card, delete_credential, delete_resident, set_blocked
from tests.parking.conftest import T0, parking_config, seed
M = timedelta(minutes=1)
cfg = parking_config(Path(site) / "data", extra=door_out)
seed(cfg, Path(site))
gw = Gateway(cfg)
def at(lane, card, minutes):
    return gw.handle(Presented(lane, "card", card, 1.0, T0 + minutes * M, lane + "-reader"))
def card_id(card):
    return gw.conn.execute("SELECT id FROM credentials WHERE value = ?", (card,)).fetchone()[0]
add_card(gw.conn, T0 - M, "admin", lost, 1, None, None, None, "")
add_card(gw.conn, T0 - M, "admin", hers, 2, None, None, None, "")
add_card(gw.conn, T0 - M, "admin", found, 3, None, None, None, "")
came = [at("door", lost, 0).admitted, at("door", hers, 1).admitted, at("door", found, 2).admitted]
set_blocked(gw.conn, T0 + 30 * M, "guard1", ("card", found), True, "挂失")
set_blocked(gw.conn, T0 + 40 * M, "admin", ("card", found), False, "找到了")
delete_credential(gw.conn, T0 + 50 * M, "admin", card_id(found))
set_blocked(gw.conn, T0 + 60 * M, "guard1", ("card", lost), True, "挂失")
delete_credential(gw.conn, T0 + 70 * M, "admin", card_id(lost))
add_card(gw.conn, T0 + 70 * M, "admin", new, 1, None, None, None, "")
came.append(at("door-out", new, 120).admitted)
delete_credential(gw.conn, T0 + 130 * M, "admin", card_id(hers))
delete_resident(gw.conn, T0 + 140 * M, "admin", 1)
delete_resident(gw.conn, T0 + 150 * M, "admin", 2)
delete_resident(gw.conn, T0 + 160 * M, "admin", 3)
remembered = gw.conn.execute("SELECT count(*) FROM struck_off_on_foot").fetchone()[0]
gw.conn.close()
result = {"came": came, "remembered": remembered}
"""


@pytest.fixture(scope="module")
def schema_46(tmp_path_factory: pytest.TempPathFactory) -> OldRelease:
    return old_release(tmp_path_factory, SCHEMA_46)


def test_the_upgrade_forgets_a_blocked_card_the_older_release_remembered(
    schema_46: OldRelease, tmp_path: Path
) -> None:
    """Remembered under schema 46, the blocked lost card opened the exit door after its owner moved
    out. The upgrade forgets it (its block is on the audit trail, not lifted before it was struck
    off); 李四's card, struck off unblocked, and 王五's, unblocked before it was struck off, still
    let them out, deleted while at home."""
    hers, found = "0000000003", "0000000004"
    values = {"lost": LOST, "new": NEW, "hers": hers, "found": found}
    got = schema_46.run(OLD_LOST, site=str(tmp_path), door_out=DOOR_OUT_WITH_LOCK, **values)
    assert got == {"came": [True, True, True, True], "remembered": 3}, got
    gw = Gateway(parking_config(tmp_path / "data", extra=DOOR_OUT_WITH_LOCK))
    try:
        lost = _at(gw, "door-out", LOST, 200)
        left = [_at(gw, "door-out", card, 201) for card in (hers, found)]
    finally:
        gw.conn.close()
    assert not lost.admitted, f"the blocked lost card opened the exit door after the upgrade: {lost.reason}"
    assert [(e.admitted, e.holder_id, e.flags) for e in left] == [(True, 2, ()), (True, 3, ())]
