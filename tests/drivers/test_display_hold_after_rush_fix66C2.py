"""A lane held open (常开) for a rush goes back to the hold's 请通行 once the last car has gone
(Review 66 C2): the last car's greeting and plate (临时车 请入场 / 沪X99999) stayed on the board
for the rest of the hold, read by every driver and walker after it."""

from __future__ import annotations

import time
from datetime import timedelta

from gateway.core import Presented
from gateway.runtime.texts import idle_lines
from tests.parking.conftest import T0, make_gw  # noqa: F401, F811  (fixture)

EXTRA = """
[[devices]]
id = "car-in-display"
lane = "car-in"
kind = "display"
driver = "simulated"

[[devices]]
id = "car-in-relay"
lane = "car-in"
kind = "relay"
driver = "simulated"
"""


def _wait_for(check, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_a_held_lane_shows_its_hold_words_again_after_the_rush(make_gw, monkeypatch) -> None:  # noqa: F811
    import gateway.runtime.lane_boards as lane_boards

    monkeypatch.setattr(lane_boards, "IDLE_AFTER_S", 0.3)  # the 10 s after a greeting, shortened
    gw = make_gw(extra=EXTRA, capacity=20)
    gw.start()
    try:
        led = gw.devices.lanes["car-in"].displays[0]
        gw.by_hand.hold_lane("car-in", "guard1", "morning rush")
        assert led.shown[-1] == ["请通行"]
        for i, plate in enumerate(["皖B33333", "苏E12345", "沪X99999"]):
            at = T0 + timedelta(seconds=3 * i)
            assert gw.handle(Presented("car-in", "plate", plate, 0.97, at, "cam")).admitted
        assert "沪X99999" in led.shown[-1]  # each car still sees its own greeting as it passes
        assert _wait_for(lambda: led.shown[-1] == ["请通行"]), led.shown[-3:]
        gw.by_hand.release_lane("car-in", "guard1", "rush over")
        assert _wait_for(lambda: led.shown[-1] == idle_lines("zh", "vehicle")), led.shown[-2:]
    finally:
        gw.stop()
