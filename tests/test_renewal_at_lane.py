"""A monthly renewal reaches the lane at once (PATCH /api/vehicles/{id} -> store.update_vehicle): a
monthly car whose period ran out while parked is held at the exit to pay; the resident renews at
the office; the car, still at the barrier, is read again and leaves free (docs/parking.md: "a
renewal ... while it is parked counts, and it leaves free")."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.timefmt import to_db
from tests.parking.conftest import T0, gw, make_gw, show  # noqa: F401  (fixtures)

H = timedelta(hours=1)


@pytest.mark.parametrize("again", [False, True], ids=["read-afresh", "standing-car"])
def test_a_car_held_to_pay_leaves_free_once_renewed(gw: Gateway, again: bool) -> None:  # noqa: F811
    """Held at the exit to pay, the car's month renewed at the office: read again at the barrier
    (afresh, or as the car still standing there), it leaves free."""
    gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = '皖C44444'", (to_db(T0 + 2 * H),))
    assert show(gw, "car-in", "皖C44444", T0).reason == "monthly"
    held = show(gw, "car-out", "皖C44444", T0 + 4 * H)
    assert (held.reason, held.fee_fen) == ("payment_due", 700)
    vid = gw.conn.execute("SELECT id FROM vehicles WHERE plate = '皖C44444'").fetchone()[0]
    registry.update_vehicle(gw.conn, T0 + 4 * H, "admin", vid, {"monthly_until": T0 + 31 * 24 * H})
    out = gw.handle(
        Presented(
            "car-out", "plate", "皖C44444", 0.97, T0 + 4 * H + timedelta(seconds=20), "cam", again=again
        )
    )
    assert out.admitted and out.fee_fen == 0, (out.reason, out.fee_fen, out.flags)
