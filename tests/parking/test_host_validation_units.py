"""The host validates the parking of its visitor, on an estate whose residents the centre sends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, Occupant, create_pass
from gateway.store.units import unit_key
from tests.parking.conftest import T0, show
from tests.parking.directory_exit_helpers import delta
from tests.parking.test_api import serving

H = timedelta(hours=1)
HOST = {"kind": "resident", "ref": "R9", "building": "8", "unit": "1", "room": "301", "name": "周九"}


def test_host_validates_a_visitor_registered_for_the_unit_as_the_pages_name_it(gw: Gateway) -> None:
    """The centre sends residents with bare numbers (docs/mqtt.md: building "3", unit "2"); every
    guard page names such a unit 8栋1单元 (guard-app.md). The guard registers the host's visitor
    for 8栋 / 1单元, as the pages show the unit. The car comes in and the host confirms the visit
    (业主确认, POST /api/parking/stays/{id}/validate): asked as 8栋 1单元 it is refused "no resident
    lives in 8栋 1单元"; asked as 8 1 it is refused "the visitor was registered for 8栋 1单元". No
    way remains: the visitor pays the full fee the host wanted to waive. The same unit, however
    written (bare number or with its word), should validate."""
    delta(gw, 1, 0, T0 - 2 * H, upsert=[HOST])
    visit = NewPass(
        "visitor",
        "钱七",
        T0 - H,
        T0 + 8 * H,
        host_building="8栋",
        host_unit="1单元",
        plate="苏E99999",
        occupants=(Occupant("钱七"),),
    )
    create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1")
    assert show(gw, "car-in", "苏E99999", T0).reason == "visitor"
    (stay,) = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()
    with serving(gw) as (_, client, auth):
        answers = [
            client.post(f"/api/parking/stays/{stay}/validate", json={"building": b, "unit": u}, headers=auth)
            for b, u in (("8栋", "1单元"), ("8", "1"))
        ]
    said = [(a.status_code, a.json().get("error", {}).get("message")) for a in answers]
    assert any(a.status_code == 200 for a in answers), f"the host unit cannot validate its visitor: {said}"


def test_host_written_bare_validates_a_visitor_of_a_unit_stored_with_its_words(gw: Gateway) -> None:
    """The reverse: residents stored with their words (8栋, 1单元, as a CSV import has them), the
    pass registered as 8 / 1; the host asks as 8 1, with full-width digits, or as the register has it."""
    delta(gw, 1, 0, T0 - 2 * H, upsert=[{**HOST, "building": "8栋", "unit": "1单元"}])
    visit = NewPass(
        "visitor",
        "钱七",
        T0 - H,
        T0 + 8 * H,
        host_building="8",
        host_unit="1",
        plate="苏E99999",
        occupants=(Occupant("钱七"),),
    )
    create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1")
    assert show(gw, "car-in", "苏E99999", T0).reason == "visitor"
    (stay,) = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()
    with serving(gw) as (_, client, auth):
        wrong = client.post(
            f"/api/parking/stays/{stay}/validate", json={"building": "8栋", "unit": "2单元"}, headers=auth
        )
        right = client.post(
            f"/api/parking/stays/{stay}/validate",
            json={"building": " ８号楼 ", "unit": "1 单元"},
            headers=auth,
        )
    assert wrong.status_code != 200, "another unit of the building validated the visitor"
    assert right.status_code == 200, right.text


@pytest.mark.parametrize(
    ("building", "unit"),
    [
        ("8", "1"),
        ("8栋", "1单元"),
        ("8号楼", "1单元"),
        ("8幢", "1"),
        (" ８栋 ", "１单元"),
        ("8 栋", "1 单元"),
    ],
)
def test_one_unit_however_written(building: str, unit: str) -> None:
    assert unit_key(building, unit) == ("8", "1")


def test_different_units_stay_apart() -> None:
    assert unit_key("18栋", "1单元") != unit_key("8栋", "1单元")
    assert unit_key("A座", "1单元") == ("A座", "1")  # only the words the pages add are dropped
