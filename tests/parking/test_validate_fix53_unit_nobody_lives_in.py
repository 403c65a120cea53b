"""A visitor's pass whose host unit names a unit where nobody lives (the room typed as the unit at
the booth, 3栋 / 301) is validated as one naming no unit, by any unit where a resident lives
(review 53d): 3栋 2单元 was refused "the visitor was registered for 3栋 301", and 3栋 301 "no resident
lives in 3栋 301", so the visitor's car always paid."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, add_visitor, show
from tests.parking.test_api import serving


def test_a_pass_for_a_unit_nobody_lives_in_is_validated_by_the_unit_visited(gw: Gateway) -> None:
    add_visitor(gw, "苏E66666", building="3栋", unit="301")
    assert show(gw, "car-in", "苏E66666", T0).reason == "visitor"
    (stay,) = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()
    with serving(gw) as (_, client, auth):
        url = f"/api/parking/stays/{stay}/validate"
        as_typed = client.post(url, json={"building": "3栋", "unit": "301"}, headers=auth)
        host = client.post(url, json={"building": "3栋", "unit": "2单元"}, headers=auth)
    # Nobody lives in 3栋 301: it validates nothing, as for any stay.
    assert as_typed.status_code == 409, as_typed.text
    assert "no resident lives in 3栋 301" in as_typed.json()["error"]["message"]
    assert host.status_code == 200, host.text
    assert (host.json()["building"], host.json()["unit"]) == ("3栋", "2单元")
    # On record under the unit that validated, not the pass's slip.
    with closing(sqlite3.connect(gw.db_path)) as conn:  # the gateway's own is closed on its stop
        validated = conn.execute("SELECT building, unit FROM validations WHERE stay_id = ?", (stay,))
        assert validated.fetchall() == [("3栋", "2单元")]
        audited = conn.execute("SELECT detail FROM audit WHERE action = 'stay.validate'").fetchall()
        assert audited == [("3栋 2单元",)]


def test_a_pass_for_a_unit_where_a_resident_lives_still_takes_only_that_unit(gw: Gateway) -> None:
    add_visitor(gw, "苏E77777", building="3栋", unit="2单元")
    assert show(gw, "car-in", "苏E77777", T0).reason == "visitor"
    (stay,) = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()
    with serving(gw) as (_, client, auth):
        other = client.post(
            f"/api/parking/stays/{stay}/validate", json={"building": "5栋", "unit": "1单元"}, headers=auth
        )
    assert other.status_code == 409, other.text
    assert "registered for 3栋 2单元" in other.json()["error"]["message"]
