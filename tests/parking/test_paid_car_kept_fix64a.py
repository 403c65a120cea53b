"""Review 64a: a car that paid, or is still within its free minutes, is asked for more money by
something the driver did not do.

1. NTP sets a fast clock back behind the car's entry after it paid at the booth: within its grace
   (docs/parking.md, *Paying ahead at the booth*), the exit asked a day's fee less what it paid.
2. The exit is closed (检修) as the car reaches it within its grace or its free minutes: refused
   lane_closed at every camera repeat, then asked for more when the lane reopened, the time the
   gateway itself kept it at the barrier billed to it. An opening by hand of that car runs its fee
   to the refusal (*Let out by hand*); the reopened lane ran it to the new read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_toml, seed
from tests.parking.conftest import show as show_now

CAR = "苏E12345"
OTHER = "苏E67890"
M = timedelta(minutes=1)


@pytest.mark.parametrize("set_back_minutes", [30, 50])
def test_a_car_paid_at_the_booth_leaves_within_its_grace_after_ntp_sets_the_clock_back(
    tmp_path: Path, set_back_minutes: int
) -> None:
    cfg = parse_config(parking_toml(tmp_path / "data"), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        assert show_now(gw, "car-in", CAR, T0).reason == "temporary"  # 09:00 on a clock running fast
        paid = T0 + 40 * M  # 09:40: the first hour, 5元
        due = gw.parking.quote(gw.conn, CAR, paid)["due_fen"]
        receipt = gw.parking.prepay(gw.conn, CAR, due, "cash", "", "booth", paid)
        leave_by = datetime.fromisoformat(receipt["leave_by"])
        # At 09:41 NTP sets the fast clock back (less than an hour: no clock_stepped alarm). The
        # driver is at the exit 3 real minutes after paying, 12 minutes before his leave_by: with
        # 50 minutes set back, the clock reads 08:53, before his entry.
        at_exit = paid + 3 * M - set_back_minutes * M
        out = show_now(gw, "car-out", CAR, at_exit)
    finally:
        gw.conn.close()
    assert (out.admitted, out.fee_fen) == (True, 0), (
        f"paid {due} fen at {paid:%H:%M}, leave_by {leave_by:%H:%M}; clock set back {set_back_minutes} min, "
        f"at the exit 3 real minutes later ({at_exit:%H:%M} on the clock): {out.reason}, "
        f"asked {out.fee_fen} fen more"
    )
