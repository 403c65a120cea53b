"""A fixed slot handed to a new owner while the old owner's car is parked on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import T0, pay, show
from tests.parking.directory_exit_helpers import delta

R5 = {"kind": "resident", "ref": "R5", "building": "8栋", "unit": "1单元", "name": "孙八"}
G5 = {"kind": "vehicle", "plate": "皖G77777", "resident": "R5"}
B002_TO_R5 = {"kind": "slot", "zone": "main", "number": "B002", "resident": "R5", "plates": ["皖G77777"]}


def _by_directory(gw: Gateway) -> None:
    """The centre hands slot B002 (R2's, 皖B33333 parked on it) to R5 and R5's car."""
    delta(gw, 1, 0, T0 + timedelta(hours=1), upsert=[R5, G5, B002_TO_R5])


def _by_admin(gw: Gateway) -> None:
    """The same at the booth: the admin API says "delete it first to reassign it"."""
    delta(gw, 1, 0, T0 + timedelta(minutes=30), upsert=[R5, G5])
    at = T0 + timedelta(hours=1)
    sid = gw.conn.execute("SELECT id FROM slots WHERE number = 'B002'").fetchone()[0]
    registry.delete_slot(gw.conn, at, "admin", sid)
    r5 = gw.conn.execute("SELECT id FROM residents WHERE ref = 'R5'").fetchone()[0]
    registry.add_slot(gw.conn, at, "admin", "main", "B002", r5, ["皖G77777"])


def _by_import(gw: Gateway) -> None:
    """The same with `gateway import` of the office's files."""
    d = gw.data_dir.parent
    import_csv(
        gw.site.config,
        [
            write_csv(d / "r5.csv", "ref,building,unit,name\nR5,8栋,1单元,孙八\n"),
            write_csv(d / "v5.csv", "plate,resident_ref\n皖G77777,R5\n"),
            write_csv(d / "s5.csv", "zone,number,resident_ref,plates\nmain,B002,R5,皖G77777\n"),
        ],
    )


@pytest.mark.parametrize("hand_on", [_by_directory, _by_import, _by_admin])
@pytest.mark.parametrize("shared", ["temporary", "refuse"])
def test_new_owner_of_a_slot_handed_on_parks_on_it_free(
    make_gw: Callable[..., Gateway], hand_on: Callable[[Gateway], None], shared: str
) -> None:
    """R2's car is on B002 when the slot is given to R5. R5's car, the only car the slot now lists,
    comes in free on its slot, however the slot was handed on: not charged as 'the second car of
    the same slot' nor refused as slot_occupied while R2's car is still parked."""
    gw = make_gw(shared=shared)
    assert show(gw, "car-in", "皖B33333", T0).reason == "resident"
    hand_on(gw)
    ev = show(gw, "car-in", "皖G77777", T0 + timedelta(hours=2))
    assert (ev.reason, ev.billing, ev.flags) == ("resident", "slot", ())


@pytest.mark.parametrize("hand_on", [_by_directory, _by_import, _by_admin])
def test_old_owners_car_still_leaves_free(
    make_gw: Callable[..., Gateway], hand_on: Callable[[Gateway], None]
) -> None:
    """R2's car, moved off the slot handed on, leaves as it came in: the resident's, free; and R5's
    car keeps the slot."""
    gw = make_gw()
    assert show(gw, "car-in", "皖B33333", T0).reason == "resident"
    hand_on(gw)
    show(gw, "car-in", "皖G77777", T0 + timedelta(hours=2))
    out = show(gw, "car-out", "皖B33333", T0 + timedelta(hours=3))
    assert (out.admitted, out.reason, out.fee_fen) == (True, "resident", 0)
    on_slot = gw.conn.execute(
        "SELECT s.plate FROM stays s JOIN slots sl ON sl.id = s.slot_id WHERE s.exited_at IS NULL"
    ).fetchall()
    assert on_slot == [("皖G77777",)]


def test_new_owners_car_parked_in_the_shared_spaces_moves_onto_the_slot_handed_on(
    make_gw: Callable[..., Gateway],
) -> None:
    """R5's car came in before R5 had a slot (a temporary car). When the centre hands it R2's slot
    with R2's car on it, it moves onto the slot then, and pays at its exit only for the time
    before (as at a handover), not for all of its stay."""
    gw = make_gw()
    delta(gw, 1, 0, T0 - timedelta(hours=1), upsert=[R5, G5])
    assert show(gw, "car-in", "皖B33333", T0).reason == "resident"
    assert show(gw, "car-in", "皖G77777", T0).reason == "temporary"
    delta(gw, 2, 1, T0 + timedelta(hours=1), upsert=[B002_TO_R5])
    out = show(gw, "car-out", "皖G77777", T0 + timedelta(hours=5))
    assert (out.reason, out.fee_fen) == ("payment_due", 500), "the first hour only (5元), not five hours"
    assert pay(gw, "皖G77777", 500, T0 + timedelta(hours=5)).admitted


SWAP = [
    {"kind": "slot", "zone": "main", "number": "B001", "resident": "R2", "plates": ["皖B33333"]},
    {"kind": "slot", "zone": "main", "number": "B002", "resident": "R1", "plates": ["皖A11111", "皖A22222"]},
]


def _parked_on(gw: Gateway) -> dict[str, str | None]:
    rows = gw.conn.execute(
        "SELECT s.plate, sl.number FROM stays s LEFT JOIN slots sl ON sl.id = s.slot_id "
        "WHERE s.exited_at IS NULL"
    )
    return dict(rows.fetchall())


@pytest.mark.parametrize("steps", [[SWAP], [SWAP[:1], SWAP[1:]]], ids=["one delta", "two deltas"])
def test_two_neighbours_swapping_slots_each_car_lands_on_its_new_slot(
    make_gw: Callable[..., Gateway], steps: list[list[dict[str, object]]]
) -> None:
    """R1's car is on B001 and R2's on B002 when the centre swaps the two slots (neighbours trade):
    each car moves onto its new slot. One was left in the shared spaces with its new slot empty, so
    the zone's one shared space read taken and a stranger was refused zone_full with room inside."""
    gw = make_gw(capacity=3)  # 2 fixed slots, 1 shared space
    assert show(gw, "car-in", "皖A11111", T0).reason == "resident"
    assert show(gw, "car-in", "皖B33333", T0).reason == "resident"
    for version, upsert in enumerate(steps, start=1):
        delta(gw, version, version - 1, T0 + timedelta(hours=version), upsert=upsert)
    assert _parked_on(gw) == {"皖A11111": "B002", "皖B33333": "B001"}
    assert show(gw, "car-in", "苏E12345", T0 + timedelta(hours=3)).reason == "temporary"
