"""Review 65 Rbe: docs/mqtt.md says an `access` record's `vehicle.plate` is null for one let in on a
card or a pass's QR "that names no car". A visitor's pass registered at the booth with her car's
plate names a car: its QR scanned at the car entrance (the camera missed the plate) records the car
inside on that plate (its stay; the exit's camera finds it by it), but the record went up with
`"plate": null`, as for a pass with no car: the centre could not tell which car came in."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, Occupant, create_pass, get_pass
from tests.parking.conftest import T0

H = timedelta(hours=1)
PLATE = "苏E99999"


def _qr(gw: Gateway, plate: str) -> str:
    visit = NewPass(
        "visitor", "钱七", T0 - H, T0 + 24 * H, host_building="3栋", host_unit="2单元",
        plate=plate, occupants=(Occupant("钱七"),),
    )  # fmt: skip
    return str(get_pass(gw.conn, create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1"))["qr"])


def _sent(gw: Gateway, ev: AccessEvent) -> dict[str, Any]:
    (payload,) = gw.conn.execute(
        "SELECT payload FROM outbox WHERE topic = 'access' AND event_id = ?", (ev.event_id,)
    ).fetchone()
    return json.loads(payload)  # type: ignore[no-any-return]


def test_a_pass_qr_that_names_a_car_goes_up_with_its_plate(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    ev = gw.handle(Presented("car-in", "qr", _qr(gw, PLATE), 1.0, T0, "car-in-scanner"))
    assert ev.admitted, ev.reason
    assert gw.conn.execute("SELECT plate FROM stays WHERE exited_at IS NULL").fetchall() == [(PLATE,)]
    sent = _sent(gw, ev)["vehicle"]
    assert sent == {"id": None, "plate": PLATE, "class": "car"}, f"inside as {PLATE}, sent up as {sent}"


def test_a_pass_qr_that_names_no_car_still_goes_up_with_no_plate(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    ev = gw.handle(Presented("car-in", "qr", _qr(gw, ""), 1.0, T0, "car-in-scanner"))
    assert ev.admitted, ev.reason
    assert _sent(gw, ev)["vehicle"] == {"id": None, "plate": None, "class": "car"}


def test_a_pass_qr_at_the_door_still_goes_up_with_no_vehicle(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    ev = gw.handle(Presented("door", "qr", _qr(gw, PLATE), 1.0, T0, "door-scanner"))
    assert ev.admitted, ev.reason
    assert _sent(gw, ev)["vehicle"] is None
