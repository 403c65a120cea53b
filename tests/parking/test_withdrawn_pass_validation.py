"""Host validation of a visitor's stay whose pass the central server withdrew while the car is parked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, show
from tests.parking.directory_exit_helpers import delta
from tests.parking.test_api import serving

VISIT = {
    "kind": "pass",
    "ref": "P3",
    "pass_kind": "visitor",
    "name": "孙八",
    "host_building": "3栋",
    "host_unit": "2单元",
    "plate": "皖E33333",
    "valid_from": "2025-03-03T08:00+08:00",
    "valid_to": "2025-03-10T18:00+08:00",
    "credentials": [{"kind": "plate", "value": "皖E33333"}],
}


def _validations(gw: Gateway, *units: tuple[str, str]) -> list[Any]:
    """The host validation of the visitor's stay asked by each unit in turn, at the booth's API."""
    (stay,) = gw.conn.execute(
        "SELECT id FROM stays WHERE exited_at IS NULL AND plate = '皖E33333'"
    ).fetchone()
    with serving(gw) as (_, client, auth):
        return [
            client.post(f"/api/parking/stays/{stay}/validate", json={"building": b, "unit": u}, headers=auth)
            for b, u in units
        ]


def test_only_the_host_unit_validates_while_the_pass_stands(gw: Gateway) -> None:
    """5栋1单元 (李四, not the host) cannot make the visitor's stay free; 3栋2单元, the host, can."""
    delta(gw, 1, 0, T0 - timedelta(minutes=5), upsert=[VISIT])
    assert show(gw, "car-in", "皖E33333", T0).reason == "visitor"
    other, host = _validations(gw, ("5栋", "1单元"), ("3栋", "2单元"))
    assert (other.status_code, host.status_code) == (409, 200), host.text


def test_withdrawn_visitors_stay_cannot_be_made_free_by_any_unit(gw: Gateway) -> None:
    """The centre withdraws the visitor's pass (the host cancelled the visit) while the car is
    parked: the car still pays its stay as the visitor it came in as. No unit of the estate can
    make it free any more (before, any unit could), and the answer says what to do instead."""
    delta(gw, 1, 0, T0 - timedelta(minutes=5), upsert=[VISIT])
    assert show(gw, "car-in", "皖E33333", T0).reason == "visitor"
    delta(gw, 2, 1, T0 + timedelta(minutes=30), delete=[{"kind": "pass", "ref": "P3"}])
    quote = gw.parking.quote(gw.conn, "皖E33333", T0 + timedelta(hours=2))
    assert (quote["billing"], quote["due_fen"]) == ("visitor", 700)
    other, host = _validations(gw, ("5栋", "1单元"), ("3栋", "2单元"))
    assert other.status_code == 409, f"a unit not the host validated the withdrawn visitor: {other.text}"
    assert "pass was withdrawn" in other.text and "by hand" in other.text, other.text
    assert host.status_code == 409, host.text


def test_strangers_car_is_still_validated_by_the_unit_it_visits(gw: Gateway) -> None:
    """A car that came in as an unregistered, temporary car is validated by the unit it visits."""
    assert show(gw, "car-in", "皖E33333", T0).reason == "temporary"
    (r,) = _validations(gw, ("5栋", "1单元"))
    assert r.status_code == 200, r.text
