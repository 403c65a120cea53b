"""纠正并重新判断 on the neighbour_lane row itself (review 62l). The live page listed that row under
the exit with a 纠正 button and offered 纠正并重新判断 (live.js: decide = !ev.admitted at a vehicle
lane); the plate unchanged, it sent no correction and posted the decision with corrected_event. No
car stood at the exit barrier, yet the car just let in beside was decided at the exit: let out, the
exit barrier opened, its stay closed a few seconds after it opened. Now refused car_left_lane, and
the page offers no 纠正并重新判断 on such a row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tests.parking.conftest import make_gw  # noqa: F401
from tests.parking.test_api import serving
from tests.parking.test_misread_exit_guard_fix61h import _show

S = timedelta(seconds=1)


def test_decide_again_on_the_neighbour_row_is_refused(make_gw: Callable[..., Any]) -> None:  # noqa: F811
    gw = make_gw()
    with serving(gw) as (_, client, auth):
        now = gw.now()
        assert _show(gw, "car-in", "苏F55555", now - 5 * S).admitted
        row = _show(gw, "car-out", "苏F55555", now - 4.5 * S)
        assert row.flags == ("neighbour_lane",)
        decided = client.post(
            "/api/lanes/car-out/plate",
            headers={**auth, "Idempotency-Key": "r62l"},
            json={"plate": "苏F55555", "corrected_event": row.event_id},
        )
        stays = gw.on_worker(lambda c: c.execute("SELECT plate, exited_at FROM stays").fetchall()).result(10)
        assert decided.status_code == 409, decided.text  # car_left_lane: no car at this barrier
        assert all(exited is None for _, exited in stays), stays
        assert "the car of the lane beside" in decided.json()["error"]["message"], decided.text
