"""A card handed back and issued to another resident, who then leaves on it through the exit door
after being deleted from the register: let out only as the holder the card had when it was struck
off (docs/parking.md, *Nobody is kept in*), never as one who held it before."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import people_inside
from gateway.store.registry import add_card, delete_credential, delete_resident
from tests.parking.conftest import DOOR_OUT, T0

M = timedelta(minutes=1)
SPARE = "0000000007"


def _at(gw: Gateway, lane: str, card: str, minutes: int) -> AccessEvent:
    return gw.handle(Presented(lane, "card", card, 1.0, T0 + minutes * M, f"{lane}-reader"))


def _handed_back_by_zhang(gw: Gateway) -> None:
    """张三 (R1) walks in at 09:00 on his household's spare card and hands it back to the office at
    10:00."""
    cid = add_card(gw.conn, T0 - M, "admin", SPARE, 1, None, None, None, "")
    assert _at(gw, "door", SPARE, 0).reason == "resident"
    delete_credential(gw.conn, T0 + 60 * M, "admin", cid)


def test_a_reissued_card_is_not_let_out_as_its_former_holder(make_gw: Callable[..., Gateway]) -> None:
    """The office issues the same card to the tenant 李四 (R2), at home, at 10:30. At 12:00 李四's
    tenancy ends and he is deleted; at 12:30 he walks out on the card. The exit door recorded 张三
    leaving (his name on the guard's panel, his id upstream) and took 张三, at home, out of the
    people inside: the card's entry on foot was 张三's, made before it changed hands."""
    gw = make_gw(extra=DOOR_OUT)
    _handed_back_by_zhang(gw)
    add_card(gw.conn, T0 + 90 * M, "admin", SPARE, 2, None, None, None, "")
    delete_resident(gw.conn, T0 + 180 * M, "admin", 2)
    leaving = _at(gw, "door-out", SPARE, 210)
    who = (leaving.holder_kind, leaving.holder_id, people_inside(gw.conn))
    assert who[1:] != (1, 0), (
        f"李四 leaving on the card reissued to him was recorded as resident {leaving.holder_id} "
        f"(张三, {leaving.reason}, flags {leaving.flags}), and people inside went to {who[2]} "
        f"with 张三 at home"
    )


def test_nor_once_its_former_holder_has_moved_out_too(make_gw: Callable[..., Gateway]) -> None:
    """张三's household moves out at 10:15 (deleted: the register forgets him too). The card, issued
    to 李四 at 10:30, never let 李四 in through a door; deleted at 12:00, 李四 taps it at the exit
    door at 12:30: it is not 张三 leaving (the door recorded him, by his entry on it made before it
    changed hands), but a card no door let its last holder in on: `unknown`, as before."""
    gw = make_gw(extra=DOOR_OUT)
    _handed_back_by_zhang(gw)
    delete_resident(gw.conn, T0 + 75 * M, "admin", 1)
    add_card(gw.conn, T0 + 90 * M, "admin", SPARE, 2, None, None, None, "")
    delete_resident(gw.conn, T0 + 180 * M, "admin", 2)
    leaving = _at(gw, "door-out", SPARE, 210)
    assert (leaving.holder_kind, leaving.holder_id) != ("resident", 1), (
        f"李四 leaving on the card reissued to him was recorded as 张三 ({leaving.reason}, "
        f"flags {leaving.flags}), who held it before"
    )
    assert (leaving.admitted, leaving.reason) == (False, "unknown")


def test_the_card_lets_out_the_holder_it_let_in_last(make_gw: Callable[..., Gateway]) -> None:
    """李四 walks in on the reissued card at 11:00 and is deleted at 12:00 while at home: at 12:30 he
    walks out as himself, with his entry on record."""
    gw = make_gw(extra=DOOR_OUT)
    _handed_back_by_zhang(gw)
    add_card(gw.conn, T0 + 90 * M, "admin", SPARE, 2, None, None, None, "")
    assert _at(gw, "door", SPARE, 120).holder_id == 2
    delete_resident(gw.conn, T0 + 180 * M, "admin", 2)
    leaving = _at(gw, "door-out", SPARE, 210)
    seen = (leaving.admitted, leaving.reason, leaving.flags, leaving.holder_kind, leaving.holder_id)
    assert seen == (True, "resident", (), "resident", 2)
    assert people_inside(gw.conn) == 1  # 张三, at home
