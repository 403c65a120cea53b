"""Review 64F fault 1: docs/parking.md, a visitor's stay is validated by "the unit on the visitor's
pass". A pass whose host the visitor form took for R1's 3栋 2单元 written loosely (三栋 / 二单元, the room
after the unit), or one naming a unit where nobody lives, was validated by any household: R2 at 5栋
1单元 made R1's visitor's parking free."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, create_pass
from tests.parking.conftest import T0, show
from tests.parking.test_api import serving

H = timedelta(hours=1)


def _stay(gw: Gateway, building: str, unit: str) -> int:
    visit = NewPass(
        "visitor", "钱七", T0 - H, T0 + 8 * H, host_building=building, host_unit=unit, plate="苏E5B123"
    )
    create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1")
    assert show(gw, "car-in", "苏E5B123", T0).reason == "visitor"
    (stay,) = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()
    return int(stay)


@pytest.mark.parametrize(
    "building,unit", [("三栋", "二单元"), ("3栋", "2单元301"), ("3栋", "2-301"), ("3-2", "")]
)
def test_only_the_unit_the_pass_was_taken_for_validates(gw: Gateway, building: str, unit: str) -> None:
    stay = _stay(gw, building, unit)
    with serving(gw) as (_, client, auth):
        url = f"/api/parking/stays/{stay}/validate"
        other = client.post(url, json={"building": "5栋", "unit": "1单元"}, headers=auth)
        host = client.post(url, json={"building": "3栋", "unit": "2单元"}, headers=auth)
    assert other.status_code == 409 and other.json()["error"]["code"] == "not_host_unit", other.text
    assert host.status_code == 200, host.text


def test_a_pass_for_a_unit_nobody_lives_in_is_validated_by_no_unit(gw: Gateway) -> None:
    """A pass the centre sent down for 30栋 2单元 (the visitor form refuses it; the centre's is not
    checked), or one whose host has since moved out: no unit can validate it, none any longer
    lives where it names; the guard opens by hand if the host confirms the visit."""
    stay = _stay(gw, "30栋", "2单元")
    with serving(gw) as (_, client, auth):
        r = client.post(
            f"/api/parking/stays/{stay}/validate", json={"building": "5栋", "unit": "1单元"}, headers=auth
        )
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "not_host_unit" and error["state"] == "nobody_lives", error
    assert "opens the barrier by hand" in error["fix"]


@pytest.mark.parametrize("building,unit", [("3栋", "301"), ("3栋", "")], ids=["room", "building-alone"])
def test_a_room_or_a_building_alone_is_validated_within_that_building(
    gw: Gateway, building: str, unit: str
) -> None:
    """3栋 / 301 (the room typed as the unit, the register recording no rooms) and 3栋 alone name a
    unit of 3栋: one of its units validates, not 5栋's."""
    stay = _stay(gw, building, unit)
    with serving(gw) as (_, client, auth):
        url = f"/api/parking/stays/{stay}/validate"
        other = client.post(url, json={"building": "5栋", "unit": "1单元"}, headers=auth)
        host = client.post(url, json={"building": "3栋", "unit": "2单元"}, headers=auth)
    assert other.status_code == 409 and other.json()["error"]["code"] == "not_host_unit", other.text
    assert host.status_code == 200, host.text
