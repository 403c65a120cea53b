"""一位多车: the car parked on a shared slot is struck off the register (its vehicle deleted, or its
resident withdrawn) while the slot's other car waits in the shared spaces. The slot is handed on at
once, as when the slot is sent again without that car (docs/parking.md, *A slot handed on*)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store import registry
from tests.parking.conftest import T0, show
from tests.parking.directory_exit_helpers import delta

M = timedelta(minutes=1)
H = timedelta(hours=1)
# R5, a tenant of another household, shares R1's slot B001 with R1's second car.
R5 = {"kind": "resident", "ref": "R5", "building": "8栋", "unit": "1单元", "name": "孙八"}
G5 = {"kind": "vehicle", "plate": "皖G77777", "resident": "R5"}
B001_SHARED_WITH_R5 = {
    "kind": "slot",
    "zone": "main",
    "number": "B001",
    "resident": "R1",
    "plates": ["皖G77777", "皖A22222"],
}


def _vehicle_by_directory(gw: Gateway, plate: str) -> None:
    delta(gw, 9, 8, T0 + H, delete=[{"kind": "vehicle", "plate": plate}])


def _vehicle_by_admin(gw: Gateway, plate: str) -> None:
    vid = gw.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (plate,)).fetchone()[0]
    registry.delete_vehicle(gw.conn, T0 + H, "admin", vid)


def _resident_by_directory(gw: Gateway, plate: str) -> None:
    ref = gw.conn.execute(
        "SELECT r.ref FROM residents r JOIN vehicles v ON v.resident_id = r.id WHERE v.plate = ?", (plate,)
    ).fetchone()[0]
    delta(gw, 9, 8, T0 + H, delete=[{"kind": "resident", "ref": ref}])


def _resident_by_admin(gw: Gateway, plate: str) -> None:
    rid = gw.conn.execute("SELECT resident_id FROM vehicles WHERE plate = ?", (plate,)).fetchone()[0]
    registry.delete_resident(gw.conn, T0 + H, "admin", rid)


def _parked_on(gw: Gateway) -> dict[str, str | None]:
    rows = gw.conn.execute(
        "SELECT s.plate, sl.number FROM stays s LEFT JOIN slots sl ON sl.id = s.slot_id "
        "WHERE s.exited_at IS NULL"
    )
    return dict(rows.fetchall())


@pytest.mark.parametrize("strike_off", [_vehicle_by_directory, _vehicle_by_admin])
def test_car_struck_off_on_a_shared_slot_hands_the_slot_to_its_other_car(
    gw: Gateway, strike_off: Callable[[Gateway, str], None]
) -> None:
    """R1's 皖A11111 is on B001 and 皖A22222, the slot's second car, in the shared spaces, when the
    centre or the booth deletes 皖A11111. 皖A22222 moves onto the slot then and pays at its exit
    for the 50 minutes before (5元), not by the hour for its whole stay; the car struck off still
    leaves by the shared spaces."""
    delta(gw, 8, 0, T0 - H)  # the store at the centre's version 8
    assert show(gw, "car-in", "皖A11111", T0).billing == "slot"
    second = show(gw, "car-in", "皖A22222", T0 + 10 * M)
    assert (second.reason, second.flags) == ("temporary", ("shared_slot",))
    strike_off(gw, "皖A11111")
    assert _parked_on(gw) == {"皖A11111": None, "皖A22222": "B001"}
    assert show(gw, "car-out", "皖A22222", T0 + 5 * H).fee_fen == 500


@pytest.mark.parametrize("withdraw", [_resident_by_directory, _resident_by_admin])
def test_resident_withdrawn_with_the_car_on_a_shared_slot_hands_the_slot_on(
    gw: Gateway, withdraw: Callable[[Gateway, str], None]
) -> None:
    """R5's 皖G77777 is on B001, which it shares with R1's 皖A22222, when R5 is withdrawn (R5's
    cars go with R5): 皖A22222 moves onto the slot then, as if 皖G77777 had been deleted alone."""
    delta(gw, 8, 0, T0 - H, upsert=[R5, G5, B001_SHARED_WITH_R5])
    assert show(gw, "car-in", "皖G77777", T0).billing == "slot"
    assert show(gw, "car-in", "皖A22222", T0 + 10 * M).flags == ("shared_slot",)
    withdraw(gw, "皖G77777")
    assert _parked_on(gw) == {"皖G77777": None, "皖A22222": "B001"}
    assert show(gw, "car-out", "皖A22222", T0 + 5 * H).fee_fen == 500
