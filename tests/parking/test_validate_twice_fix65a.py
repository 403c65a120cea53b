"""A host's validation of its visitor's parking sent twice: the property's app retried after its
answer was lost on flaky Wi-Fi, or the host validated on the app while the guard did at the booth
(Review 65A). docs/guard-app.md (API and tokens): "a change of state sent again (a pass checked out,
an alarm acknowledged, a stay closed) is answered 409 `already_done`". The second validation was
409 `refused` "stay 1 is already validated", with neither who validated it nor when."""

from __future__ import annotations

import threading
from typing import Any

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, add_visitor, show
from tests.parking.test_api import serving

VISITOR = "苏F00001"
HOST = {"building": "3栋", "unit": "2单元"}


def _parked(gw: Gateway) -> int:
    add_visitor(gw, VISITOR)
    assert show(gw, "car-in", VISITOR, T0).reason == "visitor"
    return int(gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()[0])


def test_a_validation_sent_twice_at_once_is_done_once_and_the_other_is_already_done(gw: Gateway) -> None:
    stay = _parked(gw)
    with serving(gw) as (_, client, auth):
        gate = threading.Barrier(2)
        out: list[Any] = [None, None]

        def send(i: int) -> None:
            gate.wait()
            out[i] = client.post(f"/api/parking/stays/{stay}/validate", headers=auth, json=HOST)

        sending = [threading.Thread(target=send, args=(i,)) for i in range(2)]
        for t in sending:
            t.start()
        for t in sending:
            t.join(20)
        rows = gw.on_worker(lambda c: c.execute("SELECT count(*) FROM validations").fetchone()[0]).result(10)
    got = sorted((r.status_code, r.json().get("error", {}).get("code", "")) for r in out)
    assert got == [(200, ""), (409, "already_done")], [r.json() for r in out]
    assert rows == 1
    again = next(r.json()["error"] for r in out if r.status_code == 409)
    assert again["state"] == "same_account", again  # this token's own, its answer maybe lost


def test_a_stay_the_guard_validated_is_already_done_by_him_at_his_time(gw: Gateway) -> None:
    stay = _parked(gw)
    gw.parking.validate(gw.conn, stay, "3栋", "2单元", "guard1", T0)
    with serving(gw) as (_, client, auth):
        again = client.post(f"/api/parking/stays/{stay}/validate", headers=auth, json=HOST)
    assert again.status_code == 409, again.text
    error = again.json()["error"]
    assert error["code"] == "already_done", error
    assert (error["by"], error["at"]) == ("guard1", T0.isoformat(timespec="seconds")), error
    assert "state" not in error, error  # another's doing: the page names him
    assert f"stay {stay} was validated already by guard1" in error["message"], error
