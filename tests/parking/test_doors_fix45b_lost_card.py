"""A card reported lost, blocked at the booth and then struck off (the office issues a new one),
found by someone else inside the estate and tapped at the exit door, while its owner is at home.

docs/parking.md, *Nobody is kept in*: a card or QR struck off lets out only the holder it had, and
only once the register has forgotten that holder too; one struck off while its holder stays
registered is `unknown` at an exit door, as a card deleted on its own is at a car exit (its car
leaves on its plate): the holder leaves on what the register names now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import people_inside
from gateway.store.registry import add_card, delete_credential, set_blocked
from tests.parking.conftest import DOOR_OUT, T0

M = timedelta(minutes=1)
LOST = "0000000001"
NEW = "0000000002"


def _at(gw: Gateway, lane: str, card: str, minutes: int) -> AccessEvent:
    return gw.handle(Presented(lane, "card", card, 1.0, T0 + minutes * M, f"{lane}-reader"))


def _lost_and_replaced(gw: Gateway) -> None:
    """张三 (R1) walks in on his card at 09:00 and drops it; at 10:00 he reports it lost (blocked: the
    exit door refuses it), at 10:10 the office deletes it and gives him a new card."""
    gw.conn.execute("INSERT INTO credentials (kind, value, resident_id) VALUES ('card', ?, 1)", (LOST,))
    came_in = _at(gw, "door", LOST, 0)
    assert (came_in.admitted, came_in.reason) == (True, "resident")
    set_blocked(gw.conn, T0 + 60 * M, "guard1", ("card", LOST), True, "挂失")
    assert _at(gw, "door-out", LOST, 65).reason == "blocked"  # the block works while it is on the register
    cid = gw.conn.execute("SELECT id FROM credentials WHERE kind = 'card' AND value = ?", (LOST,)).fetchone()
    delete_credential(gw.conn, T0 + 70 * M, "admin", cid[0])
    add_card(gw.conn, T0 + 70 * M, "admin", NEW, 1, None, None, None, "")
    assert people_inside(gw.conn) == 1


def test_a_lost_card_struck_off_does_not_walk_its_owner_out_while_he_is_at_home(
    make_gw: Callable[..., Gateway],
) -> None:
    """At 10:30 whoever found it taps it at the exit door: the door recorded 张三 leaving as a plain
    exit, he dropped out of the people inside though he is at home, and at 18:00 his own exit on
    his new card was flagged 无入场记录. The lost card's holder is still registered (his presence
    is known): it must not move him, and his real exit is a plain one."""
    gw = make_gw(extra=DOOR_OUT)
    _lost_and_replaced(gw)

    found = _at(gw, "door-out", LOST, 90)
    inside_after = people_inside(gw.conn)
    owner_leaves = _at(gw, "door-out", NEW, 9 * 60)
    seen = (found.admitted, found.reason, found.flags, inside_after, owner_leaves.flags)
    assert (inside_after, owner_leaves.flags) == (1, ()), (
        f"the lost card, struck off, tapped at the exit door by its finder was recorded as "
        f"{seen[:3]} (张三 leaving); people inside went to {inside_after} while 张三 was at home, and his "
        f"own exit on his new card was flagged {owner_leaves.flags}"
    )
    assert (owner_leaves.admitted, owner_leaves.reason, owner_leaves.holder_id) == (True, "resident", 1)
    assert people_inside(gw.conn) == 0


def test_the_lost_card_is_unknown_at_the_exit_door_and_names_nobody(make_gw: Callable[..., Gateway]) -> None:
    """Struck off while its holder stays registered, the card is nobody's: refused `unknown`, as a
    card deleted on its own is at a car exit, with no holder on the guard's panel or upstream (the
    block it had kept it shut too; striking it off does not open what the block kept shut)."""
    gw = make_gw(extra=DOOR_OUT)
    _lost_and_replaced(gw)
    found = _at(gw, "door-out", LOST, 90)
    seen = (found.admitted, found.reason, found.holder_kind, found.holder_id)
    assert seen == (False, "unknown", None, None)
