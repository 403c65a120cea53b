"""A car put back on its stay (道闸故障 at the exit), then the guard holds the lane open (常开) and
releases it (恢复) a few seconds later: what the lane display tells the next driver."""

from __future__ import annotations

import time
from datetime import timedelta

from gateway.runtime.texts import idle_lines
from tests.parking.conftest import T0
from tests.parking.test_exit_fix49_barrier_not_opened_after import (  # noqa: F401
    Served,
    _put_back,
    exit_lane,
)

S = timedelta(seconds=1)
M = timedelta(minutes=1)


def test_release_after_a_car_put_back_does_not_tell_the_driver_he_is_refused(
    exit_lane: Served,  # noqa: F811
) -> None:
    """The car was let out (a temporary car, 20 free minutes, owing nothing) at an exit whose relay
    did not take the pulse; the relay answers again, the guard holds the lane open and releases it
    15 s later. The display then reads 禁止通行 临时车 (Cannot exit: temporary car), a refusal for a car
    that was never refused and owes nothing. It should read the idle line (or what the car owes)."""
    with exit_lane() as lane:
        _put_back(lane, T0 + 20 * M)
        display = lane.gw.devices.lanes["car-out"].displays[0]
        lane.plug_back()
        lane.clock.at = T0 + 20 * M + 5 * S
        r = lane.client.post("/api/lanes/car-out/hold", headers=lane.auth, json={"reason": "放车"})
        assert r.status_code == 200, r.text
        lane.clock.at = T0 + 20 * M + 15 * S
        r = lane.client.post("/api/lanes/car-out/release", headers=lane.auth, json={"reason": "恢复"})
        assert r.status_code == 200, r.text
        time.sleep(0.3)  # the release's words are shown after the worker looked for the car
        shown = list(display.shown[-1])  # type: ignore[attr-defined]
    assert not shown[0].startswith("禁止通行"), (
        f"after the release the lane display reads {shown}: a refusal for a car let out that owes nothing"
    )
    assert shown == idle_lines(), f"a car put back owing nothing is asked nothing: {shown}"
