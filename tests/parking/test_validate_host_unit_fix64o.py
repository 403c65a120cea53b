"""Review 64Rh: a visitor's stay validated by its host unit (docs/parking.md, Visitors).

1. A pass written loosely (三栋 / 二单元, or 3栋 / 301 with the room in the unit field) was refused to
   another unit naming the host as typed; the guard typing that unit was then told no_such_unit
   "三栋 二单元 没有登记业主", although R1 lives there: the refusal names the register's unit, and
   the validating unit is read as the visitor form reads a host.
2. The host was found by reading every resident of the register on the decision worker: a car at
   the entrance waited behind a validation on a large estate. The work must not grow with the
   register's households (counted in SQLite steps, not timed).
3. A host whose lease ended (valid_to passed: moved out) still validated its visitor's parking.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.database import transaction
from gateway.store.materials import record_materials_out
from gateway.store.passes import NewPass, create_pass
from gateway.timefmt import to_db
from tests.parking.conftest import T0, show
from tests.parking.test_api import serving

H = timedelta(hours=1)


def _stay(gw: Gateway, building: str, unit: str, plate: str = "苏E5B123") -> tuple[int, int]:
    visit = NewPass(
        "visitor", "钱七", T0 - H, T0 + 8 * H, host_building=building, host_unit=unit, plate=plate
    )
    pass_id = create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1")
    assert show(gw, "car-in", plate, T0).reason == "visitor"
    (stay,) = gw.conn.execute(
        "SELECT id FROM stays WHERE plate = ? AND exited_at IS NULL", (plate,)
    ).fetchone()
    return int(stay), pass_id


@pytest.mark.parametrize("building,unit", [("三栋", "二单元"), ("3栋", "301")], ids=["cn-numerals", "room"])
def test_the_unit_the_refusal_names_validates(gw: Gateway, building: str, unit: str) -> None:
    gw.conn.execute("UPDATE residents SET room = '301' WHERE ref = 'R1'")  # an import with rooms
    stay, _ = _stay(gw, building, unit)
    with serving(gw) as (_, client, auth):
        url = f"/api/parking/stays/{stay}/validate"
        other = client.post(url, json={"building": "5栋", "unit": "1单元"}, headers=auth)
        assert other.status_code == 409, other.text
        named = other.json()["error"]["host_unit"]
        b, _, u = named.partition(" ")
        told = client.post(url, json={"building": b, "unit": u}, headers=auth)
    assert named == "3栋 2单元", other.text  # where R1 lives, as the register writes it
    assert told.status_code == 200, told.text


def test_the_host_unit_typed_as_the_pass_writes_it_validates(gw: Gateway) -> None:
    stay, _ = _stay(gw, "三栋", "二单元")
    with serving(gw) as (_, client, auth):
        r = client.post(
            f"/api/parking/stays/{stay}/validate", json={"building": "三栋", "unit": "二单元"}, headers=auth
        )
    assert r.status_code == 200, r.text
    assert (r.json()["building"], r.json()["unit"]) == ("3栋", "2单元")  # stored as the register has it


def test_a_host_whose_lease_ended_validates_nothing(gw: Gateway) -> None:
    """docs/parking.md: a pass whose host has since moved out is validated by no unit."""
    gw.conn.execute(
        "UPDATE residents SET valid_from = ?, valid_to = ? WHERE ref = 'R1'",
        (to_db(T0 - timedelta(days=400)), to_db(T0 - timedelta(days=30))),
    )
    stay, _ = _stay(gw, "3栋", "2单元")
    gw.conn.commit()
    with serving(gw) as (_, client, auth):
        r = client.post(
            f"/api/parking/stays/{stay}/validate", json={"building": "3栋", "unit": "2单元"}, headers=auth
        )
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "not_host_unit" and r.json()["error"]["state"] == "nobody_lives"


def _estate(gw: Gateway, flats_per_floor: int) -> None:
    """20 more buildings of 4 units and 10 floors, two people a flat, all living there now."""
    rows = [
        (f"X{b}-{u}-{floor}{flat:02d}-{person}", f"{b}栋", f"{u}单元", f"{floor}{flat:02d}", "住户")
        for b in range(10, 30)
        for u in range(1, 5)
        for floor in range(1, 11)
        for flat in range(1, flats_per_floor + 1)
        for person in range(2)
    ]
    with transaction(gw.conn):
        gw.conn.execute("DELETE FROM residents WHERE ref LIKE 'X%'")
        gw.conn.executemany(
            "INSERT INTO residents (ref, building, unit, room, name) VALUES (?, ?, ?, ?, ?)", rows
        )


def _steps(gw: Gateway, work: Callable[[], object]) -> int:
    counted = [0]

    def step() -> int:
        counted[0] += 1
        return 0

    gw.conn.set_progress_handler(step, 100)
    try:
        work()
    finally:
        gw.conn.set_progress_handler(None, 0)
    return counted[0]


@pytest.mark.parametrize(
    "building,unit",
    [("3栋", "2单元"), ("三栋", "二单元"), ("3-2", "")],
    ids=["exact", "cn-numerals", "whole"],
)
def test_a_validation_does_not_read_the_whole_register(gw: Gateway, building: str, unit: str) -> None:
    """Validating a visitor's stay and recording materials on its pass, with 1,600 households in
    the register and then 16,000: the SQLite work stays that of a few units, not ten times more."""
    steps = []
    at = T0 + H
    for n, flats in enumerate((2, 20)):
        _estate(gw, flats)
        stay, pass_id = _stay(gw, building, unit, plate=f"苏E5B12{n}")
        validated = _steps(gw, partial(gw.parking.validate, gw.conn, stay, "3栋", "2单元", "guard1", at))
        carried = _steps(
            gw, partial(record_materials_out, gw.conn, at, "guard1", items="旧橱柜", pass_id=pass_id)
        )
        steps.append((validated, carried))
    (validated, carried), (validated_10x, carried_10x) = steps
    assert validated_10x < 2 * validated + 20, steps
    assert carried_10x < 2 * carried + 20, steps
