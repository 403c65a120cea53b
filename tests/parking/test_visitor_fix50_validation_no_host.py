"""A visitor registered at the booth without a host unit (allowed outside closed management: the
visitor form does not ask for building and unit) is validated as a stranger's car is, by any unit
where a resident lives (docs/parking.md, *Visitors*)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, create_pass
from tests.parking.conftest import T0, show
from tests.parking.test_api import serving

H = timedelta(hours=1)


def _stay_of_visitor(gw: Gateway, visit: NewPass) -> int:
    create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1")
    assert show(gw, "car-in", "苏E99999", T0).reason == "visitor"
    (stay,) = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()
    return int(stay)


def _validations(conn: sqlite3.Connection, stay: int) -> tuple[list[tuple[str, str]], int]:
    rows = conn.execute("SELECT building, unit FROM validations WHERE stay_id = ?", (stay,))
    audited = conn.execute("SELECT count(*) FROM audit WHERE action = 'stay.validate'").fetchone()[0]
    return [(b, u) for b, u in rows], int(audited)


@pytest.mark.parametrize("building", ["", "3栋"], ids=["no-unit", "building-alone"])
def test_host_can_validate_a_visitor_registered_without_a_host_unit(gw: Gateway, building: str) -> None:
    """A guard registers a driving visitor without building/unit; the host 3栋 2单元 then confirms
    the visit. Refused "the visitor was registered for  , not 3栋 2单元" with the fix "the host unit
    of the visitor's pass validates it", no unit could ever validate it (the visitor paid the full
    fee), while a stranger's car is validated by any unit where a resident lives. A building alone
    names no unit either."""
    visit = NewPass("visitor", "钱七", T0 - H, T0 + 8 * H, host_building=building, plate="苏E99999")
    stay = _stay_of_visitor(gw, visit)
    with serving(gw) as (_, client, auth):
        nobody = client.post(
            f"/api/parking/stays/{stay}/validate", json={"building": "9栋", "unit": "9单元"}, headers=auth
        )
        r = client.post(
            f"/api/parking/stays/{stay}/validate", json={"building": "3栋", "unit": "2单元"}, headers=auth
        )
        validated, audited = gw.on_worker(lambda conn: _validations(conn, stay)).result(timeout=10)
    assert nobody.status_code == 409 and "no resident lives in" in nobody.text, nobody.text
    message = r.json().get("error", {}).get("message", "")
    assert r.status_code == 200, f"no unit can validate a visitor registered without one: {message!r}"
    assert (validated, audited) == ([("3栋", "2单元")], 1), "validated for the unit given, and audited"


def test_a_visitor_with_a_host_unit_is_still_validated_by_that_unit_alone(gw: Gateway) -> None:
    """The pass that names its unit keeps the rule: another unit where a resident lives is refused."""
    visit = NewPass(
        "visitor", "钱七", T0 - H, T0 + 8 * H, host_building="3栋", host_unit="2单元", plate="苏E99999"
    )
    stay = _stay_of_visitor(gw, visit)
    with serving(gw) as (_, client, auth):
        other = client.post(
            f"/api/parking/stays/{stay}/validate", json={"building": "5栋", "unit": "1单元"}, headers=auth
        )
        host = client.post(
            f"/api/parking/stays/{stay}/validate", json={"building": "3栋", "unit": "2单元"}, headers=auth
        )
    assert other.status_code == 409 and "registered for 3栋 2单元" in other.text, other.text
    assert host.status_code == 200, host.text
