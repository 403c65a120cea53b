"""Review 65 E5: the centre keeps a booth pass as its `pass` record told it (`hours` and
`registered_fields` as comma-joined text) and sends it down as its own pass; the gateway takes it,
with the same two daily windows, rather than refusing the whole entry."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, create_pass
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.directory_exit_helpers import delta

H = timedelta(hours=1)
QR = "CQR-P1-7c41d09e"


def test_a_crew_pass_sent_down_as_the_centre_was_told_keeps_its_two_windows(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    gw = make_gw()
    new = NewPass(
        kind="contractor",
        name="钱七",
        valid_from=T0 - H,
        valid_to=T0 + 72 * H,
        hours=("08:00-12:00", "14:00-18:00"),
        company="装修队",
        phone="13800138000",
    )
    create_pass(gw.conn, gw.secrets, new, T0 - H, "admin")
    (payload,) = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'pass'").fetchone()
    told = json.loads(payload)["pass"]
    assert (told["hours"], told["registered_fields"]) == ("08:00-12:00,14:00-18:00", "occupants,phone"), told
    entry = {
        "kind": "pass",
        "ref": "P1",
        "pass_kind": "contractor",
        "name": "钱七",
        "company": "装修队",
        "valid_from": told["valid_from"],
        "valid_to": told["valid_to"],
        "hours": told["hours"],
        "registered_fields": told["registered_fields"],
        "credentials": [{"kind": "qr", "value": QR}],
    }
    delta(gw, 1, 0, T0 - H, upsert=[entry])
    row = gw.conn.execute("SELECT hours, registered_fields FROM passes WHERE ref = 'P1'").fetchone()
    assert tuple(row) == ("08:00-12:00,14:00-18:00", "occupants,phone")
    morning = gw.handle(Presented("door", "qr", QR, 1.0, T0, "door-reader"))
    lunch = gw.handle(Presented("door", "qr", QR, 1.0, T0 + 4 * H, "door-reader"))
    afternoon = gw.handle(Presented("door", "qr", QR, 1.0, T0 + 5 * H, "door-reader"))
    assert (morning.admitted, lunch.reason, afternoon.admitted) == (True, "outside_hours", True)
