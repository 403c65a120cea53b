"""A car parked since before a power cut pays at the exit lane and leaves while the Pi runs on its
stale boot clock; NTP then sets the clock (docs/parking.md, *Repairs*: only the *booth* payments of
such a car move)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from centre_helpers import Uplink

from tests.parking.conftest import T0, pay, show
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
CAR = "苏E12345"


def test_an_exit_lane_payment_stays_with_its_exit_and_charge(tmp_path: Path) -> None:
    """The car parked Saturday 18:00 pays 9元 at car-out at the stale clock's 20:40 and leaves; its
    exit and its charge stay dated Saturday, but NTP moves the lane payment alone to Monday 09:40
    and sends it again `redated`: Saturday shows a charge settled with no money, Monday money for
    no charge. The docs move only booth payments; the lane's should stay with its exit."""
    up = Uplink(tmp_path)
    gw = up.gw
    stale = T0 - 37 * H  # Saturday 20:00
    show(gw, "car-in", CAR, stale - 2 * H)
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    steady.s = 40 * 60
    held = show(gw, "car-out", CAR, stale + 40 * M)
    assert held.fee_fen > 0
    out = pay(gw, CAR, held.fee_fen, stale + 40 * M)
    assert out.admitted
    steady.s = 50 * 60
    o.tick(T0 + 50 * M)  # NTP sets the clock
    rows = gw.conn.execute(
        "SELECT p.at, s.exited_at, (SELECT max(c.at) FROM charges c WHERE c.stay_id = s.id) "
        "FROM payments p JOIN stays s ON s.id = p.stay_id"
    ).fetchall()
    redated = [r for r in up.deliver(T0 + H) if r["type"] == "payment" and r.get("change") == "redated"]
    up.close()
    (paid_at, exited_at, charged_at), = rows
    assert (paid_at[:10], redated) == (exited_at[:10], []), (
        f"the lane payment is stored at {paid_at}, its exit at {exited_at} and charge at {charged_at}; "
        f"sent again redated: {[(r['at'], r['lane']) for r in redated]}"
    )
