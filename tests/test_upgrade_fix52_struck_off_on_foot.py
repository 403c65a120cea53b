"""A resident who walked in on foot before the upgrade, on a Wiegand card an older version stored
as typed (54:15694), moves out after it and is deleted: the exit door must let him out as it did
before the upgrade (docs/hardware.md: 'At an exit, a card the register no longer holds ... lets out
... its holder on foot'). Migration 51 respells the card (054:15694) but not the access records
naming it (54:15694), so the struck_off_on_foot trigger finds no entry and he is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.registry import add_card, delete_resident
from gateway.store.schema import MIGRATIONS
from tests.parking.conftest import DOOR_OUT_WITH_LOCK, T0, make_gw  # noqa: F401  (fixtures)

M = timedelta(minutes=1)
READ = "054:15694"  # what the door's Wiegand 26 reader gives


def test_resident_in_before_upgrade_deleted_after_it_leaves_by_the_door(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    gw = make_gw(extra=DOOR_OUT_WITH_LOCK)
    add_card(gw.conn, T0 - M, "admin", READ, 1, None, None, None, "")
    # As the older version stored it (typed by the card list without its zeros).
    gw.conn.execute("UPDATE credentials SET value = '54:15694' WHERE kind = 'card' AND value = ?", (READ,))
    gw.conn.commit()
    came_in = gw.handle(Presented("door", "card", READ, 1.0, T0, "door-reader"))
    assert came_in.admitted, came_in
    # The upgrade: this release's schema step.
    gw.conn.executescript(MIGRATIONS[50])  # schema migration 51, the respelling
    assert gw.conn.execute("SELECT value FROM credentials WHERE kind = 'card'").fetchall() == [(READ,)]
    delete_resident(gw.conn, T0 + 60 * M, "admin", 1)  # moved out
    out = gw.handle(Presented("door-out", "card", READ, 1.0, T0 + 61 * M, "door-out-reader"))
    assert out.admitted, (
        f"the resident who came in on foot before the upgrade and moved out after it is kept in at "
        f"the exit door: {out.reason}"
    )
