"""A slot handed from one household to another by the centre's snapshot, its new car arriving
while the snapshot's steps run (docs/mqtt.md, *Never in the lanes' way*: "a lane sees each entry
either as it was or as the snapshot has it, never a half-written one")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from snapshot_steps import register, stage_snapshot

from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.sync.apply import apply_snapshot_steps, total_rows
from gateway.sync.staging import STAGING_NAME
from tests.parking.conftest import T0, make_gw, show  # noqa: F401  (fixture)

X = "皖B33333"  # R2's, parked free on B002 (tests/parking/conftest.py seed)
Y = "皖E77777"  # the new household R5's car
SPARE = [{"kind": "slot", "zone": "main", "number": f"X{i:03d}"} for i in range(3)]
HANDED = [
    {"kind": "resident", "ref": "R5", "building": "8栋", "unit": "1单元", "name": "孙八"},
    {"kind": "vehicle", "plate": Y, "resident": "R5"},
    {"kind": "slot", "zone": "main", "number": "B001", "resident": "R1", "plates": ["皖A11111", "皖A22222"]},
    {"kind": "slot", "zone": "main", "number": "B002", "resident": "R5", "plates": [Y]},
    *SPARE,
    {"kind": "slot", "zone": "main", "number": "B003", "resident": "R2", "plates": [X]},
]


def _parked_on(gw: Gateway) -> dict[str, str | None]:
    rows = gw.conn.execute(
        "SELECT s.plate, sl.number FROM stays s LEFT JOIN slots sl ON sl.id = s.slot_id "
        "WHERE s.exited_at IS NULL"
    )
    return dict(rows.fetchall())


def test_a_slots_new_car_is_not_refused_as_its_second_car_while_the_snapshot_is_applied(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Policy shared_slot_second_car = "refuse". The snapshot gives B002 to R5's car Y and moves R2's
    car X, parked on B002, to B003, one row a step. Y arrives after B002's step: as it was, a car
    with no slot (let in as a temporary one); as the snapshot has it, B002's own car (free). It was
    refused as B002's second car: X, no longer B002's, was left on it until the second pass over
    the slots. X moves off B002 in B002's own step (to the shared spaces, leaving free), and onto
    B003 in B003's."""
    gw = make_gw(shared="refuse")
    assert show(gw, "car-in", X, T0).billing == "slot"
    meta = stage_snapshot(gw, 1, register(HANDED))
    assert meta["status"] == "staged", meta
    counts, staging = meta["counts"], gw.data_dir / STAGING_NAME
    b002_done = counts["residents"] + counts["vehicles"] + counts["cards"] + 2
    b003_done = b002_done + len(SPARE) + 1
    done, seen, x_on = 0, list[AccessEvent](), dict[str, str | None]()
    while done < total_rows(counts):
        done, _, _ = apply_snapshot_steps(
            gw.conn, staging, 1, counts, done, 1, T0, lambda: False, lambda r, _: r
        )
        if done == b002_done:
            x_on["after B002"] = _parked_on(gw)[X]
            seen.append(show(gw, "car-in", Y, T0 + timedelta(minutes=1)))
        if done == b003_done:
            x_on["after B003"] = _parked_on(gw)[X]
    assert seen, "no step boundary after B002's step"
    entry = seen[0]
    assert (entry.admitted, entry.reason, entry.billing) == (True, "resident", "slot"), (
        f"B002's new car arriving mid-snapshot was {entry.reason}/{entry.billing} (flags {entry.flags})"
    )
    assert x_on == {"after B002": None, "after B003": "B003"}
    assert _parked_on(gw) == {X: "B003", Y: "B002"}
