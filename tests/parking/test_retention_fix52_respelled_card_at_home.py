"""A resident at home on a Wiegand card an older version stored as typed (54:15694): the upgrade to
schema 51 respells the card (054:15694), not his entry on foot in the append-only access log. The
retention pass must still keep that entry while he is inside, and the exit door let him out once he
is deleted (docs/parking.md, *Nobody is kept in*; docs/hardware.md, *Card numbers*)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.registry import delete_resident
from gateway.store.schema import MIGRATIONS
from tests.parking.conftest import DOOR_OUT, T0
from tests.parking.test_doors_fix45b_on_foot_entry_retention import LATER, NEIGHBOUR, _at
from tests.parking.test_operations import ops

D = timedelta(days=1)
READ = "054:15694"  # what the doors' Wiegand 26 readers give


def test_a_resident_in_on_a_respelled_card_keeps_his_entry_through_retention(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra=DOOR_OUT)
    gw.conn.execute("INSERT INTO credentials (kind, value, resident_id) VALUES ('card', '54:15694', 1)")
    gw.conn.execute("INSERT INTO credentials (kind, value, resident_id) VALUES ('card', ?, 2)", (NEIGHBOUR,))
    assert _at(gw, "door", READ, T0).reason == "resident"  # on record as the card registered then
    gw.conn.executescript(MIGRATIONS[50])  # the upgrade
    _at(gw, "door", NEIGHBOUR, LATER - D)
    ops(gw).retention(LATER)  # access_records_days = 180: his entry is 200 days old
    kept = gw.conn.execute("SELECT count(*) FROM access_log WHERE value = '54:15694'").fetchone()[0]
    delete_resident(gw.conn, LATER, "admin", 1)
    leaving = _at(gw, "door-out", READ, LATER + timedelta(minutes=30))
    assert (kept, leaving.admitted, leaving.reason) == (1, True, "resident"), (
        f"张三, at home on a card the upgrade respelled, then deleted: his entry kept {kept}, "
        f"at the exit door {leaving.reason}"
    )
