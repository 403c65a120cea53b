"""A host's validation sent again after its visitor drove out on it (Review 65A2): the visitor at
the exit rings the host, the host validates, the car leaves, and the host's app, whose answer was
lost on flaky Wi-Fi, sends the validation again. docs/parking.md: a stay validated already is 409
`already_done`, with who validated it and when. The retry was 409 `refused` "no car is inside on
stay 1" (or `already_paid`, for a car that stayed past its free time and paid): the host was told
the validation failed, and rang the office."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, add_visitor, pay, show
from tests.parking.test_api import serving

VISITOR = "苏F00001"
HOST = {"building": "3栋", "unit": "2单元"}
VALIDATED = T0 + timedelta(minutes=30)


def _left_free(gw: Gateway) -> None:
    assert show(gw, "car-out", VISITOR, VALIDATED + timedelta(minutes=1)).admitted


def _stayed_on_paid_and_left(gw: Gateway) -> None:
    held = show(gw, "car-out", VISITOR, T0 + timedelta(hours=30))
    assert held.fee_fen, held.reason  # past the visitor's free time: it pays for the rest
    assert pay(gw, VISITOR, held.fee_fen, T0 + timedelta(hours=30, minutes=1)).admitted


@pytest.mark.parametrize("then", [_left_free, _stayed_on_paid_and_left])
def test_a_validation_sent_again_after_the_visitor_left_is_already_done_by_whom_and_when(
    gw: Gateway, then: Callable[[Gateway], None]
) -> None:
    add_visitor(gw, VISITOR)
    assert show(gw, "car-in", VISITOR, T0).reason == "visitor"
    stay = int(gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()[0])
    gw.parking.validate(gw.conn, stay, "3栋", "2单元", "guard1", VALIDATED)
    then(gw)
    with serving(gw) as (_, client, auth):
        again = client.post(f"/api/parking/stays/{stay}/validate", headers=auth, json=HOST)
        rows = gw.on_worker(lambda c: c.execute("SELECT count(*) FROM validations").fetchone()[0]).result(10)
    assert again.status_code == 409, again.text
    error = again.json()["error"]
    assert error["code"] == "already_done", error
    assert (error["by"], error["at"]) == ("guard1", VALIDATED.isoformat(timespec="seconds")), error
    assert rows == 1  # nothing written again
