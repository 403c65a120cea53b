"""A car held to pay at one exit backs away and is held at the other gate's exit: the guard's
opening by hand at the first lets out the hold there and leaves the one at the other exit as it is,
still shown at that lane's barrier where the car stands (three reviews of this stop noticed the
opening named the newest hold of the car at any lane, and ended the other exit's hold with it)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.parking.charge_record_helpers import LET_OUT
from tests.parking.test_api import serving
from tests.parking.test_lookalike_pair_corrected import SOUTH, _show
from tests.rush_helpers import RELAYS, parking_gw

H = timedelta(hours=1)
S = timedelta(seconds=1)
CAR = "苏E54321"


def test_an_opening_by_hand_ends_the_hold_at_its_own_exit_only(tmp_path: Path) -> None:
    with serving(parking_gw(tmp_path, extra=RELAYS + SOUTH)) as (gw, client, auth):
        now = gw.now()
        assert _show(gw, "car-in", CAR, now - 2 * H).admitted
        assert _show(gw, "car-out", CAR, now - 90 * S).reason == "payment_due"
        assert _show(gw, "car-out-b", CAR, now - 30 * S).reason == "payment_due"
        r = client.post("/api/lanes/car-out/open", headers=auth, json=LET_OUT)
        assert r.status_code == 200, r.text
        north = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        south = client.get("/api/parking/lanes/car-out-b/quote", headers=auth).json()
        assert north["plate"] is None, north
        assert south["plate"] == CAR, south
