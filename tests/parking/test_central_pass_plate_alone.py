"""A pass from the central server names its plate as its `plate`, among its `credentials`, or both
("give it as both, or either alone", docs/mqtt.md). Whichever way it came, the plate opens the
barrier, is counted and billed as the pass's vehicle_class, and comes back with the returning
visitor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from tests.parking.conftest import T0, show
from tests.parking.directory_exit_helpers import delta, stage_delta
from tests.parking.test_vehicle_class import MOTORCYCLE_LANES, stay_class

H = timedelta(hours=1)
PLATE = "浙A11111"
PHONE = "13900001111"

THE_WAYS_A_PLATE_IS_GIVEN = pytest.mark.parametrize(
    "plate_fields",
    [
        {"credentials": [{"kind": "plate", "value": PLATE}]},
        {"plate": PLATE},
        {"plate": PLATE, "credentials": [{"kind": "plate", "value": PLATE}]},
    ],
    ids=["in_credentials_only", "as_plate_only", "as_both"],
)


def _central_motorcycle_pass(gw: Gateway, plate_fields: dict[str, Any]) -> None:
    delta(
        gw,
        1,
        0,
        T0 - H,
        upsert=[
            {
                "kind": "pass",
                "ref": "P77",
                "pass_kind": "visitor",
                "name": "李四",
                "phone": PHONE,
                "host_building": "3栋",
                "host_unit": "2单元",
                "vehicle_class": "motorcycle",
                "valid_from": (T0 - H).isoformat(),
                "valid_to": (T0 + 24 * H).isoformat(),
                **plate_fields,
            }
        ],
    )


@THE_WAYS_A_PLATE_IS_GIVEN
def test_a_central_visitors_motorcycle_at_the_car_lane_is_a_motorcycle(
    make_gw: Callable[..., Gateway], plate_fields: dict[str, Any]
) -> None:
    """The visitor rides in through the car lane: let in as the visitor, counted as a motorcycle in
    a motorcycle space, not as a car (nor as a stranger's car when the plate came as `plate`)."""
    gw = make_gw(extra=MOTORCYCLE_LANES)
    _central_motorcycle_pass(gw, plate_fields)
    ev = show(gw, "car-in", PLATE, T0)
    assert (ev.reason, ev.vehicle_class) == ("visitor", "motorcycle")
    assert stay_class(gw, PLATE) == "motorcycle"


@THE_WAYS_A_PLATE_IS_GIVEN
def test_a_central_visitors_motorcycle_pays_the_motorcycle_price(
    make_gw: Callable[..., Gateway], plate_fields: dict[str, Any]
) -> None:
    """Five hours parked: a motorcycle pays 1元 a day begun, not the car tariff's 13元."""
    gw = make_gw(extra=MOTORCYCLE_LANES)
    _central_motorcycle_pass(gw, plate_fields)
    assert show(gw, "car-in", PLATE, T0).admitted
    held = show(gw, "car-out", PLATE, T0 + 5 * H)
    assert (held.reason, held.fee_fen) == ("payment_due", 100)


@THE_WAYS_A_PLATE_IS_GIVEN
def test_a_central_visitor_found_again_at_the_booth_comes_with_the_plate_and_its_class(
    make_gw: Callable[..., Gateway], plate_fields: dict[str, Any]
) -> None:
    """The guard's "Find returning visitor" fills the plate and its class in, whichever way the
    centre gave the plate: left empty, the visitor's motorcycle would be registered as a car."""
    gw = make_gw(extra=MOTORCYCLE_LANES)
    _central_motorcycle_pass(gw, plate_fields)
    _, token = create_token(gw.conn, T0, "test", "guard-bot", "guard", None)
    found = (
        TestClient(create_app(gw))
        .post("/api/visitors/find", json={"phone": PHONE}, headers={"Authorization": f"Bearer {token}"})
        .json()
    )
    assert (found["found"], found["plate"], found["vehicle_class"]) == (True, PLATE, "motorcycle")


@pytest.mark.parametrize(
    "plate_fields", [{"plate": "皖B33333"}, {"credentials": [{"kind": "plate", "value": "皖B33333"}]}]
)
def test_a_central_pass_naming_a_residents_car_is_refused_and_the_car_stays_theirs(
    make_gw: Callable[..., Gateway], plate_fields: dict[str, Any]
) -> None:
    """The centre's visitor form typed a resident's own car (R2's, on its slot B002): the pass
    would take the car's plate, the car come in as a visitor and be refused once the pass ended.
    The change is refused with what to do, and the resident's car still comes in as theirs."""
    gw = make_gw()
    entry = {
        "kind": "pass",
        "ref": "P77",
        "pass_kind": "visitor",
        "name": "李四",
        "host_building": "3栋",
        "host_unit": "2单元",
        "valid_from": (T0 - H).isoformat(),
        "valid_to": (T0 + 2 * H).isoformat(),
        **plate_fields,
    }
    meta = stage_delta(gw, 1, 0, upsert=[entry])
    assert meta["status"] != "staged"
    assert any("皖B33333 is resident R2's car" in p for p in meta["problems"]), meta
    came_in = show(gw, "car-in", "皖B33333", T0 + 24 * H)
    assert (came_in.admitted, came_in.reason) == (True, "resident")
